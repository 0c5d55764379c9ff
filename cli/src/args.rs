//! Command-line arguments (clap derive). Doc comments become `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tools for Redis and Valkey persistence files.
///
/// Exit codes: 0 success, 1 invalid or unsupported data, 2 usage error,
/// 3 I/O, network or server error, 4 partial result (--relaxed stopped early).
#[derive(Parser)]
#[command(name = "rdbkit", version, propagate_version = true, max_term_width = 100)]
#[command(after_help = "Examples:\n  rdbkit info dump.rdb\n  rdbkit verify /backups/*.rdb\n  \
rdbkit convert dump.rdb --to ndjson -o dump.ndjson\n  rdbkit convert dump.rdb --to resp | redis-cli --pipe\n  \
rdbkit convert dump.rdb --to rdb --target redis-6.2 -o dump-6.2.rdb\n  \
REDISCLI_AUTH=secret rdbkit restore dump.rdb --to redis://10.0.0.5:6379\n  \
rdbkit memory dump.rdb --by-prefix : --top 20 --html report.html")]
pub struct Cli {
    /// Never draw progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Show a dump's format, version, AUX fields, databases, functions and checksum.
    #[command(after_help = "Examples:\n  rdbkit info dump.rdb\n  rdbkit info dump.rdb --format json | jq .databases")]
    Info(InfoArgs),
    /// Check dumps completely: structure of every value and the CRC64 checksum.
    ///
    /// Prints one line per file. Exits 0 when every file is valid, 1 when one is
    /// invalid, 3 when one cannot be read.
    #[command(after_help = "Examples:\n  rdbkit verify dump.rdb\n  rdbkit verify --format json /backups/*.rdb")]
    Verify(VerifyArgs),
    /// Convert a dump to JSON, NDJSON, a RESP command stream, or an RDB for another server.
    ///
    /// NDJSON has one record per key (docs/ndjson.md); JSON is the same records as one
    /// array; RESP recreates the dataset when piped into `redis-cli --pipe`; RDB writes a
    /// dump that the target server loads (docs/upgrade-downgrade.md). Keys the servers
    /// would skip when loading (empty collections) are left out.
    #[command(after_help = "Examples:\n  rdbkit convert dump.rdb --to ndjson -o dump.ndjson\n  \
rdbkit convert dump.rdb --to json --db 0 --key 'user:*' --type hash\n  \
cat dump.rdb | rdbkit convert - --to resp | redis-cli -p 6380 --pipe\n  \
rdbkit convert dump.rdb --to rdb --target redis-6.2 -o dump-6.2.rdb\n  \
rdbkit convert dump.rdb --to rdb --rdb-version 11 --lossy --rename-db 0:3 -o out.rdb")]
    Convert(ConvertArgs),
    /// Load a dump into a running server or cluster (pipelined RESTORE).
    ///
    /// Values are re-encoded for the server's own version, so an older server accepts
    /// them. The password comes from the URL, --password-file, or the REDISCLI_AUTH
    /// environment variable; it never has to be on the command line. Exits 3 when the
    /// server cannot be reached or refused keys, 1 when keys do not fit the target
    /// (without --lossy); failures are listed (the first 50, then counts by error).
    #[command(after_help = "Examples:\n  rdbkit restore dump.rdb --to redis://127.0.0.1:6379\n  \
REDISCLI_AUTH=secret rdbkit restore dump.rdb --to rediss://cache.example:6380 --tls-ca ca.pem --replace\n  \
rdbkit restore dump.rdb --to redis://10.0.0.5:7000 --cluster --db 0\n  \
rdbkit restore dump.rdb --to redis://staging:6379 --key 'user:*' --dry-run --target redis-7.2")]
    Restore(RestoreArgs),
    /// Estimate each key's memory: what MEMORY USAGE reports once a server loads the dump.
    ///
    /// The estimate follows the server version that wrote the dump (or --server-version)
    /// and its allocator (--allocator). Prints a summary by default: totals by database,
    /// type and encoding, expiries, the biggest keys and elements, and with --by-prefix a
    /// tree of key prefixes; --format csv or json gives one row per key (docs/memory.md).
    #[command(after_help = "Examples:\n  rdbkit memory dump.rdb\n  \
rdbkit memory dump.rdb --format csv -o memory.csv\n  \
rdbkit memory dump.rdb --by-prefix : --depth 3 --top 50 --html report.html\n  \
rdbkit memory dump.rdb --allocator jemalloc-16 --server-version 7.2 --type hash --min-bytes 1048576")]
    Memory(crate::cmd::memory::MemoryArgs),
    /// Back up live servers (standalone, Sentinel, cluster) or files to a directory or S3;
    /// list, verify, restore, prune, schedule (docs/backup.md).
    Backup(crate::cmd::backup::args::BackupArgs),
    /// Append-only files: check and repair like redis-check-aof, inspect, rewrite offline.
    #[command(after_help = "Examples:\n  rdbkit aof check /var/lib/redis/appendonlydir --fix\n  \
rdbkit aof info appendonlydir")]
    Aof(crate::cmd::aof::AofArgs),
}

/// Output format of `info` and `verify`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    /// Human-readable text.
    Text,
    /// Machine-readable JSON.
    Json,
}

/// How far to read files newer than rdbkit knows.
#[derive(Args, Clone, Copy)]
pub struct ReadArgs {
    /// Read a file of a newer RDB version (or with an unknown type) as far as rdbkit
    /// knows its types and opcodes: stop at the first unknown one, say where, keep what
    /// was read, and exit 1 (a partial result is never a success).
    #[arg(long)]
    pub relaxed: bool,
}

