//! Between the dataset's values and `rdb-parser`'s owned entries (RDB bases and DUMP
//! payloads come in as entries; every output goes out as entries).

use std::collections::VecDeque;

use rdb_parser::{
    Consumer as RdbConsumer, Entry, HashField, IdmpProducer, PendingEntry, RdbType, Stream as RdbStream, StreamEntry,
    StreamGroup, StreamIdmp, StreamMeta, Value as RdbValue,
};

use super::{Bytes, Consumer, Field, Group, Idmp, Map, Nack, Set, Slot, Stream, Value, ZSet};

/// Why an entry has no place in the dataset.
#[derive(Debug)]
pub struct Unsupported(pub String);

/// The dataset form of an entry's value.
pub fn from_entry(e: Entry) -> Result<Slot, Unsupported> {
    let value = match e.value {
        RdbValue::String(s) => Value::Str(s),
        RdbValue::List(items) => Value::List(items.into_iter().map(Bytes::from).collect::<VecDeque<_>>()),
        RdbValue::Set(m) => Value::Set(m.into_iter().map(Bytes::from).collect::<Set<_>>()),
        RdbValue::ZSet(m) => {
            let mut z = ZSet::default();
            for (member, score) in m {
                z.insert(&member, score);
            }
            Value::ZSet(Box::new(z))
        }
        RdbValue::Hash(fields) => Value::Hash(Box::new(
            fields
                .into_iter()
                .map(|f| (Bytes::from(f.field), Field { value: f.value.into(), expire_at_ms: f.expire_at_ms }))
                .collect::<Map<_, _>>(),
        )),
        RdbValue::Stream(s) => Value::Stream(Box::new(stream_from(*s))),
        RdbValue::Module(m) => {
            return Err(Unsupported(format!("a value of module type {} cannot be replayed without the module", m.name)))
        }
        #[allow(unreachable_patterns)]
        _ => return Err(Unsupported("a value type this version of rdbkit cannot replay".into())),
    };
    Ok(Slot { value, expire_at_ms: e.expire_at_ms })
}

fn stream_from(s: RdbStream) -> Stream {
    let mut out = Stream {
        last_id: s.meta.last_id,
        max_deleted_id: s.meta.max_deleted_id.unwrap_or_default(),
        entries_added: s.meta.entries_added.unwrap_or(s.meta.length),
        // The state every stream has on Redis 8.6 until a producer shows up is left out,
        // as for a stream that never had it.
        idmp: s.meta.idmp.filter(|i| !i.is_untouched()).map(|i| Box::new(idmp_from(i))),
        ..Stream::default()
    };
    for e in s.entries {
        let fields: Vec<Bytes> = e.fields.into_iter().flat_map(|(f, v)| [Bytes::from(f), Bytes::from(v)]).collect();
        out.entries.insert(e.id, fields.into_boxed_slice());
    }
    for g in s.groups {
        let mut group = Group { last_id: g.last_id, entries_read: g.entries_read.unwrap_or(-1), ..Group::default() };
        for c in g.consumers {
            let consumer = Consumer {
                seen_time_ms: c.seen_time_ms,
                active_time_ms: c.active_time_ms.unwrap_or(-1),
                pending: c.pending.into_iter().collect(),
            };
            group.consumers.insert(c.name.into(), consumer);
        }
        for p in g.pending {
            let Some(consumer) = p.consumer else { continue };
            let nack = Nack {
                consumer: consumer.into(),
                delivery_time_ms: p.delivery_time_ms,
                delivery_count: p.delivery_count,
            };
            group.pel.insert(p.id, nack);
        }
        out.groups.insert(g.name.into(), group);
    }
    out
}

