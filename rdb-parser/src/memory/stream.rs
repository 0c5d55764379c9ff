//! Streams: the radix tree of nodes, the node listpacks, consumer groups.

use super::allocator::Allocator;
use super::profile::{Profile, Rules};
use super::rax::RaxSim;
use super::{Encoding, KeyFacts, ValueSize};
use crate::model::{StreamGroup, StreamId, StreamMeta};

/// `sizeof(streamNACK)`: delivery time, delivery count, consumer pointer.
const NACK: u64 = 24;

/// A stream value.
#[derive(Debug)]
pub(crate) struct StreamEst {
    nodes: RaxSim,
    listpacks: u64,
    length: u64,
    groups: u64,
}

impl StreamEst {
    pub(crate) fn new(allocator: Allocator) -> StreamEst {
        StreamEst { nodes: RaxSim::new(allocator), listpacks: 0, length: 0, groups: 0 }
    }

    pub(crate) fn node(&mut self, p: &Profile, master: StreamId, listpack_bytes: usize) {
        self.nodes.insert(&master.to_be_bytes());
        let bytes = listpack_bytes as u64;
        // Up to 6.0 the listpack's byte length counts, later its allocation.
        self.listpacks += if p.rules <= Rules::R60 { bytes } else { p.a(bytes) };
    }

    pub(crate) fn meta(&mut self, meta: &StreamMeta) {
        self.length = meta.length;
    }

    pub(crate) fn group(&mut self, p: &Profile, g: &StreamGroup) {
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

    pub(crate) fn length(&self) -> u64 {
        self.length
    }

    pub(crate) fn finish(&self, p: &Profile, key: KeyFacts) -> ValueSize {
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
