//! The JSON converts' visitor: each key becomes a record through the [`Pipeline`].
//!
//! Most keys are assembled as an [`Entry`] and formatted on the writer thread. A key
//! that grows past [`BIG_KEY_BYTES`] while it is read goes on in pieces instead, so no
//! key is held in its owned form (tens of bytes per element): list items and stream
//! entries are formatted as they arrive, set members, hash fields and sorted-set members
//! are kept back to back ([`Packed`]) and sorted at the end of the key. Strings stay
//! whole; their text goes out in pieces like every record's.

use std::cmp::Ordering;
use std::io::{self, Write};

use rdb_parser::{
    Entry, EntryBuilder, KeyEnd, KeyMeta, KeyStart, Kind, ModuleValue, Stream, StreamEntryRef, StreamGroup, StreamMeta,
    Value, Visit, VisitError, VisitResult, Visitor,
};

use super::pipeline::{Item, Pipeline};
use super::record;
use super::text::Text;

/// A key goes on in pieces once about this much of it is held.
pub const BIG_KEY_BYTES: usize = 4 << 20;

/// Hands each key's record to a [`Pipeline`]; big keys in pieces.
pub struct JsonKeys<'s> {
    builder: EntryBuilder,
    pipeline: Pipeline<'s>,
    /// The current key's type.
    kind: Kind,
    /// About how many bytes the current key holds.
    held: usize,
    big: Option<Big>,
    /// Text of a big key not handed over yet.
    buf: Vec<u8>,
    /// Records handed over.
    pub records: u64,
    /// Why the writer stopped, when it did (reported instead of the read error).
    pub failed: Option<anyhow::Error>,
}

/// A key going on in pieces.
struct Big {
    meta: Vec<KeyMeta>,
    /// Its head, for the kinds written at the end.
    entry_head: (u64, Vec<u8>, Kind, Option<i64>),
    body: Body,
}

enum Body {
    /// List items or stream entries written so far; for streams, what follows them.
    InOrder(u64, Box<Stream>),
    Packed(Packed),
}

/// Members (sets, sorted sets) or fields and values (hashes), back to back, with 4-byte
/// offsets: up to 4 GiB of them.
#[derive(Default)]
struct Packed {
    data: Vec<u8>,
    ends: Vec<u32>,
    scores: Vec<f64>,
    /// Hash field expiries; empty until a field has one.
    ttls: Vec<Option<i64>>,
    fields: usize,
}

impl Packed {
    fn push(&mut self, b: &[u8]) -> VisitResult {
        self.data.extend_from_slice(b);
        let end =
            u32::try_from(self.data.len()).map_err(|_| "a key of over 4 GiB of elements cannot be written as JSON")?;
        self.ends.push(end);
        Ok(())
    }

    fn push_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        self.push(field)?;
        self.push(value)?;
        if expire_at_ms.is_some() && self.ttls.is_empty() {
            self.ttls.resize(self.fields, None);
        }
        if !self.ttls.is_empty() {
            self.ttls.push(expire_at_ms);
        }
        self.fields += 1;
        Ok(())
    }

    fn get(&self, i: u32) -> &[u8] {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.data[start..self.ends[i] as usize]
    }

    fn ttl(&self, field: u32) -> Option<i64> {
        self.ttls.get(field as usize).copied().flatten()
    }

    /// The order of `n` items by `cmp`, sorted only when not in order or in reverse
    /// order already.
    fn order(n: usize, cmp: impl Fn(u32, u32) -> Ordering) -> Vec<u32> {
        // `n` is at most the number of offsets, which fit in u32.
        let mut order: Vec<u32> = (0..n as u32).collect();
        if order.is_sorted_by(|&a, &b| cmp(a, b) != Ordering::Greater) {
            return order;
        }
        if order.is_sorted_by(|&a, &b| cmp(a, b) == Ordering::Greater) {
            order.reverse();
            return order;
        }
        order.sort_by(|&a, &b| cmp(a, b));
        order
    }

    /// The value of a key of `kind`, in the records' order.
    fn write(&self, out: &mut Text, kind: Kind) {
        match kind {
            Kind::Set => {
                let order = Packed::order(self.ends.len(), |a, b| self.get(a).cmp(self.get(b)));
                record::set(out, order.iter().map(|&i| self.get(i)));
            }
            Kind::ZSet => {
                let member = |i: u32| (self.get(i), self.scores[i as usize]);
                let order = Packed::order(self.ends.len(), |a, b| record::by_score(member(a), member(b)));
                record::zset(out, order.iter().map(|&i| member(i)));
            }
            _ => {
                let order = Packed::order(self.fields, |a, b| self.get(2 * a).cmp(self.get(2 * b)));
                record::hash(out, || order.iter().map(|&i| (self.get(2 * i), self.get(2 * i + 1), self.ttl(i))));
            }
        }
    }
}

