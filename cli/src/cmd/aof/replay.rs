//! Replaying an AOF for `aof rewrite` and `convert`: progress, warnings, the target.

use std::path::Path;

use aof_tools::dataset::Dataset;
use aof_tools::replay::{ReplayOptions, ReplayStats, Replayer};
use aof_tools::{read_layout, Layout, ReadOptions};
use rdb_parser::Target;

use crate::exit::usage;

/// Memory settings shared by the commands that replay.
#[derive(clap::Args, Clone)]
pub struct ReplayArgs {
    /// Fail cleanly once rdbkit uses more memory than this (e.g. 8G, 512M); default:
    /// the memory available when it starts.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_budget: Option<u64>,
    /// Replay only up to the first `#TS:` annotation later than this Unix time (seconds).
    #[arg(long, value_name = "UNIX_S")]
    pub until: Option<i64>,
}

/// `4G`, `512M`, `100k`, or bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mul) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_lowercase() {
                'k' => 1u64 << 10,
                'm' => 1 << 20,
                'g' => 1 << 30,
                't' => 1 << 40,
                _ => return Err(format!("unknown size suffix in {s:?} (k, M, G, T)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    num.parse::<u64>().map(|n| n * mul).map_err(|_| format!("{s:?} is not a size"))
}

/// `MemAvailable` of /proc/meminfo, less 256 MiB.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some((kb * 1024).saturating_sub(256 << 20))
}

/// A replayed AOF.
pub struct Replayed {
    pub layout: Layout,
    pub data: Dataset,
    pub stats: ReplayStats,
}

/// Reads and replays the AOF at `path`, printing what a user must know on stderr.
pub fn replay(path: &Path, args: &ReplayArgs, quiet: bool) -> anyhow::Result<Replayed> {
    let layout = Layout::open(path)?;
    let (bar, progress) = super::progress(layout.total_bytes(), quiet);
    let options = ReplayOptions {
        until: args.until,
        memory_budget: args.memory_budget.or_else(available_memory),
        ..ReplayOptions::default()
    };
    let mut r = Replayer::new(options);
    read_layout(&layout, &ReadOptions { progress, ..ReadOptions::default() }, &mut r)?;
    drop(bar);
    let (data, stats) = r.finish();
    for t in &stats.torn_tails {
        eprintln!("warning: {t}");
    }
    if stats.failed > 0 {
        eprintln!(
            "warning: {} command(s) failed as they fail on the server (they changed nothing); the first:",
            stats.failed
        );
        for f in &stats.failures {
            eprintln!("  {f}");
        }
    }
    if let Some(at) = &stats.stopped_at {
        eprintln!("note: stopped at the #TS: annotation at {at} (later than --until)");
    }
    Ok(Replayed { layout, data, stats })
}

/// `--target`, else the server that wrote the base, else the oldest server of the layout.
pub fn resolve_target(name: Option<&str>, r: &Replayed) -> anyhow::Result<Target> {
    if let Some(name) = name {
        return Target::named(name).ok_or_else(|| {
            usage(format!("unknown --target {name:?}; known: {}", Target::names().collect::<Vec<_>>().join(", ")))
        });
    }
    if let Some((valkey, v)) = &r.stats.source {
        let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let version = (it.next().unwrap_or(0), it.next().unwrap_or(0));
        if let Some(t) = Target::for_server(*valkey, version) {
            return Ok(t);
        }
    }
    if let Some(h) = r.stats.base_header {
        if let Ok(t) = Target::for_version(h.version, h.dialect == rdb_parser::Dialect::Valkey) {
            return Ok(t);
        }
    }
    let name = if r.layout.is_multi_part() { "redis-7.0" } else { "redis-6.2" };
    Target::named(name).ok_or_else(|| usage("no default target"))
}
