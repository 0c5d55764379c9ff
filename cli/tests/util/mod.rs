//! Helpers shared by the integration tests: run the built `rdbkit`, find fixtures.

#![allow(dead_code)]

pub mod aof;
pub mod dumps;
pub mod tls;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Path of the binary under test.
pub fn rdbkit_bin() -> &'static str {
    env!("CARGO_BIN_EXE_rdbkit")
}

/// Runs `rdbkit` with `args` and returns its output.
pub fn rdbkit(args: &[&str]) -> Output {
    Command::new(rdbkit_bin()).args(args).stdin(Stdio::null()).output().expect("run rdbkit")
}

/// The exit code, stdout and stderr of a run, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).chars().take(2000).collect::<String>(),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Converts a dump to NDJSON records with `rdbkit convert` (which must succeed).
pub fn convert_ndjson(dump: &Path) -> Vec<serde_json::Value> {
    let out = rdbkit(&["convert", "--to", "ndjson", path_str(dump)]);
    assert_eq!(out.status.code(), Some(0), "convert {}: {}", dump.display(), describe(&out));
    String::from_utf8(out.stdout)
        .expect("NDJSON is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The shared reference fixtures (`$RDBKIT_SHARED_FIXTURES`, default `../shared/fixtures`
/// beside the repository), when present.
pub fn shared_fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("RDBKIT_SHARED_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/fixtures"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipping: no shared fixtures at {}", dir.display());
        None
    }
}

/// Server fixture directories (those holding `dump.rdb` and `expected.ndjson`) under `root`.
pub fn server_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("read fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("dump.rdb").is_file() && p.join("expected.ndjson").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Converts a dump to NDJSON records with extra `convert` arguments (which must succeed).
pub fn convert_ndjson_args(args: &[&str], dump: &str) -> Vec<serde_json::Value> {
    let mut all = vec!["convert", "--to", "ndjson"];
    all.extend_from_slice(args);
    all.push(dump);
    let out = rdbkit(&all);
    assert_eq!(out.status.code(), Some(0), "{all:?}: {}", describe(&out));
    String::from_utf8(out.stdout)
        .expect("NDJSON is UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The key of an NDJSON record as bytes (a JSON string, or `{"base64": ...}`).
pub fn key_bytes(record: &serde_json::Value) -> Vec<u8> {
    use base64::Engine;
    match &record["key"] {
        serde_json::Value::String(s) => s.as_bytes().to_vec(),
        other => base64::engine::general_purpose::STANDARD
            .decode(other["base64"].as_str().expect("a base64 key"))
            .expect("valid base64"),
    }
}

/// Runs `rdbkit restore` with `args` (and no `REDISCLI_AUTH` from the environment).
pub fn run_restore(args: &[&str]) -> Output {
    Command::new(rdbkit_bin()).arg("restore").args(args).env_remove("REDISCLI_AUTH").output().expect("run rdbkit")
}

/// Every installed server (all the expected ones under RDBKIT_REQUIRE_SERVERS=1);
/// `None`, after a note, when there are none.
pub fn installed_servers() -> Option<Vec<testkit::ServerBin>> {
    let servers = testkit::require_all().expect("servers (RDBKIT_REQUIRE_SERVERS)");
    if servers.is_empty() {
        eprintln!("skipping: no servers installed (run scripts/install-servers.sh)");
        return None;
    }
    Some(servers)
}

/// Runs `check` on every installed server and fails with all their failures.
pub fn check_each_server(check: impl Fn(&testkit::ServerBin) -> anyhow::Result<()>) {
    let Some(servers) = installed_servers() else { return };
    let failures: Vec<String> = servers.iter().filter_map(|s| check(s).err().map(|e| format!("{e:#}"))).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The installed Redis 7, or `None` after printing "skipping" (a failure when servers
/// are required).
pub fn redis7() -> Option<testkit::ServerBin> {
    let all = testkit::require_all().expect("servers (RDBKIT_REQUIRE_SERVERS)");
    let found = all.into_iter().find(|s| s.flavor == testkit::Flavor::Redis && s.version.0 == 7);
    if found.is_none() {
        eprintln!("skipping: no Redis 7 installed");
    }
    found
}
