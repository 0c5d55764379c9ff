//! Loads a dump into a running server or cluster with pipelined `RESTORE`.
//!
//! Keys go as DUMP payloads re-encoded for the server's own version (so an older
//! server accepts them); values the server already loads as stored are sent as they
//! are. A payload larger than the server's `proto-max-bulk-len` is sent instead as
//! ordinary commands in a second pass over the dump, under a temporary name renamed
//! into place once complete.
//!
//! No key is ever written into another database than its own: a database switch waits
//! for the server's answer. Messages are bounded ([`MAX_MESSAGES`]); a run of refusals
//! that the next keys would meet too ([`STOP_AFTER`]) stops the restore.

mod payloads;
mod sender;
mod staging;
mod strings;
mod tally;
mod target;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::time::Instant;

use rdb_parser::writer::DumpEncoder;
use rdb_parser::{escape_bytes, Filtered, KeyFilter, RdbReader, ReaderOptions, Target, Visitor};
use resp::rewrite::RespWriter;
use resp::{config_get, ConnectOptions, Link, ServerInfo};

use crate::error::{Error, Result};
use payloads::Restorer;
use sender::Sender;
use staging::Staging;
pub use tally::{Tally, MAX_MESSAGES, STOP_AFTER, UNFIT};
pub use target::{payload_version, pick_target, probe_payload_version};

/// `proto-max-bulk-len` when the server does not say (CONFIG disabled).
const DEFAULT_MAX_BULK: usize = 512 << 20;

/// Where the dump comes from; opened once per pass.
pub trait DumpSource {
    /// Opens the dump at its start.
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>>;
    /// Whether it can be opened a second time: a regular file, not standard input or a
    /// pipe (reopening a FIFO would wait for a writer that never comes).
    fn reopenable(&self) -> bool;
}

/// What to restore where.
#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// The server (or a node of the cluster).
    pub connect: ConnectOptions,
    /// The server is a cluster node: discover the slots and follow redirections.
    pub cluster: bool,
    /// Overwrite existing keys (`RESTORE ... REPLACE`, `FUNCTION LOAD REPLACE`).
    pub replace: bool,
    /// Encode everything, send nothing (with `target` set, no connection at all).
    pub dry_run: bool,
    /// Keys (commands) per pipeline.
    pub pipeline: usize,
    /// Encode for this server instead of the one connected to.
    pub target: Option<Target>,
    /// Restore keys even when the server cannot hold part of them.
    pub lossy: bool,
    /// Source database → target database.
    pub rename_db: BTreeMap<u64, u64>,
    /// Which keys.
    pub filter: KeyFilter,
}

/// The outcome of a restore.
#[derive(Debug)]
pub struct Summary {
    /// The server, as shown (no password).
    pub server: String,
    /// The target the payloads were encoded for (e.g. `redis-7.0`).
    pub target: String,
    /// Nothing was sent.
    pub dry_run: bool,
    /// Counters, failures and warnings.
    pub tally: Tally,
    /// Wall time.
    pub seconds: f64,
}

/// The server's version and limits.
struct Server {
    link: Option<Link>,
    version: (u32, u32, u32),
    max_bulk: usize,
    target: Target,
}

fn open_server(o: &RestoreOptions) -> Result<Server> {
    let shown = o.connect.url.to_string();
    if let (true, Some(target)) = (o.dry_run, &o.target) {
        return Ok(Server { link: None, version: (99, 0, 0), max_bulk: DEFAULT_MAX_BULK, target: target.clone() });
    }
    let mut link = Link::connect(&o.connect, o.cluster)?;
    let info = ServerInfo::fetch(&mut link)?;
    if info.cluster_enabled && !o.cluster {
        return Err(Error::Usage(format!("{shown} is a cluster node; add --cluster")));
    }
    if let (Some(db), false) = (o.connect.url.db, o.cluster) {
        // Before anything is sent: a database the server does not have stops here.
        link.call(&[b"SELECT", db.to_string().as_bytes()]).map_err(|e| match e {
            resp::Error::Server(msg) => resp::Error::Server(format!("SELECT {db}: {msg}")),
            e => e,
        })?;
    }
    let target = match &o.target {
        Some(t) => t.clone(),
        None => {
            // A dry run sends nothing, not even the probe.
            let probed = if o.dry_run { None } else { target::probe_payload_version(&mut link) };
            pick_target(info.valkey, info.version, probed).ok_or_else(|| {
                Error::Usage(format!("{shown}: server version {:?} is older than any known target", info.version))
            })?
        }
    };
    let max_bulk =
        config_get(&mut link, "proto-max-bulk-len")?.and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_MAX_BULK);
    Ok(Server { link: Some(link), version: info.version, max_bulk, target })
}

