//! Hand-made files for the encodings and opcodes that no server in CI writes: Redis
//! 7.4+ field-TTL hashes (and their release-candidate forms), Valkey `HASH_2` and
//! slot-import jobs, RDB 13 key metadata and stream IDMP state, modules, RDB < 5.

mod common;

use common::{listpack, Lp, Rdb};
use rdb_parser::{
    Checksum, Entries, Entry, HashField, ModuleOp, RdbReader, ReaderOptions, StreamId, Value, VisitResult, Visitor,
};

fn entries(file: &[u8]) -> Result<Vec<Entry>, rdb_parser::Error> {
    Entries::new(RdbReader::new(file)).collect()
}

fn hash(e: &Entry) -> Vec<(&[u8], &[u8], Option<i64>)> {
    match &e.value {
        Value::Hash(f) => {
            f.iter().map(|HashField { field, value, expire_at_ms }| (&field[..], &value[..], *expire_at_ms)).collect()
        }
        other => panic!("not a hash: {other:?}"),
    }
}

#[test]
fn redis_hash_metadata_type_24() {
    let file = Rdb::new("REDIS0012")
        .byte(24)
        .str(b"h")
        .i64le(1000)
        .len(2)
        .len(0)
        .str(b"f1")
        .str(b"v1")
        .len(11)
        .str(b"f2")
        .str(b"v2")
        .finish();
    let e = entries(&file).expect("valid");
    assert_eq!(hash(&e[0]), vec![(&b"f1"[..], &b"v1"[..], None), (&b"f2"[..], &b"v2"[..], Some(1010))]);
}

#[test]
fn redis_hash_listpack_ex_type_25_and_its_ordering_rule() {
    let lp = listpack(&[Lp::S(b"f2"), Lp::S(b"v2"), Lp::I(5000), Lp::S(b"f1"), Lp::S(b"v1"), Lp::I(0)]);
    let file = Rdb::new("REDIS0012").byte(25).str(b"h").i64le(5000).str(&lp).finish();
    let e = entries(&file).expect("valid");
    assert_eq!(hash(&e[0]), vec![(&b"f2"[..], &b"v2"[..], Some(5000)), (&b"f1"[..], &b"v1"[..], None)]);

    // A field without TTL before one with a TTL breaks the server's ordering invariant.
    let lp = listpack(&[Lp::S(b"f1"), Lp::S(b"v1"), Lp::I(0), Lp::S(b"f2"), Lp::S(b"v2"), Lp::I(5000)]);
    let file = Rdb::new("REDIS0012").byte(25).str(b"h").i64le(5000).str(&lp).finish();
    let err = entries(&file).expect_err("unordered TTLs");
    assert!(err.to_string().contains("ordered by expiry"), "{err}");
}

#[test]
fn redis_release_candidate_hash_types_22_and_23() {
    let file = Rdb::new("REDIS0012").byte(22).str(b"h").len(1).len(7777).str(b"f").str(b"v").finish();
    assert_eq!(hash(&entries(&file).expect("valid")[0]), vec![(&b"f"[..], &b"v"[..], Some(7777))]);
    let lp = listpack(&[Lp::S(b"f"), Lp::S(b"v"), Lp::I(0)]);
    let file = Rdb::new("REDIS0012").byte(23).str(b"h").str(&lp).finish();
    assert_eq!(hash(&entries(&file).expect("valid")[0]), vec![(&b"f"[..], &b"v"[..], None)]);
}

