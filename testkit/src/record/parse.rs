//! Lenient reading of the JSON forms.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json};

use super::{
    json_to_bytes, json_to_score, Bytes, Data, Group, Idmp, IdmpProducer, Pending, Record, Stream, StreamEntry,
    StreamId,
};

fn field<'a>(m: &'a Map<String, Json>, name: &str) -> Result<&'a Json, String> {
    m.get(name).ok_or_else(|| format!("missing \"{name}\""))
}

fn object<'a>(v: &'a Json, what: &str) -> Result<&'a Map<String, Json>, String> {
    v.as_object().ok_or_else(|| format!("{what}: expected an object"))
}

fn array<'a>(v: &'a Json, what: &str) -> Result<&'a Vec<Json>, String> {
    v.as_array().ok_or_else(|| format!("{what}: expected an array"))
}

fn uint(v: &Json, what: &str) -> Result<u64, String> {
    v.as_u64().ok_or_else(|| format!("{what}: expected a non-negative integer, got {v}"))
}

fn opt_int(v: Option<&Json>, what: &str) -> Result<Option<i64>, String> {
    match v {
        None | Some(Json::Null) => Ok(None),
        Some(x) => x.as_i64().map(Some).ok_or_else(|| format!("{what}: expected an integer or null, got {x}")),
    }
}

fn bytes(v: &Json, what: &str) -> Result<Bytes, String> {
    json_to_bytes(v).map_err(|e| format!("{what}: {e}"))
}

fn stream_id(v: &Json, what: &str) -> Result<StreamId, String> {
    v.as_str().ok_or_else(|| format!("{what}: expected an ID string"))?.parse().map_err(|e| format!("{what}: {e}"))
}

fn pair<'a>(v: &'a Json, what: &str) -> Result<(&'a Json, &'a Json), String> {
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok((a, b)),
        _ => Err(format!("{what}: expected a [first, second] pair")),
    }
}

/// An object `{utf8-name: V}` or pairs `[[name, V], ...]`.
fn byte_map<V>(
    v: &Json,
    what: &str,
    value: impl Fn(&Json, &str) -> Result<V, String>,
) -> Result<BTreeMap<Bytes, V>, String> {
    let mut out = BTreeMap::new();
    let mut put = |k: Bytes, val: V, at: &str| {
        if out.insert(k, val).is_some() {
            Err(format!("{at}: duplicate name"))
        } else {
            Ok(())
        }
    };
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                let at = format!("{what}.{k}");
                put(k.as_bytes().to_vec(), value(x, &at)?, &at)?;
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let at = format!("{what}[{i}]");
                let (k, x) = pair(item, &at)?;
                put(bytes(k, &at)?, value(x, &at)?, &at)?;
            }
        }
        _ => return Err(format!("{what}: expected an object or an array of pairs")),
    }
    Ok(out)
}

