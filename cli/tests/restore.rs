//! `rdbkit restore` against real servers: same digest and contents after a restore,
//! BUSYKEY without --replace, version downgrade through re-encoded payloads, values
//! over proto-max-bulk-len sent as commands, password from REDISCLI_AUTH, TLS, and a
//! 3-master Redis 7.0 cluster.

mod util;

use std::process::{Command, Output};

use serde_json::Value;
use testkit::ndjson::{compare, read_ndjson};
use testkit::{ExpiryLog, Flavor, ServerBin, ServerGuard, StartOptions};
use util::dumps::big_dump;
use util::{describe, path_str, rdbkit_bin, repo_root};

fn restore(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(rdbkit_bin());
    cmd.arg("restore").args(args).env_remove("REDISCLI_AUTH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run rdbkit restore")
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("JSON summary: {e}: {}", describe(out)))
}

fn fixture(server: &ServerBin) -> std::path::PathBuf {
    repo_root().join("fixtures").join(server.name())
}

fn expected(server: &ServerBin) -> (Vec<Value>, ExpiryLog, String) {
    let dir = fixture(server);
    let records = read_ndjson(&dir.join("expected.ndjson")).expect("expected.ndjson");
    let expiries = ExpiryLog::from_records(&records).expect("expiries");
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("info.json")).expect("info")).expect("json");
    (records, expiries, info["debug_digest"].as_str().unwrap_or_default().to_string())
}

fn servers() -> Vec<ServerBin> {
    let s = testkit::require_all().expect("servers (RDBKIT_REQUIRE_SERVERS)");
    if s.is_empty() {
        eprintln!("skipping: no servers installed (run scripts/install-servers.sh)");
    }
    s
}

#[test]
fn restore_into_each_server_gives_the_same_data() {
    for server in servers() {
        let dump = fixture(&server).join("dump.rdb");
        let (records, expiries, digest) = expected(&server);
        let guard = ServerGuard::start(&server).expect("start");
        let url = format!("redis://127.0.0.1:{}", guard.port());
        let out = restore(&[path_str(&dump), "--to", &url, "--format", "json"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", server.name(), describe(&out));
        assert_eq!(summary(&out)["restored"].as_u64(), Some(records.len() as u64), "{}", server.name());
        assert_eq!(guard.digest().expect("digest"), digest, "{}: DEBUG DIGEST", server.name());
        let live = testkit::live::dump_live(&mut guard.conn().expect("conn"), &expiries).expect("read back");
        compare(&records, &live).unwrap_or_else(|d| panic!("{}: {d}", server.name()));

        // Again without --replace: the server refuses every key (exit 3), nothing changes.
        let again = restore(&[path_str(&dump), "--to", &url, "--format", "json"], &[]);
        assert_eq!(again.status.code(), Some(3), "{}", describe(&again));
        assert!(String::from_utf8_lossy(&again.stderr).contains("BUSYKEY"), "{}", describe(&again));
        assert_eq!(summary(&again)["restored"].as_u64(), Some(0));
        let replaced = restore(&[path_str(&dump), "--to", &url, "--replace", "--format", "json"], &[]);
        assert_eq!(replaced.status.code(), Some(0), "{}", describe(&replaced));
        assert_eq!(guard.digest().expect("digest"), digest);
    }
}

#[test]
fn restore_into_an_older_server_re_encodes_payloads() {
    let all = servers();
    let (Some(new), Some(old)) = (
        all.iter().find(|s| s.flavor == Flavor::Redis && s.version.0 == 7),
        all.iter().find(|s| s.flavor == Flavor::Redis && s.version.0 == 5),
    ) else {
        return;
    };
    let dump = fixture(new).join("dump.rdb");
    let (records, expiries, digest) = expected(new);
    let guard = ServerGuard::start(old).expect("start");
    let url = format!("redis://127.0.0.1:{}", guard.port());
    let strict = restore(&[path_str(&dump), "--to", &url], &[]);
    assert_eq!(strict.status.code(), Some(1), "streams lose 7.0 metadata: {}", describe(&strict));
    let fresh = ServerGuard::start(old).expect("start");
    let url = format!("redis://127.0.0.1:{}", fresh.port());
    let lossy = restore(&[path_str(&dump), "--to", &url, "--lossy"], &[]);
    assert_eq!(lossy.status.code(), Some(0), "{}", describe(&lossy));
    assert_eq!(fresh.digest().expect("digest"), digest, "same data on 5.0");
    let live = testkit::live::dump_live(&mut fresh.conn().expect("conn"), &expiries).expect("read back");
    let without_read: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r["type"] == "stream" {
                for g in r["value"]["groups"].as_array_mut().into_iter().flatten() {
                    g["entries_read"] = Value::Null;
                }
            }
            r
        })
        .collect();
    compare(&without_read, &live).expect("contents on 5.0");
}

