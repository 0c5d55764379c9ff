//! Writing a dataset out: as owned entries (for records), an RDB for a target server,
//! or the commands of a server's AOF rewrite. Keys whose expiry has passed are left
//! out (a server deletes them as soon as it loads them), and so are expired hash fields.

use std::io::Write;

use rdb_parser::{
    replay_entry, Entry, RdbType, RdbWriter, Target, Value as RdbValue, Visitor, WriteSummary, WriterOptions,
};
use resp::rewrite::{RespOut, RespWriter};

use crate::dataset::convert::to_entry;
use crate::dataset::{Dataset, Value};
use crate::error::{Error, Result};

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct Emitted {
    /// Keys written.
    pub keys: u64,
    /// Keys left out because their expiry had passed.
    pub expired: u64,
    /// Function libraries written.
    pub functions: u64,
}

/// Calls `f` with every live key as an entry, databases in order, keys sorted; returns
/// the counts. `stream_type` is the stream layout to announce (commands for servers
/// before 7.0 need [`RdbType::StreamListpacks`]).
pub fn for_each_entry(
    data: &Dataset,
    now_ms: i64,
    stream_type: RdbType,
    mut f: impl FnMut(&Entry) -> Result<()>,
) -> Result<Emitted> {
    let mut out = Emitted::default();
    for (db, keys) in data.dbs.iter().enumerate() {
        let mut names: Vec<&[u8]> = keys.keys().map(|k| &**k).collect();
        names.sort_unstable();
        for name in names {
            let Some(slot) = keys.get(name) else { continue };
            if slot.expire_at_ms.is_some_and(|t| t <= now_ms) {
                out.expired += 1;
                continue;
            }
            let mut e = to_entry(db as u64, name, slot);
            if let RdbValue::Hash(fields) = &mut e.value {
                fields.retain(|f| f.expire_at_ms.is_none_or(|t| t > now_ms));
                if fields.is_empty() {
                    out.expired += 1;
                    continue;
                }
            }
            if matches!(slot.value, Value::Stream(_)) {
                e.rdb_type = stream_type;
            }
            f(&e)?;
            out.keys += 1;
        }
    }
    out.functions = data.functions.len() as u64;
    Ok(out)
}

fn visit_err(e: rdb_parser::VisitError) -> Error {
    match e.downcast::<std::io::Error>() {
        Ok(io) => Error::io("<output>", *io),
        Err(e) => Error::Refused(e.to_string()),
    }
}

/// Writes the dataset as an RDB for `target`.
pub fn write_rdb<W: Write>(data: &Dataset, target: Target, out: W, now_ms: i64) -> Result<(WriteSummary<W>, Emitted)> {
    let mut sizes = std::collections::BTreeMap::new();
    for (db, keys) in data.dbs.iter().enumerate() {
        let live = keys.values().filter(|s| s.expire_at_ms.is_none_or(|t| t > now_ms));
        let (n, e) = live.fold((0, 0), |(n, e), s| (n + 1, e + u64::from(s.expire_at_ms.is_some())));
        if n > 0 {
            sizes.insert(db as u64, (n, e));
        }
    }
    let stream_format = target.stream_format();
    let options = WriterOptions { db_sizes: Some(sizes), ..WriterOptions::new(target) };
    let mut w = RdbWriter::new(out, options).map_err(|e| Error::Refused(e.to_string()))?;
    for code in data.functions.values() {
        w.function(code).map_err(visit_err)?;
    }
    let emitted = for_each_entry(data, now_ms, RdbType::StreamListpacks3, |e| {
        if stream_format < 3 {
            let mut e = e.clone();
            fit_stream(&mut e, stream_format);
            return replay_entry(&e, &mut w).map_err(visit_err);
        }
        replay_entry(e, &mut w).map_err(visit_err)
    })?;
    let summary = w.finish().map_err(|e| match e.into_visitor_error() {
        Ok(v) => visit_err(v),
        Err(e) if e.is_io() => Error::io("<output>", std::io::Error::other(e.to_string())),
        Err(e) => Error::Refused(e.to_string()),
    })?;
    Ok((summary, emitted))
}

/// Leaves out the stream metadata older stream formats have no place for (the servers
/// of those versions do not keep it either).
fn fit_stream(e: &mut Entry, format: u8) {
    let RdbValue::Stream(s) = &mut e.value else { return };
    e.rdb_type = if format < 2 { RdbType::StreamListpacks } else { RdbType::StreamListpacks2 };
    for g in &mut s.groups {
        for c in &mut g.consumers {
            c.active_time_ms = None;
        }
        if format < 2 {
            g.entries_read = None;
        }
    }
    if format < 2 {
        s.meta.first_id = None;
        s.meta.max_deleted_id = None;
        s.meta.entries_added = None;
    }
}

/// Writes the dataset as the commands of a server's AOF rewrite (`FUNCTION LOAD`,
/// `SELECT`, `SET`, `RPUSH`...), for a server of `version` (major, minor).
pub fn write_resp<W: Write>(data: &Dataset, out: W, version: (u32, u32), now_ms: i64) -> Result<Emitted> {
    let mut w = RespWriter::new(RespOut(out));
    let v = format!("{}.{}.0", version.0, version.1);
    w.aux(b"redis-ver", v.as_bytes()).map_err(visit_err)?;
    for code in data.functions.values() {
        w.function(code).map_err(visit_err)?;
    }
    let stream_type = if version >= (7, 0) { RdbType::StreamListpacks3 } else { RdbType::StreamListpacks };
    for_each_entry(data, now_ms, stream_type, |e| replay_entry(e, &mut w).map_err(visit_err))
}
