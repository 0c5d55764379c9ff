//! Byte sizes of compact encodings built from elements: listpacks, ziplists, intsets.
//!
//! Needed when the server converts what the file holds (ziplist nodes loaded by 7.0 and
//! later, plain collections that load as listpacks); blobs the server keeps as they are
//! count with their own length.

/// The integer value of `s` under the servers' strict test (`string2ll`): 1 to 20
/// characters, an optional `-`, no leading zeros, no `+` or spaces, within `i64`.
pub fn parse_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        0i64.checked_sub_unsigned(v)
    } else {
        i64::try_from(v).ok()
    }
}

/// Data bytes of the smallest of int16, int24, int32 and int64 that holds `v` (both
/// listpacks and ziplists store larger integers this way, after an encoding byte).
fn int_bytes(v: i64) -> u64 {
    if i16::try_from(v).is_ok() {
        2
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        3
    } else if i32::try_from(v).is_ok() {
        4
    } else {
        8
    }
}

/// An element of a compact encoding: a string, or an integer the encoder stores as one.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// Bytes, stored as an integer when [`parse_int`] accepts them.
    Bytes(&'a [u8]),
    /// An integer.
    Int(i64),
}

impl Item<'_> {
    fn int(self) -> Option<i64> {
        match self {
            Item::Bytes(b) => parse_int(b),
            Item::Int(v) => Some(v),
        }
    }

    fn len(self) -> u64 {
        match self {
            Item::Bytes(b) => b.len() as u64,
            Item::Int(_) => 0,
        }
    }
}

/// Running size of a listpack: 6-byte header, entries, 1-byte terminator.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListpackSize {
    entries: u64,
}

impl ListpackSize {
    /// Adds one entry.
    pub fn push(&mut self, item: Item<'_>) {
        self.entries += Self::entry(item);
    }

    /// Bytes of one entry: encoding and data, then the back-length.
    pub fn entry(item: Item<'_>) -> u64 {
        let body = match item.int() {
            Some(v) if (0..=127).contains(&v) => 1,
            Some(v) if (-4096..=4095).contains(&v) => 2,
            Some(v) => 1 + int_bytes(v),
            None => {
                let l = item.len();
                l + if l < 64 {
                    1
                } else if l < 4096 {
                    2
                } else {
                    5
                }
            }
        };
        let backlen = match body {
            0..=127 => 1,
            128..16_383 => 2,
            16_383..2_097_151 => 3,
            2_097_151..268_435_455 => 4,
            _ => 5,
        };
        body + backlen
    }

    /// Total bytes.
    pub fn bytes(&self) -> u64 {
        7 + self.entries
    }

    /// Bytes of the entries alone.
    pub fn entry_bytes(&self) -> u64 {
        self.entries
    }
}

/// Running size of a ziplist: 10-byte header, entries, 1-byte end marker. Each entry
/// starts with the previous entry's length (1 byte under 254, else 5).
#[derive(Debug, Clone, Copy, Default)]
pub struct ZiplistSize {
    entries: u64,
    prev: u64,
}

impl ZiplistSize {
    /// Adds one entry at the tail.
    pub fn push(&mut self, item: Item<'_>) {
        let len = self.next_entry(item);
        self.entries += len;
        self.prev = len;
    }

    /// Bytes the next entry would take.
    pub fn next_entry(&self, item: Item<'_>) -> u64 {
        let prevlen = if self.prev < 254 { 1 } else { 5 };
        let body = match item.int() {
            Some(0..=12) => 1,
            Some(v) if i8::try_from(v).is_ok() => 2,
            Some(v) => 1 + int_bytes(v),
            None => {
                let l = item.len();
                l + if l <= 63 {
                    1
                } else if l <= 16_383 {
                    2
                } else {
                    5
                }
            }
        };
        prevlen + body
    }

    /// Total bytes.
    pub fn bytes(&self) -> u64 {
        11 + self.entries
    }
}

/// Running size of an intset: 8-byte header and one fixed-width slot per member.
#[derive(Debug, Clone, Copy, Default)]
pub struct IntsetSize {
    count: u64,
    width: u64,
}

