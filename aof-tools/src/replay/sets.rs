//! Set commands.

use super::args::{at_least, exactly};
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Bytes, Set, Value};

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"SADD" => at_least(argv, 3).and_then(|()| {
            let set = cx.value_or(argv[1], || Value::Set(Set::new()), as_set)?;
            for m in &argv[2..] {
                if !set.contains(*m) {
                    set.insert((*m).into());
                }
            }
            Ok(())
        }),
        b"SREM" => at_least(argv, 3).and_then(|()| {
            if let Some(set) = cx.existing(argv[1], as_set)? {
                for m in &argv[2..] {
                    set.remove(*m);
                }
            }
            cx.drop_if_empty(argv[1]);
            Ok(())
        }),
        b"SMOVE" => smove(cx, argv),
        b"SINTERSTORE" | b"SUNIONSTORE" | b"SDIFFSTORE" => store(cx, name, argv),
        b"SPOP" => Err(Fail::Unsupported(
            "SPOP picks members at random; servers log the members removed (SREM) instead, so this AOF \
             was written with verbatim replication, which rdbkit cannot replay"
                .into(),
        )),
        _ => return None,
    })
}

fn as_set(v: &mut Value) -> Option<&mut Set<Bytes>> {
    match v {
        Value::Set(s) => Some(s),
        _ => None,
    }
}

fn smove(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 4)?;
    if cx.slot(argv[2]).is_some() && cx.existing(argv[2], as_set)?.is_none() {
        return Err(Fail::wrong_type());
    }
    let Some(src) = cx.existing(argv[1], as_set)? else { return Ok(()) };
    if argv[1] == argv[2] || !src.remove(argv[3]) {
        return Ok(());
    }
    cx.drop_if_empty(argv[1]);
    cx.value_or(argv[2], || Value::Set(Set::new()), as_set)?.insert(argv[3].into());
    Ok(())
}

/// The members of a set key (empty when missing).
fn members(cx: &mut Ctx, key: &[u8]) -> Result<Set<Bytes>, Fail> {
    Ok(cx.existing(key, as_set)?.map(|s| s.clone()).unwrap_or_default())
}

fn store(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Outcome {
    at_least(argv, 3)?;
    let mut acc = members(cx, argv[2])?;
    for k in &argv[3..] {
        let other = members(cx, k)?;
        match name {
            b"SINTERSTORE" => acc.retain(|m| other.contains(m)),
            b"SUNIONSTORE" => acc.extend(other),
            _ => acc.retain(|m| !other.contains(m)),
        }
    }
    if acc.is_empty() {
        cx.remove(argv[1]);
    } else {
        cx.put(argv[1], Value::Set(acc), None);
    }
    Ok(())
}
