//! Streams (types 15, 19, 21 and Redis 26, 27): listpack nodes, metadata, consumer
//! groups, (RDB 13) idempotent-producer state and (RDB 14) each group's NACK zone.

use std::collections::HashSet;
use std::io::Read;

use crate::context::{blob_err, Buf, Ctx, Gate};
use crate::decode::listpack::Listpack;
use crate::decode::Elem;
use crate::error::{Error, Result};
use crate::header::Header;
use crate::model::{Consumer, IdmpProducer, PendingEntry, StreamGroup, StreamId, StreamIdmp, StreamMeta};
use crate::prim::Limits;
use crate::prim::StringOrigin;
use crate::source::Source;
use crate::types::RdbType;
use crate::visitor::KeyStart;
use crate::visitor::{StreamEntryRef, Visitor};

/// Read buffer of [`split_stored`] (the value is not copied into it whole).
const SPLIT_BUFFER_BYTES: usize = 64 << 10;
/// Entry flag: deleted (a tombstone kept in the node).
const FLAG_DELETED: i64 = 1;
/// Entry flag: same field names as the master entry.
const FLAG_SAMEFIELDS: i64 = 2;
/// Bounds the server enforces on idempotent-producer settings (RDB 13).
const IDMP_DURATION_S: std::ops::RangeInclusive<u64> = 1..=86_400;
const IDMP_MAX_ENTRIES: std::ops::RangeInclusive<u64> = 1..=10_000;

/// The stream format (1-5) of a stream type.
pub(crate) fn format_of(t: RdbType) -> u8 {
    match t {
        RdbType::StreamListpacks => 1,
        RdbType::StreamListpacks2 => 2,
        RdbType::StreamListpacks3 => 3,
        RdbType::StreamListpacks4 => 4,
        _ => 5,
    }
}

pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    let format = format_of(head.rdb_type);
    g.begin(head, None)?;
    let nodes = cx.count()?;
    let mut last: Option<StreamId> = None;
    let mut last_master: Option<StreamId> = None;
    let mut live = 0u64;
    for _ in 0..nodes {
        let at = cx.src.offset();
        cx.string(Buf::A, "a stream node key")?;
        let master = master_id(&cx.a, at)?;
        if last_master.is_some_and(|m| m >= master) {
            return Err(Error::corrupt(at, "stream node keys are not in increasing order"));
        }
        last_master = Some(master);
        let origin = cx.string(Buf::Blob, "a stream node listpack")?;
        if cx.blob.is_empty() {
            return Err(Error::corrupt(origin.header, "stream node listpack is empty"));
        }
        if let Some(v) = g.visitor() {
            let r = v.stream_node(master, cx.blob.len());
            g.wrap(r)?;
        }
        live += read_node(cx, master, &origin, &mut last, &mut |entry| match g.visitor() {
            Some(v) => {
                let r = v.stream_entry(entry);
                g.wrap(r)
            }
            None => Ok(()),
        })?;
        g.elements = live;
    }
    let meta = read_tail(cx, format, last, &mut |group| match g.visitor() {
        Some(v) => {
            let r = v.stream_group(group);
            g.wrap(r)
        }
        None => Ok(()),
    })?;
    if let Some(v) = g.visitor() {
        let r = v.stream_meta(&meta);
        g.wrap(r)?;
    }
    Ok(())
}

/// Reads what follows the nodes of a stream of `format`: its metadata, returned, and its
/// consumer groups, each passed to `on_group`. `last`: the last entry ID of the nodes.
fn read_tail<R: Read>(
    cx: &mut Ctx<R>,
    format: u8,
    last: Option<StreamId>,
    on_group: &mut dyn FnMut(&StreamGroup) -> Result<()>,
) -> Result<StreamMeta> {
    // The stored length is what XLEN reports. Servers do not check it against the
    // entries, and some real files disagree (XTRIM on 5.x), so it is kept as stored.
    let at = cx.src.offset();
    let mut meta = StreamMeta { length: cx.src.length()?, last_id: cx.src.stream_id_lengths()?, ..Default::default() };
    if last.is_some_and(|l| l > meta.last_id) {
        return Err(Error::corrupt(at, "stream last ID is smaller than one of its entries"));
    }
    if format >= 2 {
        meta.first_id = Some(cx.src.stream_id_lengths()?);
        meta.max_deleted_id = Some(cx.src.stream_id_lengths()?);
        meta.entries_added = Some(cx.src.length()?);
    }
    let groups = cx.count()?;
    let mut names: HashSet<Vec<u8>> = HashSet::new();
    for _ in 0..groups {
        let at = cx.src.offset();
        let group = read_group(cx, format)?;
        if !names.insert(group.name.clone()) {
            return Err(Error::corrupt(at, "duplicate consumer group name"));
        }
        on_group(&group)?;
    }
    if format >= 4 {
        meta.idmp = Some(read_idmp(cx)?);
    }
    Ok(meta)
}