impl IntsetSize {
    /// Adds a member.
    pub fn push(&mut self, v: i64) {
        let w = if i16::try_from(v).is_ok() {
            2
        } else if i32::try_from(v).is_ok() {
            4
        } else {
            8
        };
        self.width = self.width.max(w);
        self.count += 1;
    }

    /// Total bytes.
    pub fn bytes(&self) -> u64 {
        8 + self.width.max(2) * self.count
    }
}

/// The compact encoding a server version builds: ziplists up to Redis 6.2, listpacks
/// from 7.0. Sizes only that one.
#[derive(Debug, Clone, Copy)]
pub enum PackedSize {
    /// A ziplist.
    Ziplist(ZiplistSize),
    /// A listpack.
    Listpack(ListpackSize),
}

impl PackedSize {
    /// An empty ziplist (`ziplist`) or listpack.
    pub fn new(ziplist: bool) -> PackedSize {
        if ziplist {
            PackedSize::Ziplist(ZiplistSize::default())
        } else {
            PackedSize::Listpack(ListpackSize::default())
        }
    }

    /// Adds one entry.
    pub fn push(&mut self, item: Item<'_>) {
        match self {
            PackedSize::Ziplist(z) => z.push(item),
            PackedSize::Listpack(l) => l.push(item),
        }
    }

    /// Total bytes.
    pub fn bytes(&self) -> u64 {
        match self {
            PackedSize::Ziplist(z) => z.bytes(),
            PackedSize::Listpack(l) => l.bytes(),
        }
    }

    /// True for a ziplist.
    pub fn is_ziplist(&self) -> bool {
        matches!(self, PackedSize::Ziplist(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_integers() {
        for (s, want) in [
            (&b"0"[..], Some(0)),
            (b"-1", Some(-1)),
            (b"9223372036854775807", Some(i64::MAX)),
            (b"-9223372036854775808", Some(i64::MIN)),
            (b"9223372036854775808", None),
            (b"-0", None),
            (b"007", None),
            (b"+5", None),
            (b"1.5", None),
            (b" 1", None),
            (b"", None),
            (b"-", None),
        ] {
            assert_eq!(parse_int(s), want, "{:?}", String::from_utf8_lossy(s));
        }
    }

    #[test]
    fn listpack_entry_sizes() {
        let e = |s: &[u8]| ListpackSize::entry(Item::Bytes(s));
        assert_eq!(e(b"7"), 2);
        assert_eq!(e(b"128"), 3);
        assert_eq!(e(b"-4096"), 3);
        assert_eq!(e(b"4096"), 4);
        assert_eq!(e(b"100000"), 5);
        assert_eq!(e(b"10000000"), 6);
        assert_eq!(e(b"10000000000"), 10);
        assert_eq!(e(b"abc"), 5);
        assert_eq!(e(&[b'x'; 63]), 65);
        assert_eq!(e(&[b'x'; 64]), 67);
        assert_eq!(e(&[b'x'; 200]), 204);
        let mut lp = ListpackSize::default();
        lp.push(Item::Bytes(b"a"));
        lp.push(Item::Int(1));
        assert_eq!(lp.bytes(), 7 + 3 + 2);
    }

    #[test]
    fn ziplist_entry_sizes() {
        let mut zl = ZiplistSize::default();
        zl.push(Item::Bytes(b"12"));
        zl.push(Item::Bytes(b"13"));
        zl.push(Item::Bytes(&[b'x'; 300]));
        assert_eq!(zl.next_entry(Item::Bytes(b"a")), 5 + 2);
        assert_eq!(zl.bytes(), 11 + 2 + 3 + (1 + 2 + 300));
    }

    #[test]
    fn intset_widths() {
        let mut is = IntsetSize::default();
        is.push(1);
        is.push(-40_000);
        assert_eq!(is.bytes(), 8 + 4 * 2);
        is.push(1 << 40);
        assert_eq!(is.bytes(), 8 + 8 * 3);
    }
}
