//! The typed form of one `expected.ndjson` record, and its JSON forms.
//!
//! Schema (see `fixtures/README.md`): one object per key,
//! `{"db","key","type","expire_at_ms","value"[,"field_expire_at_ms"]}`.
//! Byte strings are JSON strings when they are valid UTF-8, otherwise
//! `{"base64": "..."}`. Reading ([`Record::from_json`]) is lenient where the
//! schema allows two forms (a hash as an object or as pairs, a byte string
//! in either form); writing always produces the canonical form.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};

mod parse;
mod write;

/// A byte string (key, value, member, field, group or consumer name).
pub type Bytes = Vec<u8>;

/// One key with its value and expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Database number.
    pub db: u32,
    /// Key bytes.
    pub key: Bytes,
    /// Absolute expiry in Unix milliseconds, if the key has a TTL.
    pub expire_at_ms: Option<i64>,
    /// The value.
    pub data: Data,
    /// Hash fields that carry their own TTL (absolute Unix milliseconds).
    pub field_expire_at_ms: BTreeMap<Bytes, i64>,
}

/// A value of one of the six data types.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// String (also HyperLogLogs and bitmaps).
    String(Bytes),
    /// List in list order.
    List(Vec<Bytes>),
    /// Set.
    Set(BTreeSet<Bytes>),
    /// Sorted set in `ZRANGE` order: score ascending, ties by member bytes.
    ZSet(Vec<(Bytes, f64)>),
    /// Hash.
    Hash(BTreeMap<Bytes, Bytes>),
    /// Stream.
    Stream(Stream),
}

impl Data {
    /// The `type` field: `string`, `list`, `set`, `zset`, `hash` or `stream`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Data::String(_) => "string",
            Data::List(_) => "list",
            Data::Set(_) => "set",
            Data::ZSet(_) => "zset",
            Data::Hash(_) => "hash",
            Data::Stream(_) => "stream",
        }
    }
}

/// A stream ID `ms-seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for StreamId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (ms, seq) = s.split_once('-').ok_or_else(|| format!("stream ID {s:?} is not ms-seq"))?;
        let num = |p: &str| p.parse::<u64>().map_err(|_| format!("stream ID {s:?} is not ms-seq"));
        Ok(StreamId { ms: num(ms)?, seq: num(seq)? })
    }
}

/// A stream's content and consumer groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// Entries in ID order.
    pub entries: Vec<StreamEntry>,
    /// `XLEN`.
    pub length: u64,
    /// Last generated ID (may be above the last entry).
    pub last_id: StreamId,
    /// Consumer groups, sorted by name.
    pub groups: Vec<Group>,
    /// Idempotent-producer state (Redis 8.6+; `None` on servers without it).
    pub idmp: Option<Idmp>,
}

/// A stream's idempotent-producer state (`XADD ... IDMP`, Redis 8.6+).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Idmp {
    /// `idmp-duration`: seconds an idempotency ID is remembered.
    pub duration_s: u64,
    /// `idmp-maxsize`: IDs remembered per producer.
    pub max_entries: u64,
    /// Producers, sorted by ID.
    pub producers: Vec<IdmpProducer>,
    /// `iids-added`: IDs ever recorded.
    pub iids_added: u64,
    /// `iids-duplicates`: duplicates ever detected.
    pub iids_duplicates: u64,
}

/// One idempotent producer and the IDs it remembers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdmpProducer {
    /// Producer ID.
    pub pid: Bytes,
    /// `(idempotency ID, entry ID)`, oldest first (the order of eviction).
    pub entries: Vec<(Bytes, StreamId)>,
}

/// One stream entry.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamEntry {
    /// Entry ID.
    pub id: StreamId,
    /// Field/value pairs in entry order.
    pub fields: Vec<(Bytes, Bytes)>,
}

/// One consumer group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Group name.
    pub name: Bytes,
    /// Last delivered ID.
    pub last_id: StreamId,
    /// `entries-read` (7.0+), `None` where the server reports nil or lacks it.
    pub entries_read: Option<u64>,
    /// Pending entries list, sorted by ID.
    pub pending: Vec<Pending>,
    /// Consumer names, sorted.
    pub consumers: Vec<Bytes>,
}

