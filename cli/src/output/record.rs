//! One key as one NDJSON record, in the schema of `docs/ndjson.md`.
//!
//! Records are written into a [`Text`], which goes out in pieces as it grows; the parts
//! of a record are public for keys written as they are read ([`super::bigkey`]).

use rdb_parser::{Entry, HashField, KeyMeta, Kind, ModuleOp, SparseArray, Stream, StreamId, StreamIdmp, Value};

use std::cmp::Ordering;

use super::json;
use super::text::Text;

/// Strings longer than this are written in pieces.
const PIECE_BYTES: usize = 64 << 10;

/// Appends the record for `e` (without a newline).
///
/// Sets are sorted by member bytes, hashes by field bytes, sorted sets by score then
/// member, consumer groups and consumers by name: the order carries no meaning in the
/// data, and a canonical order makes outputs comparable with `diff`.
pub fn write(out: &mut Text, e: &Entry) {
    head(out, e.db, &e.key, e.value.kind(), e.expire_at_ms);
    match &e.value {
        Value::String(s) => bytes(out, s),
        Value::List(items) => list(out, items.iter().map(|i| &i[..])),
        Value::Set(members) => set(out, ordered(members, |a, b| a.cmp(b)).map(|m| &m[..])),
        Value::ZSet(members) => {
            let by_score = |a: &(Vec<u8>, f64), b: &(Vec<u8>, f64)| by_score((&a.0, a.1), (&b.0, b.1));
            zset(out, ordered(members, by_score).map(|(m, s)| (&m[..], *s)));
        }
        Value::Hash(fields) => {
            let by_field = |a: &HashField, b: &HashField| a.field.cmp(&b.field);
            hash(out, || ordered(fields, by_field).map(|f| (&f.field[..], &f.value[..], f.expire_at_ms)));
        }
        Value::Stream(s) => stream(out, s),
        Value::Array(a) => array_value(out, a),
        Value::Gcra(tat_us) => {
            out.extend_from_slice(b"{\"tat_us\":");
            json::int(out, *tat_us);
            out.push(b'}');
        }
        Value::Module(m) => {
            out.extend_from_slice(b"{\"module\":");
            json::string(out, &m.name);
            out.extend_from_slice(b",\"encver\":");
            json::int(out, m.encver);
            out.extend_from_slice(b",\"ops\":");
            module_ops(out, &m.ops);
            out.push(b'}');
        }
    }
    tail(out, &e.meta);
}

/// The start of a record, up to its value.
pub fn head(out: &mut Text, db: u64, key: &[u8], kind: Kind, expire_at_ms: Option<i64>) {
    out.extend_from_slice(b"{\"db\":");
    json::int(out, db);
    out.extend_from_slice(b",\"key\":");
    bytes(out, key);
    out.extend_from_slice(b",\"type\":");
    json::string(out, kind.name());
    out.extend_from_slice(b",\"expire_at_ms\":");
    json::opt_int(out, expire_at_ms);
    out.extend_from_slice(b",\"value\":");
}

/// The end of a record, after its value.
pub fn tail(out: &mut Text, meta: &[KeyMeta]) {
    if !meta.is_empty() {
        out.extend_from_slice(b",\"key_meta\":");
        array(out, meta.iter(), key_meta);
    }
    out.push(b'}');
}

/// A byte string (see [`json::bytes`]), written in pieces when it is long.
pub fn bytes(out: &mut Text, b: &[u8]) {
    if b.len() <= PIECE_BYTES {
        return json::bytes(out, b);
    }
    match std::str::from_utf8(b) {
        Ok(s) => {
            out.push(b'"');
            let mut rest = s;
            while !rest.is_empty() {
                let mut end = rest.len().min(PIECE_BYTES);
                while !rest.is_char_boundary(end) {
                    end -= 1;
                }
                json::string_content(out, &rest[..end]);
                out.spill();
                rest = &rest[end..];
            }
            out.push(b'"');
        }
        Err(_) => {
            out.extend_from_slice(b"{\"base64\":\"");
            // Whole groups of 3 bytes per piece: the pieces' base64 joins up.
            for piece in b.chunks(PIECE_BYTES / 3 * 3) {
                json::base64(out, piece);
                out.spill();
            }
            out.extend_from_slice(b"\"}");
        }
    }
}

/// Lists.
pub fn list<'a>(out: &mut Text, items: impl Iterator<Item = &'a [u8]>) {
    array(out, items, bytes);
}

/// Sets (members in order).
pub fn set<'a>(out: &mut Text, members: impl Iterator<Item = &'a [u8]>) {
    array(out, members, bytes);
}

/// The order of sorted-set members in records: by score, ties by member. Scores are
/// never NaN; -0.0 and 0.0 compare equal, as in ZRANGE.
pub fn by_score(a: (&[u8], f64), b: (&[u8], f64)) -> Ordering {
    a.1.partial_cmp(&b.1).unwrap_or(Ordering::Equal).then_with(|| a.0.cmp(b.0))
}

