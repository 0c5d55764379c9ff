//! What a backup reads: a live server (directly, through Sentinel, or every master of a
//! cluster), a local RDB file, or an AOF directory. [`plan`] turns a source into the
//! parts to store, each with a function that opens its byte stream.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use resp::replication::start_snapshot;
use resp::sentinel::{pick_node, SentinelUrl};
use resp::{info, info_field, ClusterLink, ConnectOptions, Connection, ServerInfo, ServerUrl, TlsOptions};

use crate::error::{Error, Result};
use crate::repo::{PartKind, SourceInfo};

/// A source of backups.
#[derive(Debug, Clone)]
pub enum Source {
    /// One server, snapshotted over the replication protocol.
    Server(ConnectOptions),
    /// A Sentinel-monitored group: a healthy replica, else the master.
    Sentinel {
        /// The group.
        url: SentinelUrl,
        /// The data nodes' password (resolved).
        password: Option<String>,
        /// The Sentinels' own password.
        sentinel_password: Option<String>,
        /// TLS settings for every connection.
        tls: TlsOptions,
        /// Connect and reply timeout.
        timeout: Duration,
    },
    /// Every master of a cluster, in parallel.
    Cluster(ConnectOptions),
    /// An RDB file.
    RdbFile(PathBuf),
    /// An AOF directory (Redis 7+ multi-part AOF with its manifest).
    AofDir(PathBuf),
}

/// The stream of one part, opened.
pub struct Opened {
    /// The bytes.
    pub reader: Box<dyn Read + Send>,
    /// The expected size, when known (sizes S3 parts).
    pub size_hint: Option<u64>,
    /// `redis 7.0.15`, for live servers.
    pub server_version: Option<String>,
}

/// Opens a part's stream (called on a blocking thread).
pub type Opener = Box<dyn FnOnce() -> Result<Opened> + Send>;

/// One part to store.
pub struct PlannedPart {
    /// File name (`dump.rdb`, `shard-1.rdb`, `appendonly.aof.1.incr.aof`).
    pub file: String,
    /// What it holds.
    pub kind: PartKind,
    /// The server (`host:port`).
    pub node: Option<String>,
    /// Slots of a cluster shard.
    pub slots: Vec<[u16; 2]>,
    /// Opens the stream.
    pub open: Opener,
}

/// A plan: the source as recorded in the manifest, and its parts.
pub struct Plan {
    /// For the manifest.
    pub info: SourceInfo,
    /// Parts, stored in this order (AOF manifests last).
    pub parts: Vec<PlannedPart>,
    /// Parts may be read at the same time (cluster shards).
    pub parallel: bool,
}

fn version_text(info: &ServerInfo) -> String {
    let (a, b, c) = info.version;
    format!("{} {a}.{b}.{c}", if info.valkey { "valkey" } else { "redis" })
}

/// Snapshot of one server: a [`Opener`] that connects and starts the transfer. A
/// cluster node is refused unless it is one shard of a cluster backup (`shard`): alone,
/// it would silently be part of the data.
fn snapshot_opener(options: ConnectOptions, host: String, port: u16, shard: bool) -> Opener {
    Box::new(move || {
        let mut conn = Connection::open_to(&options, &host, port)?;
        let server = ServerInfo::fetch(&mut conn)?;
        if server.cluster_enabled && !shard {
            return Err(Error::Usage(format!(
                "{}: a cluster node holds only its shard's keys; add --cluster to back up every master",
                conn.peer()
            )));
        }
        // A diskless transfer has no announced length; the dataset's memory is a fair guess.
        let used = info(&mut conn, "memory").ok().and_then(|t| info_field(&t, "used_memory")?.parse::<u64>().ok());
        let snapshot = start_snapshot(conn, &server)?;
        Ok(Opened {
            size_hint: snapshot.len_hint().or(used),
            server_version: Some(version_text(&server)),
            reader: Box::new(snapshot),
        })
    })
}

