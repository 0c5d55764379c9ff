//! Deferred checks ([`crate::ReaderOptions::defer_checks`]): the reading thread only
//! steps over compact values (listpacks, ziplists, intsets, zipmaps, quicklists, LZF
//! strings) and plain sets, hashes and sorted sets (type 5) that the visitor skips, and a second thread decodes and checks them (LZF,
//! element walks, duplicates, order) with the same decoders as an ordinary read.
//!
//! The reported error stays the one an ordinary read reports: the one met first in the
//! file. Stepping over a value reads exactly what its decoder reads before its checks,
//! through the same primitives, so it fails where and as the decoder fails; the checker
//! works through the values in file order and stops at the first damaged one; and when
//! the reading thread fails, or reaches the end, it first waits for the checker, whose
//! error (about an earlier value) wins. When stepping over a value fails partway, the
//! part read is checked on the spot, as damage there comes first. When the checker
//! falls behind, the reading thread checks the next batch itself, so the work spreads
//! over both cores whichever side is heavier.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::context::{Ctx, Gate};
use crate::copied::{self, Copied};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::layout::{shape, Shape};
use crate::prim::{Limits, LZF_STRING};
use crate::source::Source;
use crate::types::RdbType;
use crate::values::read_value;
use crate::visitor::{KeyStart, SkipAll};

pub(crate) mod probe;

/// Values stored in more bytes than this are checked on the reading thread.
const MAX_JOB_BYTES: usize = 1 << 20;
/// Values whose headers count more elements than this, more quicklist nodes than
/// [`MAX_COPY_NODES`] or more stored bytes than [`MAX_JOB_BYTES`], are read on the spot,
/// not copied (checking a large one would not wait for the checker anyway).
const MAX_COPY_COUNT: u64 = 1 << 16;
/// Quicklist nodes hold up to 8 KiB by default: this many make about a job.
const MAX_COPY_NODES: u64 = 128;
/// Bytes of values per batch handed to the checker.
const BATCH_BYTES: usize = 256 << 10;
/// Batches waiting for the checker.
const IN_FLIGHT: usize = 2;

/// Whether the value of type `t` that comes next is one whose checks can be deferred
/// (for strings: only LZF-compressed ones; the others cost nothing to check), and small
/// enough by its headers to be worth copying: large ones are read on the spot, so that
/// a big key is never held in memory for its checks.
pub(crate) fn deferrable<R: Read>(src: &mut Source<R>, t: RdbType) -> Result<bool> {
    match shape(t) {
        Some(Shape::LzfString) if src.peek_u8("a length")? != LZF_STRING => Ok(false),
        Some(shape) => Ok(!probe::large(shape, src.peek_up_to(probe::SIZE_HEAD)?)),
        None => Ok(false),
    }
}

/// The length a deferred value of type `t` states before its elements, as
/// [`crate::KeyStart::len`] gives it: an LZF string's uncompressed length (a writer
/// copies long strings as stored); `None` for the other deferred values.
pub(crate) fn stated_len<R: Read>(src: &mut Source<R>, t: RdbType) -> Result<Option<u64>> {
    match shape(t) {
        Some(Shape::LzfString) => Ok(probe::lzf_string_len(src.peek_up_to(probe::SIZE_HEAD)?)),
        _ => Ok(None),
    }
}

/// Where one deferred value is, in a batch and in the file.
struct Job {
    db: u64,
    rdb_type: RdbType,
    /// Offset of the key record (for the key's errors).
    record: u64,
    at: Copied,
}

/// Values for the checker, their bytes back to back.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    jobs: Vec<Job>,
}

/// Decodes and checks values with the ordinary decoders, skipping their elements.
struct Checker {
    /// Reads a batch's bytes in place (they are its buffer while it is checked).
    cx: Ctx<std::io::Empty>,
    /// The key of the value being checked.
    key: Vec<u8>,
    /// Empty collections found, per database.
    empty: BTreeMap<u64, u64>,
}

impl Checker {
    fn new(limits: Limits, header: Header) -> Checker {
        let src = Source::for_copies();
        Checker { cx: Ctx::new(src, limits, header), key: Vec::new(), empty: BTreeMap::new() }
    }

    /// Checks the value of `job`, whose bytes the checker's buffer holds, and counts it
    /// when it is an empty collection.
    fn check(&mut self, job: &Job) -> Result<()> {
        if self.elements(job)? == 0 && job.rdb_type != RdbType::String {
            *self.empty.entry(job.db).or_default() += 1;
        }
        Ok(())
    }

