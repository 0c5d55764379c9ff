//! Hash commands, field TTLs included (HEXPIRE family, HPERSIST, HGETEX, HSETEX, HGETDEL).

use super::args::{at_least, exactly, expire_at, float, int, is};
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Bytes, Field, Map, Value};

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"HSET" | b"HMSET" => hset(cx, argv),
        b"HSETNX" => exactly(argv, 4).and_then(|()| {
            let h = cx.value_or(argv[1], new_hash, as_hash)?;
            h.entry(argv[2].into()).or_insert_with(|| Field { value: argv[3].into(), expire_at_ms: None });
            Ok(())
        }),
        b"HDEL" => at_least(argv, 3).and_then(|()| delete(cx, argv[1], &argv[2..])),
        b"HINCRBY" => exactly(argv, 4).and_then(|()| hincr(cx, argv, false)),
        b"HINCRBYFLOAT" => exactly(argv, 4).and_then(|()| hincr(cx, argv, true)),
        b"HEXPIRE" => hexpire(cx, argv, 1000, false),
        b"HPEXPIRE" => hexpire(cx, argv, 1, false),
        b"HEXPIREAT" => hexpire(cx, argv, 1000, true),
        b"HPEXPIREAT" => hexpire(cx, argv, 1, true),
        b"HPERSIST" => at_least(argv, 4).and_then(|()| {
            let fields = fields_arg(argv, 2)?;
            if let Some(h) = cx.existing(argv[1], as_hash)? {
                for f in fields {
                    if let Some(v) = h.get_mut(*f) {
                        v.expire_at_ms = None;
                    }
                }
            }
            Ok(())
        }),
        b"HGETDEL" => at_least(argv, 5).and_then(|()| {
            let fields = fields_arg(argv, 2)?;
            delete(cx, argv[1], fields)
        }),
        b"HGETEX" => hgetex(cx, argv),
        b"HSETEX" => hsetex(cx, argv),
        _ => return None,
    })
}

fn new_hash() -> Value {
    Value::Hash(Box::default())
}

fn as_hash(v: &mut Value) -> Option<&mut Map<Bytes, Field>> {
    match v {
        Value::Hash(h) => Some(h),
        _ => None,
    }
}

fn hset(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    if argv.len() < 4 || !argv.len().is_multiple_of(2) {
        return at_least(argv, usize::MAX);
    }
    let h = cx.value_or(argv[1], new_hash, as_hash)?;
    for p in argv[2..].chunks_exact(2) {
        let field = Field { value: p[1].into(), expire_at_ms: None };
        match h.get_mut(p[0]) {
            Some(f) => *f = field,
            None => {
                h.insert(p[0].into(), field);
            }
        }
    }
    Ok(())
}

fn delete(cx: &mut Ctx, key: &[u8], fields: &[&[u8]]) -> Outcome {
    if let Some(h) = cx.existing(key, as_hash)? {
        for f in fields {
            h.remove(*f);
        }
    }
    cx.drop_if_empty(key);
    Ok(())
}

