//! Hand-made RDB 14 and 15 files (Redis 8.8 / 8.10): streams with a NACK zone (type 27),
//! sparse arrays (28), hash templates (opcode 242, types 29–32) and GCRA values (33),
//! built from the layouts in the format reference, with the loaders' checks.

mod common;

use common::{listpack, Lp, Rdb};
use rdb_parser::{
    Entries, Entry, Limits, RdbReader, ReaderOptions, SparseArray, StreamId, Value, VisitResult, Visitor,
};

fn entries(file: &[u8]) -> Result<Vec<Entry>, rdb_parser::Error> {
    Entries::new(RdbReader::new(file)).collect()
}

fn err(file: &[u8]) -> String {
    entries(file).expect_err("invalid").to_string()
}

fn array(e: &Entry) -> &SparseArray {
    match &e.value {
        Value::Array(a) => a,
        other => panic!("not an array: {other:?}"),
    }
}

/// Fields of a hash entry, in the order read.
fn fields(e: &Entry) -> Vec<(String, String)> {
    match &e.value {
        Value::Hash(f) => f
            .iter()
            .map(|h| (String::from_utf8_lossy(&h.field).into_owned(), String::from_utf8_lossy(&h.value).into_owned()))
            .collect(),
        other => panic!("not a hash: {other:?}"),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(f, v)| (f.to_string(), v.to_string())).collect()
}

// ---- type 28: arrays ----

#[test]
fn arrays_with_every_tag_and_cursor() {
    let mut b = Rdb::new("REDIS0014").byte(28).str(b"basic").len(100).len(0);
    for i in 0..100u64 {
        b = b.len(i).len(0).str(format!("a{i}").as_bytes());
    }
    let long = b"this_is_a_long_sds_string_value_long_enough";
    let file = b
        .byte(28)
        .str(b"mixed")
        .len(4)
        .len(0)
        .len(0)
        .len(0)
        .str(long)
        .len(1)
        .len(1)
        .i64le(42)
        .len(2)
        .len(2)
        .f64le(1.5)
        .len(3)
        .len(3)
        .str(b"abc")
        .byte(28)
        .str(b"cursor")
        .len(3)
        .len(1)
        .len(49)
        .len(1_000_000)
        .len(0)
        .str(b"first")
        .len(1_000_100)
        .len(0)
        .str(b"mid")
        .len(1_001_000)
        .len(0)
        .str(b"third")
        .byte(28)
        .str(b"boundary")
        .len(1)
        .len(1)
        .len(u64::MAX - 1)
        .len(u64::MAX - 1)
        .len(0)
        .str(b"b")
        .finish();
    let e = entries(&file).expect("valid");
    let basic = array(&e[0]);
    assert_eq!(basic.insert_idx, None);
    assert_eq!(basic.elements.len(), 100);
    assert_eq!(basic.elements[99], (99, b"a99".to_vec()));
    let mixed: Vec<_> =
        array(&e[1]).elements.iter().map(|(i, v)| (*i, String::from_utf8_lossy(v).into_owned())).collect();
    let long = String::from_utf8_lossy(long).into_owned();
    assert_eq!(mixed, vec![(0, long), (1, "42".into()), (2, "1.5".into()), (3, "abc".into())]);
    assert_eq!(array(&e[2]).insert_idx, Some(49));
    assert_eq!(array(&e[2]).elements[2], (1_001_000, b"third".to_vec()));
    assert_eq!(array(&e[3]).insert_idx, Some(u64::MAX - 1));
}

fn one_array(body: impl FnOnce(Rdb) -> Rdb) -> Vec<u8> {
    body(Rdb::new("REDIS0014").byte(28).str(b"arr")).finish()
}

