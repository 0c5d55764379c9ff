//! Streams re-packed for the target: node listpacks with master entries, metadata and
//! consumer groups in the target's stream format.

use super::collect::KeyBuf;
use super::containers::ListpackBuilder;
use super::encode::{put_len, put_string};
use super::target::Target;
use crate::model::{StreamId, StreamIdmp};
use crate::types::RdbType;

/// Entry flag: same fields as the master entry.
const FLAG_SAMEFIELDS: i64 = 2;
/// IDMP settings written when the source has none: the servers' defaults
/// (`stream-idmp-duration`, `stream-idmp-maxsize`).
const DEFAULT_IDMP_DURATION_S: u64 = 100;
const DEFAULT_IDMP_MAX_ENTRIES: u64 = 100;

fn source_format(k: &KeyBuf) -> u8 {
    k.source_type.map_or(5, crate::stream::format_of)
}

/// Whether a stream stored as type `from` is written for `t` with its nodes copied as
/// stored and only its metadata rewritten: the node listpacks are the same in every
/// format (from format 1, the first entry's ID, which later formats state, is read
/// from the first node).
pub(crate) fn copies_nodes(from: RdbType, t: &Target) -> bool {
    from.kind() == crate::types::Kind::Stream && t.has_streams()
}

/// Takes the metadata and consumer groups of the stored stream `raw` (of type `from`)
/// into `k`; returns where its nodes end in `raw` (`raw[..end]`: the node count and the
/// nodes as stored).
pub(crate) fn take_stored(from: RdbType, raw: &[u8], k: &mut KeyBuf) -> Result<usize, crate::VisitError> {
    let (end, meta, groups) = crate::stream::split_stored(from, raw)?;
    k.stream_meta = meta;
    k.stream_groups = groups;
    Ok(end)
}

/// Whether `idmp` is the state of a stream that never used idempotent producers on a
/// server with the default settings (nothing is lost when it is left out).
fn is_new_stream_state(idmp: &StreamIdmp) -> bool {
    idmp.producers.is_empty()
        && idmp.iids_added == 0
        && idmp.iids_duplicates == 0
        && (idmp.duration_s, idmp.max_entries) == (DEFAULT_IDMP_DURATION_S, DEFAULT_IDMP_MAX_ENTRIES)
}

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_len(out, id.ms);
    put_len(out, id.seq);
}

/// Appends the stream value; returns its type byte.
pub(crate) fn encode(k: &KeyBuf, t: &Target, out: &mut Vec<u8>, losses: &mut Vec<String>) -> RdbType {
    note_losses(k, t, losses);
    let nodes = pack_nodes(k, t);
    put_len(out, nodes.len() as u64);
    for (master, blob) in &nodes {
        put_string(out, &master.to_be_bytes());
        put_string(out, blob);
    }
    put_meta(k, t, out)
}

/// Notes in `losses` what of the stream `k` the target's stream format cannot hold.
pub(crate) fn note_losses(k: &KeyBuf, t: &Target, losses: &mut Vec<String>) {
    let target = t.stream_format();
    let source = source_format(k);
    let meta = &k.stream_meta;
    if target < 2 && source >= 2 {
        losses.push("stream entries-added, max-deleted-id and consumer-group entries-read (RDB 10+)".into());
    }
    if target < 3 && source >= 3 && k.stream_groups.iter().any(|g| !g.consumers.is_empty()) {
        losses.push("stream consumer active-time (RDB 11+)".into());
    }
    if target < 4 && meta.idmp.as_ref().is_some_and(|i| !is_new_stream_state(i)) {
        losses.push("stream idempotent-producer state (RDB 13)".into());
    }
    let nacked: usize = k.stream_groups.iter().map(|g| g.nacked.len()).sum();
    if target < 5 && nacked > 0 {
        losses.push(format!("{nacked} NACKed pending entries (XNACK, Redis 8.8 / RDB 14) left out of their groups"));
    }
}