#[test]
fn valkey_hash2_and_dialect_collisions() {
    let file = Rdb::new("VALKEY080")
        .byte(22)
        .str(b"h")
        .len(2)
        .str(b"a")
        .str(b"1")
        .i64le(-1)
        .str(b"b")
        .str(b"2")
        .i64le(0)
        .finish();
    // -1 means "no TTL"; 0 is a real (past) time.
    assert_eq!(
        hash(&entries(&file).expect("valid")[0]),
        vec![(&b"a"[..], &b"1"[..], None), (&b"b"[..], &b"2"[..], Some(0))]
    );

    // Redis-only numbers are unknown in a Valkey file, and vice versa.
    let file = Rdb::new("VALKEY080").byte(25).str(b"h").finish();
    let err = entries(&file).expect_err("type 25 is not Valkey");
    assert!(err.to_string().contains("unknown opcode or value type 25"), "{err}");
    assert_eq!(err.offset(), 9);
    let file = Rdb::new("REDIS0011").byte(22).str(b"h").finish();
    assert!(entries(&file).is_err());
}

/// A slot-import job: its name and slot ranges.
type Import = (Vec<u8>, Vec<(u64, u64)>);

#[derive(Default)]
struct Seen {
    slot_info: Vec<(u64, u64, u64)>,
    imports: Vec<Import>,
    functions: Vec<Vec<u8>>,
    module_aux: Vec<String>,
    checksum: Option<Checksum>,
}

impl Visitor for Seen {
    fn slot_info(&mut self, slot: u64, keys: u64, expires: u64) -> VisitResult {
        self.slot_info.push((slot, keys, expires));
        Ok(())
    }
    fn slot_import(&mut self, job: &[u8], ranges: &[(u64, u64)]) -> VisitResult {
        self.imports.push((job.to_vec(), ranges.to_vec()));
        Ok(())
    }
    fn function(&mut self, code: &[u8]) -> VisitResult {
        self.functions.push(code.to_vec());
        Ok(())
    }
    fn module_aux(&mut self, aux: &rdb_parser::ModuleAux) -> VisitResult {
        self.module_aux.push(aux.value.name.clone());
        Ok(())
    }
    fn end(&mut self, c: Checksum) -> VisitResult {
        self.checksum = Some(c);
        Ok(())
    }
}

#[test]
fn slot_info_slot_import_functions() {
    let file = Rdb::new("REDIS0012")
        .byte(245)
        .str(b"#!lua name=lib\nredis.register_function('f', function() return 1 end)")
        .byte(244)
        .len(42)
        .len(3)
        .len(1)
        .finish();
    let mut seen = Seen::default();
    RdbReader::new(&file[..]).read_all(&mut seen).expect("valid");
    assert_eq!(seen.slot_info, vec![(42, 3, 1)]);
    assert_eq!(seen.functions.len(), 1);
    assert!(matches!(seen.checksum, Some(Checksum::Ok(_))));

    let job = [b'a'; 40];
    let file = Rdb::new("VALKEY080").byte(243).str(&job).len(2).len(0).len(99).len(200).len(16383).finish();
    let mut seen = Seen::default();
    RdbReader::new(&file[..]).read_all(&mut seen).expect("valid");
    assert_eq!(seen.imports, vec![(job.to_vec(), vec![(0, 99), (200, 16383)])]);

    // 243 means nothing in the common dialect.
    let file = Rdb::new("REDIS0011").byte(243).len(1).finish();
    assert!(RdbReader::new(&file[..]).read_all(&mut Seen::default()).is_err());
}

