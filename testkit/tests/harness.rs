//! The harness against every installed server: start/stop, SAVE and reload,
//! the dataset's coverage and determinism, and the live reader.
//!
//! Servers that are not installed are skipped with a note, unless
//! RDBKIT_REQUIRE_SERVERS=1 (then the test fails).

use std::collections::BTreeMap;

use anyhow::{ensure, Context, Result};
use testkit::dataset::fill;
use testkit::live::{dump_live, dump_live_records};
use testkit::ndjson::compare;
use testkit::record::Data;
use testkit::{Flavor, ServerBin, ServerGuard, StartOptions};

/// Run `check` for every expected server, naming the server in failures.
fn for_each_server(check: impl Fn(&ServerBin) -> Result<()>) -> Result<()> {
    for server in testkit::require_all()? {
        check(&server).with_context(|| format!("on {server}"))?;
    }
    Ok(())
}

#[test]
fn guard_starts_saves_reloads_and_cleans_up() -> Result<()> {
    for_each_server(|server| {
        let guard = ServerGuard::start(server)?;
        let dir = guard.dir().to_path_buf();
        let mut conn = guard.conn()?;
        redis::cmd("SET").arg("k").arg("v").query::<()>(&mut conn)?;
        let digest = guard.digest()?;
        ensure!(digest.len() == 40 && digest != "0".repeat(40), "digest {digest:?}");
        let rdb = guard.save()?;
        ensure!(rdb.starts_with(&dir), "dump {} outside {}", rdb.display(), dir.display());

        let loaded = guard.load_rdb(&rdb)?;
        ensure!(loaded.port() != guard.port(), "fresh server on another port");
        ensure!(loaded.digest()? == digest, "reloaded digest differs");
        let value: String = redis::cmd("GET").arg("k").query(&mut loaded.conn()?)?;
        ensure!(value == "v");
        ensure!(loaded.url() == format!("redis://127.0.0.1:{}/", loaded.port()));

        drop(conn);
        guard.stop()?;
        ensure!(!dir.exists(), "server directory {} left behind", dir.display());
        Ok(())
    })
}

#[test]
fn guard_reports_a_server_that_cannot_start() -> Result<()> {
    let Some(server) = testkit::require_all()?.into_iter().next() else {
        return Ok(());
    };
    let opts = StartOptions { extra_args: vec!["--no-such-option".into(), "1".into()], ..StartOptions::default() };
    let err = ServerGuard::start_with(&server, &opts).expect_err("bad option must fail");
    let msg = format!("{err:#}");
    ensure!(msg.contains("did not become ready"), "{msg}");
    ensure!(msg.contains("no-such-option"), "log tail or args missing: {msg}");
    Ok(())
}

#[test]
fn dataset_survives_save_and_reload() -> Result<()> {
    for_each_server(|server| {
        let guard = ServerGuard::start(server)?;
        let mut conn = guard.conn()?;
        let data = fill(&mut conn, server, 7)?;
        let live = dump_live(&mut conn, &data.expiries)?;
        let rdb = guard.save()?;
        let loaded = guard.load_rdb(&rdb)?;
        ensure!(loaded.digest()? == guard.digest()?, "digest changed by SAVE + load");
        let reread = dump_live(&mut loaded.conn()?, &data.expiries)?;
        compare(&live, &reread).map_err(anyhow::Error::msg)
    })
}

#[test]
fn dataset_is_deterministic_per_seed() -> Result<()> {
    let servers = testkit::require_all()?;
    // One old and one new server are enough to show it.
    for server in [servers.first(), servers.last()].into_iter().flatten() {
        let lines = |seed| -> Result<Vec<String>> {
            let guard = ServerGuard::start(server)?;
            let mut conn = guard.conn()?;
            let data = fill(&mut conn, server, seed)?;
            Ok(dump_live_records(&mut conn, &data.expiries)?.iter().map(|r| r.to_json_line()).collect())
        };
        let a = lines(3)?;
        ensure!(a == lines(3)?, "{server}: same seed, different data");
        ensure!(a != lines(4)?, "{server}: the seed has no effect");
    }
    Ok(())
}

