//! Stream commands as servers log them: XADD with explicit IDs and exact trimming,
//! XDEL, XTRIM, XSETID, XGROUP, XACK, and XCLAIM (which carries XREADGROUP and
//! XAUTOCLAIM effects into an AOF).

use rdb_parser::StreamId;

use super::args::{at_least, exactly, int, is, stream_id};
use super::streams_idmp;
use super::streams_ref::{self, RefPolicy};
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Bytes, Consumer, Group, Nack, Stream, Value};

pub fn dispatch(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Option<Outcome> {
    Some(match name {
        b"XADD" => xadd(cx, argv),
        b"XDEL" => at_least(argv, 3).and_then(|()| {
            let ids = argv[2..].iter().map(|a| stream_id(a, 0)).collect::<Result<Vec<_>, _>>()?;
            if let Some(s) = cx.existing(argv[1], as_stream)? {
                s.delete(&ids);
            }
            Ok(())
        }),
        b"XTRIM" => xtrim(cx, argv),
        b"XSETID" => xsetid(cx, argv),
        b"XGROUP" => xgroup(cx, argv),
        b"XACK" => at_least(argv, 4).and_then(|()| {
            let ids = argv[3..].iter().map(|a| stream_id(a, 0)).collect::<Result<Vec<_>, _>>()?;
            let Some(s) = cx.existing(argv[1], as_stream)? else { return Ok(()) };
            if let Some(g) = s.groups.get_mut(argv[2]) {
                for id in ids {
                    Stream::unack(g, id);
                }
            }
            Ok(())
        }),
        b"XCLAIM" => xclaim(cx, argv),
        b"XDELEX" => super::streams_ref::xdelex(cx, argv),
        b"XACKDEL" => super::streams_ref::xackdel(cx, argv),
        b"XCFGSET" => streams_idmp::xcfgset(cx, argv),
        b"XIDMPRECORD" => streams_idmp::xidmprecord(cx, argv),
        b"XREADGROUP" | b"XAUTOCLAIM" => Err(Fail::Unsupported(
            "this stream command is not replayed yet (servers log XREADGROUP and XAUTOCLAIM as XCLAIM)".into(),
        )),
        _ => return None,
    })
}

fn as_stream(v: &mut Value) -> Option<&mut Stream> {
    match v {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

/// `MAXLEN|MINID [=|~] threshold [LIMIT n]` at `argv[i]`: (maxlen, minid, args taken).
/// MAXLEN, MINID and the arguments taken.
type Trim = Option<(Option<u64>, Option<StreamId>, usize)>;

fn trim_args(argv: &[&[u8]], i: usize) -> Result<Trim, Fail> {
    let a = argv[i];
    let maxlen = is(a, "MAXLEN");
    if !maxlen && !is(a, "MINID") {
        return Ok(None);
    }
    let mut j = i + 1;
    if argv.get(j).is_some_and(|x| *x == b"=" || *x == b"~") {
        j += 1;
    }
    let t = argv.get(j).ok_or_else(Fail::syntax)?;
    let (len, min) = if maxlen {
        (Some(u64::try_from(int(t)?).map_err(|_| Fail::Reply("ERR The MAXLEN argument must be >= 0.".into()))?), None)
    } else {
        (None, Some(stream_id(t, 0)?))
    };
    j += 1;
    if argv.get(j).is_some_and(|x| is(x, "LIMIT")) {
        j += 2;
    }
    Ok(Some((len, min, j - i)))
}

fn xadd(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 5)?;
    let (mut nomk, mut trim, mut policy, mut producer) = (false, None, RefPolicy::KeepRef, None);
    let mut i = 2;
    loop {
        let a = *argv.get(i).ok_or_else(Fail::syntax)?;
        if is(a, "NOMKSTREAM") {
            nomk = true;
            i += 1;
        } else if let Some(p) = RefPolicy::parse(a) {
            policy = p;
            i += 1;
        } else if let Some((p, n)) = streams_idmp::option(argv, i)? {
            if producer.is_some() {
                return Err(Fail::Reply("ERR IDMP/IDMPAUTO specified multiple times".into()));
            }
            producer = Some(p);
            i += n;
        } else if let Some((len, min, n)) = trim_args(argv, i)? {
            trim = Some((len, min));
            i += n;
        } else {
            break;
        }
    }
    let fields = &argv[i + 1..];
    if fields.is_empty() || !fields.len().is_multiple_of(2) {
        return Err(Fail::Reply("ERR wrong number of arguments for 'xadd' command".into()));
    }
    let id_arg = argv[i];
    if id_arg.first().is_some_and(u8::is_ascii_alphabetic) {
        // An option this replay does not know (idempotent producers, say): never guess.
        return Err(Fail::Unsupported(format!("XADD option {}", String::from_utf8_lossy(id_arg))));
    }
    if nomk && cx.slot(argv[1]).is_none() {
        return Ok(());
    }
    let now = cx.now_ms.max(0) as u64;
    let created = cx.slot(argv[1]).is_none();
    let s = cx.value_or(argv[1], || Value::Stream(Box::default()), as_stream)?;
    let iid = match &producer {
        Some(p) => match streams_idmp::duplicate(s, p, fields) {
            (true, _) => return Ok(()),
            (false, iid) => Some(iid),
        },
        None => None,
    };
    let last = s.last_id;
    let id = if id_arg == b"*" {
        if now > last.ms {
            StreamId { ms: now, seq: 0 }
        } else {
            StreamId { ms: last.ms, seq: last.seq.checked_add(1).ok_or_else(Fail::syntax)? }
        }
    } else if let Some(ms) = id_arg.strip_suffix(b"-*") {
        let ms = stream_id(ms, 0)?.ms;
        let seq = if ms == last.ms { last.seq.checked_add(1).ok_or_else(Fail::syntax)? } else { 0 };
        StreamId { ms, seq }
    } else {
        stream_id(id_arg, 0)?
    };
    if id <= last || id == StreamId::default() {
        if created {
            cx.remove(argv[1]);
        }
        return Err(Fail::Reply(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item".into(),
        ));
    }
    let values: Vec<Bytes> = fields.iter().map(|f| Bytes::from(*f)).collect();
    s.entries.insert(id, values.into_boxed_slice());
    s.last_id = id;
    s.entries_added += 1;
    if let (Some(p), Some(iid)) = (&producer, iid) {
        s.idmp.get_or_insert_with(Box::default).record(&p.pid, &iid, id);
    }
    if let Some((len, min)) = trim {
        streams_ref::trim(s, len, min, policy);
    }
    Ok(())
}

fn xtrim(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 4)?;
    let Some((len, min, n)) = trim_args(argv, 2)? else { return Err(Fail::syntax()) };
    let mut policy = RefPolicy::KeepRef;
    for a in &argv[2 + n..] {
        policy = RefPolicy::parse(a).ok_or_else(Fail::syntax)?;
    }
    if let Some(s) = cx.existing(argv[1], as_stream)? {
        streams_ref::trim(s, len, min, policy);
    }
    Ok(())
}

fn xsetid(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 3)?;
    let id = stream_id(argv[2], 0)?;
    let (mut added, mut maxdel) = (None, None);
    let mut i = 3;
    while i + 1 < argv.len() {
        if is(argv[i], "ENTRIESADDED") {
            added = Some(u64::try_from(int(argv[i + 1])?).map_err(|_| Fail::syntax())?);
        } else if is(argv[i], "MAXDELETEDID") {
            maxdel = Some(stream_id(argv[i + 1], 0)?);
        } else {
            return Err(Fail::syntax());
        }
        i += 2;
    }
    if i != argv.len() {
        return Err(Fail::syntax());
    }
    let Some(s) = cx.existing(argv[1], as_stream)? else { return Err(Fail::Reply("ERR no such key".into())) };
    let top = s.entries.keys().next_back().copied().unwrap_or_default();
    if id < top || added.is_some_and(|a| a < s.entries.len() as u64) || maxdel.is_some_and(|m| m > id) {
        return Err(Fail::Reply("ERR The ID specified in XSETID is smaller than the target stream top item".into()));
    }
    s.last_id = id;
    if let Some(a) = added {
        s.entries_added = a;
    }
    if let Some(m) = maxdel {
        s.max_deleted_id = m;
    }
    Ok(())
}

