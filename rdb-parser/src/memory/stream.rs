//! Streams: the radix tree of nodes, the node listpacks, consumer groups, and (Redis
//! 8.6) idempotent producers.

use std::collections::BTreeSet;

use super::allocator::Allocator;
use super::profile::{Profile, Rules};
use super::rax::RaxSim;
use super::{Encoding, KeyFacts, ValueSize};
use crate::model::{StreamGroup, StreamId, StreamMeta};

/// `sizeof(streamNACK)`: delivery time, delivery count, consumer pointer.
const NACK: u64 = 24;

/// Redis 8.4+ structs: `stream`, `streamCG`, `streamConsumer`, `streamNACK` (with the
/// links of the delivery-time list and of the entry-to-groups index), `idmpProducer`,
/// and `idmpEntry` without its ID bytes.
const STREAM_84: u64 = 160;
const GROUP_84: u64 = 56;
const CONSUMER_84: u64 = 32;
const NACK_84: u64 = 64;
const PRODUCER_84: u64 = 24;
const IDMP_ENTRY_84: u64 = 32;

/// A stream value.
#[derive(Debug)]
pub(crate) struct StreamEst {
    nodes: RaxSim,
    listpacks: u64,
    length: u64,
    groups: u64,
    /// Redis 8.4+: the tree of group names, the IDs pending in any group (the tree
    /// that maps entries to the groups holding them, built when the stream ends), and
    /// the producers' memory.
    group_names: RaxSim,
    pending_ids: BTreeSet<[u8; 16]>,
    producers: u64,
}

impl StreamEst {
    pub(crate) fn new(allocator: Allocator) -> StreamEst {
        StreamEst {
            nodes: RaxSim::new(allocator),
            listpacks: 0,
            length: 0,
            groups: 0,
            group_names: RaxSim::new(allocator),
            pending_ids: BTreeSet::new(),
            producers: 0,
        }
    }

    pub(crate) fn node(&mut self, p: &Profile, master: StreamId, listpack_bytes: usize) {
        self.nodes.insert(&master.to_be_bytes());
        let bytes = listpack_bytes as u64;
        // Up to 6.0 and from 8.4 the listpack's byte length counts, else its allocation.
        self.listpacks += if p.rules <= Rules::R60 || p.tracked() { bytes } else { p.a(bytes) };
    }

    pub(crate) fn meta(&mut self, p: &Profile, meta: &StreamMeta) {
        self.length = meta.length;
        if let (true, Some(idmp)) = (p.tracked(), &meta.idmp) {
            // The producers' tree and their ID tables are not tracked; the producers and
            // the remembered IDs are.
            for producer in &idmp.producers {
                self.producers += p.a(PRODUCER_84);
                for (iid, _) in &producer.entries {
                    self.producers += p.a(IDMP_ENTRY_84 + iid.len() as u64);
                }
            }
        }
    }

    pub(crate) fn group(&mut self, p: &Profile, g: &StreamGroup) {
        if p.tracked() {
            self.tracked_group(p, g);
            return;
        }
        let alloc = p.allocator();
        let mut pel = RaxSim::new(alloc);
        for e in &g.pending {
            pel.insert(&e.id.to_be_bytes());
        }
        let valkey = p.valkey_table();
        // Valkey 8.1+ counts its trees by allocation, Redis by a fixed estimate; the
        // structs and consumer names count by their size either way.
        let tree = |r: &RaxSim| if valkey { r.alloc_size() } else { r.redis_estimate() };
        let cg = if p.rules <= Rules::R62 { 32 } else { 40 };
        let consumer = if p.rules <= Rules::R70 { 24 } else { 32 };
        self.groups += cg + tree(&pel) + NACK * pel.elements();
        for c in &g.consumers {
            let mut own = RaxSim::new(alloc);
            for id in &c.pending {
                own.insert(&id.to_be_bytes());
            }
            self.groups += consumer + c.name.len() as u64 + tree(&own);
        }
    }

    /// A group as Redis 8.4+ tracks it: the struct, its pending entries and their
    /// tree, its consumers with their names and trees, the tree of consumer names.
    fn tracked_group(&mut self, p: &Profile, g: &StreamGroup) {
        let alloc = p.allocator();
        self.group_names.insert(&g.name);
        let mut pel = RaxSim::new(alloc);
        for e in &g.pending {
            let id = e.id.to_be_bytes();
            pel.insert(&id);
            self.pending_ids.insert(id);
        }
        let mut names = RaxSim::new(alloc);
        self.groups += p.a(GROUP_84) + pel.alloc_size() + p.a(NACK_84) * pel.elements();
        for c in &g.consumers {
            names.insert(&c.name);
            let mut own = RaxSim::new(alloc);
            for id in &c.pending {
                own.insert(&id.to_be_bytes());
            }
            self.groups += p.a(CONSUMER_84) + p.sds(c.name.len() as u64) + own.alloc_size();
        }
        self.groups += names.alloc_size();
    }

    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    pub(crate) fn finish(&self, p: &Profile, key: KeyFacts) -> ValueSize {
        if p.tracked() {
            return ValueSize { encoding: Encoding::Stream, bytes: p.robj(key) + self.tracked_size(p) };
        }
        let stream_struct = match p.rules {
            Rules::R50 | Rules::R60 => 0,
            Rules::R62 => 40,
            _ => 80,
        };
        let tree = if p.valkey_table() { self.nodes.alloc_size() } else { self.nodes.redis_estimate() };
        let bytes = p.robj(key) + stream_struct + tree + self.listpacks + self.groups;
        ValueSize { encoding: Encoding::Stream, bytes }
    }
}

impl StreamEst {
    /// Redis 8.4+: the struct, the node tree and listpacks, the groups with the tree of
    /// their names, the tree mapping pending IDs to groups, and the producers.
    fn tracked_size(&self, p: &Profile) -> u64 {
        let mut total = p.a(STREAM_84) + self.nodes.alloc_size() + self.listpacks + self.producers;
        if self.group_names.elements() > 0 {
            total += self.group_names.alloc_size() + self.groups;
        }
        if !self.pending_ids.is_empty() {
            let mut refs = RaxSim::new(p.allocator());
            for id in &self.pending_ids {
                refs.insert(id);
            }
            total += refs.alloc_size();
        }
        total
    }
}
