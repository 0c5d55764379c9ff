//! List commands (blocking ones act at once, as the server logs them when they served).

use std::collections::VecDeque;

use super::args::{at_least, exactly, index, int, is};
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Bytes, Value};

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"LPUSH" | b"RPUSH" | b"LPUSHX" | b"RPUSHX" => push(cx, argv, name[0] == b'L', name.len() == 6),
        b"LINSERT" => linsert(cx, argv),
        b"LSET" => lset(cx, argv),
        b"LREM" => lrem(cx, argv),
        b"LTRIM" => ltrim(cx, argv),
        b"LPOP" | b"RPOP" => pop(cx, argv, name[0] == b'L'),
        b"RPOPLPUSH" | b"BRPOPLPUSH" => at_least(argv, 3).and_then(|()| lmove(cx, argv[1], argv[2], false, true)),
        b"LMOVE" | b"BLMOVE" => lmove_cmd(cx, argv),
        b"BLPOP" | b"BRPOP" => at_least(argv, 3).and_then(|()| {
            let keys = &argv[1..argv.len() - 1];
            first_nonempty(cx, keys)?.map_or(Ok(()), |k| pop_n(cx, k, name == b"BLPOP", 1))
        }),
        b"LMPOP" | b"BLMPOP" => lmpop(cx, argv, name == b"BLMPOP"),
        _ => return None,
    })
}

fn as_list(v: &mut Value) -> Option<&mut VecDeque<Bytes>> {
    match v {
        Value::List(l) => Some(l),
        _ => None,
    }
}

fn push(cx: &mut Ctx, argv: &[&[u8]], left: bool, only_existing: bool) -> Outcome {
    at_least(argv, 3)?;
    let list = if only_existing {
        match cx.existing(argv[1], as_list)? {
            Some(l) => l,
            None => return Ok(()),
        }
    } else {
        cx.value_or(argv[1], || Value::List(VecDeque::new()), as_list)?
    };
    for e in &argv[2..] {
        if left {
            list.push_front((*e).into());
        } else {
            list.push_back((*e).into());
        }
    }
    Ok(())
}

fn linsert(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 5)?;
    let after = if is(argv[2], "AFTER") {
        true
    } else if is(argv[2], "BEFORE") {
        false
    } else {
        return Err(Fail::syntax());
    };
    if let Some(list) = cx.existing(argv[1], as_list)? {
        if let Some(i) = list.iter().position(|e| &**e == argv[3]) {
            list.insert(if after { i + 1 } else { i }, argv[4].into());
        }
    }
    Ok(())
}

/// A list index resolved against `len` (negative from the end).
fn resolve(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { i + len as i64 } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn lset(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 4)?;
    let i = index(argv[2])?;
    let Some(list) = cx.existing(argv[1], as_list)? else {
        return Err(Fail::Reply("ERR no such key".into()));
    };
    let Some(i) = resolve(i, list.len()) else {
        return Err(Fail::Reply("ERR index out of range".into()));
    };
    list[i] = argv[3].into();
    Ok(())
}

fn lrem(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 4)?;
    let count = int(argv[2])?;
    let Some(list) = cx.existing(argv[1], as_list)? else { return Ok(()) };
    let limit = if count == 0 { usize::MAX } else { count.unsigned_abs() as usize };
    let mut removed = 0;
    if count >= 0 {
        let mut i = 0;
        while i < list.len() && removed < limit {
            if &*list[i] == argv[3] {
                list.remove(i);
                removed += 1;
            } else {
                i += 1;
            }
        }
    } else {
        let mut i = list.len();
        while i > 0 && removed < limit {
            i -= 1;
            if &*list[i] == argv[3] {
                list.remove(i);
                removed += 1;
            }
        }
    }
    cx.drop_if_empty(argv[1]);
    Ok(())
}

/// Start and end (inclusive) of a range, clamped like LRANGE/LTRIM; `None` when empty.
pub fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { start + len } else { start };
    let mut e = if end < 0 { end + len } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

fn ltrim(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 4)?;
    let (start, end) = (index(argv[2])?, index(argv[3])?);
    let Some(list) = cx.existing(argv[1], as_list)? else { return Ok(()) };
    match clamp_range(start, end, list.len()) {
        Some((s, e)) => {
            list.truncate(e + 1);
            list.drain(..s);
        }
        None => list.clear(),
    }
    cx.drop_if_empty(argv[1]);
    Ok(())
}

fn pop_n(cx: &mut Ctx, key: &[u8], left: bool, n: usize) -> Outcome {
    let Some(list) = cx.existing(key, as_list)? else { return Ok(()) };
    for _ in 0..n {
        if left {
            list.pop_front();
        } else {
            list.pop_back();
        }
    }
    cx.drop_if_empty(key);
    Ok(())
}

fn pop(cx: &mut Ctx, argv: &[&[u8]], left: bool) -> Outcome {
    at_least(argv, 2)?;
    let n = match argv.get(2) {
        Some(c) => {
            usize::try_from(int(c)?).map_err(|_| Fail::Reply("ERR value is out of range, must be positive".into()))?
        }
        None => 1,
    };
    pop_n(cx, argv[1], left, n)
}

fn first_nonempty<'a>(cx: &mut Ctx, keys: &[&'a [u8]]) -> Result<Option<&'a [u8]>, Fail> {
    for k in keys {
        if cx.existing(k, as_list)?.is_some_and(|l| !l.is_empty()) {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

fn side(a: &[u8]) -> Result<bool, Fail> {
    if is(a, "LEFT") {
        Ok(true)
    } else if is(a, "RIGHT") {
        Ok(false)
    } else {
        Err(Fail::syntax())
    }
}

fn lmove_cmd(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 5)?;
    lmove(cx, argv[1], argv[2], side(argv[3])?, side(argv[4])?)
}

fn lmove(cx: &mut Ctx, src: &[u8], dst: &[u8], from_left: bool, to_left: bool) -> Outcome {
    if cx.existing(dst, as_list)?.is_none() && cx.slot(dst).is_some() {
        return Err(Fail::wrong_type());
    }
    let Some(list) = cx.existing(src, as_list)? else { return Ok(()) };
    let Some(item) = (if from_left { list.pop_front() } else { list.pop_back() }) else { return Ok(()) };
    cx.drop_if_empty(src);
    let dst_list = cx.value_or(dst, || Value::List(VecDeque::new()), as_list)?;
    if to_left {
        dst_list.push_front(item);
    } else {
        dst_list.push_back(item);
    }
    Ok(())
}

fn lmpop(cx: &mut Ctx, argv: &[&[u8]], blocking: bool) -> Outcome {
    let first = if blocking { 2 } else { 1 };
    at_least(argv, first + 3)?;
    let numkeys = usize::try_from(int(argv[first])?).map_err(|_| Fail::syntax())?;
    let keys = argv.get(first + 1..first + 1 + numkeys).ok_or_else(Fail::syntax)?;
    let rest = &argv[first + 1 + numkeys..];
    let left = side(rest.first().ok_or_else(Fail::syntax)?)?;
    let count = match rest.get(1..3) {
        Some([c, n]) if is(c, "COUNT") => usize::try_from(int(n)?).map_err(|_| Fail::syntax())?,
        _ => 1,
    };
    match first_nonempty(cx, keys)? {
        Some(k) => pop_n(cx, k, left, count),
        None => Ok(()),
    }
}
