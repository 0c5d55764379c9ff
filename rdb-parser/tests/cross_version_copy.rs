//! Writing for another version with stored values copied: long strings and big plain
//! sets, hashes and sorted sets go out as they were stored (not held decoded, not
//! re-encoded); small values still take the target server's own encodings.

mod common;

use common::{listpack, Lp, Rdb};
use rdb_parser::{
    Entries, Entry, KeyStart, RdbReader, RdbType, RdbWriter, ReaderOptions, Target, Value, Visit, VisitError,
    VisitResult, Visitor, WriterOptions,
};

/// Elements of each big collection: above the 65,536 from which values are copied.
const BIG: u64 = 70_000;

/// A member that the writer would LZF-compress (so that a re-encoded value differs from
/// the stored one, which keeps it plain).
fn member(i: u64) -> Vec<u8> {
    format!("member-member-member-member-{i:08}").into_bytes()
}

/// The stored bytes of a plain set (`per` 1), hash (`per` 2) or sorted set (`score`):
/// `count` elements of `per` strings each.
fn plain_value(count: u64, per: usize, score: bool) -> Vec<u8> {
    let mut r = Rdb::new("REDIS0010").len(count);
    for i in 0..count {
        for _ in 0..per {
            r = r.str(&member(i));
        }
        if score {
            r = r.f64le(i as f64 / 4.0);
        }
    }
    r.buf.split_off(9)
}

/// The keys of `file` and their values (not how they were stored; sorted sets by
/// member, as servers write them in reverse order).
fn read(file: &[u8]) -> Vec<(Vec<u8>, Value)> {
    let entries: Vec<Entry> =
        Entries::new(RdbReader::new(file)).collect::<Result<_, _>>().unwrap_or_else(|e| panic!("reads: {e}"));
    let normal = |v: Value| match v {
        Value::ZSet(mut m) => {
            m.sort_by(|a, b| a.0.cmp(&b.0));
            Value::ZSet(m)
        }
        v => v,
    };
    entries.into_iter().map(|e| (e.key, normal(e.value))).collect()
}

/// Whether `hay` holds `needle` starting where it holds needle's first 64 bytes.
fn holds(hay: &[u8], needle: &[u8]) -> bool {
    let head = &needle[..64.min(needle.len())];
    hay.windows(head.len()).enumerate().any(|(at, w)| w == head && hay.get(at..at + needle.len()) == Some(needle))
}

/// `src` written for Redis 6.2 with stored values copied where they can be.
fn write_for_redis_6_2(src: &[u8], defer_checks: bool) -> Vec<u8> {
    write_for("redis-6.2", src, defer_checks)
}

/// `src` written for `target` with stored values copied where they can be.
fn write_for(target: &str, src: &[u8], defer_checks: bool) -> Vec<u8> {
    write_copying(target, src, defer_checks, true)
}

/// `src` written for `target` (leaving out what it cannot hold), with stored values
/// copied where they can be when `copy`.
fn write_copying(target: &str, src: &[u8], defer_checks: bool, copy: bool) -> Vec<u8> {
    let mut options = WriterOptions::new(Target::named(target).expect("known target"));
    options.copy_stored_values = copy;
    options.lossy = true;
    let mut w = RdbWriter::new(Vec::new(), options).expect("header");
    let reading = ReaderOptions { raw_values: copy, defer_checks, ..Default::default() };
    RdbReader::with_options(src, reading).read_all(&mut w).expect("write");
    w.finish().expect("finish").out
}

/// A stored LZF string of `repeats` times "abcdefgh" made of 8-byte back-references
/// (4x smaller; the writer's own encoder would use 264-byte ones, so a re-encoded
/// string differs from this one).
fn lzf_string(repeats: usize) -> Vec<u8> {
    let mut packed = vec![7];
    packed.extend_from_slice(b"abcdefgh");
    for _ in 1..repeats {
        // Length 8 (stored as 8 - 2 in the top 3 bits), from 8 bytes back (7).
        packed.extend_from_slice(&[6 << 5, 7]);
    }
    let mut stored = vec![0xc3];
    common::put_len(&mut stored, packed.len() as u64);
    common::put_len(&mut stored, 8 * repeats as u64);
    stored.extend_from_slice(&packed);
    stored
}

#[test]
fn a_long_lzf_string_is_copied_when_its_checks_are_deferred() {
    // 1.6 MB once decompressed, 400 KB stored: small enough to be checked on the other
    // thread, long enough to be copied.
    let value = lzf_string(200_000);
    let src = Rdb::new("REDIS0010").byte(0xfe).len(0).byte(RdbType::String.byte()).str(b"lzf").raw(&value).finish();
    for defer_checks in [false, true] {
        let out = write_for_redis_6_2(&src, defer_checks);
        assert_eq!(read(&out), read(&src), "same data");
        let record = [&[RdbType::String.byte(), 3][..], b"lzf", &value].concat();
        assert!(holds(&out, &record), "copied as stored (deferred checks: {defer_checks})");
    }
}

