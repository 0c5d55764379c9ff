//! Key selection: which keys a visitor sees (`--db`, `--key PATTERN`, `--type T`).
//!
//! [`Filtered`] wraps any [`Visitor`]: keys the [`KeyPredicate`] refuses are skipped
//! (read and checked, never delivered); every other record (header, AUX, RESIZEDB,
//! slot information, functions, module AUX, the end) goes through unchanged.

use std::collections::HashSet;

use crate::error::VisitError;
use crate::glob::KeyPattern;
use crate::header::Header;
use crate::model::{ModuleAux, ModuleValue, PreGaFunction, StreamGroup, StreamId, StreamMeta};
use crate::types::{Kind, RdbType};
use crate::visitor::{Checksum, Container, KeyEnd, KeyStart, StreamEntryRef, Visit, VisitResult, Visitor};

/// Decides which keys a visitor handles.
pub trait KeyPredicate {
    /// Whether the key passes.
    fn matches(&self, k: &KeyStart<'_>) -> bool;
}

/// An exact set of (db, key) pairs.
impl KeyPredicate for HashSet<(u64, Vec<u8>)> {
    fn matches(&self, k: &KeyStart<'_>) -> bool {
        self.contains(&(k.db, k.key.to_vec()))
    }
}

/// Keys selected by database, name pattern and type; an empty list means "all".
#[derive(Debug, Clone, Default)]
pub struct KeyFilter {
    /// Databases to keep.
    pub dbs: Vec<u64>,
    /// Name patterns (Redis `MATCH` semantics); a key passes when one matches.
    pub patterns: Vec<KeyPattern>,
    /// Logical types to keep.
    pub kinds: Vec<Kind>,
}

impl KeyFilter {
    /// True when the filter keeps every key.
    pub fn is_empty(&self) -> bool {
        self.dbs.is_empty() && self.patterns.is_empty() && self.kinds.is_empty()
    }
}

impl KeyPredicate for KeyFilter {
    fn matches(&self, k: &KeyStart<'_>) -> bool {
        (self.dbs.is_empty() || self.dbs.contains(&k.db))
            && (self.kinds.is_empty() || self.kinds.contains(&k.rdb_type.kind()))
            && (self.patterns.is_empty() || self.patterns.iter().any(|p| p.matches(k.key)))
    }
}

/// Passes only the keys a predicate accepts to the inner visitor.
pub struct Filtered<'f, V> {
    /// The wrapped visitor.
    pub inner: V,
    filter: &'f dyn KeyPredicate,
    skipping: bool,
}

impl<'f, V> Filtered<'f, V> {
    /// Wraps `inner`, delivering only keys `filter` accepts.
    pub fn new(inner: V, filter: &'f dyn KeyPredicate) -> Self {
        Filtered { inner, filter, skipping: false }
    }
}

