//! Loads a dump into a running server or cluster with pipelined `RESTORE`.
//!
//! Keys go as DUMP payloads re-encoded for the server's own version (so an older
//! server accepts them); values the server already loads as stored are sent as they
//! are. A payload larger than the server's `proto-max-bulk-len` is sent instead as
//! ordinary commands in a second pass over the dump.

mod payloads;
mod sender;

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::time::Instant;

use rdb_parser::writer::DumpEncoder;
use rdb_parser::{escape_bytes, Filtered, KeyFilter, RdbReader, ReaderOptions, Target, Visitor};
use resp::rewrite::{CommandSink, RespWriter};
use resp::{config_get, ConnectOptions, Link, Route, ServerInfo};

use crate::error::{Error, Result};
use payloads::Restorer;
use sender::Sender;
pub use sender::Tally;

/// `proto-max-bulk-len` when the server does not say (CONFIG disabled).
const DEFAULT_MAX_BULK: usize = 512 << 20;

/// Where the dump comes from; opened once per pass.
pub trait DumpSource {
    /// Opens the dump at its start.
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>>;
    /// Whether it can be opened a second time (not standard input or a pipe).
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
    /// Commands per pipeline.
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
    let target = match &o.target {
        Some(t) => t.clone(),
        None => Target::for_server(info.valkey, (info.version.0, info.version.1)).ok_or_else(|| {
            Error::Usage(format!("{shown}: server version {:?} is older than any known target", info.version))
        })?,
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

/// Restores the dump `source` holds as `o` says.
pub fn restore(source: &dyn DumpSource, o: &RestoreOptions) -> Result<Summary> {
    let mut server = open_server(o)?;
    let mut rename = o.rename_db.clone();
    if let Some(db) = o.connect.url.db {
        rename.entry(0).or_insert(db);
    }
    let started = Instant::now();
    let link = if o.dry_run { None } else { server.link.as_mut() };
    let restorer = Restorer {
        sender: Sender::new(link, o.cluster, o.pipeline, rename),
        replace: o.replace,
        lossy: o.lossy,
        server: server.version,
        max_bulk: server.max_bulk,
        oversized: HashSet::new(),
    };
    let mut v = Filtered::new(DumpEncoder::new(server.target.clone(), restorer), &o.filter);
    // Values already in a form the server loads are sent as stored, not re-encoded.
    read_dump(source, &mut v, ReaderOptions { raw_values: true, ..Default::default() })?;
    let mut restorer = v.inner.into_inner();
    restorer.sender.drain()?;
    if !restorer.oversized.is_empty() {
        send_oversized(source, o, &mut restorer)?;
    }
    let tally = std::mem::take(&mut restorer.sender.tally);
    Ok(Summary {
        server: o.connect.url.to_string(),
        dry_run: o.dry_run,
        tally,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Commands generated for oversized values (second pass).
impl CommandSink for Sender<'_> {
    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        let name = args.first().copied().unwrap_or_default();
        let io = |e: resp::Error| std::io::Error::other(e);
        if name.eq_ignore_ascii_case(b"SELECT") {
            let db = std::str::from_utf8(args.get(1).copied().unwrap_or_default()).ok().and_then(|d| d.parse().ok());
            return db.map_or(Ok(()), |db| self.select(db).map_err(io));
        }
        let key = args.get(1).copied().unwrap_or_default();
        let label = format!("key {}", escape_bytes(key, 80));
        self.push(args, Route::Key(key.to_vec()), label, false).map_err(io)
    }
}

/// Second pass: values too large for one RESTORE go as ordinary commands.
fn send_oversized(source: &dyn DumpSource, o: &RestoreOptions, r: &mut Restorer<'_>) -> Result<()> {
    let mut keys = std::mem::take(&mut r.oversized);
    if !source.reopenable() {
        for (db, key) in &keys {
            let msg = format!(
                "db {db} key {}: larger than proto-max-bulk-len, and the input cannot be read twice",
                escape_bytes(key, 80)
            );
            r.sender.tally.failures.push(msg);
        }
        return Ok(());
    }
    if !o.replace && !o.dry_run {
        // RESTORE without REPLACE refuses existing keys; commands would merge into them.
        let mut existing = Vec::new();
        for (db, key) in &keys {
            r.sender.select(*db)?;
            r.sender.drain()?;
            let exists = match r.sender.link.as_deref_mut() {
                Some(link) => link.call_for_key(&[b"EXISTS", key], key)?.as_int().unwrap_or(0) > 0,
                None => false,
            };
            if exists {
                existing.push((*db, key.clone()));
            }
        }
        for k in existing {
            r.sender.tally.failures.push(format!(
                "db {} key {}: BUSYKEY Target key name already exists.",
                k.0,
                escape_bytes(&k.1, 80)
            ));
            keys.remove(&k);
        }
    }
    r.sender.drain()?;
    r.sender.failed_keys.clear();
    let mut writer = RespWriter::new(&mut r.sender).max_bulk(r.max_bulk);
    if o.replace {
        writer = writer.delete_first();
    }
    let mut v = Filtered::new(writer, &keys);
    read_dump(source, &mut v, ReaderOptions::default())?;
    r.sender.drain()?;
    // A key counts as restored when none of its commands failed.
    let ok = keys.iter().filter(|(_, k)| !r.sender.failed_keys.contains(k)).count() as u64;
    r.sender.tally.via_commands += ok;
    r.sender.tally.restored += ok;
    Ok(())
}
