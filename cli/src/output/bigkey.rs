//! The JSON converts' visitor: each key becomes a record, formatted by [`Formatted`].
//!
//! Lists, sets, sorted sets and hashes are kept compact ([`PackedKey`]: one buffer and
//! 4-byte offsets, not a vector per element), other types as an [`Entry`], until the
//! key ends. A list or stream that grows past [`BIG_KEY_BYTES`] while it is
//! read goes on in pieces instead: its items or entries are formatted as they arrive.
//! Strings stay whole; their text goes out in pieces like every record's.

use rdb_parser::{
    Entry, EntryBuilder, KeyEnd, KeyMeta, KeyStart, Kind, ModuleValue, Stream, StreamEntryRef, StreamGroup, StreamId,
    StreamMeta, Value, Visit, VisitError, VisitResult, Visitor,
};
use std::io::{self, Write};

use super::formatted::{Formatted, Item};
use super::packed::PackedKey;
use super::record;
use super::text::Text;

/// A list or stream goes on in pieces once about this much of it is held.
pub const BIG_KEY_BYTES: usize = 4 << 20;

/// Hands each key's record to [`Formatted`]; big lists and streams in pieces.
pub struct JsonKeys<'s> {
    builder: EntryBuilder,
    records: Formatted<'s>,
    /// The current key, when it is a collection kept compact.
    packed: Option<PackedKey>,
    /// About how many bytes the current stream holds.
    held: usize,
    big: Option<Big>,
    /// Text of a big key not handed over yet.
    buf: Vec<u8>,
}

/// A list or stream going on in pieces.
struct Big {
    head: (u64, Vec<u8>, Kind, Option<i64>),
    meta: Vec<KeyMeta>,
    /// Items or entries written so far.
    written: u64,
    /// For streams, what follows the entries.
    rest: Box<Stream>,
}

/// Hands a big key's text to the records as it grows.
struct ToRecords<'a, 's>(&'a mut Formatted<'s>);

impl Write for ToRecords<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.text(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'s> JsonKeys<'s> {
    pub fn new(records: Formatted<'s>) -> JsonKeys<'s> {
        JsonKeys { builder: EntryBuilder::new(), records, packed: None, held: 0, big: None, buf: Vec::new() }
    }

    /// Where the records are formatted.
    pub fn records(&mut self) -> &mut Formatted<'s> {
        &mut self.records
    }

    fn push(&mut self, item: Item) -> VisitResult {
        Ok(self.records.push(item)?)
    }

    /// Formats one more item or entry of the big key with `f`, handing the text over
    /// as it grows.
    fn in_order(&mut self, f: impl FnOnce(&mut Text)) -> VisitResult {
        let Some(big) = &mut self.big else { return Ok(()) };
        let mut sink = ToRecords(&mut self.records);
        let mut out = Text::with_buffer(std::mem::take(&mut self.buf), &mut sink);
        if big.written == 0 {
            open(&mut out, big);
        } else {
            out.push(b',');
        }
        big.written += 1;
        f(&mut out);
        out.spill();
        let (buf, error) = out.into_parts();
        self.buf = buf;
        error.map_or(Ok(()), |e| Err(e.into()))
    }

    /// Goes on with a list or stream in pieces, starting with what was read of it.
    fn go_big(&mut self, head: (u64, Vec<u8>, Kind, Option<i64>), meta: Vec<KeyMeta>) -> VisitResult {
        self.big = Some(Big { head, meta, written: 0, rest: Box::default() });
        self.push(Item::Begin)
    }

    fn list_goes_big(&mut self, k: PackedKey) -> VisitResult {
        self.go_big((k.db, k.key, k.kind, k.expire_at_ms), k.meta)?;
        (0..k.packed.len() as u32).try_for_each(|i| self.in_order(|out| record::bytes(out, k.packed.get(i))))
    }

    fn stream_goes_big(&mut self, e: Entry) -> VisitResult {
        self.go_big((e.db, e.key, Kind::Stream, e.expire_at_ms), e.meta)?;
        let Value::Stream(s) = e.value else { return Ok(()) };
        if let Some(big) = &mut self.big {
            big.rest.meta = s.meta;
            big.rest.groups = s.groups;
        }
        s.entries.iter().try_for_each(|en| self.entry(en.id, en.fields.iter().map(|(f, v)| (&f[..], &v[..]))))
    }

    fn entry<'a>(&mut self, id: StreamId, fields: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> VisitResult {
        self.in_order(|out| record::stream_entry(out, id, fields))
    }

    /// Ends the big key's record and hands over what is left of it.
    fn end_big(&mut self) -> VisitResult {
        let Some(big) = self.big.take() else { return Ok(()) };
        let mut sink = ToRecords(&mut self.records);
        let mut out = Text::with_buffer(std::mem::take(&mut self.buf), &mut sink);
        if big.written == 0 {
            open(&mut out, &big);
        }
        out.push(b']');
        if big.head.2 == Kind::Stream {
            record::stream_rest(&mut out, &big.rest);
        }
        record::tail(&mut out, &big.meta);
        let flushed = out.flush();
        drop(out);
        flushed?;
        self.push(Item::End)
    }

    fn packed(&mut self) -> Option<&mut PackedKey> {
        self.packed.as_mut()
    }

    fn stream_rest(&mut self) -> Option<&mut Stream> {
        self.big.as_mut().map(|b| &mut *b.rest)
    }
}

