//! Streams: multi-node, deletions, consumer groups with every PEL shape,
//! trimming, empty and drained streams, XSETID, big values.

use anyhow::Result;

use super::content::prose;
use super::filler::Filler;
use crate::record::StreamId;

/// First entry time of the main stream (2024-03-09).
const BASE_MS: u64 = 1_710_000_000_000;

/// Entries in `stream:events`: three listpack nodes at the default
/// stream-node-max-entries (100).
const EVENTS: usize = 300;

fn id(i: usize) -> StreamId {
    StreamId { ms: BASE_MS + (i / 4) as u64, seq: (i % 4) as u64 }
}

fn ids(range: impl Iterator<Item = usize>) -> Vec<String> {
    range.map(|i| id(i).to_string()).collect()
}

fn xadd(f: &mut Filler, key: impl AsRef<[u8]>, id: &str, fields: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(key.as_ref()).arg(id);
    for (k, v) in fields {
        cmd.arg(k).arg(v);
    }
    f.run(&cmd)?;
    Ok(())
}

fn kv(items: &[(&[u8], &[u8])]) -> Vec<(Vec<u8>, Vec<u8>)> {
    items.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
}

fn read_group(f: &mut Filler, group: &[u8], consumer: &[u8], count: usize, from: &str) -> Result<()> {
    f.run(
        redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("STREAMS")
            .arg("stream:events")
            .arg(from),
    )?;
    Ok(())
}

/// Fields of entry `i`: mostly the same names as the first (master) entry,
/// some with other names, binary names, many fields or a long value.
fn event_fields(i: usize, rng: &mut crate::rng::Rng) -> Vec<(Vec<u8>, Vec<u8>)> {
    const KINDS: [&str; 4] = ["reading", "heartbeat", "reading", "calibration"];
    if i % 13 == 6 {
        kv(&[(b"\xfe\xffcode", b"\x00\x7f"), (b"kind", b"binary")])
    } else if i % 9 == 4 {
        let note = prose(rng.len(20, 90), "note");
        kv(&[(b"kind", b"alarm"), (b"note", note.as_bytes())])
    } else if i == 40 {
        (0..16).map(|k| (format!("k{k:02}").into_bytes(), k.to_string().into_bytes())).collect()
    } else if i == 77 {
        kv(&[(b"kind", b""), (b"temp", b""), (b"ok", b"")])
    } else if i == 120 {
        let blob = rng.alnum(400);
        kv(&[(b"blob", blob.as_bytes())])
    } else {
        let temp = rng.range(-40, 120).to_string();
        let ok: &[u8] = if i.is_multiple_of(5) { b"0" } else { b"1" };
        kv(&[(b"kind", KINDS[i % 4].as_bytes()), (b"temp", temp.as_bytes()), (b"ok", ok)])
    }
}

pub(super) fn build(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("streams");
    for i in 0..EVENTS {
        let fields = event_fields(i, &mut rng);
        xadd(f, "stream:events", &id(i).to_string(), &fields)?;
    }
    build_groups(f)?;
    // Deleted: the first entry, one that is pending (claimed by dee), two
    // in the middle, and the last two.
    let deleted = ids([0usize, 7, 150, 151, EVENTS - 2, EVENTS - 1].into_iter());
    f.run(redis::cmd("XDEL").arg("stream:events").arg(&deleted))?;

    build_small_streams(f)?;
    let at = Filler::far_future(&mut rng);
    xadd(f, "ttl:stream", "1-1", &kv(&[(b"a", b"b")]))?;
    f.expire_at("ttl:stream", at)
}

