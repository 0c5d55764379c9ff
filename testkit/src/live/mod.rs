//! Reading every key of a live server back into NDJSON records.
//!
//! Everything is read as raw bytes (`Vec<u8>` replies), never through lossy
//! string conversions. Keys are listed with `SCAN` in each database that
//! `INFO keyspace` reports as non-empty.

use std::collections::BTreeSet;

use anyhow::{bail, Context, Result};
use redis::{Connection, Value};
use serde_json::Value as Json;

use crate::expiry::ExpiryLog;
use crate::features::Features;
use crate::record::{show_bytes, Bytes, Data, Record};
use crate::reply;

mod idmp;
mod stream;

/// How far a recorded absolute expiry may be from `TIME + PTTL` (servers
/// before 7.0) and still be accepted as the key's expiry.
const EXPIRY_TOLERANCE_MS: i64 = 60_000;

/// Keys per `SCAN` step and fields per `HPEXPIRETIME` call.
const BATCH: usize = 500;

/// Every key of every database as NDJSON records (see `fixtures/README.md`),
/// sorted by `(db, key bytes)`.
///
/// On 7.0+ expiry times are read exactly with `PEXPIRETIME`. Older servers
/// only report `PTTL`; there the absolute time must be in `known` (the
/// dataset records every `PEXPIREAT` it issues, and
/// [`ExpiryLog::from_records`] reads them from a fixture) and is checked
/// against `PTTL`. A TTL that `known` cannot explain is an error.
///
/// The connection is left on db 0.
pub fn dump_live(conn: &mut Connection, known: &ExpiryLog) -> Result<Vec<Json>> {
    Ok(dump_live_records(conn, known)?.iter().map(Record::to_json).collect())
}

/// [`dump_live`] as typed records.
pub fn dump_live_records(conn: &mut Connection, known: &ExpiryLog) -> Result<Vec<Record>> {
    let feat = Features::detect(conn)?;
    let now_ms = server_time_ms(conn)?;
    let mut out = Vec::new();
    for db in nonempty_dbs(conn)? {
        select(conn, db)?;
        for key in scan_keys(conn).with_context(|| format!("listing keys of db {db}"))? {
            let rec = read_key(conn, &feat, db, &key, known, now_ms)
                .with_context(|| format!("reading db {db} key {}", show_bytes(&key)))?;
            out.extend(rec);
        }
    }
    select(conn, 0)?;
    out.sort_by(|a, b| (a.db, &a.key).cmp(&(b.db, &b.key)));
    Ok(out)
}

/// `SELECT db`.
pub(crate) fn select(conn: &mut Connection, db: u32) -> Result<()> {
    redis::cmd("SELECT").arg(db).query::<()>(conn).with_context(|| format!("SELECT {db}"))
}

/// Databases that hold keys, from the `dbN:keys=...` lines of `INFO keyspace`.
pub(crate) fn nonempty_dbs(conn: &mut Connection) -> Result<Vec<u32>> {
    let info: Bytes = redis::cmd("INFO").arg("keyspace").query(conn).context("INFO keyspace")?;
    let mut dbs: Vec<u32> = String::from_utf8_lossy(&info)
        .lines()
        .filter_map(|l| l.strip_prefix("db")?.split(':').next()?.parse().ok())
        .collect();
    dbs.sort_unstable();
    Ok(dbs)
}

/// Server clock in Unix milliseconds (`TIME`).
pub(crate) fn server_time_ms(conn: &mut Connection) -> Result<i64> {
    let (secs, micros): (i64, i64) = redis::cmd("TIME").query(conn).context("TIME")?;
    Ok(secs * 1000 + micros / 1000)
}

fn scan_keys(conn: &mut Connection) -> Result<BTreeSet<Bytes>> {
    let mut keys = BTreeSet::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<Bytes>) =
            redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(BATCH).query(conn).context("SCAN")?;
        // SCAN may return a key more than once; the set removes repeats.
        keys.extend(batch);
        if next == 0 {
            return Ok(keys);
        }
        cursor = next;
    }
}

pub(crate) fn query(conn: &mut Connection, cmd: &mut redis::Cmd, what: &str) -> Result<Value> {
    cmd.query::<Value>(conn).with_context(|| what.to_owned())
}