/// Writes the record of a big key up to its first item or entry.
fn open(out: &mut Text, big: &Big) {
    let (db, key, kind, expire) = &big.head;
    record::head(out, *db, key, *kind, *expire);
    if *kind == Kind::Stream {
        out.extend_from_slice(b"{\"entries\":");
    }
    out.push(b'[');
}

impl Visitor for JsonKeys<'_> {
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        self.held = k.key.len();
        self.packed = PackedKey::start(k);
        if self.packed.is_some() {
            return Ok(Visit::Value);
        }
        self.builder.key_start(k)
    }

    fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
        self.builder.string_chunk(chunk)
    }

    fn list_item(&mut self, item: &[u8]) -> VisitResult {
        if self.big.is_some() {
            return self.in_order(|out| record::bytes(out, item));
        }
        let Some(k) = self.packed() else { return Ok(()) };
        k.packed.push(item)?;
        if k.approx_bytes() >= BIG_KEY_BYTES {
            let k = self.packed.take().expect("the list being read");
            return self.list_goes_big(k);
        }
        Ok(())
    }

    fn set_member(&mut self, member: &[u8]) -> VisitResult {
        self.packed().map_or(Ok(()), |k| k.packed.push(member))
    }

    fn zset_member(&mut self, member: &[u8], score: f64) -> VisitResult {
        self.packed().map_or(Ok(()), |k| k.packed.push_scored(member, score))
    }

    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        self.packed().map_or(Ok(()), |k| k.packed.push_field(field, value, expire_at_ms))
    }

    fn stream_entry(&mut self, entry: &StreamEntryRef<'_>) -> VisitResult {
        if self.big.is_some() {
            return self.entry(entry.id, entry.fields());
        }
        self.builder.stream_entry(entry)?;
        self.held += 32 + entry.fields().map(|(f, v)| f.len() + v.len() + 48).sum::<usize>();
        if self.held < BIG_KEY_BYTES {
            return Ok(());
        }
        match self.builder.take_current() {
            Some(e) => self.stream_goes_big(e),
            None => Ok(()),
        }
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
            return self.end_big();
        }
        if let Some(k) = self.packed.take() {
            // Servers skip empty collections on load.
            if end.empty {
                return Ok(());
            }
            return self.push(Item::Packed(Box::new(k)));
        }
        self.builder.key_end(end)?;
        match self.builder.take() {
            Some(e) => self.push(Item::Entry(e)),
            None => Ok(()),
        }
    }
}
