//! Batches commands to a [`Link`] (or nowhere, for a dry run), keeps a window of batches
//! in flight, and attributes failures to keys.

use std::collections::{BTreeMap, HashMap, VecDeque};

use resp::{Frame, Link, Pipeline, Route, Sent};

use super::key_label;
use super::strings::{command_refused, Strings, BUSYKEY};
pub use super::tally::Tally;

/// Bytes of payload per pipeline, besides the command count limit.
const BATCH_BYTES: usize = 8 << 20;
/// Batches sent before the oldest one's replies are read: the server works on these
/// while the next is prepared. Two left it idle about 5% of the time, whenever the
/// client took a while over one key (a large collection, a big value); sixteen (some
/// 4,000 keys) keep it busy. Only the batches' reply bookkeeping is kept meanwhile.
const IN_FLIGHT: usize = 16;
/// Bytes sent and not answered yet, at most (besides [`IN_FLIGHT`]): bounds what is kept
/// for the replies (plain strings keep their values and payloads, see
/// [`super::strings`]) when values are large.
const IN_FLIGHT_BYTES: usize = 16 << 20;

/// What a queued command is for, which says what its reply means.
#[derive(Debug, Clone)]
pub enum Purpose {
    /// Restores a key whole (`RESTORE`): its target database and name, for messages.
    Restore(u64, Vec<u8>),
    /// One of the commands building a key under this temporary name: the first error
    /// is kept in [`Sender::part_errors`] and reported once for the key.
    Part(Vec<u8>),
    /// Anything else (`FUNCTION LOAD`); an error is a refusal reported with the label.
    Other(String),
    /// Sets several plain strings (`MSETNX`, `MSET`); kept to send its keys one by one
    /// when `MSETNX` finds one of them existing.
    Strings(Box<Strings>),
    /// `SET key value NX` of a key whose `MSETNX` set nothing: a null reply means the
    /// key exists.
    SetNx(String),
}

/// A sent batch whose replies are not read yet.
struct InFlight {
    sent: Sent,
    purposes: Vec<Purpose>,
    bytes: usize,
}

/// Queues commands and sends them in batches.
pub struct Sender<'a> {
    pub(super) link: Option<&'a mut Link>,
    cluster: bool,
    /// Plain strings overwrite existing keys (`MSET`, not `MSETNX`).
    replace: bool,
    pipeline: usize,
    rename: BTreeMap<u64, u64>,
    batch: Pipeline,
    routes: Vec<Route>,
    purposes: Vec<Purpose>,
    /// Keys (or other commands) in the batch: what `pipeline` limits.
    weight: usize,
    bytes: usize,
    /// The selected database, and whether the server accepted it.
    db: Option<(u64, bool)>,
    in_flight: VecDeque<InFlight>,
    /// Bytes of the batches in flight.
    in_flight_bytes: usize,
    /// Plain strings gathered for the next multi-key command.
    strings: Strings,
    /// Batches of strings `MSETNX` refused, to send again key by key.
    retry: Vec<Strings>,
    /// Batches of strings whose command the server refused, to send again as `RESTORE`.
    restore_again: Vec<Strings>,
    /// The server refused the multi-key command: plain strings go as `RESTORE`.
    strings_off: bool,
    /// First error of each key built in parts (by temporary name).
    pub(super) part_errors: HashMap<Vec<u8>, String>,
    pub(super) tally: Tally,
}

impl<'a> Sender<'a> {
    /// A sender to `link` (`None`: count only); `replace`: plain strings overwrite.
    pub fn new(
        link: Option<&'a mut Link>,
        cluster: bool,
        replace: bool,
        pipeline: usize,
        rename: BTreeMap<u64, u64>,
    ) -> Self {
        Sender {
            link,
            cluster,
            replace,
            pipeline,
            rename,
            batch: Pipeline::new(),
            routes: Vec::new(),
            purposes: Vec::new(),
            weight: 0,
            bytes: 0,
            db: None,
            in_flight: VecDeque::new(),
            in_flight_bytes: 0,
            strings: Strings::default(),
            retry: Vec::new(),
            restore_again: Vec::new(),
            strings_off: false,
            part_errors: HashMap::new(),
            tally: Tally::default(),
        }
    }

    /// The database keys of `source_db` go to.
    pub fn target_db(&self, source_db: u64) -> u64 {
        self.rename.get(&source_db).copied().unwrap_or(source_db)
    }

