//! Writing records: one ordered tree, rendered as a `serde_json::Value` or
//! as compact text with the fields in schema order.

use std::collections::BTreeMap;

use serde_json::{Number, Value as Json};

use super::{bytes_to_json, score_to_json, Bytes, Data, Idmp, Record, Stream, StreamId};

/// The canonical JSON value of a record.
pub(super) fn to_json(r: &Record) -> Json {
    record(r).into_json()
}

/// The canonical compact JSON text of a record (no trailing newline).
pub(super) fn to_json_line(r: &Record) -> String {
    let mut out = String::new();
    record(r).write(&mut out);
    out
}

/// JSON with object keys in a chosen order (serde_json's `Map` sorts keys
/// unless the `preserve_order` feature is on, which would change the
/// behaviour of every crate in the build).
enum Ordered {
    Leaf(Json),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Ordered {
    fn into_json(self) -> Json {
        match self {
            Ordered::Leaf(v) => v,
            Ordered::Array(items) => Json::Array(items.into_iter().map(Ordered::into_json).collect()),
            Ordered::Object(fields) => Json::Object(fields.into_iter().map(|(k, v)| (k, v.into_json())).collect()),
        }
    }

    fn write(&self, out: &mut String) {
        match self {
            Ordered::Leaf(v) => out.push_str(&v.to_string()),
            Ordered::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Ordered::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Json::String(k.clone()).to_string());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

fn leaf_bytes(b: &[u8]) -> Ordered {
    Ordered::Leaf(bytes_to_json(b))
}

fn obj(fields: Vec<(&str, Ordered)>) -> Ordered {
    Ordered::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A byte-keyed map as an object when every key is UTF-8, else as pairs.
fn byte_map<V>(map: &BTreeMap<Bytes, V>, value: impl Fn(&V) -> Json) -> Ordered {
    if map.keys().all(|k| std::str::from_utf8(k).is_ok()) {
        Ordered::Object(
            map.iter().map(|(k, v)| (String::from_utf8_lossy(k).into_owned(), Ordered::Leaf(value(v)))).collect(),
        )
    } else {
        Ordered::Array(map.iter().map(|(k, v)| Ordered::Array(vec![leaf_bytes(k), Ordered::Leaf(value(v))])).collect())
    }
}

fn int<T: Into<Number>>(n: T) -> Ordered {
    Ordered::Leaf(Json::Number(n.into()))
}

fn id(id: StreamId) -> Ordered {
    Ordered::Leaf(Json::String(id.to_string()))
}

fn stream(s: &Stream) -> Ordered {
    let entries = s
        .entries
        .iter()
        .map(|e| {
            let fields = e.fields.iter().map(|(f, v)| Ordered::Array(vec![leaf_bytes(f), leaf_bytes(v)])).collect();
            obj(vec![("id", id(e.id)), ("fields", Ordered::Array(fields))])
        })
        .collect();
    let groups = s
        .groups
        .iter()
        .map(|g| {
            let pending = g
                .pending
                .iter()
                .map(|p| {
                    obj(vec![
                        ("id", id(p.id)),
                        ("consumer", leaf_bytes(&p.consumer)),
                        ("delivery_count", int(p.delivery_count)),
                    ])
                })
                .collect();
            let consumers = g.consumers.iter().map(|c| obj(vec![("name", leaf_bytes(c))])).collect();
            obj(vec![
                ("name", leaf_bytes(&g.name)),
                ("last_id", id(g.last_id)),
                ("entries_read", g.entries_read.map_or(Ordered::Leaf(Json::Null), int)),
                ("pending", Ordered::Array(pending)),
                ("consumers", Ordered::Array(consumers)),
            ])
        })
        .collect();
    let mut fields = vec![
        ("entries", Ordered::Array(entries)),
        ("length", int(s.length)),
        ("last_id", id(s.last_id)),
        ("groups", Ordered::Array(groups)),
    ];
    if let Some(i) = &s.idmp {
        fields.push(("idmp", idmp(i)));
    }
    obj(fields)
}

fn idmp(i: &Idmp) -> Ordered {
    let producers = i
        .producers
        .iter()
        .map(|p| {
            let entries =
                p.entries.iter().map(|(iid, at)| obj(vec![("iid", leaf_bytes(iid)), ("id", id(*at))])).collect();
            obj(vec![("pid", leaf_bytes(&p.pid)), ("entries", Ordered::Array(entries))])
        })
        .collect();
    obj(vec![
        ("duration_s", int(i.duration_s)),
        ("max_entries", int(i.max_entries)),
        ("producers", Ordered::Array(producers)),
        ("iids_added", int(i.iids_added)),
        ("iids_duplicates", int(i.iids_duplicates)),
    ])
}

fn record(r: &Record) -> Ordered {
    let value = match &r.data {
        Data::String(b) => leaf_bytes(b),
        Data::List(items) => Ordered::Array(items.iter().map(|b| leaf_bytes(b)).collect()),
        Data::Set(items) => Ordered::Array(items.iter().map(|b| leaf_bytes(b)).collect()),
        Data::ZSet(items) => Ordered::Array(
            items.iter().map(|(m, s)| Ordered::Array(vec![leaf_bytes(m), Ordered::Leaf(score_to_json(*s))])).collect(),
        ),
        Data::Hash(map) => byte_map(map, |v| bytes_to_json(v)),
        Data::Stream(s) => stream(s),
    };
    let mut fields = vec![
        ("db", int(r.db)),
        ("key", leaf_bytes(&r.key)),
        ("type", Ordered::Leaf(Json::String(r.type_name().into()))),
        ("expire_at_ms", r.expire_at_ms.map_or(Ordered::Leaf(Json::Null), int)),
        ("value", value),
    ];
    if !r.field_expire_at_ms.is_empty() {
        fields.push(("field_expire_at_ms", byte_map(&r.field_expire_at_ms, |ms| Json::Number((*ms).into()))));
    }
    obj(fields)
}
