//! Backups of a 3-master cluster (one part per shard, restored into another cluster), of a
//! Sentinel group (taken from its replica), and from the scheduler daemon (a real run on
//! a cron schedule; SIGTERM lets the run under way finish, then exit 0).

mod backup_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use backup_support::*;
use resp::{ClusterLink, ConnectOptions, Frame, ServerUrl};
use serde_json::Value;
use testkit::{Flavor, ServerBin, ServerGuard, StartOptions};

fn redis7() -> Option<ServerBin> {
    servers(&[(Flavor::Redis, 7, 0)]).into_iter().next()
}

fn cluster_link(node: &ServerGuard) -> ClusterLink {
    let url = ServerUrl::parse(&url(node)).expect("url");
    ClusterLink::connect(&ConnectOptions::new(url)).expect("cluster link")
}

fn call(link: &mut ClusterLink, args: &[&[u8]]) -> Frame {
    let mut command = Vec::new();
    resp::encode_command(&mut command, args);
    link.follow(&command, args[1]).expect("cluster command")
}

/// Every key of the cluster with its value and expiry time.
fn cluster_contents(link: &mut ClusterLink, keys: usize) -> Vec<(String, Frame, Frame)> {
    (0..keys)
        .map(|i| {
            let key = format!("key:{i}");
            let value = call(link, &[b"GET", key.as_bytes()]);
            let expiry = call(link, &[b"PEXPIRETIME", key.as_bytes()]);
            (key, value, expiry)
        })
        .collect()
}

