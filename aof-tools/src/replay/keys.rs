//! Keyspace commands: DEL, expiries, RENAME, MOVE, COPY, SWAPDB, FLUSH*, SELECT, RESTORE.

use rdb_parser::{Entries, Header, RdbReader};

use super::args::{at_least, exactly, expire_at, int, is};
use super::{Ctx, Fail, Outcome};
use crate::dataset::convert::from_entry;
use crate::dataset::Db;

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"DEL" | b"UNLINK" => at_least(argv, 2).map(|()| {
            for k in &argv[1..] {
                cx.remove(k);
            }
        }),
        b"EXPIRE" => expire(cx, argv, 1000, false),
        b"PEXPIRE" => expire(cx, argv, 1, false),
        b"EXPIREAT" => expire(cx, argv, 1000, true),
        b"PEXPIREAT" => expire(cx, argv, 1, true),
        b"PERSIST" => exactly(argv, 2).map(|()| {
            if let Some(s) = cx.slot(argv[1]) {
                s.expire_at_ms = None;
            }
        }),
        b"RENAME" | b"RENAMENX" => rename(cx, argv, name == b"RENAMENX"),
        b"MOVE" => move_key(cx, argv),
        b"COPY" => copy(cx, argv),
        b"SWAPDB" => swapdb(cx, argv),
        b"FLUSHDB" => {
            let db = cx.db;
            *cx.data.db(db) = Db::default();
            Ok(())
        }
        b"FLUSHALL" => {
            for d in &mut cx.data.dbs {
                *d = Db::default();
            }
            Ok(())
        }
        b"SELECT" => exactly(argv, 2).and_then(|()| {
            let db = int(argv[1])?;
            if !(0..1 << 20).contains(&db) {
                return Err(Fail::Reply("ERR DB index is out of range".into()));
            }
            cx.db = db as usize;
            Ok(())
        }),
        // RESTORE-ASKING is how MIGRATE's RESTORE reaches a cluster node.
        b"RESTORE" | b"RESTORE-ASKING" => restore(cx, argv),
        _ => return None,
    })
}

fn expire(cx: &mut Ctx, argv: &[&[u8]], unit: i64, absolute: bool) -> Outcome {
    at_least(argv, 3)?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for a in &argv[3..] {
        match () {
            _ if is(a, "NX") => nx = true,
            _ if is(a, "XX") => xx = true,
            _ if is(a, "GT") => gt = true,
            _ if is(a, "LT") => lt = true,
            _ => return Err(Fail::Reply(format!("ERR Unsupported option {}", String::from_utf8_lossy(a)))),
        }
    }
    if (nx && (xx || gt || lt)) || (gt && lt) {
        return Err(Fail::syntax());
    }
    let when = expire_at(int(argv[2])?, unit, absolute, cx.now_ms)?;
    let Some(slot) = cx.slot(argv[1]) else { return Ok(()) };
    let current = slot.expire_at_ms;
    let skip = (nx && current.is_some())
        || (xx && current.is_none())
        || (gt && current.is_none_or(|c| when <= c))
        || (lt && current.is_some_and(|c| when >= c));
    if !skip {
        // While loading, servers set a past expiry instead of deleting the key.
        slot.expire_at_ms = Some(when);
    }
    Ok(())
}

fn rename(cx: &mut Ctx, argv: &[&[u8]], nx: bool) -> Outcome {
    exactly(argv, 3)?;
    if cx.slot(argv[1]).is_none() {
        return Err(Fail::Reply("ERR no such key".into()));
    }
    if argv[1] == argv[2] || (nx && cx.slot(argv[2]).is_some()) {
        return Ok(());
    }
    if let Some(slot) = cx.remove(argv[1]) {
        let db = cx.db;
        cx.data.db(db).insert(argv[2].into(), slot);
    }
    Ok(())
}

fn target_db(a: &[u8]) -> Result<usize, Fail> {
    let db = int(a)?;
    if !(0..1 << 20).contains(&db) {
        return Err(Fail::Reply("ERR DB index is out of range".into()));
    }
    Ok(db as usize)
}

