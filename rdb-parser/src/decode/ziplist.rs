//! Ziplist (RDB 2–9): `zlbytes u32, zltail u32, zllen u16, entries…, 0xFF`, each entry
//! prefixed with the size of the previous one.

use nom::number::complete::{le_u16, le_u32};
use nom::IResult;

use super::{pos_in, BlobError, Elem};

/// Bytes of the ziplist header.
const HEADER_BYTES: usize = 10;
/// `zllen` value meaning "count by walking".
const UNKNOWN_COUNT: u16 = u16::MAX;
const END: u8 = 0xff;
/// First `prevlen` byte announcing a 4-byte previous length.
const BIG_PREVLEN: u8 = 0xfe;

/// Iterator over the validated entries of a ziplist.
pub(crate) struct Ziplist<'a> {
    blob: &'a [u8],
    pos: usize,
    prev_size: usize,
    last_entry: usize,
    seen: usize,
    declared: Option<usize>,
    tail: usize,
    done: bool,
}

impl<'a> Ziplist<'a> {
    /// Checks the header and the terminator; entries are validated as they are read.
    pub(crate) fn new(blob: &'a [u8]) -> Result<Self, BlobError> {
        if blob.len() < HEADER_BYTES + 1 {
            return Err(BlobError::new(0, format!("ziplist of {} bytes is shorter than 11", blob.len())));
        }
        let (_, (bytes, tail, count)) = header(blob).map_err(|_| BlobError::new(0, "unreadable ziplist header"))?;
        if bytes as usize != blob.len() {
            return Err(BlobError::new(0, format!("ziplist header says {bytes} bytes, blob has {}", blob.len())));
        }
        if blob[blob.len() - 1] != END {
            return Err(BlobError::new(blob.len() - 1, "ziplist does not end with 0xFF"));
        }
        if tail as usize > blob.len() - 1 {
            return Err(BlobError::new(4, format!("ziplist tail offset {tail} is outside the blob")));
        }
        let declared = (count != UNKNOWN_COUNT).then_some(usize::from(count));
        Ok(Ziplist {
            blob,
            pos: HEADER_BYTES,
            prev_size: 0,
            last_entry: HEADER_BYTES,
            seen: 0,
            declared,
            tail: tail as usize,
            done: false,
        })
    }

    /// The entry count from the header, unless it says "unknown".
    pub(crate) fn declared_len(&self) -> Option<usize> {
        self.declared
    }

    /// Byte position of the next entry.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn step(&mut self) -> Result<Option<Elem<'a>>, BlobError> {
        let rest = &self.blob[self.pos..];
        if rest.first() == Some(&END) {
            if self.pos != self.blob.len() - 1 {
                return Err(BlobError::new(self.pos, "ziplist terminator before the end of the blob"));
            }
            let expect_tail = if self.seen == 0 { self.pos } else { self.last_entry };
            if self.tail != expect_tail {
                return Err(BlobError::new(
                    4,
                    format!("ziplist tail offset {} but the last entry is at {expect_tail}", self.tail),
                ));
            }
            if let Some(d) = self.declared {
                if d != self.seen {
                    return Err(BlobError::new(
                        self.pos,
                        format!("ziplist header says {d} entries, found {}", self.seen),
                    ));
                }
            }
            return Ok(None);
        }
        let bad = |m: &str| BlobError::new(self.pos, format!("ziplist entry: {m}"));
        let (after, prevlen, elem) = entry(rest).ok_or_else(|| bad("invalid encoding or runs past the end"))?;
        if prevlen != self.prev_size {
            return Err(bad(&format!(
                "previous-entry length {prevlen}, but the previous entry has {}",
                self.prev_size
            )));
        }
        let size = pos_in(rest, after);
        if self.pos + size >= self.blob.len() {
            return Err(bad("entry overlaps the terminator"));
        }
        self.last_entry = self.pos;
        self.prev_size = size;
        self.pos += size;
        self.seen += 1;
        Ok(Some(elem))
    }
}

impl<'a> Iterator for Ziplist<'a> {
    type Item = Result<Elem<'a>, BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut done = self.done;
        let item = super::fused_next(&mut done, || self.step());
        self.done = done;
        item
    }
}

