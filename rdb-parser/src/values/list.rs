//! Lists: plain (type 1), one ziplist (10), quicklists of ziplists (14) or of listpacks
//! and plain nodes (18).

use std::io::Read;

use super::walk_groups;
use crate::context::{blob_err, Buf, Ctx, Gate};
use crate::decode::listpack::Listpack;
use crate::decode::ziplist::Ziplist;
use crate::error::{Error, Result};
use crate::prim::StringOrigin;
use crate::types::RdbType;
use crate::visitor::KeyStart;
use crate::visitor::{Container, ContainerKind, Visitor};

/// Quicklist-2 node holding one element as-is.
const NODE_PLAIN: u64 = 1;
/// Quicklist-2 node holding a listpack.
const NODE_PACKED: u64 = 2;

pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    match head.rdb_type {
        RdbType::ListLinked => {
            let n = cx.count()?;
            g.begin(head, Some(n))?;
            for _ in 0..n {
                cx.string(Buf::A, "a list element")?;
                g.list_item(&cx.a)?;
            }
            Ok(())
        }
        RdbType::ListZiplist => {
            let origin = cx.string(Buf::Blob, "a ziplist")?;
            let zl = Ziplist::new(&cx.blob).map_err(|e| blob_err(&origin, "list ziplist", e))?;
            g.begin(head, zl.declared_len().map(|n| n as u64))?;
            ziplist_items(&cx.blob, &origin, g)
        }
        RdbType::ListQuicklist => {
            let nodes = cx.count()?;
            g.begin(head, None)?;
            for _ in 0..nodes {
                let origin = cx.string(Buf::Blob, "a quicklist node")?;
                ziplist_items(&cx.blob, &origin, g)?;
            }
            Ok(())
        }
        _ => {
            let nodes = cx.count()?;
            g.begin(head, None)?;
            for _ in 0..nodes {
                let at = cx.src.offset();
                let container = cx.src.length()?;
                let origin = cx.string(Buf::Blob, "a quicklist node")?;
                if cx.blob.is_empty() {
                    return Err(Error::corrupt(origin.header, "quicklist node is empty"));
                }
                match container {
                    NODE_PLAIN => {
                        g.container(&plain_node(&cx.blob, &origin))?;
                        g.list_item(&cx.blob)?;
                    }
                    NODE_PACKED => listpack_items(&cx.blob, &origin, g)?,
                    other => return Err(Error::corrupt(at, format!("quicklist node container {other} is not 1 or 2"))),
                }
            }
            Ok(())
        }
    }
}

fn plain_node(blob: &[u8], origin: &StringOrigin) -> Container {
    Container { kind: ContainerKind::PlainNode, bytes: blob.len(), entries: 1, compressed: origin.raw_data.is_none() }
}

fn ziplist_items<V: Visitor>(blob: &[u8], origin: &StringOrigin, g: &mut Gate<'_, V>) -> Result<()> {
    let zl = Ziplist::new(blob).map_err(|e| blob_err(origin, "list ziplist", e))?;
    let mut buf = itoa::Buffer::new();
    let n = walk_groups::<1, _>(zl, origin, "list ziplist", |_, [e]| g.list_item(e.bytes(&mut buf)))?;
    let kind = ContainerKind::Ziplist;
    g.container(&Container { kind, bytes: blob.len(), entries: n, compressed: origin.raw_data.is_none() })
}

fn listpack_items<V: Visitor>(blob: &[u8], origin: &StringOrigin, g: &mut Gate<'_, V>) -> Result<()> {
    let lp = Listpack::new(blob).map_err(|e| blob_err(origin, "list listpack", e))?;
    let mut buf = itoa::Buffer::new();
    let n = walk_groups::<1, _>(lp, origin, "list listpack", |_, [e]| g.list_item(e.bytes(&mut buf)))?;
    let kind = ContainerKind::Listpack;
    g.container(&Container { kind, bytes: blob.len(), entries: n, compressed: origin.raw_data.is_none() })
}
