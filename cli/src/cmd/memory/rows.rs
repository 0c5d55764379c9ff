//! One row per key: CSV (the columns rdbtools users know) or NDJSON.

use rdb_parser::memory::KeyMemory;

use crate::output::json;

/// The CSV header line.
pub const CSV_HEADER: &str = "database,type,key,size_in_bytes,encoding,num_elements,len_largest_element,expiry\n";

/// Appends one CSV row. The key column holds the key as JSON text (a string, or
/// `{"base64":...}` for bytes that are not UTF-8), quoted for CSV.
pub fn csv(out: &mut Vec<u8>, k: &KeyMemory) {
    json::int(out, k.db);
    out.push(b',');
    out.extend_from_slice(k.kind.name().as_bytes());
    out.push(b',');
    csv_json_key(out, &k.key);
    out.push(b',');
    json::int(out, k.size_in_bytes);
    out.push(b',');
    out.extend_from_slice(k.encoding.name().as_bytes());
    out.push(b',');
    json::int(out, k.num_elements);
    out.push(b',');
    json::int(out, k.len_largest_element);
    out.push(b',');
    if let Some(t) = k.expire_at_ms {
        json::int(out, t);
    }
    out.push(b'\n');
}

/// Appends the CSV field of `key` as JSON text: between quotes, with its quotes doubled.
fn csv_json_key(out: &mut Vec<u8>, key: &[u8]) {
    if json::plain(key) {
        // The JSON text is the key between quotes.
        out.reserve(key.len() + 6);
        out.extend_from_slice(b"\"\"\"");
        out.extend_from_slice(key);
        out.extend_from_slice(b"\"\"\"");
        return;
    }
    out.push(b'"');
    let start = out.len();
    json::bytes(out, key);
    double_quotes(out, start);
    out.push(b'"');
}

/// Doubles every `"` in `out[start..]`, in place, as CSV quotes them.
fn double_quotes(out: &mut Vec<u8>, start: usize) {
    let quotes = out[start..].iter().filter(|&&b| b == b'"').count();
    let mut to = out.len() + quotes;
    out.resize(to, 0);
    // From the end: each byte moves right by the quotes before it.
    for from in (start..to - quotes).rev() {
        let b = out[from];
        to -= 1;
        out[to] = b;
        if b == b'"' {
            to -= 1;
            out[to] = b;
        }
    }
}

/// Appends one NDJSON line.
pub fn ndjson(out: &mut Vec<u8>, k: &KeyMemory) {
    out.extend_from_slice(b"{\"db\":");
    json::int(out, k.db);
    out.extend_from_slice(b",\"key\":");
    json::bytes(out, &k.key);
    out.extend_from_slice(b",\"type\":");
    json::string(out, k.kind.name());
    out.extend_from_slice(b",\"size_in_bytes\":");
    json::int(out, k.size_in_bytes);
    out.extend_from_slice(b",\"encoding\":");
    json::string(out, k.encoding.name());
    out.extend_from_slice(b",\"num_elements\":");
    json::int(out, k.num_elements);
    out.extend_from_slice(b",\"len_largest_element\":");
    json::int(out, k.len_largest_element);
    out.extend_from_slice(b",\"expire_at_ms\":");
    json::opt_int(out, k.expire_at_ms);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdb_parser::memory::Encoding;
    use rdb_parser::Kind;

    fn key(name: &[u8], expire: Option<i64>) -> KeyMemory {
        KeyMemory {
            db: 2,
            key: name.to_vec(),
            kind: Kind::Hash,
            encoding: Encoding::Listpack,
            size_in_bytes: 120,
            num_elements: 3,
            len_largest_element: 7,
            expire_at_ms: expire,
        }
    }

    #[test]
    fn csv_quotes_the_json_key() {
        let mut out = Vec::new();
        csv(&mut out, &key(b"a\"b", Some(5)));
        csv(&mut out, &key(b"\xff", None));
        csv(&mut out, &key(b"user:1", None));
        assert_eq!(
            String::from_utf8_lossy(&out),
            "2,hash,\"\"\"a\\\"\"b\"\"\",120,listpack,3,7,5\n2,hash,\"{\"\"base64\"\":\"\"/w==\"\"}\",120,listpack,3,7,\n\
             2,hash,\"\"\"user:1\"\"\",120,listpack,3,7,\n"
        );
    }

    #[test]
    fn ndjson_has_every_column() {
        let mut out = Vec::new();
        ndjson(&mut out, &key(b"k", None));
        let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(v["size_in_bytes"], 120);
        assert_eq!(v["expire_at_ms"], serde_json::Value::Null);
        assert_eq!(v["encoding"], "listpack");
    }
}
