//! `rdbkit backup` against real servers and a real S3 server (s3s-fs): backup → list →
//! verify → restore → load into a fresh server → the same DEBUG DIGEST and the same keys,
//! values, expire times and consumer groups; diskless and disk-based snapshots; a dump
//! large enough for multipart uploads; AOF directories; retention; metrics.

mod backup_support;

use backup_support::*;
use testkit::{Flavor, ServerGuard};

#[test]
fn every_server_round_trips_through_a_local_repository() {
    for (i, server) in servers(&testkit::EXPECTED_SERVERS).iter().enumerate() {
        let diskless = i % 2 == 0;
        let what = format!("{server} diskless={diskless}");
        let guard = ServerGuard::start_with(server, &diskless_args(diskless)).expect("start");
        let data = testkit::dataset::fill(&mut guard.conn().expect("conn"), server, 11).expect("fill");
        let before = contents(&guard, &data.expiries);
        let repo = Repo::local();

        let out = backup(&repo, "run", &["--source", &url(&guard)]);
        expect_code(&out, 0, &what);
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "{what}: a successful run is quiet: {}",
            describe(&out)
        );
        let listed = list(&repo);
        assert_eq!(listed.len(), 1, "{what}");
        let m = &listed[0];
        assert_eq!(m["keys"].as_u64(), Some(before.records.len() as u64), "{what}: keys in the manifest");
        assert_eq!(
            m["parts"][0]["server_version"].as_str(),
            Some(format!("{} {}", server.flavor, server.version_text()).as_str())
        );
        assert_eq!(m["compression"], "zstd");
        assert!(m["parts"][0]["sha256"].as_str().is_some_and(|s| s.len() == 64));
        assert!(m["stored_bytes"].as_u64() < m["raw_bytes"].as_u64(), "{what}: compressed");

        expect_code(&backup(&repo, "verify", &["latest"]), 0, &what);
        let out_dir = tempfile::tempdir().expect("dir");
        let restored = out_dir.path().join("dump.rdb");
        expect_code(&backup(&repo, "restore", &["latest", "-o", path_str(&restored)]), 0, &what);
        assert_loads_as(server, &restored, &before, &data.expiries, &what);

        // And straight into an empty server.
        let empty = ServerGuard::start(server).expect("start");
        let id = m["id"].as_str().expect("id");
        let out = backup(&repo, "restore", &[id, "--into", &url(&empty)]);
        expect_code(&out, 0, &what);
        assert_eq!(contents(&empty, &data.expiries).digest, before.digest, "{what}: restore --into");
    }
}

#[test]
fn s3_repositories_hold_multipart_backups_of_both_framings() {
    let servers = servers(&[(Flavor::Redis, 7, 0), (Flavor::Valkey, 9, 1)]);
    let Some(repo) = Repo::s3() else { return };
    for server in &servers {
        for (diskless, compress) in [(true, "zstd"), (false, "gzip")] {
            let what = format!("{server} diskless={diskless} {compress}");
            let guard = ServerGuard::start_with(server, &diskless_args(diskless)).expect("start");
            let data = testkit::dataset::fill(&mut guard.conn().expect("conn"), server, 5).expect("fill");
            // 40 MiB that does not compress: several 16 MiB parts.
            fill_random(&guard, 40, 3);
            let before = contents(&guard, &data.expiries);
            let out = backup(&repo, "run", &["--source", &url(&guard), "--compress", compress]);
            expect_code(&out, 0, &what);
            let latest = list(&repo).pop().expect("a backup");
            assert!(latest["stored_bytes"].as_u64() > Some(32 << 20), "{what}: multipart-sized");
            assert_eq!(latest["compression"], compress);
            expect_code(&backup(&repo, "verify", &["latest"]), 0, &what);
            let dir = tempfile::tempdir().expect("dir");
            let restored = dir.path().join("dump.rdb");
            expect_code(&backup(&repo, "restore", &["latest", "-o", path_str(&restored)]), 0, &what);
            assert_loads_as(server, &restored, &before, &data.expiries, &what);
        }
    }
    if !servers.is_empty() {
        assert_eq!(list(&repo).len(), 2 * servers.len());
    }
}

#[test]
fn files_and_aof_directories_are_backed_up_whole() {
    let servers = servers(&[(Flavor::Redis, 7, 0)]);
    let Some(server) = servers.first() else { return };
    let opts = testkit::StartOptions { extra_args: vec!["--appendonly".into(), "yes".into()], ..Default::default() };
    let guard = ServerGuard::start_with(server, &opts).expect("start");
    let data = testkit::dataset::fill(&mut guard.conn().expect("conn"), server, 2).expect("fill");
    let rdb = guard.save().expect("SAVE");
    let aof_dir = guard.dir().join("appendonlydir");
    let originals: Vec<(String, Vec<u8>)> =
        files(&aof_dir).into_iter().map(|f| (f.clone(), std::fs::read(aof_dir.join(&f)).expect("read"))).collect();
    assert!(originals.len() >= 3, "base, increment and manifest: {originals:?}");
    let repo = Repo::local();

    expect_code(&backup(&repo, "run", &["--source", path_str(&rdb), "--compress", "none"]), 0, "RDB file");
    expect_code(&backup(&repo, "run", &["--source", path_str(&aof_dir)]), 0, "AOF directory");
    let listed = list(&repo);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["source"]["kind"], "rdb-file");
    assert_eq!(listed[1]["source"]["kind"], "aof-dir");
    let kinds: Vec<&str> =
        listed[1]["parts"].as_array().expect("parts").iter().filter_map(|p| p["kind"].as_str()).collect();
    assert_eq!(kinds.last(), Some(&"aof-manifest"), "the manifest is stored last: {kinds:?}");
    expect_code(&backup(&repo, "verify", &[listed[1]["id"].as_str().expect("id")]), 0, "verify AOF");

    let out = tempfile::tempdir().expect("dir");
    let restored = out.path().join("appendonlydir");
    expect_code(&backup(&repo, "restore", &["latest", "-o", path_str(&restored)]), 0, "restore AOF");
    for (name, bytes) in &originals {
        assert!(std::fs::read(restored.join(name)).expect("restored file") == *bytes, "{name} restored byte for byte");
    }
    let into = backup(&repo, "restore", &["latest", "--into", &url(&guard)]);
    expect_code(&into, 2, "an AOF backup cannot go --into a server");

    let first = listed[0]["id"].as_str().expect("id");
    let file = out.path().join("dump.rdb");
    expect_code(&backup(&repo, "restore", &[first, "-o", path_str(&file)]), 0, "restore RDB file");
    assert!(
        std::fs::read(&file).expect("read") == std::fs::read(&rdb).expect("read"),
        "the RDB file comes back as it was"
    );
    let _ = data;
}