fn build_groups(f: &mut Filler) -> Result<()> {
    let key = "stream:events";
    f.run(redis::cmd("XGROUP").arg("CREATE").arg(key).arg("readers").arg("0"))?;
    read_group(f, b"readers", b"ann", 24, ">")?;
    read_group(f, b"readers", b"ben", 12, ">")?;
    // cy reads four entries and acknowledges them all: a consumer with an
    // empty pending list.
    read_group(f, b"readers", b"cy", 4, ">")?;
    f.run(redis::cmd("XACK").arg(key).arg("readers").arg(ids(36..40)))?;
    f.run(redis::cmd("XACK").arg(key).arg("readers").arg(ids(0..3)))?;
    // dee takes over entries (delivery count set by RETRYCOUNT; JUSTID does
    // not count a delivery).
    let mut claim = redis::cmd("XCLAIM");
    claim.arg(key).arg("readers").arg("dee").arg(0).arg(ids(5..8)).arg("RETRYCOUNT").arg(4);
    f.run(&claim)?;
    let mut claim = redis::cmd("XCLAIM");
    claim.arg(key).arg("readers").arg("dee").arg(0).arg(id(8).to_string()).arg("JUSTID");
    f.run(&claim)?;
    // ann re-reads her own history: delivery counts go up.
    read_group(f, b"readers", b"ann", 6, "0")?;

    // A group at the end of the stream, with a consumer that never read.
    f.run(redis::cmd("XGROUP").arg("CREATE").arg(key).arg("tail").arg("$"))?;
    if f.feat.stream_62() {
        f.run(redis::cmd("XGROUP").arg("CREATECONSUMER").arg(key).arg("tail").arg("made-explicitly"))?;
    }

    // A group starting in the middle (with entries-read on 7.0+), read by a
    // consumer with a non-UTF-8 name.
    let mut create = redis::cmd("XGROUP");
    create.arg("CREATE").arg(key).arg("middle").arg(id(149).to_string());
    if f.feat.v70() {
        create.arg("ENTRIESREAD").arg(150);
    }
    f.run(&create)?;
    read_group(f, b"middle", b"who\xff", 5, ">")?;

    // A group with a non-UTF-8 name.
    f.run(redis::cmd("XGROUP").arg("CREATE").arg(key).arg(b"grp:\xfe").arg("0"))?;
    read_group(f, b"grp:\xfe", b"eve", 3, ">")?;
    Ok(())
}

fn build_small_streams(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("small-streams");
    let at = |base: u64, i: usize| format!("{}-0", base + i as u64);

    // XTRIM MAXLEN (exact).
    for i in 0..120 {
        let pad = "p".repeat(i % 11);
        xadd(
            f,
            "stream:trimmed",
            &at(BASE_MS + 10_000, i),
            &kv(&[(b"n", i.to_string().as_bytes()), (b"pad", pad.as_bytes())]),
        )?;
    }
    f.run(redis::cmd("XTRIM").arg("stream:trimmed").arg("MAXLEN").arg(40))?;

    // XTRIM MINID (6.2+).
    if f.feat.stream_62() {
        for i in 0..60 {
            xadd(f, "stream:minid", &at(BASE_MS + 20_000, i), &kv(&[(b"i", i.to_string().as_bytes())]))?;
        }
        f.run(redis::cmd("XTRIM").arg("stream:minid").arg("MINID").arg(at(BASE_MS + 20_000, 25)))?;
    }

    // XADD with MAXLEN on every call.
    for i in 0..70 {
        f.run(
            redis::cmd("XADD").arg("stream:capped").arg("MAXLEN").arg(30).arg(at(BASE_MS + 30_000, i)).arg("i").arg(i),
        )?;
    }

    // Created empty by XGROUP CREATE ... MKSTREAM.
    f.run(redis::cmd("XGROUP").arg("CREATE").arg("stream:empty").arg("watchers").arg("$").arg("MKSTREAM"))?;

    // Every entry deleted.
    for i in 0..5 {
        xadd(f, "stream:drained", &at(BASE_MS + 40_000, i), &kv(&[(b"f", b"v")]))?;
    }
    f.run(redis::cmd("XDEL").arg("stream:drained").arg((0..5).map(|i| at(BASE_MS + 40_000, i)).collect::<Vec<_>>()))?;

    // Last ID moved forward by XSETID (plus entries-added / max-deleted-id on 7.0+).
    for i in 0..6 {
        xadd(f, "stream:setid", &at(BASE_MS + 50_000, i), &kv(&[(b"f", i.to_string().as_bytes())]))?;
    }
    let mut setid = redis::cmd("XSETID");
    setid.arg("stream:setid").arg("1900000000000-7");
    if f.feat.v70() {
        setid.arg("ENTRIESADDED").arg(50).arg("MAXDELETEDID").arg(at(BASE_MS + 50_000, 2));
    }
    f.run(&setid)?;

    // Values big enough that stream-node-max-bytes (4096) splits the nodes
    // (three entries per node: the size check happens before appending).
    for i in 0..8 {
        let payload = prose(1500, &format!("bulk{i}"));
        xadd(f, "stream:bulky", &at(BASE_MS + 60_000, i), &kv(&[(b"payload", payload.as_bytes())]))?;
    }

    // A non-UTF-8 key with binary field names and values.
    let noise = rng.bytes(6);
    xadd(f, b"stream:\xfe\xff", "5-1", &kv(&[(b"\xff", &noise), (b"plain", b"v")]))?;
    Ok(())
}
