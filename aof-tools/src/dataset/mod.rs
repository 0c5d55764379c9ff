//! The dataset an AOF builds: databases of keys, each with a value and an expiry, plus
//! function libraries. Values are kept compact (no per-element metadata beyond what the
//! commands need) and their size is accounted against a memory budget.
//!
//! Approximate bytes per key, measured on x86-64: 80 + key + value for a string; a list
//! element costs 16 + its length, a set member 24 + length, a hash field 48 + field +
//! value, a sorted-set member 2 × (24 + length) + 16 (it is indexed by member and by
//! score), a stream entry 64 + its fields.

pub mod convert;
mod stream;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

pub use stream::{Consumer, Group, Idmp, Nack, Stream, IDMP_DEFAULTS};

/// Byte strings: keys, members, fields, values.
pub type Bytes = Box<[u8]>;
/// Hash map with a fast hasher.
pub type Map<K, V> = hashbrown::HashMap<K, V>;
/// Hash set with a fast hasher.
pub type Set<K> = hashbrown::HashSet<K>;

/// A score with a total order (scores are never NaN).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.partial_cmp(&other.0).unwrap_or(std::cmp::Ordering::Equal)
    }
}

/// A sorted set: score by member, and members ordered by (score, member).
#[derive(Debug, Clone, Default)]
pub struct ZSet {
    /// Member → score.
    pub scores: Map<Bytes, f64>,
    /// (score, member) in ZRANGE order.
    pub order: BTreeSet<(Score, Bytes)>,
}

impl ZSet {
    /// Sets a member's score; returns the previous one.
    pub fn insert(&mut self, member: &[u8], score: f64) -> Option<f64> {
        match self.scores.get_mut(member) {
            Some(s) => {
                let old = std::mem::replace(s, score);
                if old.to_bits() != score.to_bits() {
                    // One allocation serves the lookup and the re-insertion.
                    let mut key = (Score(old), Bytes::from(member));
                    if let Some(taken) = self.order.take(&key) {
                        key.1 = taken.1;
                    }
                    key.0 = Score(score);
                    self.order.insert(key);
                }
                Some(old)
            }
            None => {
                self.scores.insert(member.into(), score);
                self.order.insert((Score(score), member.into()));
                None
            }
        }
    }

    /// Removes a member; returns its score.
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let old = self.scores.remove(member)?;
        self.order.remove(&(Score(old), Bytes::from(member)));
        Some(old)
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }
}

/// A hash field's value and its own expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The value.
    pub value: Bytes,
    /// Absolute expiry in ms, if any.
    pub expire_at_ms: Option<i64>,
}

/// A value.
#[derive(Debug, Clone)]
pub enum Value {
    /// String (also bitmaps and HyperLogLogs).
    Str(Vec<u8>),
    /// List, head first.
    List(VecDeque<Bytes>),
    /// Set.
    Set(Set<Bytes>),
    /// Sorted set.
    ZSet(Box<ZSet>),
    /// Hash.
    Hash(Box<Map<Bytes, Field>>),
    /// Stream.
    Stream(Box<Stream>),
}

impl Value {
    /// The type name, as TYPE says it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Hash(_) => "hash",
            Value::Stream(_) => "stream",
        }
    }

    /// True for a collection without elements (which servers delete).
    pub fn is_empty_collection(&self) -> bool {
        match self {
            Value::Str(_) | Value::Stream(_) => false,
            Value::List(l) => l.is_empty(),
            Value::Set(s) => s.is_empty(),
            Value::ZSet(z) => z.is_empty(),
            Value::Hash(h) => h.is_empty(),
        }
    }

    /// Approximate heap bytes (see the module documentation).
    pub fn approx_bytes(&self) -> u64 {
        let n = match self {
            Value::Str(s) => s.capacity(),
            Value::List(l) => l.iter().map(|e| 16 + e.len()).sum(),
            Value::Set(s) => s.iter().map(|e| 24 + e.len()).sum(),
            Value::ZSet(z) => z.scores.keys().map(|m| 64 + 2 * m.len()).sum(),
            Value::Hash(h) => h.iter().map(|(f, v)| 48 + f.len() + v.value.len()).sum(),
            Value::Stream(s) => s.approx_bytes(),
        };
        n as u64
    }
}

/// A key's value and expiry.
#[derive(Debug, Clone)]
pub struct Slot {
    /// The value.
    pub value: Value,
    /// Absolute expiry in Unix ms.
    pub expire_at_ms: Option<i64>,
}

/// One database.
pub type Db = Map<Bytes, Slot>;

/// Every database and the function libraries.
#[derive(Debug, Default)]
pub struct Dataset {
    /// Databases by index (grown on demand).
    pub dbs: Vec<Db>,
    /// Function libraries: name → code.
    pub functions: BTreeMap<Vec<u8>, Vec<u8>>,
}

/// Bytes of bookkeeping per key (map slot, key box, value header).
pub const KEY_OVERHEAD: u64 = 80;

impl Dataset {
    /// An empty dataset with the servers' 16 databases.
    pub fn new() -> Self {
        Dataset { dbs: (0..16).map(|_| Db::default()).collect(), functions: BTreeMap::new() }
    }

    /// Database `db`, created if needed.
    pub fn db(&mut self, db: usize) -> &mut Db {
        if db >= self.dbs.len() {
            self.dbs.resize_with(db + 1, Db::default);
        }
        &mut self.dbs[db]
    }

    /// Keys in all databases.
    pub fn keys(&self) -> usize {
        self.dbs.iter().map(|d| d.len()).sum()
    }

    /// Approximate memory of the whole dataset (walks everything; for reports).
    pub fn approx_bytes(&self) -> u64 {
        let keys: u64 = self
            .dbs
            .iter()
            .flat_map(|d| d.iter())
            .map(|(k, s)| KEY_OVERHEAD + k.len() as u64 + s.value.approx_bytes())
            .sum();
        keys + self.functions.values().map(|c| c.len() as u64).sum::<u64>()
    }
}
