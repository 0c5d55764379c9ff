//! Formatting on a second thread: the parser builds each key (an [`Entry`], or a
//! [`PackedKey`] for collections) and hands batches of them to a thread that turns them
//! into text, writes it and frees them.
//! For `convert --to json` the two halves cost about the same, so on two cores the
//! work takes about half the time (`--to ndjson` reads on every core instead:
//! [`super::formatted`]).
//!
//! The writer hands each formatted batch back, and the parser frees it: frees on the
//! thread that allocated are the allocator's fast path, and the batch's vector is reused.
//!
//! Memory stays bounded: batches hold about `BATCH_BYTES` of data and at most
//! `IN_FLIGHT` wait for the writer; an entry of `BIG_BYTES` or more travels alone, and
//! only once the writer is idle, then the parser waits for it, so no more than one
//! big key is ever held, as in a single thread. Text the parser formatted itself (a key
//! written as it is read) travels in the same batches, in order.

use std::io::Write;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
use std::thread::{Scope, ScopedJoinHandle};

use rdb_parser::{Entry, Value};

use super::bigkey::Records;
use super::packed::PackedKey;
use super::record;
use super::text::Text;

/// What the writer thread formats: keys, or pieces of a record formatted already.
pub enum Item {
    Entry(Entry),
    Packed(Box<PackedKey>),
    /// The start of a record the parser formats itself.
    Begin,
    /// Its text, in order.
    Text(Vec<u8>),
    /// Its end.
    End,
}

impl Item {
    /// Appends its text to `t`: `before` a record, `after` it.
    pub fn write(&self, t: &mut Text, before: impl FnOnce(&mut Text), after: impl FnOnce(&mut Text)) {
        match self {
            Item::Entry(e) => {
                before(t);
                record::write(t, e);
                after(t);
            }
            Item::Packed(k) => {
                before(t);
                k.write(t);
                after(t);
            }
            Item::Begin => before(t),
            Item::Text(text) => t.extend_from_slice(text),
            Item::End => after(t),
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Item::Entry(e) => approx_bytes(e),
            Item::Packed(k) => k.approx_bytes(),
            Item::Text(t) => t.len(),
            Item::Begin | Item::End => 0,
        }
    }
}

/// Data per batch.
const BATCH_BYTES: usize = 256 << 10;
/// Batches waiting for the writer.
const IN_FLIGHT: usize = 2;
/// Entries this large are formatted alone.
const BIG_BYTES: usize = 1 << 20;

/// About how many bytes an entry holds (its data plus a little per element).
pub fn approx_bytes(e: &Entry) -> usize {
    let data = match &e.value {
        Value::String(s) => s.len(),
        Value::List(items) | Value::Set(items) => items.iter().map(|i| i.len() + 24).sum(),
        Value::ZSet(members) => members.iter().map(|(m, _)| m.len() + 32).sum(),
        Value::Hash(fields) => fields.iter().map(|f| f.field.len() + f.value.len() + 64).sum(),
        Value::Stream(s) => {
            s.entries.iter().map(|e| 32 + e.fields.iter().map(|(f, v)| f.len() + v.len() + 48).sum::<usize>()).sum()
        }
        Value::Module(m) => 64 * m.ops.len(),
        Value::Array(a) => a.elements.iter().map(|(_, v)| v.len() + 32).sum(),
        Value::Gcra(_) => 8,
    };
    e.key.len() + data
}

impl Records for Pipeline<'_> {
    fn push(&mut self, item: Item) -> anyhow::Result<()> {
        Pipeline::push(self, item)
    }
}

/// The parser's end of the pipeline.
pub struct Pipeline<'scope> {
    batches: Option<SyncSender<Vec<Item>>>,
    /// Batches the writer has finished, handed back to be freed here.
    acks: Receiver<Vec<Item>>,
    writer: Option<ScopedJoinHandle<'scope, anyhow::Result<()>>>,
    batch: Vec<Item>,
    batch_bytes: usize,
    /// Batches sent, and batches the writer has finished.
    sent: usize,
    done: usize,
}

