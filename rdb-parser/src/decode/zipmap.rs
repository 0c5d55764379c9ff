//! Zipmap (RDB 2–3 hashes): `zmlen u8, (len key len free value padding)*, 0xFF`.

use nom::bytes::complete::take;
use nom::number::complete::{le_u32, u8 as byte};
use nom::IResult;

use super::{pos_in, BlobError};

const END: u8 = 0xff;
const BIG_LEN: u8 = 254;

/// A field and its value, borrowed from the blob.
pub(crate) type Pair<'a> = (&'a [u8], &'a [u8]);

/// Decodes and validates a zipmap into its field/value pairs (borrowed from the blob).
pub(crate) fn pairs(blob: &[u8]) -> Result<Vec<Pair<'_>>, BlobError> {
    let (mut rest, declared) =
        byte::<_, nom::error::Error<&[u8]>>(blob).map_err(|_| BlobError::new(0, "zipmap is empty"))?;
    let mut out = Vec::new();
    loop {
        let at = pos_in(blob, rest);
        if rest.first() == Some(&END) {
            if at != blob.len() - 1 {
                return Err(BlobError::new(at, "zipmap terminator before the end of the blob"));
            }
            break;
        }
        let (after, pair) = pair(rest).map_err(|_| BlobError::new(at, "zipmap entry runs past the end"))?;
        out.push(pair);
        rest = after;
    }
    if out.is_empty() {
        return Err(BlobError::new(0, "zipmap has no entries"));
    }
    if declared < BIG_LEN && usize::from(declared) != out.len() {
        return Err(BlobError::new(0, format!("zipmap header says {declared} entries, found {}", out.len())));
    }
    Ok(out)
}

fn length(i: &[u8]) -> IResult<&[u8], usize> {
    let (i, b) = byte(i)?;
    match b {
        0..=253 => Ok((i, usize::from(b))),
        BIG_LEN => le_u32(i).map(|(i, v)| (i, v as usize)),
        _ => Err(nom::Err::Error(nom::error::Error::new(i, nom::error::ErrorKind::Tag))),
    }
}

fn pair(i: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
    let (i, klen) = length(i)?;
    let (i, key) = take(klen)(i)?;
    let (i, vlen) = length(i)?;
    let (i, free) = byte(i)?;
    let (i, value) = take(vlen)(i)?;
    let (i, _) = take(usize::from(free))(i)?;
    Ok((i, (key, value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    #[test]
    fn pairs_with_padding() {
        let blob = hex!("02 01 61 01 00 78 02 62 63 02 01 79 7a 00 ff");
        assert_eq!(pairs(&blob), Ok(vec![(&b"a"[..], &b"x"[..]), (&b"bc"[..], &b"yz"[..])]));
    }

    #[test]
    fn rejects_bad_count_empty_and_overrun() {
        assert!(pairs(&hex!("03 01 61 01 00 78 ff")).is_err());
        assert!(pairs(&hex!("00 ff")).is_err());
        assert!(pairs(&hex!("01 05 61 ff")).is_err());
    }
}
