//! Batches commands to a [`Link`] (or nowhere, for a dry run), keeps a window of batches
//! in flight, and attributes failures to keys.

use std::collections::{BTreeMap, HashMap, VecDeque};

use resp::{Link, Pipeline, Route, Sent};

pub use super::tally::Tally;

/// Bytes of payload per pipeline, besides the command count limit.
const BATCH_BYTES: usize = 8 << 20;
/// Batches sent before the oldest one's replies are read: the server works on one
/// while the next is prepared.
const IN_FLIGHT: usize = 2;

/// What a queued command is for, which says what its reply means.
#[derive(Debug, Clone)]
pub enum Purpose {
    /// Restores a key whole (`RESTORE`); the label names it in messages.
    Restore(String),
    /// One of the commands building a key under this temporary name: the first error
    /// is kept in [`Sender::part_errors`] and reported once for the key.
    Part(Vec<u8>),
    /// Anything else (`FUNCTION LOAD`); an error is a refusal reported with the label.
    Other(String),
}

/// A sent batch whose replies are not read yet.
struct InFlight {
    sent: Sent,
    purposes: Vec<Purpose>,
}

/// Queues commands and sends them in batches.
pub struct Sender<'a> {
    pub(super) link: Option<&'a mut Link>,
    cluster: bool,
    pipeline: usize,
    rename: BTreeMap<u64, u64>,
    batch: Pipeline,
    routes: Vec<Route>,
    purposes: Vec<Purpose>,
    bytes: usize,
    /// The selected database, and whether the server accepted it.
    db: Option<(u64, bool)>,
    in_flight: VecDeque<InFlight>,
    /// First error of each key built in parts (by temporary name).
    pub(super) part_errors: HashMap<Vec<u8>, String>,
    pub(super) tally: Tally,
}

impl<'a> Sender<'a> {
    /// A sender to `link` (`None`: count only).
    pub fn new(link: Option<&'a mut Link>, cluster: bool, pipeline: usize, rename: BTreeMap<u64, u64>) -> Self {
        Sender {
            link,
            cluster,
            pipeline,
            rename,
            batch: Pipeline::new(),
            routes: Vec::new(),
            purposes: Vec::new(),
            bytes: 0,
            db: None,
            in_flight: VecDeque::new(),
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

    /// Queues a command; sends the batch when it is full.
    pub fn push(&mut self, args: &[&[u8]], route: Route, purpose: Purpose) -> resp::Result<()> {
        self.stopped()?;
        self.batch.push(args);
        self.routes.push(route);
        self.purposes.push(purpose);
        self.bytes += args.iter().map(|a| a.len()).sum::<usize>();
        if self.batch.len() >= self.pipeline || self.bytes >= BATCH_BYTES {
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
        let Some(link) = self.link.as_deref_mut() else {
            for p in &purposes {
                if let Purpose::Restore(_) = p {
                    self.tally.success();
                }
            }
            self.batch.clear();
            return Ok(());
        };
        let sent = link.send(&self.batch, &routes)?;
        self.batch.clear();
        self.in_flight.push_back(InFlight { sent, purposes });
        while self.in_flight.len() > IN_FLIGHT {
            self.complete_oldest()?;
        }
        self.stopped()
    }

    /// Sends everything and waits for every reply.
    pub fn drain(&mut self) -> resp::Result<()> {
        self.flush()?;
        while !self.in_flight.is_empty() {
            self.complete_oldest()?;
        }
        self.stopped()
    }

    fn complete_oldest(&mut self) -> resp::Result<()> {
        let (Some(link), Some(InFlight { sent, purposes })) = (self.link.as_deref_mut(), self.in_flight.pop_front())
        else {
            return Ok(());
        };
        let outcomes = link.receive(sent)?;
        for (purpose, outcome) in purposes.into_iter().zip(outcomes) {
            match (purpose, outcome) {
                (Purpose::Restore(label) | Purpose::Other(label), Some(e)) => {
                    self.tally.refuse(&label, &e);
                }
                (Purpose::Part(tmp), Some(e)) => {
                    self.part_errors.entry(tmp).or_insert(e);
                }
                (Purpose::Restore(_), None) => self.tally.success(),
                (_, None) => {}
            }
        }
        Ok(())
    }
}
