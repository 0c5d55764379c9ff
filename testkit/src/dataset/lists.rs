//! Lists: small, integer encodings, string length encodings, multi-node,
//! compressed nodes, plain nodes (7.0+), binary elements.

use anyhow::Result;

use super::content::{prose, INT_EDGES};
use super::filler::Filler;

/// Elements per quicklist node for the compressed lists, so that a few
/// hundred short elements make enough nodes to have compressed interiors.
const SMALL_NODE_ENTRIES: &str = "24";

/// Packed threshold for `l:plain`: elements above 8 KiB get plain nodes.
const PLAIN_THRESHOLD: &str = "8192";

fn rpush(f: &mut Filler, key: &str, items: &[Vec<u8>]) -> Result<()> {
    f.run(redis::cmd("RPUSH").arg(key).arg(items))?;
    Ok(())
}

fn owned<T: AsRef<[u8]>>(items: &[T]) -> Vec<Vec<u8>> {
    items.iter().map(|i| i.as_ref().to_vec()).collect()
}

pub(super) fn build(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("lists");

    rpush(
        f,
        "list:small",
        &owned(&[b"red".as_slice(), b"green", b"blue", b"", b"42", b"-7", b"\x00\xff", &[b'x'; 50]]),
    )?;
    let ints: Vec<String> = INT_EDGES.iter().map(i64::to_string).collect();
    rpush(f, "list:ints", &owned(&ints))?;

    // String lengths: listpack 6/12/32-bit, ziplist 6/14/32-bit headers.
    let lens: Vec<String> = [0, 1, 63, 64, 4095, 4096].iter().map(|&n| prose(n, "len")).collect();
    rpush(f, "list:strlens", &owned(&lens))?;
    if !f.feat.v70() {
        // Only ziplists have a 14-bit length (listpacks go from 12 to 32 bits).
        let wide = [prose(16383, "wide"), prose(16384, "wider"), "end".to_owned()];
        rpush(f, "list:strlens:wide", &owned(&wide))?;
    }

    // Several nodes at the default node size (8 KiB), edited in place.
    let long: Vec<String> = (0..1000)
        .map(|i| {
            if i % 4 == 0 {
                rng.range(-1_000_000, 1_000_000).to_string()
            } else {
                let len = rng.len(0, 10);
                format!("item-{i}-{}", rng.alnum(len))
            }
        })
        .collect();
    rpush(f, "list:long", &owned(&long))?;
    f.run(redis::cmd("LINSERT").arg("list:long").arg("BEFORE").arg(&long[500]).arg("inserted"))?;
    f.run(redis::cmd("LSET").arg("list:long").arg(3).arg("replaced"))?;
    f.run(redis::cmd("LPUSH").arg("list:long").arg("new-head"))?;

    f.run(redis::cmd("LPUSH").arg("list:lpushed").arg(&["one", "two", "three", "four"]))?;
    rpush(f, "list:bin", &owned(&[b"\xff".as_slice(), b"\x00\x00", b"\xc3\x28", b"ok", b"\xe2\x82"]))?;

    // Compressed interior nodes (LZF inside the quicklist).
    let size_name = if f.feat.v70() { "list-max-listpack-size" } else { "list-max-ziplist-size" };
    f.config_set(size_name, SMALL_NODE_ENTRIES)?;
    f.config_set("list-compress-depth", "1")?;
    let items: Vec<String> = (0..160).map(|i| format!("compressible entry {i:04} abcdabcdabcdabcdabcd")).collect();
    rpush(f, "list:packed:depth1", &owned(&items))?;
    f.config_set("list-compress-depth", "2")?;
    let items: Vec<String> = (0..140).map(|i| format!("depth two entry {i:04} xyzxyzxyzxyzxyzxyz")).collect();
    rpush(f, "list:packed:depth2", &owned(&items))?;
    f.restore_config()?;

    // Plain nodes: elements above the packed threshold get a node of their
    // own holding the raw element. The threshold can only be lowered with
    // DEBUG; 0 puts the default (1 GiB) back.
    if f.feat.v70() {
        f.run(redis::cmd("DEBUG").arg("QUICKLIST-PACKED-THRESHOLD").arg(PLAIN_THRESHOLD))?;
        let big = [
            "before".to_owned(),
            prose(8500, "plain-a"),
            "between".to_owned(),
            prose(10000, "plain-b"),
            "after".to_owned(),
        ];
        let pushed = rpush(f, "list:plain", &owned(&big));
        f.run(redis::cmd("DEBUG").arg("QUICKLIST-PACKED-THRESHOLD").arg(0))?;
        pushed?;
    }

    f.run(redis::cmd("RPUSH").arg("ttl:list").arg(&["e1", "e2", "e3"]))?;
    let at = Filler::far_future(&mut rng);
    f.expire_at("ttl:list", at)?;
    Ok(())
}
