//! Taking apart raw RESP replies (`redis::Value`) without lossy conversions.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use redis::Value;

use crate::record::{Bytes, StreamId};

/// A bulk or simple string reply as bytes.
pub(crate) fn bytes(v: &Value) -> Result<Bytes> {
    match v {
        Value::BulkString(b) => Ok(b.clone()),
        Value::SimpleString(s) => Ok(s.as_bytes().to_vec()),
        Value::Okay => Ok(b"OK".to_vec()),
        Value::VerbatimString { text, .. } => Ok(text.as_bytes().to_vec()),
        other => bail!("expected a string reply, got {other:?}"),
    }
}

/// A string reply that must be UTF-8 (IDs, field names of XINFO replies).
pub(crate) fn text(v: &Value) -> Result<String> {
    String::from_utf8(bytes(v)?).map_err(|e| anyhow!("reply is not UTF-8: {e}"))
}

/// An integer reply (or a string holding one).
pub(crate) fn int(v: &Value) -> Result<i64> {
    match v {
        Value::Int(n) => Ok(*n),
        other => {
            let t = text(other)?;
            t.parse().map_err(|_| anyhow!("expected an integer reply, got {t:?}"))
        }
    }
}

/// An integer reply, `None` for nil.
pub(crate) fn opt_int(v: &Value) -> Result<Option<i64>> {
    match v {
        Value::Nil => Ok(None),
        other => int(other).map(Some),
    }
}

/// An array reply (RESP3 sets too).
pub(crate) fn array(v: &Value) -> Result<&[Value]> {
    match v {
        Value::Array(items) | Value::Set(items) => Ok(items),
        other => bail!("expected an array reply, got {other:?}"),
    }
}

/// A stream ID reply.
pub(crate) fn stream_id(v: &Value) -> Result<StreamId> {
    text(v)?.parse().map_err(|e: String| anyhow!(e))
}

/// Alternating name/value pairs (RESP2 `[k, v, k, v]`, or a RESP3 map) as a
/// map from name to value.
pub(crate) fn fields(v: &Value) -> Result<BTreeMap<String, &Value>> {
    let mut out = BTreeMap::new();
    match v {
        Value::Map(pairs) => {
            for (k, x) in pairs {
                out.insert(text(k)?, x);
            }
        }
        other => {
            let items = array(other)?;
            if items.len() % 2 != 0 {
                bail!("expected name/value pairs, got {} items", items.len());
            }
            for pair in items.chunks_exact(2) {
                out.insert(text(&pair[0])?, &pair[1]);
            }
        }
    }
    Ok(out)
}

/// One named field of a [`fields`] map.
pub(crate) fn get<'a>(map: &BTreeMap<String, &'a Value>, name: &str) -> Result<&'a Value> {
    map.get(name).copied().ok_or_else(|| anyhow!("reply has no \"{name}\" field"))
}

/// Alternating items as byte pairs (`HGETALL`, `ZRANGE ... WITHSCORES`,
/// stream entry fields).
pub(crate) fn byte_pairs(v: &Value) -> Result<Vec<(Bytes, Bytes)>> {
    let items = array(v)?;
    if items.len() % 2 != 0 {
        bail!("expected pairs, got {} items", items.len());
    }
    items.chunks_exact(2).map(|p| Ok((bytes(&p[0])?, bytes(&p[1])?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_apart_resp2_replies() -> Result<()> {
        let v = Value::Array(vec![
            Value::BulkString(b"name".to_vec()),
            Value::BulkString(b"\xffg".to_vec()),
            Value::BulkString(b"count".to_vec()),
            Value::Int(3),
        ]);
        let m = fields(&v)?;
        assert_eq!(bytes(get(&m, "name")?)?, b"\xffg");
        assert_eq!(int(get(&m, "count")?)?, 3);
        assert!(get(&m, "missing").is_err());
        assert_eq!(int(&Value::BulkString(b"-12".to_vec()))?, -12);
        assert_eq!(opt_int(&Value::Nil)?, None);
        assert_eq!(stream_id(&Value::BulkString(b"5-1".to_vec()))?, StreamId { ms: 5, seq: 1 });
        assert!(byte_pairs(&Value::Array(vec![Value::Int(1)])).is_err());
        assert!(int(&Value::BulkString(b"x".to_vec())).is_err());
        Ok(())
    }
}
