//! The command line on hand-made RDB 14/15 files (arrays, NACK zones, hash templates,
//! GCRA), and on files Redis refuses or that once made `info` unbounded.

#[path = "../../rdb-parser/tests/common/mod.rs"]
mod common;
mod util;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::{listpack, Lp, Rdb};
use util::{describe, path_str, rdbkit};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path_str(&path).to_string()
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// Runs `rdbkit` with its virtual memory capped at `limit_mib` (an allocation past it
/// fails, and the command with it).
fn rdbkit_capped(limit_mib: u64, args: &[&str]) -> Output {
    let script = format!("ulimit -v {}; exec \"$0\" \"$@\"", limit_mib * 1024);
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(util::rdbkit_bin())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run rdbkit")
}

/// An RDB 15 file with an array, a stream with a NACKed entry, template hashes and a
/// plain string.
fn rdb15_sample() -> Vec<u8> {
    let mut items = vec![Lp::I(2), Lp::I(0), Lp::I(1), Lp::S(b"f"), Lp::I(0)];
    for ms in 0..2 {
        items.extend([Lp::I(2), Lp::I(ms), Lp::I(0), Lp::S(b"v"), Lp::I(4)]);
    }
    let id = |ms: u64| rdb_parser::StreamId { ms, seq: 0 }.to_be_bytes();
    let tmpl_lp = listpack(&[Lp::I(0), Lp::S(b"30"), Lp::S(b"ann")]);
    Rdb::new("REDIS0015")
        .byte(242)
        .len(0)
        .len(2)
        .str(b"age")
        .str(b"name")
        .byte(254)
        .len(0)
        .byte(28)
        .str(b"arr")
        .len(2)
        .len(1)
        .len(49)
        .len(3)
        .len(0)
        .str(b"three")
        .len(1 << 40)
        .len(1)
        .i64le(-7)
        .byte(30)
        .str(b"person")
        .raw(&{
            let mut s = Vec::new();
            common::put_len(&mut s, tmpl_lp.len() as u64);
            s.extend_from_slice(&tmpl_lp);
            s
        })
        .byte(27)
        .str(b"s")
        .len(1)
        .str(&id(1))
        .str(&listpack(&items))
        .len(2)
        .len(2)
        .len(0)
        .len(1)
        .len(0)
        .len(0)
        .len(0)
        .len(2)
        .len(1)
        .str(b"g")
        .len(2)
        .len(0)
        .len(2)
        .len(2)
        .raw(&id(1))
        .i64le(5)
        .len(1)
        .raw(&id(2))
        .i64le(0)
        .len(1)
        .len(1)
        .str(b"c")
        .i64le(1)
        .i64le(1)
        .len(1)
        .raw(&id(1))
        .len(1)
        .raw(&id(2))
        .len(100)
        .len(100)
        .len(0)
        .len(0)
        .len(0)
        .byte(0)
        .str(b"str")
        .str(b"v")
        .finish()
}

#[test]
fn rdb15_converts_to_ndjson() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "v15.rdb", &rdb15_sample());
    let out = rdbkit(&["convert", "--to", "ndjson", &file]);
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        r#"{"db":0,"key":"arr","type":"array","expire_at_ms":null,"value":{"insert_idx":"49","elements":[["3","three"],["1099511627776","-7"]]}}"#
    );
    assert_eq!(
        lines[1],
        r#"{"db":0,"key":"person","type":"hash","expire_at_ms":null,"value":{"age":"30","name":"ann"}}"#
    );
    assert!(lines[2].contains(r#""pending":[{"id":"1-0","consumer":"c","delivery_count":1},{"id":"2-0","consumer":null,"delivery_count":1}]"#), "{}", lines[2]);
    assert!(lines[2].contains(r#""nacked":["2-0"]"#), "{}", lines[2]);
    let out = rdbkit(&["convert", "--to", "ndjson", "--type", "array", &file]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1, "{}", describe(&out));
    let out = rdbkit(&["info", "--format", "json", &file]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["databases"][0]["types"]["array"], 1, "{j}");
    assert_eq!(j["hash_templates"], 1, "{j}");
    assert_eq!(j["encodings"]["template-listpack"], 1, "{j}");
}

#[test]
fn rdb15_converts_to_rdb_for_each_target() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "v15.rdb", &rdb15_sample());
    let original = rdbkit(&["convert", "--to", "ndjson", &file]);
    for target in ["redis-8.10", "redis-8.8"] {
        let out_path = dir.path().join(format!("{target}.rdb"));
        let out = rdbkit(&["convert", "--to", "rdb", "--target", target, "-o", path_str(&out_path), &file]);
        assert_eq!(code(&out), Some(0), "{target}: {}", describe(&out));
        let back = rdbkit(&["convert", "--to", "ndjson", path_str(&out_path)]);
        assert_eq!(back.stdout, original.stdout, "{target}: same records");
    }
    // Older targets cannot hold the array nor the NACKed entry: refused, then reported.
    let out_path = dir.path().join("8.6.rdb");
    let out = rdbkit(&["convert", "--to", "rdb", "--target", "redis-8.6", "-o", path_str(&out_path), &file]);
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("arrays need Redis 8.8") && err.contains("NACKed"), "{err}");
    assert!(!out_path.exists());
    let out = rdbkit(&["convert", "--to", "rdb", "--target", "redis-8.6", "--lossy", "-o", path_str(&out_path), &file]);
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("warning:").count(), 2, "{err}");
    let back = rdbkit(&["convert", "--to", "ndjson", path_str(&out_path)]);
    let text = String::from_utf8_lossy(&back.stdout);
    assert!(!text.contains("\"array\"") && !text.contains("nacked") && text.contains("person"), "{text}");
}

