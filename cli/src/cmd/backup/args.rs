//! Arguments of `rdbkit backup`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

pub use crate::args::ServerArgs;

#[derive(Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: BackupCommand,
}

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Take a backup now: snapshot, verify while streaming, compress, upload, manifest.
    ///
    /// The snapshot is taken over the replication protocol (like redis-cli --rdb), so
    /// the server writes nothing to its disk for it. The backup counts as complete only
    /// once every part is stored and checked and the manifest is written; a failure
    /// leaves no complete backup and exits non-zero. Quiet unless it fails (-v prints a
    /// summary). Exit codes: 0 done, 1 bad data, 2 usage, 3 I/O, network or server.
    #[command(after_help = "Examples:\n  \
REDISCLI_AUTH=secret rdbkit backup run --source redis://10.0.0.5:6379 --repo /srv/backups/cache\n  \
rdbkit backup run --source redis+sentinel://10.0.0.9:26379/main --repo s3://backups/main --keep-daily 7\n  \
rdbkit backup run --source redis://10.0.0.5:7000 --cluster --repo s3://backups/shop --metrics /var/lib/node_exporter/rdbkit.prom\n  \
rdbkit backup run --source /var/lib/redis/appendonlydir --repo /srv/backups/aof")]
    Run(RunArgs),
    /// List the complete backups of a repository, oldest first.
    #[command(after_help = "Examples:\n  rdbkit backup list --repo s3://backups/cache\n  \
rdbkit backup list --repo /srv/backups/cache --format json | jq '.[-1].id'")]
    List(ListArgs),
    /// Download a backup, check every SHA-256, decompress and parse it, compare with its
    /// manifest. Exits 1 on any mismatch.
    #[command(after_help = "Examples:\n  rdbkit backup verify --repo s3://backups/cache\n  \
rdbkit backup verify --repo /srv/backups/cache 20260601T030000Z-4f2a9c")]
    Verify(VerifyBackupArgs),
    /// Restore a backup to a file (-o, written atomically after it checks out) or into a
    /// running server or cluster (--into).
    #[command(
        after_help = "Examples:\n  rdbkit backup restore --repo s3://backups/cache latest -o /var/lib/redis/dump.rdb\n  \
rdbkit backup restore --repo s3://backups/shop latest --into redis://10.0.0.7:7000 --cluster\n  \
rdbkit backup restore --repo /srv/backups/aof latest -o /var/lib/redis/appendonlydir"
    )]
    Restore(RestoreBackupArgs),
    /// Remove backups the retention policy does not keep (never the newest), and the
    /// leftovers of failed runs. Prints what it keeps and removes.
    #[command(
        after_help = "Examples:\n  rdbkit backup prune --repo s3://backups/cache --keep-last 3 --keep-daily 7 --dry-run\n  \
rdbkit backup prune --repo /srv/backups/cache --keep-daily 7 --keep-weekly 4 --keep-monthly 12"
    )]
    Prune(PruneArgs),
    /// Run backups on a cron schedule in the foreground (for systemd or Kubernetes).
    ///
    /// One JSON line per run on stdout. SIGTERM or SIGINT lets the current run finish,
    /// then exits 0. Schedules follow the local time zone (TZ).
    #[command(after_help = "Examples:\n  \
rdbkit backup schedule --cron '0 3 * * *' --source redis://10.0.0.5:6379 --repo s3://backups/cache --keep-daily 7\n  \
rdbkit backup schedule --config /etc/rdbkit/rdbkit.toml")]
    Schedule(ScheduleArgs),
}

/// Where the repository is, and how to reach S3.
#[derive(Args, Clone)]
pub struct RepoArgs {
    /// Repository: a directory, file:///path, or s3://bucket/prefix (region and
    /// credentials from the standard AWS chain: AWS_REGION, AWS_ACCESS_KEY_ID, profiles,
    /// web identity, instance roles).
    #[arg(long, value_name = "REPO")]
    pub repo: String,
    #[command(flatten)]
    pub s3: S3Args,
}

