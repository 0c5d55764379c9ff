//! `convert --to rdb` against real servers: every fixture dump is written for its own
//! server and for every older installed server, each output must pass that server's
//! own `redis-check-rdb`, load into it, and hold the same data (same DEBUG DIGEST when
//! nothing that the digest covers had to be left out).

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use testkit::ndjson::{compare, read_ndjson};
use testkit::{ExpiryLog, Flavor, ServerBin, ServerGuard};
use util::{describe, path_str, rdbkit, repo_root, server_dirs};

/// The fixture's server (from its directory name).
fn fixture_server(dir: &Path, servers: &[ServerBin]) -> Option<ServerBin> {
    let name = dir.file_name()?.to_str()?;
    servers.iter().find(|s| s.name() == name).cloned()
}

/// Runs `server` as its own `redis-check-rdb` (the servers switch modes on argv[0]).
fn check_rdb(server: &ServerBin, file: &Path) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    let out = Command::new(&server.path)
        .arg0("redis-check-rdb")
        .arg(file)
        .output()
        .map_err(|e| format!("run check-rdb: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{} check-rdb failed: {}", server.name(), String::from_utf8_lossy(&out.stdout)))
    }
}

/// The idempotent-producer state of a stream that never had producers, on a server
/// with the default `stream-idmp-*` settings.
fn new_stream_idmp() -> Value {
    serde_json::json!({"duration_s": 100, "max_entries": 100, "producers": [], "iids_added": 0, "iids_duplicates": 0})
}

/// What the loaded server must hold: the expected records without what was reported lost.
fn expected_after(records: &[Value], stderr: &str, target: &ServerBin) -> Vec<Value> {
    records
        .iter()
        .filter(|r| {
            let key = serde_json::to_string(&r["key"]).unwrap_or_default();
            !stderr.lines().any(|l| l.contains("key left out") && l.contains(&format!("key {}", key.trim_matches('"'))))
        })
        .map(|r| {
            let mut r = r.clone();
            if stderr.contains("field TTL") {
                if let Some(o) = r.as_object_mut() {
                    o.remove("field_expire_at_ms");
                }
            }
            if stderr.contains("consumer-group entries-read") && r["type"] == "stream" {
                for g in r["value"]["groups"].as_array_mut().into_iter().flatten() {
                    g["entries_read"] = Value::Null;
                }
            }
            if r["type"] == "stream" {
                // Servers without idempotent producers have no such state; the others
                // give every stream one, a new stream's when the file has none.
                if let Some(v) = r["value"].as_object_mut() {
                    if target.features().stream_idmp() {
                        v.entry("idmp").or_insert_with(new_stream_idmp);
                    } else {
                        v.remove("idmp");
                    }
                }
            }
            r
        })
        .collect()
}

fn convert_and_load(fixture: &Path, source: &ServerBin, target: &ServerBin) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out_path: PathBuf = dir.path().join("out.rdb");
    let t = format!("{}-{}.{}", target.flavor, target.version.0, target.version.1);
    let dump = fixture.join("dump.rdb");
    let run =
        rdbkit(&["convert", path_str(&dump), "--to", "rdb", "--target", &t, "--lossy", "-o", path_str(&out_path)]);
    if run.status.code() != Some(0) {
        return Err(format!("convert to {t}: {}", describe(&run)));
    }
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    let verify = rdbkit(&["verify", path_str(&out_path)]);
    if verify.status.code() != Some(0) {
        return Err(format!("rdbkit verify of the {t} output: {}", describe(&verify)));
    }
    check_rdb(target, &out_path)?;
    let server = ServerGuard::start_with_rdb(target, &out_path).map_err(|e| format!("{t} does not load it: {e:#}"))?;
    let records = read_ndjson(&fixture.join("expected.ndjson")).map_err(|e| e.to_string())?;
    let expiries = ExpiryLog::from_records(&records).map_err(|e| e.to_string())?;
    let mut conn = server.conn().map_err(|e| e.to_string())?;
    let live = testkit::live::dump_live(&mut conn, &expiries).map_err(|e| format!("{e:#}"))?;
    let idmp_used = records.iter().any(|r| r["value"].get("idmp").is_some_and(|i| *i != new_stream_idmp()));
    if idmp_used && !target.features().stream_idmp() && !stderr.contains("idempotent-producer state") {
        return Err(format!("{} -> {t}: the loss of the IDMP state is not reported: {stderr}", source.name()));
    }
    let want = expected_after(&records, &stderr, target);
    compare(&want, &live).map_err(|d| format!("{} -> {t}: loaded data differs:\n{d}", source.name()))?;
    // Field TTLs and dropped keys change the digest; everything else must not. Valkey
    // and Redis compute DEBUG DIGEST differently for the same data, so digests are
    // compared within one server family (contents were compared above in every case).
    let digest_kept =
        !stderr.contains("field TTL") && !stderr.contains("key left out") && source.flavor == target.flavor;
    if digest_kept {
        let info: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture.join("info.json")).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
        let digest = server.digest().map_err(|e| e.to_string())?;
        if info["debug_digest"] != digest.as_str() {
            return Err(format!("{} -> {t}: DEBUG DIGEST {digest}, source {}", source.name(), info["debug_digest"]));
        }
    }
    Ok(())
}

#[test]
fn fixtures_convert_to_their_own_and_older_servers() {
    let Some(servers) = util::installed_servers() else { return };
    let mut failures = Vec::new();
    let mut pairs = 0;
    for fixture in server_dirs(&repo_root().join("fixtures")) {
        let Some(source) = fixture_server(&fixture, &servers) else { continue };
        // Its own server and every older one; Valkey sources also go to every Redis
        // installed (all of them read older RDB versions).
        let older = |t: &&ServerBin| {
            t.version <= source.version && !(t.flavor == Flavor::Valkey && source.flavor == Flavor::Redis)
        };
        for target in servers.iter().filter(older) {
            pairs += 1;
            if let Err(e) = convert_and_load(&fixture, &source, target) {
                failures.push(e);
            }
        }
    }
    assert!(pairs >= 20, "only {pairs} conversions tried");
    assert!(failures.is_empty(), "{} of {pairs} conversions failed:\n{}", failures.len(), failures.join("\n\n"));
}

/// The RESIZEDB hints of the input reach the output (the key filter used to drop them).
#[test]
fn resizedb_hints_are_kept() {
    let input = repo_root().join("fixtures/redis-7.0.15/dump.rdb");
    let dir = tempfile::tempdir().expect("temp dir");
    let output = dir.path().join("out.rdb");
    let out = rdbkit(&["convert", path_str(&input), "--to", "rdb", "-o", path_str(&output)]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let hints = |file: &Path| -> Vec<Value> {
        let out = rdbkit(&["info", "--format", "json", path_str(file)]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        let info: Value = serde_json::from_slice(&out.stdout).expect("info JSON");
        info["databases"].as_array().expect("databases").iter().map(|d| d["resizedb_hint"].clone()).collect()
    };
    let want = hints(&input);
    assert!(want.iter().all(|h| h.is_object()), "the fixture has hints: {want:?}");
    assert_eq!(hints(&output), want);
}