fn hincr(cx: &mut Ctx, argv: &[&[u8]], floating: bool) -> Outcome {
    let h = cx.value_or(argv[1], new_hash, as_hash)?;
    let (old, ttl) = match h.get(argv[2]) {
        Some(f) => (Some(f.value.clone()), f.expire_at_ms),
        None => (None, None),
    };
    let value: Bytes = if floating {
        let cur = old.as_deref().map(float).transpose()?.unwrap_or(0.0);
        let next = cur + float(argv[3])?;
        if !next.is_finite() {
            return Err(Fail::Reply("ERR increment would produce NaN or Infinity".into()));
        }
        let mut text = format!("{next:.17}");
        if text.contains('.') {
            text = text.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        text.into_bytes().into()
    } else {
        let cur = old
            .as_deref()
            .map(|v| int(v).map_err(|_| Fail::Reply("ERR hash value is not an integer".into())))
            .transpose()?
            .unwrap_or(0);
        let next = cur
            .checked_add(int(argv[3])?)
            .ok_or_else(|| Fail::Reply("ERR increment or decrement would overflow".into()))?;
        itoa::Buffer::new().format(next).as_bytes().into()
    };
    h.insert(argv[2].into(), Field { value, expire_at_ms: ttl });
    Ok(())
}

/// The fields after `FIELDS n` at `argv[at]`.
fn fields_arg<'a>(argv: &'a [&'a [u8]], at: usize) -> Result<&'a [&'a [u8]], Fail> {
    if !argv.get(at).is_some_and(|a| is(a, "FIELDS")) {
        return Err(Fail::Reply("ERR Mandatory argument FIELDS is missing or not at the right position".into()));
    }
    let n = usize::try_from(int(argv.get(at + 1).ok_or_else(Fail::syntax)?)?).map_err(|_| Fail::syntax())?;
    let fields = &argv[at + 2..];
    if n == 0 || fields.len() != n {
        return Err(Fail::Reply(
            "ERR Parameter `numFields` should be greater than 0 and match the number of fields".into(),
        ));
    }
    Ok(fields)
}

fn hexpire(cx: &mut Ctx, argv: &[&[u8]], unit: i64, absolute: bool) -> Outcome {
    at_least(argv, 6)?;
    let when = expire_at(int(argv[2])?, unit, absolute, cx.now_ms)?;
    let mut cond = None;
    let mut at = 3;
    if ["NX", "XX", "GT", "LT"].iter().any(|c| is(argv[3], c)) {
        cond = Some(argv[3].to_ascii_uppercase());
        at = 4;
    }
    let fields = fields_arg(argv, at)?;
    let Some(h) = cx.existing(argv[1], as_hash)? else { return Ok(()) };
    for f in fields {
        let Some(field) = h.get_mut(*f) else { continue };
        let cur = field.expire_at_ms;
        let skip = match cond.as_deref() {
            Some(b"NX") => cur.is_some(),
            Some(b"XX") => cur.is_none(),
            Some(b"GT") => cur.is_none_or(|c| when <= c),
            Some(b"LT") => cur.is_some_and(|c| when >= c),
            _ => false,
        };
        if !skip {
            field.expire_at_ms = Some(when);
        }
    }
    Ok(())
}

/// `EX | PX | EXAT | PXAT n`, `PERSIST`, `KEEPTTL` at `argv[i]`: (expiry change, args
/// taken); `Some(None)` removes the TTL, `None` keeps it.
/// A TTL change (`Some(None)` removes it, `None` keeps it) and the arguments it took.
type TtlChange = Option<(Option<Option<i64>>, usize)>;

fn ttl_opt(cx: &Ctx, argv: &[&[u8]], i: usize) -> Result<TtlChange, Fail> {
    let a = argv[i];
    let unit = match () {
        _ if is(a, "EX") || is(a, "EXAT") => 1000,
        _ if is(a, "PX") || is(a, "PXAT") => 1,
        _ if is(a, "PERSIST") => return Ok(Some((Some(None), 1))),
        _ if is(a, "KEEPTTL") => return Ok(Some((None, 1))),
        _ => return Ok(None),
    };
    let n = int(argv.get(i + 1).ok_or_else(Fail::syntax)?)?;
    Ok(Some((Some(Some(expire_at(n, unit, a.len() == 4, cx.now_ms)?)), 2)))
}

fn hgetex(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 5)?;
    let (change, at) = match ttl_opt(cx, argv, 2)? {
        Some((c, n)) => (c, 2 + n),
        None => (None, 2),
    };
    let fields = fields_arg(argv, at)?;
    let Some(change) = change else { return Ok(()) };
    if let Some(h) = cx.existing(argv[1], as_hash)? {
        for f in fields {
            if let Some(v) = h.get_mut(*f) {
                v.expire_at_ms = change;
            }
        }
    }
    Ok(())
}

fn hsetex(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 6)?;
    let (mut fnx, mut fxx, mut nx, mut xx) = (false, false, false, false);
    let mut change: Option<Option<i64>> = Some(None);
    let mut i = 2;
    while i < argv.len() && !is(argv[i], "FIELDS") {
        let a = argv[i];
        if is(a, "FNX") {
            fnx = true;
        } else if is(a, "FXX") {
            fxx = true;
        } else if is(a, "NX") {
            nx = true;
        } else if is(a, "XX") {
            xx = true;
        } else if let Some((c, n)) = ttl_opt(cx, argv, i)? {
            change = c;
            i += n;
            continue;
        } else {
            return Err(Fail::syntax());
        }
        i += 1;
    }
    let n = usize::try_from(int(argv.get(i + 1).ok_or_else(Fail::syntax)?)?).map_err(|_| Fail::syntax())?;
    let pairs = &argv[i + 2..];
    if n == 0 || pairs.len() != 2 * n {
        return Err(Fail::syntax());
    }
    let exists = cx.slot(argv[1]).is_some();
    if (nx && exists) || (xx && !exists) {
        return Ok(());
    }
    let h = cx.value_or(argv[1], new_hash, as_hash)?;
    let present = pairs.chunks_exact(2).filter(|p| h.contains_key(p[0])).count();
    if (fnx && present > 0) || (fxx && present < n) {
        cx.drop_if_empty(argv[1]);
        return Ok(());
    }
    for p in pairs.chunks_exact(2) {
        let ttl = match change {
            Some(t) => t,
            None => h.get(p[0]).and_then(|f| f.expire_at_ms),
        };
        h.insert(p[0].into(), Field { value: p[1].into(), expire_at_ms: ttl });
    }
    Ok(())
}
