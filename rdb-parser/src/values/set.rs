//! Sets: plain members (type 2), intset (11), listpack (20).

use std::io::Read;

use super::walk_groups;
use crate::context::{blob_err, Buf, Ctx, Gate};
use crate::decode::intset::Intset;
use crate::decode::listpack::Listpack;
use crate::error::{Error, Result};
use crate::types::RdbType;
use crate::visitor::KeyStart;
use crate::visitor::{Container, ContainerKind, Visitor};

pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    cx.dups.reset();
    match head.rdb_type {
        RdbType::SetIntset => {
            let origin = cx.string(Buf::Blob, "an intset")?;
            let set = Intset::new(&cx.blob).map_err(|e| blob_err(&origin, "intset", e))?;
            g.begin(head, Some(set.len() as u64))?;
            if g.is_open() {
                let mut buf = itoa::Buffer::new();
                for v in set.iter() {
                    g.set_member(buf.format(v).as_bytes())?;
                }
            } else {
                g.elements += set.len() as u64;
            }
            let (bytes, entries) = (cx.blob.len(), set.len());
            g.container(&Container {
                kind: ContainerKind::Intset,
                bytes,
                entries,
                compressed: origin.raw_data.is_none(),
            })
        }
        RdbType::SetListpack => {
            let origin = cx.string(Buf::Blob, "a set listpack")?;
            let lp = Listpack::new(&cx.blob).map_err(|e| blob_err(&origin, "set listpack", e))?;
            g.begin(head, lp.declared_len().map(|n| n as u64))?;
            let mut buf = itoa::Buffer::new();
            let dups = &mut cx.dups;
            let n = walk_groups::<1, _>(lp, &origin, "set listpack", |at, [e]| {
                let m = e.bytes(&mut buf);
                if !dups.insert(m) {
                    return Err(origin.error(at, "set listpack", "duplicate member"));
                }
                g.set_member(m)
            })?;
            let bytes = cx.blob.len();
            g.container(&Container {
                kind: ContainerKind::Listpack,
                bytes,
                entries: n,
                compressed: origin.raw_data.is_none(),
            })
        }
        _ => {
            let n = cx.count()?;
            cx.dups.reserve(n);
            g.begin(head, Some(n))?;
            for _ in 0..n {
                let at = cx.src.offset();
                cx.string(Buf::A, "a set member")?;
                if !cx.dups.insert(&cx.a) {
                    return Err(Error::corrupt(at, "duplicate set member"));
                }
                g.set_member(&cx.a)?;
            }
            Ok(())
        }
    }
}
