//! Argument parsing with the servers' rules and error replies.

use rdb_parser::StreamId;
use resp::request::strict_i64;

use super::Fail;

/// `ERR wrong number of arguments` unless `argv` has at least `min` items.
pub fn at_least(argv: &[&[u8]], min: usize) -> Result<(), Fail> {
    if argv.len() < min {
        return Err(Fail::Reply(format!("ERR wrong number of arguments for '{}'", String::from_utf8_lossy(argv[0]))));
    }
    Ok(())
}

/// Exactly `n` items.
pub fn exactly(argv: &[&[u8]], n: usize) -> Result<(), Fail> {
    if argv.len() != n {
        return at_least(&[argv[0]], 2);
    }
    Ok(())
}

/// An integer (`string2ll` rules).
pub fn int(a: &[u8]) -> Result<i64, Fail> {
    strict_i64(a).ok_or_else(|| Fail::Reply("ERR value is not an integer or out of range".into()))
}

/// A float as `strtod` reads it, without NaN (`inf`, `-inf`, `+inf` allowed).
pub fn float(a: &[u8]) -> Result<f64, Fail> {
    let bad = || Fail::Reply("ERR value is not a valid float".into());
    let s = std::str::from_utf8(a).map_err(|_| bad())?;
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return Err(bad());
    }
    let v: f64 = match s.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => s.parse().map_err(|_| bad())?,
    };
    if v.is_nan() {
        return Err(bad());
    }
    Ok(v)
}

/// Case-insensitive keyword test.
pub fn is(a: &[u8], word: &str) -> bool {
    a.eq_ignore_ascii_case(word.as_bytes())
}

/// A stream ID `ms-seq` or `ms` (the sequence is `missing_seq` then).
pub fn stream_id(a: &[u8], missing_seq: u64) -> Result<StreamId, Fail> {
    let bad = || Fail::Reply("ERR Invalid stream ID specified as stream command argument".into());
    let s = std::str::from_utf8(a).map_err(|_| bad())?;
    let (ms, seq) = match s.split_once('-') {
        Some((ms, seq)) => (ms.parse().map_err(|_| bad())?, seq.parse().map_err(|_| bad())?),
        None => (s.parse().map_err(|_| bad())?, missing_seq),
    };
    Ok(StreamId { ms, seq })
}

/// An absolute expiry from a relative or absolute amount of seconds or ms.
pub fn expire_at(amount: i64, unit_ms: i64, absolute: bool, now_ms: i64) -> Result<i64, Fail> {
    let bad = || Fail::Reply("ERR invalid expire time".into());
    let ms = amount.checked_mul(unit_ms).ok_or_else(bad)?;
    if absolute {
        Ok(ms)
    } else {
        ms.checked_add(now_ms).ok_or_else(bad)
    }
}

/// A list or range index: negative counts from the end; clamped by the caller.
pub fn index(a: &[u8]) -> Result<i64, Fail> {
    int(a)
}