/// Sorted sets: `[member, score]` pairs in order.
pub fn zset<'a>(out: &mut Text, members: impl Iterator<Item = (&'a [u8], f64)>) {
    array(out, members, |out, (m, s)| {
        out.push(b'[');
        bytes(out, m);
        out.push(b',');
        json::score(out, s);
        out.push(b']');
    });
}

/// Hashes: fields in order, then their expiries when any has one; `fields` gives the
/// (field, value, expiry) triples in order, as often as needed.
pub fn hash<'a, I>(out: &mut Text, fields: impl Fn() -> I)
where
    I: Iterator<Item = (&'a [u8], &'a [u8], Option<i64>)>,
{
    let as_object = fields().all(|(f, _, _)| std::str::from_utf8(f).is_ok());
    map(out, as_object, fields().map(|(f, v, _)| (f, Some(v), None)));
    if fields().any(|(_, _, ttl)| ttl.is_some()) {
        out.extend_from_slice(b",\"field_expire_at_ms\":");
        map(out, as_object, fields().filter_map(|(f, _, ttl)| ttl.map(|t| (f, None, Some(t)))));
    }
}

/// The items of `items` in the order of `cmp`, sorted only when they are not in order
/// or in reverse order already (listpack sorted sets are; skiplists are saved reversed).
fn ordered<T>(items: &[T], cmp: impl Fn(&T, &T) -> Ordering) -> Ordered<'_, T> {
    if items.is_sorted_by(|a, b| cmp(a, b) != Ordering::Greater) {
        return Ordered::Forward(items.iter());
    }
    if items.is_sorted_by(|a, b| cmp(a, b) == Ordering::Greater) {
        return Ordered::Backward(items.iter().rev());
    }
    let mut sorted: Vec<&T> = items.iter().collect();
    sorted.sort_by(|a, b| cmp(a, b));
    Ordered::Sorted(sorted.into_iter())
}

/// The iterator of [`ordered`].
enum Ordered<'a, T> {
    Forward(std::slice::Iter<'a, T>),
    Backward(std::iter::Rev<std::slice::Iter<'a, T>>),
    Sorted(std::vec::IntoIter<&'a T>),
}

impl<'a, T> Iterator for Ordered<'a, T> {
    type Item = &'a T;
    fn next(&mut self) -> Option<&'a T> {
        match self {
            Ordered::Forward(i) => i.next(),
            Ordered::Backward(i) => i.next(),
            Ordered::Sorted(i) => i.next(),
        }
    }
}

/// `[["uint",5],["string","..."],...]`: the annotated items a module saved.
fn module_ops(out: &mut Text, ops: &[ModuleOp]) {
    array(out, ops.iter(), |out, op| {
        out.push(b'[');
        match op {
            ModuleOp::SInt(v) => tagged(out, "sint", |o| json::int(o, *v)),
            ModuleOp::UInt(v) => tagged(out, "uint", |o| json::int(o, *v)),
            ModuleOp::Float(v) => tagged(out, "float", |o| json::score(o, f64::from(*v))),
            ModuleOp::Double(v) => tagged(out, "double", |o| json::score(o, *v)),
            ModuleOp::String(b) => {
                json::string(out, "string");
                out.push(b',');
                bytes(out, b);
            }
        }
        out.push(b']');
    });
}

/// One metadata class of a key (Redis RDB 13): its name, version, flags and items.
fn key_meta(out: &mut Text, m: &KeyMeta) {
    out.extend_from_slice(b"{\"class\":");
    json::string(out, &m.class_name());
    out.extend_from_slice(b",\"version\":");
    json::int(out, m.class_version());
    out.extend_from_slice(b",\"flags\":");
    json::int(out, m.class_flags());
    out.extend_from_slice(b",\"ops\":");
    module_ops(out, &m.ops);
    out.push(b'}');
}

/// `{"insert_idx":"N"|null,"elements":[["index",value],...]}`: indices are decimal
/// strings, since they span all of u64 and JSON readers keep integers exact only to 2^53.
fn array_value(out: &mut Text, a: &SparseArray) {
    out.extend_from_slice(b"{\"insert_idx\":");
    match a.insert_idx {
        Some(i) => json::string(out, itoa::Buffer::new().format(i)),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"elements\":");
    array(out, a.elements.iter(), |out, (index, value)| {
        out.push(b'[');
        json::string(out, itoa::Buffer::new().format(*index));
        out.push(b',');
        bytes(out, value);
        out.push(b']');
    });
    out.push(b'}');
}

fn tagged(out: &mut Vec<u8>, tag: &str, value: impl FnOnce(&mut Vec<u8>)) {
    json::string(out, tag);
    out.push(b',');
    value(out);
}

fn array<T>(out: &mut Text, items: impl Iterator<Item = T>, mut f: impl FnMut(&mut Text, T)) {
    out.push(b'[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        f(out, item);
        out.spill();
    }
    out.push(b']');
}

/// A hash-shaped value: `{field: v}` when every name is UTF-8, else `[[field, v], ...]`,
/// where `v` is a value or an expiry.
fn map<'a>(out: &mut Text, as_object: bool, items: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>, Option<i64>)>) {
    out.push(if as_object { b'{' } else { b'[' });
    for (i, (name, value, ttl)) in items.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if !as_object {
            out.push(b'[');
        }
        bytes(out, name);
        out.push(if as_object { b':' } else { b',' });
        match value {
            Some(v) => bytes(out, v),
            None => json::opt_int(out, ttl),
        }
        if !as_object {
            out.push(b']');
        }
        out.spill();
    }
    out.push(if as_object { b'}' } else { b']' });
}

