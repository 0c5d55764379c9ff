//! Stream features of Redis 8: deletion reference policies (`XDELEX`, `XACKDEL`,
//! 8.2+) and idempotent producers (`XADD ... IDMP|IDMPAUTO`, `XCFGSET`, 8.6+).

use anyhow::{ensure, Result};
use redis::Value;

use super::filler::Filler;

/// First entry of `stream:refs` (2024-03-09 + 70 s).
const REFS_BASE_MS: u64 = 1_710_000_070_000;

/// Entry time of the IDMP streams: 2100-01-01. `XADD *` after an entry this far in
/// the future gives the next sequence number of that millisecond, so the IDs are
/// the same on every run, and the servers never expire the remembered IDs (they
/// drop an ID once its entry is older than `idmp-duration`).
const IDMP_BASE_MS: u64 = 4_102_444_800_000;

pub(super) fn build(f: &mut Filler) -> Result<()> {
    if f.feat.stream_ref_policies() {
        build_ref_policies(f)?;
    }
    if f.feat.stream_idmp() {
        build_idmp(f)?;
    }
    Ok(())
}

fn ids(range: std::ops::Range<u64>) -> Vec<String> {
    range.map(|i| format!("{}-0", REFS_BASE_MS + i)).collect()
}

/// A stream with one group, where `XACKDEL` and `XDELEX` delete entries under each
/// reference policy: `KEEPREF` leaves dangling pending entries, `DELREF` removes
/// them, `ACKED` only deletes what every group acknowledged.
fn build_ref_policies(f: &mut Filler) -> Result<()> {
    let key = "stream:refs";
    for (i, id) in ids(0..8).iter().enumerate() {
        f.run(redis::cmd("XADD").arg(key).arg(id).arg("n").arg(i))?;
    }
    f.run(redis::cmd("XGROUP").arg("CREATE").arg(key).arg("g").arg("0"))?;
    f.run(
        redis::cmd("XREADGROUP").arg("GROUP").arg("g").arg("c").arg("COUNT").arg(6).arg("STREAMS").arg(key).arg(">"),
    )?;
    let some = |r: std::ops::Range<u64>| ids(r);
    f.run(redis::cmd("XACKDEL").arg(key).arg("g").arg("KEEPREF").arg("IDS").arg(2).arg(some(0..2)))?;
    f.run(redis::cmd("XDELEX").arg(key).arg("KEEPREF").arg("IDS").arg(1).arg(some(2..3)))?;
    f.run(redis::cmd("XDELEX").arg(key).arg("DELREF").arg("IDS").arg(1).arg(some(3..4)))?;
    // Entry 4 is pending and entry 7 was never read: ACKED deletes neither.
    f.run(redis::cmd("XDELEX").arg(key).arg("ACKED").arg("IDS").arg(2).arg([some(4..5), some(7..8)].concat()))?;
    Ok(())
}

fn xadd_idmp(f: &mut Filler, key: &str, producer: &[&[u8]], fields: &[&str]) -> Result<Value> {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(key).arg(producer).arg("*").arg(fields);
    f.run(&cmd)
}

/// Streams with idempotent producers: IDs evicted by `IDMP-MAXSIZE`, a duplicate,
/// automatic IDs from the fields, a binary producer ID, an ID whose entry was
/// deleted, and a stream whose settings changed but that has no producer.
fn build_idmp(f: &mut Filler) -> Result<()> {
    let key = "stream:idmp";
    f.run(redis::cmd("XADD").arg(key).arg(format!("{IDMP_BASE_MS}-0")).arg("origin").arg("fixed"))?;
    f.run(redis::cmd("XCFGSET").arg(key).arg("IDMP-DURATION").arg(86_400).arg("IDMP-MAXSIZE").arg(3))?;
    for i in 0..5 {
        let iid = format!("order-{i}");
        xadd_idmp(f, key, &[b"IDMP", b"orders", iid.as_bytes()], &["n", &i.to_string()])?;
    }
    // A repeated ID adds nothing and answers with the entry it was first added as.
    let first = f.run(redis::cmd("XADD").arg(key).arg("IDMP").arg("orders").arg("order-4").arg("*").arg("n").arg(9))?;
    ensure!(first == Value::BulkString(format!("{IDMP_BASE_MS}-5").into_bytes()), "duplicate XADD gave {first:?}");
    xadd_idmp(f, key, &[b"IDMPAUTO", b"\xffsensor"], &["temp", "21"])?;
    xadd_idmp(f, key, &[b"IDMPAUTO", b"\xffsensor"], &["temp", "21"])?;
    xadd_idmp(f, key, &[b"IDMP", b"billing", b"12345"], &["amount", "10"])?;
    f.run(redis::cmd("XDEL").arg(key).arg(format!("{IDMP_BASE_MS}-7")))?;

    let key = "stream:idmp:settings";
    f.run(redis::cmd("XADD").arg(key).arg("1-1").arg("f").arg("v"))?;
    f.run(redis::cmd("XCFGSET").arg(key).arg("IDMP-DURATION").arg(600))?;
    Ok(())
}
