//! Listpack: `total_bytes u32, num_elems u16, elements…, 0xFF`, each element followed by
//! its back-length.

use nom::number::complete::{le_u16, le_u32};
use nom::IResult;

use super::{BlobError, Elem};

/// Bytes of the listpack header.
pub(crate) const HEADER_BYTES: usize = 6;
/// `num_elems` value meaning "count by walking".
pub(crate) const UNKNOWN_COUNT: u16 = u16::MAX;
/// The terminator byte.
pub(crate) const END: u8 = 0xff;

/// Iterator over the validated elements of a listpack.
pub(crate) struct Listpack<'a> {
    blob: &'a [u8],
    pos: usize,
    seen: usize,
    declared: Option<usize>,
    done: bool,
}

impl<'a> Listpack<'a> {
    /// Checks the header and the terminator; elements are validated as they are read.
    pub(crate) fn new(blob: &'a [u8]) -> Result<Self, BlobError> {
        if blob.len() < HEADER_BYTES + 1 {
            return Err(BlobError::new(0, format!("listpack of {} bytes is shorter than 7", blob.len())));
        }
        let (_, (total, count)) = header(blob).map_err(|_| BlobError::new(0, "unreadable listpack header"))?;
        if total as usize != blob.len() {
            return Err(BlobError::new(0, format!("listpack header says {total} bytes, blob has {}", blob.len())));
        }
        if blob[blob.len() - 1] != END {
            return Err(BlobError::new(blob.len() - 1, "listpack does not end with 0xFF"));
        }
        let declared = (count != UNKNOWN_COUNT).then_some(usize::from(count));
        Ok(Listpack { blob, pos: HEADER_BYTES, seen: 0, declared, done: false })
    }

    /// The element count from the header, unless it says "unknown".
    pub(crate) fn declared_len(&self) -> Option<usize> {
        self.declared
    }

    /// Byte position of the next element (for error reports by callers).
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn step(&mut self) -> Result<Option<Elem<'a>>, BlobError> {
        let rest = &self.blob[self.pos..];
        if rest.first() == Some(&END) {
            if self.pos != self.blob.len() - 1 {
                return Err(BlobError::new(self.pos, "listpack terminator before the end of the blob"));
            }
            if let Some(d) = self.declared {
                if d != self.seen {
                    return Err(BlobError::new(
                        self.pos,
                        format!("listpack header says {d} elements, found {}", self.seen),
                    ));
                }
            }
            return Ok(None);
        }
        let bad = |m: &str| BlobError::new(self.pos, format!("listpack element: {m}"));
        let (elem, size) = element(rest).ok_or_else(|| bad("invalid encoding or runs past the end"))?;
        let after = &rest[size..];
        let want_len = if size <= 127 {
            // The common case: one back-length byte, the size itself.
            if after.first() != Some(&(size as u8)) {
                return Err(if after.is_empty() {
                    bad("back-length runs past the end")
                } else {
                    bad(&format!("back-length does not match the element size {size}"))
                });
            }
            1
        } else {
            let (want, want_len) = encode_backlen(size);
            let got = after.get(..want_len).ok_or_else(|| bad("back-length runs past the end"))?;
            // At most 5 bytes: compared inline (a memcmp call costs more than the work).
            if got.iter().zip(&want).any(|(a, b)| a != b) {
                return Err(bad(&format!("back-length does not match the element size {size}")));
            }
            want_len
        };
        // The element plus its back-length must leave room for the terminator.
        if self.pos + size + want_len >= self.blob.len() {
            return Err(bad("element overlaps the terminator"));
        }
        self.pos += size + want_len;
        self.seen += 1;
        Ok(Some(elem))
    }
}

impl<'a> Iterator for Listpack<'a> {
    type Item = Result<Elem<'a>, BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut done = self.done;
        let item = super::fused_next(&mut done, || self.step());
        self.done = done;
        item
    }
}

fn header(i: &[u8]) -> IResult<&[u8], (u32, u16)> {
    let (i, total) = le_u32(i)?;
    let (i, count) = le_u16(i)?;
    Ok((i, (total, count)))
}