/// How to reach S3.
#[derive(Args, Clone)]
pub struct S3Args {
    /// S3-compatible endpoint (MinIO, R2, Ceph): https://minio.example:9000.
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Path-style S3 requests (endpoint/bucket/key), which most S3-compatible servers need.
    #[arg(long)]
    pub path_style: bool,
    /// Server-side encryption of stored objects: AES256 or aws:kms.
    #[arg(long, value_name = "ALG")]
    pub sse: Option<String>,
    /// KMS key for --sse aws:kms (default: the account's S3 key).
    #[arg(long, value_name = "KEY")]
    pub sse_kms_key_id: Option<String>,
}

/// Compression of stored parts.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum CompressArg {
    /// Zstandard (default).
    Zstd,
    /// gzip.
    Gzip,
    /// None.
    None,
}

/// Retention flags.
#[derive(Args, Clone, Default)]
pub struct KeepArgs {
    /// Keep the newest N backups.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_last: u32,
    /// Keep the newest backup of each of the last N days (UTC).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_daily: u32,
    /// Keep the newest backup of each of the last N ISO weeks.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_weekly: u32,
    /// Keep the newest backup of each of the last N months.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_monthly: u32,
}

/// A backup job given by flags (`--source` and `--repo` are required).
#[derive(Args, Clone)]
pub struct JobArgs {
    /// Required: redis://, rediss://, redis+sentinel://HOST:26379/MASTER, an RDB file, or
    /// an AOF directory.
    #[arg(long, value_name = "SRC")]
    pub source: Option<String>,
    /// Required: a directory, file:///path, or s3://bucket/prefix (region and credentials
    /// from the standard AWS chain: AWS_REGION, AWS_ACCESS_KEY_ID, profiles, web
    /// identity, instance roles).
    #[arg(long, value_name = "REPO")]
    pub repo: Option<String>,
    #[command(flatten)]
    pub s3: S3Args,
    /// The source is a cluster node: back up every master, in parallel, into one backup.
    #[arg(long)]
    pub cluster: bool,
    /// Compression.
    #[arg(long, value_enum, default_value = "zstd")]
    pub compress: CompressArg,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Read the Sentinels' own password from this file.
    #[arg(long, value_name = "FILE")]
    pub sentinel_password_file: Option<PathBuf>,
    /// After the backup, prune with this policy.
    #[command(flatten)]
    pub keep: KeepArgs,
    /// Write a Prometheus textfile (last success, duration, bytes, keys) after the run.
    #[arg(long, value_name = "FILE")]
    pub metrics: Option<PathBuf>,
}

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub job: JobArgs,
    /// Print a summary line on success.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Output format of `list` and `prune`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ListFormat {
    /// A table for people.
    Table,
    /// JSON.
    Json,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Args)]
pub struct VerifyBackupArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Backup ID, or `latest`.
    #[arg(default_value = "latest", value_name = "ID")]
    pub id: String,
}

#[derive(Args)]
pub struct RestoreBackupArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Backup ID, or `latest`.
    #[arg(default_value = "latest", value_name = "ID")]
    pub id: String,
    /// Write the dump here (a directory for backups of several parts: clusters, AOF).
    #[arg(short, long, value_name = "PATH", conflicts_with = "into", required_unless_present = "into")]
    pub output: Option<PathBuf>,
    /// Load the backup into this server (redis:// or rediss://).
    #[arg(long, value_name = "URL")]
    pub into: Option<String>,
    /// The --into server is a cluster node.
    #[arg(long, requires = "into")]
    pub cluster: bool,
    /// Overwrite keys that exist.
    #[arg(long, requires = "into")]
    pub replace: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub keep: KeepArgs,
    /// Show what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

#[derive(Args)]
pub struct ScheduleArgs {
    /// Jobs from a TOML file: [[job]] tables with source, repo, schedule, keep_* ...
    /// (docs/backup.md).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["cron", "source", "repo"])]
    pub config: Option<PathBuf>,
    /// Cron expression for the job given by flags: "0 3 * * *" (minute hour day month
    /// weekday; a sixth leading field is seconds), @daily, @hourly.
    #[arg(long, value_name = "EXPR", required_unless_present = "config", requires_all = ["source", "repo"])]
    pub cron: Option<String>,
    /// The job (flags as for `backup run`).
    #[command(flatten)]
    pub job: JobArgs,
}
