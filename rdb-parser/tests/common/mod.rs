//! Byte-level builders for hand-made RDB files (test-only), following the layouts in
//! the format reference: lengths, strings, listpacks, EOF and CRC64.

#![allow(dead_code)]

use rdb_parser::crc64::crc64;

/// Builds an RDB file byte by byte.
pub struct Rdb {
    pub buf: Vec<u8>,
}

impl Rdb {
    pub fn new(header: &str) -> Self {
        assert_eq!(header.len(), 9);
        Rdb { buf: header.as_bytes().to_vec() }
    }

    pub fn byte(mut self, b: u8) -> Self {
        self.buf.push(b);
        self
    }

    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// A length in its shortest form.
    pub fn len(mut self, n: u64) -> Self {
        put_len(&mut self.buf, n);
        self
    }

    /// A raw string.
    pub fn str(mut self, s: &[u8]) -> Self {
        put_len(&mut self.buf, s.len() as u64);
        self.buf.extend_from_slice(s);
        self
    }

    pub fn i64le(self, v: i64) -> Self {
        self.raw(&v.to_le_bytes())
    }

    pub fn f64le(self, v: f64) -> Self {
        self.raw(&v.to_le_bytes())
    }

    /// EOF opcode and a correct CRC64 trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        let crc = crc64(&self.buf);
        self.buf.extend_from_slice(&crc.to_le_bytes());
        self.buf
    }

    /// EOF opcode only (RDB versions before 5).
    pub fn finish_without_checksum(mut self) -> Vec<u8> {
        self.buf.push(0xff);
        self.buf
    }
}

pub fn put_len(buf: &mut Vec<u8>, n: u64) {
    if n < 64 {
        buf.push(n as u8);
    } else if n < 16384 {
        buf.push(0x40 | (n >> 8) as u8);
        buf.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        buf.push(0x80);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        buf.push(0x81);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

/// A listpack element for [`listpack`].
pub enum Lp<'a> {
    S(&'a [u8]),
    I(i64),
}

/// Encodes a listpack (strings up to 4095 bytes, integers as 13-bit or 64-bit).
pub fn listpack(items: &[Lp<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for it in items {
        let start = body.len();
        match it {
            Lp::S(s) if s.len() < 64 => {
                body.push(0x80 | s.len() as u8);
                body.extend_from_slice(s);
            }
            Lp::S(s) => {
                assert!(s.len() < 4096);
                body.push(0xe0 | (s.len() >> 8) as u8);
                body.push(s.len() as u8);
                body.extend_from_slice(s);
            }
            Lp::I(v) if (-4096..4096).contains(v) => {
                let u = (*v as u16) & 0x1fff;
                body.push(0xc0 | (u >> 8) as u8);
                body.push(u as u8);
            }
            Lp::I(v) => {
                body.push(0xf4);
                body.extend_from_slice(&v.to_le_bytes());
            }
        }
        let size = body.len() - start;
        if size <= 127 {
            body.push(size as u8);
        } else {
            assert!(size < 16383);
            body.push((size >> 7) as u8);
            body.push((size & 127) as u8 | 128);
        }
    }
    let total = 6 + body.len() + 1;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(items.len() as u16).to_le_bytes());
    out.extend_from_slice(&body);
    out.push(0xff);
    out
}

/// Every `.rdb` under the project's `fixtures/` (at least 20, or the test fails).
pub fn fixture_dumps() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read fixtures").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rdb") {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files = Vec::new();
    walk(&root, &mut files);
    assert!(files.len() >= 20, "fixture dumps under {}", root.display());
    files
}

/// Calls `f` with damaged copies of `data` (a dump): cut short at `cuts` places spread
/// over it, then `damaged` copies with one byte after the header changed (flipped,
/// incremented or replaced, at places drawn from `seed`). `f` gets a description and
/// the variant's number.
pub fn for_each_damaged(data: &[u8], cuts: usize, damaged: usize, seed: u64, mut f: impl FnMut(&str, &[u8], usize)) {
    let step = (data.len() / cuts).max(1);
    for (i, cut) in (9..data.len()).step_by(step).enumerate() {
        f(&format!("cut at {cut}"), &data[..cut], i);
    }
    let mut x = seed;
    for i in 0..damaged {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = 9 + (x as usize) % (data.len() - 9);
        let mut copy = data.to_vec();
        copy[at] = match x >> 60 {
            0..=5 => copy[at] ^ 0xff,
            6..=10 => copy[at].wrapping_add(1),
            _ => (x >> 32) as u8,
        };
        f(&format!("byte {at} damaged"), &copy, i);
    }
}
