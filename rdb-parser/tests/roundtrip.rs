//! Property tests: any value model written for any target reads back as the same data
//! (up to what the target is documented to drop, which must then be reported).

use std::collections::BTreeMap;

use proptest::prelude::*;
use rdb_parser::{
    replay_entry, Consumer, Entries, Entry, HashField, PendingEntry, RdbReader, RdbType, RdbWriter, ReaderOptions,
    SparseArray, Stream, StreamEntry, StreamGroup, StreamId, StreamMeta, Target, Value, WriterOptions,
};

const TARGETS: &[&str] = &[
    "redis-3.0",
    "redis-3.2",
    "redis-4.0",
    "redis-6.2",
    "redis-7.0",
    "redis-7.2",
    "redis-7.4",
    "redis-8.6",
    "redis-8.8",
    "redis-8.10",
    "valkey-8.1",
    "valkey-9.1",
];

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..24),
        3 => (-70_000i64..70_000).prop_map(|v| v.to_string().into_bytes()),
        1 => any::<i64>().prop_map(|v| v.to_string().into_bytes()),
        1 => "[a-z]{60,70}".prop_map(String::into_bytes),
        1 => (0usize..3).prop_map(|k| vec![b'x'; [300, 5000, 9000][k]]),
    ]
}

/// Members and fields: mostly short, sometimes just over the 64-byte compact limit.
fn small_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..12),
        4 => (-70_000i64..70_000).prop_map(|v| v.to_string().into_bytes()),
        1 => "[a-z]{64,66}".prop_map(String::into_bytes),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6f64..1e6,
        2 => (-1000i64..1000).prop_map(|v| v as f64),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
        1 => Just(5e-324),
        1 => Just(f64::MAX),
    ]
}

fn unique<T>(items: Vec<(Vec<u8>, T)>) -> Vec<(Vec<u8>, T)> {
    let mut seen = std::collections::HashSet::new();
    items.into_iter().filter(|(k, _)| seen.insert(k.clone())).collect()
}

fn stream() -> impl Strategy<Value = Stream> {
    let entry = proptest::collection::vec((bytes(), bytes()), 1..4);
    (proptest::collection::vec((1u64..5, entry), 0..40), 0usize..3, any::<u64>()).prop_map(|(raw, ngroups, seed)| {
        let mut id = StreamId { ms: 1_700_000_000_000, seq: 0 };
        let entries: Vec<StreamEntry> = raw
            .into_iter()
            .map(|(step, fields)| {
                id = StreamId { ms: id.ms + step / 2, seq: if step / 2 == 0 { id.seq + 1 } else { 0 } };
                StreamEntry { id, fields }
            })
            .collect();
        let last_id = entries.last().map_or(StreamId { ms: 5, seq: 5 }, |e| StreamId { ms: e.id.ms + 1, seq: 0 });
        let groups = (0..ngroups)
            .map(|g| {
                let mut pending = Vec::new();
                let mut nacked = Vec::new();
                let mut consumers = vec![
                    Consumer { name: b"alice".to_vec(), seen_time_ms: 1, active_time_ms: Some(2), pending: Vec::new() },
                    Consumer { name: vec![0xff, b'b'], seen_time_ms: 3, active_time_ms: Some(4), pending: Vec::new() },
                ];
                for (i, e) in entries.iter().enumerate() {
                    if (seed >> (i % 64)) & 1 == 1 && i % (g + 2) == 0 {
                        if i % 3 == 0 {
                            // Released with XNACK: pending, owned by nobody.
                            let (delivery_time_ms, delivery_count) = (0, 1);
                            pending.push(PendingEntry { id: e.id, delivery_time_ms, delivery_count, consumer: None });
                            nacked.push(e.id);
                            continue;
                        }
                        let owner = i % 2;
                        pending.push(PendingEntry {
                            id: e.id,
                            delivery_time_ms: 1_700_000_000_000 + i as i64,
                            delivery_count: i as u64 + 1,
                            consumer: Some(consumers[owner].name.clone()),
                        });
                        consumers[owner].pending.push(e.id);
                    }
                }
                StreamGroup {
                    name: format!("group{g}").into_bytes(),
                    last_id,
                    entries_read: Some(g as i64),
                    pending,
                    consumers,
                    nacked,
                }
            })
            .collect();
        let meta = StreamMeta {
            length: entries.len() as u64,
            last_id,
            first_id: Some(entries.first().map_or(StreamId::default(), |e| e.id)),
            max_deleted_id: Some(StreamId::default()),
            entries_added: Some(entries.len() as u64),
            idmp: None,
        };
        Stream { entries, meta, groups }
    })
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        bytes().prop_map(Value::String),
        proptest::collection::vec(bytes(), 1..300).prop_map(Value::List),
        proptest::collection::vec(small_bytes(), 1..300).prop_map(|v| Value::Set(
            unique(v.into_iter().map(|m| (m, ())).collect()).into_iter().map(|(m, _)| m).collect()
        )),
        proptest::collection::vec((small_bytes(), score()), 1..200).prop_map(|v| Value::ZSet(unique(v))),
        proptest::collection::vec(
            (small_bytes(), (small_bytes(), proptest::option::of(1_000_000i64..(1 << 47)))),
            1..600
        )
        .prop_map(|v| {
            Value::Hash(
                unique(v)
                    .into_iter()
                    .map(|(field, (value, expire_at_ms))| HashField { field, value, expire_at_ms })
                    .collect(),
            )
        }),
        stream().prop_map(|s| Value::Stream(Box::new(s))),
        (proptest::option::of(any::<u64>()), proptest::collection::btree_map(any::<u64>(), bytes(), 1..100)).prop_map(
            |(insert_idx, m)| {
                // u64::MAX is reserved, as index and as cursor.
                let elements = m.into_iter().filter(|(i, _)| *i != u64::MAX).collect();
                let insert_idx = insert_idx.filter(|i| *i != u64::MAX);
                Value::Array(Box::new(SparseArray { insert_idx, elements }))
            }
        ),
    ]
}

