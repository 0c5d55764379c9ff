//! Stored values copied with their LZF-compressed strings written out plain, for DUMP
//! payloads: a server loading a payload then copies those strings instead of
//! decompressing them, which for `RESTORE` of a typical dump is about 8% of its work
//! (the payload is larger: the client pays that in bytes sent, not in the server's CPU).

use super::encode::{put_len, put_raw_string};
use crate::layout::{shape, Shape};
use crate::prim::{Limits, LZF_STRING};
use crate::source::Source;
use crate::types::RdbType;

/// Appends the stored value `raw` of type `ty` with its LZF strings decompressed, when
/// the value is made of whole RDB strings this knows (one blob: strings, intsets,
/// zipmaps, ziplists, listpacks; or the nodes of a quicklist) and holds one; returns
/// false (leaving `out` as it was) otherwise, so the value is copied as stored.
pub(crate) fn put_uncompressed(out: &mut Vec<u8>, ty: RdbType, raw: &[u8]) -> bool {
    let start = out.len();
    let done = match shape(ty) {
        Some(one @ (Shape::LzfString | Shape::Blob(_))) => raw.first() == Some(&LZF_STRING) && rewrite(out, raw, one),
        Some(nodes @ (Shape::Quicklist | Shape::Quicklist2)) => rewrite(out, raw, nodes),
        Some(Shape::Elements(..) | Shape::Stream(_)) | None => false,
    };
    if !done {
        out.truncate(start);
    }
    done
}

/// Rewrites `raw`, laid out as `shape` (one string, or the nodes of a quicklist), into
/// `out` string by string; false when it is not laid out so or has no LZF string
/// (nothing to gain).
fn rewrite(out: &mut Vec<u8>, raw: &[u8], shape: Shape) -> bool {
    let mut src = Source::new(raw, raw.len().max(64));
    let (limits, mut text, mut scratch) = (Limits::default(), Vec::new(), Vec::new());
    let mut compressed = false;
    let mut string = |src: &mut Source<&[u8]>, out: &mut Vec<u8>| -> bool {
        let at = src.offset() as usize;
        compressed |= raw.get(at) == Some(&LZF_STRING);
        if src.string_into(&mut text, &mut scratch, &limits, "a value").is_err() {
            return false;
        }
        put_raw_string(out, &text);
        true
    };
    let whole = match shape {
        Shape::Quicklist | Shape::Quicklist2 => {
            let containers = matches!(shape, Shape::Quicklist2);
            let Ok(count) = src.length() else { return false };
            put_len(out, count);
            (0..count).all(|_| {
                if containers {
                    let Ok(container) = src.length() else { return false };
                    put_len(out, container);
                }
                string(&mut src, out)
            })
        }
        Shape::LzfString | Shape::Blob(_) => string(&mut src, out),
        Shape::Elements(..) | Shape::Stream(_) => false,
    };
    whole && compressed && src.offset() == raw.len() as u64
}

#[cfg(test)]
mod tests {
    use super::super::encode::put_string;
    use super::*;

    #[test]
    fn lzf_strings_come_out_plain() {
        let text = b"compressible compressible compressible compressible".repeat(4);
        let mut packed = Vec::new();
        put_string(&mut packed, &text);
        assert_eq!(packed[0], LZF_STRING);
        let mut out = vec![9];
        assert!(put_uncompressed(&mut out, RdbType::String, &packed));
        let mut plain = vec![9];
        put_raw_string(&mut plain, &text);
        assert_eq!(out, plain);

        // A quicklist 2 of two nodes: one plain, one packed.
        let mut list = Vec::new();
        put_len(&mut list, 2);
        put_len(&mut list, 2);
        put_raw_string(&mut list, b"short");
        put_len(&mut list, 2);
        list.extend_from_slice(&packed);
        let mut out = Vec::new();
        assert!(put_uncompressed(&mut out, RdbType::ListQuicklist2, &list));
        let mut want = Vec::new();
        put_len(&mut want, 2);
        put_len(&mut want, 2);
        put_raw_string(&mut want, b"short");
        put_len(&mut want, 2);
        put_raw_string(&mut want, &text);
        assert_eq!(out, want);

        // Nothing compressed, a truncated value, a type it does not know: copied as stored.
        let mut out = vec![1];
        assert!(!put_uncompressed(&mut out, RdbType::String, b"\x05hello"));
        assert!(!put_uncompressed(&mut out, RdbType::String, &packed[..packed.len() - 1]));
        assert!(!put_uncompressed(&mut out, RdbType::Hash, &packed));
        assert_eq!(out, [1]);
    }
}