fn move_key(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 3)?;
    let to = target_db(argv[2])?;
    if to == cx.db {
        return Err(Fail::Reply("ERR source and destination objects are the same".into()));
    }
    if cx.slot(argv[1]).is_none() || cx.data.db(to).contains_key(argv[1]) {
        return Ok(());
    }
    if let Some(slot) = cx.remove(argv[1]) {
        cx.data.db(to).insert(argv[1].into(), slot);
    }
    Ok(())
}

fn copy(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 3)?;
    let (mut to, mut replace) = (cx.db, false);
    let mut i = 3;
    while i < argv.len() {
        if is(argv[i], "REPLACE") {
            replace = true;
        } else if is(argv[i], "DB") && i + 1 < argv.len() {
            to = target_db(argv[i + 1])?;
            i += 1;
        } else {
            return Err(Fail::syntax());
        }
        i += 1;
    }
    if to == cx.db && argv[1] == argv[2] {
        return Err(Fail::Reply("ERR source and destination objects are the same".into()));
    }
    let Some(slot) = cx.slot(argv[1]).map(|s| s.clone()) else { return Ok(()) };
    let dst = cx.data.db(to);
    if dst.contains_key(argv[2]) && !replace {
        return Ok(());
    }
    dst.insert(argv[2].into(), slot);
    Ok(())
}

fn swapdb(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 3)?;
    let (a, b) = (target_db(argv[1])?, target_db(argv[2])?);
    cx.data.db(a.max(b));
    cx.data.dbs.swap(a, b);
    Ok(())
}

/// Decodes a DUMP payload into a slot, through `rdb-parser` (a one-key RDB around it).
pub fn decode_payload(payload: &[u8]) -> Result<crate::dataset::Slot, Fail> {
    let bad = |why: &str| Fail::Reply(format!("ERR Bad data format ({why})"));
    let (version, body) =
        rdb_parser::writer::split_payload(payload).ok_or_else(|| bad("DUMP payload version or checksum are wrong"))?;
    let header = Header::for_version(u32::from(version)).map_err(|e| bad(&e.to_string()))?;
    let (&ty, value) = body.split_first().ok_or_else(|| bad("empty payload"))?;
    let mut rdb = header.to_bytes().to_vec();
    rdb.extend_from_slice(&[ty, 1, b'k']);
    rdb.extend_from_slice(value);
    rdb.push(0xff);
    rdb.extend_from_slice(&[0; 8]);
    let mut entries = Entries::new(RdbReader::new(&rdb[..]));
    let entry = entries.next().ok_or_else(|| bad("no value"))?.map_err(|e| bad(&e.to_string()))?;
    if entries.next().is_some() {
        return Err(bad("trailing bytes"));
    }
    from_entry(entry).map_err(|u| Fail::Unsupported(u.0))
}

fn restore(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 4)?;
    let (mut replace, mut absttl) = (false, false);
    let mut i = 4;
    while i < argv.len() {
        let a = argv[i];
        if is(a, "REPLACE") {
            replace = true;
        } else if is(a, "ABSTTL") {
            absttl = true;
        } else if (is(a, "IDLETIME") || is(a, "FREQ")) && i + 1 < argv.len() {
            i += 1;
        } else {
            return Err(Fail::syntax());
        }
        i += 1;
    }
    let ttl = int(argv[2])?;
    if ttl < 0 {
        return Err(Fail::Reply("ERR Invalid TTL value, must be >= 0".into()));
    }
    if !replace && cx.slot(argv[1]).is_some() {
        return Err(Fail::Reply("BUSYKEY Target key name already exists.".into()));
    }
    let mut slot = decode_payload(argv[3])?;
    slot.expire_at_ms = match ttl {
        0 => None,
        t if absttl => Some(t),
        t => Some(t + cx.now_ms),
    };
    let db = cx.db;
    cx.data.db(db).insert(argv[1].into(), slot);
    Ok(())
}
