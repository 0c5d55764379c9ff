//! `compare` and the record writer against fixtures produced by another
//! generator (same NDJSON schema). Runs only when RDBKIT_SHARED_FIXTURES
//! names a directory of `<server>/expected.ndjson` files.

use std::path::PathBuf;

use anyhow::{ensure, Context, Result};
use serde_json::Value as Json;
use testkit::ndjson::{compare, read_ndjson};
use testkit::record::Record;

fn shared_files() -> Result<Vec<PathBuf>> {
    let Some(dir) = std::env::var_os("RDBKIT_SHARED_FIXTURES") else {
        eprintln!("RDBKIT_SHARED_FIXTURES not set; skipping");
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {dir:?}"))? {
        let path = entry?.path().join("expected.ndjson");
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    ensure!(!files.is_empty(), "no */expected.ndjson under {dir:?}");
    Ok(files)
}

#[test]
fn shared_records_are_written_back_byte_for_byte() -> Result<()> {
    for path in shared_files()? {
        let text = std::fs::read_to_string(&path)?;
        for (i, line) in text.lines().enumerate() {
            let v: Json = serde_json::from_str(line)?;
            let rec = Record::from_json(&v).map_err(anyhow::Error::msg)?;
            ensure!(rec.to_json_line() == line, "{} line {}: canonical form differs", path.display(), i + 1);
        }
    }
    Ok(())
}

#[test]
fn compare_accepts_equal_and_reports_mutations() -> Result<()> {
    for path in shared_files()? {
        let expected = read_ndjson(&path)?;
        compare(&expected, &expected).map_err(anyhow::Error::msg)?;

        // Same data in other allowed forms: hashes as pairs, sets reversed.
        let mut reshaped = expected.clone();
        reshaped.reverse();
        for rec in &mut reshaped {
            let ty = rec["type"].as_str().unwrap_or_default().to_owned();
            if let (Some(obj), "hash") = (rec["value"].as_object().cloned(), ty.as_str()) {
                rec["value"] = Json::Array(obj.into_iter().map(|(k, v)| Json::Array(vec![k.into(), v])).collect());
            }
            if let (Some(items), "set") = (rec["value"].as_array_mut(), ty.as_str()) {
                items.reverse();
            }
        }
        compare(&expected, &reshaped).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;

        // Mutations that must be reported, each naming the key.
        let pick = |ty: &str| expected.iter().position(|r| r["type"] == ty).context("no record of that type");
        let key_of = |i: usize| expected[i]["key"].to_string();

        let i = pick("zset")?;
        let mut m = expected.clone();
        m[i]["value"][0][1] = Json::from(12345.5);
        let msg = compare(&expected, &m).expect_err("changed score");
        ensure!(msg.contains(&key_of(i)) && msg.contains("score"), "{msg}");

        let i = pick("stream")?;
        let mut m = expected.clone();
        m[i]["value"]["last_id"] = Json::from("99999999999999-0");
        let msg = compare(&expected, &m).expect_err("changed last_id");
        ensure!(msg.contains(&key_of(i)) && msg.contains("last_id"), "{msg}");

        let mut m = expected.clone();
        let removed = m.remove(0);
        let msg = compare(&expected, &m).expect_err("removed record");
        ensure!(msg.contains(&removed["key"].to_string()) && msg.contains("missing from actual"), "{msg}");
    }
    Ok(())
}
