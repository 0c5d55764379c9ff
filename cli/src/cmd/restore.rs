//! `rdbkit restore`: load a dump into a running server or cluster with pipelined RESTORE.
//!
//! Keys go as DUMP payloads re-encoded for the server's own version (so an older
//! server accepts them). A payload larger than the server's `proto-max-bulk-len` is
//! sent instead as ordinary commands in a second pass over the file.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use rdb_parser::writer::{DumpEncoder, DumpedKey, PayloadSink};
use rdb_parser::{escape_bytes, Filtered, ReaderOptions, Target, VisitResult};
use redis::Cmd;
use serde_json::json;

use crate::args::{ReportFormat, RestoreArgs};
use crate::exit::{usage, Code};
use crate::filter::key_filter;
use crate::input::Input;
use crate::net::{ConnectOptions, Link, Route, Sent, ServerUrl};
use crate::output::resp::{CommandSink, RespWriter};
use crate::CmdResult;

/// Bytes of payload per pipeline, besides the command count limit.
const BATCH_BYTES: usize = 8 << 20;
/// `proto-max-bulk-len` when the server does not say (CONFIG disabled).
const DEFAULT_MAX_BULK: usize = 512 << 20;
/// Failures and warnings listed one by one.
const MAX_LISTED: usize = 50;
/// Batches sent before the oldest one's replies are read: the server works on one
/// while the next is prepared.
const IN_FLIGHT: usize = 2;

/// Counters and failures of one restore.
#[derive(Default)]
struct Tally {
    restored: u64,
    expired: u64,
    dropped: u64,
    via_commands: u64,
    payload_bytes: u64,
    failures: Vec<String>,
    warnings: Vec<String>,
}

/// A sent batch whose replies are not read yet.
struct InFlight {
    sent: Sent,
    labels: Vec<(String, bool)>,
    routes: Vec<Route>,
}

/// Batches commands to a [`Link`] (or nowhere, for `--dry-run`), attributing failures
/// to keys, and renumbering databases.
struct Sender<'a> {
    link: Option<&'a mut Link>,
    cluster: bool,
    pipeline: usize,
    rename: BTreeMap<u64, u64>,
    cmds: Vec<Cmd>,
    routes: Vec<Route>,
    /// What each queued command is about, and whether it restores a key.
    labels: Vec<(String, bool)>,
    bytes: usize,
    db: Option<u64>,
    in_flight: std::collections::VecDeque<InFlight>,
    /// Keys with a failed command (since the set was last cleared).
    failed_keys: HashSet<Vec<u8>>,
    tally: Tally,
}

impl Sender<'_> {
    fn target_db(&self, source_db: u64) -> u64 {
        self.rename.get(&source_db).copied().unwrap_or(source_db)
    }

    fn push(&mut self, cmd: Cmd, route: Route, label: String, restores_key: bool, bytes: usize) -> std::io::Result<()> {
        self.cmds.push(cmd);
        self.routes.push(route);
        self.labels.push((label, restores_key));
        self.bytes += bytes;
        if self.cmds.len() >= self.pipeline || self.bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Switches to the database of `source_db` (a cluster has only db 0).
    fn select(&mut self, source_db: u64) -> std::io::Result<()> {
        let db = self.target_db(source_db);
        if self.db == Some(db) || self.cluster {
            return Ok(());
        }
        self.db = Some(db);
        let mut cmd = redis::cmd("SELECT");
        cmd.arg(db);
        self.push(cmd, Route::Any, format!("SELECT {db}"), false, 0)
    }

    /// Sends the queued commands; reads the replies of older batches beyond the window.
    fn flush(&mut self) -> std::io::Result<()> {
        if self.cmds.is_empty() {
            return Ok(());
        }
        let cmds = std::mem::take(&mut self.cmds);
        let routes = std::mem::take(&mut self.routes);
        let labels = std::mem::take(&mut self.labels);
        self.bytes = 0;
        let Some(link) = self.link.as_deref_mut() else {
            self.tally.restored += labels.iter().filter(|l| l.1).count() as u64;
            return Ok(());
        };
        let sent = link.send(&cmds, &routes).map_err(connection_error)?;
        self.in_flight.push_back(InFlight { sent, labels, routes });
        while self.in_flight.len() > IN_FLIGHT {
            self.complete_oldest()?;
        }
        Ok(())
    }

    /// Sends everything and waits for every reply.
    fn drain(&mut self) -> std::io::Result<()> {
        self.flush()?;
        while !self.in_flight.is_empty() {
            self.complete_oldest()?;
        }
        Ok(())
    }

    fn complete_oldest(&mut self) -> std::io::Result<()> {
        let (Some(link), Some(InFlight { sent, labels, routes })) =
            (self.link.as_deref_mut(), self.in_flight.pop_front())
        else {
            return Ok(());
        };
        let results = link.receive(sent).map_err(connection_error)?;
        for (((label, restores_key), route), r) in labels.into_iter().zip(routes).zip(results) {
            match r {
                Err(e) => {
                    if let Route::Key(k) = route {
                        self.failed_keys.insert(k);
                    }
                    self.tally.failures.push(format!("{label}: {e}"));
                }
                Ok(()) if restores_key => self.tally.restored += 1,
                Ok(()) => {}
            }
        }
        Ok(())
    }
}

