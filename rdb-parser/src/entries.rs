//! Owned entries, one key at a time: a visitor that assembles [`Entry`] values and an
//! iterator over a reader.

use std::io::Read;

use crate::error::Result;
use crate::model::{Entry, HashField, ModuleValue, SparseArray, Stream, StreamEntry, StreamGroup, StreamMeta, Value};
use crate::reader::{RdbReader, Step};
use crate::visitor::{KeyEnd, KeyStart, StreamEntryRef, Visit, VisitResult, Visitor};
use crate::Kind;
use crate::VisitError;

/// A visitor that assembles each key into an owned [`Entry`].
///
/// After a key ends, [`EntryBuilder::take`] returns it. Keys the servers would skip on
/// load (empty collections) are dropped unless [`EntryBuilder::keep_empty`] is set.
#[derive(Default)]
pub struct EntryBuilder {
    current: Option<Entry>,
    ready: Option<Entry>,
    keep_empty: bool,
}

impl EntryBuilder {
    /// A builder that drops empty collections.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also return empty collections.
    pub fn keep_empty(mut self, keep: bool) -> Self {
        self.keep_empty = keep;
        self
    }

    /// The last completed key, if any.
    pub fn take(&mut self) -> Option<Entry> {
        self.ready.take()
    }

    fn value(&mut self) -> Option<&mut Value> {
        self.current.as_mut().map(|e| &mut e.value)
    }

    fn stream(&mut self) -> Option<&mut Stream> {
        match self.value() {
            Some(Value::Stream(s)) => Some(s),
            _ => None,
        }
    }
}

impl Visitor for EntryBuilder {
    fn key_start(&mut self, k: &KeyStart<'_>) -> std::result::Result<Visit, VisitError> {
        let value = match k.rdb_type.kind() {
            Kind::String => Value::String(Vec::new()),
            Kind::List => Value::List(Vec::new()),
            Kind::Set => Value::Set(Vec::new()),
            Kind::ZSet => Value::ZSet(Vec::new()),
            Kind::Hash => Value::Hash(Vec::new()),
            Kind::Stream => Value::Stream(Box::default()),
            Kind::Module => {
                Value::Module(Box::new(ModuleValue { module_id: 0, name: String::new(), encver: 0, ops: Vec::new() }))
            }
            Kind::Array => Value::Array(Box::default()),
            Kind::Gcra => Value::Gcra(0),
        };
        self.current = Some(Entry {
            db: k.db,
            key: k.key.to_vec(),
            expire_at_ms: k.expire_at_ms,
            lru_idle_s: k.lru_idle_s,
            lfu_freq: k.lfu_freq,
            rdb_type: k.rdb_type,
            meta: k.meta.to_vec(),
            value,
        });
        Ok(Visit::Value)
    }

    fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
        if let Some(Value::String(s)) = self.value() {
            s.extend_from_slice(chunk);
        }
        Ok(())
    }

    fn list_item(&mut self, item: &[u8]) -> VisitResult {
        if let Some(Value::List(v)) = self.value() {
            v.push(item.to_vec());
        }
        Ok(())
    }

    fn set_member(&mut self, member: &[u8]) -> VisitResult {
        if let Some(Value::Set(v)) = self.value() {
            v.push(member.to_vec());
        }
        Ok(())
    }

    fn zset_member(&mut self, member: &[u8], score: f64) -> VisitResult {
        if let Some(Value::ZSet(v)) = self.value() {
            v.push((member.to_vec(), score));
        }
        Ok(())
    }

    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        if let Some(Value::Hash(v)) = self.value() {
            v.push(HashField { field: field.to_vec(), value: value.to_vec(), expire_at_ms });
        }
        Ok(())
    }

    fn stream_entry(&mut self, entry: &StreamEntryRef<'_>) -> VisitResult {
        if let Some(s) = self.stream() {
            let fields = entry.fields().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            s.entries.push(StreamEntry { id: entry.id, fields });
        }
        Ok(())
    }

    fn stream_meta(&mut self, meta: &StreamMeta) -> VisitResult {
        if let Some(s) = self.stream() {
            s.meta = meta.clone();
        }
        Ok(())
    }

    fn stream_group(&mut self, group: &StreamGroup) -> VisitResult {
        if let Some(s) = self.stream() {
            s.groups.push(group.clone());
        }
        Ok(())
    }

    fn module_value(&mut self, value: &ModuleValue) -> VisitResult {
        if let Some(Value::Module(m)) = self.value() {
            **m = value.clone();
        }
        Ok(())
    }

    fn array_insert_idx(&mut self, insert_idx: Option<u64>) -> VisitResult {
        if let Some(Value::Array(a)) = self.value() {
            a.insert_idx = insert_idx;
        }
        Ok(())
    }

    fn array_element(&mut self, index: u64, value: &[u8]) -> VisitResult {
        if let Some(Value::Array(a)) = self.value() {
            a.elements.push((index, value.to_vec()));
        }
        Ok(())
    }

    fn gcra(&mut self, tat_us: u64) -> VisitResult {
        if let Some(Value::Gcra(t)) = self.value() {
            *t = tat_us;
        }
        Ok(())
    }

    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        let entry = self.current.take();
        if !end.empty || self.keep_empty {
            self.ready = entry;
        }
        Ok(())
    }
}

