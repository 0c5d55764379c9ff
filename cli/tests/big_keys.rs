//! Keys too big to hold in their owned form: `convert --to ndjson` and `--to json`
//! write them in pieces (lists and streams as read, sets, hashes and sorted sets sorted
//! from a compact copy, long strings in pieces of text). Against every real server:
//! the records must still be exactly what the live server holds.
//!
//! Moved to an older or newer server (`convert --to rdb --target`, where big values are
//! copied or rewritten node by node, and `restore`, where they go as one payload), every
//! key must load there with the same DEBUG DIGEST-VALUE.
//!
//! With RDBKIT_REQUIRE_SERVERS=1 (CI) a missing server fails the test.

mod util;

use std::path::Path;

use redis::Connection;
use serde_json::Value;
use testkit::ndjson::compare;
use testkit::{ExpiryLog, ServerBin, ServerGuard};
use util::{convert_ndjson, describe, path_str, rdbkit};

/// Elements per big key: the list and the stream pass the 4 MiB at which they go in
/// pieces (list items of 35 bytes and more), the others are large packed collections.
const ITEMS: u64 = 150_000;

fn fill(c: &mut Connection) -> anyhow::Result<()> {
    for start in (0..ITEMS).step_by(1000) {
        let range = start..start + 1000;
        let mut p = redis::pipe();
        p.cmd("RPUSH")
            .arg("big:list")
            .arg(range.clone().map(|i| format!("item:{i:06}:{:>24}", i % 7)).collect::<Vec<_>>());
        p.cmd("SADD")
            .arg("big:set")
            .arg(range.clone().map(|i| format!("member:{}", i * 7919 % ITEMS)).collect::<Vec<_>>());
        let mut zadd = redis::cmd("ZADD");
        zadd.arg("big:zset");
        for i in range.clone() {
            // Ties (scores repeat every 1000 members) and negative scores.
            zadd.arg((i % 1000) as f64 - 500.5).arg(format!("z:{}", ITEMS - i));
        }
        p.add_command(zadd);
        let mut hset = redis::cmd("HSET");
        hset.arg("big:hash");
        for i in range.clone() {
            hset.arg(format!("field:{}", i * 31 % ITEMS)).arg(format!("value \"{i}\" é"));
        }
        p.add_command(hset);
        for i in range {
            p.cmd("XADD").arg("big:stream").arg(format!("{}-0", i + 1)).arg("sensor").arg(i % 97).arg("reading").arg(i);
        }
        p.query::<()>(c)?;
    }
    // Field expiries (Redis 7.4+): the first field read may have one or not.
    if testkit::Features::detect(c)?.hash_field_ttl() {
        let at = "4102444800000"; // 2100-01-01
        redis::cmd("HPEXPIREAT")
            .arg("big:hash")
            .arg(at)
            .arg("FIELDS")
            .arg(3)
            .arg("field:0")
            .arg("field:31")
            .arg("field:62")
            .query::<()>(c)?;
    }
    // A hash with a binary field name (records it as pairs, not an object) goes big too.
    let mut p = redis::pipe();
    for start in (0..ITEMS).step_by(1000) {
        let mut hset = redis::cmd("HSET");
        hset.arg("big:binary-hash").arg(&b"\xff\xfe"[..]).arg("v");
        for i in start..start + 1000 {
            hset.arg(format!("f{i}")).arg(i);
        }
        p.add_command(hset);
    }
    p.query::<()>(c)?;
    // Strings: binary (base64 in pieces) and UTF-8 with characters to escape.
    let binary: Vec<u8> = (0..5_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let text = "line \"quoted\" é\n\u{1}".repeat(200_000);
    redis::cmd("SET").arg("big:binary").arg(binary).query::<()>(c)?;
    redis::cmd("SET").arg("big:text").arg(text).query::<()>(c)?;
    redis::cmd("XGROUP").arg("CREATE").arg("big:stream").arg("readers").arg("0").query::<()>(c)?;
    redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg("readers")
        .arg("alice")
        .arg("COUNT")
        .arg(3)
        .arg("STREAMS")
        .arg("big:stream")
        .arg(">")
        .query::<redis::Value>(c)?;
    // An ordinary key after the big ones.
    redis::cmd("SET").arg("small").arg("after").query::<()>(c)?;
    Ok(())
}

fn check_server(server: &ServerBin) -> anyhow::Result<()> {
    let origin = ServerGuard::start(server)?;
    let mut conn = origin.conn()?;
    fill(&mut conn)?;
    let live = testkit::live::dump_live(&mut conn, &ExpiryLog::new())?;
    let dump = origin.save()?;

    let parsed = convert_ndjson(&dump);
    compare(&live, &parsed)
        .map_err(|d| anyhow::anyhow!("{}: the big keys differ from the live server:\n{d}", server.name()))?;

    let out = rdbkit(&["convert", "--to", "json", path_str(&dump)]);
    assert_eq!(out.status.code(), Some(0), "{}: {}", server.name(), describe(&out));
    let array: Vec<Value> = serde_json::from_slice(&out.stdout)?;
    assert_eq!(array, parsed, "{}: --to json holds the NDJSON records", server.name());
    check_other_targets(server, &mut conn, &dump)
}

/// Moves `dump` to the same server, the oldest and the newest other installed server of
/// `server`'s family, each time both as a file written for it (`convert --to rdb
/// --target`, loaded at start-up) and with `restore` into it, and compares each key's
/// DEBUG DIGEST-VALUE there with the origin's (`conn`). Hashes with field expiries are
/// left out.
fn check_other_targets(server: &ServerBin, conn: &mut Connection, dump: &Path) -> anyhow::Result<()> {
    let servers = util::installed_servers().unwrap_or_default();
    let family = || servers.iter().filter(|t| t.flavor == server.flavor);
    let oldest = family().filter(|t| t.version < server.version).min_by_key(|t| t.version);
    let newest = family().filter(|t| t.version > server.version).max_by_key(|t| t.version);
    for target in oldest.into_iter().chain(newest) {
        check_target(server, conn, dump, target, false)?;
    }
    for target in std::iter::once(server).chain(oldest) {
        check_target(server, conn, dump, target, true)?;
    }
    Ok(())
}

/// Writes `dump` for `target` and loads it there (`restore`: restores it into a fresh
/// one), then compares the keys' digests.
fn check_target(
    server: &ServerBin,
    conn: &mut Connection,
    dump: &Path,
    target: &ServerBin,
    restore: bool,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("older.rdb");
    let t = format!(
        "{}-{}.{} ({})",
        target.flavor,
        target.version.0,
        target.version.1,
        ["file", "restore"][restore as usize]
    );
    let loaded = if restore {
        let fresh = ServerGuard::start(target)?;
        let run = rdbkit(&["restore", "-q", path_str(dump), "--to", &fresh.url(), "--lossy"]);
        anyhow::ensure!(run.status.code() == Some(0), "{} -> {t}: {}", server.name(), describe(&run));
        fresh
    } else {
        let name = format!("{}-{}.{}", target.flavor, target.version.0, target.version.1);
        let args = ["convert", path_str(dump), "--to", "rdb", "--target", &name, "--lossy", "-o", path_str(&out)];
        let run = rdbkit(&args);
        anyhow::ensure!(run.status.code() == Some(0), "{} -> {t}: {}", server.name(), describe(&run));
        ServerGuard::start_with_rdb(target, &out)?
    };
    let mut there = loaded.conn()?;
    let mut keys =
        vec!["big:list", "big:set", "big:zset", "big:binary-hash", "big:binary", "big:text", "big:stream", "small"];
    if !testkit::Features::detect(conn)?.hash_field_ttl() {
        keys.push("big:hash");
    }
    for key in keys {
        let digest = |c: &mut Connection| redis::cmd("DEBUG").arg("DIGEST-VALUE").arg(key).query::<redis::Value>(c);
        let (want, got) = (digest(conn)?, digest(&mut there)?);
        anyhow::ensure!(want == got, "{} -> {t}: {key} differs after loading ({want:?} / {got:?})", server.name());
    }
    // The digest covers a stream's entries; its consumer group is compared as well.
    let (want, got) = (stream_group_state(conn)?, stream_group_state(&mut there)?);
    anyhow::ensure!(want == got, "{} -> {t}: the big stream's group differs ({want:?} / {got:?})", server.name());
    Ok(())
}

/// What every server version reports of big:stream's consumer groups (name, consumers,
/// pending count, last delivered ID) and their pending entries (XPENDING's summary).
fn stream_group_state(c: &mut Connection) -> anyhow::Result<Vec<String>> {
    let groups: Vec<std::collections::HashMap<String, redis::Value>> =
        redis::cmd("XINFO").arg("GROUPS").arg("big:stream").query(c)?;
    let text = |v: Option<&redis::Value>| redis::from_redis_value_ref::<String>(v.unwrap_or(&redis::Value::Nil));
    let mut state = Vec::new();
    for g in &groups {
        for field in ["name", "consumers", "pending", "last-delivered-id"] {
            state.push(format!("{field}: {:?}", g.get(field)));
        }
        let pending: redis::Value = redis::cmd("XPENDING").arg("big:stream").arg(text(g.get("name"))?).query(c)?;
        state.push(format!("pending: {pending:?}"));
    }
    anyhow::ensure!(!groups.is_empty(), "big:stream has no consumer group");
    Ok(state)
}

#[test]
fn big_keys_in_pieces_match_live_servers() {
    util::check_each_server(check_server);
}