#[test]
fn big_plain_values_are_copied_into_a_file_of_another_version() {
    let long_string: Vec<u8> = b"abcdefgh".repeat(200_000);
    let mut stored_string = Vec::new();
    common::put_len(&mut stored_string, long_string.len() as u64);
    stored_string.extend_from_slice(&long_string);
    let big: [(RdbType, &[u8], Vec<u8>); 4] = [
        (RdbType::Set, b"set", plain_value(BIG, 1, false)),
        (RdbType::Hash, b"hash", plain_value(BIG, 2, false)),
        (RdbType::ZSet2, b"zset", plain_value(BIG, 1, true)),
        (RdbType::String, b"string", stored_string),
    ];
    let mut src = Rdb::new("REDIS0010").byte(0xfe).len(0);
    for (ty, key, value) in &big {
        src = src.byte(ty.byte()).str(key).raw(value);
    }
    // A small set of integers: the target writes it as an intset.
    let src = src.byte(RdbType::Set.byte()).str(b"small").len(2).str(b"1").str(b"2").finish();

    let out = write_for_redis_6_2(&src, false);

    assert_eq!(&out[..9], b"REDIS0009");
    assert_eq!(read(&out), read(&src), "same data");
    for (ty, key, value) in &big {
        let mut record = vec![ty.byte()];
        common::put_len(&mut record, key.len() as u64);
        record.extend_from_slice(key);
        record.extend_from_slice(value);
        assert!(holds(&out, &record), "{}: copied as stored", String::from_utf8_lossy(key));
    }
    let small = [&[RdbType::SetIntset.byte(), 5][..], b"small"].concat();
    assert!(holds(&out, &small), "the small set is re-encoded as an intset");
}

/// The node count stated by the list `key` of type `ty` in `file`.
fn quicklist_nodes(file: &[u8], ty: RdbType, key: &[u8]) -> u8 {
    let record = [&[ty.byte(), key.len() as u8][..], key].concat();
    let at = file.windows(record.len()).position(|w| w == record).expect("the list has the expected type");
    file[at + record.len()]
}

#[test]
fn lists_change_node_containers_node_by_node() {
    // Three small nodes (one plain): written back as three, not merged into one.
    let mut value = Vec::new();
    common::put_len(&mut value, 3);
    for (container, blob) in [
        (2, listpack(&[Lp::S(b"first"), Lp::I(7), Lp::I(-70_000_000_000)])),
        (1, b"a plain node".to_vec()),
        (2, listpack(&[Lp::I(-5), Lp::S(&[b'x'; 300])])),
    ] {
        common::put_len(&mut value, container);
        common::put_len(&mut value, blob.len() as u64);
        value.extend_from_slice(&blob);
    }
    let ty = RdbType::ListQuicklist2.byte();
    let src = Rdb::new("REDIS0010").byte(0xfe).len(0).byte(ty).str(b"list").raw(&value).finish();
    for defer_checks in [false, true] {
        let older = write_for_redis_6_2(&src, defer_checks);
        assert_eq!(read(&older), read(&src), "same data");
        assert_eq!(quicklist_nodes(&older, RdbType::ListQuicklist, b"list"), 3, "one ziplist per node");
        let newer = write_for("redis-7.0", &older, defer_checks);
        assert_eq!(read(&newer), read(&src), "same data");
        assert_eq!(quicklist_nodes(&newer, RdbType::ListQuicklist2, b"list"), 3, "one listpack per node");
    }
}

/// Keeps the stored bytes of one key's value.
struct StoredValue<'a> {
    key: &'a [u8],
    rdb_type: Option<RdbType>,
    bytes: Vec<u8>,
}

impl Visitor for StoredValue<'_> {
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        Ok(if k.key == self.key { Visit::Raw } else { Visit::Skip })
    }

    fn raw_value(&mut self, rdb_type: RdbType, bytes: &[u8]) -> VisitResult {
        self.rdb_type = Some(rdb_type);
        self.bytes = bytes.to_vec();
        Ok(())
    }
}

/// Streams of every format (from the fixtures of each server) written for formats 1, 2
/// and 3: the same data as when re-packed from their entries (the first entry's ID
/// included, which format 1 does not state), with the nodes as stored.
#[test]
fn stream_nodes_are_copied_into_another_stream_format() {
    let mut streams = 0;
    for dump in common::fixture_dumps() {
        let src = std::fs::read(&dump).expect("fixture");
        let mut events = StoredValue { key: b"stream:events", rdb_type: None, bytes: Vec::new() };
        let reading = ReaderOptions { raw_values: true, ..Default::default() };
        RdbReader::with_options(&src[..], reading).read_all(&mut events).expect("reads");
        if events.rdb_type.is_none() {
            continue; // No stream.
        }
        streams += 1;
        // The first node (count, master ID, start of its listpack): the repacked one
        // would start at the first live entry (the stored one starts at a deleted one).
        let first_node = &events.bytes[..events.bytes.len().min(256)];
        for target in ["redis-6.2", "redis-7.0", "redis-7.2"] {
            let copied = write_copying(target, &src, true, true);
            let repacked = write_copying(target, &src, true, false);
            let what = format!("{} for {target}", dump.display());
            assert_eq!(read(&copied), read(&repacked), "{what}: same data either way");
            assert!(holds(&copied, first_node), "{what}: nodes copied as stored");
            assert!(!holds(&repacked, first_node), "{what}: repacked nodes start elsewhere");
        }
    }
    assert!(streams >= 7, "fixture dumps with streams: {streams}");
}