/// One element's encoding and data (without the back-length), and its size in bytes;
/// `None` when the encoding is unknown or runs past the end. Written out by hand: this
/// runs for every element of every listpack.
fn element(i: &[u8]) -> Option<(Elem<'_>, usize)> {
    let b = *i.first()?;
    let fixed = |n: usize| i.get(1..1 + n);
    Some(match b {
        0x00..=0x7f => (Elem::Int(i64::from(b)), 1),
        0x80..=0xbf => {
            let n = usize::from(b & 0x3f);
            (Elem::Bytes(i.get(1..1 + n)?), 1 + n)
        }
        0xc0..=0xdf => {
            let raw = (u16::from(b & 0x1f) << 8) | u16::from(*i.get(1)?);
            // Two's complement over 13 bits.
            (Elem::Int(i64::from(((raw << 3) as i16) >> 3)), 2)
        }
        0xe0..=0xef => {
            let n = (usize::from(b & 0x0f) << 8) | usize::from(*i.get(1)?);
            (Elem::Bytes(i.get(2..2 + n)?), 2 + n)
        }
        0xf0 => {
            let n = u32::from_le_bytes(fixed(4)?.try_into().ok()?) as usize;
            (Elem::Bytes(i.get(5..5usize.checked_add(n)?)?), 5 + n)
        }
        0xf1 => (Elem::Int(i64::from(i16::from_le_bytes(fixed(2)?.try_into().ok()?))), 3),
        0xf2 => {
            let x = fixed(3)?;
            // Sign-extend 24 bits.
            (Elem::Int(i64::from(i32::from_le_bytes([0, x[0], x[1], x[2]]) >> 8)), 4)
        }
        0xf3 => (Elem::Int(i64::from(i32::from_le_bytes(fixed(4)?.try_into().ok()?))), 5),
        0xf4 => (Elem::Int(i64::from_le_bytes(fixed(8)?.try_into().ok()?)), 9),
        _ => return None,
    })
}

/// The back-length bytes for an element of `size` bytes, exactly as the servers write
/// them (note the strict `<` thresholds), and how many of them there are.
pub(crate) fn encode_backlen(size: usize) -> ([u8; 5], usize) {
    let l = size as u64;
    let mut b = [0u8; 5];
    let n = if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    };
    for (k, slot) in b.iter_mut().take(n).enumerate() {
        let shift = 7 * (n - 1 - k);
        let part = ((l >> shift) & 127) as u8;
        *slot = if k == 0 { part } else { part | 128 };
    }
    (b, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    fn all(blob: &[u8]) -> Result<Vec<Elem<'_>>, BlobError> {
        Listpack::new(blob)?.collect()
    }

    #[test]
    fn worked_example() {
        let blob = hex!("10 00 00 00 03 00 81 61 02 c4 00 02 df ff 02 ff");
        assert_eq!(all(&blob), Ok(vec![Elem::Bytes(b"a"), Elem::Int(1024), Elem::Int(-1)]));
    }

    #[test]
    fn every_integer_width() {
        let blob = hex!(
            "22 00 00 00 05 00"
            "07 01"
            "f1 00 80 03"
            "f2 ff ff 7f 04"
            "f3 00 00 00 80 05"
            "f4 ff ff ff ff ff ff ff 7f 09"
            "ff"
        );
        assert_eq!(
            all(&blob),
            Ok(vec![
                Elem::Int(7),
                Elem::Int(-32768),
                Elem::Int(8_388_607),
                Elem::Int(i64::from(i32::MIN)),
                Elem::Int(i64::MAX)
            ])
        );
    }

    #[test]
    fn rejects_bad_backlen_count_and_terminator() {
        let bad_backlen = hex!("10 00 00 00 03 00 81 61 03 c4 00 02 df ff 02 ff");
        assert!(all(&bad_backlen).is_err());
        let bad_count = hex!("10 00 00 00 04 00 81 61 02 c4 00 02 df ff 02 ff");
        assert!(all(&bad_count).is_err());
        let bad_total = hex!("11 00 00 00 03 00 81 61 02 c4 00 02 df ff 02 ff");
        assert!(all(&bad_total).is_err());
        let early_end = hex!("0a 00 00 00 01 00 ff 61 02 ff");
        assert!(all(&early_end).is_err());
        let bad_encoding = hex!("0a 00 00 00 01 00 f5 01 ff");
        assert!(all(&bad_encoding).is_err());
    }

    #[test]
    fn unknown_count_walks() {
        let blob = hex!("09 00 00 00 ff ff 05 01 ff");
        assert_eq!(all(&blob), Ok(vec![Elem::Int(5)]));
    }

    #[test]
    fn backlen_thresholds_are_strict() {
        assert_eq!(encode_backlen(127).1, 1);
        assert_eq!(encode_backlen(128), ([1, 128, 0, 0, 0], 2));
        assert_eq!(encode_backlen(16382).1, 2);
        assert_eq!(encode_backlen(16383).1, 3);
    }
}
