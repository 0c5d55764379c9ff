//! Totals over all keys: by database, type and encoding, expiries, the biggest keys and
//! elements, and the prefix tree. Memory stays bounded: two top-N heaps and the tree.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use rdb_parser::memory::{Encoding, KeyMemory};
use rdb_parser::Kind;
use serde_json::{json, Value};

use super::prefix::PrefixTree;
use crate::output::json as jsonout;

/// Keys and bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub keys: u64,
    pub bytes: u64,
}

impl Totals {
    pub fn add(&mut self, bytes: u64) {
        self.keys += 1;
        self.bytes += bytes;
    }

    fn json(self) -> Value {
        json!({"keys": self.keys, "bytes": self.bytes})
    }
}

/// Upper bounds of the expiry histogram (time left, milliseconds) and their labels.
pub const EXPIRY_BUCKETS: [(i64, &str); 7] = [
    (0, "expired"),
    (3_600_000, "< 1 hour"),
    (86_400_000, "< 1 day"),
    (7 * 86_400_000, "< 1 week"),
    (30 * 86_400_000, "< 30 days"),
    (365 * 86_400_000, "< 1 year"),
    (i64::MAX, "1 year or more"),
];

/// A key ranked by a score; ties keep the key seen first.
#[derive(Debug)]
struct Ranked {
    score: u64,
    seq: Reverse<u64>,
    key: KeyMemory,
}

impl PartialEq for Ranked {
    fn eq(&self, o: &Self) -> bool {
        (self.score, self.seq) == (o.score, o.seq)
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.score, self.seq).cmp(&(o.score, o.seq))
    }
}

/// The `n` keys with the highest scores.
#[derive(Debug)]
pub struct TopN {
    n: usize,
    heap: BinaryHeap<Reverse<Ranked>>,
}

impl TopN {
    pub fn new(n: usize) -> TopN {
        TopN { n, heap: BinaryHeap::with_capacity(n + 1) }
    }