fn connection_error(e: redis::RedisError) -> std::io::Error {
    std::io::Error::other(format!("server connection: {e}"))
}

/// Commands generated for oversized values (second pass).
impl CommandSink for Sender<'_> {
    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<()> {
        let name = args.first().copied().unwrap_or_default();
        if name.eq_ignore_ascii_case(b"SELECT") {
            let db = std::str::from_utf8(args.get(1).copied().unwrap_or_default()).ok().and_then(|d| d.parse().ok());
            return db.map_or(Ok(()), |db| self.select(db));
        }
        let mut cmd = Cmd::new();
        for a in args {
            cmd.arg(*a);
        }
        let key = args.get(1).copied().unwrap_or_default();
        let label = format!("key {}", escape_bytes(key, 80));
        self.push(cmd, Route::Key(key.to_vec()), label, false, args.iter().map(|a| a.len()).sum())
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// `RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s | FREQ f]`; servers before
/// 5.0 get a relative TTL and no ABSTTL/IDLETIME/FREQ.
fn restore_cmd(k: &DumpedKey<'_>, replace: bool, server: (u32, u32, u32)) -> Cmd {
    let modern = server >= (5, 0, 0);
    let ttl = match k.expire_at_ms {
        None => 0,
        Some(t) if modern => t,
        Some(t) => (t - now_ms()).max(1),
    };
    let mut cmd = redis::cmd("RESTORE");
    cmd.arg(k.key).arg(ttl).arg(k.payload);
    if replace {
        cmd.arg("REPLACE");
    }
    if modern {
        if k.expire_at_ms.is_some() {
            cmd.arg("ABSTTL");
        }
        match (k.lfu_freq, k.lru_idle_s) {
            (Some(f), _) => {
                cmd.arg("FREQ").arg(f);
            }
            (None, Some(s)) => {
                cmd.arg("IDLETIME").arg(s);
            }
            _ => {}
        }
    }
    cmd
}

/// The first pass: function libraries, then one RESTORE per key; oversized values are
/// set aside for the second pass.
struct Restorer<'a> {
    sender: Sender<'a>,
    replace: bool,
    lossy: bool,
    server: (u32, u32, u32),
    max_bulk: usize,
    oversized: HashSet<(u64, Vec<u8>)>,
}

