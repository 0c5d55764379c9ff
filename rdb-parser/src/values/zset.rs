//! Sorted sets: text scores (type 3), binary scores (5), ziplist (12), listpack (17).

use std::io::Read;

use super::walk_groups;
use crate::checks::{DupCheck, ZsetOrder};
use crate::context::{blob_err, Buf, Ctx, Gate};
use crate::decode::listpack::Listpack;
use crate::decode::ziplist::Ziplist;
use crate::decode::Elem;
use crate::error::{Error, Result};
use crate::prim::{parse_score, StringOrigin};
use crate::types::RdbType;
use crate::visitor::KeyStart;
use crate::visitor::{Container, ContainerKind, Visitor};

pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    cx.dups.reset();
    cx.order.reset();
    match head.rdb_type {
        RdbType::ZSetZiplist => {
            let origin = cx.string(Buf::Blob, "a sorted-set ziplist")?;
            let zl = Ziplist::new(&cx.blob).map_err(|e| blob_err(&origin, "sorted-set ziplist", e))?;
            g.begin(head, zl.declared_len().map(|n| n as u64 / 2))?;
            let n = compact_pairs(&mut cx.dups, &mut cx.order, zl, &origin, "sorted-set ziplist", g)?;
            let kind = ContainerKind::Ziplist;
            g.container(&Container { kind, bytes: cx.blob.len(), entries: n, compressed: origin.raw_data.is_none() })
        }
        RdbType::ZSetListpack => {
            let origin = cx.string(Buf::Blob, "a sorted-set listpack")?;
            let lp = Listpack::new(&cx.blob).map_err(|e| blob_err(&origin, "sorted-set listpack", e))?;
            g.begin(head, lp.declared_len().map(|n| n as u64 / 2))?;
            let n = compact_pairs(&mut cx.dups, &mut cx.order, lp, &origin, "sorted-set listpack", g)?;
            let kind = ContainerKind::Listpack;
            g.container(&Container { kind, bytes: cx.blob.len(), entries: n, compressed: origin.raw_data.is_none() })
        }
        t => {
            let n = cx.count()?;
            cx.dups.reserve(n);
            g.begin(head, Some(n))?;
            for _ in 0..n {
                let at = cx.src.offset();
                cx.string(Buf::A, "a sorted-set member")?;
                let score_at = cx.src.offset();
                let score =
                    if t == RdbType::ZSet2 { cx.src.f64_le("a binary score")? } else { cx.src.text_double()? };
                if score.is_nan() {
                    return Err(Error::corrupt(score_at, "sorted-set score is NaN"));
                }
                if !cx.dups.insert(&cx.a) {
                    return Err(Error::corrupt(at, "duplicate sorted-set member"));
                }
                g.zset_member(&cx.a, score)?;
            }
            Ok(())
        }
    }
}

/// Member/score pairs of a ziplist or listpack: unique members, sorted by (score, member).
/// Returns the number of elements (twice the number of members).
fn compact_pairs<'a, V: Visitor>(
    dups: &mut DupCheck,
    order: &mut ZsetOrder,
    items: impl super::Walk<'a>,
    origin: &StringOrigin,
    what: &str,
    g: &mut Gate<'_, V>,
) -> Result<usize> {
    let mut mb = itoa::Buffer::new();
    walk_groups::<2, _>(items, origin, what, |at, [m, s]| {
        let member = m.bytes(&mut mb);
        let score = match s {
            Elem::Int(v) => v as f64,
            Elem::Bytes(b) => parse_score(b).ok_or_else(|| {
                origin.error(at, what, format!("invalid score {}", crate::escape::escape_bytes(b, 40)))
            })?,
        };
        if !dups.insert(member) {
            return Err(origin.error(at, what, "duplicate member"));
        }
        if !order.next(member, score) {
            return Err(origin.error(at, what, "members are not sorted by score, then member"));
        }
        g.zset_member(member, score)
    })
}
