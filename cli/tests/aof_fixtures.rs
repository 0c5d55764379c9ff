//! The shared fixtures' AOFs (every layout, from nine server versions) replayed by
//! `rdbkit convert --to ndjson` must hold exactly what each server held after loading
//! them (`expected.ndjson`); `aof rewrite` of each must hold the same again.

mod util;

use std::path::{Path, PathBuf};

use testkit::ndjson::compare;
use util::{describe, path_str, rdbkit, shared_fixtures};

fn records(text: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(text).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect()
}

fn aof_dirs(server: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for variant in ["aof-preamble-rdb", "aof-resp", "aof-timestamps"] {
        let dir = server.join(variant);
        let aof =
            if dir.join("appendonlydir").is_dir() { dir.join("appendonlydir") } else { dir.join("appendonly.aof") };
        if aof.exists() {
            out.push((aof, dir.join("expected.ndjson")));
        }
    }
    out
}

/// A RESP base cannot hold pending entries whose stream entry was deleted (XCLAIM
/// drops them), exactly like the servers' own RESP rewrite.
fn without_orphan_pending(records: &[serde_json::Value]) -> Vec<serde_json::Value> {
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r["type"] == "stream" {
                let ids: Vec<serde_json::Value> =
                    r["value"]["entries"].as_array().into_iter().flatten().map(|e| e["id"].clone()).collect();
                for g in r["value"]["groups"].as_array_mut().into_iter().flatten() {
                    if let Some(p) = g["pending"].as_array_mut() {
                        p.retain(|e| ids.contains(&e["id"]));
                    }
                }
            }
            r
        })
        .collect()
}

#[test]
fn fixture_aofs_replay_to_what_the_servers_loaded() {
    let Some(root) = shared_fixtures() else { return };
    let mut checked = 0;
    for server in util::server_dirs(&root) {
        for (aof, expected) in aof_dirs(&server) {
            let out = rdbkit(&["convert", "--to", "ndjson", path_str(&aof)]);
            assert_eq!(out.status.code(), Some(0), "{}: {}", aof.display(), describe(&out));
            let expected = records(&std::fs::read(&expected).expect("expected.ndjson"));
            compare(&expected, &records(&out.stdout)).unwrap_or_else(|e| panic!("{}: {e}", aof.display()));
            let dir = tempfile::tempdir().expect("tmp");
            let new = dir.path().join("new");
            let out = rdbkit(&["aof", "rewrite", path_str(&aof), "-o", path_str(&new)]);
            assert_eq!(out.status.code(), Some(0), "rewrite {}: {}", aof.display(), describe(&out));
            let out = rdbkit(&["convert", "--to", "ndjson", path_str(&new)]);
            assert_eq!(out.status.code(), Some(0), "{}: {}", new.display(), describe(&out));
            let resp_base = std::fs::read_dir(&new).expect("new dir").any(|e| {
                let name = e.expect("entry").file_name().to_string_lossy().into_owned();
                name.ends_with(".base.aof")
                    || name == "appendonly.aof"
                        && !std::fs::read(new.join(&name)).unwrap_or_default().starts_with(b"REDIS")
            });
            let expected = if resp_base { without_orphan_pending(&expected) } else { expected };
            compare(&expected, &records(&out.stdout)).unwrap_or_else(|e| panic!("rewrite of {}: {e}", aof.display()));
            checked += 1;
        }
    }
    assert!(checked > 0, "no fixture AOF found");
}