#[test]
fn arrays_are_checked_beyond_what_redis_checks() {
    let cases: [(Vec<u8>, &str); 8] = [
        (one_array(|b| b.len(0).len(0)), "empty array"),
        (one_array(|b| b.len(1).len(2)), "insert-index flag 2"),
        (one_array(|b| b.len(1).len(1).len(u64::MAX)), "insert index 2^64-1"),
        (one_array(|b| b.len(1).len(0).len(0).len(4).str(b"x")), "tag 4"),
        (one_array(|b| b.len(1).len(0).len(0).len(3).str(b"12345678")), "small string of 8 bytes"),
        (one_array(|b| b.len(2).len(0).len(5).len(0).str(b"x").len(5).len(0).str(b"y")), "duplicate array index 5"),
        (one_array(|b| b.len(2).len(0).len(5).len(0).str(b"x").len(4).len(0).str(b"y")), "indices must ascend"),
        (one_array(|b| b.len(1).len(0).len(u64::MAX).len(0).str(b"x")), "index 2^64-1"),
    ];
    for (file, want) in cases {
        let e = err(&file);
        assert!(e.contains(want), "{want}: {e}");
    }
    // A declared count larger than the file is a short read, not an allocation.
    // (the EOF opcode and checksum are then read as elements: any error will do).
    err(&one_array(|b| b.len(1 << 40).len(0).len(0).len(0).str(b"x")));
    // Arrays exist since RDB 14.
    let file = Rdb::new("REDIS0013").byte(28).str(b"a").len(1).len(0).len(0).len(0).str(b"x").finish();
    assert!(err(&file).contains("since RDB 14"));
}

// ---- type 27: streams with a NACK zone ----

/// A stream with entries 1-0 … 4-0, one group whose PEL holds `pel`, consumer `c1`
/// owning `owned`, and the NACK zone `nacked` (all as ms values).
fn xnack_stream(pel: &[u64], owned: &[u64], nacked: &[u64]) -> Vec<u8> {
    let mut items = vec![Lp::I(4), Lp::I(0), Lp::I(1), Lp::S(b"f"), Lp::I(0)];
    for ms in 0..4 {
        items.extend([Lp::I(2), Lp::I(ms), Lp::I(0), Lp::S(b"v"), Lp::I(4)]);
    }
    let node = listpack(&items);
    let id = |ms: u64| StreamId { ms, seq: 0 }.to_be_bytes();
    let mut b = Rdb::new("REDIS0014").byte(27).str(b"s").len(1).str(&id(1)).str(&node);
    b = b.len(4).len(4).len(0).len(1).len(0).len(0).len(0).len(4); // length, last, first, max-del, added
    b = b.len(1).str(b"g").len(4).len(0).len(4); // group: name, last id, entries read
    b = b.len(pel.len() as u64);
    for &ms in pel {
        let time = if owned.contains(&ms) { 1_779_170_192_004 } else { 0 };
        b = b.raw(&id(ms)).i64le(time).len(1);
    }
    b = b.len(1).str(b"c1").i64le(1).i64le(2).len(owned.len() as u64);
    for &ms in owned {
        b = b.raw(&id(ms));
    }
    b = b.len(nacked.len() as u64);
    for &ms in nacked {
        b = b.raw(&id(ms));
    }
    b.len(100).len(100).len(0).len(0).len(0).finish() // IDMP: settings, no producer, counters
}

#[test]
fn stream_nack_zone_is_read_and_checked() {
    let e = entries(&xnack_stream(&[1, 2, 3, 4], &[1, 4], &[2, 3])).expect("valid");
    let Value::Stream(s) = &e[0].value else { panic!("stream expected") };
    assert_eq!(s.entries.len(), 4);
    let g = &s.groups[0];
    assert_eq!(g.nacked, vec![StreamId { ms: 2, seq: 0 }, StreamId { ms: 3, seq: 0 }]);
    assert_eq!(g.pending.iter().filter(|p| p.consumer.is_none()).count(), 2);
    assert!(s.meta.idmp.is_some());

    type Case<'a> = (&'a [u64], &'a [u64], &'a [u64], &'a str);
    let cases: [Case<'_>; 4] = [
        (&[1, 2], &[1], &[3], "not in the group's list"),
        (&[1, 2], &[1, 2], &[2], "has a consumer"),
        (&[1, 2, 3], &[1], &[2], "3-0 has no consumer"),
        (&[1, 2], &[1], &[2, 2], "twice"),
    ];
    for (pel, owned, nacked, want) in cases {
        let e = err(&xnack_stream(pel, owned, nacked));
        assert!(e.contains(want), "{want}: {e}");
    }
}