fn stream(out: &mut Text, s: &Stream) {
    out.extend_from_slice(b"{\"entries\":");
    array(out, s.entries.iter(), |out, e| stream_entry(out, e.id, e.fields.iter().map(|(f, v)| (&f[..], &v[..]))));
    stream_rest(out, s);
}

/// One stream entry: `{"id":..,"fields":[[f,v],..]}`.
pub fn stream_entry<'a>(out: &mut Text, id: StreamId, fields: impl Iterator<Item = (&'a [u8], &'a [u8])>) {
    out.extend_from_slice(b"{\"id\":");
    json::stream_id(out, id);
    out.extend_from_slice(b",\"fields\":");
    array(out, fields, |out, (f, v)| {
        out.push(b'[');
        bytes(out, f);
        out.push(b',');
        bytes(out, v);
        out.push(b']');
    });
    out.push(b'}');
}

/// A stream's value after its entries (from `,"length":` on; `s.entries` is not read).
pub fn stream_rest(out: &mut Text, s: &Stream) {
    out.extend_from_slice(b",\"length\":");
    json::int(out, s.meta.length);
    out.extend_from_slice(b",\"last_id\":");
    json::stream_id(out, s.meta.last_id);
    out.extend_from_slice(b",\"groups\":");
    let mut groups: Vec<_> = s.groups.iter().collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    array(out, groups.into_iter(), |out, g| {
        out.extend_from_slice(b"{\"name\":");
        json::bytes(out, &g.name);
        out.extend_from_slice(b",\"last_id\":");
        json::stream_id(out, g.last_id);
        out.extend_from_slice(b",\"entries_read\":");
        json::opt_int(out, g.entries_read);
        out.extend_from_slice(b",\"pending\":");
        array(out, g.pending.iter(), |out, p| {
            out.extend_from_slice(b"{\"id\":");
            json::stream_id(out, p.id);
            out.extend_from_slice(b",\"consumer\":");
            match &p.consumer {
                Some(c) => json::bytes(out, c),
                None => out.extend_from_slice(b"null"),
            }
            out.extend_from_slice(b",\"delivery_count\":");
            json::int(out, p.delivery_count);
            out.push(b'}');
        });
        out.extend_from_slice(b",\"consumers\":");
        let mut consumers: Vec<_> = g.consumers.iter().collect();
        consumers.sort_by(|a, b| a.name.cmp(&b.name));
        array(out, consumers.into_iter(), |out, c| {
            out.extend_from_slice(b"{\"name\":");
            json::bytes(out, &c.name);
            out.push(b'}');
        });
        if !g.nacked.is_empty() {
            out.extend_from_slice(b",\"nacked\":");
            array(out, g.nacked.iter(), |out, id| json::stream_id(out, *id));
        }
        out.push(b'}');
    });
    if let Some(i) = &s.meta.idmp {
        out.extend_from_slice(b",\"idmp\":");
        idmp(out, i);
    }
    out.push(b'}');
}

/// Idempotent-producer state (RDB 13): producers sorted by ID, each with its
/// remembered IDs in file order (the order the server evicts them in).
fn idmp(out: &mut Text, i: &StreamIdmp) {
    out.extend_from_slice(b"{\"duration_s\":");
    json::int(out, i.duration_s);
    out.extend_from_slice(b",\"max_entries\":");
    json::int(out, i.max_entries);
    out.extend_from_slice(b",\"producers\":");
    let mut producers: Vec<_> = i.producers.iter().collect();
    producers.sort_by(|a, b| a.pid.cmp(&b.pid));
    array(out, producers.into_iter(), |out, p| {
        out.extend_from_slice(b"{\"pid\":");
        json::bytes(out, &p.pid);
        out.extend_from_slice(b",\"entries\":");
        array(out, p.entries.iter(), |out, (iid, id)| {
            out.extend_from_slice(b"{\"iid\":");
            json::bytes(out, iid);
            out.extend_from_slice(b",\"id\":");
            json::stream_id(out, *id);
            out.push(b'}');
        });
        out.push(b'}');
    });
    out.extend_from_slice(b",\"iids_added\":");
    json::int(out, i.iids_added);
    out.extend_from_slice(b",\"iids_duplicates\":");
    json::int(out, i.iids_duplicates);
    out.push(b'}');
}
