//! [`Trace`]: a visitor that writes down everything it is shown, to compare two ways of
//! reading the same bytes.

use std::fmt::Write;
use std::sync::{Arc, Mutex};

use crate::model::{ModuleAux, ModuleValue, PreGaFunction, StreamGroup, StreamId, StreamMeta};
use crate::visitor::{Checksum, Container, KeyEnd, KeyStart, StreamEntryRef, Visit, VisitResult, Visitor};
use crate::{Header, VisitError};

/// Every callback as a line of text.
#[derive(Default)]
pub(super) struct Trace {
    pub(super) lines: Vec<String>,
    /// Where the lines go as they are made instead, when set.
    pub(super) direct: Option<Arc<Mutex<Vec<String>>>>,
}

impl Trace {
    fn note(&mut self, args: std::fmt::Arguments<'_>) -> VisitResult {
        let mut line = String::new();
        line.write_fmt(args)?;
        match &self.direct {
            Some(to) => to.lock().map_err(|_| "the line log is poisoned")?.push(line),
            None => self.lines.push(line),
        }
        Ok(())
    }
}

impl Visitor for Trace {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.note(format_args!("header {h:?}"))
    }
    fn aux(&mut self, key: &[u8], value: &[u8]) -> VisitResult {
        self.note(format_args!("aux {key:?} {value:?}"))
    }
    fn select_db(&mut self, db: u64) -> VisitResult {
        self.note(format_args!("select {db}"))
    }
    fn resize_db(&mut self, keys: u64, expires: u64) -> VisitResult {
        self.note(format_args!("resize {keys} {expires}"))
    }
    fn slot_info(&mut self, slot: u64, keys: u64, expires: u64) -> VisitResult {
        self.note(format_args!("slot {slot} {keys} {expires}"))
    }
    fn slot_import(&mut self, job: &[u8], ranges: &[(u64, u64)]) -> VisitResult {
        self.note(format_args!("import {job:?} {ranges:?}"))
    }
    fn function(&mut self, code: &[u8]) -> VisitResult {
        self.note(format_args!("function {code:?}"))
    }
    fn function_pre_ga(&mut self, f: &PreGaFunction) -> VisitResult {
        self.note(format_args!("function {f:?}"))
    }
    fn module_aux(&mut self, aux: &ModuleAux) -> VisitResult {
        self.note(format_args!("module aux {aux:?}"))
    }
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        self.note(format_args!("key {k:?}"))?;
        Ok(Visit::Value)
    }
    fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
        self.note(format_args!("chunk {chunk:?}"))
    }
    fn list_item(&mut self, item: &[u8]) -> VisitResult {
        self.note(format_args!("item {item:?}"))
    }
    fn set_member(&mut self, member: &[u8]) -> VisitResult {
        self.note(format_args!("member {member:?}"))
    }
    fn zset_member(&mut self, member: &[u8], score: f64) -> VisitResult {
        self.note(format_args!("member {member:?} {}", score.to_bits()))
    }
    fn hash_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        self.note(format_args!("field {field:?} {value:?} {expire_at_ms:?}"))
    }
    fn stream_node(&mut self, master_id: StreamId, listpack_bytes: usize) -> VisitResult {
        self.note(format_args!("node {master_id:?} {listpack_bytes}"))
    }
    fn stream_entry(&mut self, e: &StreamEntryRef<'_>) -> VisitResult {
        let fields: Vec<_> = e.fields().collect();
        self.note(format_args!("entry {:?} {fields:?}", e.id))
    }
    fn stream_meta(&mut self, meta: &StreamMeta) -> VisitResult {
        self.note(format_args!("meta {meta:?}"))
    }
    fn stream_group(&mut self, group: &StreamGroup) -> VisitResult {
        self.note(format_args!("group {group:?}"))
    }
    fn module_value(&mut self, value: &ModuleValue) -> VisitResult {
        self.note(format_args!("module {value:?}"))
    }
    fn array_insert_idx(&mut self, insert_idx: Option<u64>) -> VisitResult {
        self.note(format_args!("insert at {insert_idx:?}"))
    }
    fn array_element(&mut self, index: u64, value: &[u8]) -> VisitResult {
        self.note(format_args!("element {index} {value:?}"))
    }
    fn gcra(&mut self, tat_us: u64) -> VisitResult {
        self.note(format_args!("gcra {tat_us}"))
    }
    fn hash_template(&mut self, id: u64, fields: &[&[u8]]) -> VisitResult {
        self.note(format_args!("template {id} {fields:?}"))
    }
    fn container(&mut self, c: &Container) -> VisitResult {
        self.note(format_args!("container {c:?}"))
    }
    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        self.note(format_args!("end {end:?}"))
    }
    fn end(&mut self, checksum: Checksum) -> VisitResult {
        self.note(format_args!("checksum {checksum:?}"))
    }
}
