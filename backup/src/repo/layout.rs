//! Object names in a repository (the same on every backend):
//!
//! ```text
//! snapshots/<id>.json      the manifest: written last, so a backup is complete once it exists
//! data/<id>/<file>         the backup's parts (one per server, shard or AOF file)
//! locks/<lock id>.json     who is using the repository
//! tmp/                     objects being written (local directories only)
//! ```
//!
//! A backup ID is the UTC start time and a random suffix, `20260601T030000Z-4f2a9c`,
//! so IDs sort by time.

use chrono::{DateTime, NaiveDateTime, Utc};

/// Prefix of the manifests.
pub const SNAPSHOTS: &str = "snapshots/";
/// Prefix of the backups' data.
pub const DATA: &str = "data/";
/// Prefix of the locks.
pub const LOCKS: &str = "locks/";
/// Prefix of objects being written (see [`crate::backend::local`]).
pub const TMP: &str = "tmp/";

const ID_TIME: &str = "%Y%m%dT%H%M%SZ";

/// A new backup ID for a backup started at `time`.
pub fn new_id(time: DateTime<Utc>) -> String {
    format!("{}-{:06x}", time.format(ID_TIME), fastrand::u32(..0x100_0000))
}

/// The start time encoded in an ID.
pub fn id_time(id: &str) -> Option<DateTime<Utc>> {
    let stamp = id.split('-').next()?;
    NaiveDateTime::parse_from_str(stamp, ID_TIME).ok().map(|t| t.and_utc())
}

/// True for a well-formed backup ID (safe to use in object names).
pub fn is_id(id: &str) -> bool {
    match id.split_once('-') {
        Some((_, suffix)) => {
            id_time(id).is_some() && !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// The manifest of backup `id`.
pub fn manifest(id: &str) -> String {
    format!("{SNAPSHOTS}{id}.json")
}

/// The backup ID of a manifest name.
pub fn manifest_id(name: &str) -> Option<&str> {
    name.strip_prefix(SNAPSHOTS)?.strip_suffix(".json").filter(|id| is_id(id))
}

/// The prefix of backup `id`'s data.
pub fn data_prefix(id: &str) -> String {
    format!("{DATA}{id}/")
}

/// The object holding `file` of backup `id`.
pub fn data_object(id: &str, file: &str) -> String {
    format!("{DATA}{id}/{file}")
}

/// The backup ID of a data object name.
pub fn data_id(name: &str) -> Option<&str> {
    name.strip_prefix(DATA)?.split('/').next().filter(|id| is_id(id))
}

/// The lock object of lock `id`.
pub fn lock(id: &str) -> String {
    format!("{LOCKS}{id}.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ids_sort_by_time_and_name_their_objects() {
        let t = Utc.with_ymd_and_hms(2026, 6, 1, 3, 0, 5).single().expect("a time");
        let id = new_id(t);
        assert!(id.starts_with("20260601T030005Z-") && id.len() == 23, "{id}");
        assert!(is_id(&id));
        assert_eq!(id_time(&id), Some(t));
        let later = new_id(t + chrono::Duration::seconds(1));
        assert!(later > id);
        assert_eq!(manifest_id(&manifest(&id)), Some(id.as_str()));
        assert_eq!(data_id(&data_object(&id, "dump.rdb.zst")), Some(id.as_str()));
        assert_eq!(data_prefix(&id), format!("data/{id}/"));
        for bad in ["", "x", "20260601T030005Z", "20260601T030005Z-", "2026-06-01-x", "20260601T030005Z-a/b"] {
            assert!(!is_id(bad), "{bad}");
        }
        assert_eq!(manifest_id("snapshots/notanid.json"), None);
        assert_eq!(data_id("data/x/y"), None);
    }
}