/// Hands text to the pipeline, keeping the writer's error when it stopped.
struct ToPipeline<'a, 's> {
    pipeline: &'a mut Pipeline<'s>,
    failed: &'a mut Option<anyhow::Error>,
}

impl Write for ToPipeline<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Err(e) = self.pipeline.push(Item::Text(buf.to_vec())) {
            *self.failed = Some(e);
            return Err(io::Error::other("the output failed"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a visitor method returns once the writer has stopped ([`JsonKeys::failed`]
/// says why).
fn output_failed() -> VisitError {
    "the output failed".into()
}

impl<'s> JsonKeys<'s> {
    pub fn new(pipeline: Pipeline<'s>) -> JsonKeys<'s> {
        JsonKeys {
            builder: EntryBuilder::new(),
            pipeline,
            kind: Kind::String,
            held: 0,
            big: None,
            buf: Vec::new(),
            records: 0,
            failed: None,
        }
    }

    /// Waits for the writer to finish.
    pub fn finish(self) -> anyhow::Result<()> {
        self.pipeline.finish()
    }

    /// Formats with `f` into the big key's text, handing it over as it grows.
    fn text(&mut self, f: impl FnOnce(&mut Text, &mut Big)) -> VisitResult {
        let Some(big) = &mut self.big else { return Ok(()) };
        let mut sink = ToPipeline { pipeline: &mut self.pipeline, failed: &mut self.failed };
        let mut t = Text::with_buffer(std::mem::take(&mut self.buf), &mut sink);
        f(&mut t, big);
        let (buf, error) = t.into_parts();
        self.buf = buf;
        error.map_or(Ok(()), |_| Err(output_failed()))
    }

    fn push(&mut self, item: Item) -> VisitResult {
        self.pipeline.push(item).map_err(|e| {
            self.failed = Some(e);
            output_failed()
        })
    }

    /// Counts `bytes` more held for the current key; past [`BIG_KEY_BYTES`] a
    /// collection goes on in pieces.
    fn grew(&mut self, bytes: usize) -> VisitResult {
        self.held += bytes;
        if self.held < BIG_KEY_BYTES
            || !matches!(self.kind, Kind::List | Kind::Set | Kind::ZSet | Kind::Hash | Kind::Stream)
        {
            return Ok(());
        }
        match self.builder.take_current() {
            Some(entry) => self.go_big(entry),
            None => Ok(()),
        }
    }

    /// Goes on with the key `e` (as far as it was read) in pieces.
    fn go_big(&mut self, e: Entry) -> VisitResult {
        let head = (e.db, e.key, e.value.kind(), e.expire_at_ms);
        let body = match e.value {
            Value::List(_) | Value::Stream(_) => Body::InOrder(0, Box::default()),
            _ => Body::Packed(Packed::default()),
        };
        self.big = Some(Big { meta: e.meta, entry_head: head, body });
        self.push(Item::Begin)?;
        match e.value {
            Value::List(items) => items.iter().try_for_each(|i| self.list_item(i)),
            Value::Set(members) => members.iter().try_for_each(|m| self.set_member(m)),
            Value::ZSet(members) => members.iter().try_for_each(|(m, s)| self.zset_member(m, *s)),
            Value::Hash(fields) => fields.iter().try_for_each(|f| self.hash_field(&f.field, &f.value, f.expire_at_ms)),
            Value::Stream(s) => {
                if let Some(rest) = self.stream_rest() {
                    rest.meta = s.meta;
                    rest.groups = s.groups;
                }
                s.entries
                    .iter()
                    .try_for_each(|en| self.in_order_entry(en.id, en.fields.iter().map(|(f, v)| (&f[..], &v[..]))))
            }
            _ => Ok(()),
        }
    }

    /// Writes the opening of an in-order value, before its first element.
    fn open_in_order(out: &mut Text, big: &Big) {
        let (db, key, kind, expire) = &big.entry_head;
        record::head(out, *db, key, *kind, *expire);
        if *kind == Kind::Stream {
            out.extend_from_slice(b"{\"entries\":");
        }
        out.push(b'[');
    }

    /// Writes one element of an in-order value with `f`.
    fn in_order(&mut self, f: impl FnOnce(&mut Text)) -> VisitResult {
        self.text(|out, big| {
            let Body::InOrder(n, _) = &big.body else { return };
            if *n == 0 {
                Self::open_in_order(out, big);
            } else {
                out.push(b',');
            }
            if let Body::InOrder(n, _) = &mut big.body {
                *n += 1;
            }
            f(out);
            out.spill();
        })
    }

    fn in_order_entry<'a>(
        &mut self,
        id: rdb_parser::StreamId,
        fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    ) -> VisitResult {
        self.in_order(|out| record::stream_entry(out, id, fields))
    }

    fn packed(&mut self) -> Option<&mut Packed> {
        match &mut self.big {
            Some(Big { body: Body::Packed(p), .. }) => Some(p),
            _ => None,
        }
    }

    fn stream_rest(&mut self) -> Option<&mut Stream> {
        match &mut self.big {
            Some(Big { body: Body::InOrder(_, s), .. }) => Some(s),
            _ => None,
        }
    }

    /// Ends the big key's record and hands over what is left of it.
    fn end_big(&mut self) -> VisitResult {
        self.text(|out, big| {
            match &big.body {
                Body::InOrder(n, rest) => {
                    if *n == 0 {
                        Self::open_in_order(out, big);
                    }
                    out.push(b']');
                    if big.entry_head.2 == Kind::Stream {
                        record::stream_rest(out, rest);
                    }
                }
                Body::Packed(p) => {
                    let (db, key, kind, expire) = &big.entry_head;
                    record::head(out, *db, key, *kind, *expire);
                    p.write(out, *kind);
                }
            }
            record::tail(out, &big.meta);
        })?;
        self.big = None;
        let rest = std::mem::take(&mut self.buf);
        if !rest.is_empty() {
            self.push(Item::Text(rest))?;
        }
        self.push(Item::End)
    }
}

impl Visitor for JsonKeys<'_> {
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        self.held = k.key.len();
        self.kind = k.rdb_type.kind();
        self.builder.key_start(k)
    }

    fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
        self.builder.string_chunk(chunk)
    }

    fn list_item(&mut self, item: &[u8]) -> VisitResult {
        if self.big.is_some() {
            return self.in_order(|out| record::bytes(out, item));
        }
        self.builder.list_item(item)?;
        self.grew(item.len() + 24)
    }

    fn set_member(&mut self, member: &[u8]) -> VisitResult {
        if let Some(p) = self.packed() {
            return p.push(member);
        }
        self.builder.set_member(member)?;
        self.grew(member.len() + 24)
    }

    fn zset_member(&mut self, member: &[u8], score: f64) -> VisitResult {
        if let Some(p) = self.packed() {
            p.scores.push(score);
            return p.push(member);
        }
        self.builder.zset_member(member, score)?;
        self.grew(member.len() + 32)
    }

    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        if let Some(p) = self.packed() {
            return p.push_field(field, value, expire_at_ms);
        }
        self.builder.hash_field(field, value, expire_at_ms)?;
        self.grew(field.len() + value.len() + 64)
    }