fn file_opener(path: PathBuf) -> Opener {
    Box::new(move || {
        let file = File::open(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: cannot open: {e}", path.display())))?;
        let size = file.metadata().map(|m| m.len()).ok();
        Ok(Opened { reader: Box::new(file), size_hint: size, server_version: None })
    })
}

fn server_part(options: &ConnectOptions, url: &ServerUrl) -> PlannedPart {
    PlannedPart {
        file: "dump.rdb".into(),
        kind: PartKind::Rdb,
        node: Some(url.address()),
        slots: Vec::new(),
        open: snapshot_opener(options.clone(), url.host.clone(), url.port, false),
    }
}

/// The parts of `source` (talks to Sentinels and cluster nodes; blocking).
pub fn plan(source: &Source) -> Result<Plan> {
    match source {
        Source::Server(options) => {
            let info = SourceInfo { kind: "server".into(), name: options.url.to_string(), node: None, role: None };
            Ok(Plan { info, parts: vec![server_part(options, &options.url)], parallel: false })
        }
        Source::Sentinel { url, password, sentinel_password, tls, timeout } => {
            let picked = pick_node(url, sentinel_password.as_deref(), tls, *timeout)?;
            let node = url.node_url(&picked.host, picked.port);
            let options =
                ConnectOptions { url: node.clone(), password: password.clone(), tls: tls.clone(), timeout: *timeout };
            let info = SourceInfo {
                kind: "sentinel".into(),
                name: url.to_string(),
                node: Some(node.address()),
                role: Some(if picked.replica { "replica" } else { "master" }.into()),
            };
            Ok(Plan { info, parts: vec![server_part(&options, &node)], parallel: false })
        }
        Source::Cluster(options) => plan_cluster(options),
        Source::RdbFile(path) => {
            let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("dump.rdb").to_string();
            let info = SourceInfo { kind: "rdb-file".into(), name: path.display().to_string(), node: None, role: None };
            let part = PlannedPart {
                file,
                kind: PartKind::Rdb,
                node: None,
                slots: Vec::new(),
                open: file_opener(path.clone()),
            };
            Ok(Plan { info, parts: vec![part], parallel: false })
        }
        Source::AofDir(dir) => plan_aof_dir(dir),
    }
}

fn plan_cluster(options: &ConnectOptions) -> Result<Plan> {
    let link = ClusterLink::connect(options)?;
    let mut parts: Vec<PlannedPart> = Vec::new();
    for master in link.masters() {
        let (host, port) = master
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.trim_matches(['[', ']']).to_string(), p.parse::<u16>().ok()?)))
            .ok_or_else(|| Error::Server(resp::Error::Server(format!("bad node address {master:?}"))))?;
        let slots = link.slots().iter().filter(|r| r.master == master).map(|r| [r.first, r.last]).collect();
        parts.push(PlannedPart {
            file: format!("shard-{}.rdb", parts.len()),
            kind: PartKind::Rdb,
            node: Some(master.clone()),
            slots,
            open: snapshot_opener(options.clone(), host, port, true),
        });
    }
    if parts.is_empty() {
        return Err(Error::Server(resp::Error::Server("the cluster reports no master serving slots".into())));
    }
    let info = SourceInfo { kind: "cluster".into(), name: options.url.to_string(), node: None, role: None };
    Ok(Plan { info, parts, parallel: true })
}

/// The files a Redis 7+ AOF manifest names (`file <name> seq <n> type <b|h|i>`), base
/// and increments in order; history files (`h`) are about to be deleted and are left out.
pub fn aof_manifest_files(text: &str) -> std::result::Result<Vec<String>, String> {
    let mut files = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let value = |key: &str| words.chunks(2).find(|kv| kv[0] == key).and_then(|kv| kv.get(1)).copied();
        let (Some(name), Some(kind)) = (value("file"), value("type")) else {
            return Err(format!("line {}: expected `file <name> seq <n> type <b|h|i>`", n + 1));
        };
        if name.starts_with('"') || name.contains('/') {
            return Err(format!("line {}: unsupported file name {name}", n + 1));
        }
        match kind {
            "b" | "i" => files.push(name.to_string()),
            "h" => {}
            other => return Err(format!("line {}: unknown file type {other:?}", n + 1)),
        }
    }
    if files.is_empty() {
        return Err("the manifest names no base or increment file".into());
    }
    Ok(files)
}

fn plan_aof_dir(dir: &Path) -> Result<Plan> {
    let usage = |why: String| Error::Usage(format!("{}: {why}", dir.display()));
    let manifest = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .find(|n| n.ends_with(".manifest"))
        .ok_or_else(|| usage("no *.manifest file: not a Redis 7+ AOF directory".into()))?;
    let text = std::fs::read_to_string(dir.join(&manifest))?;
    let files = aof_manifest_files(&text).map_err(|why| usage(format!("{manifest}: {why}")))?;
    let mut parts: Vec<PlannedPart> = files
        .into_iter()
        .map(|file| PlannedPart {
            kind: if file.ends_with(".rdb") { PartKind::Rdb } else { PartKind::Aof },
            node: None,
            slots: Vec::new(),
            open: file_opener(dir.join(&file)),
            file,
        })
        .collect();
    parts.push(PlannedPart {
        file: manifest.clone(),
        kind: PartKind::AofManifest,
        node: None,
        slots: Vec::new(),
        open: file_opener(dir.join(&manifest)),
    });
    let info = SourceInfo { kind: "aof-dir".into(), name: dir.display().to_string(), node: None, role: None };
    Ok(Plan { info, parts, parallel: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aof_manifests_list_base_and_increments() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n\
                    file appendonly.aof.3.incr.aof seq 3 type i\nfile appendonly.aof.4.incr.aof seq 4 type i\n";
        assert_eq!(
            aof_manifest_files(text),
            Ok(vec![
                "appendonly.aof.2.base.rdb".into(),
                "appendonly.aof.3.incr.aof".into(),
                "appendonly.aof.4.incr.aof".into()
            ])
        );
        assert!(aof_manifest_files("").is_err());
        assert!(aof_manifest_files("file x seq 1 type z\n").is_err());
        assert!(aof_manifest_files("file ../x seq 1 type b\n").is_err());
        assert!(aof_manifest_files("garbage\n").is_err());
    }
}