/// `OBJECT ENCODING` of every key in db 0.
fn encodings(conn: &mut redis::Connection, keys: &[Vec<u8>]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for k in keys {
        let enc: String = redis::cmd("OBJECT").arg("ENCODING").arg(k).query(conn)?;
        out.insert(String::from_utf8_lossy(k).into_owned(), enc);
    }
    Ok(out)
}

/// The idempotent producers of `stream:idmp`, as the live server reports them.
fn check_idmp(records: &[testkit::record::Record]) -> Result<()> {
    let rec = records.iter().find(|r| r.key == b"stream:idmp").context("stream:idmp missing")?;
    let Data::Stream(s) = &rec.data else { anyhow::bail!("stream:idmp is not a stream") };
    let idmp = s.idmp.as_ref().context("stream:idmp has no IDMP state")?;
    let figures = (idmp.duration_s, idmp.max_entries, idmp.iids_added, idmp.iids_duplicates);
    ensure!(figures == (86_400, 3, 7, 2), "duration, max, added, duplicates: {figures:?}");
    let pids: Vec<&[u8]> = idmp.producers.iter().map(|p| p.pid.as_slice()).collect();
    ensure!(pids == [b"billing".as_slice(), b"orders", b"\xffsensor"], "producers {pids:?}");
    let orders: Vec<&[u8]> = idmp.producers[1].entries.iter().map(|(iid, _)| iid.as_slice()).collect();
    ensure!(orders == [b"order-2".as_slice(), b"order-3", b"order-4"], "IDs kept after eviction: {orders:?}");
    let billing = idmp.producers[0].entries.first().map(|(_, id)| *id).context("billing has no ID")?;
    ensure!(!s.entries.iter().any(|e| e.id == billing), "the billing entry was deleted, its ID stays remembered");
    Ok(())
}