    fn stream_entry(&mut self, entry: &StreamEntryRef<'_>) -> VisitResult {
        if self.big.is_some() {
            return self.in_order_entry(entry.id, entry.fields());
        }
        self.builder.stream_entry(entry)?;
        self.grew(32 + entry.fields().map(|(f, v)| f.len() + v.len() + 48).sum::<usize>())
    }

    fn stream_meta(&mut self, meta: &StreamMeta) -> VisitResult {
        if let Some(s) = self.stream_rest() {
            s.meta = meta.clone();
            return Ok(());
        }
        self.builder.stream_meta(meta)
    }

    fn stream_group(&mut self, group: &StreamGroup) -> VisitResult {
        if let Some(s) = self.stream_rest() {
            s.groups.push(group.clone());
            return Ok(());
        }
        self.builder.stream_group(group)
    }

    fn module_value(&mut self, value: &ModuleValue) -> VisitResult {
        self.builder.module_value(value)
    }

    fn array_insert_idx(&mut self, insert_idx: Option<u64>) -> VisitResult {
        self.builder.array_insert_idx(insert_idx)
    }

    fn array_element(&mut self, index: u64, value: &[u8]) -> VisitResult {
        self.builder.array_element(index, value)
    }

    fn gcra(&mut self, tat_us: u64) -> VisitResult {
        self.builder.gcra(tat_us)
    }

    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        if self.big.is_some() {
            self.records += 1;
            return self.end_big();
        }
        self.builder.key_end(end)?;
        match self.builder.take() {
            Some(e) => {
                self.records += 1;
                self.push(Item::Entry(e))
            }
            None => Ok(()),
        }
    }
}
