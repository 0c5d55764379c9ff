//! The manifest of a backup (`snapshots/<id>.json`): what was backed up, from where,
//! and how to check every stored byte.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::compress::Compression;

/// Version of the manifest format this library writes.
pub const FORMAT: u32 = 1;

/// One backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Manifest format version.
    pub format: u32,
    /// The backup ID (see [`crate::repo::layout`]).
    pub id: String,
    /// When the backup started (UTC).
    pub time: DateTime<Utc>,
    /// Seconds from start to the manifest being written.
    pub duration_seconds: f64,
    /// The program that wrote it, `rdbkit 0.1.0`.
    pub tool: String,
    /// Where the data came from.
    pub source: SourceInfo,
    /// Compression of every part.
    pub compression: Compression,
    /// The stored files.
    pub parts: Vec<Part>,
    /// Keys in all parts.
    pub keys: u64,
    /// Bytes before compression, all parts.
    pub raw_bytes: u64,
    /// Bytes stored, all parts.
    pub stored_bytes: u64,
}

/// The source of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// `server`, `sentinel`, `cluster`, `rdb-file` or `aof-dir`.
    pub kind: String,
    /// The source as given, without password.
    pub name: String,
    /// The node the snapshot came from (Sentinel: the replica or master picked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// `replica` or `master` (Sentinel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// What a stored file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartKind {
    /// An RDB file (a snapshot, a shard, an AOF base).
    Rdb,
    /// An AOF file of commands.
    Aof,
    /// The manifest of an AOF directory.
    AofManifest,
}

/// One stored file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// The object in the repository.
    pub object: String,
    /// The file's own name (what a restore writes).
    pub file: String,
    /// What it holds.
    pub kind: PartKind,
    /// The server it came from (`host:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Hash slots the node served (cluster shards), inclusive ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<[u16; 2]>,
    /// Server flavor and version (`redis 7.0.15`), from INFO or the RDB's AUX fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// RDB header (`REDIS0011`, `VALKEY080`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdb_version: Option<String>,
    /// Keys per database.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys_per_db: BTreeMap<u64, u64>,
    /// Keys in all databases.
    pub keys: u64,
    /// The RDB's CRC-64 as stored in its trailer (hex), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdb_crc64: Option<String>,
    /// Bytes before compression.
    pub raw_bytes: u64,
    /// Bytes stored.
    pub stored_bytes: u64,
    /// SHA-256 of the stored bytes (hex).
    pub sha256: String,
}

impl Manifest {
    /// Parses a manifest, refusing formats newer than this library knows.
    pub fn from_json(bytes: &[u8]) -> std::result::Result<Manifest, String> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| format!("not a backup manifest: {e}"))?;
        if m.format > FORMAT {
            return Err(format!("manifest format {} is newer than this rdbkit reads ({FORMAT})", m.format));
        }
        Ok(m)
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_round_trip_and_refuse_newer_formats() -> std::result::Result<(), String> {
        let m = Manifest {
            format: FORMAT,
            id: "20260601T030000Z-abcdef".into(),
            time: DateTime::from_timestamp(1_780_282_800, 0).ok_or("time")?,
            duration_seconds: 1.5,
            tool: "rdbkit 0.1.0".into(),
            source: SourceInfo { kind: "server".into(), name: "redis://h:6379".into(), node: None, role: None },
            compression: Compression::Zstd,
            parts: vec![Part {
                object: "data/20260601T030000Z-abcdef/dump.rdb.zst".into(),
                file: "dump.rdb".into(),
                kind: PartKind::Rdb,
                node: Some("h:6379".into()),
                slots: vec![[0, 5460]],
                server_version: Some("redis 7.0.15".into()),
                rdb_version: Some("REDIS0010".into()),
                keys_per_db: BTreeMap::from([(0, 10), (3, 2)]),
                keys: 12,
                rdb_crc64: Some("00ff".into()),
                raw_bytes: 100,
                stored_bytes: 50,
                sha256: "ab".into(),
            }],
            keys: 12,
            raw_bytes: 100,
            stored_bytes: 50,
        };
        let json = m.to_json();
        assert_eq!(Manifest::from_json(&json)?, m);
        let text = String::from_utf8_lossy(&json).replace("\"format\": 1", "\"format\": 99");
        assert!(Manifest::from_json(text.as_bytes()).is_err());
        assert!(Manifest::from_json(b"{}").is_err());
        Ok(())
    }
}