pub(super) fn record(v: &Json) -> Result<Record, String> {
    let m = object(v, "record")?;
    let db = uint(field(m, "db")?, "db")?;
    let db = u32::try_from(db).map_err(|_| format!("db {db} out of range"))?;
    let key = bytes(field(m, "key")?, "key")?;
    let expire_at_ms = opt_int(m.get("expire_at_ms"), "expire_at_ms")?;
    let ty = field(m, "type")?.as_str().ok_or("type: expected a string")?;
    let value = field(m, "value")?;
    let data = match ty {
        "string" => Data::String(bytes(value, "value")?),
        "list" => Data::List(
            array(value, "value")?
                .iter()
                .enumerate()
                .map(|(i, x)| bytes(x, &format!("value[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        "set" => {
            let mut set = BTreeSet::new();
            for (i, x) in array(value, "value")?.iter().enumerate() {
                if !set.insert(bytes(x, &format!("value[{i}]"))?) {
                    return Err(format!("value[{i}]: duplicate set member"));
                }
            }
            Data::Set(set)
        }
        "zset" => Data::ZSet(
            array(value, "value")?
                .iter()
                .enumerate()
                .map(|(i, x)| {
                    let at = format!("value[{i}]");
                    let (m, s) = pair(x, &at)?;
                    Ok((bytes(m, &at)?, json_to_score(s).map_err(|e| format!("{at}: {e}"))?))
                })
                .collect::<Result<_, String>>()?,
        ),
        "hash" => Data::Hash(byte_map(value, "value", bytes)?),
        "stream" => Data::Stream(stream(value)?),
        other => return Err(format!("type: unknown type {other:?}")),
    };
    let field_expire_at_ms = match m.get("field_expire_at_ms") {
        None | Some(Json::Null) => BTreeMap::new(),
        Some(x) => byte_map(x, "field_expire_at_ms", |v, at| {
            v.as_i64().ok_or_else(|| format!("{at}: expected an integer, got {v}"))
        })?,
    };
    Ok(Record { db, key, expire_at_ms, data, field_expire_at_ms })
}

fn stream(v: &Json) -> Result<Stream, String> {
    let m = object(v, "value")?;
    let mut entries = Vec::new();
    for (i, e) in array(field(m, "entries")?, "entries")?.iter().enumerate() {
        let at = format!("entries[{i}]");
        let em = object(e, &at)?;
        let id = stream_id(field(em, "id")?, &format!("{at}.id"))?;
        let fields = array(field(em, "fields")?, &format!("{at}.fields"))?
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let at = format!("{at}.fields[{j}]");
                let (f, x) = pair(p, &at)?;
                Ok((bytes(f, &at)?, bytes(x, &at)?))
            })
            .collect::<Result<_, String>>()?;
        entries.push(StreamEntry { id, fields });
    }
    let mut groups = Vec::new();
    for (i, g) in array(field(m, "groups")?, "groups")?.iter().enumerate() {
        let at = format!("groups[{i}]");
        let gm = object(g, &at)?;
        let pending = array(field(gm, "pending")?, &format!("{at}.pending"))?
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let at = format!("{at}.pending[{j}]");
                let pm = object(p, &at)?;
                Ok(Pending {
                    id: stream_id(field(pm, "id")?, &at)?,
                    consumer: bytes(field(pm, "consumer")?, &at)?,
                    delivery_count: uint(field(pm, "delivery_count")?, &at)?,
                })
            })
            .collect::<Result<_, String>>()?;
        let consumers = array(field(gm, "consumers")?, &format!("{at}.consumers"))?
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let at = format!("{at}.consumers[{j}]");
                bytes(field(object(c, &at)?, "name")?, &at)
            })
            .collect::<Result<_, String>>()?;
        let entries_read = match gm.get("entries_read") {
            None | Some(Json::Null) => None,
            Some(x) => Some(uint(x, &format!("{at}.entries_read"))?),
        };
        groups.push(Group {
            name: bytes(field(gm, "name")?, &format!("{at}.name"))?,
            last_id: stream_id(field(gm, "last_id")?, &format!("{at}.last_id"))?,
            entries_read,
            pending,
            consumers,
        });
    }
    let idmp = match m.get("idmp") {
        None | Some(Json::Null) => None,
        Some(x) => Some(idmp(x)?),
    };
    Ok(Stream {
        entries,
        length: uint(field(m, "length")?, "length")?,
        last_id: stream_id(field(m, "last_id")?, "last_id")?,
        groups,
        idmp,
    })
}

fn idmp(v: &Json) -> Result<Idmp, String> {
    let m = object(v, "idmp")?;
    let num = |name: &str| uint(field(m, name)?, &format!("idmp.{name}"));
    let mut producers = Vec::new();
    for (i, p) in array(field(m, "producers")?, "idmp.producers")?.iter().enumerate() {
        let at = format!("idmp.producers[{i}]");
        let pm = object(p, &at)?;
        let entries = array(field(pm, "entries")?, &format!("{at}.entries"))?
            .iter()
            .enumerate()
            .map(|(j, e)| {
                let at = format!("{at}.entries[{j}]");
                let em = object(e, &at)?;
                Ok((bytes(field(em, "iid")?, &at)?, stream_id(field(em, "id")?, &at)?))
            })
            .collect::<Result<_, String>>()?;
        producers.push(IdmpProducer { pid: bytes(field(pm, "pid")?, &at)?, entries });
    }
    Ok(Idmp {
        duration_s: num("duration_s")?,
        max_entries: num("max_entries")?,
        producers,
        iids_added: num("iids_added")?,
        iids_duplicates: num("iids_duplicates")?,
    })
}