fn header(i: &[u8]) -> IResult<&[u8], (u32, u32, u16)> {
    let (i, bytes) = le_u32(i)?;
    let (i, tail) = le_u32(i)?;
    let (i, count) = le_u16(i)?;
    Ok((i, (bytes, tail, count)))
}

/// One entry: previous-entry length, encoding, data; `None` when it is invalid or runs
/// past the end. Read by hand: it is the inner loop of every RDB 2-9 collection, where
/// nom's combinators cost a tenth more of `memory`'s time.
fn entry(i: &[u8]) -> Option<(&[u8], usize, Elem<'_>)> {
    let (&p, i) = i.split_first()?;
    let (prevlen, i) = match p {
        BIG_PREVLEN => array(i).map(|(v, i)| (u32::from_le_bytes(v) as usize, i))?,
        0..BIG_PREVLEN => (usize::from(p), i),
        _ => return None,
    };
    let (&enc, i) = i.split_first()?;
    let (elem, i) = match enc {
        0x00..=0x3f => string(i, usize::from(enc))?,
        0x40..=0x7f => {
            let (&lo, i) = i.split_first()?;
            string(i, (usize::from(enc & 0x3f) << 8) | usize::from(lo))?
        }
        0x80..=0xbf => {
            let (len, i) = array(i)?;
            string(i, u32::from_be_bytes(len) as usize)?
        }
        0xc0 => array(i).map(|(v, i)| (Elem::Int(i16::from_le_bytes(v).into()), i))?,
        0xd0 => array(i).map(|(v, i)| (Elem::Int(i32::from_le_bytes(v).into()), i))?,
        0xe0 => array(i).map(|(v, i)| (Elem::Int(i64::from_le_bytes(v)), i))?,
        // 24 bits, sign-extended by the shift.
        0xf0 => array(i).map(|([a, b, c], i)| (Elem::Int((i32::from_le_bytes([0, a, b, c]) >> 8).into()), i))?,
        0xfe => array(i).map(|([v], i)| (Elem::Int(i8::from_le_bytes([v]).into()), i))?,
        0xf1..=0xfd => (Elem::Int(i64::from(enc & 0x0f) - 1), i),
        _ => return None,
    };
    Some((i, prevlen, elem))
}

/// The first `N` bytes of `i`, and the rest.
fn array<const N: usize>(i: &[u8]) -> Option<([u8; N], &[u8])> {
    i.split_first_chunk().map(|(head, rest)| (*head, rest))
}

/// A string of `len` bytes at the start of `i`, and the rest.
fn string(i: &[u8], len: usize) -> Option<(Elem<'_>, &[u8])> {
    i.split_at_checked(len).map(|(s, rest)| (Elem::Bytes(s), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    fn all(blob: &[u8]) -> Result<Vec<Elem<'_>>, BlobError> {
        Ziplist::new(blob)?.collect()
    }

    #[test]
    fn strings_and_integers() {
        // ["ab", 12 (immediate), -2 (int8), 300 (int16)]
        let blob = hex!(
            "18 00 00 00" "13 00 00 00" "04 00"
            "00 02 61 62"
            "04 fd"
            "02 fe fe"
            "03 c0 2c 01"
            "ff"
        );
        assert_eq!(all(&blob), Ok(vec![Elem::Bytes(b"ab"), Elem::Int(12), Elem::Int(-2), Elem::Int(300)]));
    }

    #[test]
    fn empty_ziplist() {
        let blob = hex!("0b 00 00 00 0a 00 00 00 00 00 ff");
        assert_eq!(all(&blob), Ok(vec![]));
    }

    #[test]
    fn rejects_wrong_prevlen_tail_and_count() {
        let bad_prev = hex!("0e 00 00 00 0a 00 00 00 01 00 01 01 61 ff");
        assert!(all(&bad_prev).is_err());
        let bad_tail = hex!("0e 00 00 00 0b 00 00 00 01 00 00 01 61 ff");
        assert!(all(&bad_tail).is_err());
        let bad_count = hex!("0e 00 00 00 0a 00 00 00 02 00 00 01 61 ff");
        assert!(all(&bad_count).is_err());
        let good = hex!("0e 00 00 00 0a 00 00 00 01 00 00 01 61 ff");
        assert_eq!(all(&good), Ok(vec![Elem::Bytes(b"a")]));
    }
}
