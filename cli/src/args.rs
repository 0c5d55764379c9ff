//! Command-line arguments (clap derive). Doc comments become `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Tools for Redis and Valkey persistence files.
///
/// Exit codes: 0 success, 1 invalid or unsupported data, 2 usage error,
/// 3 I/O, network or server error.
#[derive(Parser)]
#[command(name = "rdbkit", version, propagate_version = true, max_term_width = 100)]
#[command(after_help = "Examples:\n  rdbkit info dump.rdb\n  rdbkit verify /backups/*.rdb\n  \
rdbkit convert dump.rdb --to ndjson -o dump.ndjson\n  rdbkit convert dump.rdb --to resp | redis-cli --pipe")]
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
    /// Convert a dump to JSON, NDJSON or a RESP command stream.
    ///
    /// NDJSON has one record per key (docs/ndjson.md); JSON is the same records as one
    /// array; RESP recreates the dataset when piped into `redis-cli --pipe`. Keys the
    /// servers would skip when loading (empty collections) are left out.
    #[command(after_help = "Examples:\n  rdbkit convert dump.rdb --to ndjson -o dump.ndjson\n  \
rdbkit convert dump.rdb --to json --db 0 --key 'user:*' --type hash\n  \
cat dump.rdb | rdbkit convert - --to resp | redis-cli -p 6380 --pipe")]
    Convert(ConvertArgs),
}

/// Output format of `info` and `verify`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    /// Human-readable text.
    Text,
    /// Machine-readable JSON.
    Json,
}

#[derive(Args)]
pub struct InfoArgs {
    /// The RDB file (`-` for stdin).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// RDB files to check (`-` for stdin).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
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
    /// Only keys of this type: string, list, set, zset, hash, stream, module (repeatable).
    #[arg(long = "type", value_name = "T")]
    pub types: Vec<String>,
}

#[derive(Args)]
pub struct ConvertArgs {
    /// The RDB file (`-` for stdin).
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub to: ConvertTo,
    /// Output file (default: stdout). Written to a temporary name, then renamed.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub filter: FilterArgs,
}