#[test]
fn a_cluster_is_backed_up_shard_by_shard_and_restored_into_another() {
    let Some(server) = redis7() else { return };
    let Some(repo) = Repo::s3() else { return };
    let nodes = testkit::cluster::start_cluster(&server, 3).expect("cluster");
    for n in &nodes {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("repl-diskless-sync-delay")
            .arg(0)
            .exec(&mut n.conn().expect("conn"))
            .expect("CONFIG");
    }
    let mut link = cluster_link(&nodes[0]);
    let keys = 3000;
    for i in 0..keys {
        let (key, value) = (format!("key:{i}"), format!("value {i}"));
        call(&mut link, &[b"SET", key.as_bytes(), value.as_bytes()]);
        if i % 7 == 0 {
            call(&mut link, &[b"PEXPIREAT", key.as_bytes(), b"4102444800000"]);
        }
    }
    let before = cluster_contents(&mut link, keys);

    let alone = backup(&repo, "run", &["--source", &url(&nodes[1])]);
    expect_code(&alone, 2, "a cluster node without --cluster");
    assert!(String::from_utf8_lossy(&alone.stderr).contains("--cluster"), "{}", describe(&alone));
    assert!(list(&repo).is_empty());
    expect_code(&backup(&repo, "run", &["--source", &url(&nodes[1]), "--cluster"]), 0, "cluster backup");
    let m = list(&repo).pop().expect("a backup");
    assert_eq!(m["source"]["kind"], "cluster");
    let parts = m["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 3, "one part per master");
    let mut covered = vec![0u8; 16384];
    for p in parts {
        for r in p["slots"].as_array().expect("slots") {
            let (a, b) = (r[0].as_u64().expect("first") as usize, r[1].as_u64().expect("last") as usize);
            covered[a..=b].iter_mut().for_each(|c| *c += 1);
        }
    }
    assert!(covered.iter().all(|&c| c == 1), "the shards' slot ranges cover every slot once");
    assert_eq!(m["keys"].as_u64(), Some(keys as u64));
    expect_code(&backup(&repo, "verify", &["latest"]), 0, "verify");

    let dir = tempfile::tempdir().expect("dir");
    expect_code(&backup(&repo, "restore", &["latest", "-o", path_str(dir.path())]), 0, "restore to a directory");
    assert_eq!(files(dir.path()), ["shard-0.rdb", "shard-1.rdb", "shard-2.rdb"]);

    let target = testkit::cluster::start_cluster(&server, 3).expect("second cluster");
    let out = backup(&repo, "restore", &["latest", "--into", &url(&target[2]), "--cluster"]);
    expect_code(&out, 0, "restore into a cluster");
    let mut target_link = cluster_link(&target[0]);
    assert!(cluster_contents(&mut target_link, keys) == before, "every key, value and expiry comes back");
}

/// A Sentinel process started from the installed server binary.
struct Sentinel {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a Sentinel monitoring the master at `master_port` as `main`; `extra` goes into
/// its configuration file.
fn start_sentinel(server: &ServerBin, master_port: u16, extra: &str) -> Sentinel {
    let dir = tempfile::tempdir().expect("dir");
    let port = testkit::free_port().expect("port");
    let conf = dir.path().join("sentinel.conf");
    let text = format!(
        "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor main 127.0.0.1 {master_port} 1\n\
         sentinel down-after-milliseconds main 5000\n{extra}",
        path_str(dir.path())
    );
    std::fs::write(&conf, text).expect("sentinel.conf");
    let child = Command::new(&server.path)
        .arg(&conf)
        .arg("--sentinel")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sentinel");
    Sentinel { child, port, _dir: dir }
}

/// Waits until the Sentinel sees a replica that is up and linked to its master;
/// `auth` is the Sentinel's password (`:PASSWORD@`), or empty.
fn wait_for_replica(sentinel: &Sentinel, auth: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let seen = redis::Client::open(format!("redis://{auth}127.0.0.1:{}/", sentinel.port))
            .and_then(|c| c.get_connection())
            .and_then(|mut c| redis::cmd("SENTINEL").arg("replicas").arg("main").query::<Vec<Vec<String>>>(&mut c));
        if let Ok(replicas) = seen {
            let healthy = replicas.iter().any(|r| {
                let field = |k: &str| r.chunks(2).find(|kv| kv[0] == k).map(|kv| kv[1].clone());
                field("flags").as_deref() == Some("slave") && field("master-link-status").as_deref() == Some("ok")
            });
            if healthy {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the Sentinel never saw a healthy replica");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_sentinel_group_is_backed_up_from_its_replica() {
    let Some(server) = redis7() else { return };
    let master = ServerGuard::start_with(&server, &diskless_args(true)).expect("master");
    let data = testkit::dataset::fill(&mut master.conn().expect("conn"), &server, 8).expect("fill");
    let replica_opts = StartOptions {
        extra_args: vec!["--replicaof".into(), "127.0.0.1".into(), master.port().to_string()],
        ..diskless_args(true)
    };
    let replica = ServerGuard::start_with(&server, &replica_opts).expect("replica");
    let synced: i64 = redis::cmd("WAIT").arg(1).arg(30_000).query(&mut master.conn().expect("conn")).expect("WAIT");
    assert_eq!(synced, 1, "the replica caught up");
    let before = contents(&master, &data.expiries);
    let sentinel = start_sentinel(&server, master.port(), "");
    wait_for_replica(&sentinel, "");

    let repo = Repo::local();
    let source = format!("redis+sentinel://127.0.0.1:{}/main", sentinel.port);
    expect_code(&backup(&repo, "run", &["--source", &source]), 0, "backup through Sentinel");
    let m = list(&repo).pop().expect("a backup");
    assert_eq!(m["source"]["role"], "replica");
    assert_eq!(m["source"]["node"].as_str(), Some(format!("127.0.0.1:{}", replica.port()).as_str()));
    expect_code(&backup(&repo, "verify", &[]), 0, "verify");
    let dir = tempfile::tempdir().expect("dir");
    let restored = dir.path().join("dump.rdb");
    expect_code(&backup(&repo, "restore", &["latest", "-o", path_str(&restored)]), 0, "restore");
    assert_loads_as(&server, &restored, &before, &data.expiries, "Sentinel backup");

    let unknown = format!("redis+sentinel://127.0.0.1:{}/other", sentinel.port);
    expect_code(&backup(&repo, "run", &["--source", &unknown]), 3, "an unknown master name");
}

#[test]
fn a_sentinel_group_with_passwords_is_backed_up_with_them_and_never_prints_them() {
    let Some(server) = redis7() else { return };
    let (data_password, sentinel_password) = ("data-Secret-1", "sentinel-Secret-2");
    let master = ServerGuard::start_with(&server, &diskless_args(true)).expect("master");
    let data = testkit::dataset::fill(&mut master.conn().expect("conn"), &server, 8).expect("fill");
    let before = contents(&master, &data.expiries);
    let protect = |node: &ServerGuard| {
        let _: () = redis::cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg(data_password)
            .query(&mut node.conn().expect("conn"))
            .expect("CONFIG SET requirepass");
    };
    protect(&master);
    let replica_opts = StartOptions {
        extra_args: ["--replicaof", "127.0.0.1", &master.port().to_string(), "--masterauth", data_password]
            .map(String::from)
            .to_vec(),
        ..diskless_args(true)
    };
    let replica = ServerGuard::start_with(&server, &replica_opts).expect("replica");
    protect(&replica);
    let sentinel = start_sentinel(
        &server,
        master.port(),
        &format!("sentinel auth-pass main {data_password}\nrequirepass {sentinel_password}\n"),
    );
    wait_for_replica(&sentinel, &format!(":{sentinel_password}@"));

    let repo = Repo::local();
    let dir = tempfile::tempdir().expect("dir");
    let password_file = dir.path().join("sentinel-password");
    std::fs::write(&password_file, format!("{sentinel_password}\n")).expect("password file");
    let source = format!("redis+sentinel://:{data_password}@127.0.0.1:{}/main", sentinel.port);
    let without = backup(&repo, "run", &["--source", &source]);
    expect_code(&without, 3, "no password for the Sentinel");
    let said = String::from_utf8_lossy(&without.stderr);
    assert!(said.contains("Sentinel 127.0.0.1:") && said.contains("NOAUTH"), "names the Sentinel that refused: {said}");
    let with = backup(&repo, "run", &["--source", &source, "--sentinel-password-file", path_str(&password_file)]);
    expect_code(&with, 0, "backup through a password-protected Sentinel");
    for out in [&without, &with] {
        let text = describe(out);
        assert!(!text.contains(data_password) && !text.contains(sentinel_password), "a password was printed: {text}");
    }
    assert_eq!(list(&repo).len(), 1, "only the run with both passwords made a backup");
    let restored = dir.path().join("dump.rdb");
    expect_code(&backup(&repo, "restore", &["latest", "-o", path_str(&restored)]), 0, "restore");
    assert_loads_as(&server, &restored, &before, &data.expiries, "Sentinel backup with passwords");
}

#[test]
fn the_scheduler_runs_on_time_and_finishes_the_run_under_way_on_sigterm() {
    let Some(server) = redis7() else { return };
    let guard = ServerGuard::start_with(&server, &diskless_args(true)).expect("start");
    fill_random(&guard, 48, 5);
    let repo = Repo::local();
    let mut child = spawn_backup(&repo, "schedule", &["--cron", "*/2 * * * * *", "--source", &url(&guard)]);
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The first run: one JSON line, a complete backup.
    let line = rx.recv_timeout(Duration::from_secs(120)).expect("a log line for the first run");
    let first: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(first["ok"], true, "{line}");
    assert_eq!(list(&repo).len(), 1);

    // SIGTERM while the next run uploads: that run completes, then the daemon exits 0.
    let tmp = repo.root().join("tmp");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !files(&tmp).iter().any(|f| f.ends_with(".tmp")) {
        assert!(Instant::now() < deadline, "the second run never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill -TERM");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let second: Value =
        serde_json::from_str(&rx.recv_timeout(Duration::from_secs(5)).expect("a second line")).expect("JSON");
    assert_eq!(second["ok"], true, "{second}");
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "no third run");
    let listed = list(&repo);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["id"], second["backup"]);
}
