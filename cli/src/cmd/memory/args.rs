//! Arguments of `rdbkit memory`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use rdb_parser::memory::{Allocator, VersionSpec};

use crate::args::FilterArgs;

/// Output format of `memory`.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum MemoryFormat {
    /// A summary for people: totals, expiries, biggest keys, prefixes.
    Table,
    /// One row per key: database,type,key,size_in_bytes,encoding,num_elements,
    /// len_largest_element,expiry.
    Csv,
    /// One JSON object per key and line (NDJSON).
    Json,
    /// The summary as one JSON document.
    SummaryJson,
}

#[derive(Args)]
pub struct MemoryArgs {
    /// The RDB file (`-` for stdin).
    pub file: PathBuf,
    #[command(flatten)]
    pub read: crate::args::ReadArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: MemoryFormat,
    /// Output file (default: stdout). Written to a temporary name, then renamed.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Also write a self-contained HTML report: treemap of the key prefixes and the
    /// biggest keys (prefixes split at `:` unless --by-prefix says otherwise).
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
    /// How many of the biggest keys (and of the keys with the biggest elements) the
    /// summary lists.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,
    /// Group keys into a tree of prefixes, splitting names at any of these characters
    /// (e.g. ':' or ':/.'); numeric, hex and UUID-like parts count as `*`.
    #[arg(long, value_name = "SEPS")]
    pub by_prefix: Option<String>,
    /// Levels of the prefix tree.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub depth: u16,
    /// Most prefixes kept in the tree; keys that would need more are counted under their
    /// deepest kept prefix as "other".
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_prefixes: u32,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only keys using at least this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pub min_bytes: u64,
    /// The server's allocator: jemalloc (official builds and Docker images), jemalloc-16
    /// (distribution packages linked to the system jemalloc), libc.
    #[arg(long, value_name = "NAME", default_value = "jemalloc", value_parser = parse_allocator)]
    pub allocator: Allocator,
    /// Estimate for this server version (X.Y, redis-X.Y or valkey-X.Y) instead of the
    /// one that wrote the dump.
    #[arg(long, value_name = "X.Y", value_parser = parse_version)]
    pub server_version: Option<VersionSpec>,
}

fn parse_allocator(s: &str) -> Result<Allocator, String> {
    Allocator::from_name(s).ok_or_else(|| format!("unknown allocator {s:?}; expected jemalloc, jemalloc-16 or libc"))
}

fn parse_version(s: &str) -> Result<VersionSpec, String> {
    s.parse()
}