fn entries_read_opt(argv: &[&[u8]], i: usize) -> Result<i64, Fail> {
    match argv.get(i..i + 2) {
        Some([k, v]) if is(k, "ENTRIESREAD") => int(v),
        _ => Ok(-1),
    }
}

fn xgroup(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 2)?;
    let sub = argv[1];
    let now = cx.now_ms;
    if is(sub, "CREATE") {
        at_least(argv, 5)?;
        let mkstream = argv[5..].iter().any(|a| is(a, "MKSTREAM"));
        let er_at = argv[5..].iter().position(|a| is(a, "ENTRIESREAD")).map(|p| p + 5);
        let entries_read = match er_at {
            Some(p) => entries_read_opt(argv, p)?,
            None => -1,
        };
        if cx.slot(argv[2]).is_none() && !mkstream {
            return Err(Fail::Reply("ERR The XGROUP subcommand requires the key to exist".into()));
        }
        let s = cx.value_or(argv[2], || Value::Stream(Box::default()), as_stream)?;
        let last_id = if argv[4] == b"$" { s.last_id } else { stream_id(argv[4], 0)? };
        if s.groups.contains_key(argv[3]) {
            return Err(Fail::Reply("BUSYGROUP Consumer Group name already exists".into()));
        }
        s.groups.insert(argv[3].into(), Group { last_id, entries_read, ..Group::default() });
        return Ok(());
    }
    at_least(argv, 4)?;
    let Some(s) = cx.existing(argv[2], as_stream)? else {
        return Err(Fail::Reply("ERR The XGROUP subcommand requires the key to exist".into()));
    };
    if is(sub, "DESTROY") {
        s.groups.remove(argv[3]);
        return Ok(());
    }
    let last = s.last_id;
    let Some(g) = s.groups.get_mut(argv[3]) else {
        return Err(Fail::Reply("NOGROUP No such consumer group".into()));
    };
    if is(sub, "SETID") {
        at_least(argv, 5)?;
        g.last_id = if argv[4] == b"$" { last } else { stream_id(argv[4], 0)? };
        g.entries_read = entries_read_opt(argv, 5)?;
    } else if is(sub, "CREATECONSUMER") {
        exactly(argv, 5)?;
        g.consumers.entry(argv[4].into()).or_insert(Consumer {
            seen_time_ms: now,
            active_time_ms: -1,
            ..Consumer::default()
        });
    } else if is(sub, "DELCONSUMER") {
        exactly(argv, 5)?;
        if let Some(c) = g.consumers.remove(argv[4]) {
            for id in c.pending {
                g.pel.remove(&id);
            }
        }
    } else {
        return Err(Fail::Unsupported(format!("XGROUP {}", String::from_utf8_lossy(sub))));
    }
    Ok(())
}

