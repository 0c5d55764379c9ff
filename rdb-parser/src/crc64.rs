//! CRC-64 "Jones" as Redis computes it (reflected, init 0, no final XOR).

use crc::{Crc, Digest, Table, CRC_64_REDIS};

/// The algorithm, slice-by-16 tables.
static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// Incremental CRC-64 over a byte stream.
#[derive(Clone)]
pub struct Crc64 {
    digest: Digest<'static, u64, Table<16>>,
}

impl Crc64 {
    /// A new checksum over zero bytes.
    pub fn new() -> Self {
        Crc64 { digest: CRC64.digest() }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.digest.update(bytes);
    }

    /// The checksum of everything added so far.
    pub fn value(&self) -> u64 {
        self.digest.clone().finalize()
    }
}

impl Default for Crc64 {
    fn default() -> Self {
        Crc64::new()
    }
}

/// CRC-64 of one buffer.
pub fn crc64(bytes: &[u8]) -> u64 {
    CRC64.checksum(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(crc64(b"123456789"), 0xe9c6_d914_c4b8_d9ca);
    }

    #[test]
    fn incremental_equals_whole() {
        let mut c = Crc64::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.value(), crc64(b"123456789"));
    }

    #[test]
    fn worked_example_from_format_doc() {
        // REDIS0011, SELECTDB 0, RESIZEDB 1 0, "foo" = "bar", EOF.
        let file = b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x03foo\x03bar\xff";
        assert_eq!(crc64(file), 0x95ab_6e67_4cb9_868d);
    }
}
