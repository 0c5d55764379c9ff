//! The 9-byte header: magic, version and the dialect they imply.

use crate::error::{Error, ErrorKind, Result};

/// Which numbering of types and opcodes a file uses.
///
/// Types 0–21 and the classic opcodes mean the same everywhere; after RDB 11 Redis and
/// Valkey assigned the remaining numbers differently, so the header decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `REDIS0001`–`REDIS0011`: understood by both Redis and Valkey.
    Common,
    /// `REDIS0012` and later: Redis 7.4+ numbering.
    Redis,
    /// `VALKEY080` and later: Valkey 9+ numbering.
    Valkey,
}

impl Dialect {
    /// Lower-case name used in messages and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Common => "common",
            Dialect::Redis => "redis",
            Dialect::Valkey => "valkey",
        }
    }
}

/// Newest `REDIS` version this reader accepts.
pub const MAX_REDIS_VERSION: u32 = 15;
/// The `VALKEY` versions this reader accepts.
pub const VALKEY_VERSIONS: std::ops::RangeInclusive<u32> = 80..=80;

/// A parsed RDB header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// `"REDIS"` or `"VALKEY"`.
    pub magic: &'static str,
    /// The version number from the header digits.
    pub version: u32,
    /// The dialect the version implies.
    pub dialect: Dialect,
}

impl Header {
    /// Length of the header in bytes.
    pub const LEN: usize = 9;

    /// Builds the header for a version, choosing the magic and dialect the way servers do.
    pub fn for_version(version: u32) -> Result<Header> {
        let (magic, dialect) = match version {
            1..=11 => ("REDIS", Dialect::Common),
            12..=MAX_REDIS_VERSION => ("REDIS", Dialect::Redis),
            v if VALKEY_VERSIONS.contains(&v) => ("VALKEY", Dialect::Valkey),
            v => {
                return Err(Error::new(
                    0,
                    ErrorKind::UnsupportedVersion { magic: if v >= 80 { "VALKEY" } else { "REDIS" }, version: v },
                ))
            }
        };
        Ok(Header { magic, version, dialect })
    }

    /// Parses the first nine bytes of a file.
    pub fn parse(bytes: &[u8; 9]) -> Result<Header> {
        let bad = || Error::new(0, ErrorKind::BadMagic(String::from_utf8_lossy(bytes).into_owned()));
        let (magic, digits): (&'static str, &[u8]) = if bytes.starts_with(b"REDIS") {
            ("REDIS", &bytes[5..])
        } else if bytes.starts_with(b"VALKEY") {
            ("VALKEY", &bytes[6..])
        } else {
            return Err(bad());
        };
        if !digits.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let version = digits.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
        let unsupported = || Error::new(0, ErrorKind::UnsupportedVersion { magic, version });
        let dialect = match (magic, version) {
            ("REDIS", 1..=11) => Dialect::Common,
            ("REDIS", 12..=MAX_REDIS_VERSION) => Dialect::Redis,
            ("VALKEY", v) if VALKEY_VERSIONS.contains(&v) => Dialect::Valkey,
            _ => return Err(unsupported()),
        };
        Ok(Header { magic, version, dialect })
    }

    /// A header of a version newer than this reader knows (`REDIS` above
    /// [`MAX_REDIS_VERSION`] in the Redis dialect, `VALKEY` above the known versions in
    /// the Valkey dialect), for relaxed reading; `None` for anything else.
    pub fn newer(bytes: &[u8; 9]) -> Option<Header> {
        let digits = if bytes.starts_with(b"REDIS") { &bytes[5..] } else { bytes.get(6..)? };
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let version = digits.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
        match (bytes.starts_with(b"REDIS"), bytes.starts_with(b"VALKEY")) {
            (true, _) if (MAX_REDIS_VERSION + 1..80).contains(&version) => {
                Some(Header { magic: "REDIS", version, dialect: Dialect::Redis })
            }
            (_, true) if version > *VALKEY_VERSIONS.end() => {
                Some(Header { magic: "VALKEY", version, dialect: Dialect::Valkey })
            }
            _ => None,
        }
    }

    /// The nine header bytes.
    pub fn to_bytes(&self) -> [u8; 9] {
        let text = match self.magic {
            "VALKEY" => format!("VALKEY{:03}", self.version),
            _ => format!("REDIS{:04}", self.version),
        };
        let mut out = [0u8; 9];
        out.copy_from_slice(text.as_bytes());
        out
    }

    /// The header as text, e.g. `REDIS0011` or `VALKEY080`.
    pub fn label(&self) -> String {
        String::from_utf8_lossy(&self.to_bytes()).into_owned()
    }

    /// Whether the file ends with an 8-byte CRC64 after the EOF opcode (RDB 5 and later).
    pub fn has_checksum(&self) -> bool {
        self.version >= 5
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Header> {
        Header::parse(s.as_bytes().try_into().expect("9 bytes"))
    }

    #[test]
    fn dialects_follow_the_version() {
        assert_eq!(parse("REDIS0003").map(|h| h.dialect).ok(), Some(Dialect::Common));
        assert_eq!(parse("REDIS0011").map(|h| h.dialect).ok(), Some(Dialect::Common));
        assert_eq!(parse("REDIS0012").map(|h| h.dialect).ok(), Some(Dialect::Redis));
        assert_eq!(parse("VALKEY080").map(|h| h.dialect).ok(), Some(Dialect::Valkey));
    }

    #[test]
    fn rejects_unknown_versions_and_magic() {
        assert!(matches!(parse("REDIS0099").map_err(|e| e.kind().to_string()), Err(m) if m.contains("99")));
        assert!(parse("REDIS0000").is_err());
        assert!(parse("VALKEY011").is_err());
        assert!(parse("REDIS0080").is_err());
        assert!(matches!(parse("*2\r\n$3\r\nS").map_err(|e| matches!(e.kind(), ErrorKind::BadMagic(_))), Err(true)));
        assert!(parse("REDIS00x1").is_err());
    }

    #[test]
    fn newer_versions_for_relaxed_reading() {
        assert_eq!(Header::newer(b"REDIS0016").map(|h| (h.version, h.dialect)), Some((16, Dialect::Redis)));
        assert_eq!(Header::newer(b"VALKEY081").map(|h| (h.version, h.dialect)), Some((81, Dialect::Valkey)));
        assert!(Header::newer(b"REDIS0011").is_none() && Header::newer(b"REDIS0080").is_none());
        assert!(Header::newer(b"VALKEY080").is_none() && Header::newer(b"RDB000016").is_none());
    }

    #[test]
    fn round_trips_bytes() {
        for v in [1, 9, 12, 80] {
            let h = Header::for_version(v).expect("known version");
            assert_eq!(Header::parse(&h.to_bytes()).expect("parses"), h);
        }
    }
}