/// Iterator over the keys of a file as owned entries.
pub struct Entries<R> {
    reader: RdbReader<R>,
    builder: EntryBuilder,
    finished: bool,
}

impl<R: Read> Entries<R> {
    /// Iterates over the keys `reader` yields (empty collections are skipped).
    pub fn new(reader: RdbReader<R>) -> Self {
        Entries { reader, builder: EntryBuilder::new(), finished: false }
    }
}

impl<R: Read> Iterator for Entries<R> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            match self.reader.next_record(&mut self.builder) {
                Ok(Step::Key) => {
                    if let Some(e) = self.builder.take() {
                        return Some(Ok(e));
                    }
                }
                Ok(Step::Record) => {}
                Ok(Step::End) => self.finished = true,
                Err(e) => {
                    self.finished = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

/// Shows an owned entry to a visitor as a reader would (`key_start`, the elements,
/// `key_end`): the way to write owned values with [`crate::RdbWriter`].
pub fn replay_entry<V: Visitor>(e: &Entry, v: &mut V) -> std::result::Result<(), VisitError> {
    let start = KeyStart {
        db: e.db,
        key: &e.key,
        rdb_type: e.rdb_type,
        expire_at_ms: e.expire_at_ms,
        lru_idle_s: e.lru_idle_s,
        lfu_freq: e.lfu_freq,
        len: None,
        offset: 0,
        meta: &e.meta,
    };
    if v.key_start(&start)? == Visit::Skip {
        return v.key_end(&KeyEnd { elements: 0, record_bytes: 0, empty: false });
    }
    match &e.value {
        Value::String(s) => v.string_chunk(s)?,
        Value::List(items) => items.iter().try_for_each(|i| v.list_item(i))?,
        Value::Set(members) => members.iter().try_for_each(|m| v.set_member(m))?,
        Value::ZSet(members) => members.iter().try_for_each(|(m, s)| v.zset_member(m, *s))?,
        Value::Hash(fields) => fields.iter().try_for_each(|f| v.hash_field(&f.field, &f.value, f.expire_at_ms))?,
        Value::Stream(s) => {
            let mut arena = Vec::new();
            let mut spans = Vec::new();
            for entry in &s.entries {
                arena.clear();
                spans.clear();
                for (f, val) in &entry.fields {
                    for b in [f, val] {
                        let start = arena.len() as u32;
                        arena.extend_from_slice(b);
                        spans.push((start, arena.len() as u32));
                    }
                }
                v.stream_entry(&StreamEntryRef { id: entry.id, arena: &arena, spans: &spans })?;
            }
            s.groups.iter().try_for_each(|g| v.stream_group(g))?;
            v.stream_meta(&s.meta)?;
        }
        Value::Module(m) => v.module_value(m)?,
        Value::Array(a) => replay_array(a, v)?,
        Value::Gcra(t) => v.gcra(*t)?,
    }
    let elements = e.value.len() as u64;
    let empty = elements == 0 && !matches!(e.value.kind(), Kind::String | Kind::Stream | Kind::Module | Kind::Gcra);
    v.key_end(&KeyEnd { elements, record_bytes: 0, empty })
}

fn replay_array<V: Visitor>(a: &SparseArray, v: &mut V) -> std::result::Result<(), VisitError> {
    v.array_insert_idx(a.insert_idx)?;
    a.elements.iter().try_for_each(|(i, val)| v.array_element(*i, val))
}
