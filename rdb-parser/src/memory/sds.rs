//! sds strings: header types and allocation sizes.

use super::profile::{Profile, Rules};

/// Header bytes of the sds type chosen for a string of `len` bytes.
///
/// Redis picks the smallest type whose length field holds `len`; Valkey (`valkey`) the
/// smallest whose range also holds header + string + NUL. Types: 5 (1 byte, under 32
/// bytes), 8 (3), 16 (5), 32 (9), 64 (17).
pub fn header_for_type(len: u64, valkey: bool) -> u64 {
    let fits = |hdr: u64, max: u64| if valkey { len + hdr < max } else { len < max };
    if len < 32 {
        1
    } else if fits(3, 1 << 8) {
        3
    } else if fits(5, 1 << 16) {
        5
    } else if fits(9, 1 << 32) {
        9
    } else {
        17
    }
}

/// Header bytes of a string made by `sdsnewlen`, which never uses type 5 for the empty
/// string.
pub fn header(len: u64, valkey: bool) -> u64 {
    if len == 0 {
        3
    } else {
        header_for_type(len, valkey)
    }
}

impl Profile {
    /// sds header of a string created with `sdsnewlen`.
    pub(crate) fn sds_hdr(&self, len: u64) -> u64 {
        header(len, self.valkey_sds())
    }

    /// What `MEMORY USAGE` counts for an sds of `len` bytes: Redis 5 reads the header
    /// (`hdr + len + 1`), later versions ask the allocator; Redis 8.4+ reads the header
    /// of a type 5 string (which records no allocation) and the allocation of the others.
    pub(crate) fn sds(&self, len: u64) -> u64 {
        let hdr = self.sds_hdr(len);
        let bytes = hdr + len + 1;
        if self.rules == Rules::R50 || (self.tracked() && hdr == 1) {
            bytes
        } else {
            self.a(bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_header_types() {
        let cases = [(0, 3), (1, 1), (31, 1), (32, 3), (255, 3), (256, 5), (65_535, 5), (65_536, 9), (1 << 32, 17)];
        for (len, hdr) in cases {
            assert_eq!(header(len, false), hdr, "len {len}");
        }
    }

    #[test]
    fn valkey_header_types_leave_room_for_the_header() {
        let cases =
            [(0, 3), (31, 1), (252, 3), (253, 5), (65_530, 5), (65_531, 9), ((1 << 32) - 10, 9), ((1 << 32) - 9, 17)];
        for (len, hdr) in cases {
            assert_eq!(header(len, true), hdr, "len {len}");
        }
    }
}