fn entry() -> impl Strategy<Value = Entry> {
    (0u64..3, bytes(), proptest::option::of(1i64..(1 << 45)), value()).prop_map(|(db, key, expire_at_ms, value)| {
        let rdb_type = match &value {
            Value::String(_) => RdbType::String,
            Value::List(_) => RdbType::ListQuicklist2,
            Value::Set(_) => RdbType::Set,
            Value::ZSet(_) => RdbType::ZSet2,
            Value::Hash(_) => RdbType::Hash,
            Value::Array(_) => RdbType::Array,
            _ => RdbType::StreamListpacks3,
        };
        Entry { db, key, expire_at_ms, lru_idle_s: None, lfu_freq: None, rdb_type, meta: Vec::new(), value }
    })
}

/// A consumer as compared: name, seen time, active time (when kept), pending IDs.
type ConsumerView<'a> = (&'a [u8], i64, Option<i64>, &'a [StreamId]);

/// The data as a comparable form: order-free collections sorted.
fn normal(e: &Entry, ttl: bool, stream_format: u8) -> (u64, Vec<u8>, Option<i64>, String) {
    let nack = stream_format >= 5;
    let v = match &e.value {
        Value::Set(m) => {
            let mut m = m.clone();
            m.sort();
            format!("set {m:?}")
        }
        Value::ZSet(m) => {
            let mut m: Vec<(Vec<u8>, u64)> = m.iter().map(|(k, s)| (k.clone(), s.to_bits())).collect();
            m.sort();
            format!("zset {m:?}")
        }
        Value::Hash(f) => {
            let m: BTreeMap<&[u8], (&[u8], Option<i64>)> =
                f.iter().map(|h| (&h.field[..], (&h.value[..], h.expire_at_ms.filter(|_| ttl)))).collect();
            format!("hash {m:?}")
        }
        Value::Stream(s) => {
            let groups: Vec<String> = s
                .groups
                .iter()
                .map(|g| {
                    let consumers: Vec<ConsumerView<'_>> = g
                        .consumers
                        .iter()
                        .map(|c| {
                            let active = if stream_format >= 3 { c.active_time_ms } else { None };
                            (&c.name[..], c.seen_time_ms, active, &c.pending[..])
                        })
                        .collect();
                    let read = if stream_format >= 2 { g.entries_read } else { None };
                    // Below format 5 NACKed entries are left out (a reported loss).
                    let pending: Vec<_> = g.pending.iter().filter(|p| nack || !g.nacked.contains(&p.id)).collect();
                    let nacked = if nack { &g.nacked[..] } else { &[] };
                    format!("{:?} {} {read:?} {pending:?} {consumers:?} {nacked:?}", g.name, g.last_id)
                })
                .collect();
            format!("stream {:?} {} {} {groups:?}", s.entries, s.meta.length, s.meta.last_id)
        }
        other => format!("{other:?}"),
    };
    (e.db, e.key.clone(), e.expire_at_ms, v)
}