    /// Whether the target is a cluster.
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// The error that ends a stopped restore.
    fn stopped(&self) -> resp::Result<()> {
        match &self.tally.stopped {
            Some(why) => Err(resp::Error::Server(why.clone())),
            None => Ok(()),
        }
    }

    /// Queues a command; sends the batch when it is full. A command of a batch's size
    /// or more is sent on its own, straight from its arguments (a big value is then not
    /// also copied into the batch).
    pub fn push(&mut self, args: &[&[u8]], route: Route, purpose: Purpose) -> resp::Result<()> {
        self.stopped()?;
        let bytes = args.iter().map(|a| a.len()).sum::<usize>();
        if bytes >= BATCH_BYTES && self.link.is_some() {
            return self.send_alone(args, route, purpose, bytes);
        }
        self.queue(args, route, purpose);
        self.flush_if_full()
    }

    /// Sends the queued commands, then `args` on its own.
    fn send_alone(&mut self, args: &[&[u8]], route: Route, purpose: Purpose, bytes: usize) -> resp::Result<()> {
        self.flush()?;
        let Some(link) = self.link.as_deref_mut() else { return Ok(()) };
        let sent = link.send_one(args, route)?;
        self.in_flight.push_back(InFlight { sent, purposes: vec![purpose], bytes });
        self.in_flight_bytes += bytes;
        self.settle()
    }

    /// Queues a plain string of the current database, with its DUMP payload (not in a
    /// cluster: see [`super::strings`]); sends the batch when it is full.
    pub fn push_string(&mut self, key: &[u8], value: &[u8], payload: &[u8]) -> resp::Result<()> {
        self.stopped()?;
        let db = self.db.map_or(0, |(db, _)| db);
        if self.strings_off {
            self.queue_restore(db, key, payload);
            return self.flush_if_full();
        }
        if self.strings.would_overflow(key.len() + value.len()) {
            self.queue_strings();
        }
        self.strings.push(db, key, value, payload);
        if self.strings.is_full() {
            self.queue_strings();
        }
        self.flush_if_full()
    }

    fn queue(&mut self, args: &[&[u8]], route: Route, purpose: Purpose) {
        self.batch.push(args);
        self.routes.push(route);
        self.purposes.push(purpose);
        self.weight += 1;
        self.bytes += args.iter().map(|a| a.len()).sum::<usize>();
    }

    /// Moves the gathered strings into the batch as one command.
    fn queue_strings(&mut self) {
        if self.strings.is_empty() {
            return;
        }
        let strings = std::mem::take(&mut self.strings);
        let args = strings.command(self.replace);
        self.batch.push(&args);
        self.bytes += args.iter().map(|a| a.len()).sum::<usize>();
        self.weight += strings.len();
        drop(args);
        self.routes.push(Route::Any);
        self.purposes.push(Purpose::Strings(Box::new(strings)));
    }

    /// Queues `RESTORE key 0 payload [REPLACE]` for a plain string of database `db`.
    fn queue_restore(&mut self, db: u64, key: &[u8], payload: &[u8]) {
        let mut args: Vec<&[u8]> = vec![b"RESTORE", key, b"0", payload];
        if self.replace {
            args.push(b"REPLACE");
        }
        self.queue(&args, Route::Any, Purpose::Restore(db, key.to_vec()));
    }

    /// Queues again, one by one, the keys of the batches of strings that did not go
    /// through: `SET key value NX` where `MSETNX` found a key existing, `RESTORE` where
    /// the server refused the command.
    fn queue_retries(&mut self) {
        for strings in std::mem::take(&mut self.retry) {
            for [key, value, _] in strings.entries() {
                self.queue(&[b"SET", key, value, b"NX"], Route::Any, Purpose::SetNx(key_label(strings.db, key)));
            }
        }
        for strings in std::mem::take(&mut self.restore_again) {
            for [key, _, payload] in strings.entries() {
                self.queue_restore(strings.db, key, payload);
            }
        }
    }