/// A stored stream value (`raw`, of type `t`) split for copying its nodes into another
/// stream format: where its nodes end (the node count and the nodes, byte for byte, are
/// `raw[..end]`), its metadata and its consumer groups.
pub(crate) fn split_stored(t: RdbType, raw: &[u8]) -> Result<(usize, StreamMeta, Vec<StreamGroup>)> {
    let header = Header::for_version(9)?;
    let format = format_of(t);
    let mut cx = Ctx::new(Source::new(raw, SPLIT_BUFFER_BYTES), Limits::default(), header);
    // Format 1 does not state the first entry's ID: it is read from the first node
    // that holds a live entry.
    let mut first_live = None;
    for _ in 0..cx.count()? {
        if format >= 2 || first_live.is_some() {
            cx.src.skip_string(&cx.limits, "a stream node key")?;
            cx.src.skip_string(&cx.limits, "a stream node listpack")?;
            continue;
        }
        let at = cx.src.offset();
        cx.string(Buf::A, "a stream node key")?;
        let master = master_id(&cx.a, at)?;
        let origin = cx.string(Buf::Blob, "a stream node listpack")?;
        read_node(&mut cx, master, &origin, &mut None, &mut |entry| {
            first_live.get_or_insert(entry.id);
            Ok(())
        })?;
    }
    let end = cx.src.offset() as usize;
    let mut groups = Vec::new();
    let mut meta = read_tail(&mut cx, format, None, &mut |group| {
        groups.push(group.clone());
        Ok(())
    })?;
    if format == 1 {
        meta.first_id = first_live;
    }
    if cx.src.offset() != raw.len() as u64 {
        return Err(Error::corrupt(cx.src.offset(), "a stored stream has bytes after its metadata"));
    }
    Ok((end, meta, groups))
}

/// The master ID a node key (read at `at`) holds.
fn master_id(key: &[u8], at: u64) -> Result<StreamId> {
    let raw: [u8; 16] = key
        .try_into()
        .map_err(|_| Error::corrupt(at, format!("stream node key has {} bytes, expected 16", key.len())))?;
    Ok(StreamId::from_be_bytes(&raw))
}

