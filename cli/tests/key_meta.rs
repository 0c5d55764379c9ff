//! Key metadata (Redis 8.6, RDB 13 opcode 243) from a real server. Redis's own test
//! module `test_keymeta` attaches metadata to keys of every kind; the dump converts to
//! NDJSON with it, and the writer's copy for redis-8.6 loads back into a server with the
//! same metadata and the same DEBUG DIGEST. For an older target the loss is reported.
//!
//! With RDBKIT_REQUIRE_SERVERS=1 (CI) a missing Redis 8.6 or module fails the test.

mod util;

use std::path::Path;

use serde_json::Value;
use testkit::{Flavor, ServerBin, ServerGuard, StartOptions};
use util::{convert_ndjson, describe, path_str, rdbkit};

/// The metadata class: its 4-character name and version.
const CLASS: &str = "KMT1";
const VERSION: u64 = 3;

/// Keys with metadata (and the string attached to each), and one key without.
const TAGGED: [(&str, &str); 5] =
    [("s", "string meta"), ("h", "hash meta"), ("x", "stream meta"), ("l", "list meta"), ("t", "expiring meta")];
const PLAIN: &str = "plain";

/// A Redis 8.6 server with the module loaded and the class registered (saved and
/// loaded with the keys; the loader may drop it where no module claims it).
fn start(server: &ServerBin, module: &Path) -> anyhow::Result<ServerGuard> {
    let opts = StartOptions {
        extra_args: vec!["--loadmodule".into(), module.display().to_string()],
        ..StartOptions::default()
    };
    let guard = ServerGuard::start_with(server, &opts)?;
    let mut conn = guard.conn()?;
    redis::cmd("KEYMETA.REGISTER")
        .arg(CLASS)
        .arg(VERSION)
        .arg("RDBLOAD:RDBSAVE:ALLOWIGNORE")
        .query::<i64>(&mut conn)?;
    Ok(guard)
}

fn fill(conn: &mut redis::Connection) -> anyhow::Result<()> {
    redis::cmd("SET").arg("s").arg("v").query::<()>(conn)?;
    redis::cmd("HSET").arg("h").arg("f").arg("v").query::<()>(conn)?;
    redis::cmd("XADD").arg("x").arg("1-1").arg("f").arg("v").query::<()>(conn)?;
    redis::cmd("RPUSH").arg("l").arg("a").arg("b").query::<()>(conn)?;
    redis::cmd("SET").arg("t").arg("v").query::<()>(conn)?;
    redis::cmd("PEXPIREAT").arg("t").arg(4_102_444_800_000i64).query::<()>(conn)?;
    redis::cmd("SET").arg(PLAIN).arg("v").query::<()>(conn)?;
    for (key, meta) in TAGGED {
        redis::cmd("KEYMETA.SET").arg(CLASS).arg(key).arg(meta).query::<()>(conn)?;
    }
    Ok(())
}

/// Every tagged key carries the class with its string, and the plain key nothing.
fn check_records(records: &[Value]) {
    for r in records {
        let key = r["key"].as_str().expect("key");
        let Some((_, meta)) = TAGGED.iter().find(|(k, _)| *k == key) else {
            assert!(r.get("key_meta").is_none(), "{key} has no metadata: {r}");
            continue;
        };
        let classes = r["key_meta"].as_array().unwrap_or_else(|| panic!("{key} lacks key_meta: {r}"));
        let [class] = classes.as_slice() else { panic!("{key}: one class expected: {r}") };
        assert_eq!((class["class"].as_str(), class["version"].as_u64()), (Some(CLASS), Some(VERSION)), "{key}");
        assert_eq!(class["flags"].as_u64().map(|f| f & 1), Some(1), "{key}: allow-ignore flag");
        // The module saves its string, then a signed integer, a float and a long double.
        let ops = class["ops"].as_array().expect("ops");
        assert_eq!(ops.len(), 4, "{key}: {ops:?}");
        assert_eq!(ops[0], serde_json::json!(["string", meta]), "{key}");
        assert_eq!(ops[2], serde_json::json!(["float", 1.5]), "{key}");
    }
    assert_eq!(records.len(), TAGGED.len() + 1);
}

fn check(server: &ServerBin, module: &Path) -> anyhow::Result<()> {
    let origin = start(server, module)?;
    fill(&mut origin.conn()?)?;
    let digest = origin.digest()?;
    let dump = origin.save()?;
    let verify = rdbkit(&["verify", path_str(&dump)]);
    assert_eq!(verify.status.code(), Some(0), "{}", describe(&verify));
    let records = convert_ndjson(&dump);
    check_records(&records);

    let dir = tempfile::tempdir()?;
    let copy = dir.path().join("copy.rdb");
    let run = rdbkit(&["convert", path_str(&dump), "--to", "rdb", "--target", "redis-8.6", "-o", path_str(&copy)]);
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    assert!(run.stderr.is_empty(), "nothing is lost: {}", describe(&run));
    assert_eq!(convert_ndjson(&copy), records, "the copy reads the same");

    // A server with the class registered loads the copy: same metadata, same digest.
    let loaded = start(server, module)?;
    std::fs::copy(&copy, loaded.dir().join(testkit::guard::DUMP_FILE))?;
    let mut conn = loaded.conn()?;
    redis::cmd("DEBUG").arg("RELOAD").arg("NOSAVE").query::<()>(&mut conn)?;
    for (key, meta) in TAGGED {
        let got: Option<String> = redis::cmd("KEYMETA.GET").arg(CLASS).arg(key).query(&mut conn)?;
        assert_eq!(got.as_deref(), Some(meta), "{key} after loading the copy");
    }
    assert_eq!(loaded.digest()?, digest, "DEBUG DIGEST of the loaded copy");
    // The metadata slots count in the memory estimate.
    let est = rdbkit(&["memory", path_str(&copy), "--format", "json", "-q"]);
    assert_eq!(est.status.code(), Some(0), "{}", describe(&est));
    for line in String::from_utf8_lossy(&est.stdout).lines() {
        let row: Value = serde_json::from_str(line)?;
        let key = row["key"].as_str().expect("key");
        let usage: u64 = redis::cmd("MEMORY").arg("USAGE").arg(key).arg("SAMPLES").arg(0).query(&mut conn)?;
        assert_eq!(row["size_in_bytes"].as_u64(), Some(usage), "{key}: estimate against MEMORY USAGE");
    }

    let older = dir.path().join("older.rdb");
    let run = rdbkit(&[
        "convert",
        path_str(&dump),
        "--to",
        "rdb",
        "--target",
        "redis-8.0",
        "--lossy",
        "-o",
        path_str(&older),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(stderr.matches("key metadata").count(), TAGGED.len(), "one loss per tagged key: {stderr}");
    Ok(())
}

#[test]
fn key_metadata_reads_writes_and_loads() {
    let servers = testkit::require(&[(Flavor::Redis, 8, 6)]).expect("servers (RDBKIT_REQUIRE_SERVERS)");
    let Some(server) = servers.first() else {
        eprintln!("skipping: no Redis 8.6 installed (run scripts/install-servers.sh)");
        return;
    };
    let Some(module) = testkit::servers::test_module(server, "test_keymeta") else {
        assert!(
            !testkit::servers::servers_required(),
            "{server} has no test_keymeta module (scripts/install-servers.sh)"
        );
        eprintln!("skipping: {server} has no test_keymeta module (run scripts/install-servers.sh)");
        return;
    };
    check(server, &module).unwrap_or_else(|e| panic!("{server}: {e:#}"));
}
