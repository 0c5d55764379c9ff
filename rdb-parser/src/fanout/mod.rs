//! Reading with the values visited on other threads ([`RdbReader::read_fanned`]).
//!
//! The reading thread reads the file (and its checksum) and steps over each value of a
//! compact or string-only layout as [`crate::defer`] does, and each stream, copying it
//! into a batch; worker threads visit the batches with visitors of their own, made from
//! the caller's at the first key, through the ordinary decoders (so every check runs as
//! in an ordinary read). When every worker is busy the reading thread visits the batch
//! itself, so the work spreads over the cores whichever side is heavier. Values too
//! large to copy, and module values (whose size nothing states), are visited on the
//! reading thread, each only once the outputs of the keys before it reached the caller,
//! so their visitor may write its output as it goes ([`Forked::InTurn`]).
//!
//! What the workers make of the keys reaches the caller in file order, and so does the
//! first error: stepping over a value reads what its decoder reads, and an error found
//! while reading waits for the batches before it, whose errors come first.

mod worker;

use std::collections::BTreeMap;
use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TrySendError};

use crate::context::Ctx;
use crate::copied;
use crate::defer::probe;
use crate::error::{Error, ErrorKind, Result, VisitError};
use crate::filter::KeyPredicate;
use crate::header::Header;
use crate::layout::{shape, Shape};
use crate::prim::Limits;
use crate::reader::{KeyHandoff, RdbReader, Step};
use crate::stream::format_of;
use crate::types::{Kind, RdbType};
use crate::visitor::{KeyStart, Visitor};
use worker::{check_value, visit_value, Batch, Done, Job, Worker};

/// Bytes of values per batch.
const BATCH_BYTES: usize = 32 << 10;
/// Batches smaller than this are visited on the reading thread.
const SMALL_BATCH_BYTES: usize = 4 << 10;
/// Batches queued per worker.
const IN_FLIGHT: usize = 4;
/// Most worker threads (the reading thread visits batches too).
const MAX_WORKERS: usize = 3;

/// Worker threads for this machine: one per core beside the reading thread.
fn worker_count() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    cores.saturating_sub(1).clamp(1, MAX_WORKERS)
}

/// What a visitor made by [`RdbReader::read_fanned`]'s `fork` is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forked {
    /// Visiting batches of copied keys, on any thread; its outputs wait for their turn.
    Batches,
    /// Visiting, on the reading thread, the keys too large to copy, streams of many
    /// nodes or a big first node, and module values, each only once the outputs of
    /// every key before it reached `sink`; what `finish` makes of it goes to `sink`
    /// next. Its output may go out as it is made.
    InTurn,
}

/// How a value of type `t` is stepped over to be copied: strings in any encoding,
/// streams, and the types [`shape`] knows.
fn fan_shape(t: RdbType) -> Option<Shape> {
    match t {
        RdbType::String => Some(Shape::Blob("a string value")),
        t if t.kind() == Kind::Stream => Some(Shape::Stream(format_of(t))),
        t => shape(t),
    }
}