/// Reads one node listpack, passing its live entries to `on_entry`; returns how many
/// there were.
fn read_node<R>(
    cx: &mut Ctx<R>,
    master: StreamId,
    origin: &StringOrigin,
    last: &mut Option<StreamId>,
    on_entry: &mut impl FnMut(&StreamEntryRef<'_>) -> Result<()>,
) -> Result<u64> {
    let what = "stream node";
    let mut lp = Nodes { lp: Listpack::new(&cx.blob).map_err(|e| blob_err(origin, what, e))?, origin };
    let count = lp.uint("the live entry count")?;
    let deleted = lp.uint("the deleted entry count")?;
    let master_fields = lp.uint("the master field count")?;
    let arena = &mut cx.arena;
    let spans = &mut cx.spans;
    arena.clear();
    let mut master_spans = Vec::new();
    for _ in 0..master_fields {
        master_spans.push(lp.elem_into(arena, "a master field")?);
    }
    let master_end = arena.len();
    if lp.int("the master terminator")? != 0 {
        return Err(lp.err("master entry terminator is not 0"));
    }
    let mut live = 0u64;
    for _ in 0..count.saturating_add(deleted) {
        let flags = lp.int("entry flags")?;
        let ms = master.ms.wrapping_add(lp.int("an ID delta")? as u64);
        let seq = master.seq.wrapping_add(lp.int("an ID delta")? as u64);
        let id = StreamId { ms, seq };
        if last.is_some_and(|l| l >= id) {
            return Err(lp.err(&format!("entry ID {id} is not greater than the previous one")));
        }
        *last = Some(id);
        arena.truncate(master_end);
        spans.clear();
        let n_fields = if flags & FLAG_SAMEFIELDS != 0 {
            for &f in &master_spans {
                spans.push(f);
                spans.push(lp.elem_into(arena, "a field value")?);
            }
            master_fields
        } else {
            let n = lp.uint("a field count")?;
            for _ in 0..n {
                spans.push(lp.elem_into(arena, "a field name")?);
                spans.push(lp.elem_into(arena, "a field value")?);
            }
            n
        };
        let expect = if flags & FLAG_SAMEFIELDS != 0 { n_fields + 3 } else { 2 * n_fields + 4 };
        if lp.uint("an entry element count")? != expect {
            return Err(lp.err("entry element count does not match its fields"));
        }
        if flags & FLAG_DELETED == 0 {
            live += 1;
            on_entry(&StreamEntryRef { id, arena, spans })?;
        }
    }
    if live != count {
        return Err(lp.err(&format!("node says {count} live entries, found {live}")));
    }
    match lp.lp.next() {
        None => Ok(live),
        Some(Err(e)) => Err(blob_err(origin, what, e)),
        Some(Ok(_)) => Err(lp.err("data after the last entry")),
    }
}

/// Typed reads from a stream node listpack.
struct Nodes<'a, 'o> {
    lp: Listpack<'a>,
    origin: &'o StringOrigin,
}

impl<'a> Nodes<'a, '_> {
    fn err(&self, msg: &str) -> Error {
        self.origin.error(self.lp.position(), "stream node", msg)
    }

    fn elem(&mut self, what: &str) -> Result<Elem<'a>> {
        match self.lp.next() {
            Some(Ok(e)) => Ok(e),
            Some(Err(e)) => Err(blob_err(self.origin, "stream node", e)),
            None => Err(self.err(&format!("listpack ends where {what} was expected"))),
        }
    }

    fn int(&mut self, what: &str) -> Result<i64> {
        let at = self.lp.position();
        match self.elem(what)? {
            Elem::Int(v) => Ok(v),
            Elem::Bytes(b) => std::str::from_utf8(b)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| self.origin.error(at, "stream node", format!("{what} is not an integer"))),
        }
    }

    fn uint(&mut self, what: &str) -> Result<u64> {
        let at = self.lp.position();
        let v = self.int(what)?;
        u64::try_from(v).map_err(|_| self.origin.error(at, "stream node", format!("{what} is negative")))
    }

    /// Appends the next element's bytes to `arena`, returning its span.
    fn elem_into(&mut self, arena: &mut Vec<u8>, what: &str) -> Result<(u32, u32)> {
        let start = arena.len();
        match self.elem(what)? {
            Elem::Bytes(b) => arena.extend_from_slice(b),
            Elem::Int(v) => arena.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        }
        let span = |x: usize| u32::try_from(x).map_err(|_| self.err("stream node too large"));
        Ok((span(start)?, span(arena.len())?))
    }
}

