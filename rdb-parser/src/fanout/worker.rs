//! The visiting side of a fanned-out read: batches of copied values, and the worker
//! that visits them with the ordinary decoders.

use crate::context::{Ctx, Gate};
use crate::copied::{self, Copied};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::model::KeyMeta;
use crate::prim::Limits;
use crate::reader::is_empty;
use crate::source::Source;
use crate::types::RdbType;
use crate::values::read_value;
use crate::visitor::{KeyEnd, KeyStart, SkipAll, Visitor};

/// One key whose value was copied into a batch.
pub(super) struct Job {
    pub(super) db: u64,
    pub(super) rdb_type: RdbType,
    pub(super) expire_at_ms: Option<i64>,
    pub(super) lru_idle_s: Option<u64>,
    pub(super) lfu_freq: Option<u8>,
    pub(super) meta: Vec<KeyMeta>,
    /// Offset of the key record (its first prefix opcode, or the type byte).
    pub(super) record: u64,
    pub(super) at: Copied,
    /// The visitor wants the key (else its value is only checked).
    pub(super) wanted: bool,
}

/// Keys for a worker, their names and values back to back.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) bytes: Vec<u8>,
    pub(super) jobs: Vec<Job>,
}

impl Batch {
    /// Offset of its first key record (0 when empty), for errors about the batch.
    pub(super) fn first_record(&self) -> u64 {
        self.jobs.first().map_or(0, |j| j.record)
    }

    pub(super) fn clear(&mut self) {
        self.bytes.clear();
        self.jobs.clear();
    }
}

/// Visits copied values with its own visitor `W`, and collects each key's output.
pub(super) struct Worker<W> {
    /// Reads a batch's bytes in place (they are its buffer while it is visited).
    cx: Ctx<std::io::Empty>,
    key: Vec<u8>,
    pub(super) v: W,
}

impl<W: Visitor> Worker<W> {
    pub(super) fn new(v: W, limits: Limits, header: Header) -> Worker<W> {
        let src = Source::for_copies();
        Worker { cx: Ctx::new(src, limits, header), key: Vec::new(), v }
    }

    /// Visits every job of `batch` in order, calling `finish` after each wanted key, up
    /// to the first failure.
    pub(super) fn run<O>(&mut self, batch: &mut Batch, out: &mut O, finish: &impl Fn(&mut W, &mut O)) -> Result<()> {
        self.cx.src.swap_buffer(&mut batch.bytes);
        let outcome = batch.jobs.iter().try_for_each(|job| {
            self.visit(job)?;
            if job.wanted {
                finish(&mut self.v, out);
            }
            Ok(())
        });
        self.cx.src.swap_buffer(&mut batch.bytes);
        outcome
    }

    /// Visits the value of `job`, whose bytes the worker's buffer holds.
    fn visit(&mut self, job: &Job) -> Result<()> {
        copied::open(&mut self.cx.src, &job.at, &mut self.key);
        let head = KeyStart {
            db: job.db,
            key: &self.key,
            rdb_type: job.rdb_type,
            expire_at_ms: job.expire_at_ms,
            lru_idle_s: job.lru_idle_s,
            lfu_freq: job.lfu_freq,
            len: None,
            offset: job.record,
            meta: &job.meta,
        };
        let visited =
            if job.wanted { visit_value(&mut self.cx, &head, &mut self.v) } else { check_value(&mut self.cx, &head) };
        visited.map_err(|e| e.with_key(&self.key))
    }
}

/// Reads the value of key `head` from `cx` with visitor `v`, from its start to its end.
pub(super) fn visit_value<R: std::io::Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, v: &mut V) -> Result<()> {
    let mut g = Gate::new(v, head.offset);
    read_value(cx, head, &mut g)?;
    let elements = g.elements;
    let empty = is_empty(head.rdb_type, elements);
    g.end(&KeyEnd { elements, record_bytes: cx.src.offset() - head.offset, empty })
}

/// [`visit_value`] for a key whose value is only checked.
pub(super) fn check_value<R: std::io::Read>(cx: &mut Ctx<R>, head: &KeyStart<'_>) -> Result<()> {
    visit_value(cx, head, &mut SkipAll)
}

/// What a worker made of one batch.
pub(super) struct Done<O> {
    pub(super) seq: u64,
    /// Offset of the batch's first key.
    pub(super) at: u64,
    pub(super) out: O,
    pub(super) error: Option<Error>,
    /// The batch, emptied, for reuse.
    pub(super) batch: Batch,
}
