//! One key's data, gathered from visitor callbacks into a compact arena so it can be
//! re-encoded for another target once it is complete.

use crate::model::{KeyMeta, ModuleValue, StreamGroup, StreamId, StreamMeta};
use crate::types::{Kind, RdbType};
use crate::visitor::{KeyStart, StreamEntryRef};

/// A span of bytes in [`KeyBuf::data`].
pub(crate) type Span = (usize, usize);

/// A stream entry: its ID and the range of its field/value spans.
pub(crate) struct EntrySpans {
    pub id: StreamId,
    pub first: usize,
    pub pairs: usize,
}

/// Everything known about the key being collected.
#[derive(Default)]
pub(crate) struct KeyBuf {
    pub db: u64,
    pub key: Vec<u8>,
    pub source_type: Option<RdbType>,
    pub expire_at_ms: Option<i64>,
    pub lru_idle_s: Option<u64>,
    pub lfu_freq: Option<u8>,
    pub meta: Vec<KeyMeta>,
    /// Element bytes: string chunks, list items, members, fields and values.
    pub data: Vec<u8>,
    /// One span per element (for hashes: field, value alternately).
    pub spans: Vec<Span>,
    /// Scores, one per sorted-set member.
    pub scores: Vec<f64>,
    /// Field expiries, one per hash field.
    pub field_ttls: Vec<Option<i64>>,
    pub stream_entries: Vec<EntrySpans>,
    pub stream_meta: StreamMeta,
    pub stream_groups: Vec<StreamGroup>,
    pub module: Option<ModuleValue>,
    /// Sparse-array insert cursor and element indices (values are in `spans`).
    pub array_insert_idx: Option<u64>,
    pub array_indices: Vec<u64>,
    /// GCRA arrival time.
    pub gcra_tat_us: u64,
    /// The value as stored in the source, when the reader hands it over.
    pub raw: Option<(RdbType, Vec<u8>)>,
}

impl KeyBuf {
    /// Starts a new key, keeping the buffers' capacity.
    pub(crate) fn begin(&mut self, k: &KeyStart<'_>) {
        self.db = k.db;
        self.key.clear();
        self.key.extend_from_slice(k.key);
        self.source_type = Some(k.rdb_type);
        self.expire_at_ms = k.expire_at_ms;
        self.lru_idle_s = k.lru_idle_s;
        self.lfu_freq = k.lfu_freq;
        self.meta = k.meta.to_vec();
        self.data.clear();
        self.spans.clear();
        self.scores.clear();
        self.field_ttls.clear();
        self.stream_entries.clear();
        self.stream_meta = StreamMeta::default();
        self.stream_groups.clear();
        self.module = None;
        self.array_insert_idx = None;
        self.array_indices.clear();
        self.gcra_tat_us = 0;
        self.raw = None;
        if self.data.capacity() > (64 << 20) {
            self.data = Vec::new();
        }
    }