    /// Checks the value of `job` and returns how many elements it holds.
    fn elements(&mut self, job: &Job) -> Result<u64> {
        copied::open(&mut self.cx.src, &job.at, &mut self.key);
        let head = KeyStart {
            db: job.db,
            key: &self.key,
            rdb_type: job.rdb_type,
            expire_at_ms: None,
            lru_idle_s: None,
            lfu_freq: None,
            len: None,
            offset: job.record,
            meta: &[],
        };
        let mut skip = SkipAll;
        let mut g = Gate::new(&mut skip, job.record);
        read_value(&mut self.cx, &head, &mut g).map_err(|e| e.with_key(&self.key))?;
        Ok(g.elements)
    }

    /// Checks every job of `batch` in order, up to the first failure.
    fn check_batch(&mut self, batch: &mut Batch) -> Result<()> {
        self.cx.src.swap_buffer(&mut batch.bytes);
        let outcome = batch.jobs.iter().try_for_each(|job| self.check(job));
        self.cx.src.swap_buffer(&mut batch.bytes);
        outcome
    }
}

/// What the checker thread found.
struct Report {
    error: Option<Error>,
    empty: BTreeMap<u64, u64>,
}

/// The reading thread's end: collects values into batches for the checker thread.
pub(crate) struct Deferred {
    batches: Option<SyncSender<Batch>>,
    spent: Receiver<Batch>,
    /// Set by the checker when it found damage; tells it to stop when the reader drops.
    stop: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    worker: Option<JoinHandle<Report>>,
    batch: Batch,
    /// For values too large to queue, and for the part of a value read before a failure.
    local: Checker,
}

impl Deferred {
    /// Starts the checker thread; `None` when no thread can be had.
    pub(crate) fn start(limits: Limits, header: Header) -> Option<Deferred> {
        let (batches, rx) = sync_channel::<Batch>(IN_FLIGHT);
        let (spent_tx, spent) = sync_channel::<Batch>(IN_FLIGHT + 2);
        let stop = Arc::new(AtomicBool::new(false));
        let failed = Arc::new(AtomicBool::new(false));
        let (stop_w, failed_w) = (Arc::clone(&stop), Arc::clone(&failed));
        let worker = std::thread::Builder::new()
            .name("rdb-check".into())
            .spawn(move || {
                let mut checker = Checker::new(limits, header);
                let mut error = None;
                for mut batch in rx {
                    if error.is_none() && !stop_w.load(Ordering::Relaxed) {
                        if let Err(e) = checker.check_batch(&mut batch) {
                            error = Some(e);
                            failed_w.store(true, Ordering::Relaxed);
                        }
                    }
                    batch.bytes.clear();
                    batch.jobs.clear();
                    let _ = spent_tx.try_send(batch);
                }
                Report { error, empty: checker.empty }
            })
            .ok()?;
        Some(Deferred {
            batches: Some(batches),
            spent,
            stop,
            failed,
            worker: Some(worker),
            batch: Batch::default(),
            local: Checker::new(limits, header),
        })
    }

    /// Whether the checker has found damage (then [`Deferred::settle`] reports it).
    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    /// Steps over the value of key `head` (type known deferrable) and queues it for the
    /// checker, or checks it here when it is large.
    pub(crate) fn step<R: Read>(&mut self, cx: &mut Ctx<R>, head: &KeyStart<'_>) -> Result<()> {
        let (stepped, job) = self.capture(cx, head)?;
        if stepped.is_ok() && job.at.value_len() <= MAX_JOB_BYTES {
            return self.queue(job);
        }
        if self.check_here(job, stepped)? == 0 && head.rdb_type != RdbType::String {
            *self.local.empty.entry(head.db).or_default() += 1;
        }
        Ok(())
    }