fn read_key(
    conn: &mut Connection,
    feat: &Features,
    db: u32,
    key: &[u8],
    known: &ExpiryLog,
    now_ms: i64,
) -> Result<Option<Record>> {
    let ty: String = redis::cmd("TYPE").arg(key).query(conn).context("TYPE")?;
    if ty == "none" {
        return Ok(None); // deleted since SCAN listed it
    }
    let expire_at_ms = read_expiry(conn, feat, db, key, known, now_ms)?;
    let mut field_expire_at_ms = Default::default();
    let data = match ty.as_str() {
        "string" => Data::String(redis::cmd("GET").arg(key).query(conn).context("GET")?),
        "list" => Data::List(redis::cmd("LRANGE").arg(key).arg(0).arg(-1).query(conn).context("LRANGE")?),
        "set" => Data::Set(redis::cmd("SMEMBERS").arg(key).query(conn).context("SMEMBERS")?),
        "zset" => {
            let v = query(conn, redis::cmd("ZRANGE").arg(key).arg(0).arg(-1).arg("WITHSCORES"), "ZRANGE")?;
            let mut items = Vec::new();
            for (member, score) in reply::byte_pairs(&v).context("ZRANGE")? {
                let text = String::from_utf8_lossy(&score);
                let score: f64 = text.parse().with_context(|| format!("ZRANGE score {text:?} is not a number"))?;
                items.push((member, score));
            }
            Data::ZSet(items)
        }
        "hash" => {
            let v = query(conn, redis::cmd("HGETALL").arg(key), "HGETALL")?;
            let map: std::collections::BTreeMap<Bytes, Bytes> =
                reply::byte_pairs(&v).context("HGETALL")?.into_iter().collect();
            if feat.hash_field_ttl() && !map.is_empty() {
                let names: Vec<&Bytes> = map.keys().collect();
                field_expire_at_ms = read_field_expiries(conn, key, &names)?;
            }
            Data::Hash(map)
        }
        "stream" => Data::Stream(stream::read_stream(conn, feat, key)?),
        other => bail!("unsupported type {other:?} (module types are not part of the dataset)"),
    };
    Ok(Some(Record { db, key: key.to_vec(), expire_at_ms, data, field_expire_at_ms }))
}

fn read_expiry(
    conn: &mut Connection,
    feat: &Features,
    db: u32,
    key: &[u8],
    known: &ExpiryLog,
    now_ms: i64,
) -> Result<Option<i64>> {
    if feat.pexpiretime() {
        let at: i64 = redis::cmd("PEXPIRETIME").arg(key).query(conn).context("PEXPIRETIME")?;
        return match at {
            -1 => Ok(None),
            -2 => bail!("key vanished while being read"),
            at => Ok(Some(at)),
        };
    }
    let pttl: i64 = redis::cmd("PTTL").arg(key).query(conn).context("PTTL")?;
    match pttl {
        -1 => Ok(None),
        -2 => bail!("key vanished while being read"),
        pttl => {
            let approx = now_ms + pttl;
            match known.get(db, key) {
                Some(at) if (at - approx).abs() <= EXPIRY_TOLERANCE_MS => Ok(Some(at)),
                Some(at) => bail!(
                    "recorded expiry {at} does not match TIME+PTTL = {approx}; \
                     was the key's TTL changed after it was recorded?"
                ),
                None => bail!(
                    "key has a TTL (PTTL {pttl}) but no recorded absolute expiry, and \
                     this server has no PEXPIRETIME (7.0+); pass its time in the ExpiryLog"
                ),
            }
        }
    }
}

fn read_field_expiries(
    conn: &mut Connection,
    key: &[u8],
    names: &[&Bytes],
) -> Result<std::collections::BTreeMap<Bytes, i64>> {
    let mut out = std::collections::BTreeMap::new();
    for chunk in names.chunks(BATCH) {
        let v =
            query(conn, redis::cmd("HPEXPIRETIME").arg(key).arg("FIELDS").arg(chunk.len()).arg(chunk), "HPEXPIRETIME")?;
        let times = reply::array(&v).context("HPEXPIRETIME")?;
        if times.len() != chunk.len() {
            bail!("HPEXPIRETIME returned {} times for {} fields", times.len(), chunk.len());
        }
        for (name, t) in chunk.iter().zip(times) {
            let t = reply::int(t).context("HPEXPIRETIME")?;
            if t >= 0 {
                out.insert((*name).clone(), t);
            }
        }
    }
    Ok(out)
}
