//! What the headers of a value's stored bytes say: whether a value that was stepped over
//! holds any element (for visitors that copy stored values: servers drop empty ones),
//! and whether one about to be read is too large to copy. Header counts are safe to
//! trust here: the checker's decoders refuse a header whose count disagrees with the
//! elements.

use crate::layout::Shape;
use crate::lzf;
use crate::prim::LZF_STRING;
use crate::types::RdbType;

/// Bytes of a blob's header read to find its count (a ziplist's is the longest).
const HEAD: usize = 10;
/// Bytes of a stored value's start that hold its size: an LZF string's marker and two
/// lengths, or one length.
pub(crate) const SIZE_HEAD: usize = 19;

/// Bytes of a stored value's start that [`large`] reads for a value laid out as `shape`.
pub(crate) fn head_len(shape: Shape) -> usize {
    match shape {
        Shape::Stream(_) => STREAM_HEAD,
        _ => SIZE_HEAD,
    }
}

/// Whether the value laid out as `shape` whose stored bytes start with `head` states a
/// size over the limits of copying ([`super::MAX_JOB_BYTES`] stored bytes,
/// [`super::MAX_COPY_NODES`] quicklist nodes, [`super::MAX_COPY_COUNT`] elements;
/// streams: [`large_stream`]). Headers cut short say nothing.
pub(crate) fn large(shape: Shape, head: &[u8]) -> bool {
    let stated = match shape {
        Shape::LzfString | Shape::Blob(_) => stored_bytes(head).map(|n| n > super::MAX_JOB_BYTES as u64),
        Shape::Quicklist | Shape::Quicklist2 => length(head).map(|(n, _)| n > super::MAX_COPY_NODES),
        Shape::Elements(..) => length(head).map(|(n, _)| n > super::MAX_COPY_COUNT),
        Shape::Stream(_) => Some(large_stream(head)),
    };
    stated.unwrap_or(false)
}

/// Bytes of a stream's start read to judge its size: its node count, its first node's
/// master ID and the header of its first listpack.
const STREAM_HEAD: usize = 48;

/// Whether the stream whose stored bytes start with `head` states more nodes than a
/// copy takes ([`super::MAX_COPY_NODES`]) or a first listpack of more than
/// [`super::MAX_JOB_BYTES`] (uncompressed). Headers cut short say nothing.
fn large_stream(head: &[u8]) -> bool {
    let stated = || -> Option<bool> {
        let (nodes, used) = length(head)?;
        if nodes > super::MAX_COPY_NODES {
            return Some(true);
        }
        // The master ID: a 16-byte string.
        let (id_len, id_used) = length(head.get(used..)?)?;
        let listpack = head.get(used + id_used + usize::try_from(id_len).ok()?..)?;
        let bytes = lzf_string_len(listpack).or_else(|| length(listpack).map(|(n, _)| n))?;
        Some(bytes > super::MAX_JOB_BYTES as u64)
    };
    stated().unwrap_or(false)
}

/// The uncompressed length an LZF-compressed string's header states (`None` for other
/// strings and cut headers).
pub(crate) fn lzf_string_len(head: &[u8]) -> Option<u64> {
    if head.first() != Some(&LZF_STRING) {
        return None;
    }
    let (_clen, used) = length(&head[1..])?;
    length(&head[1 + used..]).map(|(ulen, _)| ulen)
}

/// The bytes a stored string states it takes after its header (compressed ones: the
/// compressed length).
fn stored_bytes(head: &[u8]) -> Option<u64> {
    if head.first() == Some(&LZF_STRING) {
        return length(&head[1..]).map(|(clen, _)| clen);
    }
    length(head).map(|(n, _)| n)
}

/// What the stored bytes `v` of a value of type `t` and layout `shape` say: `Some(true)`
/// when it holds elements, `Some(false)` when it holds none, `None` when the headers
/// cannot tell (then only decoding can).
pub(super) fn holds_elements(t: RdbType, shape: Shape, v: &[u8]) -> Option<bool> {
    match shape {
        Shape::LzfString => Some(true),
        Shape::Blob(_) => blob_count(t, blob_head(v)?).map(|n| n > 0),
        Shape::Elements(..) => Some(length(v)?.0 > 0),
        // Stream values are never empty collections.
        Shape::Stream(_) => Some(true),
        Shape::Quicklist | Shape::Quicklist2 => {
            let (nodes, used) = length(v)?;
            if nodes == 0 {
                return Some(false);
            }
            let mut node = &v[used..];
            if matches!(shape, Shape::Quicklist2) {
                let (container, used) = length(node)?;
                // A plain node holds one element.
                if container == 1 {
                    return Some(true);
                }
                node = &node[used..];
            }
            let kind = if matches!(shape, Shape::Quicklist) { RdbType::ListZiplist } else { RdbType::SetListpack };
            // An empty first node says nothing about the others.
            blob_count(kind, blob_head(node)?).and_then(|n| (n > 0).then_some(true))
        }
    }
}

