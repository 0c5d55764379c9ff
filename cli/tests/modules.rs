//! Module values from a real module: Redis 8's built-in vector sets (`VADD`) are saved
//! as module type `vectorset`. rdbkit keeps them opaque: it must read them, show them,
//! write them back byte-compatible, and restore them, with the server ending up holding
//! the same vector set.

mod util;

use serde_json::Value;
use testkit::{Flavor, ServerGuard};
use util::{convert_ndjson, describe, path_str, rdbkit};

/// One element: its name, attribute and vector (as the server prints it).
type Element = (String, Option<String>, Vec<String>);

/// The elements of a vector set with their attributes and vectors, and its cardinality
/// and dimension.
fn vector_set(guard: &ServerGuard, key: &str) -> anyhow::Result<(i64, i64, Vec<Element>)> {
    let mut c = guard.conn()?;
    let card: i64 = redis::cmd("VCARD").arg(key).query(&mut c)?;
    let dim: i64 = redis::cmd("VDIM").arg(key).query(&mut c)?;
    let mut elements: Vec<String> = redis::cmd("VRANDMEMBER").arg(key).arg(card).query(&mut c)?;
    elements.sort();
    let mut out = Vec::new();
    for e in elements {
        let attr: Option<String> = redis::cmd("VGETATTR").arg(key).arg(&e).query(&mut c)?;
        let vector: Vec<String> = redis::cmd("VEMB").arg(key).arg(&e).query(&mut c)?;
        out.push((e, attr, vector));
    }
    Ok((card, dim, out))
}

#[test]
fn vector_sets_round_trip_as_opaque_module_values() -> anyhow::Result<()> {
    let servers = testkit::require(&[(Flavor::Redis, 8, 0), (Flavor::Redis, 8, 6)])?;
    for server in &servers {
        let source = ServerGuard::start(server)?;
        let mut c = source.conn()?;
        for i in 0..200 {
            let (x, y, z) = (i as f64 * 0.5, (i % 7) as f64, -(i as f64) / 3.0);
            let mut cmd = redis::cmd("VADD");
            cmd.arg("vs").arg("VALUES").arg(3).arg(x).arg(y).arg(z).arg(format!("e{i}"));
            if i % 10 == 0 {
                cmd.arg("SETATTR").arg(format!("{{\"n\":{i}}}"));
            }
            cmd.exec(&mut c)?;
        }
        redis::cmd("VADD").arg("small").arg("VALUES").arg(2).arg(1).arg(2).arg("only").exec(&mut c)?;
        let want_vs = vector_set(&source, "vs")?;
        let want_small = vector_set(&source, "small")?;
        let digest = source.digest()?;
        let dump = source.save()?;

        let out = rdbkit(&["verify", path_str(&dump)]);
        assert_eq!(out.status.code(), Some(0), "{server}: {}", describe(&out));
        let records = convert_ndjson(&dump);
        let modules: Vec<&Value> = records.iter().filter(|r| r["type"] == "module").collect();
        assert_eq!(modules.len(), 2, "{server}: {records:?}");
        assert!(modules.iter().all(|r| r["value"]["module"] == "vectorset"), "{server}: {modules:?}");
        let info = rdbkit(&["info", "--format", "json", path_str(&dump)]);
        assert!(String::from_utf8_lossy(&info.stdout).contains("vectorset"), "{server}: {}", describe(&info));

        // Written back for the same server: it loads, with the same digest and elements.
        let dir = tempfile::tempdir()?;
        let rewritten = dir.path().join("out.rdb");
        let target = format!("redis-{}.{}", server.version.0, server.version.1);
        let out = rdbkit(&["convert", path_str(&dump), "--to", "rdb", "--target", &target, "-o", path_str(&rewritten)]);
        assert_eq!(out.status.code(), Some(0), "{server}: {}", describe(&out));
        let loaded = source.load_rdb(&rewritten)?;
        assert_eq!(loaded.digest()?, digest, "{server}: digest after convert --to rdb");
        assert_eq!(vector_set(&loaded, "vs")?, want_vs);
        drop(loaded);

        // Restored into an empty server.
        let fresh = ServerGuard::start(server)?;
        let out = rdbkit(&["restore", path_str(&dump), "--to", &fresh.url()]);
        assert_eq!(out.status.code(), Some(0), "{server}: {}", describe(&out));
        assert_eq!(fresh.digest()?, digest, "{server}: digest after restore");
        assert_eq!(vector_set(&fresh, "vs")?, want_vs);
        assert_eq!(vector_set(&fresh, "small")?, want_small);

        // A RESP stream has no command form for module values: a clear refusal, exit 1.
        let out = rdbkit(&["convert", path_str(&dump), "--to", "resp"]);
        assert_eq!(out.status.code(), Some(1), "{server}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains("vectorset"), "{}", describe(&out));
    }
    Ok(())
}