impl PayloadSink for Restorer<'_> {
    fn function(&mut self, code: &[u8]) -> VisitResult {
        if self.server < (7, 0, 0) {
            self.sender.tally.warnings.push("function libraries need Redis 7.0 or later; not loaded".into());
            return Ok(());
        }
        let mut cmd = redis::cmd("FUNCTION");
        cmd.arg("LOAD");
        if self.replace {
            cmd.arg("REPLACE");
        }
        cmd.arg(code);
        Ok(self.sender.push(cmd, Route::AllMasters, "function library".into(), false, code.len())?)
    }

    fn key(&mut self, k: &DumpedKey<'_>) -> VisitResult {
        let db = self.sender.target_db(k.db);
        let name = escape_bytes(k.key, 80);
        let t = &mut self.sender.tally;
        if k.payload.is_empty() {
            t.dropped += 1;
            t.warnings.push(format!("db {db} key {name} left out: {}", k.losses.join("; ")));
            return Ok(());
        }
        if !k.losses.is_empty() {
            if !self.lossy {
                t.failures
                    .push(format!("db {db} key {name}: the server cannot hold {}; use --lossy", k.losses.join("; ")));
                return Ok(());
            }
            t.warnings.push(format!("db {db} key {name}: left out {}", k.losses.join("; ")));
        }
        if self.sender.cluster && db != 0 {
            t.failures.push(format!("db {db} key {name}: a cluster has only database 0 (use --db or --rename-db)"));
            return Ok(());
        }
        if k.expire_at_ms.is_some_and(|e| e <= now_ms()) {
            t.expired += 1;
            return Ok(());
        }
        if k.payload.len() > self.max_bulk {
            self.oversized.insert((k.db, k.key.to_vec()));
            return Ok(());
        }
        t.payload_bytes += k.payload.len() as u64;
        self.sender.select(k.db)?;
        let cmd = restore_cmd(k, self.replace, self.server);
        Ok(self.sender.push(cmd, Route::Key(k.key.to_vec()), format!("db {db} key {name}"), true, k.payload.len())?)
    }
}

/// Connects and learns the server version and limits.
struct Server {
    link: Option<Link>,
    version: (u32, u32, u32),
    max_bulk: usize,
    target: Target,
    shown: String,
}

fn open_server(a: &RestoreArgs) -> anyhow::Result<(Server, ConnectOptions)> {
    let url = ServerUrl::parse(&a.url)?;
    let shown = url.display();
    let options = ConnectOptions {
        url,
        password_file: a.password_file.clone(),
        tls_ca: a.tls_ca.clone(),
        tls_insecure: a.tls_insecure,
        cluster: a.cluster,
    };
    if a.dry_run && a.target.is_some() {
        let target = named_target(a.target.as_deref().unwrap_or_default())?;
        return Ok((Server { link: None, version: (99, 0, 0), max_bulk: DEFAULT_MAX_BULK, target, shown }, options));
    }
    let mut link = Link::connect(&options)?;
    let info = link.server_info().with_context(|| format!("{shown}: INFO"))?;
    if info.cluster_enabled && !a.cluster {
        return Err(usage(format!("{shown} is a cluster node; add --cluster")));
    }
    let target = match &a.target {
        Some(name) => named_target(name)?,
        None => Target::for_server(info.valkey, (info.version.0, info.version.1)).ok_or_else(|| {
            anyhow::anyhow!("{shown}: server version {:?} is older than any known target", info.version)
        })?,
    };
    let max_bulk = link
        .command(redis::cmd("CONFIG").arg("GET").arg("proto-max-bulk-len"))
        .ok()
        .and_then(|v| match v {
            redis::Value::Array(items) => items.get(1).cloned(),
            redis::Value::Map(m) => m.into_iter().next().map(|(_, v)| v),
            _ => None,
        })
        .and_then(|v| redis::from_redis_value::<String>(v).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_MAX_BULK);
    Ok((Server { link: Some(link), version: info.version, max_bulk, target, shown }, options))
}

fn named_target(name: &str) -> anyhow::Result<Target> {
    Target::named(name).ok_or_else(|| usage(format!("unknown --target {name:?}")))
}

