//! Conditional string writes: SET's IFEQ/IFNE/IFDEQ/IFDNE conditions (Valkey 8.1,
//! Redis 8.4), DELEX (Redis 8.4; Valkey's DELIFEQ is logged as DEL) and MSETEX
//! (Redis 8.4, Valkey 9.1), which servers log with its NX/XX condition and an
//! absolute expiry.

use super::args::{at_least, exactly, int, is};
use super::strings::{ttl_option, Ttl};
use super::{Ctx, Fail, Outcome};
use crate::dataset::Value;

/// The conditions of a conditional SET (Valkey 8.1 IFEQ; Redis 8.4 IFEQ, IFNE, and
/// IFDEQ/IFDNE on the value's XXH3 digest in hex).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    /// The value equals the operand.
    Eq,
    /// The key is missing or its value differs.
    Ne,
    /// The value's digest equals the operand.
    DigestEq,
    /// The key is missing or its value's digest differs.
    DigestNe,
}

impl Cond {
    /// The condition a keyword names.
    pub fn parse(a: &[u8]) -> Option<Cond> {
        [("IFEQ", Cond::Eq), ("IFNE", Cond::Ne), ("IFDEQ", Cond::DigestEq), ("IFDNE", Cond::DigestNe)]
            .iter()
            .find(|(n, _)| is(a, n))
            .map(|&(_, c)| c)
    }

    /// Whether a string key holding `current` (None: missing) meets it.
    pub fn holds(self, current: Option<&[u8]>, operand: &[u8]) -> bool {
        let digest_is =
            |v: &[u8]| format!("{:016x}", xxhash_rust::xxh3::xxh3_64(v)).as_bytes().eq_ignore_ascii_case(operand);
        match (self, current) {
            (Cond::Eq | Cond::DigestEq, None) => false,
            (Cond::Ne | Cond::DigestNe, None) => true,
            (Cond::Eq, Some(v)) => v == operand,
            (Cond::Ne, Some(v)) => v != operand,
            (Cond::DigestEq, Some(v)) => digest_is(v),
            (Cond::DigestNe, Some(v)) => !digest_is(v),
        }
    }
}

/// The string value of `key` for a condition (None: missing; another type is an error).
pub fn cond_value<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a [u8]>, Fail> {
    match cx.slot(key) {
        None => Ok(None),
        Some(slot) => match &slot.value {
            Value::Str(s) => Ok(Some(s.as_slice())),
            _ => Err(Fail::wrong_type()),
        },
    }
}

/// DELEX key [IFEQ|IFNE|IFDEQ|IFDNE operand] (Redis 8.4; servers log the unconditional
/// form, and a met condition as DEL).
pub fn delex(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    match argv.len() {
        2 => {}
        4 => {
            let c = Cond::parse(argv[2]).ok_or_else(Fail::syntax)?;
            if !c.holds(cond_value(cx, argv[1])?, argv[3]) {
                return Ok(());
            }
        }
        _ => return at_least(argv, usize::MAX),
    }
    cx.remove(argv[1]);
    Ok(())
}

/// DELIFEQ key value (Valkey 9.0; logged as DEL, replayed the same when a file has it).
pub fn delifeq(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 3)?;
    if Cond::Eq.holds(cond_value(cx, argv[1])?, argv[2]) {
        cx.remove(argv[1]);
    }
    Ok(())
}

/// MSETEX numkeys key value [key value ...] [NX|XX] [EX|PX|EXAT|PXAT n|KEEPTTL]: NX
/// sets every key only when none exists, XX only when all do.
pub fn msetex(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 4)?;
    let n = usize::try_from(int(argv[1])?).ok().filter(|&n| n > 0).ok_or_else(Fail::syntax)?;
    let pairs_end =
        n.checked_mul(2).and_then(|m| m.checked_add(2)).filter(|&e| e <= argv.len()).ok_or_else(Fail::syntax)?;
    let (mut nx, mut xx, mut ttl, mut i) = (false, false, None, pairs_end);
    while i < argv.len() {
        if is(argv[i], "NX") {
            nx = true;
        } else if is(argv[i], "XX") {
            xx = true;
        } else if let Some((t, taken)) = ttl_option(cx, argv, i, true, false)? {
            if ttl.is_some() {
                return Err(Fail::syntax());
            }
            ttl = Some(t);
            i += taken;
            continue;
        } else {
            return Err(Fail::syntax());
        }
        i += 1;
    }
    if nx && xx {
        return Err(Fail::syntax());
    }
    let pairs = argv[2..pairs_end].chunks_exact(2);
    if (nx && pairs.clone().any(|p| cx.slot(p[0]).is_some())) || (xx && pairs.clone().any(|p| cx.slot(p[0]).is_none()))
    {
        return Ok(());
    }
    for p in pairs {
        let expire = match ttl {
            Some(Ttl::At(t)) => Some(t),
            Some(Ttl::Keep) => cx.slot(p[0]).and_then(|s| s.expire_at_ms),
            _ => None,
        };
        cx.put(p[0], Value::Str(p[1].to_vec()), expire);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Cond;

    /// Redis 8.6 logged `SET c1 n4 IFDEQ e91f540cbd1cac73` while c1 held "n3".
    #[test]
    fn digest_conditions_use_the_servers_digest() {
        assert!(Cond::DigestEq.holds(Some(b"n3"), b"e91f540cbd1cac73"));
        assert!(Cond::DigestEq.holds(Some(b"n3"), b"E91F540CBD1CAC73"));
        assert!(!Cond::DigestNe.holds(Some(b"n3"), b"e91f540cbd1cac73"));
        assert!(Cond::DigestNe.holds(None, b"e91f540cbd1cac73"));
        assert!(!Cond::Eq.holds(None, b""));
    }
}