fn xclaim(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 6)?;
    let now = cx.now_ms;
    let min_idle = int(argv[4])?;
    let mut ids = Vec::new();
    let mut i = 5;
    while i < argv.len() {
        match stream_id(argv[i], 0) {
            Ok(id) => ids.push(id),
            Err(_) => break,
        }
        i += 1;
    }
    let (mut time, mut retry, mut force, mut justid, mut lastid) = (None, None, false, false, None);
    while i < argv.len() {
        let a = argv[i];
        let next = || argv.get(i + 1).copied().ok_or_else(Fail::syntax);
        if is(a, "FORCE") {
            force = true;
        } else if is(a, "JUSTID") {
            justid = true;
        } else if is(a, "IDLE") {
            time = Some(now - int(next()?)?);
            i += 1;
        } else if is(a, "TIME") {
            time = Some(int(next()?)?);
            i += 1;
        } else if is(a, "RETRYCOUNT") {
            retry = Some(u64::try_from(int(next()?)?).map_err(|_| Fail::syntax())?);
            i += 1;
        } else if is(a, "LASTID") {
            lastid = Some(stream_id(next()?, 0)?);
            i += 1;
        } else {
            return Err(Fail::syntax());
        }
        i += 1;
    }
    let Some(s) = cx.existing(argv[1], as_stream)? else { return Err(Fail::Reply("NOGROUP no such key".into())) };
    let exists: Vec<bool> = ids.iter().map(|id| s.entries.contains_key(id)).collect();
    let Some(g) = s.groups.get_mut(argv[2]) else { return Err(Fail::Reply("NOGROUP No such consumer group".into())) };
    if let Some(l) = lastid.filter(|l| *l > g.last_id) {
        g.last_id = l;
    }
    let delivery = time.unwrap_or(now);
    let name: Bytes = argv[3].into();
    g.consumers
        .entry(name.clone())
        .or_insert(Consumer { seen_time_ms: now, active_time_ms: -1, ..Consumer::default() })
        .seen_time_ms = now;
    for (id, exists) in ids.into_iter().zip(exists) {
        if !exists {
            Stream::unack(g, id);
            continue;
        }
        if force && !g.pel.contains_key(&id) {
            g.pel.insert(id, Nack { consumer: Bytes::default(), delivery_time_ms: delivery, delivery_count: 0 });
        }
        let Some(nack) = g.pel.get_mut(&id) else { continue };
        let orphan = nack.consumer.is_empty() && force;
        if !orphan && min_idle > 0 && now - nack.delivery_time_ms < min_idle {
            continue;
        }
        let previous = std::mem::replace(&mut nack.consumer, name.clone());
        nack.delivery_time_ms = delivery;
        match retry {
            Some(n) => nack.delivery_count = n,
            None if !justid => nack.delivery_count += 1,
            None => {}
        }
        if previous != name {
            if let Some(c) = g.consumers.get_mut(&previous) {
                c.pending.remove(&id);
            }
        }
        if let Some(c) = g.consumers.get_mut(&name) {
            c.pending.insert(id);
            c.active_time_ms = now;
        }
    }
    Ok(())
}
