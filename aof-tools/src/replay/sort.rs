//! SORT ... STORE, logged verbatim: the sort runs again on the replayed dataset with the
//! server's rules (BY and GET patterns, `->` hash fields, LIMIT, ALPHA, ASC/DESC, a set
//! sorted ALPHA when BY is constant, missing GET values stored as empty strings). SORT
//! without STORE and SORT_RO are reads, which servers do not log.

use std::cmp::Ordering;
use std::collections::VecDeque;

use super::args::{at_least, int, is};
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Bytes, Value};

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"SORT" => at_least(argv, 2).and_then(|()| sort(cx, argv)),
        b"SORT_RO" => Ok(()),
        _ => return None,
    })
}

#[derive(Default)]
struct Options<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    store: Option<&'a [u8]>,
    by: Option<&'a [u8]>,
    dontsort: bool,
    gets: Vec<&'a [u8]>,
}

fn options<'a>(argv: &[&'a [u8]]) -> Result<Options<'a>, Fail> {
    let mut o = Options::default();
    let mut j = 2;
    while j < argv.len() {
        let (a, left) = (argv[j], argv.len() - j - 1);
        if is(a, "ASC") {
            o.desc = false;
        } else if is(a, "DESC") {
            o.desc = true;
        } else if is(a, "ALPHA") {
            o.alpha = true;
        } else if is(a, "LIMIT") && left >= 2 {
            o.limit = Some((int(argv[j + 1])?, int(argv[j + 2])?));
            j += 2;
        } else if is(a, "STORE") && left >= 1 {
            o.store = Some(argv[j + 1]);
            j += 1;
        } else if is(a, "BY") && left >= 1 {
            o.by = Some(argv[j + 1]);
            // A constant BY pattern means "do not sort".
            o.dontsort = c_str(argv[j + 1]).iter().all(|&b| b != b'*');
            j += 1;
        } else if is(a, "GET") && left >= 1 {
            o.gets.push(argv[j + 1]);
            j += 1;
        } else {
            return Err(Fail::syntax());
        }
        j += 1;
    }
    Ok(o)
}

/// The bytes C string functions see (up to the first NUL).
fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |n| &s[..n])
}

/// What a BY or GET pattern names for `elem`: `#` is the element itself, the first `*`
/// is replaced by it, and `key->field` reads a hash field; only strings (or the hash
/// field) count, anything else is missing.
fn lookup(cx: &mut Ctx, pattern: &[u8], elem: &[u8]) -> Option<Bytes> {
    if c_str(pattern) == b"#" {
        return Some(elem.into());
    }
    let star = c_str(pattern).iter().position(|&b| b == b'*')?;
    let after = &c_str(pattern)[star + 1..];
    let field = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&f| after.get(f + 2).is_some_and(|&b| b != 0))
        .map(|f| &pattern[star + 1 + f + 2..]);
    let field_len = field.map_or(0, |f| f.len() + 2);
    let postfix = &pattern[star + 1..pattern.len() - field_len];
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    let slot = cx.slot(&key)?;
    match (&slot.value, field) {
        (Value::Str(s), None) => Some(s.as_slice().into()),
        (Value::Hash(h), Some(f)) => h.get(f).map(|v| v.value.clone()),
        _ => None,
    }
}

/// A sort score as the server reads it (`strtod` of the whole value; NaN and overflow
/// are errors; an empty value is 0).
fn score(v: &[u8]) -> Option<f64> {
    if v.is_empty() {
        return Some(0.0);
    }
    let s = std::str::from_utf8(v).ok()?;
    let x: f64 = match s.to_ascii_lowercase().trim_start_matches(['+', '-']) {
        "inf" | "infinity" => {
            if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }
        }
        _ => s.parse().ok()?,
    };
    let literal_inf = s.to_ascii_lowercase().contains("inf");
    (!x.is_nan() && (x.is_finite() || literal_inf)).then_some(x)
}

/// The elements of the key to sort, in the order the server loads them.
fn elements(cx: &mut Ctx, key: &[u8], desc: bool, dontsort: bool) -> Result<(Vec<Bytes>, bool), Fail> {
    let Some(slot) = cx.slot(key) else { return Ok((Vec::new(), false)) };
    Ok(match &slot.value {
        Value::List(l) if dontsort && desc => (l.iter().rev().cloned().collect(), false),
        Value::List(l) => (l.iter().cloned().collect(), false),
        Value::Set(s) => (s.iter().cloned().collect(), true),
        Value::ZSet(z) if dontsort && desc => (z.order.iter().rev().map(|(_, m)| m.clone()).collect(), false),
        Value::ZSet(z) => (z.order.iter().map(|(_, m)| m.clone()).collect(), false),
        _ => return Err(Fail::wrong_type()),
    })
}

fn sort(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    let mut o = options(argv)?;
    let (items, is_set) = elements(cx, argv[1], o.desc, o.dontsort)?;
    // Without STORE it is a read (servers do not log it).
    let Some(dest) = o.store else { return Ok(()) };
    if o.dontsort && is_set {
        // A set has no order of its own: the server sorts it ALPHA.
        (o.dontsort, o.alpha, o.by) = (false, true, None);
    }
    let n = items.len() as i64;
    let (limit_start, limit_count) = o.limit.unwrap_or((0, -1));
    let mut start = limit_start.clamp(0, n);
    let mut end = if limit_count < 0 { n - 1 } else { start.saturating_add(limit_count.min(n)) - 1 };
    if start >= n {
        (start, end) = (n - 1, n - 2);
    }
    end = end.min(n - 1);
    let mut keyed: Vec<(Bytes, Option<Bytes>, f64)> = items.into_iter().map(|e| (e, None, 0.0)).collect();
    if !o.dontsort {
        for (elem, cmp, sc) in &mut keyed {
            let by = match o.by {
                Some(p) => match lookup(cx, p, elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => elem.clone(),
            };
            if o.alpha {
                if o.by.is_some() {
                    *cmp = Some(by);
                }
            } else {
                *sc = score(&by)
                    .ok_or_else(|| Fail::Reply("ERR One or more scores can't be converted into double".into()))?;
            }
        }
        let (alpha, by, desc) = (o.alpha, o.by.is_some(), o.desc);
        keyed.sort_by(|a, b| {
            let c = match (alpha, by) {
                (false, _) => a.2.partial_cmp(&b.2).unwrap_or(Ordering::Equal).then_with(|| a.0.cmp(&b.0)),
                (true, true) => a.1.cmp(&b.1),
                (true, false) => a.0.cmp(&b.0),
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }
    let mut out = VecDeque::new();
    if end >= start {
        for (elem, _, _) in &keyed[start as usize..=end as usize] {
            if o.gets.is_empty() {
                out.push_back(elem.clone());
            }
            for g in &o.gets {
                out.push_back(lookup(cx, g, elem).unwrap_or_default());
            }
        }
    }
    if out.is_empty() {
        cx.remove(dest);
    } else {
        cx.put(dest, Value::List(out), None);
    }
    Ok(())
}