#[test]
fn rdb13_key_metadata_and_stream_v4() {
    // One stream entry 5-0 {f: v} in a node whose master is 5-0.
    let node = listpack(&[
        Lp::I(1),
        Lp::I(0),
        Lp::I(1),
        Lp::S(b"f"),
        Lp::I(0),
        Lp::I(2), // SAMEFIELDS
        Lp::I(0),
        Lp::I(0),
        Lp::S(b"v"),
        Lp::I(4),
    ]);
    let mut node_key = 5u64.to_be_bytes().to_vec();
    node_key.extend_from_slice(&0u64.to_be_bytes());
    let file = Rdb::new("REDIS0013")
        .byte(243) // KEY_META: one class, one UINT item, EOF
        .len(1)
        .raw(&0x1234_5601u32.to_le_bytes())
        .len(2)
        .len(77)
        .len(0)
        .byte(26)
        .str(b"s")
        .len(1)
        .str(&node_key)
        .str(&node)
        .len(1) // length
        .len(5) // last id
        .len(0)
        .len(5) // first id
        .len(0)
        .len(0) // max deleted
        .len(0)
        .len(1) // entries added
        .len(0) // groups
        .len(100) // idmp duration
        .len(10) // idmp max entries
        .len(1) // producers
        .str(b"p1")
        .len(1)
        .str(b"iid-1")
        .len(5)
        .len(0)
        .len(1) // iids added
        .len(0) // duplicates
        .finish();
    let e = entries(&file).expect("valid");
    assert_eq!(e[0].meta.len(), 1);
    assert_eq!(e[0].meta[0].ops, vec![ModuleOp::UInt(77)]);
    let Value::Stream(s) = &e[0].value else { panic!("stream expected") };
    assert_eq!(s.entries.len(), 1);
    assert_eq!(s.entries[0].id, StreamId { ms: 5, seq: 0 });
    assert_eq!(s.entries[0].fields, vec![(b"f".to_vec(), b"v".to_vec())]);
    let idmp = s.meta.idmp.as_ref().expect("idmp");
    assert_eq!((idmp.duration_s, idmp.max_entries, idmp.iids_added), (100, 10, 1));
    assert_eq!(idmp.producers[0].entries, vec![(b"iid-1".to_vec(), StreamId { ms: 5, seq: 0 })]);
}

#[test]
fn module_value_and_aux_are_kept_opaque() {
    let id = rdb_parser::module_type_id("testtype1", 3).expect("id");
    let file = Rdb::new("REDIS0009")
        .byte(247)
        .len(id)
        .len(2)
        .len(2)
        .len(5)
        .str(b"aux")
        .len(0)
        .byte(7)
        .str(b"m")
        .len(id)
        .len(2)
        .len(u64::MAX) // a signed -1 stored through the UINT opcode
        .len(4)
        .f64le(1.5)
        .len(3)
        .raw(&2.5f32.to_le_bytes())
        .len(5)
        .str(b"payload")
        .len(0)
        .finish();
    let mut seen = Seen::default();
    RdbReader::new(&file[..]).read_all(&mut seen).expect("valid");
    assert_eq!(seen.module_aux, vec!["testtype1".to_string()]);
    let e = entries(&file).expect("valid");
    let Value::Module(m) = &e[0].value else { panic!("module expected") };
    assert_eq!((m.name.as_str(), m.encver), ("testtype1", 3));
    assert_eq!(
        m.ops,
        vec![
            ModuleOp::UInt(u64::MAX),
            ModuleOp::Double(1.5),
            ModuleOp::Float(2.5),
            ModuleOp::String(b"payload".to_vec())
        ]
    );
    // An opcode outside 1-5 desynchronizes the stream: it is corruption.
    let file = Rdb::new("REDIS0009").byte(7).str(b"m").len(id).len(9).finish();
    assert!(entries(&file).is_err());
}

#[test]
fn old_versions_seconds_expiry_and_no_checksum() {
    let file = Rdb::new("REDIS0003")
        .byte(253)
        .raw(&2_000_000_000i32.to_le_bytes())
        .byte(0)
        .str(b"k")
        .str(b"v")
        .byte(1) // linked list
        .str(b"l")
        .len(2)
        .str(b"a")
        .raw(&[0xc0, 0x7b]) // int8 string 123
        .byte(3) // sorted set with text scores
        .str(b"z")
        .len(2)
        .str(b"m")
        .raw(&[3])
        .raw(b"1.5")
        .str(b"n")
        .byte(254) // +inf
        .finish_without_checksum();
    let mut seen = Seen::default();
    RdbReader::new(&file[..]).read_all(&mut seen).expect("valid");
    assert_eq!(seen.checksum, Some(Checksum::Absent));
    let e = entries(&file).expect("valid");
    assert_eq!(e[0].expire_at_ms, Some(2_000_000_000_000));
    assert_eq!(e[1].value, Value::List(vec![b"a".to_vec(), b"123".to_vec()]));
    assert_eq!(e[2].value, Value::ZSet(vec![(b"m".to_vec(), 1.5), (b"n".to_vec(), f64::INFINITY)]));
}

