//! Sorted-set commands.

use std::ops::Bound;

use super::args::{at_least, exactly, float, int, is};
use super::lists::clamp_range;
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Bytes, Score, Set, Value, ZSet};

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"ZADD" => zadd(cx, argv),
        b"ZINCRBY" => exactly(argv, 4).and_then(|()| incr(cx, argv[1], argv[3], float(argv[2])?)),
        b"ZREM" => at_least(argv, 3).and_then(|()| {
            if let Some(z) = cx.existing(argv[1], as_zset)? {
                for m in &argv[2..] {
                    z.remove(m);
                }
            }
            cx.drop_if_empty(argv[1]);
            Ok(())
        }),
        b"ZREMRANGEBYRANK" | b"ZREMRANGEBYSCORE" | b"ZREMRANGEBYLEX" => remrange(cx, name, argv),
        b"ZPOPMIN" | b"ZPOPMAX" => at_least(argv, 2).and_then(|()| {
            let count = argv.get(2).map(|c| int(c)).transpose()?.unwrap_or(1);
            pop(cx, argv[1], name == b"ZPOPMIN", count.max(0) as usize)
        }),
        b"BZPOPMIN" | b"BZPOPMAX" => at_least(argv, 3).and_then(|()| {
            for k in &argv[1..argv.len() - 1] {
                if cx.existing(k, as_zset)?.is_some() {
                    return pop(cx, k, name == b"BZPOPMIN", 1);
                }
            }
            Ok(())
        }),
        b"ZMPOP" | b"BZMPOP" => zmpop(cx, argv, name == b"BZMPOP"),
        b"ZUNIONSTORE" | b"ZINTERSTORE" | b"ZDIFFSTORE" => store(cx, name, argv),
        b"ZRANGESTORE" => rangestore(cx, argv),
        _ => return None,
    })
}

pub fn as_zset(v: &mut Value) -> Option<&mut ZSet> {
    match v {
        Value::ZSet(z) => Some(z),
        _ => None,
    }
}

pub fn zadd(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 4)?;
    let (mut nx, mut xx, mut gt, mut lt, mut incr_mode) = (false, false, false, false, false);
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        match () {
            _ if is(a, "NX") => nx = true,
            _ if is(a, "XX") => xx = true,
            _ if is(a, "GT") => gt = true,
            _ if is(a, "LT") => lt = true,
            _ if is(a, "CH") => {}
            _ if is(a, "INCR") => incr_mode = true,
            _ => break,
        }
        i += 1;
    }
    let pairs = &argv[i..];
    if pairs.is_empty()
        || !pairs.len().is_multiple_of(2)
        || (nx && xx)
        || (gt && lt)
        || (nx && (gt || lt))
        || (incr_mode && pairs.len() != 2)
    {
        return Err(Fail::syntax());
    }
    let scores: Vec<f64> = pairs.chunks_exact(2).map(|p| float(p[0])).collect::<Result<_, _>>()?;
    if xx && cx.slot(argv[1]).is_none() {
        return Ok(());
    }
    let z = cx.value_or(argv[1], || Value::ZSet(Box::default()), as_zset)?;
    for (p, &score) in pairs.chunks_exact(2).zip(&scores) {
        let member = p[1];
        match z.scores.get(member).copied() {
            Some(old) => {
                if nx {
                    continue;
                }
                let new = if incr_mode { old + score } else { score };
                if new.is_nan() {
                    cx.drop_if_empty(argv[1]);
                    return Err(Fail::Reply("ERR resulting score is not a number (NaN)".into()));
                }
                if (gt && new <= old) || (lt && new >= old) {
                    continue;
                }
                z.insert(member, new);
            }
            None if !xx => {
                z.insert(member, score);
            }
            None => {}
        }
    }
    cx.drop_if_empty(argv[1]);
    Ok(())
}

fn incr(cx: &mut Ctx, key: &[u8], member: &[u8], by: f64) -> Outcome {
    let z = cx.value_or(key, || Value::ZSet(Box::default()), as_zset)?;
    let new = z.scores.get(member).copied().unwrap_or(0.0) + by;
    if new.is_nan() {
        cx.drop_if_empty(key);
        return Err(Fail::Reply("ERR resulting score is not a number (NaN)".into()));
    }
    z.insert(member, new);
    Ok(())
}

/// A score bound: `(1.5` exclusive, `-inf`, `+inf`.
fn score_bound(a: &[u8]) -> Result<Bound<f64>, Fail> {
    let bad = || Fail::Reply("ERR min or max is not a float".into());
    match a.strip_prefix(b"(") {
        Some(rest) => Ok(Bound::Excluded(float(rest).map_err(|_| bad())?)),
        None => Ok(Bound::Included(float(a).map_err(|_| bad())?)),
    }
}

