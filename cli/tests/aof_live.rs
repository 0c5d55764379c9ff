//! Against every installed server: an AOF written under a randomized workload (with a
//! BGREWRITEAOF half way; RESP and RDB-preamble bases; `#TS:` marks on 7.0+) must
//! survive `rdbkit aof rewrite`, `convert --to rdb` and that RDB `--to aof`: the same server loading the
//! result holds the same DEBUG DIGEST, keys, values, expiries and function libraries as
//! the same server loading the original, and the rewrite is smaller. `convert --to
//! ndjson` of the original must be that same dataset.

mod util;

use std::path::Path;

use redis::Value;
use serde_json::Value as Json;
use testkit::live::dump_live;
use testkit::ndjson::compare;
use testkit::{ExpiryLog, ServerBin, ServerGuard};
use util::aof::{load_aof, real_aof_with, servers, AofKind};
use util::{describe, path_str, rdbkit};

/// Keys, values, expiries of a loaded server (exact on 7.0+, checked against PTTL before).
fn state(g: &ServerGuard, expiries: &ExpiryLog) -> Vec<Json> {
    let mut c = g.conn().expect("conn");
    // Keys whose TTL passed while loading are deleted right after; wait for that.
    dump_live(&mut c, expiries).unwrap_or_else(|e| panic!("{}: {e:#}", g.server()))
}

/// Every bulk string of `FUNCTION LIST WITHCODE`, sorted (libraries and their code).
fn functions(g: &ServerGuard) -> Vec<Vec<u8>> {
    if !g.server().features().functions() {
        return Vec::new();
    }
    let mut c = g.conn().expect("conn");
    let v: Value = redis::cmd("FUNCTION").arg("LIST").arg("WITHCODE").query(&mut c).expect("FUNCTION LIST");
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<Vec<u8>>) {
        match v {
            Value::BulkString(b) => out.push(b.clone()),
            Value::SimpleString(s) => out.push(s.as_bytes().to_vec()),
            Value::Array(items) | Value::Set(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Map(pairs) => pairs.iter().for_each(|(k, v)| {
                walk(k, out);
                walk(v, out);
            }),
            _ => {}
        }
    }
    walk(&v, &mut out);
    out.sort();
    out
}

/// Without the IDMP state of streams that never saw an idempotent producer: Redis 8.6
/// reports its defaults for every stream, which an AOF of commands cannot reveal.
fn without_default_idmp(records: &[Json]) -> Vec<Json> {
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let idle = |i: &Json| {
                i["producers"].as_array().is_some_and(Vec::is_empty)
                    && i["iids_added"] == 0
                    && i["iids_duplicates"] == 0
            };
            if let Some(v) = r["value"].as_object_mut().filter(|v| v.get("idmp").is_some_and(idle)) {
                v.remove("idmp");
            }
            r
        })
        .collect()
}

fn size(p: &Path) -> u64 {
    if p.is_dir() {
        std::fs::read_dir(p).expect("dir").map(|e| e.expect("entry").metadata().expect("meta").len()).sum()
    } else {
        std::fs::metadata(p).expect("meta").len()
    }
}

fn round_trip(server: &ServerBin, kind: AofKind, work: &Path) {
    let (aof, expiries) = real_aof_with(server, kind, work);
    let what = format!(
        "{server} {}",
        aof.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    );
    let original = load_aof(server, &aof);
    let digest = original.digest().expect("digest");
    let live = state(&original, &expiries);
    let libs = functions(&original);
    drop(original);

    let out = rdbkit(&["convert", "--to", "ndjson", path_str(&aof)]);
    assert_eq!(out.status.code(), Some(0), "{what}: convert: {}", describe(&out));
    let replayed: Vec<Json> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    compare(&without_default_idmp(&live), &without_default_idmp(&replayed))
        .unwrap_or_else(|e| panic!("{what}: convert --to ndjson differs from the loaded server: {e}"));

    let new = aof.parent().expect("parent").join("rewritten");
    let out = rdbkit(&["aof", "rewrite", path_str(&aof), "-o", path_str(&new), "--target", &target_name(server)]);
    assert_eq!(out.status.code(), Some(0), "{what}: rewrite: {}", describe(&out));
    assert!(
        size(&new) < size(&aof),
        "{what}: the rewrite ({} bytes) is not smaller than the original ({} bytes)",
        size(&new),
        size(&aof)
    );
    let new_aof = if new.join("appendonly.aof").is_file() { new.join("appendonly.aof") } else { new.clone() };
    let rewritten = load_aof(server, &new_aof);
    assert_eq!(rewritten.digest().expect("digest"), digest, "{what}: DEBUG DIGEST after the rewrite");
    compare(&live, &state(&rewritten, &expiries)).unwrap_or_else(|e| panic!("{what}: after the rewrite: {e}"));
    assert_eq!(functions(&rewritten), libs, "{what}: function libraries after the rewrite");
    drop(rewritten);

    let rdb = aof.parent().expect("parent").join("converted.rdb");
    let out =
        rdbkit(&["convert", "--to", "rdb", path_str(&aof), "-o", path_str(&rdb), "--target", &target_name(server)]);
    assert_eq!(out.status.code(), Some(0), "{what}: convert --to rdb: {}", describe(&out));
    let from_rdb = ServerGuard::start_with_rdb(server, &rdb).expect("load the RDB");
    assert_eq!(from_rdb.digest().expect("digest"), digest, "{what}: DEBUG DIGEST of convert --to rdb");
    drop(from_rdb);

    // That RDB streamed into a new appendonlydir loads the same dataset again.
    let dir = aof.parent().expect("parent").join("from-rdb");
    let out =
        rdbkit(&["convert", "--to", "aof", path_str(&rdb), "-o", path_str(&dir), "--target", &target_name(server)]);
    assert_eq!(out.status.code(), Some(0), "{what}: convert an RDB --to aof: {}", describe(&out));
    let from_rdb_aof = if dir.join("appendonly.aof").is_file() { dir.join("appendonly.aof") } else { dir.clone() };
    let loaded = load_aof(server, &from_rdb_aof);
    assert_eq!(loaded.digest().expect("digest"), digest, "{what}: DEBUG DIGEST of an RDB converted --to aof");
}

/// The `--target` name of a server binary (`redis-7.0`, `valkey-9.1`).
fn target_name(s: &ServerBin) -> String {
    format!("{}-{}.{}", s.flavor, s.version.0, s.version.1)
}

#[test]
fn rewrite_and_convert_keep_what_the_server_loads() {
    let work = tempfile::tempdir().expect("tmp");
    for server in servers() {
        let ts = server.features().v70();
        for (preamble, timestamps) in [(false, false), (true, ts)] {
            round_trip(&server, AofKind { preamble, timestamps, rounds: 20 }, work.path());
        }
    }
}
