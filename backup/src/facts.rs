//! What a verifying read learns about an RDB: header, server version, keys per
//! database and the checksum (every value is still checked by the reader).

use std::collections::BTreeMap;

use rdb_parser::{Checksum, Header, KeyEnd, KeyStart, Visit, VisitError, VisitResult, Visitor};

/// Facts about one RDB.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdbFacts {
    /// Header (`REDIS0011`).
    pub header: String,
    /// `redis <redis-ver>` or `valkey <valkey-ver>` from the AUX fields.
    pub server_version: Option<String>,
    /// Keys per database.
    pub keys_per_db: BTreeMap<u64, u64>,
    /// The stored CRC-64 (hex), when the file has one.
    pub crc64: Option<String>,
    db: u64,
}

impl RdbFacts {
    /// Keys in all databases.
    pub fn keys(&self) -> u64 {
        self.keys_per_db.values().sum()
    }
}

impl Visitor for RdbFacts {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.header = h.label();
        Ok(())
    }
    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        let flavor = match key {
            b"valkey-ver" => "valkey",
            b"redis-ver" if self.server_version.is_none() => "redis",
            _ => return Ok(()),
        };
        self.server_version = Some(format!("{flavor} {}", String::from_utf8_lossy(value)));
        Ok(())
    }
    fn select_db(&mut self, db: u64) -> VisitResult {
        self.db = db;
        Ok(())
    }
    fn key_start(&mut self, _: &KeyStart<'_>) -> Result<Visit, VisitError> {
        // The reader still checks every value; nothing needs to be handed over.
        Ok(Visit::Skip)
    }
    fn key_end(&mut self, _: &KeyEnd) -> VisitResult {
        *self.keys_per_db.entry(self.db).or_default() += 1;
        Ok(())
    }
    fn end(&mut self, c: Checksum) -> VisitResult {
        if let Checksum::Ok(v) = c {
            self.crc64 = Some(format!("{v:016x}"));
        }
        Ok(())
    }
}
