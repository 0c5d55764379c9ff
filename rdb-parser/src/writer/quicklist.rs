//! Lists re-encoded for another version node by node from their stored bytes: a
//! quicklist of listpacks (RDB 10 and later) becomes a quicklist of ziplists (RDB 7–9)
//! and the other way round, one node written for each node stored, so that a big list
//! is never held decoded.

use super::containers::{ListpackBuilder, ZiplistBuilder};
use super::encode::{put_len, put_string};
use super::target::Target;
use crate::decode::listpack::Listpack;
use crate::decode::ziplist::Ziplist;
use crate::decode::{BlobError, Elem};
use crate::prim::Limits;
use crate::source::Source;
use crate::types::RdbType;
use crate::VisitError;

/// Read buffer over the stored value (the value itself is not copied into it whole).
const READ_BUFFER_BYTES: usize = 64 << 10;
/// Quicklist 2 container of one element too large to pack.
const PLAIN_NODE: u64 = 1;
/// Quicklist 2 container of a listpack.
const PACKED_NODE: u64 = 2;

/// The quicklist type `t` writes for a stored list of type `from` when the two keep
/// their nodes in different containers (ziplists and listpacks); `None` otherwise.
pub(crate) fn converted_type(from: RdbType, t: &Target) -> Option<RdbType> {
    match from {
        RdbType::ListQuicklist2 if t.has_quicklist() && !t.has_listpacks() => Some(RdbType::ListQuicklist),
        RdbType::ListQuicklist if t.has_listpacks() => Some(RdbType::ListQuicklist2),
        _ => None,
    }
}

/// Writes the stored quicklist `raw` of type `from` as one of type `to` (from
/// [`converted_type`]), passing the output piece by piece to `emit`: the node count,
/// then each node as it is re-encoded.
pub(crate) fn convert(
    from: RdbType,
    raw: &[u8],
    to: RdbType,
    emit: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> Result<(), VisitError> {
    let mut src = Source::new(raw, READ_BUFFER_BYTES);
    let limits = Limits::default();
    let (mut blob, mut scratch, mut out) = (Vec::new(), Vec::new(), Vec::new());
    let count = src.length()?;
    put_len(&mut out, count);
    emit(&out)?;
    let mut number = itoa::Buffer::new();
    for _ in 0..count {
        let container = if from == RdbType::ListQuicklist2 { src.length()? } else { PACKED_NODE };
        src.string_into(&mut blob, &mut scratch, &limits, "a quicklist node")?;
        out.clear();
        match (container, to) {
            (PLAIN_NODE, _) => {
                let mut zl = ZiplistBuilder::new();
                zl.push(&blob);
                put_string(&mut out, &zl.finish());
            }
            (_, RdbType::ListQuicklist) => {
                let mut zl = ZiplistBuilder::new();
                for item in Listpack::new(&blob).map_err(damaged)? {
                    zl.push(item.map_err(damaged)?.bytes(&mut number));
                }
                put_string(&mut out, &zl.finish());
            }
            _ => {
                let mut lp = ListpackBuilder::new();
                for item in Ziplist::new(&blob).map_err(damaged)? {
                    match item.map_err(damaged)? {
                        Elem::Int(v) => lp.push_int(v),
                        Elem::Bytes(b) => lp.push(b),
                    }
                }
                put_len(&mut out, PACKED_NODE);
                put_string(&mut out, &lp.finish());
            }
        }
        emit(&out)?;
    }
    if src.offset() != raw.len() as u64 {
        return Err("a stored list has bytes after its last quicklist node".into());
    }
    Ok(())
}

fn damaged(e: BlobError) -> VisitError {
    format!("a stored quicklist node is damaged at byte {} of the node: {}", e.at, e.msg).into()
}
