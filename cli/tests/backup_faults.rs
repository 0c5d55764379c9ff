//! Faults: the source server dies mid-stream, the S3 server dies mid-upload, rdbkit is
//! killed with SIGKILL mid-run, a stored byte is flipped. In every case no backup is
//! listed complete (or the damage is reported with exit 1), and the next run works.

mod backup_support;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use backup_support::*;
use testkit::{Flavor, ServerBin, ServerGuard};

/// How long a test waits for a run to reach the state it wants to break.
const WAIT: Duration = Duration::from_secs(60);

fn server() -> Option<ServerBin> {
    servers(&[(Flavor::Redis, 7, 0)]).into_iter().next()
}

/// A server holding `mb` MiB that does not compress (a transfer that takes a while).
fn big_server(server: &ServerBin, mb: usize) -> ServerGuard {
    let guard = ServerGuard::start_with(server, &diskless_args(true)).expect("start");
    fill_random(&guard, mb, 9);
    guard
}

/// Waits until `ready()` or the child exits; panics after [`WAIT`].
fn wait_for(child: &mut Child, what: &str, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !ready() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("rdbkit ended ({status}) before {what}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Some object under `dir` whose name contains `part` holds more than `min` bytes.
fn has_file(dir: &Path, part: &str, min: u64) -> bool {
    files(dir).iter().any(|f| f.contains(part) && std::fs::metadata(dir.join(f)).is_ok_and(|m| m.len() > min))
}

fn finish(child: Child) -> std::process::Output {
    child.wait_with_output().expect("wait for rdbkit")
}

/// SIGKILL to a server the test started (its pid from INFO).
fn kill9(guard: &ServerGuard) {
    let info: String = redis::cmd("INFO").arg("server").query(&mut guard.conn().expect("conn")).expect("INFO");
    let pid = testkit_field(&info, "process_id");
    let status = Command::new("kill").args(["-KILL", &pid]).status().expect("kill");
    assert!(status.success());
}

fn testkit_field(info: &str, name: &str) -> String {
    info.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')).map(|v| v.trim().to_string()).expect("field")
}

/// Starts a backup of `guard` into a local `repo` and waits until its upload has begun.
fn start_local_run(repo: &Repo, guard: &ServerGuard) -> Child {
    let mut child = spawn_backup(repo, "run", &["--source", &url(guard)]);
    let tmp = repo.root().join("tmp");
    // More than a lock or a manifest: the dump's data is being written.
    wait_for(&mut child, "the upload to start", || has_file(&tmp, ".tmp", 1 << 20));
    child
}

fn assert_nothing_complete(repo: &Repo, what: &str) {
    assert!(list(repo).is_empty(), "{what}: no backup may be listed complete");
    assert!(!files(&repo.root()).iter().any(|f| f.starts_with("snapshots/")), "{what}: no manifest");
}

fn next_run_works(repo: &Repo, server: &ServerBin, what: &str) {
    let guard = ServerGuard::start(server).expect("start");
    redis::cmd("SET").arg("after").arg("fault").exec(&mut guard.conn().expect("conn")).expect("SET");
    expect_code(&backup(repo, "run", &["--source", &url(&guard)]), 0, &format!("{what}: the next run"));
    let listed = list(repo);
    assert_eq!(listed.len(), 1, "{what}");
    assert_eq!(listed[0]["keys"].as_u64(), Some(1));
    expect_code(&backup(repo, "verify", &["latest"]), 0, &format!("{what}: verify the next run"));
}

#[test]
fn a_source_killed_mid_stream_leaves_no_backup() {
    let Some(server) = server() else { return };
    let guard = big_server(&server, 96);
    let repo = Repo::local();
    let child = start_local_run(&repo, &guard);
    kill9(&guard);
    let out = finish(child);
    expect_code(&out, 3, "source killed");
    assert_nothing_complete(&repo, "source killed");
    assert!(!files(&repo.root()).iter().any(|f| f.starts_with("data/")), "the failed run removed its data");
    next_run_works(&repo, &server, "source killed");
}

#[test]
fn an_s3_server_killed_mid_upload_leaves_no_backup() {
    let Some(server) = server() else { return };
    let Some(mut repo) = Repo::s3() else { return };
    let guard = big_server(&server, 96);
    let mut child = spawn_backup(&repo, "run", &["--source", &url(&guard)]);
    let root = match &repo {
        Repo::S3(s3) => s3.root(),
        Repo::Local(_) => unreachable!("an S3 repository"),
    };
    wait_for(&mut child, "the first part to be stored", || has_file(&root, ".part-1", 0));
    if let Repo::S3(s3) = &mut repo {
        s3.kill();
    }
    let out = finish(child);
    expect_code(&out, 3, "S3 killed");
    if let Repo::S3(s3) = &mut repo {
        s3.restart().expect("restart s3s-fs");
    }
    assert_nothing_complete(&repo, "S3 killed");
    next_run_works(&repo, &server, "S3 killed");
}

#[test]
fn rdbkit_killed_mid_run_leaves_no_backup_and_prune_clears_the_rest() {
    let Some(server) = server() else { return };
    let guard = big_server(&server, 96);
    let repo = Repo::local();
    let mut child = start_local_run(&repo, &guard);
    child.kill().expect("SIGKILL rdbkit");
    let out = finish(child);
    assert_eq!(out.status.code(), None, "killed by a signal");
    assert_nothing_complete(&repo, "rdbkit killed");
    let leftovers = files(&repo.root());
    assert!(leftovers.iter().any(|f| f.starts_with("locks/")), "the killed run's lock stays: {leftovers:?}");
    drop(guard);
    next_run_works(&repo, &server, "rdbkit killed");

    // Leftovers are kept for an hour (a slow writer on a skewed clock); then prune
    // removes them, and the dead process's lock is stale already.
    let root = repo.root();
    for f in files(&root).iter().filter(|f| f.starts_with("tmp/")) {
        let status = Command::new("touch").args(["-d", "2 hours ago"]).arg(root.join(f)).status().expect("touch");
        assert!(status.success());
    }
    expect_code(&backup(&repo, "prune", &["--keep-last", "3"]), 0, "prune");
    let left = files(&root);
    assert!(left.iter().all(|f| f.starts_with("snapshots/") || f.starts_with("data/")), "{left:?}");
    assert_eq!(left.len(), 2, "one manifest and its data: {left:?}");

    // A manifest that does not parse is reported, and neither it nor its data is removed.
    let damaged = "20200101T000000Z-abcdef";
    std::fs::create_dir_all(root.join("data").join(damaged)).expect("mkdir");
    std::fs::write(root.join("data").join(damaged).join("dump.rdb.zst"), b"data").expect("write");
    std::fs::write(root.join("snapshots").join(format!("{damaged}.json")), b"{not json").expect("write");
    for f in files(&root).iter().filter(|f| f.contains(damaged)) {
        Command::new("touch").args(["-d", "2 hours ago"]).arg(root.join(f)).status().expect("touch");
    }
    let out = backup(&repo, "prune", &["--keep-last", "1"]);
    expect_code(&out, 0, "prune with a damaged manifest");
    assert!(String::from_utf8_lossy(&out.stderr).contains(damaged), "{}", describe(&out));
    assert_eq!(files(&root).iter().filter(|f| f.contains(damaged)).count(), 2, "left alone");
    assert_eq!(list(&repo).len(), 1, "a damaged manifest is not a complete backup");
}

#[test]
fn a_flipped_byte_fails_verify_and_restore() {
    let Some(server) = server() else { return };
    let guard = ServerGuard::start(&server).expect("start");
    testkit::dataset::fill(&mut guard.conn().expect("conn"), &server, 4).expect("fill");
    for compress in ["zstd", "none"] {
        let repo = Repo::local();
        expect_code(&backup(&repo, "run", &["--source", &url(&guard), "--compress", compress]), 0, compress);
        expect_code(&backup(&repo, "verify", &[]), 0, compress);
        let object = files(&repo.root()).into_iter().find(|f| f.starts_with("data/")).expect("a data object");
        let path = repo.root().join(&object);
        let mut bytes = std::fs::read(&path).expect("read");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x10;
        std::fs::write(&path, bytes).expect("write");

        let out = backup(&repo, "verify", &["latest"]);
        expect_code(&out, 1, &format!("{compress}: verify a damaged backup"));
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.starts_with("error: ") && text.lines().count() == 1, "{compress}: one line: {text}");
        let dir = tempfile::tempdir().expect("dir");
        let target = dir.path().join("dump.rdb");
        let out = backup(&repo, "restore", &["latest", "-o", path_str(&target)]);
        expect_code(&out, 1, &format!("{compress}: restore a damaged backup"));
        assert!(files(dir.path()).is_empty(), "{compress}: nothing written: {:?}", files(dir.path()));
    }
}