    fn flush_if_full(&mut self) -> resp::Result<()> {
        if self.weight >= self.pipeline || self.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Switches to the database of `source_db` (a cluster has only db 0); returns
    /// whether the server has it. The switch waits for every command sent so far and
    /// for the server's answer, so no key is ever written into another database: a
    /// refused SELECT is reported once, and the caller leaves that database's keys out.
    pub fn select(&mut self, source_db: u64) -> resp::Result<bool> {
        let db = self.target_db(source_db);
        if self.cluster {
            return Ok(true);
        }
        if let Some((current, ok)) = self.db {
            if current == db {
                return Ok(ok);
            }
        }
        self.drain()?;
        let text = db.to_string();
        let ok = match self.link.as_deref_mut() {
            None => true,
            Some(link) => match link.call(&[b"SELECT", text.as_bytes()]) {
                Ok(_) => true,
                Err(resp::Error::Server(e)) => {
                    self.tally.note_failure(format!("db {db}: SELECT {db} refused ({e}); its keys are not restored"));
                    false
                }
                Err(e) => return Err(e),
            },
        };
        self.db = Some((db, ok));
        Ok(ok)
    }

    /// Sends the queued commands; reads the replies of older batches beyond the window.
    pub fn flush(&mut self) -> resp::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let routes = std::mem::take(&mut self.routes);
        let purposes = std::mem::take(&mut self.purposes);
        self.bytes = 0;
        self.weight = 0;
        let Some(link) = self.link.as_deref_mut() else {
            for p in &purposes {
                match p {
                    Purpose::Restore(..) | Purpose::SetNx(_) => self.tally.success(),
                    Purpose::Strings(s) => (0..s.len()).for_each(|_| self.tally.success()),
                    Purpose::Part(_) | Purpose::Other(_) => {}
                }
            }
            self.batch.clear();
            return Ok(());
        };
        let sent = link.send(&self.batch, &routes)?;
        let bytes = self.batch.byte_len();
        self.batch.clear();
        self.in_flight.push_back(InFlight { sent, purposes, bytes });
        self.in_flight_bytes += bytes;
        self.settle()
    }

    /// Reads the replies of the batches beyond the window; queues what is to be sent again.
    fn settle(&mut self) -> resp::Result<()> {
        while self.in_flight.len() > IN_FLIGHT || (self.in_flight.len() > 1 && self.in_flight_bytes > IN_FLIGHT_BYTES) {
            self.complete_oldest()?;
        }
        self.queue_retries();
        self.stopped()
    }

    /// Sends everything (gathered strings too) and waits for every reply.
    pub fn drain(&mut self) -> resp::Result<()> {
        self.queue_strings();
        loop {
            self.flush()?;
            while !self.in_flight.is_empty() {
                self.complete_oldest()?;
            }
            self.queue_retries();
            if self.batch.is_empty() {
                return self.stopped();
            }
        }
    }

    fn complete_oldest(&mut self) -> resp::Result<()> {
        let (Some(link), Some(InFlight { sent, purposes, bytes })) =
            (self.link.as_deref_mut(), self.in_flight.pop_front())
        else {
            return Ok(());
        };
        self.in_flight_bytes -= bytes;
        let outcomes = link.receive(sent)?;
        for (purpose, outcome) in purposes.into_iter().zip(outcomes) {
            match (purpose, outcome) {
                (Purpose::Restore(db, key), Err(e)) => {
                    self.tally.refuse(&key_label(db, &key), &e);
                }
                (Purpose::Other(label) | Purpose::SetNx(label), Err(e)) => {
                    self.tally.refuse(&label, &e);
                }
                (Purpose::Part(tmp), Err(e)) => {
                    self.part_errors.entry(tmp).or_insert(e);
                }
                (Purpose::Strings(s), Err(e)) if command_refused(&e) => {
                    self.strings_off = true;
                    self.restore_again.push(*s);
                }
                (Purpose::Strings(s), Err(e)) => {
                    for [key, ..] in s.entries() {
                        self.tally.refuse(&key_label(s.db, key), &e);
                    }
                }
                (Purpose::Strings(s), Ok(Frame::Integer(0))) => self.retry.push(*s),
                (Purpose::Strings(s), Ok(_)) => (0..s.len()).for_each(|_| self.tally.success()),
                (Purpose::SetNx(label), Ok(Frame::Null)) => {
                    self.tally.refuse(&label, BUSYKEY);
                }
                (Purpose::Restore(..) | Purpose::SetNx(_), Ok(_)) => self.tally.success(),
                (Purpose::Part(_) | Purpose::Other(_), Ok(_)) => {}
            }
        }
        Ok(())
    }
}
