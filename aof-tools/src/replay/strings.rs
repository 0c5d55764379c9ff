//! String commands: SET and its variants, counters, APPEND/SETRANGE, bits.

use super::args::{at_least, exactly, expire_at, float, int, is};
use super::strings_cond::{cond_value, Cond};
use super::{Ctx, Fail, Outcome};
use crate::dataset::Value;

/// Largest string a server builds with SETRANGE / SETBIT (`proto-max-bulk-len`).
const MAX_STRING: usize = 512 << 20;

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"SET" => set(cx, argv),
        b"SETNX" => exactly(argv, 3).map(|()| {
            if cx.slot(argv[1]).is_none() {
                cx.put(argv[1], Value::Str(argv[2].to_vec()), None);
            }
        }),
        b"SETEX" | b"PSETEX" => setex(cx, argv, if name == b"SETEX" { 1000 } else { 1 }),
        b"MSET" => mset(cx, argv, false),
        b"MSETNX" => mset(cx, argv, true),
        b"GETSET" => exactly(argv, 3).and_then(|()| {
            string_or_missing(cx, argv[1])?;
            cx.put(argv[1], Value::Str(argv[2].to_vec()), None);
            Ok(())
        }),
        b"GETDEL" => exactly(argv, 2).and_then(|()| {
            string_or_missing(cx, argv[1])?;
            cx.remove(argv[1]);
            Ok(())
        }),
        b"GETEX" => getex(cx, argv),
        b"DELEX" => super::strings_cond::delex(cx, argv),
        b"MSETEX" => super::strings_cond::msetex(cx, argv),
        b"DELIFEQ" => super::strings_cond::delifeq(cx, argv),
        b"APPEND" => exactly(argv, 3).and_then(|()| {
            let s = cx.value_or(argv[1], || Value::Str(Vec::new()), as_str)?;
            s.extend_from_slice(argv[2]);
            Ok(())
        }),
        b"SETRANGE" => setrange(cx, argv),
        b"INCR" => exactly(argv, 2).and_then(|()| incr(cx, argv[1], 1)),
        b"DECR" => exactly(argv, 2).and_then(|()| incr(cx, argv[1], -1)),
        b"INCRBY" => exactly(argv, 3).and_then(|()| incr(cx, argv[1], int(argv[2])?)),
        b"DECRBY" => {
            exactly(argv, 3).and_then(|()| incr(cx, argv[1], int(argv[2])?.checked_neg().ok_or_else(overflow)?))
        }
        b"INCRBYFLOAT" => exactly(argv, 3).and_then(|()| incrbyfloat(cx, argv)),
        b"SETBIT" => setbit(cx, argv),
        b"BITFIELD" => super::strings_bits::bitfield(cx, argv),
        b"BITOP" => super::strings_bits::bitop(cx, argv),
        b"PFADD" | b"PFMERGE" | b"PFCOUNT" | b"PFDEBUG" => super::strings_bits::hll(cx, name, argv),
        _ => return None,
    })
}

pub fn as_str(v: &mut Value) -> Option<&mut Vec<u8>> {
    match v {
        Value::Str(s) => Some(s),
        _ => None,
    }
}

fn overflow() -> Fail {
    Fail::Reply("ERR increment or decrement would overflow".into())
}

fn string_or_missing(cx: &mut Ctx, key: &[u8]) -> Outcome {
    match cx.slot(key) {
        Some(s) if !matches!(s.value, Value::Str(_)) => Err(Fail::wrong_type()),
        _ => Ok(()),
    }
}

/// How a command sets the expiry.
pub(super) enum Ttl {
    Remove,
    Keep,
    At(i64),
}