impl<'scope> Pipeline<'scope> {
    /// Starts the writer thread: `format` appends one item's text to a [`Text`] in front
    /// of `out`.
    pub fn start<'env, W, F>(scope: &'scope Scope<'scope, 'env>, mut out: W, mut format: F) -> Pipeline<'scope>
    where
        W: Write + Send + 'scope,
        F: FnMut(&mut Text, &Item) + Send + 'scope,
    {
        let (batches, rx) = sync_channel::<Vec<Item>>(IN_FLIGHT);
        let (ack, acks) = channel();
        let writer =
            std::thread::Builder::new().name("format".into()).spawn_scoped(scope, move || -> anyhow::Result<()> {
                let mut text = Text::new(&mut out);
                for batch in rx {
                    for item in &batch {
                        format(&mut text, item);
                        text.spill();
                    }
                    text.flush()?;
                    let _ = ack.send(batch);
                }
                Ok(())
            });
        // No thread to be had: the first `send` then reports the failure.
        let writer = writer.ok();
        Pipeline { batches: Some(batches), acks, writer, batch: Vec::new(), batch_bytes: 0, sent: 0, done: 0 }
    }

    /// Queues one item.
    pub fn push(&mut self, item: Item) -> anyhow::Result<()> {
        let bytes = item.bytes();
        if bytes >= BIG_BYTES {
            self.flush()?;
            self.wait_idle()?;
            self.send(vec![item])?;
            return self.wait_idle();
        }
        while let Ok(done) = self.acks.try_recv() {
            self.recycle(done);
        }
        self.batch.push(item);
        self.batch_bytes += bytes;
        if self.batch_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.batch_bytes = 0;
        let batch = std::mem::take(&mut self.batch);
        self.send(batch)
    }

    fn send(&mut self, batch: Vec<Item>) -> anyhow::Result<()> {
        let sent = self.batches.as_ref().is_some_and(|tx| tx.send(batch).is_ok());
        if !sent {
            return Err(self.writer_error());
        }
        self.sent += 1;
        Ok(())
    }

    /// Waits until the writer has written everything sent.
    fn wait_idle(&mut self) -> anyhow::Result<()> {
        while self.done < self.sent {
            match self.acks.recv() {
                Ok(done) => self.recycle(done),
                Err(_) => return Err(self.writer_error()),
            }
        }
        Ok(())
    }

    /// Frees a finished batch's entries on this thread and keeps its vector for reuse.
    fn recycle(&mut self, mut done: Vec<Item>) {
        self.done += 1;
        done.clear();
        if self.batch.capacity() < done.capacity() {
            done.append(&mut self.batch);
            self.batch = done;
        }
    }

    /// The writer stopped early: its error.
    fn writer_error(&mut self) -> anyhow::Error {
        self.batches = None;
        match self.writer.take().map(|w| w.join()) {
            Some(Ok(Err(e))) => e,
            _ => anyhow::anyhow!("the output thread stopped"),
        }
    }

    /// Writes what is queued and waits for the writer to finish.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.flush()?;
        self.batches = None;
        match self.writer.take().map(|w| w.join()) {
            Some(Ok(r)) => r,
            _ => Err(anyhow::anyhow!("the output thread failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize, bytes: usize) -> Entry {
        Entry {
            db: 0,
            key: format!("k{i}").into_bytes(),
            expire_at_ms: None,
            lru_idle_s: None,
            lfu_freq: None,
            rdb_type: rdb_parser::RdbType::String,
            meta: Vec::new(),
            value: Value::String(vec![b'x'; bytes]),
        }
    }

    fn name_line(text: &mut Text, item: &Item) {
        match item {
            Item::Entry(e) => {
                text.extend_from_slice(&e.key);
                text.push(b'\n');
            }
            Item::Text(t) => text.extend_from_slice(t),
            Item::Packed(_) | Item::Begin | Item::End => {}
        }
    }

    #[test]
    fn entries_come_out_in_order_big_ones_too() -> anyhow::Result<()> {
        let mut out = Vec::new();
        std::thread::scope(|s| -> anyhow::Result<()> {
            let mut p = Pipeline::start(s, &mut out, name_line);
            for i in 0..5000 {
                p.push(Item::Entry(entry(i, if i % 1000 == 7 { BIG_BYTES } else { 100 })))?;
            }
            p.finish()
        })?;
        let want: String = (0..5000).map(|i| format!("k{i}\n")).collect();
        assert_eq!(String::from_utf8_lossy(&out), want);
        Ok(())
    }

    /// A writer that fails after a few bytes.
    struct Broken(usize);
    impl Write for Broken {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_write_error_reaches_the_parser() {
        let r = std::thread::scope(|s| -> anyhow::Result<()> {
            let mut p = Pipeline::start(s, Broken(10), name_line);
            for i in 0..100_000 {
                p.push(Item::Entry(entry(i, 100)))?;
            }
            p.finish()
        });
        assert_eq!(r.map_err(|e| e.to_string()).expect_err("fails"), "disk full");
    }
}
