//! Real AOFs for the AOF tests: the server lines, an AOF written under the randomized
//! workload, a server started on an AOF.

use std::path::{Path, PathBuf};

use testkit::servers::{Flavor, ServerBin, ServerLine};
use testkit::workload::{self, Workload};
use testkit::{ExpiryLog, ServerGuard, StartOptions};

/// Server lines whose AOFs are tested: every expected line from Redis 6.2 on (those
/// write AOFs of today's formats; 5.0 and 6.0 AOFs are covered by the shared fixtures).
fn lines() -> Vec<ServerLine> {
    testkit::EXPECTED_SERVERS
        .into_iter()
        .filter(|&(f, major, minor)| f != Flavor::Redis || (major, minor) >= (6, 2))
        .collect()
}

/// The installed servers of [`lines`] (a missing one fails with RDBKIT_REQUIRE_SERVERS=1).
pub fn servers() -> Vec<ServerBin> {
    testkit::require(&lines()).expect("servers")
}

/// Options of a real AOF.
#[derive(Clone, Copy)]
pub struct AofKind {
    pub preamble: bool,
    pub timestamps: bool,
    pub rounds: usize,
}

/// Writes a real AOF with `server` under the workload (a rewrite half way); returns the server
/// directory's AOF (appendonlydir or appendonly.aof) copied to `into`.
pub fn real_aof(server: &ServerBin, preamble: bool, into: &Path) -> PathBuf {
    real_aof_with(server, AofKind { preamble, timestamps: false, rounds: 12 }, into).0
}

/// [`real_aof`] with options; also returns the absolute expiries the workload set.
pub fn real_aof_with(server: &ServerBin, kind: AofKind, into: &Path) -> (PathBuf, ExpiryLog) {
    let preamble = kind.preamble;
    let mut extra: Vec<String> = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--aof-use-rdb-preamble",
        if preamble { "yes" } else { "no" },
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if kind.timestamps {
        extra.extend(["--aof-timestamp-enabled".to_string(), "yes".to_string()]);
    }
    let opts = StartOptions { extra_args: extra, ..StartOptions::default() };
    let guard = ServerGuard::start_with(server, &opts).expect("start");
    let mut conn = guard.conn().expect("conn");
    let w = Workload { rounds: kind.rounds, clock_ticks: if kind.timestamps { 2 } else { 0 }, ..Workload::default() };
    let expiries = workload::run(&mut conn, server.features(), &w).expect("workload");
    workload::wait_rewrite(&mut conn).expect("rewrite done");
    let multi = guard.dir().join("appendonlydir");
    let dest = into.join(format!(
        "{}-{}{}",
        server.name(),
        if preamble { "rdb" } else { "resp" },
        if kind.timestamps { "-ts" } else { "" }
    ));
    std::fs::create_dir_all(&dest).expect("mkdir");
    if multi.is_dir() {
        testkit::guard::copy_aof(&multi, &dest).expect("copy");
        (dest.join("appendonlydir"), expiries)
    } else {
        testkit::guard::copy_aof(&guard.dir().join("appendonly.aof"), &dest).expect("copy");
        (dest.join("appendonly.aof"), expiries)
    }
}

/// A server started on a copy of `aof` (appendonly yes), ready once loaded.
pub fn load_aof(server: &ServerBin, aof: &Path) -> ServerGuard {
    let opts = StartOptions {
        extra_args: vec!["--appendonly".into(), "yes".into()],
        aof: Some(aof.to_path_buf()),
        ready_timeout: std::time::Duration::from_secs(60),
        ..StartOptions::default()
    };
    ServerGuard::start_with(server, &opts).unwrap_or_else(|e| panic!("{server} on {}: {e:#}", aof.display()))
}
