//! Sorted sets: special scores, ties, listpack/ziplist and skiplist encodings.

use anyhow::Result;

use super::filler::Filler;

/// Members with scores at the edges of what a double can hold, in the text
/// form given to ZADD.
const SPECIAL_SCORES: &[(&str, &str)] = &[
    ("neg-inf", "-inf"),
    ("pos-inf", "+inf"),
    ("max", "1.7976931348623157e308"),
    ("min", "-1.7976931348623157e308"),
    ("smallest-denormal", "5e-324"),
    ("neg-denormal", "-5e-324"),
    ("tiny", "1e-308"),
    ("neg-zero", "-0"),
    ("zero", "0"),
    ("two-pow-53-plus-1", "9007199254740993"),
    ("big-int", "1e15"),
    ("tenth", "0.1"),
    ("third", "0.3333333333333333"),
    ("neg-half", "-0.5"),
    ("pi", "3.141592653589793"),
    ("tie-a", "7.5"),
    ("tie-b", "7.5"),
    ("tie-é", "7.5"),
];

fn zadd(f: &mut Filler, key: &str, pairs: &[(Vec<u8>, String)]) -> Result<()> {
    let mut cmd = redis::cmd("ZADD");
    cmd.arg(key);
    for (member, score) in pairs {
        cmd.arg(score).arg(member);
    }
    f.run(&cmd)?;
    Ok(())
}

fn pairs(items: &[(&str, &str)]) -> Vec<(Vec<u8>, String)> {
    items.iter().map(|(m, s)| (m.as_bytes().to_vec(), (*s).to_owned())).collect()
}

pub(super) fn build(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("zsets");

    let special = pairs(SPECIAL_SCORES);
    zadd(f, "zset:scores", &special)?;
    // One member over zset-max-listpack-value (64) forces a skiplist.
    let mut skip = special.clone();
    skip.push((format!("long-member-{}", "Z".repeat(70)).into_bytes(), "1.25".into()));
    zadd(f, "zset:scores:skiplist", &skip)?;

    // Equal scores: ZRANGE orders ties by member bytes.
    let ties: Vec<(Vec<u8>, String)> =
        [b"".as_slice(), b"\x00", b"\xff", b"B", b"a", b"aa", b"ab", "é".as_bytes(), b"10", b"9"]
            .iter()
            .map(|m| (m.to_vec(), "1".to_owned()))
            .collect();
    zadd(f, "zset:ties", &ties)?;

    // Over zset-max-listpack-entries (128): skiplist.
    let many: Vec<(Vec<u8>, String)> = (0..150)
        .map(|i| {
            let score = if i % 8 == 0 {
                (i / 8).to_string()
            } else {
                let whole = rng.range(-1000, 1000);
                let frac = rng.below(10_000);
                format!("{whole}.{frac:04}")
            };
            (format!("player-{i:03}-{}", rng.alnum(5)).into_bytes(), score)
        })
        .collect();
    zadd(f, "zset:skiplist", &many)?;

    zadd(f, "zset:negatives", &pairs(&[("a", "-1"), ("b", "-2.5"), ("c", "-100"), ("d", "-0.001")]))?;
    zadd(
        f,
        "zset:bin",
        &[(b"\xff".to_vec(), "1".into()), (b"\x00\x01".to_vec(), "2".into()), (b"ok".to_vec(), "3".into())],
    )?;

    zadd(f, "zset:incr", &pairs(&[("x", "1")]))?;
    f.run(redis::cmd("ZINCRBY").arg("zset:incr").arg("2.5").arg("x"))?;
    f.run(redis::cmd("ZINCRBY").arg("zset:incr").arg("-10").arg("y"))?;

    zadd(f, "ttl:zset", &pairs(&[("only", "1")]))?;
    let at = Filler::far_future(&mut rng);
    f.expire_at("ttl:zset", at)?;
    Ok(())
}