impl<V: Visitor> Visitor for Filtered<'_, V> {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.inner.header(h)
    }
    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        self.inner.aux(key, value)
    }
    fn select_db(&mut self, db: u64) -> VisitResult {
        self.inner.select_db(db)
    }
    fn resize_db(&mut self, keys: u64, expires: u64) -> VisitResult {
        self.inner.resize_db(keys, expires)
    }
    fn slot_info(&mut self, slot: u64, keys: u64, expires: u64) -> VisitResult {
        self.inner.slot_info(slot, keys, expires)
    }
    fn slot_import(&mut self, job: &[u8], ranges: &[(u64, u64)]) -> VisitResult {
        self.inner.slot_import(job, ranges)
    }
    fn function(&mut self, code: &[u8]) -> VisitResult {
        self.inner.function(code)
    }
    fn function_pre_ga(&mut self, f: &PreGaFunction) -> VisitResult {
        self.inner.function_pre_ga(f)
    }
    fn module_aux(&mut self, aux: &ModuleAux) -> VisitResult {
        self.inner.module_aux(aux)
    }
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        self.skipping = !self.filter.matches(k);
        if self.skipping {
            return Ok(Visit::Skip);
        }
        self.inner.key_start(k)
    }
    fn string_chunk(&mut self, c: &[u8]) -> VisitResult {
        self.inner.string_chunk(c)
    }
    fn list_item(&mut self, i: &[u8]) -> VisitResult {
        self.inner.list_item(i)
    }
    fn set_member(&mut self, m: &[u8]) -> VisitResult {
        self.inner.set_member(m)
    }
    fn zset_member(&mut self, m: &[u8], s: f64) -> VisitResult {
        self.inner.zset_member(m, s)
    }
    fn hash_field(&mut self, f: &[u8], v: &[u8], t: Option<i64>) -> VisitResult {
        self.inner.hash_field(f, v, t)
    }
    fn stream_node(&mut self, id: StreamId, n: usize) -> VisitResult {
        self.inner.stream_node(id, n)
    }
    fn stream_entry(&mut self, e: &StreamEntryRef<'_>) -> VisitResult {
        self.inner.stream_entry(e)
    }
    fn stream_meta(&mut self, m: &StreamMeta) -> VisitResult {
        self.inner.stream_meta(m)
    }
    fn stream_group(&mut self, g: &StreamGroup) -> VisitResult {
        self.inner.stream_group(g)
    }
    fn module_value(&mut self, v: &ModuleValue) -> VisitResult {
        self.inner.module_value(v)
    }
    fn array_insert_idx(&mut self, i: Option<u64>) -> VisitResult {
        self.inner.array_insert_idx(i)
    }
    fn array_element(&mut self, index: u64, v: &[u8]) -> VisitResult {
        self.inner.array_element(index, v)
    }
    fn gcra(&mut self, tat_us: u64) -> VisitResult {
        self.inner.gcra(tat_us)
    }
    fn hash_template(&mut self, id: u64, fields: &[&[u8]]) -> VisitResult {
        self.inner.hash_template(id, fields)
    }
    fn container(&mut self, c: &Container) -> VisitResult {
        self.inner.container(c)
    }
    fn raw_value(&mut self, t: RdbType, bytes: &[u8]) -> VisitResult {
        self.inner.raw_value(t, bytes)
    }
    fn take_raw_value(&mut self, t: RdbType, bytes: &mut Vec<u8>) -> VisitResult {
        self.inner.take_raw_value(t, bytes)
    }
    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        if self.skipping {
            self.skipping = false;
            return Ok(());
        }
        self.inner.key_end(end)
    }
    /// Forwarded as it is: the count covers the deferred keys the filter skipped too.
    fn deferred_empty(&mut self, db: u64, keys: u64) -> VisitResult {
        self.inner.deferred_empty(db, keys)
    }
    fn end(&mut self, c: Checksum) -> VisitResult {
        self.inner.end(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Dialect;
    use crate::model::{ModuleOp, StreamMeta};
    use crate::visitor::ContainerKind;

    fn start(db: u64, key: &[u8], t: RdbType) -> KeyStart<'_> {
        KeyStart {
            db,
            key,
            rdb_type: t,
            expire_at_ms: None,
            lru_idle_s: None,
            lfu_freq: None,
            len: None,
            offset: 0,
            meta: &[],
        }
    }

    #[test]
    fn all_filters_apply() {
        let f = KeyFilter { dbs: vec![1], patterns: vec![KeyPattern::new(b"user:*")], kinds: vec![Kind::Hash] };
        assert!(f.matches(&start(1, b"user:1/x", RdbType::HashListpack)));
        assert!(!f.matches(&start(0, b"user:1", RdbType::HashListpack)));
        assert!(!f.matches(&start(1, b"order:1", RdbType::HashListpack)));
        assert!(!f.matches(&start(1, b"user:1", RdbType::String)));
        assert!(KeyFilter::default().matches(&start(9, b"x", RdbType::String)));
    }

    /// Records the name of every visitor method called.
    #[derive(Default)]
    struct Recorder(Vec<&'static str>);

    macro_rules! record {
        ($($name:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty = $val:expr)? ;)*) => {
            impl Visitor for Recorder {
                $(fn $name(&mut self, $($arg: $ty),*) -> record!(@ret $($ret)?) {
                    $(let _ = $arg;)*
                    self.0.push(stringify!($name));
                    record!(@val $($val)?)
                })*
            }
        };
        (@ret) => { VisitResult };
        (@ret $ret:ty) => { $ret };
        (@val) => { Ok(()) };
        (@val $val:expr) => { $val };
    }

    record! {
        header(h: &Header);
        aux(k: &[u8], v: &[u8]);
        select_db(db: u64);
        resize_db(k: u64, e: u64);
        slot_info(s: u64, k: u64, e: u64);
        slot_import(j: &[u8], r: &[(u64, u64)]);
        function(c: &[u8]);
        function_pre_ga(f: &PreGaFunction);
        module_aux(a: &ModuleAux);
        key_start(k: &KeyStart<'_>) -> Result<Visit, VisitError> = Ok(Visit::Value);
        string_chunk(c: &[u8]);
        list_item(i: &[u8]);
        set_member(m: &[u8]);
        zset_member(m: &[u8], s: f64);
        hash_field(f: &[u8], v: &[u8], t: Option<i64>);
        stream_node(id: StreamId, n: usize);
        stream_entry(e: &StreamEntryRef<'_>);
        stream_meta(m: &StreamMeta);
        stream_group(g: &StreamGroup);
        module_value(v: &ModuleValue);
        array_insert_idx(i: Option<u64>);
        array_element(i: u64, v: &[u8]);
        gcra(t: u64);
        hash_template(i: u64, f: &[&[u8]]);
        container(c: &Container);
        raw_value(t: RdbType, b: &[u8]);
        take_raw_value(t: RdbType, b: &mut Vec<u8>);
        key_end(e: &KeyEnd);
        deferred_empty(db: u64, k: u64);
        end(c: Checksum);
    }

    /// The names of the methods declared in `trait Visitor`, read from its source, so
    /// that a method added later without a forwarder here fails this test.
    fn visitor_methods() -> Vec<String> {
        let src = include_str!("visitor.rs");
        let body = src.split("pub trait Visitor {").nth(1).and_then(|s| s.split("\n}\n").next()).unwrap_or_default();
        body.lines()
            .filter_map(|l| l.trim().strip_prefix("fn "))
            .filter_map(|l| l.split('(').next())
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_visitor_method_is_forwarded() -> Result<(), VisitError> {
        let all = KeyFilter::default();
        let mut f = Filtered::new(Recorder::default(), &all);
        let module = ModuleValue { module_id: 0, name: String::new(), encver: 0, ops: vec![ModuleOp::UInt(1)] };
        let header = Header { magic: "REDIS", version: 12, dialect: Dialect::Redis };
        let entry = StreamEntryRef { id: StreamId::default(), arena: &[], spans: &[] };
        let group = StreamGroup {
            name: vec![],
            last_id: StreamId::default(),
            entries_read: None,
            pending: vec![],
            consumers: vec![],
            nacked: vec![],
        };
        let pre_ga = PreGaFunction { name: vec![], engine: vec![], description: None, code: vec![] };
        f.header(&header)?;
        f.aux(b"k", b"v")?;
        f.select_db(0)?;
        f.resize_db(1, 0)?;
        f.slot_info(1, 1, 0)?;
        f.slot_import(b"job", &[(0, 1)])?;
        f.function(b"code")?;
        f.function_pre_ga(&pre_ga)?;
        f.module_aux(&ModuleAux { value: module.clone(), when: 2 })?;
        f.key_start(&start(0, b"k", RdbType::String))?;
        f.string_chunk(b"v")?;
        f.list_item(b"i")?;
        f.set_member(b"m")?;
        f.zset_member(b"m", 1.0)?;
        f.hash_field(b"f", b"v", None)?;
        f.stream_node(StreamId::default(), 1)?;
        f.stream_entry(&entry)?;
        f.stream_meta(&StreamMeta::default())?;
        f.stream_group(&group)?;
        f.module_value(&module)?;
        f.array_insert_idx(Some(1))?;
        f.array_element(1, b"v")?;
        f.gcra(1)?;
        f.hash_template(0, &[b"f"])?;
        f.container(&Container { kind: ContainerKind::Listpack, bytes: 7, entries: 0, compressed: false })?;
        f.raw_value(RdbType::String, b"v")?;
        f.take_raw_value(RdbType::String, &mut b"v".to_vec())?;
        f.key_end(&KeyEnd { elements: 1, record_bytes: 3, empty: false })?;
        f.deferred_empty(0, 1)?;
        f.end(Checksum::Disabled)?;
        let declared = visitor_methods();
        assert!(declared.len() >= 24, "found the trait's methods: {declared:?}");
        for name in &declared {
            assert!(f.inner.0.contains(&name.as_str()), "Filtered does not forward Visitor::{name}");
        }
        Ok(())
    }
}
