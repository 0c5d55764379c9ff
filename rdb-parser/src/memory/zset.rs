//! Sorted sets: listpacks (ziplists up to 6.2) or a skiplist with a member index.

use super::key::DICT_ENTRY;
use super::pack::{Item, PackedSize};
use super::profile::{Profile, Rules};
use super::score;
use super::sds::header_for_type;
use super::table::{dict_buckets, skiplist_node, valkey_table};
use super::{Encoding, KeyFacts, ValueSize};
use crate::types::RdbType;
use crate::visitor::{Container, ContainerKind};

/// Skiplist node without levels: member pointer, score, backward pointer.
const NODE_BASE: u64 = 24;
/// Levels of the header node (`ZSKIPLIST_MAXLEVEL`: 64 up to Redis 5, then 32).
fn header_levels(p: &Profile) -> u64 {
    if p.rules == Rules::R50 {
        64
    } else {
        32
    }
}
/// Valkey 9 header node request (fitted, see `skiplist`).
const V9_HEADER: u64 = 16 + 16 * 30;
/// `sizeof(zset)`: dict and skiplist pointers.
const ZSET: u64 = 16;
/// Redis 8.4+: node without levels (score, backward pointer; the member follows the
/// levels), and `sizeof(zskiplist)` with its tracked size.
const NODE_BASE_84: u64 = 16;
const ZSKIPLIST_84: u64 = 40;

/// A sorted-set value.
#[derive(Debug)]
pub(crate) struct ZSetEst {
    count: u64,
    largest: u64,
    /// Member/score entries in the server's compact encoding, while that may be needed
    /// (not when the loader keeps the file's blob).
    packed: Option<PackedSize>,
    /// Σ of the members' sds sizes (Redis, Valkey 8.x).
    members: u64,
    /// Σ of expected skiplist node sizes (Valkey 9: with the member inside).
    nodes: f64,
    /// Expected size of a node without an embedded member, computed once.
    plain_node: Option<f64>,
    blob: Option<(ContainerKind, u64)>,
}

impl ZSetEst {
    pub(crate) fn new(p: &Profile, rdb_type: RdbType) -> ZSetEst {
        let packed = (!p.keeps_blob(rdb_type)).then(|| p.packed());
        ZSetEst { count: 0, largest: 0, packed, members: 0, nodes: 0.0, plain_node: None, blob: None }
    }

    pub(crate) fn member(&mut self, p: &Profile, m: &[u8], score: f64) {
        let len = m.len() as u64;
        self.count += 1;
        self.largest = self.largest.max(len);
        if self.count > p.limits.zset_entries as u64 {
            self.packed = None;
        }
        if let Some(packed) = &mut self.packed {
            let ziplist = packed.is_ziplist();
            packed.push(Item::Bytes(m));
            packed.push(score::encode(score, !ziplist, p.rules >= Rules::R72).item());
        }
        if p.rules == Rules::V90 {
            self.nodes += skiplist_node(p, 17 + p.sds_hdr(len) + len + 1);
        } else if p.tracked() {
            self.nodes += skiplist_node(p, NODE_BASE_84 + header_for_type(len, true) + len + 1);
        } else {
            self.members += p.sds(len);
            self.nodes += *self.plain_node.get_or_insert_with(|| skiplist_node(p, NODE_BASE));
        }
    }

    pub(crate) fn container(&mut self, c: &Container) {
        self.blob = Some((c.kind, c.bytes as u64));
    }

    pub(crate) fn finish(&self, p: &Profile, key: KeyFacts) -> ValueSize {
        let lim = &p.limits;
        let small = self.count <= lim.zset_entries as u64;
        let packed = self.packed.map_or(0, |s| s.bytes());
        let (encoding, body) = match self.blob {
            // The loader keeps a blob of its own encoding and only checks the count.
            Some(_) if small => p.compact(self.blob, packed),
            None if small && self.largest <= lim.zset_value as u64 => p.compact(None, packed),
            _ => (Encoding::Skiplist, self.skiplist(p)),
        };
        ValueSize { encoding, bytes: p.robj(key) + body }
    }

    fn skiplist(&self, p: &Profile) -> u64 {
        let n = self.count;
        let header = p.a(NODE_BASE + 16 * header_levels(p));
        let nodes = self.nodes.round() as u64;
        match p.rules {
            Rules::V81 => ZSET + 32 + valkey_table(n) + header + self.members + nodes,
            Rules::R84 => {
                let index = p.dict_struct() + 8 * dict_buckets(n) + DICT_ENTRY * n;
                let header = p.a(NODE_BASE_84 + 16 * header_levels(p));
                ZSET + p.a(ZSKIPLIST_84) + index + header + nodes
            }
            // Fitted to Valkey 9.1 (glibc): struct and header node together come to 40
            // bytes less than 8.1's, as a 32-byte skiplist struct and a header of 496
            // bytes would.
            Rules::V90 => ZSET + 32 + valkey_table(n) + p.a(V9_HEADER) + nodes,
            _ => {
                let index = p.dict_struct() + 8 * dict_buckets(n) + DICT_ENTRY * n;
                ZSET + 32 + index + header + self.members + nodes
            }
        }
    }
}