#[test]
fn zero_checksum_means_not_computed() {
    let mut file = Rdb::new("REDIS0011").byte(0).str(b"k").str(b"v").finish();
    let n = file.len();
    file[n - 8..].fill(0);
    let mut seen = Seen::default();
    RdbReader::new(&file[..]).read_all(&mut seen).expect("valid");
    assert_eq!(seen.checksum, Some(Checksum::Disabled));
}

#[test]
fn duplicates_and_order_are_rejected_with_offsets() {
    let file = Rdb::new("REDIS0011").byte(2).str(b"s").len(2).str(b"a").str(b"a").finish();
    let err = entries(&file).expect_err("duplicate member");
    assert!(err.to_string().contains("duplicate set member"), "{err}");
    assert_eq!(err.offset(), 15, "offset of the second member");
    assert_eq!(err.key(), Some(&b"s"[..]));

    let lp = listpack(&[Lp::S(b"b"), Lp::I(2), Lp::S(b"a"), Lp::I(1)]);
    let file = Rdb::new("REDIS0011").byte(17).str(b"z").str(&lp).finish();
    let err = entries(&file).expect_err("unsorted zset listpack");
    assert!(err.to_string().contains("not sorted"), "{err}");

    let lp = listpack(&[Lp::S(b"f"), Lp::S(b"1"), Lp::S(b"f"), Lp::S(b"2")]);
    let file = Rdb::new("REDIS0011").byte(16).str(b"h").str(&lp).finish();
    assert!(entries(&file).expect_err("duplicate field").to_string().contains("duplicate field"));
}

#[test]
fn large_strings_arrive_in_chunks_with_tiny_buffers() {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let file = Rdb::new("REDIS0011").byte(0).str(b"big").str(&big).finish();
    struct Chunks(usize, Vec<u8>);
    impl Visitor for Chunks {
        fn string_chunk(&mut self, c: &[u8]) -> VisitResult {
            self.0 += 1;
            self.1.extend_from_slice(c);
            Ok(())
        }
    }
    let mut v = Chunks(0, Vec::new());
    let opts = ReaderOptions { buffer_bytes: 4096, ..Default::default() };
    RdbReader::with_options(&file[..], opts).read_all(&mut v).expect("valid");
    assert!(v.0 > 100, "{} chunks", v.0);
    assert_eq!(v.1, big);
}

#[test]
fn empty_collections_are_reported_and_skipped() {
    let file = Rdb::new("REDIS0011").byte(2).str(b"s").len(0).byte(0).str(b"k").str(b"").finish();
    let e = entries(&file).expect("valid");
    assert_eq!(e.len(), 1, "the empty set is skipped, the empty string is not");
    assert_eq!(e[0].value, Value::String(Vec::new()));
}

#[test]
fn prerelease_functions_become_libraries() {
    let file = Rdb::new("REDIS0010")
        .byte(246)
        .str(b"lib1")
        .str(b"LUA")
        .len(1)
        .str(b"a description")
        .str(b"redis.register_function('f', function() return 1 end)")
        .byte(246)
        .str(b"lib2")
        .str(b"LUA")
        .len(0)
        .str(b"return 2")
        .finish();
    let mut seen = Seen::default();
    RdbReader::new(&file[..]).read_all(&mut seen).expect("valid");
    assert_eq!(seen.functions[0], b"#!lua name=lib1\nredis.register_function('f', function() return 1 end)");
    assert_eq!(seen.functions[1], b"#!lua name=lib2\nreturn 2");
    let bad = Rdb::new("REDIS0010").byte(246).str(b"l").str(b"LUA").len(7).finish();
    assert!(RdbReader::new(&bad[..]).read_all(&mut Seen::default()).is_err());
}