fn read_group<R: Read>(cx: &mut Ctx<R>, format: u8) -> Result<StreamGroup> {
    cx.string(Buf::A, "a consumer group name")?;
    let name = cx.a.clone();
    let last_id = cx.src.stream_id_lengths()?;
    let entries_read = if format >= 2 {
        let at = cx.src.offset();
        match cx.src.length()? as i64 {
            -1 => None,
            v if v >= 0 => Some(v),
            v => return Err(Error::corrupt(at, format!("entries-read counter {v} is negative"))),
        }
    } else {
        None
    };
    let n = cx.count()?;
    let mut pending: Vec<PendingEntry> = Vec::new();
    for _ in 0..n {
        let at = cx.src.offset();
        let id = cx.src.stream_id_raw()?;
        if pending.last().is_some_and(|p| p.id >= id) {
            return Err(Error::corrupt(at, "pending entries are not in increasing ID order"));
        }
        let delivery_time_ms = cx.src.i64_le("a delivery time")?;
        let delivery_count = cx.src.length()?;
        pending.push(PendingEntry { id, delivery_time_ms, delivery_count, consumer: None });
    }
    let n = cx.count()?;
    let mut consumers: Vec<Consumer> = Vec::new();
    let mut names: HashSet<Vec<u8>> = HashSet::new();
    for _ in 0..n {
        let at = cx.src.offset();
        cx.string(Buf::A, "a consumer name")?;
        if !names.insert(cx.a.clone()) {
            return Err(Error::corrupt(at, "duplicate consumer name"));
        }
        let seen_time_ms = cx.src.i64_le("a consumer seen time")?;
        let active_time_ms = if format >= 3 { Some(cx.src.i64_le("a consumer active time")?) } else { None };
        let k = cx.count()?;
        let mut own = Vec::new();
        for _ in 0..k {
            let at = cx.src.offset();
            let id = cx.src.stream_id_raw()?;
            let entry =
                pending.binary_search_by(|p| p.id.cmp(&id)).ok().and_then(|i| pending.get_mut(i)).ok_or_else(|| {
                    Error::corrupt(at, format!("consumer pending entry {id} is not in the group's list"))
                })?;
            if entry.consumer.is_some() {
                return Err(Error::corrupt(at, format!("pending entry {id} has two owners")));
            }
            entry.consumer = Some(cx.a.clone());
            own.push(id);
        }
        consumers.push(Consumer { name: cx.a.clone(), seen_time_ms, active_time_ms, pending: own });
    }
    let nacked = if format >= 5 { read_nack_zone(cx, &pending)? } else { Vec::new() };
    // Outside the NACK zone every pending entry has an owner (the servers' deep check).
    let in_zone: HashSet<StreamId> = nacked.iter().copied().collect();
    let orphan = pending.iter().find(|p| p.consumer.is_none() && !in_zone.contains(&p.id));
    if let Some(orphan) = orphan {
        return Err(Error::corrupt(cx.src.offset(), format!("pending entry {} has no consumer", orphan.id)));
    }
    Ok(StreamGroup { name, last_id, entries_read, pending, consumers, nacked })
}

/// The IDs `XNACK` released (format 5): each in the group's PEL, owned by no consumer,
/// listed once.
fn read_nack_zone<R: Read>(cx: &mut Ctx<R>, pending: &[PendingEntry]) -> Result<Vec<StreamId>> {
    let n = cx.count()?;
    let mut nacked: Vec<StreamId> = Vec::new();
    let mut seen: HashSet<StreamId> = HashSet::new();
    for _ in 0..n {
        let at = cx.src.offset();
        let id = cx.src.stream_id_raw()?;
        let entry = pending.binary_search_by(|p| p.id.cmp(&id)).ok().and_then(|i| pending.get(i));
        match entry {
            None => return Err(Error::corrupt(at, format!("NACK zone entry {id} is not in the group's list"))),
            Some(p) if p.consumer.is_some() => {
                return Err(Error::corrupt(at, format!("NACK zone entry {id} has a consumer")))
            }
            Some(_) if !seen.insert(id) => return Err(Error::corrupt(at, format!("NACK zone lists entry {id} twice"))),
            Some(_) => nacked.push(id),
        }
    }
    Ok(nacked)
}

fn read_idmp<R: Read>(cx: &mut Ctx<R>) -> Result<StreamIdmp> {
    let at = cx.src.offset();
    let duration_s = cx.src.length()?;
    let max_entries = cx.src.length()?;
    if !IDMP_DURATION_S.contains(&duration_s) || !IDMP_MAX_ENTRIES.contains(&max_entries) {
        return Err(Error::corrupt(at, format!("idempotency settings {duration_s} s / {max_entries} out of range")));
    }
    let mut producers = Vec::new();
    for _ in 0..cx.count()? {
        cx.string(Buf::A, "a producer ID")?;
        let pid = cx.a.clone();
        let mut ids = Vec::new();
        for _ in 0..cx.count()? {
            cx.string(Buf::B, "an idempotency ID")?;
            ids.push((cx.b.clone(), cx.src.stream_id_lengths()?));
        }
        producers.push(IdmpProducer { pid, entries: ids });
    }
    let iids_added = cx.src.length()?;
    let iids_duplicates = cx.src.length()?;
    Ok(StreamIdmp { duration_s, max_entries, producers, iids_added, iids_duplicates })
}