/// One pending entry of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// Entry ID (the entry itself may have been deleted).
    pub id: StreamId,
    /// Owning consumer.
    pub consumer: Bytes,
    /// Delivery count.
    pub delivery_count: u64,
}

// ---------------------------------------------------------------------------
// Byte strings and scores
// ---------------------------------------------------------------------------

/// A byte string in its JSON form: a string when valid UTF-8, otherwise
/// `{"base64": "..."}`.
pub fn bytes_to_json(b: &[u8]) -> Json {
    match std::str::from_utf8(b) {
        Ok(s) => Json::String(s.to_owned()),
        Err(_) => {
            let mut m = Map::new();
            m.insert("base64".into(), Json::String(BASE64.encode(b)));
            Json::Object(m)
        }
    }
}

/// The bytes of a JSON byte string (either form).
pub fn json_to_bytes(v: &Json) -> Result<Bytes, String> {
    match v {
        Json::String(s) => Ok(s.as_bytes().to_vec()),
        Json::Object(m) if m.len() == 1 => match m.get("base64") {
            Some(Json::String(b64)) => BASE64.decode(b64).map_err(|e| format!("bad base64 {b64:?}: {e}")),
            _ => Err(format!("expected a string or {{\"base64\":..}}, got {v}")),
        },
        _ => Err(format!("expected a string or {{\"base64\":..}}, got {v}")),
    }
}

/// A score in its JSON form: a number, or `"inf"` / `"-inf"`.
pub fn score_to_json(score: f64) -> Json {
    if score == f64::INFINITY {
        Json::String("inf".into())
    } else if score == f64::NEG_INFINITY {
        Json::String("-inf".into())
    } else {
        Number::from_f64(score).map_or(Json::Null, Json::Number)
    }
}

/// A score from its JSON form (a number, or `"inf"`, `"+inf"`, `"-inf"`).
pub fn json_to_score(v: &Json) -> Result<f64, String> {
    match v {
        Json::Number(n) => n.as_f64().ok_or_else(|| format!("bad score {n}")),
        Json::String(s) => match s.as_str() {
            "inf" | "+inf" => Ok(f64::INFINITY),
            "-inf" => Ok(f64::NEG_INFINITY),
            _ => Err(format!("bad score {s:?}")),
        },
        _ => Err(format!("bad score {v}")),
    }
}

/// Short human-readable form of a byte string for messages: its JSON form,
/// cut after 40 characters.
pub fn show_bytes(b: &[u8]) -> String {
    const MAX: usize = 40;
    let text = bytes_to_json(b).to_string();
    if text.chars().count() <= MAX {
        text
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…({} bytes)", b.len())
    }
}

impl Stream {
    /// Sort groups by name, consumers by name and pending entries by ID, as
    /// the schema requires.
    pub fn canonicalize(&mut self) {
        self.groups.sort_by(|a, b| a.name.cmp(&b.name));
        for g in &mut self.groups {
            g.consumers.sort();
            g.pending.sort_by_key(|p| p.id);
        }
        if let Some(idmp) = &mut self.idmp {
            idmp.producers.sort_by(|a, b| a.pid.cmp(&b.pid));
        }
    }
}

