//! Helpers of the backup tests: repositories (a local directory or a bucket on a real
//! S3 server), running `rdbkit backup`, filling servers, comparing restored data.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use testkit::ndjson::compare;
use testkit::{ExpiryLog, S3Server, ServerBin, ServerGuard};

#[path = "../util/mod.rs"]
mod util;
#[allow(unused_imports)]
pub use util::{describe, path_str, rdbkit, rdbkit_bin};

/// Where backups go in a test.
pub enum Repo {
    /// A local directory.
    Local(tempfile::TempDir),
    /// A bucket on a real S3 server.
    S3(S3Server),
}

/// The bucket every S3 test repository uses.
pub const BUCKET: &str = "rdbkit-backups";

impl Repo {
    pub fn local() -> Repo {
        Repo::Local(tempfile::tempdir().expect("temp dir"))
    }

    /// A repository on a fresh s3s-fs, or `None` when s3s-fs is missing (skip).
    pub fn s3() -> Option<Repo> {
        let binary = testkit::require_s3s_fs().expect("s3s-fs (RDBKIT_REQUIRE_SERVERS)")?;
        let server = S3Server::start(&binary).expect("start s3s-fs");
        server.create_bucket(BUCKET).expect("bucket");
        Some(Repo::S3(server))
    }

    /// `--repo ...` and the S3 flags.
    pub fn args(&self) -> Vec<String> {
        match self {
            Repo::Local(dir) => vec!["--repo".into(), format!("{}/repo", path_str(dir.path()))],
            Repo::S3(s) => vec![
                "--repo".into(),
                format!("s3://{BUCKET}/nightly"),
                "--endpoint".into(),
                s.endpoint(),
                "--path-style".into(),
            ],
        }
    }

    /// Environment of every rdbkit run.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        match self {
            Repo::Local(_) => Vec::new(),
            Repo::S3(s) => s.env(),
        }
    }

    /// The directory holding the repository's objects (for inspection and damage).
    pub fn root(&self) -> PathBuf {
        match self {
            Repo::Local(dir) => dir.path().join("repo"),
            Repo::S3(s) => s.root().join(BUCKET).join("nightly"),
        }
    }
}

/// `rdbkit -q backup <sub> <args> <repo args>` with the repository's environment.
pub fn backup_cmd(repo: &Repo, sub: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(rdbkit_bin());
    cmd.args(["-q", "backup", sub]).args(args).args(repo.args()).stdin(Stdio::null());
    for var in ["REDISCLI_AUTH", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
        cmd.env_remove(var);
    }
    // Never ask an instance metadata service, whatever the test forgot to set.
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in repo.env() {
        cmd.env(k, v);
    }
    cmd
}

/// Runs `rdbkit backup <sub>` to the end.
pub fn backup(repo: &Repo, sub: &str, args: &[&str]) -> Output {
    backup_cmd(repo, sub, args).output().expect("run rdbkit backup")
}

/// Starts `rdbkit backup <sub>` without waiting.
pub fn spawn_backup(repo: &Repo, sub: &str, args: &[&str]) -> Child {
    backup_cmd(repo, sub, args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn rdbkit backup")
}

/// Asserts the exit code, with the output in the message.
pub fn expect_code(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}: {}", describe(out));
}

/// The complete backups, as `backup list --format json` prints them.
pub fn list(repo: &Repo) -> Vec<Value> {
    let out = backup(repo, "list", &["--format", "json"]);
    expect_code(&out, 0, "backup list");
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap_or_else(|e| panic!("list JSON: {e}: {}", describe(&out)))
}

/// `redis://127.0.0.1:<port>`.
pub fn url(guard: &ServerGuard) -> String {
    format!("redis://127.0.0.1:{}", guard.port())
}

/// Adds `mb` MiB of incompressible string values (keys `big:N`, 1 MiB each).
pub fn fill_random(guard: &ServerGuard, mb: usize, seed: u64) {
    let mut conn = guard.conn().expect("conn");
    let mut x = seed | 1;
    for i in 0..mb {
        let mut value = Vec::with_capacity(1 << 20);
        for _ in 0..(1 << 17) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            value.extend_from_slice(&x.to_le_bytes());
        }
        redis::cmd("SET").arg(format!("big:{i}")).arg(value).exec(&mut conn).expect("SET");
    }
}

/// What a server holds: DEBUG DIGEST and every key as records.
pub struct Contents {
    pub digest: String,
    pub records: Vec<Value>,
}

pub fn contents(guard: &ServerGuard, expiries: &ExpiryLog) -> Contents {
    let digest = guard.digest().expect("DEBUG DIGEST");
    let records = testkit::live::dump_live(&mut guard.conn().expect("conn"), expiries).expect("read back");
    Contents { digest, records }
}

/// Starts a fresh `server` on `rdb` and checks it holds `expected`.
pub fn assert_loads_as(server: &ServerBin, rdb: &Path, expected: &Contents, expiries: &ExpiryLog, what: &str) {
    let fresh =
        ServerGuard::start_with_rdb(server, rdb).unwrap_or_else(|e| panic!("{what}: load {}: {e:#}", rdb.display()));
    let got = contents(&fresh, expiries);
    assert_eq!(got.digest, expected.digest, "{what}: DEBUG DIGEST after loading the restored dump");
    compare(&expected.records, &got.records).unwrap_or_else(|d| panic!("{what}: {d}"));
}

/// The servers to test, or none (skipping) when they are not installed.
pub fn servers(lines: &[testkit::servers::ServerLine]) -> Vec<ServerBin> {
    let s = testkit::require(lines).expect("servers (RDBKIT_REQUIRE_SERVERS)");
    if s.is_empty() {
        eprintln!("skipping: servers not installed (run scripts/install-servers.sh)");
    }
    s
}

/// Extra server arguments for replication snapshots: diskless or not, no delay.
pub fn diskless_args(diskless: bool) -> testkit::StartOptions {
    testkit::StartOptions {
        extra_args: vec![
            "--repl-diskless-sync".into(),
            if diskless { "yes" } else { "no" }.into(),
            "--repl-diskless-sync-delay".into(),
            "0".into(),
        ],
        ..Default::default()
    }
}

/// Every file under `dir` (recursively), relative names.
pub fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}