impl<R: Read> RdbReader<R> {
    /// Reads the whole file as [`RdbReader::read_all`] does, but visits key values on
    /// worker threads: `v` sees the records other than keys; at the first key `fork`
    /// makes a visitor for each thread from it; keys `filter` accepts are visited by
    /// one of those, which `finish` then asks for its output (for example a formatted
    /// row) into a per-batch `O`; `sink` receives the batches' outputs in file order on
    /// this thread. Keys `filter` refuses are read and checked only. One visitor is
    /// made [`Forked::InTurn`]: it sees the keys visited in their turn, after the
    /// outputs of all the keys before them reached `sink`, so it may write a big key's
    /// output itself as it is made, where `sink` writes.
    ///
    /// An error is the one an ordinary read reports first; an error `sink` returns
    /// stops the read. The reader's `raw_values` and `defer_checks` options do not
    /// apply: workers visit elements, and every value is checked where it is visited.
    ///
    /// ```
    /// use rdb_parser::{KeyFilter, RdbReader, Visitor, VisitResult};
    ///
    /// #[derive(Default)]
    /// struct Len(u64);
    /// impl Visitor for Len {
    ///     fn string_chunk(&mut self, chunk: &[u8]) -> VisitResult {
    ///         self.0 += chunk.len() as u64;
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let file = b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x03foo\x03bar\xff\x8d\x86\xb9\x4c\x67\x6e\xab\x95";
    /// let mut lens = Vec::new();
    /// RdbReader::new(&file[..]).read_fanned(
    ///     &mut Len::default(),
    ///     &KeyFilter::default(),
    ///     |_, _| Len::default(),
    ///     |w: &mut Len, out: &mut Vec<u64>| out.push(std::mem::take(&mut w.0)),
    ///     |batch| Ok(lens.extend(batch)),
    /// )?;
    /// assert_eq!(lens, [3]);
    /// # Ok::<(), rdb_parser::Error>(())
    /// ```
    pub fn read_fanned<V, W, O>(
        &mut self,
        v: &mut V,
        filter: &dyn KeyPredicate,
        mut fork: impl FnMut(&mut V, Forked) -> W,
        finish: impl Fn(&mut W, &mut O) + Sync,
        mut sink: impl FnMut(O) -> std::result::Result<(), VisitError>,
    ) -> Result<()>
    where
        V: Visitor,
        W: Visitor + Send,
        O: Default + Send,
    {
        let header = self.header()?;
        let limits = self.options_limits();
        std::thread::scope(|s| {
            let (done_tx, done) = channel::<Done<O>>();
            let mut lanes = Vec::new();
            let mut threads = Vec::new();
            for _ in 0..worker_count() {
                let (start, start_rx) = sync_channel::<W>(1);
                let (jobs, jobs_rx) = sync_channel::<(u64, Batch)>(IN_FLIGHT);
                let (done_tx, finish) = (done_tx.clone(), &finish);
                let spawned = std::thread::Builder::new()
                    .name("rdb-visit".into())
                    .spawn_scoped(s, move || work(start_rx, jobs_rx, &done_tx, finish, limits, header));
                // Without threads, every batch is visited on this one.
                if let Ok(thread) = spawned {
                    lanes.push(Lane { start: Some(start), jobs });
                    threads.push(thread);
                }
            }
            drop(done_tx);
            let mut fan = Fan {
                lanes,
                done,
                local: None,
                in_turn: None,
                filter,
                fork: &mut fork,
                finish: &finish,
                sink: &mut sink,
                batch: Batch::default(),
                spare: Vec::new(),
                seq: 0,
                next: 0,
                polled: 0,
                pending: BTreeMap::new(),
            };
            let outcome = loop {
                match self.next_record_via(v, Some(&mut fan)) {
                    Ok(Step::End) => break fan.settle(None),
                    // Outputs are collected as batches are handed out.
                    Ok(_) if fan.seq > fan.polled => {
                        if let Err(e) = fan.deliver() {
                            break Err(e);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => break fan.settle(Some(e)),
                }
            };
            // Hanging up ends the workers; they are waited for to the end of their
            // threads (the scope alone would not wait for their thread-locals).
            drop(fan);
            for thread in threads {
                // Its panics were caught and reported as errors.
                let _ = thread.join();
            }
            outcome
        })
    }
}

/// A worker thread's inputs: its visitor (sent at the first key), then batches.
struct Lane<W> {
    start: Option<SyncSender<W>>,
    jobs: SyncSender<(u64, Batch)>,
}

/// A worker thread: visits the batches it is sent until the reading thread hangs up.
fn work<W: Visitor, O: Default>(
    start: Receiver<W>,
    jobs: Receiver<(u64, Batch)>,
    done: &Sender<Done<O>>,
    finish: &impl Fn(&mut W, &mut O),
    limits: Limits,
    header: Header,
) {
    let Ok(v) = start.recv() else { return };
    let mut worker = Worker::new(v, limits, header);
    for (seq, mut batch) in jobs {
        let mut out = O::default();
        let at = batch.first_record();
        // A panic (a bug) ends the read with an error rather than leave the batch unanswered.
        let run = std::panic::catch_unwind(AssertUnwindSafe(|| worker.run(&mut batch, &mut out, finish)));
        let error = run.unwrap_or_else(|_| Err(Error::corrupt(at, "internal: a worker thread failed"))).err();
        batch.clear();
        if done.send(Done { seq, at, out, error, batch }).is_err() {
            return;
        }
    }
}

/// The reading thread's side: batches keys for the workers, visits what it must, and
/// puts the outputs back in file order.
struct Fan<'a, V, W, O> {
    lanes: Vec<Lane<W>>,
    done: Receiver<Done<O>>,
    /// The reading thread's own visitor for batches, made at the first key.
    local: Option<Worker<W>>,
    /// The visitor of the keys visited in their turn ([`Forked::InTurn`]).
    in_turn: Option<W>,
    filter: &'a dyn KeyPredicate,
    fork: &'a mut dyn FnMut(&mut V, Forked) -> W,
    finish: &'a (dyn Fn(&mut W, &mut O) + Sync),
    sink: &'a mut dyn FnMut(O) -> std::result::Result<(), VisitError>,
    batch: Batch,
    /// Emptied batches for reuse.
    spare: Vec<Batch>,
    /// Sequence number of the next output (a batch, or a key visited here).
    seq: u64,
    /// Sequence number of the next output due to the sink.
    next: u64,
    /// [`Fan::seq`] when outputs were last collected.
    polled: u64,
    /// Outputs that arrived before their turn, with the error that ended them and the
    /// offset of their first key.
    pending: BTreeMap<u64, (O, Option<Error>, u64)>,
}

impl<R: Read, V, W: Visitor, O: Default> KeyHandoff<R, V> for Fan<'_, V, W, O> {
    fn value(&mut self, cx: &mut Ctx<R>, head: &KeyStart<'_>, v: &mut V) -> Result<()> {
        if self.local.is_none() {
            self.start(v, cx.header, cx.limits);
        }
        let wanted = self.filter.matches(head);
        if let Some(shape) = fan_shape(head.rdb_type) {
            if !probe::large(shape, cx.src.peek_up_to(probe::head_len(shape))?) {
                return self.capture(cx, head, shape, wanted);
            }
        }
        if !wanted {
            return check_value(cx, head);
        }
        // Visited here, in its turn, once the outputs before it are out.
        self.catch_up()?;
        let w = self.in_turn.as_mut().ok_or_else(no_visitor)?;
        visit_value(cx, head, w)?;
        let mut out = O::default();
        (self.finish)(w, &mut out);
        self.seq += 1;
        self.next += 1;
        (self.sink)(out).map_err(|e| Error::new(head.offset, ErrorKind::Visitor(e)))
    }
}