#[test]
fn dataset_covers_the_encodings_of_each_version() -> Result<()> {
    for_each_server(|server| {
        let feat = server.features();
        let guard = ServerGuard::start(server)?;
        let mut conn = guard.conn()?;
        let data = fill(&mut conn, server, 1)?;
        let records = dump_live_records(&mut conn, &data.expiries)?;
        let db0: Vec<Vec<u8>> = records.iter().filter(|r| r.db == 0).map(|r| r.key.clone()).collect();
        let enc = encodings(&mut conn, &db0)?;
        let small = if feat.v70() { "listpack" } else { "ziplist" };
        let expect = |key: &str, want: &str| -> Result<()> {
            let got = enc.get(key).map(String::as_str);
            ensure!(got == Some(want), "{key}: encoding {got:?}, expected {want}");
            Ok(())
        };
        expect("str:int:-129", "int")?;
        if !feat.key_in_object() {
            // Redis 8 and Valkey 8.1+ embed the key in the object, which moves this limit.
            expect("str:len:44:pattern", "embstr")?;
            expect("str:len:45:pattern", "raw")?;
        }
        expect("set:intset:64", "intset")?;
        expect("set:intset:overflow", "hashtable")?;
        expect("set:words", if feat.set_listpack() { "listpack" } else { "hashtable" })?;
        expect("zset:scores", small)?;
        expect("zset:scores:skiplist", "skiplist")?;
        expect("hash:small", small)?;
        expect("hash:big", "hashtable")?;
        expect("list:long", "quicklist")?;
        expect("list:small", if feat.list_listpack() { "listpack" } else { "quicklist" })?;
        let hll: String = redis::cmd("PFDEBUG").arg("ENCODING").arg("str:hll:dense").query(&mut conn)?;
        ensure!(hll == "dense", "str:hll:dense is {hll}");
        let hll: String = redis::cmd("PFDEBUG").arg("ENCODING").arg("str:hll:sparse").query(&mut conn)?;
        ensure!(hll == "sparse", "str:hll:sparse is {hll}");

        // Multi-node lists, compressed nodes, multi-node streams.
        let mut ql = |key: &str, field: &str| -> Result<u64> {
            let text: String = redis::cmd("DEBUG").arg("OBJECT").arg(key).query(&mut conn)?;
            let value = text
                .split_whitespace()
                .find_map(|w| w.strip_prefix(field)?.strip_prefix(':'))
                .with_context(|| format!("no {field} in DEBUG OBJECT {key}: {text}"))?;
            Ok(value.parse()?)
        };
        ensure!(ql("list:long", "ql_nodes")? >= 2, "list:long is a single node");
        for key in ["list:packed:depth1", "list:packed:depth2"] {
            ensure!(ql(key, "ql_nodes")? >= 5, "{key} has too few nodes");
            ensure!(ql(key, "ql_compressed")? == 1, "{key} is not compressed");
        }
        for (key, nodes) in [("stream:events", 3), ("stream:bulky", 3)] {
            let info = redis::cmd("XINFO").arg("STREAM").arg(key).query::<redis::Value>(&mut conn)?;
            let redis::Value::Array(items) = info else { anyhow::bail!("XINFO STREAM reply") };
            let pos = items
                .iter()
                .position(|v| *v == redis::Value::BulkString(b"radix-tree-keys".to_vec()))
                .context("radix-tree-keys")?;
            let got = match &items[pos + 1] {
                redis::Value::Int(n) => *n,
                other => anyhow::bail!("radix-tree-keys {other:?}"),
            };
            ensure!(got >= nodes, "{key}: {got} nodes, expected at least {nodes}");
        }

        let has = |key: &str| enc.contains_key(key);
        ensure!(has("list:plain") == feat.v70(), "list:plain only on 7.0+");
        ensure!(has("stream:minid") == feat.stream_62(), "stream:minid only on 6.2+");
        ensure!(has("hash:fttl:listpack") == feat.hash_field_ttl(), "field TTL keys");
        ensure!(data.functions.len() == if feat.functions() { 2 } else { 0 });
        let with_field_ttl = records.iter().filter(|r| !r.field_expire_at_ms.is_empty()).count();
        let want_field_ttl = match (feat.hash_field_ttl(), feat.hash_field_commands()) {
            (false, _) => 0,
            (true, false) => 5,
            (true, true) => 6,
        };
        ensure!(with_field_ttl == want_field_ttl, "{with_field_ttl} hashes with field TTLs, expected {want_field_ttl}");

        // TTLs: absolute, including the year-9999 one, and one in db 1 and db 5.
        let ttl = |db: u32, key: &str| {
            records.iter().find(|r| r.db == db && r.key == key.as_bytes()).and_then(|r| r.expire_at_ms)
        };
        ensure!(ttl(0, "ttl:str:end-of-9999") == Some(253_402_300_799_999));
        ensure!(ttl(1, "ttl:db1").is_some() && ttl(5, "list:db5").is_some());
        let dbs: Vec<u32> = records.iter().map(|r| r.db).collect();
        ensure!(dbs.contains(&1) && dbs.contains(&5) && !dbs.contains(&2));

        // Stream details the parser must reproduce.
        let events = records.iter().find(|r| r.key == b"stream:events").context("stream:events missing")?;
        let Data::Stream(s) = &events.data else {
            anyhow::bail!("stream:events is not a stream");
        };
        ensure!(s.groups.len() == 4, "{} groups", s.groups.len());
        let names: Vec<&[u8]> = s.groups.iter().map(|g| g.name.as_slice()).collect();
        ensure!(names == [b"grp:\xfe".as_slice(), b"middle", b"readers", b"tail"], "group order {names:?}");
        let entry_ids: Vec<_> = s.entries.iter().map(|e| e.id).collect();
        let dangling = s.groups.iter().flat_map(|g| &g.pending).filter(|p| !entry_ids.contains(&p.id)).count();
        ensure!(dangling >= 2, "pending entries of deleted stream entries: {dangling}");
        ensure!(s.last_id > s.entries.last().map(|e| e.id).unwrap_or_default());
        let middle = &s.groups[1];
        ensure!(middle.entries_read.is_some() == feat.v70(), "entries_read {:?}", middle.entries_read);
        ensure!(s.idmp.is_some() == feat.stream_idmp(), "IDMP state {:?}", s.idmp);
        ensure!(has("hash:hsetex") == feat.hash_field_commands(), "hash:hsetex only with HSETEX");
        ensure!(has("stream:refs") == feat.stream_ref_policies(), "stream:refs only on 8.2+");
        ensure!(has("stream:idmp") == feat.stream_idmp(), "stream:idmp only on 8.6+");
        if feat.stream_idmp() {
            check_idmp(&records)?;
        }
        Ok(())
    })
}

