//! Lists: quicklists of ziplist or listpack nodes, and (Redis 7.2+, Valkey) a single
//! small node kept as a plain listpack.

use super::pack::{Item, PackedSize};
use super::profile::{Profile, Rules};
use super::{Encoding, KeyFacts, ValueSize};
use crate::types::RdbType;
use crate::visitor::{Container, ContainerKind};

/// `sizeof(quicklist)`; Redis 8.4+ adds the size it tracks.
const QUICKLIST: u64 = 40;
const QUICKLIST_84: u64 = 48;
/// Bytes per node (`list-max-listpack-size -2`), also the largest list kept as one
/// listpack.
const NODE_LIMIT: u64 = 8192;
/// What 7.0+ adds per element when deciding whether a node takes one more.
const SIZE_ESTIMATE_OVERHEAD: u64 = 8;

/// The node being filled, sized in the server's encoding.
#[derive(Debug)]
struct OpenNode {
    packed: PackedSize,
    items: u64,
}

impl OpenNode {
    fn new(p: &Profile) -> OpenNode {
        OpenNode { packed: p.packed(), items: 0 }
    }

    fn push(&mut self, item: &[u8]) {
        self.packed.push(Item::Bytes(item));
        self.items += 1;
    }

    /// Whether the server's push would put an element of `len` bytes into this node.
    fn takes(&self, len: u64) -> bool {
        let overhead = if self.packed.is_ziplist() {
            let prev = if len < 254 { 1 } else { 5 };
            prev + if len < 64 {
                1
            } else if len < 16_384 {
                2
            } else {
                5
            }
        } else {
            SIZE_ESTIMATE_OVERHEAD
        };
        self.packed.bytes() + len + overhead <= NODE_LIMIT
    }
}

/// A list value.
#[derive(Debug)]
pub(crate) struct ListEst {
    /// Plain lists and single ziplists are pushed element by element into new nodes.
    repush: bool,
    open: OpenNode,
    nodes: u64,
    node_bytes: u64,
    /// Size of the first node, its allocation, and whether it is packed.
    first: Option<(u64, u64, bool)>,
}

impl ListEst {
    pub(crate) fn new(p: &Profile, rdb_type: RdbType) -> ListEst {
        let repush = matches!(rdb_type, RdbType::ListLinked | RdbType::ListZiplist);
        ListEst { repush, open: OpenNode::new(p), nodes: 0, node_bytes: 0, first: None }
    }

    pub(crate) fn item(&mut self, p: &Profile, item: &[u8]) {
        if self.repush && self.open.items > 0 && !self.open.takes(item.len() as u64) {
            self.close_open(p);
        }
        self.open.push(item);
    }

    pub(crate) fn container(&mut self, p: &Profile, c: &Container) {
        if self.repush {
            return;
        }
        if c.entries == 0 {
            // Servers skip empty nodes.
            self.open = OpenNode::new(p);
            return;
        }
        let kept = match c.kind {
            ContainerKind::PlainNode => !p.ziplists(),
            ContainerKind::Listpack => !p.ziplists(),
            ContainerKind::Ziplist => p.ziplists(),
            ContainerKind::Intset | ContainerKind::Zipmap => false,
        };
        let blob = c.bytes as u64;
        let (bytes, counted) = match (kept, c.kind) {
            (true, _) => (blob, p.blob(blob)),
            // Ziplist nodes loaded by 7.0+ become listpacks in a buffer of the blob's size.
            (false, ContainerKind::Ziplist) => {
                let bytes = self.open.packed.bytes();
                (bytes, p.converted(blob, bytes))
            }
            (false, _) => (self.open.packed.bytes(), p.blob(self.open.packed.bytes())),
        };
        self.add_node(p, bytes, counted, c.kind != ContainerKind::PlainNode);
        self.open = OpenNode::new(p);
    }

    fn close_open(&mut self, p: &Profile) {
        let bytes = self.open.packed.bytes();
        self.add_node(p, bytes, p.blob(bytes), true);
        self.open = OpenNode::new(p);
    }

    /// A node of `bytes` bytes taking `counted` bytes of memory.
    fn add_node(&mut self, p: &Profile, bytes: u64, counted: u64, packed: bool) {
        self.nodes += 1;
        self.node_bytes += p.quicklist_node() + counted;
        self.first.get_or_insert((bytes, counted, packed));
    }

    pub(crate) fn finish(&mut self, p: &Profile, key: KeyFacts) -> ValueSize {
        if self.repush && self.open.items > 0 {
            self.close_open(p);
        }
        // Rules order the generations; every Valkey generation comes after Redis 7.2.
        let single_listpack = p.rules >= Rules::R72;
        match self.first {
            Some((bytes, counted, true)) if single_listpack && self.nodes == 1 && bytes <= NODE_LIMIT => {
                ValueSize { encoding: Encoding::Listpack, bytes: p.robj(key) + counted }
            }
            _ => {
                let quicklist = if p.tracked() { p.a(QUICKLIST_84) } else { QUICKLIST };
                ValueSize { encoding: Encoding::Quicklist, bytes: p.robj(key) + quicklist + self.node_bytes }
            }
        }
    }
}