/// The entry for one key (collections in their canonical order).
pub fn to_entry(db: u64, key: &[u8], slot: &Slot) -> Entry {
    let (value, rdb_type) = match &slot.value {
        Value::Str(s) => (RdbValue::String(s.clone()), RdbType::String),
        Value::List(l) => (RdbValue::List(l.iter().map(|e| e.to_vec()).collect()), RdbType::ListQuicklist2),
        Value::Set(s) => (RdbValue::Set(s.iter().map(|e| e.to_vec()).collect()), RdbType::Set),
        Value::ZSet(z) => (RdbValue::ZSet(z.order.iter().map(|(s, m)| (m.to_vec(), s.0)).collect()), RdbType::ZSet2),
        Value::Hash(h) => {
            let mut fields: Vec<HashField> = h
                .iter()
                .map(|(f, v)| HashField { field: f.to_vec(), value: v.value.to_vec(), expire_at_ms: v.expire_at_ms })
                .collect();
            fields.sort_by(|a, b| a.field.cmp(&b.field));
            (RdbValue::Hash(fields), RdbType::Hash)
        }
        Value::Stream(s) => (RdbValue::Stream(Box::new(stream_to(s))), RdbType::StreamListpacks3),
    };
    Entry {
        db,
        key: key.to_vec(),
        expire_at_ms: slot.expire_at_ms,
        lru_idle_s: None,
        lfu_freq: None,
        rdb_type,
        meta: Vec::new(),
        value,
    }
}

fn stream_to(s: &Stream) -> RdbStream {
    let entries: Vec<StreamEntry> = s
        .entries
        .iter()
        .map(|(id, f)| StreamEntry {
            id: *id,
            fields: f.chunks_exact(2).map(|p| (p[0].to_vec(), p[1].to_vec())).collect(),
        })
        .collect();
    let groups = s
        .groups
        .iter()
        .map(|(name, g)| StreamGroup {
            name: name.to_vec(),
            last_id: g.last_id,
            entries_read: (g.entries_read >= 0).then_some(g.entries_read),
            pending: g
                .pel
                .iter()
                .map(|(id, n)| PendingEntry {
                    id: *id,
                    delivery_time_ms: n.delivery_time_ms,
                    delivery_count: n.delivery_count,
                    consumer: Some(n.consumer.to_vec()),
                })
                .collect(),
            consumers: g
                .consumers
                .iter()
                .map(|(name, c)| RdbConsumer {
                    name: name.to_vec(),
                    seen_time_ms: c.seen_time_ms,
                    active_time_ms: (c.active_time_ms >= 0).then_some(c.active_time_ms),
                    pending: c.pending.iter().copied().collect(),
                })
                .collect(),
            nacked: Vec::new(),
        })
        .collect();
    let meta = StreamMeta {
        length: s.entries.len() as u64,
        last_id: s.last_id,
        first_id: Some(s.first_id()),
        max_deleted_id: Some(s.max_deleted_id),
        entries_added: Some(s.entries_added),
        idmp: s.idmp.as_deref().map(idmp_to),
    };
    RdbStream { entries, meta, groups }
}

fn idmp_from(i: StreamIdmp) -> Idmp {
    let producers = i
        .producers
        .into_iter()
        .filter(|p| !p.entries.is_empty())
        .map(|p| (p.pid.into(), p.entries.into_iter().map(|(iid, id)| (iid.into(), id)).collect()))
        .collect();
    Idmp {
        duration_s: i.duration_s,
        max_entries: i.max_entries,
        producers,
        iids_added: i.iids_added,
        iids_duplicates: i.iids_duplicates,
    }
}

fn idmp_to(i: &Idmp) -> StreamIdmp {
    StreamIdmp {
        duration_s: i.duration_s,
        max_entries: i.max_entries,
        producers: i
            .producers
            .iter()
            .map(|(pid, e)| IdmpProducer {
                pid: pid.to_vec(),
                entries: e.iter().map(|(iid, id)| (iid.to_vec(), *id)).collect(),
            })
            .collect(),
        iids_added: i.iids_added,
        iids_duplicates: i.iids_duplicates,
    }
}