#[test]
fn prune_keeps_the_policy_and_the_newest_and_dry_run_removes_nothing() {
    let servers = servers(&[(Flavor::Redis, 7, 0)]);
    let Some(server) = servers.first() else { return };
    let Some(repo) = Repo::s3() else { return };
    let guard = ServerGuard::start(server).expect("start");
    redis::cmd("SET").arg("k").arg("v").exec(&mut guard.conn().expect("conn")).expect("SET");
    for _ in 0..4 {
        expect_code(&backup(&repo, "run", &["--source", &url(&guard)]), 0, "run");
    }
    let ids: Vec<String> = list(&repo).iter().filter_map(|m| m["id"].as_str().map(String::from)).collect();
    assert_eq!(ids.len(), 4);

    let dry = backup(&repo, "prune", &["--keep-last", "2", "--dry-run"]);
    expect_code(&dry, 0, "dry run");
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.contains(&format!("would remove  {}", ids[0])) && text.contains(&format!("keep          {}", ids[3])),
        "{text}"
    );
    assert_eq!(list(&repo).len(), 4, "a dry run removes nothing");

    let out = backup(&repo, "prune", &["--keep-last", "2", "--format", "json"]);
    expect_code(&out, 0, "prune");
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(plan["remove"].as_array().map(Vec::len), Some(2));
    let left: Vec<String> = list(&repo).iter().filter_map(|m| m["id"].as_str().map(String::from)).collect();
    assert_eq!(left, ids[2..]);
    assert!(files(&repo.root()).iter().all(|f| !f.contains(&ids[0]) && !f.contains(&ids[1])), "removed data is gone");

    // A policy that keeps nothing by itself still keeps the newest.
    expect_code(&backup(&repo, "prune", &["--keep-monthly", "0", "--keep-daily", "1"]), 0, "prune daily");
    let left: Vec<String> = list(&repo).iter().filter_map(|m| m["id"].as_str().map(String::from)).collect();
    assert_eq!(left, [ids[3].clone()]);
    expect_code(&backup(&repo, "prune", &[]), 2, "prune without a policy is a usage error");
}

#[test]
fn metrics_record_successes_and_keep_them_through_failures() {
    let servers = servers(&[(Flavor::Redis, 7, 0)]);
    let Some(server) = servers.first() else { return };
    let guard = ServerGuard::start(server).expect("start");
    redis::cmd("SET").arg("k").arg("v").exec(&mut guard.conn().expect("conn")).expect("SET");
    let repo = Repo::local();
    let dir = tempfile::tempdir().expect("dir");
    let prom = dir.path().join("rdbkit.prom");
    let m = path_str(&prom);
    expect_code(&backup(&repo, "run", &["--source", &url(&guard), "--metrics", m]), 0, "run");
    let text = std::fs::read_to_string(&prom).expect("metrics");
    assert!(text.contains("rdbkit_backup_last_run_success{") && text.contains("} 1\n"), "{text}");
    assert!(text.contains("rdbkit_backup_keys{") && text.contains("rdbkit_backup_keys{repo="), "{text}");
    let success_line =
        text.lines().find(|l| l.starts_with("rdbkit_backup_last_success_timestamp_seconds")).expect("line").to_string();
    let port = guard.port();
    guard.stop().expect("stop");
    let out = backup(&repo, "run", &["--source", &format!("redis://127.0.0.1:{port}"), "--metrics", m]);
    expect_code(&out, 3, "an unreachable server is exit 3");
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "), "{}", describe(&out));
    let text = std::fs::read_to_string(&prom).expect("metrics");
    assert!(text.contains("rdbkit_backup_last_run_success{") && text.contains("} 0\n"), "{text}");
    assert!(text.contains(&success_line), "the last success survives: {text}");
    assert_eq!(list(&repo).len(), 1);
}

#[test]
fn usage_mistakes_exit_2() {
    let out = rdbkit(&["backup", "list", "--repo", "gs://bucket"]);
    expect_code(&out, 2, "an unknown repository kind");
    let repo = Repo::local();
    for args in [
        vec!["run", "--source", "http://h:1"],
        vec!["run", "--source", "redis://h:1", "--cluster", "--compress", "lz4"],
        vec!["restore", "not-an-id", "-o", "/tmp/x"],
        vec!["restore", "latest", "-o", "/tmp/x"],
    ] {
        let out = backup(&repo, args[0], &args[1..]);
        expect_code(&out, 2, &args.join(" "));
    }
}
