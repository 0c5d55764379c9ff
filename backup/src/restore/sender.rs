//! Batches commands to a [`Link`] (or nowhere, for a dry run), keeps a window of batches
//! in flight, and attributes failures to keys.

use std::collections::{BTreeMap, HashSet, VecDeque};

use resp::{Link, Pipeline, Route, Sent};

/// Bytes of payload per pipeline, besides the command count limit.
const BATCH_BYTES: usize = 8 << 20;
/// Batches sent before the oldest one's replies are read: the server works on one
/// while the next is prepared.
const IN_FLIGHT: usize = 2;

/// Counters and messages of one restore.
#[derive(Debug, Default)]
pub struct Tally {
    /// Keys restored.
    pub restored: u64,
    /// Keys already expired, not sent.
    pub expired: u64,
    /// Keys the target cannot hold at all.
    pub dropped: u64,
    /// Keys recreated with ordinary commands.
    pub via_commands: u64,
    /// RESTORE payload bytes sent.
    pub payload_bytes: u64,
    /// One line per failure.
    pub failures: Vec<String>,
    /// One line per warning.
    pub warnings: Vec<String>,
}

/// A sent batch whose replies are not read yet.
struct InFlight {
    sent: Sent,
    labels: Vec<(String, bool)>,
    routes: Vec<Route>,
}

/// Queues commands and sends them in batches.
pub struct Sender<'a> {
    pub(super) link: Option<&'a mut Link>,
    cluster: bool,
    pipeline: usize,
    rename: BTreeMap<u64, u64>,
    batch: Pipeline,
    routes: Vec<Route>,
    /// What each queued command is about, and whether it restores a key.
    labels: Vec<(String, bool)>,
    bytes: usize,
    db: Option<u64>,
    in_flight: VecDeque<InFlight>,
    /// Keys with a failed command (since the set was last cleared).
    pub(super) failed_keys: HashSet<Vec<u8>>,
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
            labels: Vec::new(),
            bytes: 0,
            db: None,
            in_flight: VecDeque::new(),
            failed_keys: HashSet::new(),
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

    /// Queues a command; sends the batch when it is full.
    pub fn push(&mut self, args: &[&[u8]], route: Route, label: String, restores_key: bool) -> resp::Result<()> {
        self.batch.push(args);
        self.routes.push(route);
        self.labels.push((label, restores_key));
        self.bytes += args.iter().map(|a| a.len()).sum::<usize>();
        if self.batch.len() >= self.pipeline || self.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Switches to the database of `source_db` (a cluster has only db 0).
    pub fn select(&mut self, source_db: u64) -> resp::Result<()> {
        let db = self.target_db(source_db);
        if self.db == Some(db) || self.cluster {
            return Ok(());
        }
        self.db = Some(db);
        let text = db.to_string();
        self.push(&[b"SELECT", text.as_bytes()], Route::Any, format!("SELECT {db}"), false)
    }

    /// Sends the queued commands; reads the replies of older batches beyond the window.
    pub fn flush(&mut self) -> resp::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let routes = std::mem::take(&mut self.routes);
        let labels = std::mem::take(&mut self.labels);
        self.bytes = 0;
        let Some(link) = self.link.as_deref_mut() else {
            self.tally.restored += labels.iter().filter(|l| l.1).count() as u64;
            self.batch.clear();
            return Ok(());
        };
        let sent = link.send(&self.batch, &routes)?;
        self.batch.clear();
        self.in_flight.push_back(InFlight { sent, labels, routes });
        while self.in_flight.len() > IN_FLIGHT {
            self.complete_oldest()?;
        }
        Ok(())
    }

    /// Sends everything and waits for every reply.
    pub fn drain(&mut self) -> resp::Result<()> {
        self.flush()?;
        while !self.in_flight.is_empty() {
            self.complete_oldest()?;
        }
        Ok(())
    }

    fn complete_oldest(&mut self) -> resp::Result<()> {
        let (Some(link), Some(InFlight { sent, labels, routes })) =
            (self.link.as_deref_mut(), self.in_flight.pop_front())
        else {
            return Ok(());
        };
        let outcomes = link.receive(sent)?;
        for (((label, restores_key), route), outcome) in labels.into_iter().zip(routes).zip(outcomes) {
            match outcome {
                Some(e) => {
                    if let Route::Key(k) = route {
                        self.failed_keys.insert(k);
                    }
                    self.tally.failures.push(format!("{label}: {e}"));
                }
                None if restores_key => self.tally.restored += 1,
                None => {}
            }
        }
        Ok(())
    }
}
