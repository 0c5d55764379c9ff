//! Arguments of `rdbkit aof`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Args)]
pub struct AofArgs {
    #[command(subcommand)]
    pub command: AofCommand,
}

#[derive(Subcommand)]
pub enum AofCommand {
    /// Check an AOF like redis-check-aof: same verdict, same "ok up to" offset.
    ///
    /// PATH is an appendonlydir, its manifest, a data directory, or one AOF file. With
    /// --fix the torn or broken tail of the last file is cut (the original is kept as a
    /// backup, the cut file replaces it atomically); with --truncate-to-timestamp the last
    /// file is cut at the first `#TS:` annotation later than the time. Never prompts.
    /// Exits 0 when the AOF is (now) valid, 1 when it is not, 3 on I/O errors.
    #[command(after_help = "Examples:\n  rdbkit aof check /var/lib/redis/appendonlydir\n  \
rdbkit aof check /var/lib/redis/appendonlydir --fix --dry-run\n  \
rdbkit aof check appendonlydir --truncate-to-timestamp $(date -d '10:42' +%s)")]
    Check(CheckArgs),
    /// Parts, sizes, commands per name, transactions and the time range of `#TS:` marks.
    #[command(
        after_help = "Examples:\n  rdbkit aof info /var/lib/redis/appendonlydir\n  rdbkit aof info appendonly.aof --format json"
    )]
    Info(InfoArgs),
    /// Compact an AOF offline: replay it and write a new base, an empty incr file and a
    /// manifest into OUTDIR (written under a temporary name, then renamed).
    ///
    /// The result holds what the server would hold after loading the input (a torn tail
    /// of the last file is left out, as the server leaves it out). OUTDIR must not exist
    /// or be empty; point the server's `appenddirname` at it, or move it into place while
    /// the server is stopped.
    #[command(
        after_help = "Examples:\n  rdbkit aof rewrite /var/lib/redis/appendonlydir -o /var/lib/redis/appendonlydir.new\n  \
rdbkit aof rewrite appendonly.aof -o newdir --target redis-7.0 --preamble resp"
    )]
    Rewrite(RewriteArgs),
}

#[derive(Args)]
pub struct RewriteArgs {
    /// The AOF: appendonlydir, manifest, data directory or single file.
    pub path: PathBuf,
    /// Directory to create.
    #[arg(short, long, value_name = "OUTDIR")]
    pub output: PathBuf,
    /// Base format: rdb (the default, as servers write it) or resp (commands; like the
    /// servers' own RESP rewrite it cannot keep pending stream entries whose entry was
    /// deleted).
    #[arg(long, value_name = "FORMAT")]
    pub preamble: Option<String>,
    /// Server that will load the result (default: the one that wrote the input's base).
    #[arg(long, value_name = "SERVER")]
    pub target: Option<String>,
    #[command(flatten)]
    pub replay: super::replay::ReplayArgs,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The AOF: appendonlydir, manifest, data directory or single file.
    pub path: PathBuf,
    /// Cut the invalid tail of the last file (keeps a backup).
    #[arg(long, conflicts_with = "truncate_to_timestamp")]
    pub fix: bool,
    /// Cut the last file at the first `#TS:` annotation later than this Unix time (seconds).
    #[arg(long, value_name = "UNIX_S")]
    pub truncate_to_timestamp: Option<i64>,
    /// Show what --fix or --truncate-to-timestamp would cut; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where to keep the original of a cut file (default: next to it).
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct InfoArgs {
    /// The AOF: appendonlydir, manifest, data directory or single file.
    pub path: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: crate::args::ReportFormat,
}
