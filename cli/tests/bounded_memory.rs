//! Peak memory of every command on a big dump: each must stay under 100 MB (10^8 bytes)
//! of RSS when no single key is larger than 64 MB, however many keys the dump holds, and
//! on a dump of big keys (one of each type just under 64 MiB of `MEMORY USAGE`).
//!
//! Ignored by default (they need dumps made by real servers, and minutes): `bench/run.sh
//! rss` makes a multi-GB one with millions of keys and one of big keys, and runs them
//! with `RDBKIT_BIG_DUMP` and `RDBKIT_BIG_KEYS_DUMP` set.

mod util;

use std::ffi::OsString;
use std::process::{Command, Stdio};

use testkit::{Flavor, ServerGuard};

use nix::sys::resource::{getrusage, UsageWho};

const LIMIT_BYTES: i64 = 100_000_000;

#[test]
#[ignore = "needs RDBKIT_BIG_DUMP, a multi-GB dump (bench/run.sh rss makes one)"]
fn every_command_stays_under_100_mb() -> anyhow::Result<()> {
    let dump = std::env::var_os("RDBKIT_BIG_DUMP").ok_or_else(|| anyhow::anyhow!("set RDBKIT_BIG_DUMP"))?;
    let commands: &[(&str, &[&str])] = &[
        ("verify", &["verify"]),
        ("info", &["info"]),
        ("info --format json", &["info", "--format", "json"]),
        ("convert --to ndjson", &["convert", "--to", "ndjson", "-o", "/dev/null"]),
        ("convert --to json", &["convert", "--to", "json", "-o", "/dev/null"]),
        ("convert --to resp", &["convert", "--to", "resp", "-o", "/dev/null"]),
        ("convert --to rdb", &["convert", "--to", "rdb", "-o", "/dev/null"]),
        (
            "convert --to rdb --target redis-6.2",
            &["convert", "--to", "rdb", "--target", "redis-6.2", "--lossy", "-o", "/dev/null"],
        ),
        ("convert --to aof", &["convert", "--to", "aof"]),
        ("memory --format csv", &["memory", "--format", "csv", "-o", "/dev/null"]),
        ("memory --format json", &["memory", "--format", "json", "-o", "/dev/null"]),
        ("memory (table, prefix tree)", &["memory", "--by-prefix", ":", "-o", "/dev/null"]),
        (
            "memory --format summary-json",
            &["memory", "--format", "summary-json", "--by-prefix", ":/", "-o", "/dev/null"],
        ),
        ("memory --html", &["memory", "--format", "csv", "-o", "/dev/null", "--html"]),
    ];
    each_under_limit(&dump, commands)
}

/// Every command on a dump of big keys, `restore` included: into a fresh Redis 7.0 (the
/// dump's version: payloads copied) and into the oldest installed Redis (payloads
/// rewritten for it), when those servers are installed.
#[test]
#[ignore = "needs RDBKIT_BIG_KEYS_DUMP, a dump of big keys (bench/run.sh rss makes one)"]
fn big_keys_stay_under_100_mb() -> anyhow::Result<()> {
    let dump = std::env::var_os("RDBKIT_BIG_KEYS_DUMP").ok_or_else(|| anyhow::anyhow!("set RDBKIT_BIG_KEYS_DUMP"))?;
    let fixed: &[(&str, &[&str])] = &[
        ("verify", &["verify"]),
        ("info", &["info"]),
        ("convert --to ndjson", &["convert", "--to", "ndjson", "-o", "/dev/null"]),
        ("convert --to json", &["convert", "--to", "json", "-o", "/dev/null"]),
        ("convert --to resp", &["convert", "--to", "resp", "-o", "/dev/null"]),
        ("convert --to rdb", &["convert", "--to", "rdb", "-o", "/dev/null"]),
        (
            "convert --to rdb --target redis-6.2",
            &["convert", "--to", "rdb", "--target", "redis-6.2", "--lossy", "-o", "/dev/null"],
        ),
        ("convert --to aof", &["convert", "--to", "aof"]),
        ("memory --format csv", &["memory", "--format", "csv", "-o", "/dev/null"]),
        ("memory --html", &["memory", "--format", "csv", "-o", "/dev/null", "--html"]),
    ];
    // The servers run until every command is measured: the peak read is that of the
    // children waited for, which a stopped server would then be.
    let redis: Vec<_> =
        util::installed_servers().unwrap_or_default().into_iter().filter(|s| s.flavor == Flavor::Redis).collect();
    let same = redis.iter().find(|s| s.version.0 == 7 && s.version.1 == 0);
    let oldest = redis.iter().min_by_key(|s| s.version);
    let servers = same.into_iter().chain(oldest).map(ServerGuard::start).collect::<Result<Vec<_>, _>>()?;
    let restores: Vec<(String, [String; 4])> = servers
        .iter()
        .zip(same.into_iter().chain(oldest))
        .map(|(guard, s)| {
            (format!("restore into {}", s.name()), ["restore".into(), "--to".into(), guard.url(), "--lossy".into()])
        })
        .collect();
    let restore_args: Vec<Vec<&str>> = restores.iter().map(|(_, a)| a.iter().map(String::as_str).collect()).collect();
    let mut commands: Vec<(&str, &[&str])> = fixed.to_vec();
    commands.extend(restores.iter().zip(&restore_args).map(|((name, _), args)| (name.as_str(), args.as_slice())));
    each_under_limit(&dump, &commands)
}

/// Runs each command on `dump` (`--html` and `--to aof` get a path of their own) and
/// checks its peak RSS.
fn each_under_limit(dump: &OsString, commands: &[(&str, &[&str])]) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let html = dir.path().join("report.html").into_os_string();
    let aof = dir.path().join("appendonlydir").into_os_string();
    let mut highest = 0i64;
    for (name, args) in commands {
        let mut argv: Vec<OsString> = vec![args[0].into(), dump.clone(), "-q".into()];
        argv.extend(args[1..].iter().map(OsString::from));
        if *name == "memory --html" {
            argv.push(html.clone());
        }
        if *name == "convert --to aof" {
            let _ = std::fs::remove_dir_all(&aof);
            argv.extend(["-o".into(), aof.clone()]);
        }
        let status = Command::new(env!("CARGO_BIN_EXE_rdbkit")).args(&argv).stdout(Stdio::null()).status()?;
        assert!(status.success(), "{name}: {status}");
        // The highest peak of all children so far: a command that raises it is measured
        // exactly, one that does not used at most that much.
        let peak = getrusage(UsageWho::RUSAGE_CHILDREN)?.max_rss() * 1024;
        let mib = |b: i64| b as f64 / 1048576.0;
        let shown =
            if peak > highest { format!("{:.1} MiB", mib(peak)) } else { format!("<= {:.1} MiB", mib(highest)) };
        println!("peak RSS {name}: {shown}");
        highest = highest.max(peak);
        assert!(peak < LIMIT_BYTES, "{name}: peak RSS {peak} bytes, limit {LIMIT_BYTES}");
    }
    Ok(())
}