/// Parses `EX s | PX ms | EXAT s | PXAT ms | KEEPTTL | PERSIST` at `argv[i]`; returns the
/// choice and how many arguments it took, or `None` when `argv[i]` is not one of them.
pub(super) fn ttl_option(
    cx: &Ctx,
    argv: &[&[u8]],
    i: usize,
    allow_keep: bool,
    allow_persist: bool,
) -> Result<Option<(Ttl, usize)>, Fail> {
    let a = argv[i];
    let unit = if is(a, "EX") || is(a, "EXAT") {
        1000
    } else if is(a, "PX") || is(a, "PXAT") {
        1
    } else if is(a, "KEEPTTL") && allow_keep {
        return Ok(Some((Ttl::Keep, 1)));
    } else if is(a, "PERSIST") && allow_persist {
        return Ok(Some((Ttl::Remove, 1)));
    } else {
        return Ok(None);
    };
    let n = int(argv.get(i + 1).ok_or_else(Fail::syntax)?)?;
    if n <= 0 {
        return Err(Fail::Reply("ERR invalid expire time".into()));
    }
    let absolute = a.len() == 4;
    Ok(Some((Ttl::At(expire_at(n, unit, absolute, cx.now_ms)?), 2)))
}

fn set(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 3)?;
    let (mut nx, mut xx, mut get) = (false, false, false);
    let mut ttl = Ttl::Remove;
    let mut seen_ttl = false;
    let mut cond = None;
    let mut i = 3;
    while i < argv.len() {
        let a = argv[i];
        if is(a, "NX") {
            nx = true;
        } else if is(a, "XX") {
            xx = true;
        } else if is(a, "GET") {
            get = true;
        } else if let Some((t, n)) = ttl_option(cx, argv, i, true, false)? {
            if seen_ttl {
                return Err(Fail::syntax());
            }
            seen_ttl = true;
            ttl = t;
            i += n;
            continue;
        } else if let Some(c) = Cond::parse(a) {
            let Some(&operand) = argv.get(i + 1) else { return Err(Fail::syntax()) };
            if cond.is_some() {
                return Err(Fail::syntax());
            }
            cond = Some((c, operand));
            i += 2;
            continue;
        } else {
            return Err(Fail::syntax());
        }
        i += 1;
    }
    if (nx && xx) || (cond.is_some() && (nx || xx)) {
        return Err(Fail::syntax());
    }
    if let Some((c, operand)) = cond {
        if !c.holds(cond_value(cx, argv[1])?, operand) {
            return Ok(());
        }
    }
    // One lookup: the common overwrite reuses the key and the string buffer.
    match cx.slot(argv[1]) {
        Some(slot) => {
            let is_str = matches!(slot.value, Value::Str(_));
            if (get && !is_str) || nx {
                return if get && !is_str { Err(Fail::wrong_type()) } else { Ok(()) };
            }
            slot.expire_at_ms = match ttl {
                Ttl::Remove => None,
                Ttl::Keep => slot.expire_at_ms,
                Ttl::At(t) => Some(t),
            };
            match &mut slot.value {
                Value::Str(s) => {
                    s.clear();
                    s.extend_from_slice(argv[2]);
                }
                other => *other = Value::Str(argv[2].to_vec()),
            }
        }
        None if xx => {}
        None => {
            let expire = match ttl {
                Ttl::At(t) => Some(t),
                _ => None,
            };
            cx.put(argv[1], Value::Str(argv[2].to_vec()), expire);
        }
    }
    Ok(())
}

fn setex(cx: &mut Ctx, argv: &[&[u8]], unit: i64) -> Outcome {
    exactly(argv, 4)?;
    let n = int(argv[2])?;
    if n <= 0 {
        return Err(Fail::Reply("ERR invalid expire time".into()));
    }
    let at = expire_at(n, unit, false, cx.now_ms)?;
    cx.put(argv[1], Value::Str(argv[3].to_vec()), Some(at));
    Ok(())
}

