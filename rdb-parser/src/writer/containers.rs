//! Builders for the compact containers: listpack, ziplist, intset.

use super::encode::canonical_int;
use crate::decode::listpack::encode_backlen;

/// Builds a listpack, choosing integer encodings the way the servers do.
pub(crate) struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
}

/// Listpack header bytes plus terminator.
#[cfg(test)]
const LP_OVERHEAD: usize = 7;

impl ListpackBuilder {
    pub(crate) fn new() -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; 6]);
        ListpackBuilder { buf, count: 0 }
    }

    /// Size of the finished listpack so far.
    pub(crate) fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Bytes one element takes (encoding, data, back-length).
    pub(crate) fn entry_size(s: &[u8]) -> usize {
        let body = match canonical_int(s) {
            Some(v) => LpInt::of(v).size(),
            None => lp_string_header(s.len()) + s.len(),
        };
        body + encode_backlen(body).1
    }

    /// Appends a byte string (stored as an integer when it is one).
    pub(crate) fn push(&mut self, s: &[u8]) {
        match canonical_int(s) {
            Some(v) => self.push_int(v),
            None => {
                let start = self.buf.len();
                let n = s.len();
                match lp_string_header(n) {
                    1 => self.buf.push(0x80 | n as u8),
                    2 => self.buf.extend_from_slice(&[0xe0 | (n >> 8) as u8, n as u8]),
                    _ => {
                        self.buf.push(0xf0);
                        self.buf.extend_from_slice(&(n as u32).to_le_bytes());
                    }
                }
                self.buf.extend_from_slice(s);
                self.backlen(start);
            }
        }
    }

    /// Appends an integer in the smallest encoding.
    pub(crate) fn push_int(&mut self, v: i64) {
        let start = self.buf.len();
        let le = v.to_le_bytes();
        match LpInt::of(v) {
            LpInt::U7 => self.buf.push(v as u8),
            LpInt::I13 => {
                let u = (v as u16) & 0x1fff;
                self.buf.extend_from_slice(&[0xc0 | (u >> 8) as u8, u as u8]);
            }
            form => {
                self.buf.push(form.tag());
                self.buf.extend_from_slice(&le[..form.size() - 1]);
            }
        }
        self.backlen(start);
    }

    fn backlen(&mut self, start: usize) {
        let (b, n) = encode_backlen(self.buf.len() - start);
        self.buf.extend_from_slice(&b[..n]);
        self.count += 1;
    }

    /// Appends every element of `other`, then finishes.
    pub(crate) fn append(mut self, other: ListpackBuilder) -> Vec<u8> {
        self.buf.extend_from_slice(&other.buf[6..]);
        self.count += other.count;
        self.finish()
    }

    /// The finished listpack.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// The listpack integer encodings, smallest first.
#[derive(Clone, Copy)]
enum LpInt {
    U7,
    I13,
    I16,
    I24,
    I32,
    I64,
}

impl LpInt {
    /// The smallest encoding that holds `v` (the servers' choice).
    fn of(v: i64) -> LpInt {
        if (0..=127).contains(&v) {
            LpInt::U7
        } else if (-4096..=4095).contains(&v) {
            LpInt::I13
        } else if i16::try_from(v).is_ok() {
            LpInt::I16
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            LpInt::I24
        } else if i32::try_from(v).is_ok() {
            LpInt::I32
        } else {
            LpInt::I64
        }
    }

    /// Bytes of encoding and data.
    fn size(self) -> usize {
        match self {
            LpInt::U7 => 1,
            LpInt::I13 => 2,
            LpInt::I16 => 3,
            LpInt::I24 => 4,
            LpInt::I32 => 5,
            LpInt::I64 => 9,
        }
    }

    /// The encoding byte of the forms that store little-endian data after it.
    fn tag(self) -> u8 {
        match self {
            LpInt::I16 => 0xf1,
            LpInt::I24 => 0xf2,
            LpInt::I32 => 0xf3,
            _ => 0xf4,
        }
    }
}

/// Header bytes of a listpack string of `len` bytes (6-, 12- or 32-bit length).
fn lp_string_header(len: usize) -> usize {
    if len < 64 {
        1
    } else if len < 4096 {
        2
    } else {
        5
    }
}

/// Listpack size of a sequence of elements, header and terminator included.
#[cfg(test)]
pub(crate) fn listpack_size<'a>(items: impl Iterator<Item = &'a [u8]>) -> usize {
    LP_OVERHEAD + items.map(ListpackBuilder::entry_size).sum::<usize>()
}

/// Builds a ziplist (for RDB 6–9 targets).
pub(crate) struct ZiplistBuilder {
    buf: Vec<u8>,
    count: usize,
    prev: usize,
    tail: usize,
}

const ZL_HEADER: usize = 10;

