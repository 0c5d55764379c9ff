//! Absolute expiry times known from the way keys were written.
//!
//! Before 7.0 a server can only report a remaining TTL (`PTTL`), which is
//! relative to "now" and therefore not exact. The dataset only ever sets
//! absolute times (`PEXPIREAT`) and records them here, so that
//! [`crate::live::dump_live`] can report the exact value after checking it
//! against `PTTL`.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use crate::record::{Bytes, Record};

/// `(db, key) -> absolute expiry in Unix milliseconds`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryLog {
    map: BTreeMap<(u32, Bytes), i64>,
}

impl ExpiryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remember that `key` in `db` expires at `at_ms`.
    pub fn record(&mut self, db: u32, key: &[u8], at_ms: i64) {
        self.map.insert((db, key.to_vec()), at_ms);
    }

    /// The recorded expiry of `key` in `db`.
    pub fn get(&self, db: u32, key: &[u8]) -> Option<i64> {
        self.map.get(&(db, key.to_vec())).copied()
    }

    /// Number of keys with a recorded expiry.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The expiries listed in NDJSON records (e.g. a fixture's
    /// `expected.ndjson`), for reading back a server that loaded that
    /// fixture on a version without `PEXPIRETIME`.
    pub fn from_records(records: &[Json]) -> Result<Self, String> {
        let mut log = ExpiryLog::new();
        for (i, v) in records.iter().enumerate() {
            let rec = Record::from_json(v).map_err(|e| format!("record {}: {e}", i + 1))?;
            if let Some(ms) = rec.expire_at_ms {
                log.record(rec.db, &rec.key, ms);
            }
        }
        Ok(log)
    }
}
