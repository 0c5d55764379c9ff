//! Sets: intsets of each width, listpack sets (7.2+), hashtables, binary members.

use anyhow::Result;

use super::filler::Filler;

fn sadd<T: AsRef<[u8]>>(f: &mut Filler, key: &str, members: &[T]) -> Result<()> {
    let members: Vec<&[u8]> = members.iter().map(AsRef::as_ref).collect();
    f.run(redis::cmd("SADD").arg(key).arg(&members))?;
    Ok(())
}

fn numbers(values: &[i64]) -> Vec<String> {
    values.iter().map(i64::to_string).collect()
}

pub(super) fn build(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("sets");

    // Intsets are sized by their widest member: 16, 32 or 64 bits.
    sadd(f, "set:intset:16", &numbers(&[-32768, -5, 0, 1, 2, 300, 32767]))?;
    sadd(f, "set:intset:32", &numbers(&[-2_147_483_648, -40000, 0, 40000, 2_147_483_647]))?;
    sadd(f, "set:intset:64", &numbers(&[i64::MIN, -5_000_000_000, 0, 5_000_000_000, i64::MAX]))?;
    // Up to set-max-intset-entries (512) stays an intset; more is a hashtable.
    let within = rng.distinct(450, -1_000_000, 1_000_000);
    sadd(f, "set:intset:big", &numbers(&within))?;
    let over = rng.distinct(600, -1_000_000, 1_000_000);
    sadd(f, "set:intset:overflow", &numbers(&over))?;

    // Small string sets: listpack on 7.2+, hashtable before.
    sadd(f, "set:words", &[b"apple".as_slice(), b"kiwi", b"", b"17", b"\xfe"])?;
    let mut mixed: Vec<String> = (0..40).map(|i| format!("word-{i}")).collect();
    mixed.extend((0..20).map(|i| (i * 11).to_string()));
    sadd(f, "set:mixed", &mixed)?;

    // Hashtables: a member over set-max-listpack-value (64), or many members.
    sadd(f, "set:wide-member", &["a".to_owned(), "b".to_owned(), "W".repeat(80)])?;
    let big: Vec<String> = (0..200).map(|i| format!("member-{i}-{}", rng.alnum(4))).collect();
    sadd(f, "set:big", &big)?;

    sadd(f, "set:bin", &[b"\x00".as_slice(), b"\xff\xff", b"\x80abc", b"plain", "é".as_bytes()])?;

    sadd(f, "ttl:set", &["x", "y", "z"])?;
    let at = Filler::far_future(&mut rng);
    f.expire_at("ttl:set", at)?;
    Ok(())
}