    /// The data type.
    pub(crate) fn kind(&self) -> Kind {
        self.source_type.map_or(Kind::String, RdbType::kind)
    }

    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        self.spans.push((start, self.data.len()));
    }

    /// Appends to the single span of a string value.
    pub(crate) fn push_chunk(&mut self, chunk: &[u8]) {
        if self.spans.is_empty() {
            self.spans.push((0, 0));
        }
        self.data.extend_from_slice(chunk);
        self.spans[0].1 = self.data.len();
    }

    pub(crate) fn push_stream_entry(&mut self, e: &StreamEntryRef<'_>) {
        let first = self.spans.len();
        for (f, v) in e.fields() {
            self.push(f);
            self.push(v);
        }
        self.stream_entries.push(EntrySpans { id: e.id, first, pairs: e.len() });
    }

    pub(crate) fn bytes(&self, span: Span) -> &[u8] {
        &self.data[span.0..span.1]
    }

    /// All elements, in order.
    pub(crate) fn elements(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.spans.iter().map(|&s| self.bytes(s))
    }

    /// The string value (empty when no chunk arrived).
    pub(crate) fn string(&self) -> &[u8] {
        self.spans.first().map_or(&[][..], |&s| self.bytes(s))
    }

    /// Hash fields as (field, value, expiry).
    pub(crate) fn hash_fields(&self) -> impl Iterator<Item = (&[u8], &[u8], Option<i64>)> + '_ {
        self.spans.chunks_exact(2).zip(&self.field_ttls).map(|(p, ttl)| (self.bytes(p[0]), self.bytes(p[1]), *ttl))
    }

    /// Field/value pairs of a stream entry.
    pub(crate) fn entry_fields<'a>(&'a self, e: &EntrySpans) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let spans = &self.spans[e.first..e.first + 2 * e.pairs];
        spans.chunks_exact(2).map(|p| (self.bytes(p[0]), self.bytes(p[1])))
    }

    /// Number of elements (members, fields, list items, entries); bytes for strings.
    pub(crate) fn len(&self) -> usize {
        match self.kind() {
            Kind::String => self.string().len(),
            Kind::Hash => self.spans.len() / 2,
            Kind::Stream => self.stream_entries.len(),
            Kind::Module | Kind::Gcra => 1,
            _ => self.spans.len(),
        }
    }
}

/// Expands, inside an `impl Visitor` block of a type with a `key: KeyBuf` field, the
/// methods that gather a key's elements into that buffer (`key_start` must call
/// [`KeyBuf::begin`]).
macro_rules! collect_key_elements {
    () => {
        fn string_chunk(&mut self, chunk: &[u8]) -> $crate::visitor::VisitResult {
            self.key.push_chunk(chunk);
            Ok(())
        }

        fn list_item(&mut self, item: &[u8]) -> $crate::visitor::VisitResult {
            self.key.push(item);
            Ok(())
        }

        fn set_member(&mut self, member: &[u8]) -> $crate::visitor::VisitResult {
            self.key.push(member);
            Ok(())
        }

        fn zset_member(&mut self, member: &[u8], score: f64) -> $crate::visitor::VisitResult {
            self.key.push(member);
            self.key.scores.push(score);
            Ok(())
        }

        fn hash_field(
            &mut self,
            field: &[u8],
            value: &[u8],
            expire_at_ms: Option<i64>,
        ) -> $crate::visitor::VisitResult {
            self.key.push(field);
            self.key.push(value);
            self.key.field_ttls.push(expire_at_ms);
            Ok(())
        }

        fn stream_entry(&mut self, entry: &$crate::visitor::StreamEntryRef<'_>) -> $crate::visitor::VisitResult {
            self.key.push_stream_entry(entry);
            Ok(())
        }

        fn stream_meta(&mut self, meta: &$crate::model::StreamMeta) -> $crate::visitor::VisitResult {
            self.key.stream_meta = meta.clone();
            Ok(())
        }

        fn stream_group(&mut self, group: &$crate::model::StreamGroup) -> $crate::visitor::VisitResult {
            self.key.stream_groups.push(group.clone());
            Ok(())
        }

        fn module_value(&mut self, value: &$crate::model::ModuleValue) -> $crate::visitor::VisitResult {
            self.key.module = Some(value.clone());
            Ok(())
        }

        fn array_insert_idx(&mut self, insert_idx: Option<u64>) -> $crate::visitor::VisitResult {
            self.key.array_insert_idx = insert_idx;
            Ok(())
        }

        fn array_element(&mut self, index: u64, value: &[u8]) -> $crate::visitor::VisitResult {
            self.key.array_indices.push(index);
            self.key.push(value);
            Ok(())
        }

        fn gcra(&mut self, tat_us: u64) -> $crate::visitor::VisitResult {
            self.key.gcra_tat_us = tat_us;
            Ok(())
        }
    };
}
pub(crate) use collect_key_elements;