/// A lex bound: `[a`, `(a`, `-`, `+`.
fn lex_bound(a: &[u8]) -> Result<Bound<Option<Bytes>>, Fail> {
    match a.first() {
        Some(b'-') if a.len() == 1 => Ok(Bound::Unbounded),
        Some(b'+') if a.len() == 1 => Ok(Bound::Included(None)),
        Some(b'[') => Ok(Bound::Included(Some(a[1..].into()))),
        Some(b'(') => Ok(Bound::Excluded(Some(a[1..].into()))),
        _ => Err(Fail::Reply("ERR min or max not valid string range item".into())),
    }
}

fn above(b: &Bound<f64>, s: f64) -> bool {
    match b {
        Bound::Included(v) => s >= *v,
        Bound::Excluded(v) => s > *v,
        Bound::Unbounded => true,
    }
}

fn below(b: &Bound<f64>, s: f64) -> bool {
    match b {
        Bound::Included(v) => s <= *v,
        Bound::Excluded(v) => s < *v,
        Bound::Unbounded => true,
    }
}

/// `-`/`+` aware lex comparisons: min side and max side.
fn lex_above(b: &Bound<Option<Bytes>>, m: &[u8]) -> bool {
    match b {
        Bound::Unbounded => true,
        Bound::Included(None) | Bound::Excluded(None) => false,
        Bound::Included(Some(v)) => m >= &**v,
        Bound::Excluded(Some(v)) => m > &**v,
    }
}

fn lex_below(b: &Bound<Option<Bytes>>, m: &[u8]) -> bool {
    match b {
        Bound::Unbounded => false,
        Bound::Included(None) | Bound::Excluded(None) => true,
        Bound::Included(Some(v)) => m <= &**v,
        Bound::Excluded(Some(v)) => m < &**v,
    }
}

/// Members selected by rank, score or lex, in ascending order.
fn select(z: &ZSet, by: &[u8], min: &[u8], max: &[u8]) -> Result<Vec<(Score, Bytes)>, Fail> {
    Ok(match by {
        b"RANK" => {
            let Some((s, e)) = clamp_range(int(min)?, int(max)?, z.len()) else { return Ok(Vec::new()) };
            z.order.iter().skip(s).take(e - s + 1).cloned().collect()
        }
        b"SCORE" => {
            let (lo, hi) = (score_bound(min)?, score_bound(max)?);
            z.order.iter().filter(|(s, _)| above(&lo, s.0) && below(&hi, s.0)).cloned().collect()
        }
        _ => {
            let (lo, hi) = (lex_bound(min)?, lex_bound(max)?);
            z.order.iter().filter(|(_, m)| lex_above(&lo, m) && lex_below(&hi, m)).cloned().collect()
        }
    })
}

