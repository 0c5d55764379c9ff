//! Against every real server installed: fill it, save, and check that rdbkit reads the
//! dump back as exactly what the live server held, and that `convert --to resp` piped
//! into a fresh server of the same version recreates the same dataset (same DEBUG
//! DIGEST, same contents).
//!
//! With RDBKIT_REQUIRE_SERVERS=1 (CI) a missing server fails the test.

mod util;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use testkit::ndjson::compare;
use testkit::{ServerBin, ServerGuard};
use util::{convert_ndjson, describe, path_str, rdbkit};

const SEED: u64 = 7;

/// What the RESP form cannot carry over, per server line, removed from the expected
/// records before comparing a replayed server with the original.
fn expected_after_replay(server: &ServerBin, records: &[Value]) -> Vec<Value> {
    let (major, minor, _) = server.version;
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if r["type"] != "stream" {
                return r;
            }
            let ids: Vec<Value> =
                r["value"]["entries"].as_array().into_iter().flatten().map(|e| e["id"].clone()).collect();
            if let Some(idmp) = r["value"].get_mut("idmp") {
                // XCFGSET and XIDMPRECORD bring back the settings and the remembered IDs
                // of entries that still exist (as the server's own AOF rewrite does); no
                // command sets the two counters: each XIDMPRECORD counts as one ID added.
                let mut recorded = 0;
                if let Some(producers) = idmp["producers"].as_array_mut() {
                    for p in producers.iter_mut() {
                        if let Some(entries) = p["entries"].as_array_mut() {
                            entries.retain(|e| ids.contains(&e["id"]));
                        }
                    }
                    producers.retain(|p| p["entries"].as_array().is_some_and(|e| !e.is_empty()));
                    recorded = producers.iter().filter_map(|p| p["entries"].as_array()).map(Vec::len).sum::<usize>();
                }
                idmp["iids_added"] = recorded.into();
                idmp["iids_duplicates"] = 0.into();
            }
            for g in r["value"]["groups"].as_array_mut().into_iter().flatten() {
                // XCLAIM drops pending entries whose stream entry was deleted (the
                // servers' own AOF rewrite loses them the same way).
                if let Some(p) = g["pending"].as_array_mut() {
                    p.retain(|e| ids.contains(&e["id"]));
                }
                if (major, minor) < (6, 2) {
                    // No XGROUP CREATECONSUMER before 6.2: only consumers with pending
                    // entries come back.
                    let owners: Vec<Value> =
                        g["pending"].as_array().into_iter().flatten().map(|p| p["consumer"].clone()).collect();
                    if let Some(c) = g["consumers"].as_array_mut() {
                        c.retain(|c| owners.contains(&c["name"]));
                    }
                }
            }
            r
        })
        .collect()
}

/// Pipes `rdbkit convert --to resp dump` into `redis-cli --pipe` against `port`.
fn replay(dump: &std::path::Path, port: u16) {
    let cli = testkit::redis_cli().expect("redis-cli (scripts/install-servers.sh links it)");
    let resp = rdbkit(&["convert", "--to", "resp", path_str(dump)]);
    assert_eq!(resp.status.code(), Some(0), "convert --to resp: {}", describe(&resp));
    let mut child = Command::new(cli)
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start redis-cli");
    child.stdin.take().expect("stdin").write_all(&resp.stdout).expect("feed redis-cli");
    let out = child.wait_with_output().expect("redis-cli");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("errors: 0"),
        "redis-cli --pipe: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_server(server: &ServerBin) -> anyhow::Result<()> {
    let origin = ServerGuard::start(server)?;
    let mut conn = origin.conn()?;
    let data = testkit::dataset::fill(&mut conn, server, SEED)?;
    let live = testkit::live::dump_live(&mut conn, &data.expiries)?;
    let digest = origin.digest()?;
    let dump = origin.save()?;

    let verify = rdbkit(&["verify", path_str(&dump)]);
    assert_eq!(verify.status.code(), Some(0), "{}: {}", server.name(), describe(&verify));
    let parsed = convert_ndjson(&dump);
    compare(&live, &parsed)
        .map_err(|d| anyhow::anyhow!("{}: the dump differs from the live server:\n{d}", server.name()))?;

    let fresh = ServerGuard::start(server)?;
    replay(&dump, fresh.port());
    assert_eq!(fresh.digest()?, digest, "{}: DEBUG DIGEST after replaying the RESP stream", server.name());
    let replayed = testkit::live::dump_live(&mut fresh.conn()?, &data.expiries)?;
    compare(&expected_after_replay(server, &live), &replayed)
        .map_err(|d| anyhow::anyhow!("{}: replayed server differs:\n{d}", server.name()))?;
    if !data.functions.is_empty() {
        let libs = match redis::cmd("FUNCTION").arg("LIST").query::<redis::Value>(&mut fresh.conn()?)? {
            redis::Value::Array(libs) => libs.len(),
            other => anyhow::bail!("{}: FUNCTION LIST replied {other:?}", server.name()),
        };
        assert_eq!(libs, data.functions.len(), "{}: function libraries after replay", server.name());
    }
    Ok(())
}

#[test]
fn dumps_match_live_servers_and_resp_replays_them() {
    util::check_each_server(check_server);
}
