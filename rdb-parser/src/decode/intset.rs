//! Intset: `encoding u32 (2, 4 or 8), length u32, sorted little-endian integers`.

use nom::number::complete::{le_i16, le_i32, le_i64, le_u32};
use nom::IResult;

use super::BlobError;

const HEADER_BYTES: usize = 8;

/// A validated intset: width and count checked, members strictly ascending.
pub(crate) struct Intset<'a> {
    data: &'a [u8],
    width: usize,
}

impl<'a> Intset<'a> {
    /// Checks header, exact size, non-emptiness and strict ordering.
    pub(crate) fn new(blob: &'a [u8]) -> Result<Self, BlobError> {
        let (_, (width, len)) = header(blob).map_err(|_| BlobError::new(0, "intset shorter than its header"))?;
        let width = width as usize;
        if !matches!(width, 2 | 4 | 8) {
            return Err(BlobError::new(0, format!("intset element width {width} is not 2, 4 or 8")));
        }
        if len == 0 {
            return Err(BlobError::new(4, "intset is empty"));
        }
        let need = (len as u64) * width as u64 + HEADER_BYTES as u64;
        if need != blob.len() as u64 {
            return Err(BlobError::new(
                4,
                format!("intset of {len} x {width} bytes needs {need} bytes, blob has {}", blob.len()),
            ));
        }
        let set = Intset { data: &blob[HEADER_BYTES..], width };
        let mut prev: Option<i64> = None;
        for (k, v) in set.iter().enumerate() {
            if prev.is_some_and(|p| p >= v) {
                return Err(BlobError::new(HEADER_BYTES + k * width, "intset members are not strictly ascending"));
            }
            prev = Some(v);
        }
        Ok(set)
    }

    /// Number of members.
    pub(crate) fn len(&self) -> usize {
        self.data.len() / self.width
    }

    /// The members in ascending order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = i64> + 'a {
        let width = self.width;
        self.data.chunks_exact(width).map(move |c| {
            let r: IResult<&[u8], i64> = match width {
                2 => le_i16(c).map(|(r, v)| (r, i64::from(v))),
                4 => le_i32(c).map(|(r, v)| (r, i64::from(v))),
                _ => le_i64(c),
            };
            // `chunks_exact` guarantees the width, so the parse cannot run short.
            r.map(|(_, v)| v).unwrap_or_default()
        })
    }
}

fn header(i: &[u8]) -> IResult<&[u8], (u32, u32)> {
    let (i, width) = le_u32(i)?;
    let (i, len) = le_u32(i)?;
    Ok((i, (width, len)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    #[test]
    fn sixteen_bit_members() {
        let blob = hex!("02 00 00 00 03 00 00 00 fc 7f fd 7f fe 7f");
        let set = Intset::new(&blob).expect("valid");
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![0x7ffc, 0x7ffd, 0x7ffe]);
    }

    #[test]
    fn rejects_bad_width_size_order_and_empty() {
        assert!(Intset::new(&hex!("03 00 00 00 01 00 00 00 01 00 00")).is_err());
        assert!(Intset::new(&hex!("02 00 00 00 02 00 00 00 01 00")).is_err());
        assert!(Intset::new(&hex!("02 00 00 00 02 00 00 00 02 00 01 00")).is_err());
        assert!(Intset::new(&hex!("02 00 00 00 02 00 00 00 01 00 01 00")).is_err());
        assert!(Intset::new(&hex!("02 00 00 00 00 00 00 00")).is_err());
    }
}