fn remrange(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Outcome {
    exactly(argv, 4)?;
    let by = &name[b"ZREMRANGEBY".len()..];
    let Some(z) = cx.existing(argv[1], as_zset)? else { return Ok(()) };
    for (_, m) in select(z, by, argv[2], argv[3])? {
        z.remove(&m);
    }
    cx.drop_if_empty(argv[1]);
    Ok(())
}

fn pop(cx: &mut Ctx, key: &[u8], min: bool, count: usize) -> Outcome {
    let Some(z) = cx.existing(key, as_zset)? else { return Ok(()) };
    for _ in 0..count {
        let next = if min { z.order.first().cloned() } else { z.order.last().cloned() };
        let Some((_, m)) = next else { break };
        z.remove(&m);
    }
    cx.drop_if_empty(key);
    Ok(())
}

fn zmpop(cx: &mut Ctx, argv: &[&[u8]], blocking: bool) -> Outcome {
    let first = if blocking { 2 } else { 1 };
    at_least(argv, first + 3)?;
    let n = usize::try_from(int(argv[first])?).map_err(|_| Fail::syntax())?;
    let keys = argv.get(first + 1..first + 1 + n).ok_or_else(Fail::syntax)?;
    let rest = &argv[first + 1 + n..];
    let min = is(rest.first().ok_or_else(Fail::syntax)?, "MIN");
    let count = match rest.get(1..3) {
        Some([c, v]) if is(c, "COUNT") => usize::try_from(int(v)?).map_err(|_| Fail::syntax())?,
        _ => 1,
    };
    for k in keys {
        if cx.existing(k, as_zset)?.is_some() {
            return pop(cx, k, min, count);
        }
    }
    Ok(())
}

/// A source of ZUNIONSTORE & co.: a sorted set, or a set with scores 1.
fn source(cx: &mut Ctx, key: &[u8]) -> Result<Vec<(Bytes, f64)>, Fail> {
    match cx.slot(key).map(|s| &s.value) {
        None => Ok(Vec::new()),
        Some(Value::ZSet(z)) => Ok(z.scores.iter().map(|(m, s)| (m.clone(), *s)).collect()),
        Some(Value::Set(s)) => Ok(s.iter().map(|m| (m.clone(), 1.0)).collect()),
        Some(_) => Err(Fail::wrong_type()),
    }
}

fn store(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Outcome {
    at_least(argv, 4)?;
    let n = usize::try_from(int(argv[2])?)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| Fail::Reply("ERR at least 1 input key is needed".into()))?;
    let keys = argv.get(3..3 + n).ok_or_else(Fail::syntax)?;
    let mut weights = vec![1.0; n];
    let mut aggregate = b"SUM".as_slice();
    let mut i = 3 + n;
    while i < argv.len() {
        if is(argv[i], "WEIGHTS") && name != b"ZDIFFSTORE" {
            for (j, w) in weights.iter_mut().enumerate() {
                *w = float(argv.get(i + 1 + j).ok_or_else(Fail::syntax)?)?;
            }
            i += 1 + n;
        } else if is(argv[i], "AGGREGATE") && name != b"ZDIFFSTORE" {
            let a = argv.get(i + 1).ok_or_else(Fail::syntax)?;
            aggregate = if is(a, "SUM") {
                b"SUM"
            } else if is(a, "MIN") {
                b"MIN"
            } else if is(a, "MAX") {
                b"MAX"
            } else {
                return Err(Fail::syntax());
            };
            i += 2;
        } else {
            return Err(Fail::syntax());
        }
    }
    let mut sources = Vec::with_capacity(n);
    for k in keys {
        sources.push(source(cx, k)?);
    }
    let agg = |a: f64, b: f64| {
        let r = match aggregate {
            b"MIN" => a.min(b),
            b"MAX" => a.max(b),
            _ => a + b,
        };
        if r.is_nan() {
            0.0
        } else {
            r
        }
    };
    let weighted = |s: f64, w: f64| {
        let r = s * w;
        if r.is_nan() {
            0.0
        } else {
            r
        }
    };
    let mut out = ZSet::default();
    match name {
        b"ZUNIONSTORE" => {
            for (src, w) in sources.iter().zip(&weights) {
                for (m, s) in src {
                    let v = weighted(*s, *w);
                    let new = out.scores.get(m).map_or(v, |old| agg(*old, v));
                    out.insert(m, new);
                }
            }
        }
        b"ZINTERSTORE" => {
            let rest: Vec<hashbrown::HashMap<&Bytes, f64>> =
                sources[1..].iter().map(|s| s.iter().map(|(m, v)| (m, *v)).collect()).collect();
            'member: for (m, s) in &sources[0] {
                let mut acc = weighted(*s, weights[0]);
                for (other, w) in rest.iter().zip(&weights[1..]) {
                    let Some(v) = other.get(m) else { continue 'member };
                    acc = agg(acc, weighted(*v, *w));
                }
                out.insert(m, acc);
            }
        }
        _ => {
            let rest: Set<&Bytes> = sources[1..].iter().flat_map(|s| s.iter().map(|(m, _)| m)).collect();
            for (m, s) in &sources[0] {
                if !rest.contains(m) {
                    out.insert(m, *s);
                }
            }
        }
    }
    if out.is_empty() {
        cx.remove(argv[1]);
    } else {
        cx.put(argv[1], Value::ZSet(Box::new(out)), None);
    }
    Ok(())
}

fn rangestore(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 5)?;
    let (mut by, mut rev, mut limit): (&[u8], bool, Option<(i64, i64)>) = (b"RANK", false, None);
    let mut i = 5;
    while i < argv.len() {
        let a = argv[i];
        if is(a, "BYSCORE") {
            by = b"SCORE";
        } else if is(a, "BYLEX") {
            by = b"LEX";
        } else if is(a, "REV") {
            rev = true;
        } else if is(a, "LIMIT") && i + 2 < argv.len() {
            limit = Some((int(argv[i + 1])?, int(argv[i + 2])?));
            i += 2;
        } else {
            return Err(Fail::syntax());
        }
        i += 1;
    }
    let src = match cx.slot(argv[2]).map(|s| &s.value) {
        None => ZSet::default(),
        Some(Value::ZSet(z)) => (**z).clone(),
        Some(_) => return Err(Fail::wrong_type()),
    };
    let (min, max) = if rev && by != b"RANK" { (argv[4], argv[3]) } else { (argv[3], argv[4]) };
    let mut picked = if rev && by == b"RANK" {
        let rev_order: ZSet = src.clone();
        let all: Vec<(Score, Bytes)> = rev_order.order.iter().rev().cloned().collect();
        match clamp_range(int(min)?, int(max)?, all.len()) {
            Some((s, e)) => all[s..=e].to_vec(),
            None => Vec::new(),
        }
    } else {
        let mut v = select(&src, by, min, max)?;
        if rev {
            v.reverse();
        }
        v
    };
    if let Some((off, count)) = limit.filter(|_| by != b"RANK") {
        let off = off.max(0) as usize;
        picked = picked.into_iter().skip(off).take(if count < 0 { usize::MAX } else { count as usize }).collect();
    }
    if picked.is_empty() {
        cx.remove(argv[1]);
        return Ok(());
    }
    let mut out = ZSet::default();
    for (s, m) in picked {
        out.insert(&m, s.0);
    }
    cx.put(argv[1], Value::ZSet(Box::new(out)), None);
    Ok(())
}