fn read_back(file: &[u8]) -> Vec<Entry> {
    Entries::new(RdbReader::new(file))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("written file reads back: {e}"))
}

/// `file` rewritten for `target` by a writer that copies stored values.
fn copy_stored(file: &[u8], target: Target) -> Vec<u8> {
    let mut options = WriterOptions::new(target);
    options.copy_stored_values = true;
    let mut w = RdbWriter::new(Vec::new(), options).expect("header");
    let mut r = RdbReader::with_options(file, ReaderOptions { raw_values: true, ..Default::default() });
    r.read_all(&mut w).unwrap_or_else(|e| panic!("copy: {e}"));
    w.finish().expect("finish").out
}

#[test]
fn copying_stored_values_needs_a_reader_that_hands_them_over() {
    let file = b"REDIS0011\xfe\x00\xfb\x01\x00\x00\x03foo\x03bar\xff\x8d\x86\xb9\x4c\x67\x6e\xab\x95";
    let target = Target::for_version(11, false).expect("target");
    let back = read_back(&copy_stored(file, target.clone()));
    assert_eq!((&back[0].key[..], &back[0].value), (&b"foo"[..], &Value::String(b"bar".to_vec())));
    let mut options = WriterOptions::new(target);
    options.copy_stored_values = true;
    let mut w = RdbWriter::new(Vec::new(), options).expect("header");
    let err = RdbReader::new(&file[..]).read_all(&mut w).expect_err("no raw values");
    assert!(err.to_string().contains("raw_values"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn written_files_read_back_as_the_same_data(entries in proptest::collection::vec(entry(), 1..12)) {
        // Keys must be unique per database.
        let mut seen = std::collections::HashSet::new();
        let entries: Vec<Entry> = entries.into_iter().filter(|e| seen.insert((e.db, e.key.clone()))).collect();
        for name in TARGETS {
            let target = Target::named(name).expect("known target");
            let mut options = WriterOptions::new(target.clone());
            options.lossy = true;
            let mut w = RdbWriter::new(Vec::new(), options).expect("header");
            for e in &entries {
                replay_entry(e, &mut w).expect("write");
            }
            let summary = w.finish().expect("finish");
            let back = read_back(&summary.out);
            let kept: Vec<&Entry> = entries
                .iter()
                .filter(|e| target.has_streams() || !matches!(e.value, Value::Stream(_)))
                .filter(|e| target.has_arrays() || !matches!(e.value, Value::Array(_)))
                .collect();
            let has_ttls = entries.iter().any(|e| matches!(&e.value, Value::Hash(f) if f.iter().any(|f| f.expire_at_ms.is_some())));
            prop_assert_eq!(back.len(), kept.len(), "{}: keys", name);
            let ttl = target.has_field_ttls();
            let fmt = target.stream_format();
            for (a, b) in kept.iter().zip(&back) {
                prop_assert_eq!(normal(a, ttl, fmt), normal(b, ttl, fmt), "{}", name);
            }
            // Rewritten for the same target with stored values copied: the same data.
            let copy = copy_stored(&summary.out, target.clone());
            prop_assert_eq!(format!("{:?}", read_back(&copy)), format!("{back:?}"), "{}: copied", name);
            if has_ttls && !ttl {
                prop_assert!(summary.losses.iter().any(|l| l.what.contains("field TTL")), "{}: TTL loss reported", name);
            }
            // Without --lossy the same losses refuse the conversion.
            if !summary.losses.is_empty() {
                let mut w = RdbWriter::new(Vec::new(), WriterOptions::new(target.clone())).expect("header");
                for e in &entries {
                    replay_entry(e, &mut w).expect("write");
                }
                prop_assert!(w.finish().is_err(), "{}: losses must refuse", name);
            }
        }
    }
}