#[test]
fn dataset_refuses_a_non_empty_server_and_a_wrong_binary() -> Result<()> {
    let servers = testkit::require_all()?;
    let Some(server) = servers.first() else {
        return Ok(());
    };
    let guard = ServerGuard::start(server)?;
    let mut conn = guard.conn()?;
    redis::cmd("SET").arg("already").arg("here").query::<()>(&mut conn)?;
    let err = fill(&mut conn, server, 1).expect_err("non-empty server");
    ensure!(format!("{err:#}").contains("not empty"), "{err:#}");

    if let Some(other) = servers.iter().find(|s| s.flavor != server.flavor || s.version != server.version) {
        let fresh = ServerGuard::start(server)?;
        let err = fill(&mut fresh.conn()?, other, 1).expect_err("version mismatch");
        ensure!(format!("{err:#}").contains("the connection is to a"), "{err:#}");
    }
    Ok(())
}

#[test]
fn live_reader_needs_recorded_expiries_before_7_0() -> Result<()> {
    for_each_server(|server| {
        let guard = ServerGuard::start(server)?;
        let mut conn = guard.conn()?;
        redis::cmd("SET").arg("t").arg("v").query::<()>(&mut conn)?;
        redis::cmd("PEXPIREAT").arg("t").arg(4_200_000_000_000i64).query::<()>(&mut conn)?;
        let unknown = testkit::ExpiryLog::new();
        let result = dump_live(&mut conn, &unknown);
        if server.features().pexpiretime() {
            let recs = result?;
            ensure!(recs[0]["expire_at_ms"] == 4_200_000_000_000i64);
        } else {
            let err = result.expect_err("unknown TTL must be an error before 7.0");
            ensure!(format!("{err:#}").contains("no recorded absolute expiry"), "{err:#}");
            let mut known = testkit::ExpiryLog::new();
            known.record(0, b"t", 4_200_000_000_000);
            ensure!(dump_live(&mut conn, &known)?[0]["expire_at_ms"] == 4_200_000_000_000i64);
            known.record(0, b"t", 4_100_000_000_000);
            ensure!(dump_live(&mut conn, &known).is_err(), "a wrong recorded time must not pass");
        }
        Ok(())
    })
}

#[test]
fn valkey_and_redis_are_told_apart() -> Result<()> {
    for_each_server(|server| {
        let guard = ServerGuard::start(server)?;
        let detected = testkit::Features::detect(&mut guard.conn()?)?;
        ensure!(detected == server.features(), "detected {detected:?}");
        ensure!(
            detected.flavor == server.flavor
                && (server.flavor == Flavor::Valkey) == (detected.flavor == Flavor::Valkey)
        );
        Ok(())
    })
}

#[test]
fn command_probe_catches_a_wrong_feature_table() -> Result<()> {
    for_each_server(|server| {
        let guard = ServerGuard::start(server)?;
        let mut conn = guard.conn()?;
        server.features().check_commands(&mut conn)?;
        // Claim the opposite about hash field TTLs.
        let wrong = if server.features().hash_field_ttl() {
            testkit::Features::new(Flavor::Valkey, (8, 1, 0))
        } else {
            testkit::Features::new(Flavor::Redis, (7, 4, 0))
        };
        let err = wrong.check_commands(&mut conn).expect_err("wrong table must be caught");
        ensure!(format!("{err:#}").contains("version table says"), "{err:#}");
        Ok(())
    })
}
