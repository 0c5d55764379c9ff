//! The AOF commands on real-world oddities and 3 a.m. cases: LF-only files, a manifest
//! whose parts are missing, a torn tail, an unknown command, `--truncate-to-timestamp`
//! against the servers' checker, `--dry-run`, exit codes.

mod util;

use std::path::Path;
use std::process::Command;

use testkit::servers::{Flavor, ServerBin};
use util::aof::{load_aof, real_aof_with, servers, AofKind};
use util::{describe, path_str, rdbkit};

fn cmd(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).expect("write");
}

#[test]
fn lf_only_files_get_a_clear_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("appendonly.aof");
    let text = String::from_utf8(cmd(&["SET", "k", "v"])).expect("utf8").replace("\r\n", "\n");
    write(&f, text.as_bytes());
    for args in [vec!["convert", "--to", "ndjson"], vec!["aof", "info"]] {
        let mut a = args.clone();
        a.push(path_str(&f));
        let out = rdbkit(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{a:?}: {}", describe(&out));
        assert!(err.contains("offset 2") && err.contains("converted to LF"), "{a:?}: {err}");
    }
    let out = rdbkit(&["aof", "check", path_str(&f)]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid up to offset 0"), "{}", describe(&out));
}

#[test]
fn missing_parts_are_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let m = dir.path().join("appendonly.aof.manifest");
    write(&m, b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
    write(&dir.path().join("appendonly.aof.1.incr.aof"), &cmd(&["SET", "k", "v"]));
    for args in [vec!["aof", "check"], vec!["aof", "info"], vec!["convert", "--to", "json"], vec!["verify"]] {
        let mut a = args.clone();
        a.push(path_str(dir.path()));
        let out = rdbkit(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{a:?}: {}", describe(&out));
        assert!(
            err.contains("appendonly.aof.1.base.rdb\" (base)") && !err.contains("incr.aof\" (incr)"),
            "{a:?}: {err}"
        );
    }
}

#[test]
fn torn_tails_are_left_out_like_the_server_does_and_unknown_commands_stop() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("appendonly.aof");
    let mut bytes = cmd(&["SET", "a", "1"]);
    bytes.extend_from_slice(&cmd(&["MULTI"]));
    bytes.extend_from_slice(&cmd(&["SET", "b", "2"]));
    bytes.extend_from_slice(&cmd(&["EXEC"])[..5]);
    write(&f, &bytes);
    let out = rdbkit(&["convert", "--to", "ndjson", path_str(&f)]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"key\":\"a\"") && !text.contains("\"key\":\"b\""), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("left out after offset 27"), "{}", describe(&out));

    let mut bytes = cmd(&["SET", "a", "1"]);
    bytes.extend_from_slice(&cmd(&["NOSUCHCMD", "x"]));
    write(&f, &bytes);
    let out = rdbkit(&["aof", "rewrite", path_str(&f), "-o", path_str(&dir.path().join("out"))]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("offset 27 (command #2): \"NOSUCHCMD\": unknown command"), "{err}");
    assert!(!dir.path().join("out").exists(), "no partial output");
}

#[test]
fn a_dataset_larger_than_the_budget_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("appendonly.aof");
    write(&f, &cmd(&["SET", "k", "v"]));
    let out =
        rdbkit(&["aof", "rewrite", path_str(&f), "-o", path_str(&dir.path().join("out")), "--memory-budget", "1M"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("memory budget of 1048576 bytes"), "{}", describe(&out));
    assert!(!dir.path().join("out").exists());
    let out =
        rdbkit(&["aof", "rewrite", path_str(&f), "-o", path_str(&dir.path().join("out")), "--memory-budget", "64G"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

fn checker(server: &ServerBin, dir: &Path) -> std::path::PathBuf {
    let name = if server.flavor == Flavor::Valkey { "valkey-check-aof" } else { "redis-check-aof" };
    let p = dir.join(name);
    std::os::unix::fs::symlink(&server.path, &p).expect("symlink");
    p
}

#[test]
fn truncate_to_timestamp_gives_the_dataset_the_servers_tool_gives() {
    let work = tempfile::tempdir().expect("tmp");
    for server in servers().into_iter().filter(|s| s.features().v70()) {
        // valkey-check-aof 9.1 cannot read its own VALKEY080 preamble: a RESP base there.
        let preamble = !(server.flavor == Flavor::Valkey && server.version.0 >= 9);
        let (aof, _) = real_aof_with(&server, AofKind { preamble, timestamps: true, rounds: 12 }, work.path());
        let info = rdbkit(&["aof", "info", path_str(&aof), "--format", "json"]);
        let doc: serde_json::Value = serde_json::from_slice(&info.stdout).expect("json");
        let (first, last) =
            (doc["timestamps"]["first"].as_i64().expect("first"), doc["timestamps"]["last"].as_i64().expect("last"));
        assert!(last > first, "{server}: the workload should span several seconds: {doc}");
        let t = (first + last) / 2;
        let (ours, theirs) = (work.path().join(format!("{server}-ours")), work.path().join(format!("{server}-theirs")));
        for d in [&ours, &theirs] {
            testkit::guard::copy_aof(&aof, d).expect("copy");
        }
        let dry = rdbkit(&[
            "aof",
            "check",
            path_str(&ours.join("appendonlydir")),
            "--truncate-to-timestamp",
            &t.to_string(),
            "--dry-run",
        ]);
        assert_eq!(dry.status.code(), Some(0), "{server}: {}", describe(&dry));
        assert!(String::from_utf8_lossy(&dry.stdout).contains("would cut"), "{server}: {}", describe(&dry));
        let out =
            rdbkit(&["aof", "check", path_str(&ours.join("appendonlydir")), "--truncate-to-timestamp", &t.to_string()]);
        assert_eq!(out.status.code(), Some(0), "{server}: {}", describe(&out));
        let manifest = theirs.join("appendonlydir/appendonly.aof.manifest");
        let bin_dir = work.path().join(format!("{server}-bin"));
        std::fs::create_dir_all(&bin_dir).expect("mkdir");
        let tool = checker(&server, &bin_dir);
        let st = Command::new(&tool)
            .args(["--truncate-to-timestamp", &t.to_string()])
            .arg(&manifest)
            .output()
            .expect("checker");
        assert_eq!(st.status.code(), Some(0), "{server}: {}", String::from_utf8_lossy(&st.stdout));
        let a = load_aof(&server, &ours.join("appendonlydir"));
        let b = load_aof(&server, &theirs.join("appendonlydir"));
        assert_eq!(a.digest().expect("digest"), b.digest().expect("digest"), "{server}: datasets differ after the cut");
    }
}