#[test]
fn streams_with_a_nack_zone_read_alike_on_worker_threads() {
    use rdb_parser::fuzzing::fanned_read_verdict;
    let same = |bytes: &[u8], what: &str| {
        assert_eq!(fanned_read_verdict(bytes, false, true), fanned_read_verdict(bytes, true, true), "{what}");
    };
    let valid = xnack_stream(&[1, 2, 3, 4], &[1, 4], &[2, 3]);
    let read = fanned_read_verdict(&valid, true, true);
    assert!(read.is_ok_and(|(_, keys)| keys.iter().any(|k| k.contains("nacked: [StreamId { ms: 2"))));
    same(&valid, "valid");
    let twice = xnack_stream(&[1, 2], &[1], &[2, 2]);
    assert!(fanned_read_verdict(&twice, true, true).is_err_and(|e| e.contains("twice")));
    same(&twice, "NACK zone lists an entry twice");
    common::for_each_damaged(&valid, 60, 200, 0x2545_f491_4f6c_dd1d, |what, bytes, _| {
        same(bytes, what);
    });
}

// ---- opcode 242 and types 29–32: hash templates ----

fn template(b: Rdb, id: u64, names: &[&[u8]]) -> Rdb {
    let mut b = b.byte(242).len(id).len(names.len() as u64);
    for n in names {
        b = b.str(n);
    }
    b
}

const PERSON: &[&[u8]] = &[b"age", b"city", b"name"];

/// 400 × `a` as LZF: one literal, then back-references of 264 and 135 bytes.
fn lzf_400_a() -> Vec<u8> {
    let data = [0x00, b'a', 0xe0, 0xff, 0x00, 0xe0, 126, 0x00];
    let mut out = vec![0xc3];
    common::put_len(&mut out, data.len() as u64);
    common::put_len(&mut out, 400);
    out.extend_from_slice(&data);
    out
}

#[test]
fn template_hashes_of_every_type() {
    let mut b = template(Rdb::new("REDIS0015"), 0, PERSON);
    b = template(b, 7, &[b"big", b"num", b"empty"]).byte(254).len(0);
    // Type 30: listpack of the id and the values in field order.
    let lp = listpack(&[Lp::I(0), Lp::S(b"a1"), Lp::S(b"c1"), Lp::S(b"n1")]);
    b = b.byte(30).str(b"h1").str(&lp);
    // Type 32: id, then one string per field (int-encoded, empty and LZF values).
    b = b.byte(32).str(b"e1").len(7).raw(&lzf_400_a()).raw(&[0xc2]).raw(&1_000_000i32.to_le_bytes()).str(b"");
    // Type 29 with FIELDS_LP and type 31 with FIELDS_RAW: self-contained.
    let names = listpack(&[Lp::S(b"age"), Lp::S(b"city"), Lp::S(b"name")]);
    let values = listpack(&[Lp::I(99), Lp::S(b"a2"), Lp::S(b"c2"), Lp::S(b"n2")]);
    b = b.byte(29).str(b"h2").len(0).str(&names).str(&values);
    b = b.byte(31).str(b"h3").len(1).len(3).str(b"age").str(b"city").str(b"name").str(b"a3").str(b"c3").str(b"n3");
    // Type 31 with FIELDS_LP; integer names read as their decimal text.
    let names = listpack(&[Lp::I(7), Lp::I(10)]);
    b = b.byte(31).str(b"h4").len(0).str(&names).str(b"x").str(b"y");
    let e = entries(&b.finish()).expect("valid");
    assert_eq!(fields(&e[0]), pairs(&[("age", "a1"), ("city", "c1"), ("name", "n1")]));
    let big = "a".repeat(400);
    assert_eq!(fields(&e[1]), pairs(&[("big", &big), ("num", "1000000"), ("empty", "")]));
    assert_eq!(fields(&e[2]), pairs(&[("age", "a2"), ("city", "c2"), ("name", "n2")]));
    assert_eq!(fields(&e[3]), pairs(&[("age", "a3"), ("city", "c3"), ("name", "n3")]));
    assert_eq!(fields(&e[4]), pairs(&[("7", "x"), ("10", "y")]));
    assert_eq!(e[0].rdb_type.encoding_name(), "template-listpack");
}