#[test]
fn verify_refuses_duplicate_keys_and_huge_databases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = Rdb::new("REDIS0011").byte(254).len(0);
    for i in 0..50 {
        b = b.byte(0).str(format!("k{i}").as_bytes()).str(b"v");
    }
    let dup = b.byte(0).str(b"k7").str(b"again").byte(254).len(1).byte(0).str(b"k8").str(b"v").finish();
    let file = write(dir.path(), "dup.rdb", &dup);
    let out = rdbkit(&["verify", &file]);
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("key \"k7\" is stored twice in database 0 (key #8 at offset 53, key #51"), "{err}");
    // The same name in two databases is fine.
    let ok = Rdb::new("REDIS0011").byte(0).str(b"k").str(b"v").byte(254).len(1).byte(0).str(b"k").str(b"v").finish();
    let out = rdbkit(&["verify", &write(dir.path(), "ok.rdb", &ok)]);
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let huge = Rdb::new("REDIS0011").byte(254).len(1 << 62).byte(0).str(b"k").str(b"v").finish();
    let out = rdbkit(&["verify", &write(dir.path(), "huge.rdb", &huge)]);
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("offset 9: SELECTDB 4611686018427387904"),
        "{}",
        describe(&out)
    );
}

#[test]
fn verify_of_many_keys_stays_small() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut b = Rdb::new("REDIS0011").byte(254).len(0);
    for i in 0..1_000_000u32 {
        b = b.byte(0).str(&i.to_le_bytes()).str(b"");
    }
    let file = write(dir.path(), "many.rdb", &b.finish());
    let out = rdbkit_capped(200, &["verify", &file]);
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
}

#[test]
fn rdb_before_5_may_end_with_bytes_but_not_a_checksum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = Rdb::new("REDIS0004").byte(0).str(b"k").str(b"v").finish_without_checksum();
    let mut extra = body.clone();
    extra.extend_from_slice(b"xyz");
    let out = rdbkit(&["verify", &write(dir.path(), "extra.rdb", &extra)]);
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let mut trailer = body;
    trailer.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    let out = rdbkit(&["verify", &write(dir.path(), "trailer.rdb", &trailer)]);
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("header is probably damaged"), "{}", describe(&out));
}

#[test]
fn info_stays_bounded_on_a_million_databases_or_aux_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut dbs = Rdb::new("REDIS0011");
    let mut aux = Rdb::new("REDIS0011");
    for i in 0..1_000_000u64 {
        dbs = dbs.byte(254).len(i);
        aux = aux.byte(250).str(format!("field-{i}").as_bytes()).str(b"value");
    }
    let dbs = write(dir.path(), "dbs.rdb", &dbs.byte(0).str(b"k").str(b"v").finish());
    let aux = write(dir.path(), "aux.rdb", &aux.finish());
    let out = rdbkit_capped(200, &["info", "--format", "json", &dbs]);
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(j["databases"].as_array().map(Vec::len), Some(1000));
    assert_eq!((&j["other_databases"]["count"], &j["keys"]), (&999_000.into(), &1.into()), "{}", j["other_databases"]);
    let out = rdbkit_capped(200, &["info", &aux]);
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("and 999000 more (not listed)"));
}

#[test]
fn info_names_module_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id = rdb_parser::module_type_id("ReJSON-RL", 3).expect("valid name");
    let file = Rdb::new("REDIS0009").byte(7).str(b"m").len(id).len(2).len(5).len(0).finish();
    let out = rdbkit(&["info", &write(dir.path(), "module.rdb", &file)]);
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("modules:    ReJSON-RL (1 keys)"), "{}", describe(&out));
}

#[test]
fn relaxed_reads_newer_files_up_to_the_first_unknown_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = Rdb::new("REDIS0016").byte(254).len(0).byte(0).str(b"k").str(b"v");
    let stop = body.buf.len();
    let file = body.byte(40).str(b"new").len(1).byte(0).str(b"after").str(b"v").finish();
    let file = write(dir.path(), "v16.rdb", &file);
    let out = rdbkit(&["verify", &file]);
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported RDB version 16"), "{}", describe(&out));
    let want = format!("partial result: reading stopped at offset {stop}: unknown type or opcode 40 (0x28) in RDB 16");
    let ndjson = dir.path().join("out.ndjson");
    let rdb_out = dir.path().join("out.rdb");
    let runs: [Vec<&str>; 6] = [
        vec!["verify", "--relaxed", &file],
        vec!["info", "--relaxed", &file],
        vec!["convert", "--relaxed", "--to", "ndjson", "-o", path_str(&ndjson), &file],
        vec!["memory", "--relaxed", "--format", "csv", &file],
        vec!["convert", "--relaxed", "--to", "resp", &file],
        vec!["convert", "--relaxed", "--to", "rdb", "-o", path_str(&rdb_out), &file],
    ];
    for args in runs {
        let out = rdbkit(&args);
        assert_eq!(code(&out), Some(1), "{args:?}: {}", describe(&out));
        assert!(String::from_utf8_lossy(&out.stderr).contains(&want), "{args:?}: {}", describe(&out));
    }
    let text = std::fs::read_to_string(&ndjson).expect("partial output is kept");
    assert_eq!(text, "{\"db\":0,\"key\":\"k\",\"type\":\"string\",\"expire_at_ms\":null,\"value\":\"v\"}\n");
    // The RDB written for the newest known server holds the keys before the stop.
    let out = rdbkit(&["verify", path_str(&rdb_out)]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (REDIS0015, 1 keys"), "{}", describe(&out));
    let out = rdbkit(&["info", "--relaxed", "--format", "json", &file]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(j["partial"].as_str().is_some_and(|p| p.contains(&want)), "{j}");
}
