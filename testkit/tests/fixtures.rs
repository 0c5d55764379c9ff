//! The checked-in fixtures (`<workspace>/fixtures`) are consistent: every
//! `expected.ndjson` is canonical and sorted, `info.json` matches the RDB
//! header, and each `dump.rdb` (with its lfu/lru/cluster variants) loads in
//! a server of the same line to the recorded digest and the expected data.

use std::path::{Path, PathBuf};

use anyhow::{ensure, Context, Result};
use serde_json::Value as Json;
use testkit::live::dump_live;
use testkit::ndjson::{compare, read_ndjson};
use testkit::record::Record;
use testkit::{ExpiryLog, ServerBin, ServerGuard};

fn fixture_dirs() -> Result<Vec<PathBuf>> {
    let root = testkit::servers::workspace_root().join("fixtures");
    if !root.is_dir() {
        eprintln!("no {} yet; skipping", root.display());
        return Ok(Vec::new());
    }
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(&root)? {
        let path = entry?.path();
        if path.join("expected.ndjson").is_file() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn read_json(path: &Path) -> Result<Json> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

/// `expected.ndjson` files: the main one and the cluster one.
fn expected_files(dir: &Path) -> Vec<PathBuf> {
    [dir.join("expected.ndjson"), dir.join("cluster/expected.ndjson")].into_iter().filter(|p| p.is_file()).collect()
}

#[test]
fn expected_files_are_canonical_and_sorted() -> Result<()> {
    for dir in fixture_dirs()? {
        for path in expected_files(&dir) {
            let text = std::fs::read_to_string(&path)?;
            let mut previous: Option<(u32, Vec<u8>)> = None;
            for (i, line) in text.lines().enumerate() {
                let at = || format!("{} line {}", path.display(), i + 1);
                let rec = Record::from_json(&serde_json::from_str(line).with_context(at)?)
                    .map_err(anyhow::Error::msg)
                    .with_context(at)?;
                ensure!(rec.to_json_line() == line, "{}: not in canonical form", at());
                let key = (rec.db, rec.key.clone());
                ensure!(previous.as_ref().is_none_or(|p| *p < key), "{}: not sorted by (db, key)", at());
                previous = Some(key);
            }
        }
    }
    Ok(())
}

#[test]
fn info_matches_the_rdb_header() -> Result<()> {
    for dir in fixture_dirs()? {
        for sub in ["", "lfu", "lru", "cluster"] {
            let d = dir.join(sub);
            let (info, rdb) = (d.join("info.json"), d.join("dump.rdb"));
            if !info.is_file() {
                continue;
            }
            let magic = read_json(&info)?["rdb_magic"].as_str().context("rdb_magic")?.to_owned();
            let head = std::fs::read(&rdb)?;
            ensure!(head.starts_with(magic.as_bytes()), "{}: header is not {magic}", rdb.display());
        }
    }
    Ok(())
}

/// The installed server of the same flavor and major.minor as a fixture
/// directory named `<flavor>-<version>`.
fn server_for(dir: &Path, servers: &[ServerBin]) -> Option<ServerBin> {
    let name = dir.file_name()?.to_str()?;
    let line = servers.iter().find(|s| s.name() == name).or_else(|| {
        let (flavor, version) = name.split_once('-')?;
        let mut parts = version.split('.');
        let (major, minor) = (parts.next()?, parts.next()?);
        servers.iter().rev().find(|s| {
            s.flavor.as_str() == flavor && s.version.0.to_string() == major && s.version.1.to_string() == minor
        })
    });
    line.cloned()
}

#[test]
fn dumps_load_to_the_expected_data() -> Result<()> {
    let servers = testkit::require_all()?;
    for dir in fixture_dirs()? {
        let Some(server) = server_for(&dir, &servers) else {
            eprintln!("no server for {}; skipping", dir.display());
            continue;
        };
        for sub in ["", "lfu", "lru", "cluster"] {
            let d = dir.join(sub);
            let rdb = d.join("dump.rdb");
            if !rdb.is_file() {
                continue;
            }
            let expected_path = if sub == "cluster" { d.join("expected.ndjson") } else { dir.join("expected.ndjson") };
            let expected = read_ndjson(&expected_path)?;
            let known = ExpiryLog::from_records(&expected).map_err(anyhow::Error::msg)?;
            let guard =
                ServerGuard::start_with_rdb(&server, &rdb).with_context(|| format!("loading {}", rdb.display()))?;
            let digest = read_json(&d.join("info.json"))?["debug_digest"].as_str().context("debug_digest")?.to_owned();
            ensure!(guard.digest()? == digest, "{}: digest differs from info.json", rdb.display());
            let live = dump_live(&mut guard.conn()?, &known)?;
            compare(&expected, &live).map_err(|e| anyhow::anyhow!("{} on {server}:\n{e}", rdb.display()))?;
        }
    }
    Ok(())
}
