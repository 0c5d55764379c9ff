//! The JSON converts' visitor: each key becomes a record, formatted by [`Formatted`].
//!
//! Lists, sets, sorted sets and hashes are kept compact ([`PackedKey`]: one buffer and
//! 4-byte offsets, not a vector per element), other types but streams as an [`Entry`],
//! until the key ends. A list that grows past [`BIG_KEY_BYTES`] while it is read goes
//! on in pieces instead: its items are formatted as they arrive. Stream entries are
//! always formatted as they arrive (their groups and metadata, which come after them,
//! are kept), the text handed on once the key ends or once it is large. Strings stay
//! whole; their text goes out in pieces like every record's.

use rdb_parser::{
    EntryBuilder, KeyEnd, KeyMeta, KeyStart, Kind, ModuleValue, Stream, StreamEntryRef, StreamGroup, StreamMeta, Visit,
    VisitError, VisitResult, Visitor,
};
use std::io::{self, Write};

use super::formatted::{Formatted, Item};
use super::packed::PackedKey;
use super::record;
use super::text::Text;

/// A list goes on in pieces once about this much of it is held.
pub const BIG_KEY_BYTES: usize = 4 << 20;

/// Hands each key's record to [`Formatted`]; big lists and all streams in pieces.
pub struct JsonKeys<'s> {
    builder: EntryBuilder,
    records: Formatted<'s>,
    /// The current key, when it is a collection kept compact.
    packed: Option<PackedKey>,
    big: Option<Big>,
    /// Text of a key in pieces not handed over yet.
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
    /// Its record was begun ([`Item::Begin`]): some of its text was handed over.
    begun: bool,
}

/// Hands the text of a key in pieces to the records, beginning its record first.
struct ToRecords<'a, 's> {
    records: &'a mut Formatted<'s>,
    begun: &'a mut bool,
}

impl Write for ToRecords<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !*self.begun {
            self.records.push(Item::Begin)?;
            *self.begun = true;
        }
        self.records.text(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'s> JsonKeys<'s> {
    pub fn new(records: Formatted<'s>) -> JsonKeys<'s> {
        JsonKeys { builder: EntryBuilder::new(), records, packed: None, big: None, buf: Vec::new() }
    }

    /// Where the records are formatted.
    pub fn records(&mut self) -> &mut Formatted<'s> {
        &mut self.records
    }

    fn push(&mut self, item: Item) -> VisitResult {
        Ok(self.records.push(item)?)
    }

    /// Formats one more item or entry of the key in pieces with `f`, handing the text
    /// over as it grows.
    fn in_order(&mut self, f: impl FnOnce(&mut Text)) -> VisitResult {
        let Some(big) = &mut self.big else { return Ok(()) };
        let mut sink = ToRecords { records: &mut self.records, begun: &mut big.begun };
        let mut out = Text::with_buffer(std::mem::take(&mut self.buf), &mut sink);
        if big.written == 0 {
            open(&mut out, &big.head);
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

    /// Goes on with a key in pieces.
    fn go_big(&mut self, head: (u64, Vec<u8>, Kind, Option<i64>), meta: Vec<KeyMeta>) {
        self.big = Some(Big { head, meta, written: 0, rest: Box::default(), begun: false });
    }

    fn list_goes_big(&mut self, k: PackedKey) -> VisitResult {
        self.go_big((k.db, k.key, k.kind, k.expire_at_ms), k.meta);
        (0..k.packed.len() as u32).try_for_each(|i| self.in_order(|out| record::bytes(out, k.packed.get(i))))
    }

    /// Ends the record of the key in pieces and hands over what is left of it.
    fn end_big(&mut self) -> VisitResult {
        let Some(mut big) = self.big.take() else { return Ok(()) };
        let mut sink = ToRecords { records: &mut self.records, begun: &mut big.begun };
        let mut out = Text::with_buffer(std::mem::take(&mut self.buf), &mut sink);
        if big.written == 0 {
            open(&mut out, &big.head);
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

/// Writes the record of a key in pieces, `head`, up to its first item or entry.
fn open(out: &mut Text, head: &(u64, Vec<u8>, Kind, Option<i64>)) {
    let (db, key, kind, expire) = head;
    record::head(out, *db, key, *kind, *expire);
    if *kind == Kind::Stream {
        out.extend_from_slice(b"{\"entries\":");
    }
    out.push(b'[');
}

impl Visitor for JsonKeys<'_> {
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        if k.rdb_type.kind() == Kind::Stream {
            self.go_big((k.db, k.key.to_vec(), Kind::Stream, k.expire_at_ms), k.meta.to_vec());
            return Ok(Visit::Value);
        }
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
        self.in_order(|out| record::stream_entry(out, entry.id, entry.fields()))
    }

    fn stream_meta(&mut self, meta: &StreamMeta) -> VisitResult {
        if let Some(s) = self.stream_rest() {
            s.meta = meta.clone();
        }
        Ok(())
    }

    fn stream_group(&mut self, group: &StreamGroup) -> VisitResult {
        if let Some(s) = self.stream_rest() {
            s.groups.push(group.clone());
        }
        Ok(())
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