impl Record {
    /// The `type` field.
    pub fn type_name(&self) -> &'static str {
        self.data.type_name()
    }

    /// The canonical JSON value of this record.
    pub fn to_json(&self) -> Json {
        write::to_json(self)
    }

    /// The canonical compact JSON text of this record, fields in schema
    /// order (no trailing newline).
    pub fn to_json_line(&self) -> String {
        write::to_json_line(self)
    }

    /// Parse a record in either allowed form. The error names the field.
    pub fn from_json(v: &Json) -> Result<Record, String> {
        parse::record(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_strings_round_trip_in_both_forms() {
        assert_eq!(bytes_to_json(b"plain"), Json::String("plain".into()));
        let bin = bytes_to_json(b"\xff\x00");
        assert_eq!(bin.to_string(), r#"{"base64":"/wA="}"#);
        assert_eq!(json_to_bytes(&bin), Ok(b"\xff\x00".to_vec()));
        // a surrogate encoded in UTF-8 form and an overlong NUL are not UTF-8
        assert!(bytes_to_json(b"\xed\xa0\x80").is_object());
        assert!(bytes_to_json(b"\xc0\x80").is_object());
        assert!(json_to_bytes(&Json::from(3)).is_err());
    }

    #[test]
    fn scores_use_strings_for_infinities() {
        assert_eq!(score_to_json(f64::INFINITY), Json::from("inf"));
        assert_eq!(score_to_json(3.0).to_string(), "3.0");
        assert_eq!(json_to_score(&Json::from("-inf")), Ok(f64::NEG_INFINITY));
        assert!(json_to_score(&Json::from("nan")).is_err());
    }

    fn parse(line: &str) -> Record {
        let v: Json = serde_json::from_str(line).expect("test JSON");
        Record::from_json(&v).expect("test record")
    }

    #[test]
    fn line_keeps_schema_field_order() {
        let line = r#"{"db":0,"key":"h","type":"hash","expire_at_ms":5,"value":{"db":"1","a":"2"},"field_expire_at_ms":{"db":7}}"#;
        let rec = parse(line);
        // hash fields are sorted by bytes, record fields keep schema order
        assert_eq!(
            rec.to_json_line(),
            r#"{"db":0,"key":"h","type":"hash","expire_at_ms":5,"value":{"a":"2","db":"1"},"field_expire_at_ms":{"db":7}}"#
        );
    }

    #[test]
    fn binary_hash_fields_become_pairs() {
        let line =
            r#"{"db":1,"key":"h","type":"hash","expire_at_ms":null,"value":[[{"base64":"/w=="},"x"],["a","y"]]}"#;
        let rec = parse(line);
        assert_eq!(
            rec.to_json_line(),
            r#"{"db":1,"key":"h","type":"hash","expire_at_ms":null,"value":[["a","y"],[{"base64":"/w=="},"x"]]}"#
        );
    }

    #[test]
    fn stream_round_trip() {
        let line = r#"{"db":0,"key":"s","type":"stream","expire_at_ms":null,"value":{"entries":[{"id":"1-1","fields":[["f","v"]]}],"length":1,"last_id":"2-0","groups":[{"name":"g","last_id":"1-1","entries_read":null,"pending":[{"id":"1-1","consumer":"c","delivery_count":2}],"consumers":[{"name":"c"}]}]}}"#;
        let rec = parse(line);
        assert_eq!(rec.to_json_line(), line);
        let line = r#"{"db":0,"key":"s","type":"stream","expire_at_ms":null,"value":{"entries":[],"length":0,"last_id":"2-0","groups":[],"idmp":{"duration_s":100,"max_entries":3,"producers":[{"pid":{"base64":"/w=="},"entries":[{"iid":"a","id":"2-0"},{"iid":"b","id":"1-0"}]}],"iids_added":4,"iids_duplicates":1}}}"#;
        let rec = parse(line);
        assert_eq!(rec.to_json_line(), line);
    }

    #[test]
    fn rejects_malformed_records() {
        let bad = [
            r#"{"db":0,"key":"k","type":"nope","value":1}"#,
            r#"{"db":0,"key":"k","type":"set","value":["a","a"]}"#,
            r#"{"db":0,"key":"k","type":"zset","value":[["a"]]}"#,
            r#"{"db":-1,"key":"k","type":"string","value":"v"}"#,
            r#"{"db":0,"key":"k","type":"stream","value":{"entries":[],"length":0,"last_id":"x","groups":[]}}"#,
            r#"{"db":0,"key":"k","type":"stream","value":{"entries":[],"length":0,"last_id":"0-0","groups":[],"idmp":{"duration_s":1}}}"#,
        ];
        for b in bad {
            let v: Json = serde_json::from_str(b).expect("test JSON");
            assert!(Record::from_json(&v).is_err(), "{b}");
        }
    }
}