    pub fn offer(&mut self, score: u64, seq: u64, key: &KeyMemory) {
        if self.n == 0 {
            return;
        }
        if self.heap.len() == self.n {
            match self.heap.peek() {
                Some(Reverse(min)) if (score, Reverse(seq)) > (min.score, min.seq) => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push(Reverse(Ranked { score, seq: Reverse(seq), key: key.clone() }));
    }

    /// Highest first.
    pub fn sorted(&self) -> Vec<&KeyMemory> {
        let mut v: Vec<&Ranked> = self.heap.iter().map(|r| &r.0).collect();
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter().map(|r| &r.key).collect()
    }
}

/// Everything the summary shows.
#[derive(Debug)]
pub struct Summary {
    pub total: Totals,
    pub by_db: BTreeMap<u64, Totals>,
    pub by_type: BTreeMap<Kind, Totals>,
    pub by_encoding: BTreeMap<(Kind, Encoding), Totals>,
    pub expiring: Totals,
    pub persistent: Totals,
    pub expiry: [Totals; EXPIRY_BUCKETS.len()],
    pub top: TopN,
    pub top_elements: TopN,
    pub prefixes: Option<PrefixTree>,
    /// Expiries are measured from this time (the dump's creation time, or now).
    pub reference_ms: i64,
}

impl Summary {
    pub fn new(top: usize, prefixes: Option<PrefixTree>) -> Summary {
        Summary {
            total: Totals::default(),
            by_db: BTreeMap::new(),
            by_type: BTreeMap::new(),
            by_encoding: BTreeMap::new(),
            expiring: Totals::default(),
            persistent: Totals::default(),
            expiry: [Totals::default(); EXPIRY_BUCKETS.len()],
            top: TopN::new(top),
            top_elements: TopN::new(top),
            prefixes,
            reference_ms: 0,
        }
    }

    pub fn add(&mut self, k: &KeyMemory) {
        let b = k.size_in_bytes;
        let seq = self.total.keys;
        self.total.add(b);
        self.by_db.entry(k.db).or_default().add(b);
        self.by_type.entry(k.kind).or_default().add(b);
        self.by_encoding.entry((k.kind, k.encoding)).or_default().add(b);
        match k.expire_at_ms {
            Some(at) => {
                self.expiring.add(b);
                let left = at.saturating_sub(self.reference_ms);
                let i = EXPIRY_BUCKETS.iter().position(|&(limit, _)| left < limit).unwrap_or(EXPIRY_BUCKETS.len() - 1);
                self.expiry[i].add(b);
            }
            None => self.persistent.add(b),
        }
        self.top.offer(b, seq, k);
        self.top_elements.offer(k.len_largest_element, seq, k);
        if let Some(t) = &mut self.prefixes {
            t.add(&k.key, b);
        }
    }

    /// The summary as one JSON document (`--format summary-json`, the HTML report).
    pub fn to_json(&self, about: Value, max_children: usize) -> Value {
        let by_db: Vec<Value> =
            self.by_db.iter().map(|(db, t)| json!({"db": db, "keys": t.keys, "bytes": t.bytes})).collect();
        let by_type: Vec<Value> =
            self.by_type.iter().map(|(k, t)| json!({"type": k.name(), "keys": t.keys, "bytes": t.bytes})).collect();
        let by_encoding: Vec<Value> = self
            .by_encoding
            .iter()
            .map(|((k, e), t)| json!({"type": k.name(), "encoding": e.name(), "keys": t.keys, "bytes": t.bytes}))
            .collect();
        let histogram: Vec<Value> = EXPIRY_BUCKETS
            .iter()
            .zip(&self.expiry)
            .map(|((_, label), t)| json!({"left": label, "keys": t.keys, "bytes": t.bytes}))
            .collect();
        json!({
            "about": about,
            "total": self.total.json(),
            "by_db": by_db,
            "by_type": by_type,
            "by_encoding": by_encoding,
            "expiry": {
                "reference_ms": self.reference_ms,
                "with_expiry": self.expiring.json(),
                "without_expiry": self.persistent.json(),
                "histogram": histogram,
            },
            "top_keys": self.top.sorted().into_iter().map(key_json).collect::<Vec<_>>(),
            "top_elements": self.top_elements.sorted().into_iter().map(key_json).collect::<Vec<_>>(),
            "prefixes": self.prefixes.as_ref().map(|t| t.to_json(max_children)),
        })
    }
}

/// A key as the summary lists it; `name` is a printable form of the key.
fn key_json(k: &KeyMemory) -> Value {
    let mut raw = Vec::new();
    jsonout::bytes(&mut raw, &k.key);
    let key: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    json!({
        "db": k.db,
        "key": key,
        "name": rdb_parser::escape_bytes(&k.key, 200),
        "type": k.kind.name(),
        "encoding": k.encoding.name(),
        "size_in_bytes": k.size_in_bytes,
        "num_elements": k.num_elements,
        "len_largest_element": k.len_largest_element,
        "expire_at_ms": k.expire_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, bytes: u64) -> KeyMemory {
        KeyMemory {
            db: 0,
            key: name.as_bytes().to_vec(),
            kind: Kind::String,
            encoding: Encoding::Raw,
            size_in_bytes: bytes,
            num_elements: 1,
            len_largest_element: bytes / 2,
            expire_at_ms: None,
        }
    }

    #[test]
    fn top_n_keeps_the_biggest_and_the_first_of_ties() {
        let mut t = TopN::new(2);
        for (i, (name, b)) in [("a", 5), ("b", 9), ("c", 9), ("d", 1), ("e", 7)].into_iter().enumerate() {
            t.offer(b, i as u64, &key(name, b));
        }
        let names: Vec<&[u8]> = t.sorted().iter().map(|k| k.key.as_slice()).collect();
        assert_eq!(names, [&b"b"[..], b"c"]);
    }

    #[test]
    fn totals_agree() {
        let mut s = Summary::new(3, None);
        s.reference_ms = 1000;
        let mut k = key("x", 10);
        s.add(&k);
        k.expire_at_ms = Some(500);
        s.add(&k);
        k.expire_at_ms = Some(1000 + 7_200_000);
        s.add(&k);
        assert_eq!(s.total, Totals { keys: 3, bytes: 30 });
        assert_eq!(s.expiring.keys + s.persistent.keys, 3);
        assert_eq!(s.expiry[0].keys, 1);
        assert_eq!(s.expiry[2].keys, 1);
    }
}
