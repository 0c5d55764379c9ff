//! Idempotent producers (Redis 8.6): XADD IDMP / IDMPAUTO, XCFGSET and XIDMPRECORD.
//!
//! The server logs a new entry's XADD with its ID and a refused duplicate with `*`; the
//! replay finds the duplicate again in the remembered IDs, so it adds nothing either.

use rdb_parser::StreamId;
use xxhash_rust::xxh3::Xxh3;

use super::args::{exactly, int, is, stream_id};
use super::{Ctx, Fail, Outcome};
use crate::dataset::{Bytes, Idmp, Stream, Value};

/// The producer and idempotency ID of an XADD.
pub struct Producer {
    /// Producer ID.
    pub pid: Bytes,
    /// Idempotency ID (computed from the fields for IDMPAUTO).
    pub iid: Option<Bytes>,
}

/// `IDMP pid iid` or `IDMPAUTO pid` at `argv[i]`: the producer and the arguments taken.
pub fn option(argv: &[&[u8]], i: usize) -> Result<Option<(Producer, usize)>, Fail> {
    let a = argv[i];
    let (auto, n) = match () {
        _ if is(a, "IDMP") => (false, 3),
        _ if is(a, "IDMPAUTO") => (true, 2),
        _ => return Ok(None),
    };
    let args = argv.get(i + 1..i + n).ok_or_else(Fail::syntax)?;
    if args.iter().any(|x| x.is_empty()) {
        return Err(Fail::Reply("ERR IDMP requires a non-empty producer ID and idempotent ID".into()));
    }
    let iid = (!auto).then(|| Bytes::from(args[1]));
    Ok(Some((Producer { pid: args[0].into(), iid }, n)))
}

/// IDMPAUTO's idempotency ID: per field/value pair the XXH3-128 of the field, its
/// length (8 bytes, little-endian) and the value; the pairs' hashes are summed and
/// xored, and the two halves mixed as Redis 8.6 does (order-independent).
pub fn auto_iid(fields: &[&[u8]]) -> Bytes {
    let (mut sum_lo, mut sum_hi, mut xor_lo, mut xor_hi) = (0u64, 0u64, 0u64, 0u64);
    for pair in fields.chunks_exact(2) {
        let mut h = Xxh3::new();
        h.update(pair[0]);
        h.update(&(pair[0].len() as u64).to_le_bytes());
        h.update(pair[1]);
        let d = h.digest128();
        let (lo, hi) = (d as u64, (d >> 64) as u64);
        (sum_lo, sum_hi) = (sum_lo.wrapping_add(lo), sum_hi.wrapping_add(hi));
        (xor_lo, xor_hi) = (xor_lo ^ lo, xor_hi ^ hi);
    }
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&(sum_lo ^ xor_hi.rotate_left(1)).to_le_bytes());
    out.extend_from_slice(&(sum_hi ^ xor_lo.rotate_left(1)).to_le_bytes());
    out.into()
}

/// True when the XADD is a duplicate (counted; it adds nothing).
pub fn duplicate(s: &mut Stream, p: &Producer, fields: &[&[u8]]) -> (bool, Bytes) {
    let iid = p.iid.clone().unwrap_or_else(|| auto_iid(fields));
    let idmp = s.idmp.get_or_insert_with(Box::default);
    if idmp.find(&p.pid, &iid).is_some() {
        idmp.iids_duplicates += 1;
        return (true, iid);
    }
    (false, iid)
}

fn as_stream(v: &mut Value) -> Option<&mut Stream> {
    match v {
        Value::Stream(s) => Some(s),
        _ => None,
    }
}

/// XCFGSET key [IDMP-DURATION s] [IDMP-MAXSIZE n]: a change forgets every producer.
pub fn xcfgset(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    let (mut duration, mut max) = (None, None);
    let mut i = 2;
    while i < argv.len() {
        let v = argv.get(i + 1).ok_or_else(Fail::syntax)?;
        if is(argv[i], "IDMP-DURATION") {
            duration = Some(int(v)?).filter(|d| (1..=86400).contains(d));
            duration.ok_or_else(|| Fail::Reply("ERR IDMP-DURATION must be between 1 and 86400 seconds".into()))?;
        } else if is(argv[i], "IDMP-MAXSIZE") {
            max = Some(int(v)?).filter(|m| (1..=10000).contains(m));
            max.ok_or_else(|| Fail::Reply("ERR IDMP-MAXSIZE must be between 1 and 10000 entries".into()))?;
        } else {
            return Err(Fail::syntax());
        }
        i += 2;
    }
    if argv.len() < 4 {
        return Err(Fail::syntax());
    }
    let Some(s) = cx.existing(argv[1], as_stream)? else { return Err(Fail::Reply("ERR no such key".into())) };
    let idmp = s.idmp.get_or_insert_with(Box::default);
    let new = (duration.map_or(idmp.duration_s, |d| d as u64), max.map_or(idmp.max_entries, |m| m as u64));
    if new != (idmp.duration_s, idmp.max_entries) {
        (idmp.duration_s, idmp.max_entries) = new;
        idmp.producers.clear();
    }
    Ok(())
}

/// XIDMPRECORD key pid iid id (how an AOF rewrite restores remembered IDs).
pub fn xidmprecord(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    exactly(argv, 5)?;
    let id: StreamId = stream_id(argv[4], 0)?;
    let Some(s) = cx.existing(argv[1], as_stream)? else { return Err(Fail::Reply("ERR no such key".into())) };
    if !s.entries.contains_key(&id) {
        return Err(Fail::Reply("ERR No such message in stream".into()));
    }
    let idmp: &mut Idmp = s.idmp.get_or_insert_with(Box::default);
    if idmp.find(argv[2], argv[3]).is_none() {
        idmp.record(argv[2], argv[3], id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::auto_iid;

    /// The IDs Redis 8.6.3 stored for `XADD x IDMPAUTO p * f 9` and `... f 9 g 1`.
    #[test]
    fn auto_ids_are_the_servers() {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(hex(&auto_iid(&[b"f", b"9"])), "85232619e6decb793a91b3872430926a");
        assert_eq!(hex(&auto_iid(&[b"f", b"9", b"g", b"1"])), "b7ca00afcf12039623eb37525bc6e621");
        assert_eq!(auto_iid(&[b"g", b"1", b"f", b"9"]), auto_iid(&[b"f", b"9", b"g", b"1"]));
    }
}
