//! `restore` never damages the target: a database the server does not have takes no
//! keys (they never land in another one), a value built with several commands appears
//! whole or not at all, refusals are bounded and stop when they cannot go away, plain
//! strings sent many to a command still refuse existing keys one by one (and go as
//! RESTORE when the user may not set them), a silent server times out, a FIFO is read
//! once, and the payload version is asked of the server.

mod util;

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use testkit::{Flavor, ServerGuard, StartOptions};
use util::dumps::{big_dump, keys_matching, populated_dump};
use util::{describe, path_str, rdbkit_bin, repo_root};

use util::run_restore as restore;

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON summary: {e}: {}", describe(out)))
}

use util::redis7;

fn set(conn: &mut redis::Connection, args: &[&str]) {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd.exec(conn).unwrap_or_else(|e| panic!("{args:?}: {e}"));
}

fn get(conn: &mut redis::Connection, key: &str) -> Option<String> {
    redis::cmd("GET").arg(key).query(conn).expect("GET")
}

#[test]
fn a_refused_select_never_writes_into_another_database() {
    let Some(server) = redis7() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = StartOptions { extra_args: vec!["--databases".into(), "32".into()], ..Default::default() };
    let source = ServerGuard::start_with(&server, &opts).expect("start");
    let mut c = source.conn().expect("conn");
    set(&mut c, &["SET", "a", "zero"]);
    set(&mut c, &["SELECT", "20"]);
    for i in 0..500 {
        set(&mut c, &["SET", &format!("db20:{i}"), "twenty"]);
    }
    set(&mut c, &["SET", "a", "twenty"]);
    let dump = dir.path().join("db20.rdb");
    std::fs::copy(source.save().expect("save"), &dump).expect("copy");

    let target = ServerGuard::start(&server).expect("start");
    let url = format!("redis://127.0.0.1:{}", target.port());
    // One pipeline holds the SELECT and the keys after it.
    let out = restore(&[path_str(&dump), "--to", &url, "--replace", "--pipeline", "2000", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let s = summary(&out);
    assert_eq!((s["restored"].as_u64(), s["refused"].as_u64()), (Some(1), Some(501)), "{s}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("SELECT 20 refused"), "{}", describe(&out));
    let mut t = target.conn().expect("conn");
    assert_eq!(get(&mut t, "a").as_deref(), Some("zero"), "db 20's key did not overwrite db 0's");
    assert!(keys_matching(&mut t, "db20:*").is_empty(), "no key of db 20 in db 0");

    // A database in the URL that the server does not have: nothing at all is written.
    let fresh = ServerGuard::start(&server).expect("start");
    let out = restore(&[path_str(&dump), "--to", &format!("redis://127.0.0.1:{}/99", fresh.port())]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SELECT 99"), "{}", describe(&out));
    let size: u64 = redis::cmd("DBSIZE").query(&mut fresh.conn().expect("conn")).expect("DBSIZE");
    assert_eq!(size, 0);
}

#[test]
fn a_value_built_with_commands_appears_whole_or_not_at_all() {
    let Some(server) = redis7() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (dump, digest) = big_dump(&server, dir.path());
    let target = ServerGuard::start(&server).expect("start");
    let mut c = target.conn().expect("conn");
    set(&mut c, &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    set(&mut c, &["RPUSH", "big:list", "old"]);
    // Room for the small keys and the start of a big one, not for all of it.
    let used: u64 = {
        let info: String = redis::cmd("INFO").arg("memory").query(&mut c).expect("INFO");
        let field = info.lines().find_map(|l| l.strip_prefix("used_memory:")).expect("used_memory");
        field.trim().parse().expect("number")
    };
    set(&mut c, &["CONFIG", "SET", "maxmemory", &(used + 1_500_000).to_string()]);
    let url = format!("redis://127.0.0.1:{}", target.port());
    let out = restore(&[path_str(&dump), "--to", &url, "--replace", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OOM"), "{}", describe(&out));
    let old: Vec<String> = redis::cmd("LRANGE").arg("big:list").arg(0).arg(-1).query(&mut c).expect("LRANGE");
    assert_eq!(old, ["old"], "the existing key keeps its value");
    let big_hash: u64 = redis::cmd("EXISTS").arg("big:hash").query(&mut c).expect("EXISTS");
    assert_eq!(big_hash, 0, "no partial hash");
    assert!(keys_matching(&mut c, "*rdbkit-tmp*").is_empty(), "temporary keys are deleted");

    // With room, the same restore is exact and leaves nothing behind.
    set(&mut c, &["CONFIG", "SET", "maxmemory", "0"]);
    set(&mut c, &["FLUSHALL"]);
    let out = restore(&[path_str(&dump), "--to", &url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(target.digest().expect("digest"), digest);
}

#[test]
fn refusals_are_bounded_and_stop_when_they_cannot_go_away() {
    let Some(server) = redis7() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = populated_dump(&server, dir.path(), 5000, "many.rdb");
    let target = ServerGuard::start(&server).expect("start");
    let url = format!("redis://127.0.0.1:{}", target.port());
    let first = restore(&[path_str(&dump), "--to", &url]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    // Every key exists: each is refused and reported, but the run goes to the end.
    let again = restore(&[path_str(&dump), "--to", &url, "--format", "json"]);
    assert_eq!(again.status.code(), Some(3), "{}", describe(&again));
    let s = summary(&again);
    assert_eq!((s["failed"].as_u64(), s["failures_by_code"]["BUSYKEY"].as_u64()), (Some(5000), Some(5000)), "{s}");
    assert!(s["stopped"].is_null());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.lines().count() <= 60, "bounded: {} lines", err.lines().count());
    assert!(err.contains("... and 4950 more") && err.contains("BUSYKEY 5000"), "{err}");

    // Out of memory: every key would be refused; it stops after a run of them.
    let full = ServerGuard::start(&server).expect("start");
    set(&mut full.conn().expect("conn"), &["CONFIG", "SET", "maxmemory", "1"]);
    let url = format!("redis://127.0.0.1:{}", full.port());
    let out = restore(&[path_str(&dump), "--to", &url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let s = summary(&out);
    let failed = s["failed"].as_u64().unwrap_or(0);
    assert!((1000..5000).contains(&failed), "stopped early: {s}");
    assert!(s["stopped"].as_str().is_some_and(|w| w.contains("OOM")), "{s}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("stopped after 1000 keys"), "{}", describe(&out));
}

#[test]
fn existing_keys_among_plain_strings_are_refused_one_by_one() {
    let Some(server) = redis7() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    // key:0 .. key:299 = value:0 .. value:299: plain strings, sent many to a command.
    let dump = populated_dump(&server, dir.path(), 300, "strings.rdb");
    let target = ServerGuard::start(&server).expect("start");
    let mut c = target.conn().expect("conn");
    set(&mut c, &["RPUSH", "key:5", "mine"]);
    set(&mut c, &["SET", "key:200", "mine", "EX", "1000"]);
    let url = format!("redis://127.0.0.1:{}", target.port());
    let out = restore(&[path_str(&dump), "--to", &url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let s = summary(&out);
    assert_eq!((s["restored"].as_u64(), s["failures_by_code"]["BUSYKEY"].as_u64()), (Some(298), Some(2)), "{s}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(r#"db 0 key "key:5": BUSYKEY"#) && err.contains(r#"db 0 key "key:200": BUSYKEY"#), "{err}");
    let list: Vec<String> = redis::cmd("LRANGE").arg("key:5").arg(0).arg(-1).query(&mut c).expect("LRANGE");
    assert_eq!(list, ["mine"], "an existing key keeps its value");
    assert_eq!(get(&mut c, "key:200").as_deref(), Some("mine"));
    assert_eq!(get(&mut c, "key:7").as_deref(), Some("value:7"), "the other keys of the command are set");
    let size: u64 = redis::cmd("DBSIZE").query(&mut c).expect("DBSIZE");
    assert_eq!(size, 300);

    // --replace overwrites whatever type the key had, and its expiry.
    let out = restore(&[path_str(&dump), "--to", &url, "--replace", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(summary(&out)["restored"].as_u64(), Some(300));
    assert_eq!(get(&mut c, "key:5").as_deref(), Some("value:5"));
    assert_eq!(get(&mut c, "key:200").as_deref(), Some("value:200"));
    let ttl: i64 = redis::cmd("TTL").arg("key:200").query(&mut c).expect("TTL");
    assert_eq!(ttl, -1, "the dump's key has no expiry");
}

#[test]
fn plain_strings_go_as_restore_when_the_user_may_not_set_them() {
    let Some(server) = redis7() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = populated_dump(&server, dir.path(), 300, "strings.rdb");
    let target = ServerGuard::start(&server).expect("start");
    let mut c = target.conn().expect("conn");
    set(&mut c, &["ACL", "SETUSER", "loader", "on", ">pw", "~*", "&*", "+@all", "-msetnx", "-mset", "-set"]);
    let url = format!("redis://loader:pw@127.0.0.1:{}", target.port());
    let out = restore(&[path_str(&dump), "--to", &url, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(summary(&out)["restored"].as_u64(), Some(300));
    assert_eq!(get(&mut c, "key:7").as_deref(), Some("value:7"));
    let size: u64 = redis::cmd("DBSIZE").query(&mut c).expect("DBSIZE");
    assert_eq!(size, 300);
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("redis://{}", listener.local_addr().expect("addr"));
    let dump = repo_root().join("fixtures/example/dump.rdb");
    let started = Instant::now();
    let out = restore(&[path_str(&dump), "--to", &url, "--timeout", "1"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no reply within 1 s"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let zero = restore(&[path_str(&dump), "--to", &url, "--timeout", "0"]);
    assert_eq!(zero.status.code(), Some(2), "{}", describe(&zero));
    drop(listener);
}

#[test]
fn a_fifo_is_read_once() {
    let Some(server) = redis7() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (dump, _) = big_dump(&server, dir.path());
    let fifo = dir.path().join("dump.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let target = ServerGuard::start(&server).expect("start");
    set(&mut target.conn().expect("conn"), &["CONFIG", "SET", "proto-max-bulk-len", "1mb"]);
    let url = format!("redis://127.0.0.1:{}", target.port());
    let mut child = Command::new(rdbkit_bin())
        .args(["restore", path_str(&fifo), "--to", &url, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let writer = {
        let (fifo, dump) = (fifo.clone(), dump.clone());
        std::thread::spawn(move || std::fs::write(&fifo, std::fs::read(&dump).expect("dump")))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            // Unblock a second open of the FIFO so the test ends.
            let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
            panic!("restore from a FIFO hangs");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    writer.join().expect("writer").expect("write the FIFO");
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(1), "the oversized keys cannot be sent: {}", describe(&out));
    let s = summary(&out);
    assert_eq!((s["restored"].as_u64(), s["unfit"].as_u64()), (Some(2), Some(2)), "{s}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be read twice"));
}

#[test]
fn the_payload_version_is_asked_of_each_server() {
    let dump = repo_root().join("fixtures/example/dump.rdb");
    for server in testkit::require_all().expect("servers") {
        let guard = ServerGuard::start(&server).expect("start");
        let url = format!("redis://127.0.0.1:{}", guard.port());
        let out = restore(&[path_str(&dump), "--to", &url, "--lossy", "--format", "json"]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", server.name(), describe(&out));
        let (major, minor, _) = server.version;
        let want = rdb_parser::Target::for_server(server.flavor == Flavor::Valkey, (major, minor)).expect("target");
        assert_eq!(summary(&out)["target"].as_str(), Some(want.name.as_str()), "{}", server.name());
        let mut c = guard.conn().expect("conn");
        assert!(keys_matching(&mut c, "rdbkit:payload-probe*").is_empty(), "{}: probe key left", server.name());
    }
}
