//! Writing for another version with stored values copied: long strings and big plain
//! sets, hashes and sorted sets go out as they were stored (not held decoded, not
//! re-encoded); small values still take the target server's own encodings.

mod common;

use common::Rdb;
use rdb_parser::{Entries, Entry, RdbReader, RdbType, RdbWriter, ReaderOptions, Target, Value, WriterOptions};

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
    let mut options = WriterOptions::new(Target::named("redis-6.2").expect("known target"));
    options.copy_stored_values = true;
    let mut w = RdbWriter::new(Vec::new(), options).expect("header");
    let reading = ReaderOptions { raw_values: true, defer_checks, ..Default::default() };
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