#[test]
fn template_errors() {
    let base = || Rdb::new("REDIS0015");
    let ok_lp = listpack(&[Lp::I(0), Lp::S(b"a"), Lp::S(b"c"), Lp::S(b"n")]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (base().byte(242).len(0).len(0).finish(), "zero fields"),
        (template(base(), 0, &[b"name", b"age"]).finish(), "not strictly sorted"),
        (template(base(), 0, &[b"city", b"city"]).finish(), "not strictly sorted"),
        (template(template(base(), 3, PERSON), 3, PERSON).finish(), "declared twice"),
        (
            template(base(), 0, PERSON).byte(30).str(b"h").str(&listpack(&[Lp::I(1), Lp::S(b"a")])).finish(),
            "unknown hash template id 1",
        ),
        (base().byte(32).str(b"h").len(0).str(b"v").finish(), "unknown hash template id 0"),
        (base().byte(30).str(b"h").str(&ok_lp).finish(), "unknown hash template id 0"),
        (
            template(base(), 0, PERSON).byte(30).str(b"h").str(&listpack(&[Lp::S(b"x"), Lp::S(b"a")])).finish(),
            "not a template id",
        ),
        (
            template(base(), 0, PERSON).byte(30).str(b"h").str(&listpack(&[Lp::I(-1), Lp::S(b"a")])).finish(),
            "not a template id",
        ),
        (
            template(base(), 0, PERSON).byte(30).str(b"h").str(&listpack(&[Lp::I(0), Lp::S(b"a")])).finish(),
            "1 values for a template of 3 fields",
        ),
        (base().byte(31).str(b"h").len(2).len(1).str(b"a").str(b"v").finish(), "field format 2"),
        (
            base().byte(31).str(b"h").len(1).len(2).str(b"bb").str(b"a").str(b"v").str(b"w").finish(),
            "not strictly sorted",
        ),
        (base().byte(31).str(b"h").len(1).len(0).finish(), "zero fields"),
        (
            base()
                .byte(29)
                .str(b"h")
                .len(1)
                .len(1)
                .str(b"a")
                .str(&listpack(&[Lp::I(0), Lp::S(b"x"), Lp::S(b"y")]))
                .finish(),
            "2 values for a template of 1 fields",
        ),
        (Rdb::new("REDIS0014").byte(242).len(0).len(1).str(b"a").finish(), "since RDB 15"),
    ];
    for (file, want) in cases {
        let e = err(&file);
        assert!(e.contains(want), "{want}: {e}");
    }
}

#[test]
fn huge_template_counts_fail_short_without_allocating() {
    for file in [
        Rdb::new("REDIS0015").byte(242).len(0).len(1 << 40).str(b"a").finish(),
        Rdb::new("REDIS0015").byte(31).str(b"h").len(1).len(1 << 40).str(b"a").finish(),
    ] {
        // The EOF opcode and checksum are then read as names: any error will do.
        err(&file);
    }
}

#[test]
fn templates_held_for_the_file_are_bounded() {
    let mut b = Rdb::new("REDIS0015");
    for id in 0..100 {
        b = template(b, id, &[b"field-one", b"field-two"]);
    }
    let file = b.finish();
    let limits = Limits { max_template_bytes: 2000, ..Limits::default() };
    let options = ReaderOptions { limits, ..ReaderOptions::default() };
    let e = RdbReader::with_options(&file[..], options).read_all(&mut rdb_parser::NullVisitor).expect_err("limit");
    assert!(e.to_string().contains("hash template field names"), "{e}");
    assert!(entries(&file).is_ok(), "within the default limit");
}

#[test]
fn templates_reach_the_visitor() {
    #[derive(Default)]
    struct Seen(Vec<(u64, Vec<Vec<u8>>)>);
    impl Visitor for Seen {
        fn hash_template(&mut self, id: u64, fields: &[&[u8]]) -> VisitResult {
            self.0.push((id, fields.iter().map(|f| f.to_vec()).collect()));
            Ok(())
        }
    }
    let file = template(Rdb::new("REDIS0015"), 5, PERSON).finish();
    let mut seen = Seen::default();
    RdbReader::new(&file[..]).read_all(&mut seen).expect("valid");
    assert_eq!(seen.0, vec![(5, PERSON.iter().map(|f| f.to_vec()).collect())]);
}

// ---- type 33: GCRA ----

#[test]
fn gcra_values_are_decoded_and_labelled() {
    let file = Rdb::new("REDIS0015")
        .byte(252)
        .i64le(1_800_000_000_000)
        .byte(33)
        .str(b"rl")
        .len(1_779_000_000_000_000)
        .finish();
    let e = entries(&file).expect("valid");
    assert_eq!(e[0].value, Value::Gcra(1_779_000_000_000_000));
    assert_eq!(e[0].value.kind().name(), "gcra");
    let file = Rdb::new("REDIS0015").byte(33).str(b"rl").len(1 << 63).finish();
    assert!(err(&file).contains("exceeds 2^63-1"));
}
