//! Which payload version the server accepts, asked of the server itself.
//!
//! A server's version string does not always tell: a build of an unstable branch says
//! 255.255.255, so the newest known target would be picked and every payload refused.
//! The server's own `DUMP` of a probe key ends with the RDB version it writes (and so
//! accepts), two bytes before the CRC64.

use std::time::{SystemTime, UNIX_EPOCH};

use rdb_parser::Target;
use resp::{Frame, Link};

/// Expiry of the probe key (milliseconds), in case it is not deleted.
const PROBE_TTL_MS: &[u8] = b"60000";

/// The RDB version of the server's DUMP payloads: SET a uniquely named probe key (NX,
/// with an expiry), DUMP it, DEL it. `None` when the server does not let us (read-only
/// replica, ACL, out of memory) or answers something unexpected.
pub fn probe_payload_version(link: &mut Link) -> Option<u32> {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let key = format!("rdbkit:payload-probe:{}:{nanos:x}", std::process::id()).into_bytes();
    let set = link.call_for_key(&[b"SET", &key, b"1", b"NX", b"PX", PROBE_TTL_MS], &key).ok()?;
    if set == Frame::Null {
        return None;
    }
    let dump = link.call_for_key(&[b"DUMP", &key], &key);
    let _ = link.call_for_key(&[b"DEL", &key], &key);
    payload_version(dump.ok()?.as_bytes()?)
}

/// The RDB version in a DUMP payload's footer (little endian, before the CRC64).
pub fn payload_version(payload: &[u8]) -> Option<u32> {
    let n = payload.len();
    let footer = payload.get(n.checked_sub(10)?..n - 8)?;
    Some(u32::from(u16::from_le_bytes([footer[0], footer[1]])))
}

/// The target for a server of this flavor and version whose payloads have version
/// `probed` (when known): the target its version string gives, unless that target
/// writes a newer version than the server accepts; then the newest target of the
/// flavor writing the probed version (or the newest older one).
pub fn pick_target(valkey: bool, version: (u32, u32, u32), probed: Option<u32>) -> Option<Target> {
    let by_version = Target::for_server(valkey, (version.0, version.1))?;
    let Some(probed) = probed.filter(|&p| p < by_version.version()) else { return Some(by_version) };
    let flavor = if valkey { "valkey-" } else { "redis-" };
    let same_flavor: Vec<Target> =
        Target::names().filter(|n| n.starts_with(flavor)).filter_map(Target::named).collect();
    let newest = |pred: &dyn Fn(u32) -> bool| same_flavor.iter().rev().find(|t| pred(t.version())).cloned();
    newest(&|v| v == probed).or_else(|| newest(&|v| v < probed)).or_else(|| Target::for_version(probed, valkey).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(valkey: bool, version: (u32, u32, u32), probed: Option<u32>) -> String {
        pick_target(valkey, version, probed).map(|t| t.name).unwrap_or_default()
    }

    #[test]
    fn released_versions_keep_their_target() {
        for (valkey, version, probed, want) in [
            (false, (5, 0, 10), 9, "redis-5.0"),
            (false, (6, 2, 14), 9, "redis-6.2"),
            (false, (7, 0, 15), 10, "redis-7.0"),
            (false, (7, 2, 4), 11, "redis-7.2"),
            (false, (8, 0, 6), 12, "redis-8.0"),
            (false, (8, 6, 3), 13, "redis-8.6"),
            (true, (8, 1, 8), 11, "valkey-8.1"),
            (true, (9, 1, 2), 80, "valkey-9.1"),
        ] {
            assert_eq!(name(valkey, version, Some(probed)), want, "{version:?}");
            assert_eq!(name(valkey, version, None), want, "{version:?} without a probe");
        }
    }

    #[test]
    fn the_probe_wins_over_an_unstable_version_string() {
        assert_eq!(name(false, (255, 255, 255), None), "redis-8.10");
        assert_eq!(name(false, (255, 255, 255), Some(12)), "redis-8.4");
        assert_eq!(name(false, (255, 255, 255), Some(13)), "redis-8.6");
        assert_eq!(name(false, (255, 255, 255), Some(14)), "redis-8.8");
        assert_eq!(name(false, (255, 255, 255), Some(99)), "redis-8.10", "newer than known: the newest");
        assert_eq!(name(true, (255, 255, 255), Some(11)), "valkey-8.1");
        assert_eq!(name(false, (8, 4, 0), Some(10)), "redis-7.0");
        assert_eq!(payload_version(&[0, 1, 2, 12, 0, 1, 2, 3, 4, 5, 6, 7, 8]), Some(12));
        assert_eq!(payload_version(&[1, 2, 3]), None);
    }
}