/// Appends what follows the nodes (metadata, consumer groups) in the target's stream
/// format; returns the stream type byte.
pub(crate) fn put_meta(k: &KeyBuf, t: &Target, out: &mut Vec<u8>) -> RdbType {
    let target = t.stream_format();
    let meta = &k.stream_meta;
    put_len(out, meta.length);
    put_id(out, meta.last_id);
    if target >= 2 {
        let first = meta.first_id.or_else(|| k.stream_entries.first().map(|e| e.id)).unwrap_or_default();
        put_id(out, first);
        put_id(out, meta.max_deleted_id.unwrap_or_default());
        put_len(out, meta.entries_added.unwrap_or(meta.length));
    }
    put_len(out, k.stream_groups.len() as u64);
    for g in &k.stream_groups {
        put_string(out, &g.name);
        put_id(out, g.last_id);
        if target >= 2 {
            // -1 (all bits set) means "unknown".
            put_len(out, g.entries_read.map_or(u64::MAX, |v| v as u64));
        }
        // Below format 5 NACKed entries would be pending entries without an owner,
        // which the servers' deep check rejects: they are left out.
        let nacked: std::collections::HashSet<&StreamId> = g.nacked.iter().collect();
        let keep = |id: &StreamId| target >= 5 || !nacked.contains(id);
        put_len(out, g.pending.iter().filter(|p| keep(&p.id)).count() as u64);
        for p in g.pending.iter().filter(|p| keep(&p.id)) {
            out.extend_from_slice(&p.id.to_be_bytes());
            out.extend_from_slice(&p.delivery_time_ms.to_le_bytes());
            put_len(out, p.delivery_count);
        }
        put_len(out, g.consumers.len() as u64);
        for c in &g.consumers {
            put_string(out, &c.name);
            out.extend_from_slice(&c.seen_time_ms.to_le_bytes());
            if target >= 3 {
                out.extend_from_slice(&c.active_time_ms.unwrap_or(c.seen_time_ms).to_le_bytes());
            }
            put_len(out, c.pending.len() as u64);
            for id in &c.pending {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
        if target >= 5 {
            put_len(out, g.nacked.len() as u64);
            for id in &g.nacked {
                out.extend_from_slice(&id.to_be_bytes());
            }
        }
    }
    if target >= 4 {
        let default = StreamIdmp {
            duration_s: DEFAULT_IDMP_DURATION_S,
            max_entries: DEFAULT_IDMP_MAX_ENTRIES,
            ..Default::default()
        };
        let idmp = meta.idmp.as_ref().unwrap_or(&default);
        put_len(out, idmp.duration_s);
        put_len(out, idmp.max_entries);
        put_len(out, idmp.producers.len() as u64);
        for p in &idmp.producers {
            put_string(out, &p.pid);
            put_len(out, p.entries.len() as u64);
            for (iid, id) in &p.entries {
                put_string(out, iid);
                put_id(out, *id);
            }
        }
        put_len(out, idmp.iids_added);
        put_len(out, idmp.iids_duplicates);
    }
    match target {
        1 => RdbType::StreamListpacks,
        2 => RdbType::StreamListpacks2,
        3 => RdbType::StreamListpacks3,
        4 => RdbType::StreamListpacks4,
        _ => RdbType::StreamListpacks5,
    }
}

/// Packs the entries into node listpacks under the target's node limits, the way the
/// server appends them: the first entry of a node is its master entry.
fn pack_nodes(k: &KeyBuf, t: &Target) -> Vec<(StreamId, Vec<u8>)> {
    let (max_bytes, max_entries) = (t.thresholds.stream_node_bytes, t.thresholds.stream_node_entries);
    let mut nodes = Vec::new();
    let mut current: Option<Node<'_>> = None;
    for e in &k.stream_entries {
        let fields: Vec<(&[u8], &[u8])> = k.entry_fields(e).collect();
        let size: usize =
            fields.iter().map(|(f, v)| ListpackBuilder::entry_size(f) + ListpackBuilder::entry_size(v)).sum();
        if let Some(n) = &current {
            if n.master_bytes + n.lp.bytes() + size >= max_bytes || (max_entries > 0 && n.count >= max_entries) {
                nodes.push(current.take().map(Node::finish).unwrap_or_default());
            }
        }
        let node = current.get_or_insert_with(|| Node::new(e.id, &fields));
        node.push(e.id, &fields);
    }
    if let Some(n) = current {
        nodes.push(n.finish());
    }
    nodes
}

/// A node being built: the master ID and fields, and the entries (counted after).
struct Node<'a> {
    master: StreamId,
    master_fields: Vec<&'a [u8]>,
    /// Bytes of the master entry (count, deleted, field count, fields, terminator).
    master_bytes: usize,
    lp: ListpackBuilder,
    count: usize,
}

impl<'a> Node<'a> {
    fn new(master: StreamId, fields: &[(&'a [u8], &[u8])]) -> Self {
        let master_fields: Vec<&[u8]> = fields.iter().map(|(f, _)| *f).collect();
        let master_bytes = 8 + master_fields.iter().map(|f| ListpackBuilder::entry_size(f)).sum::<usize>();
        Node { master, master_fields, master_bytes, lp: ListpackBuilder::new(), count: 0 }
    }

    fn push(&mut self, id: StreamId, fields: &[(&[u8], &[u8])]) {
        let same = fields.len() == self.master_fields.len()
            && fields.iter().zip(&self.master_fields).all(|((f, _), m)| f == m);
        self.lp.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
        self.lp.push_int(id.ms.wrapping_sub(self.master.ms) as i64);
        self.lp.push_int(id.seq.wrapping_sub(self.master.seq) as i64);
        if same {
            for (_, v) in fields {
                self.lp.push(v);
            }
            self.lp.push_int(fields.len() as i64 + 3);
        } else {
            self.lp.push_int(fields.len() as i64);
            for (f, v) in fields {
                self.lp.push(f);
                self.lp.push(v);
            }
            self.lp.push_int(2 * fields.len() as i64 + 4);
        }
        self.count += 1;
    }

    /// The node key and listpack: master entry (count, deleted, fields, 0), then entries.
    fn finish(self) -> (StreamId, Vec<u8>) {
        let mut lp = ListpackBuilder::new();
        lp.push_int(self.count as i64);
        lp.push_int(0);
        lp.push_int(self.master_fields.len() as i64);
        for f in &self.master_fields {
            lp.push(f);
        }
        lp.push_int(0);
        (self.master, lp.append(self.lp))
    }
}