    /// Like [`Deferred::step`], for a visitor that copies stored values: hands the
    /// value's stored bytes to `copy` and returns whether it is an empty collection
    /// (told by its headers, else by checking it here).
    pub(crate) fn step_copy<R: Read>(
        &mut self,
        cx: &mut Ctx<R>,
        head: &KeyStart<'_>,
        copy: impl FnOnce(&[u8]) -> Result<()>,
    ) -> Result<bool> {
        let (stepped, job) = self.capture(cx, head)?;
        if stepped.is_err() {
            return self.check_here(job, stepped).map(|_| false);
        }
        let bytes = &self.batch.bytes[job.at.value.0..job.at.value.1];
        let known_full = shape(head.rdb_type).and_then(|s| probe::holds_elements(head.rdb_type, s, bytes));
        copy(bytes)?;
        if known_full == Some(true) && bytes.len() <= MAX_JOB_BYTES {
            self.queue(job)?;
            return Ok(false);
        }
        Ok(self.check_here(job, stepped)? == 0 && head.rdb_type != RdbType::String)
    }

    /// Steps over the value of key `head`, copying the key and the value into the
    /// batch; returns how stepping went and where the bytes are.
    fn capture<R: Read>(&mut self, cx: &mut Ctx<R>, head: &KeyStart<'_>) -> Result<(Result<()>, Job)> {
        let Some(shape) = shape(head.rdb_type) else {
            return Err(Error::corrupt(head.offset, "internal: a value that cannot be deferred"));
        };
        let (stepped, at) = copied::capture(&mut cx.src, &cx.limits, shape, head.key, &mut self.batch.bytes);
        let job = Job { db: head.db, rdb_type: head.rdb_type, record: head.offset, at };
        Ok((stepped, job))
    }

    /// Queues the value of `job`, the last one captured, for the checker.
    fn queue(&mut self, job: Job) -> Result<()> {
        self.batch.jobs.push(job);
        if self.batch.bytes.len() >= BATCH_BYTES {
            return self.hand_over();
        }
        Ok(())
    }

    /// Checks the value of `job`, the last one captured, on this thread (too large to
    /// queue, cut short, or needed now), takes it out of the batch and returns how many
    /// elements it holds.
    fn check_here(&mut self, job: Job, stepped: Result<()>) -> Result<u64> {
        // The value (perhaps large) moves to the local checker; the queued values before
        // it (at most a batch) are copied into a fresh batch.
        let queued = self.batch.bytes[..job.at.key.0].to_vec();
        let mut bytes = std::mem::replace(&mut self.batch.bytes, queued);
        self.local.cx.src.swap_buffer(&mut bytes);
        let checked = self.local.elements(&job);
        self.local.cx.src.swap_buffer(&mut bytes);
        match stepped {
            Ok(()) => checked,
            Err(cut) => Err(copied::cut_error(cut, checked.map(drop))),
        }
    }

    /// Hands the current batch to the checker, or checks it here when the checker is
    /// behind (then both threads check: an error found here is about later bytes than
    /// the queued ones, and [`Deferred::settle`] puts the checker's first).
    fn hand_over(&mut self) -> Result<()> {
        let fresh = self.spent.try_recv().unwrap_or_default();
        let mut batch = std::mem::replace(&mut self.batch, fresh);
        if let Some(tx) = &self.batches {
            match tx.try_send(batch) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(b)) => batch = b,
                // The checker is gone: it failed; `settle` reports how.
                Err(TrySendError::Disconnected(_)) => return Ok(()),
            }
        }
        let checked = self.local.check_batch(&mut batch);
        batch.bytes.clear();
        batch.jobs.clear();
        self.batch = batch;
        checked
    }

    /// Hands the current batch to the checker, waiting for room.
    fn send(&mut self) {
        let batch = std::mem::take(&mut self.batch);
        if let Some(tx) = &self.batches {
            // A checker that is gone has failed; `settle` reports how.
            let _ = tx.send(batch);
        }
    }

    /// Waits for the checker to finish what was queued; returns its first error, else
    /// the empty collections found per database (on both threads).
    pub(crate) fn settle(&mut self) -> Result<BTreeMap<u64, u64>> {
        if !self.batch.jobs.is_empty() {
            self.send();
        }
        self.batches = None;
        let report = match self.worker.take().map(JoinHandle::join) {
            Some(Ok(report)) => report,
            Some(Err(_)) => return Err(Error::corrupt(0, "internal: the checking thread failed")),
            None => Report { error: None, empty: BTreeMap::new() },
        };
        if let Some(e) = report.error {
            return Err(e);
        }
        let mut empty = std::mem::take(&mut self.local.empty);
        for (db, n) in report.empty {
            *empty.entry(db).or_default() += n;
        }
        Ok(empty)
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        // A reader dropped early: the checker skips what is left.
        self.stop.store(true, Ordering::Relaxed);
    }
}