/// Reads a whole dump into `v` (and what follows its checksum).
fn read_dump<V: Visitor>(source: &dyn DumpSource, v: &mut V, options: ReaderOptions) -> Result<()> {
    let mut r = RdbReader::with_options(source.open()?, options);
    r.read_all(v).map_err(visitor_error)?;
    r.finish()?;
    Ok(())
}

/// A server error that stopped the read comes back as the server error it is.
fn visitor_error(e: rdb_parser::Error) -> Error {
    match e.into_visitor_error() {
        Ok(v) => match v.downcast::<resp::Error>() {
            Ok(server) => Error::Server(*server),
            Err(other) => match other.downcast::<std::io::Error>() {
                Ok(io) => Error::Io(*io),
                Err(other) => Error::Io(std::io::Error::other(other.to_string())),
            },
        },
        Err(e) => Error::Dump(e),
    }
}

/// `r`, or success when it failed because the restore stopped (see [`Tally::stopped`]).
fn unless_stopped<T: Default>(r: Result<T>, tally: &Tally) -> Result<T> {
    match r {
        Err(_) if tally.stopped.is_some() => Ok(T::default()),
        r => r,
    }
}

/// Restores the dump `source` holds as `o` says. A restore that stopped early (a run
/// of lasting refusals) returns its summary with [`Tally::stopped`] set.
pub fn restore(source: &dyn DumpSource, o: &RestoreOptions) -> Result<Summary> {
    let mut server = open_server(o)?;
    let mut rename = o.rename_db.clone();
    if let Some(db) = o.connect.url.db {
        rename.entry(0).or_insert(db);
    }
    let started = Instant::now();
    let link = if o.dry_run { None } else { server.link.as_mut() };
    let restorer = Restorer {
        sender: Sender::new(link, o.cluster, o.replace, o.pipeline, rename),
        replace: o.replace,
        lossy: o.lossy,
        server: server.version,
        max_bulk: server.max_bulk,
        oversized: HashSet::new(),
    };
    // Values already in a form the server loads are sent as stored, not re-encoded, with
    // their LZF strings written out plain: a copy costs the server less than decompressing.
    let mut v =
        Filtered::new(DumpEncoder::new(server.target.clone(), restorer).uncompressed().stored_values(), &o.filter);
    let read = read_dump(source, &mut v, ReaderOptions { raw_values: true, ..Default::default() });
    let mut restorer = v.inner.into_inner();
    unless_stopped(read, &restorer.sender.tally)?;
    let drained = restorer.sender.drain().map_err(Error::from);
    unless_stopped(drained, &restorer.sender.tally)?;
    if !restorer.oversized.is_empty() && restorer.sender.tally.stopped.is_none() {
        let sent = send_oversized(source, o, &mut restorer);
        unless_stopped(sent, &restorer.sender.tally)?;
    }
    let tally = std::mem::take(&mut restorer.sender.tally);
    Ok(Summary {
        server: o.connect.url.to_string(),
        target: server.target.name.clone(),
        dry_run: o.dry_run,
        tally,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `db 0 key name`, as messages about a key start.
fn key_label(db: u64, key: &[u8]) -> String {
    format!("db {db} key {}", escape_bytes(key, 80))
}

/// Second pass: values too large for one RESTORE are rebuilt with ordinary commands
/// (see [`staging`]).
fn send_oversized(source: &dyn DumpSource, o: &RestoreOptions, r: &mut Restorer<'_>) -> Result<()> {
    let keys = std::mem::take(&mut r.oversized);
    if !source.reopenable() {
        for (db, key) in &keys {
            r.sender.tally.unfit(format!(
                "{}: larger than proto-max-bulk-len ({} bytes), and the input cannot be read twice \
                 (give a file, not a pipe)",
                key_label(*db, key),
                r.max_bulk
            ));
        }
        return Ok(());
    }
    let mut staging = Staging::new(&mut r.sender, o.replace);
    let mut v = Filtered::new(RespWriter::new(&mut staging).max_bulk(r.max_bulk), &keys);
    read_dump(source, &mut v, ReaderOptions::default())?;
    drop(v);
    staging.finish()?;
    Ok(())
}