#[test]
fn values_over_proto_max_bulk_len_go_as_commands() {
    let Some(server) = servers().into_iter().find(|s| s.flavor == Flavor::Redis && s.version.0 == 7) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (dump, digest) = big_dump(&server, dir.path());
    let guard = ServerGuard::start(&server).expect("start");
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("proto-max-bulk-len")
        .arg("1mb")
        .exec(&mut guard.conn().expect("conn"))
        .expect("CONFIG");
    let url = format!("redis://127.0.0.1:{}", guard.port());
    let out = restore(&[path_str(&dump), "--to", &url, "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let s = summary(&out);
    assert_eq!((s["restored"].as_u64(), s["via_commands"].as_u64()), (Some(4), Some(2)), "{s}");
    assert_eq!(guard.digest().expect("digest"), digest);
    // With --replace the oversized keys are deleted first, so a second run is exact too.
    let again = restore(&[path_str(&dump), "--to", &url, "--replace", "--format", "json"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert_eq!(guard.digest().expect("digest"), digest);
}

#[test]
fn password_from_the_environment_and_connection_failures() {
    let Some(server) = servers().into_iter().find(|s| s.flavor == Flavor::Redis && s.version.0 == 7) else { return };
    let guard = ServerGuard::start(&server).expect("start");
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("s3cret")
        .exec(&mut guard.conn().expect("conn"))
        .expect("CONFIG");
    let dump = repo_root().join("fixtures/example/dump.rdb");
    let url = format!("redis://127.0.0.1:{}", guard.port());
    let denied = restore(&[path_str(&dump), "--to", &url], &[]);
    assert_eq!(denied.status.code(), Some(3), "{}", describe(&denied));
    let ok = restore(&[path_str(&dump), "--to", &url], &[("REDISCLI_AUTH", "s3cret")]);
    assert_eq!(ok.status.code(), Some(0), "{}", describe(&ok));
    let dir = tempfile::tempdir().expect("tempdir");
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, "s3cret\n").expect("write");
    let ok = restore(&[path_str(&dump), "--to", &url, "--replace", "--password-file", path_str(&pwfile)], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", describe(&ok));
    let wrong = restore(&[path_str(&dump), "--to", &format!("redis://:nope@127.0.0.1:{}", guard.port())], &[]);
    assert_eq!(wrong.status.code(), Some(3));
    assert!(!String::from_utf8_lossy(&wrong.stderr).contains("nope"), "password printed: {}", describe(&wrong));
    let port = testkit::free_port().expect("port");
    let refused = restore(&[path_str(&dump), "--to", &format!("redis://127.0.0.1:{port}")], &[]);
    assert_eq!(refused.status.code(), Some(3), "{}", describe(&refused));
    assert_eq!(String::from_utf8_lossy(&refused.stderr).lines().count(), 1);
}

#[test]
fn tls_with_a_ca_file() {
    let Some(server) = servers().into_iter().find(|s| s.flavor == Flavor::Redis && s.version.0 == 7) else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    util::tls::make_certificates(d);
    let tls_port = testkit::free_port().expect("port");
    let p = |f: &str| d.join(f).to_string_lossy().into_owned();
    let opts = StartOptions {
        extra_args: vec![
            "--tls-port".into(),
            tls_port.to_string(),
            "--tls-cert-file".into(),
            p("server.pem"),
            "--tls-key-file".into(),
            p("server.key"),
            "--tls-ca-cert-file".into(),
            p("ca.pem"),
            "--tls-auth-clients".into(),
            "no".into(),
        ],
        ..Default::default()
    };
    let guard = ServerGuard::start_with(&server, &opts).expect("start with TLS");
    let dump = repo_root().join("fixtures/redis-7.0.15/dump.rdb");
    let (_, _, digest) = expected(&server);
    let url = format!("rediss://127.0.0.1:{tls_port}");
    let unverified = restore(&[path_str(&dump), "--to", &url], &[]);
    assert_eq!(unverified.status.code(), Some(3), "unknown CA must be refused: {}", describe(&unverified));
    let ok = restore(&[path_str(&dump), "--to", &url, "--tls-ca", &p("ca.pem")], &[]);
    assert_eq!(ok.status.code(), Some(0), "{}", describe(&ok));
    assert_eq!(guard.digest().expect("digest"), digest);
}

#[test]
fn three_master_cluster() {
    let Some(server) = servers().into_iter().find(|s| s.flavor == Flavor::Redis && s.version.0 == 7) else { return };
    let nodes = testkit::cluster::start_cluster(&server, 3).expect("3-master cluster");
    let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())).collect();
    let dump = repo_root().join("fixtures/redis-7.0.15/dump.rdb");
    let url = format!("redis://{}", addrs[1]);
    // Without --cluster the node is recognised and the command refused.
    let plain = restore(&[path_str(&dump), "--to", &url, "--db", "0"], &[]);
    assert_eq!(plain.status.code(), Some(2), "{}", describe(&plain));
    let out = restore(&[path_str(&dump), "--to", &url, "--cluster", "--db", "0", "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let (records, expiries, _) = expected(&server);
    let db0: Vec<Value> = records.into_iter().filter(|r| r["db"] == 0).collect();
    assert_eq!(summary(&out)["restored"].as_u64(), Some(db0.len() as u64));
    let mut live = Vec::new();
    let mut per_node = Vec::new();
    for n in &nodes {
        let part = testkit::live::dump_live(&mut n.conn().expect("conn"), &expiries).expect("read node");
        per_node.push(part.len());
        live.extend(part);
    }
    assert!(per_node.iter().all(|&n| n > 0), "keys spread over every master: {per_node:?}");
    compare(&db0, &live).expect("every key present with the same value");
    // Keys of other databases cannot go to a cluster: each is reported, exit 1.
    let all = restore(&[path_str(&dump), "--to", &url, "--cluster", "--replace"], &[]);
    assert_eq!(all.status.code(), Some(1), "{}", describe(&all));
    assert!(String::from_utf8_lossy(&all.stderr).contains("a cluster has only database 0"));
}