pub fn run(a: &RestoreArgs, quiet: bool) -> CmdResult {
    let filter = key_filter(&a.filter.dbs, &a.filter.keys, &a.filter.types)?;
    if a.pipeline == 0 {
        return Err(usage("--pipeline must be at least 1"));
    }
    let (mut server, options) = open_server(a)?;
    let mut rename: BTreeMap<u64, u64> = a.rename_db.iter().copied().collect();
    if let Some(db) = options.url.db {
        rename.entry(0).or_insert(db);
    }
    let started = Instant::now();
    let link = if a.dry_run { None } else { server.link.as_mut() };
    let sender = Sender {
        link,
        cluster: a.cluster,
        pipeline: a.pipeline,
        rename,
        cmds: Vec::new(),
        routes: Vec::new(),
        labels: Vec::new(),
        bytes: 0,
        db: None,
        in_flight: std::collections::VecDeque::new(),
        failed_keys: HashSet::new(),
        tally: Tally::default(),
    };
    let restorer = Restorer {
        sender,
        replace: a.replace,
        lossy: a.lossy,
        server: server.version,
        max_bulk: server.max_bulk,
        oversized: HashSet::new(),
    };
    let mut v = Filtered::new(DumpEncoder::new(server.target.clone(), restorer), &filter);
    // Values already in a form the server loads are sent as stored, not re-encoded.
    let options = ReaderOptions { raw_values: true, ..Default::default() };
    super::read_file_with(Input::open(&a.file, quiet)?, &mut v, options)?;
    let mut restorer = v.inner.into_inner();
    restorer.sender.drain().with_context(|| server.shown.clone())?;
    if !restorer.oversized.is_empty() {
        send_oversized(a, &mut restorer, quiet).with_context(|| server.shown.clone())?;
    }
    report(a, &server.shown, &restorer.sender.tally, started)
}

/// Second pass: values too large for one RESTORE go as ordinary commands.
fn send_oversized(a: &RestoreArgs, r: &mut Restorer<'_>, quiet: bool) -> anyhow::Result<()> {
    let keys = std::mem::take(&mut r.oversized);
    if a.file == Path::new("-") {
        for (db, key) in &keys {
            let msg = format!(
                "db {db} key {}: larger than proto-max-bulk-len, and stdin cannot be read twice",
                escape_bytes(key, 80)
            );
            r.sender.tally.failures.push(msg);
        }
        return Ok(());
    }
    let mut keys = keys;
    if !a.replace && !a.dry_run {
        // RESTORE without REPLACE refuses existing keys; commands would merge into them.
        let mut existing = Vec::new();
        for (db, key) in &keys {
            r.sender.select(*db)?;
            r.sender.drain()?;
            let exists = match r.sender.link.as_deref_mut() {
                Some(link) => redis::from_redis_value::<i64>(link.query_key(redis::cmd("EXISTS").arg(key), key)?)? > 0,
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
    if a.replace {
        writer = writer.delete_first();
    }
    let mut v = Filtered::new(writer, &keys);
    super::read_file(Input::open(&a.file, quiet)?, &mut v)?;
    r.sender.drain()?;
    // A key counts as restored when none of its commands failed.
    let ok = keys.iter().filter(|(_, k)| !r.sender.failed_keys.contains(k)).count() as u64;
    r.sender.tally.via_commands += ok;
    r.sender.tally.restored += ok;
    Ok(())
}

fn report(a: &RestoreArgs, shown: &str, t: &Tally, started: Instant) -> CmdResult {
    let seconds = started.elapsed().as_secs_f64();
    for (level, list) in [("warning", &t.warnings), ("error", &t.failures)] {
        for line in list.iter().take(MAX_LISTED) {
            eprintln!("{level}: {line}");
        }
        if list.len() > MAX_LISTED {
            eprintln!("{level}: ... and {} more", list.len() - MAX_LISTED);
        }
    }
    let rate = if seconds > 0.0 { t.restored as f64 / seconds } else { 0.0 };
    let summary = json!({
        "server": shown, "dry_run": a.dry_run, "restored": t.restored, "via_commands": t.via_commands,
        "failed": t.failures.len(), "skipped_expired": t.expired, "left_out": t.dropped,
        "payload_bytes": t.payload_bytes, "seconds": seconds, "keys_per_second": rate,
    });
    match a.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        ReportFormat::Text => println!(
            "{}{shown}: {} keys restored ({} as commands), {} failed, {} expired and skipped, {} left out; \
             {} payload bytes in {seconds:.2} s ({rate:.0} keys/s)",
            if a.dry_run { "dry run, nothing sent to " } else { "" },
            t.restored,
            t.via_commands,
            t.failures.len(),
            t.expired,
            t.dropped,
            t.payload_bytes
        ),
    }
    Ok(if t.failures.is_empty() { Code::Ok } else { Code::BadData })
}
