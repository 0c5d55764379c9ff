//! Streams of a live server: entries, metadata and consumer groups.

use anyhow::{bail, Context, Result};
use redis::{Connection, Value};

use super::query;
use crate::features::Features;
use crate::record::{Group, Pending, Stream, StreamEntry};
use crate::reply;

pub(super) fn read_stream(conn: &mut Connection, feat: &Features, key: &[u8]) -> Result<Stream> {
    let v = query(conn, redis::cmd("XRANGE").arg(key).arg("-").arg("+"), "XRANGE")?;
    let mut entries = Vec::new();
    for item in reply::array(&v).context("XRANGE")? {
        match reply::array(item).context("XRANGE entry")? {
            [id, fields] => entries.push(StreamEntry {
                id: reply::stream_id(id).context("XRANGE entry ID")?,
                fields: reply::byte_pairs(fields).context("XRANGE entry fields")?,
            }),
            other => bail!("XRANGE entry has {} parts, expected 2", other.len()),
        }
    }
    let length: u64 = redis::cmd("XLEN").arg(key).query(conn).context("XLEN")?;
    let info = query(conn, redis::cmd("XINFO").arg("STREAM").arg(key), "XINFO STREAM")?;
    let info = reply::fields(&info).context("XINFO STREAM")?;
    let last_id = reply::stream_id(reply::get(&info, "last-generated-id")?)?;
    let groups = if feat.xinfo_full() { read_groups_full(conn, key)? } else { read_groups_classic(conn, key)? };
    let idmp = if feat.stream_idmp() { Some(super::idmp::read_idmp(conn, key, &info)?) } else { None };
    let mut stream = Stream { entries, length, last_id, groups, idmp };
    stream.canonicalize();
    Ok(stream)
}

/// Groups from `XINFO STREAM key FULL` (6.0+); `COUNT 0` lists every PEL entry.
fn read_groups_full(conn: &mut Connection, key: &[u8]) -> Result<Vec<Group>> {
    let v =
        query(conn, redis::cmd("XINFO").arg("STREAM").arg(key).arg("FULL").arg("COUNT").arg(0), "XINFO STREAM FULL")?;
    let full = reply::fields(&v).context("XINFO STREAM FULL")?;
    let mut groups = Vec::new();
    for g in reply::array(reply::get(&full, "groups")?)? {
        let g = reply::fields(g).context("XINFO STREAM FULL group")?;
        let entries_read = match g.get("entries-read") {
            Some(v) => reply::opt_int(v)?.map(u64::try_from).transpose()?,
            None => None,
        };
        let mut pending = Vec::new();
        for p in reply::array(reply::get(&g, "pending")?)? {
            pending.push(pending_entry(p).context("XINFO STREAM FULL pending entry")?);
        }
        let mut consumers = Vec::new();
        for c in reply::array(reply::get(&g, "consumers")?)? {
            let c = reply::fields(c)?;
            consumers.push(reply::bytes(reply::get(&c, "name")?)?);
        }
        groups.push(Group {
            name: reply::bytes(reply::get(&g, "name")?)?,
            last_id: reply::stream_id(reply::get(&g, "last-delivered-id")?)?,
            entries_read,
            pending,
            consumers,
        });
    }
    Ok(groups)
}

/// Groups from `XINFO GROUPS`, `XPENDING` and `XINFO CONSUMERS` (5.0, which
/// has no `XINFO STREAM FULL` and no `entries-read`).
fn read_groups_classic(conn: &mut Connection, key: &[u8]) -> Result<Vec<Group>> {
    let v = query(conn, redis::cmd("XINFO").arg("GROUPS").arg(key), "XINFO GROUPS")?;
    let mut groups = Vec::new();
    for g in reply::array(&v)? {
        let g = reply::fields(g).context("XINFO GROUPS")?;
        let name = reply::bytes(reply::get(&g, "name")?)?;
        let pel = query(conn, redis::cmd("XPENDING").arg(key).arg(&name).arg("-").arg("+").arg(i64::MAX), "XPENDING")?;
        let mut pending = Vec::new();
        for p in reply::array(&pel)? {
            pending.push(pending_entry(p).context("XPENDING entry")?);
        }
        let cons = query(conn, redis::cmd("XINFO").arg("CONSUMERS").arg(key).arg(&name), "XINFO CONSUMERS")?;
        let mut consumers = Vec::new();
        for c in reply::array(&cons)? {
            let c = reply::fields(c)?;
            consumers.push(reply::bytes(reply::get(&c, "name")?)?);
        }
        groups.push(Group {
            name,
            last_id: reply::stream_id(reply::get(&g, "last-delivered-id")?)?,
            entries_read: None,
            pending,
            consumers,
        });
    }
    Ok(groups)
}

/// `[id, consumer, <time>, delivery-count]`, as both `XINFO STREAM FULL`
/// (delivery time) and `XPENDING` (idle time) report it.
fn pending_entry(v: &Value) -> Result<Pending> {
    match reply::array(v)? {
        [id, consumer, _time, count] => Ok(Pending {
            id: reply::stream_id(id)?,
            consumer: reply::bytes(consumer)?,
            delivery_count: u64::try_from(reply::int(count)?)?,
        }),
        other => bail!("pending entry has {} parts, expected 4", other.len()),
    }
}