/// The element count in a blob's header, when it states one.
fn blob_count(t: RdbType, (head, have): ([u8; HEAD], usize)) -> Option<u64> {
    let u16_at = |i: usize| (i + 2 <= have).then(|| u16::from_le_bytes([head[i], head[i + 1]]));
    match t {
        RdbType::ListZiplist | RdbType::ZSetZiplist | RdbType::HashZiplist => {
            u16_at(8).filter(|&n| n != u16::MAX).map(u64::from)
        }
        RdbType::SetListpack | RdbType::ZSetListpack | RdbType::HashListpack => {
            u16_at(4).filter(|&n| n != u16::MAX).map(u64::from)
        }
        RdbType::SetIntset if have >= 8 => Some(u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]))),
        RdbType::HashZipmap if have >= 1 => Some(head[0]).filter(|&n| n < 254).map(u64::from),
        _ => None,
    }
}

/// Up to the first [`HEAD`] bytes of a stored string (plain or LZF-compressed) and how
/// many there are; `None` when it is cut short or encoded as an integer.
fn blob_head(v: &[u8]) -> Option<([u8; HEAD], usize)> {
    if v.first() == Some(&LZF_STRING) {
        let (clen, a) = length(&v[1..])?;
        let (_ulen, b) = length(&v[1 + a..])?;
        let from = 1 + a + b;
        let packed = v.get(from..from.checked_add(usize::try_from(clen).ok()?)?)?;
        // Servers compress only strings longer than 20 bytes.
        return Some((lzf::head::<HEAD>(packed)?, HEAD));
    }
    let (n, used) = length(v)?;
    let data = v.get(used..used.checked_add(usize::try_from(n).ok()?)?)?;
    let have = data.len().min(HEAD);
    let mut head = [0u8; HEAD];
    head[..have].copy_from_slice(&data[..have]);
    Some((head, have))
}

/// An RDB length at the start of `v` and the bytes it takes; `None` for the special
/// (integer or LZF) encodings.
fn length(v: &[u8]) -> Option<(u64, usize)> {
    let b = *v.first()?;
    match b >> 6 {
        0 => Some((u64::from(b & 0x3f), 1)),
        1 => Some(((u64::from(b & 0x3f) << 8) | u64::from(*v.get(1)?), 2)),
        2 if b == 0x80 => Some((u64::from(u32::from_be_bytes(v.get(1..5)?.try_into().ok()?)), 5)),
        2 if b == 0x81 => Some((u64::from_be_bytes(v.get(1..9)?.try_into().ok()?), 9)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_of_many_nodes_or_a_big_first_listpack_are_large() {
        let id = [0x10u8; 17];
        let stream = |nodes: &[u8], listpack: &[u8]| [nodes, &id[..], listpack].concat();
        assert!(large_stream(&stream(&[0x40, 129], &[0x05])), "129 nodes");
        assert!(!large_stream(&stream(&[0x40, 128], &[0x05])), "128 small nodes");
        assert!(large_stream(&stream(&[0x01], &[0x80, 0, 0x10, 0, 1])), "a listpack over 1 MiB");
        assert!(!large_stream(&stream(&[0x01], &[0x80, 0, 0x10, 0, 0])), "a listpack of 1 MiB");
        assert!(large_stream(&stream(&[0x01], &[LZF_STRING, 0x44, 0, 0x80, 0, 0x20, 0, 0])), "compressed, 2 MiB");
        assert!(!large_stream(&stream(&[0x01], &[])), "cut short");
    }

    #[test]
    fn sizes_over_a_copy_are_large() {
        let blob = Shape::Blob("a listpack");
        // 0x80: a 32-bit length follows.
        assert!(large(blob, &[0x80, 0, 0x10, 0, 1]));
        assert!(!large(blob, &[0x80, 0, 0x10, 0, 0]));
        assert!(large(Shape::LzfString, &[LZF_STRING, 0x80, 0, 0x20, 0, 0, 0x40]));
        assert!(!large(Shape::LzfString, &[LZF_STRING, 0x7f, 0xff, 0x80]));
        assert!(large(Shape::Elements(&["a set member"], false), &[0x80, 0, 1, 0, 1]));
        assert!(!large(Shape::Elements(&["a set member"], false), &[0x80, 0, 1, 0, 0]));
        assert!(large(Shape::Quicklist2, &[0x40, 129]));
        assert!(!large(Shape::Quicklist, &[0x40, 128]));
        // Cut short or special: nothing stated.
        assert!(!large(blob, &[0x80, 0, 0x10]));
        assert!(!large(Shape::LzfString, &[LZF_STRING]));
        assert!(!large(blob, &[]));
    }
}
