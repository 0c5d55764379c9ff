//! Hashes: listpack/ziplist and hashtable, integer values, binary field
//! names, hash field TTLs (Redis 7.4+, Valkey 9+) and the commands that set
//! fields with their TTL (`HSETEX`, `HGETEX`, `HGETDEL`: Redis 8+, Valkey 9+).

use anyhow::{bail, Result};
use redis::Value;

use super::content::INT_EDGES;
use super::filler::Filler;

fn hset(f: &mut Filler, key: impl AsRef<[u8]>, pairs: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
    let mut cmd = redis::cmd("HSET");
    cmd.arg(key.as_ref());
    for (field, value) in pairs {
        cmd.arg(field).arg(value);
    }
    f.run(&cmd)?;
    Ok(())
}

fn pairs<F: AsRef<[u8]>, V: AsRef<[u8]>>(items: &[(F, V)]) -> Vec<(Vec<u8>, Vec<u8>)> {
    items.iter().map(|(k, v)| (k.as_ref().to_vec(), v.as_ref().to_vec())).collect()
}

/// `HPEXPIREAT key at FIELDS n field...`; every field must get the TTL.
fn field_expire_at(f: &mut Filler, key: impl AsRef<[u8]>, at_ms: i64, fields: &[&[u8]]) -> Result<()> {
    let reply =
        f.run(redis::cmd("HPEXPIREAT").arg(key.as_ref()).arg(at_ms).arg("FIELDS").arg(fields.len()).arg(fields))?;
    let all_set = matches!(&reply, Value::Array(codes) if codes.iter().all(|c| *c == Value::Int(1)));
    if !all_set {
        bail!("HPEXPIREAT did not set every field TTL: {reply:?}");
    }
    Ok(())
}

pub(super) fn build(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("hashes");

    hset(
        f,
        "hash:small",
        &pairs(&[
            (b"name".as_slice(), b"Ada".as_slice()),
            (b"lang", b"en"),
            (b"empty-value", b""),
            (b"", b"empty field name"),
            (b"number", b"7"),
            (b"utf8", "grüße".as_bytes()),
            (b"binary-value", b"\xff\x00"),
        ]),
    )?;
    let ints: Vec<(String, String)> = INT_EDGES.iter().map(|v| (format!("i{v}"), v.to_string())).collect();
    hset(f, "hash:ints", &pairs(&ints))?;
    hset(
        f,
        "hash:binfields",
        &pairs(&[(b"\xff\xfe".as_slice(), b"v1".as_slice()), (b"ok", b"\x80\x81"), (b"\x00", b"nul")]),
    )?;
    // A value over hash-max-listpack-value (64) makes a hashtable.
    hset(f, "hash:wide-value", &pairs(&[("a".to_owned(), "1".to_owned()), ("wide".to_owned(), "V".repeat(90))]))?;
    // Over hash-max-listpack-entries (512): hashtable.
    let big: Vec<(String, String)> = (0..600)
        .map(|i| {
            let value = if i % 2 == 0 {
                rng.below(1_000_000_000).to_string()
            } else {
                let len = rng.len(1, 12);
                rng.alnum(len)
            };
            (format!("f{i:04}"), value)
        })
        .collect();
    hset(f, "hash:big", &pairs(&big))?;
    f.run(redis::cmd("HINCRBY").arg("hash:incr").arg("n").arg(41))?;
    f.run(redis::cmd("HINCRBY").arg("hash:incr").arg("n").arg(1))?;
    f.run(redis::cmd("HINCRBYFLOAT").arg("hash:incr").arg("x").arg("2.5"))?;

    hset(f, "ttl:hash", &pairs(&[("k", "v")]))?;
    let at = Filler::far_future(&mut rng);
    f.expire_at("ttl:hash", at)?;

    if f.feat.hash_field_ttl() {
        build_field_ttls(f)?;
    }
    if f.feat.hash_field_commands() {
        build_field_commands(f)?;
    }
    Ok(())
}

/// `HSETEX` sets fields and their TTL in one call, `HGETEX` changes the TTL of
/// the fields it reads, `HGETDEL` removes the fields it reads.
fn build_field_commands(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("hash-field-commands");
    let key = "hash:hsetex";
    let at = Filler::far_future(&mut rng);
    f.run(
        redis::cmd("HSETEX").arg(key).arg("PXAT").arg(at).arg("FIELDS").arg(3).arg(&["a", "1", "b", "2", "c", "3"][..]),
    )?;
    f.run(redis::cmd("HSETEX").arg(key).arg("FIELDS").arg(1).arg(&["plain", "no ttl"][..]))?;
    f.run(redis::cmd("HGETEX").arg(key).arg("PERSIST").arg("FIELDS").arg(1).arg("a"))?;
    let at = Filler::far_future(&mut rng);
    f.run(redis::cmd("HGETEX").arg(key).arg("PXAT").arg(at).arg("FIELDS").arg(1).arg("c"))?;

    hset(f, "hash:hgetdel", &pairs(&[("x", "1"), ("y", "2"), ("z", "3")]))?;
    f.run(redis::cmd("HGETDEL").arg("hash:hgetdel").arg("FIELDS").arg(2).arg(&["x", "z"][..]))?;
    Ok(())
}

fn build_field_ttls(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("hash-field-ttl");

    // Small hash (listpack with TTLs), TTLs set in two calls.
    let small: Vec<(String, String)> = (0..10).map(|i| (format!("f{i}"), format!("v{i}"))).collect();
    hset(f, "hash:fttl:listpack", &pairs(&small))?;
    let at = Filler::far_future(&mut rng);
    field_expire_at(f, "hash:fttl:listpack", at, &[b"f0", b"f1", b"f2"])?;
    let at = Filler::far_future(&mut rng);
    field_expire_at(f, "hash:fttl:listpack", at, &[b"f7"])?;

    // Hashtable with TTLs on every ninth field.
    let mut wide: Vec<(String, String)> = (0..120).map(|i| (format!("tf{i:03}"), rng.alnum(8))).collect();
    wide.push(("wide".to_owned(), "W".repeat(100)));
    hset(f, "hash:fttl:hashtable", &pairs(&wide))?;
    for i in (0..120).step_by(9) {
        let at = Filler::far_future(&mut rng);
        let field = format!("tf{i:03}");
        field_expire_at(f, "hash:fttl:hashtable", at, &[field.as_bytes()])?;
    }
    let at = Filler::far_future(&mut rng);
    field_expire_at(f, "hash:fttl:hashtable", at, &[b"wide"])?;

    // Key TTL and field TTLs together.
    hset(f, "hash:fttl:key-and-fields", &pairs(&[("a", "1"), ("b", "2"), ("c", "3")]))?;
    let at = Filler::far_future(&mut rng);
    field_expire_at(f, "hash:fttl:key-and-fields", at, &[b"a", b"c"])?;
    let at = Filler::far_future(&mut rng);
    f.expire_at("hash:fttl:key-and-fields", at)?;

    // Every field with the same TTL; a binary field name with a TTL.
    hset(f, "hash:fttl:all-fields", &pairs(&[("x", "1"), ("y", "2")]))?;
    let at = Filler::far_future(&mut rng);
    field_expire_at(f, "hash:fttl:all-fields", at, &[b"x", b"y"])?;
    hset(f, "hash:fttl:bin", &pairs(&[(b"\xfe".as_slice(), b"binary field".as_slice()), (b"plain", b"p")]))?;
    let at = Filler::far_future(&mut rng);
    field_expire_at(f, "hash:fttl:bin", at, &[b"\xfe"])?;
    Ok(())
}