impl ZiplistBuilder {
    pub(crate) fn new() -> Self {
        ZiplistBuilder { buf: vec![0; ZL_HEADER], count: 0, prev: 0, tail: ZL_HEADER }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Appends a byte string; short canonical integers are stored as integers.
    pub(crate) fn push(&mut self, s: &[u8]) {
        let start = self.buf.len();
        if self.prev < 254 {
            self.buf.push(self.prev as u8);
        } else {
            self.buf.push(0xfe);
            self.buf.extend_from_slice(&(self.prev as u32).to_le_bytes());
        }
        match canonical_int(s).filter(|_| s.len() < 32) {
            Some(v) => self.int(v),
            None => {
                let n = s.len();
                if n <= 63 {
                    self.buf.push(n as u8);
                } else if n <= 16383 {
                    self.buf.push(0x40 | (n >> 8) as u8);
                    self.buf.push(n as u8);
                } else {
                    self.buf.push(0x80);
                    self.buf.extend_from_slice(&(n as u32).to_be_bytes());
                }
                self.buf.extend_from_slice(s);
            }
        }
        self.tail = start;
        self.prev = self.buf.len() - start;
        self.count += 1;
    }

    fn int(&mut self, v: i64) {
        if (0..=12).contains(&v) {
            self.buf.push(0xf1 + v as u8);
        } else if let Ok(x) = i8::try_from(v) {
            self.buf.push(0xfe);
            self.buf.push(x as u8);
        } else if let Ok(x) = i16::try_from(v) {
            self.buf.push(0xc0);
            self.buf.extend_from_slice(&x.to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&v) {
            self.buf.push(0xf0);
            self.buf.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        } else if let Ok(x) = i32::try_from(v) {
            self.buf.push(0xd0);
            self.buf.extend_from_slice(&x.to_le_bytes());
        } else {
            self.buf.push(0xe0);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..8].copy_from_slice(&(self.tail as u32).to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[8..10].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

/// Builds an intset from members that are all integers, in ascending order.
pub(crate) fn intset(mut members: Vec<i64>) -> Vec<u8> {
    members.sort_unstable();
    let width: usize = if members.iter().all(|v| i16::try_from(*v).is_ok()) {
        2
    } else if members.iter().all(|v| i32::try_from(*v).is_ok()) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(8 + members.len() * width);
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(members.len() as u32).to_le_bytes());
    for v in members {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::intset::Intset;
    use crate::decode::listpack::Listpack;
    use crate::decode::ziplist::Ziplist;
    use crate::decode::Elem;

    fn strings<'a>(items: impl Iterator<Item = Result<Elem<'a>, crate::decode::BlobError>>) -> Vec<Vec<u8>> {
        let mut b = itoa::Buffer::new();
        items.map(|e| e.expect("valid").bytes(&mut b).to_vec()).collect()
    }

    fn samples() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = [
            "0",
            "12",
            "13",
            "127",
            "128",
            "-1",
            "-4096",
            "-4097",
            "32767",
            "-32769",
            "8388607",
            "8388608",
            "2147483647",
            "-2147483649",
            "9223372036854775807",
            "-9223372036854775808",
            "007",
            "",
            "x",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        v.push(vec![b'a'; 63]);
        v.push(vec![b'b'; 64]);
        v.push(vec![b'c'; 4095]);
        v.push(vec![b'd'; 4096]);
        v.push(vec![b'e'; 16384]);
        v.push(vec![0xff, 0, 1]);
        v
    }

    #[test]
    fn listpacks_round_trip_and_sizes_are_exact() {
        let items = samples();
        let mut lp = ListpackBuilder::new();
        for s in &items {
            lp.push(s);
        }
        let predicted = listpack_size(items.iter().map(Vec::as_slice));
        assert_eq!(lp.bytes(), predicted);
        let blob = lp.finish();
        assert_eq!(blob.len(), predicted);
        assert_eq!(strings(Listpack::new(&blob).expect("valid")), items);
    }

    #[test]
    fn ziplists_round_trip() {
        let items = samples();
        let mut zl = ZiplistBuilder::new();
        for s in &items {
            zl.push(s);
        }
        let blob = zl.finish();
        assert_eq!(strings(Ziplist::new(&blob).expect("valid")), items);
        assert_eq!(strings(Ziplist::new(&ZiplistBuilder::new().finish()).expect("valid")), Vec::<Vec<u8>>::new());
    }

    #[test]
    fn intsets_pick_the_smallest_width() {
        for (members, width) in [(vec![3, 1, 2], 2usize), (vec![1, 70000], 4), (vec![-1, i64::MAX], 8)] {
            let blob = intset(members.clone());
            let set = Intset::new(&blob).expect("valid");
            let mut sorted = members;
            sorted.sort_unstable();
            assert_eq!(set.iter().collect::<Vec<_>>(), sorted);
            assert_eq!(blob.len(), 8 + set.len() * width);
        }
    }
}