fn mset(cx: &mut Ctx, argv: &[&[u8]], nx: bool) -> Outcome {
    if argv.len() < 3 || argv.len().is_multiple_of(2) {
        return at_least(argv, usize::MAX);
    }
    let pairs = argv[1..].chunks_exact(2);
    if nx && pairs.clone().any(|p| cx.slot(p[0]).is_some()) {
        return Ok(());
    }
    for p in pairs {
        cx.put(p[0], Value::Str(p[1].to_vec()), None);
    }
    Ok(())
}

fn getex(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 2)?;
    let mut ttl = None;
    let mut i = 2;
    while i < argv.len() {
        match ttl_option(cx, argv, i, false, true)? {
            Some((t, n)) if ttl.is_none() => {
                ttl = Some(t);
                i += n;
            }
            _ => return Err(Fail::syntax()),
        }
    }
    string_or_missing(cx, argv[1])?;
    if let (Some(slot), Some(t)) = (cx.slot(argv[1]), ttl) {
        slot.expire_at_ms = match t {
            Ttl::At(t) => Some(t),
            _ => None,
        };
    }
    Ok(())
}

fn setrange(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 4)?;
    let offset = int(argv[2])?;
    if offset < 0 {
        return Err(Fail::Reply("ERR offset is out of range".into()));
    }
    let offset = offset as usize;
    let value = argv[3];
    if offset + value.len() > MAX_STRING {
        return Err(Fail::Reply("ERR string exceeds maximum allowed size (proto-max-bulk-len)".into()));
    }
    if value.is_empty() {
        return string_or_missing(cx, argv[1]);
    }
    let s = cx.value_or(argv[1], || Value::Str(Vec::new()), as_str)?;
    if s.len() < offset + value.len() {
        s.resize(offset + value.len(), 0);
    }
    s[offset..offset + value.len()].copy_from_slice(value);
    Ok(())
}

fn incr(cx: &mut Ctx, key: &[u8], by: i64) -> Outcome {
    let mut buf = itoa::Buffer::new();
    match cx.slot(key) {
        None => {
            let text = buf.format(by).as_bytes().to_vec();
            cx.put(key, Value::Str(text), None);
        }
        Some(slot) => {
            let Value::Str(s) = &mut slot.value else { return Err(Fail::wrong_type()) };
            let next = int(s)?.checked_add(by).ok_or_else(overflow)?;
            s.clear();
            s.extend_from_slice(buf.format(next).as_bytes());
        }
    }
    Ok(())
}

fn incrbyfloat(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    let by = float(argv[2])?;
    let current = match cx.slot(argv[1]) {
        None => 0.0,
        Some(slot) => match &slot.value {
            Value::Str(s) => float(s)?,
            _ => return Err(Fail::wrong_type()),
        },
    };
    let next = current + by;
    if !next.is_finite() {
        return Err(Fail::Reply("ERR increment would produce NaN or Infinity".into()));
    }
    // Servers print with %.17Lf and trim zeros; AOFs carry the result as SET anyway.
    let mut text = format!("{next:.17}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    let value = Value::Str(text.into_bytes());
    match cx.slot(argv[1]) {
        Some(slot) => slot.value = value,
        None => cx.put(argv[1], value, None),
    }
    Ok(())
}

fn setbit(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 4)?;
    let offset = int(argv[2]).map_err(|_| Fail::Reply("ERR bit offset is not an integer or out of range".into()))?;
    if !(0..(MAX_STRING as i64) * 8).contains(&offset) {
        return Err(Fail::Reply("ERR bit offset is not an integer or out of range".into()));
    }
    let on = match argv[3] {
        b"1" => true,
        b"0" => false,
        _ => return Err(Fail::Reply("ERR bit is not an integer or out of range".into())),
    };
    let s = cx.value_or(argv[1], || Value::Str(Vec::new()), as_str)?;
    let byte = (offset >> 3) as usize;
    if s.len() <= byte {
        s.resize(byte + 1, 0);
    }
    let mask = 1u8 << (7 - (offset & 7));
    if on {
        s[byte] |= mask;
    } else {
        s[byte] &= !mask;
    }
    Ok(())
}