impl<V, W: Visitor, O: Default> Fan<'_, V, W, O> {
    /// Makes the visitors, from `v` as it stands at the first key.
    fn start(&mut self, v: &mut V, header: Header, limits: Limits) {
        for lane in &mut self.lanes {
            if let Some(start) = lane.start.take() {
                // A worker that is gone leaves its batches to the others.
                let _ = start.send((self.fork)(v, Forked::Batches));
            }
        }
        self.local = Some(Worker::new((self.fork)(v, Forked::Batches), limits, header));
        self.in_turn = Some((self.fork)(v, Forked::InTurn));
    }

    fn local(&mut self) -> Result<&mut Worker<W>> {
        self.local.as_mut().ok_or_else(no_visitor)
    }

    /// Steps over the value of key `head`, laid out as `shape`, copying the key and the
    /// value into the batch.
    fn capture<R: Read>(&mut self, cx: &mut Ctx<R>, head: &KeyStart<'_>, shape: Shape, wanted: bool) -> Result<()> {
        let (stepped, at) = copied::capture(&mut cx.src, &cx.limits, shape, head.key, &mut self.batch.bytes);
        let job = Job {
            db: head.db,
            rdb_type: head.rdb_type,
            expire_at_ms: head.expire_at_ms,
            lru_idle_s: head.lru_idle_s,
            lfu_freq: head.lfu_freq,
            meta: head.meta.to_vec(),
            record: head.offset,
            at,
            wanted,
        };
        if let Err(cut) = stepped {
            return Err(self.cut_short(job, cut));
        }
        self.batch.jobs.push(job);
        if self.batch.bytes.len() >= BATCH_BYTES {
            self.dispatch()?;
        }
        Ok(())
    }

    /// The error for a value whose stepping over failed with `cut`: the part read is
    /// visited on its own after the keys before it, as damage there comes first.
    fn cut_short(&mut self, job: Job, cut: Error) -> Error {
        let bytes = self.batch.bytes.split_off(job.at.key.0);
        let job = Job { at: job.at.moved_to_front(), ..job };
        if let Err(e) = self.dispatch() {
            return e;
        }
        let mut lone = Batch { bytes, jobs: vec![job] };
        let finish = self.finish;
        let visited = match self.local() {
            Ok(local) => local.run(&mut lone, &mut O::default(), &finish),
            Err(e) => Err(e),
        };
        copied::cut_error(cut, visited)
    }

    /// Hands the batch to a worker with room, or visits it here when all are busy or it
    /// is small.
    fn dispatch(&mut self) -> Result<()> {
        if self.batch.jobs.is_empty() {
            return Ok(());
        }
        let fresh = self.spare.pop().unwrap_or_default();
        let mut item = (self.seq, std::mem::replace(&mut self.batch, fresh));
        self.seq += 1;
        // A batch cut short by a key visited here is small: handing it to a thread
        // costs more than visiting it.
        let lanes = if item.1.bytes.len() < SMALL_BATCH_BYTES { &[][..] } else { &self.lanes[..] };
        for lane in lanes {
            match lane.jobs.try_send(item) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(back) | TrySendError::Disconnected(back)) => item = back,
            }
        }
        let (seq, mut batch) = item;
        let at = batch.first_record();
        let mut out = O::default();
        let finish = self.finish;
        let error = self.local()?.run(&mut batch, &mut out, &finish).err();
        batch.clear();
        self.spare.push(batch);
        self.pending.insert(seq, (out, error, at));
        Ok(())
    }

    /// Collects what the workers finished, and hands the outputs that are due to the
    /// sink; returns the first error in file order.
    fn deliver(&mut self) -> Result<()> {
        self.polled = self.seq;
        while let Ok(done) = self.done.try_recv() {
            self.arrived(done);
        }
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let (out, error, at) = entry.remove();
            self.next += 1;
            if let Some(e) = error {
                return Err(e);
            }
            (self.sink)(out).map_err(|e| Error::new(at, ErrorKind::Visitor(e)))?;
        }
        Ok(())
    }

    fn arrived(&mut self, done: Done<O>) {
        self.pending.insert(done.seq, (done.out, done.error, done.at));
        if self.spare.len() < 2 * IN_FLIGHT {
            self.spare.push(done.batch);
        }
    }

    /// Waits for every batch handed out and delivers the outputs; returns the first
    /// error in file order, `read` (the reading thread's, about later bytes) last.
    fn settle(&mut self, read: Option<Error>) -> Result<()> {
        self.catch_up()?;
        read.map_or(Ok(()), Err)
    }

    /// Hands out the batch being filled, waits for every batch handed out and delivers
    /// the outputs; returns the first error in file order.
    fn catch_up(&mut self) -> Result<()> {
        self.dispatch()?;
        loop {
            self.deliver()?;
            if self.next >= self.seq {
                return Ok(());
            }
            match self.done.recv() {
                Ok(done) => self.arrived(done),
                Err(_) => return Err(Error::corrupt(0, "internal: a worker thread failed")),
            }
        }
    }
}

/// The error for a key met before the visitors were made (a defect, not damage).
fn no_visitor() -> Error {
    Error::corrupt(0, "internal: no visitor for the keys")
}