#[derive(Args)]
pub struct InfoArgs {
    /// The RDB file (`-` for stdin).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// RDB files to check (`-` for stdin).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Target format of `convert`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ConvertTo {
    /// One JSON array of records.
    Json,
    /// One JSON record per line.
    Ndjson,
    /// Redis commands in RESP (for `redis-cli --pipe`).
    Resp,
    /// An RDB file for the target server (`--target` / `--rdb-version`).
    Rdb,
    /// A new appendonlydir (`-o OUTDIR`) that the target server loads.
    Aof,
}

/// How to log in to a server: password and TLS settings (for `restore` and `backup`).
#[derive(Args, Clone, Default)]
pub struct ServerArgs {
    /// Read the server password from this file (first line); else the URL's, else the
    /// REDISCLI_AUTH environment variable.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// CA certificate (PEM) to verify a TLS server (rediss:// only).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for servers that require one (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Do not verify the TLS server's certificate (rediss:// only).
    #[arg(long)]
    pub tls_insecure: bool,
}

impl ServerArgs {
    /// The TLS settings.
    pub fn tls(&self) -> resp::TlsOptions {
        resp::TlsOptions {
            ca: self.tls_ca.clone(),
            cert: self.tls_cert.clone(),
            key: self.tls_key.clone(),
            insecure: self.tls_insecure,
        }
    }

    /// Connection options for `url` with these settings; the password comes from the
    /// URL, --password-file or REDISCLI_AUTH.
    pub fn connect_options(&self, url: &str) -> anyhow::Result<resp::ConnectOptions> {
        let url = resp::ServerUrl::parse(url)?;
        let password = resp::resolve_password(&url, self.password_file.as_deref())?;
        let options = resp::ConnectOptions { password, tls: self.tls(), ..resp::ConnectOptions::new(url) };
        options.validate()?;
        Ok(options)
    }
}

/// Key filters shared by the commands that read keys.
#[derive(Args)]
pub struct FilterArgs {
    /// Only keys of this database (repeatable).
    #[arg(long = "db", value_name = "N")]
    pub dbs: Vec<u64>,
    /// Only keys matching this glob (`*`, `?`, `[a-z]`, `\` escapes; repeatable).
    #[arg(long = "key", value_name = "GLOB")]
    pub keys: Vec<String>,
    /// Only keys of this type: string, list, set, zset, hash, stream, module, array, gcra
    /// (repeatable).
    #[arg(long = "type", value_name = "T")]
    pub types: Vec<String>,
}

#[derive(Args)]
pub struct ConvertArgs {
    /// The RDB file (`-` for stdin), or an AOF (appendonlydir, manifest, AOF file).
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub to: ConvertTo,
    /// Output file (default: stdout). Written to a temporary name, then renamed.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub rdb: RdbOutArgs,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The RDB file (`-` for stdin; then values too large for RESTORE cannot be sent).
    pub file: PathBuf,
    /// Server: redis://[user[:password]@]host[:port][/db] or rediss:// for TLS. A /db
    /// sends the dump's database 0 there; other databases keep their numbers.
    #[arg(long = "to", value_name = "URL")]
    pub url: String,
    #[command(flatten)]
    pub server: ServerArgs,
    /// The URL is a cluster node: discover the slots and follow MOVED/ASK.
    #[arg(long)]
    pub cluster: bool,
    /// Overwrite keys that exist (RESTORE ... REPLACE, FUNCTION LOAD REPLACE).
    #[arg(long)]
    pub replace: bool,
    /// Encode everything, send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keys (commands) per pipeline.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub pipeline: usize,
    /// Give up when the server takes longer than this to connect or to answer.
    #[arg(long, default_value_t = 60, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Encode payloads for this server instead of the one connected to.
    #[arg(long, value_name = "SERVER")]
    pub target: Option<String>,
    /// Restore keys even when the server cannot hold part of them (reported).
    #[arg(long)]
    pub lossy: bool,
    /// Move keys of database FROM to database TO (repeatable).
    #[arg(long, value_name = "FROM:TO", value_parser = parse_rename)]
    pub rename_db: Vec<(u64, u64)>,
    /// Summary format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// Options of `--to rdb`.
#[derive(Args)]
pub struct RdbOutArgs {
    /// Server to write for: its RDB version and encoding thresholds (redis-3.0 ...
    /// redis-8.10, valkey-7.2 ... valkey-9.1). Default: the newest server that writes the
    /// input's RDB version.
    #[arg(long, value_name = "SERVER")]
    pub target: Option<String>,
    /// RDB version to write: 6-15 (`REDIS00NN`) or 80 (`VALKEY080`).
    #[arg(long, value_name = "N")]
    pub rdb_version: Option<u32>,
    /// Leave out what the target cannot represent (reported on stderr) instead of failing.
    #[arg(long)]
    pub lossy: bool,
    /// Move keys of database FROM to database TO (repeatable).
    #[arg(long, value_name = "FROM:TO", value_parser = parse_rename)]
    pub rename_db: Vec<(u64, u64)>,
}

fn parse_rename(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s.split_once(':').ok_or_else(|| format!("expected FROM:TO, got {s:?}"))?;
    let n = |x: &str| x.trim().parse::<u64>().map_err(|_| format!("{x:?} is not a database number"));
    Ok((n(a)?, n(b)?))
}
