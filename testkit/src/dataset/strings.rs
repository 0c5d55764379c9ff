//! Strings, odd key names, HyperLogLogs, bitmaps and expiring strings.

use anyhow::Result;

use super::content::{pattern, prose, INT_EDGES, NUMBER_LOOKALIKES};
use super::filler::Filler;

/// 9999-12-31T23:59:59.999Z, the largest time many date libraries accept.
pub(super) const END_OF_YEAR_9999_MS: i64 = 253_402_300_799_999;

/// Lengths around the embstr limit (44), the RDB 6/14-bit length prefixes
/// (64, 16384) and the LZF threshold (LZF is only tried above 20 bytes).
const LENGTHS: &[usize] = &[1, 20, 21, 43, 44, 45, 63, 64, 65, 16383, 16384];
/// The lengths that also get an incompressible (random) value.
const NOISE_LENGTHS: &[usize] = &[20, 21, 44, 45, 63, 64, 16384];

fn set(f: &mut Filler, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
    f.run(redis::cmd("SET").arg(key.as_ref()).arg(value.as_ref()))?;
    Ok(())
}

pub(super) fn build(f: &mut Filler) -> Result<()> {
    let mut rng = f.rng("strings");

    for v in INT_EDGES {
        set(f, format!("str:int:{v}"), v.to_string())?;
    }
    for (label, text) in NUMBER_LOOKALIKES {
        set(f, format!("str:numlike:{label}"), text)?;
    }
    for &n in LENGTHS {
        set(f, format!("str:len:{n}:pattern"), pattern(n, "rdb-"))?;
    }
    for &n in NOISE_LENGTHS {
        let noise = rng.alnum(n);
        set(f, format!("str:len:{n}:noise"), noise)?;
    }
    set(f, "str:huge", prose(100 * 1024, "huge"))?;
    set(f, "str:empty", "")?;
    set(f, "str:utf8", "naïve café · Ωμέγα · 日本語 · 🦀")?;

    // Bytes that are not UTF-8: every byte value, noise, a UTF-16 surrogate
    // in UTF-8 form, an overlong encoding, a cut-off sequence, Latin-1.
    let all_bytes: Vec<u8> = (0..=255u8).collect();
    set(f, "str:bin:all-bytes", all_bytes)?;
    let mut noise = vec![0xffu8];
    noise.extend(rng.bytes(47));
    set(f, "str:bin:noise", noise)?;
    set(f, "str:bin:surrogate", b"\xed\xa0\x80")?;
    set(f, "str:bin:overlong", b"\xc0\x80")?;
    set(f, "str:bin:cut-off", b"euro \xe2\x82")?;
    set(f, "str:bin:latin1", b"caf\xe9")?;
    set(f, "str:bin:nul-inside", b"a\x00b\x00")?;

    // Odd key names.
    set(f, "", "value under the empty key")?;
    set(f, b"\x00nul\x01ctl\x1b[1m\x7f\n\t", "control bytes in the key")?;
    set(f, b"key:\xc3\x28:not-utf8", b"\xfe\xfd")?;
    set(f, format!("str:long-key:{}", rng.alnum(700)), "a 713-byte key")?;
    set(f, "str:key with spaces \"quotes\" \\ /", "punctuation in the key")?;

    // HyperLogLogs: a few elements stay sparse, thousands make it dense.
    let few: Vec<String> = (0..25).map(|i| format!("visitor-{i}")).collect();
    f.run(redis::cmd("PFADD").arg("str:hll:sparse").arg(&few))?;
    for chunk in (0..5000).collect::<Vec<u32>>().chunks(1000) {
        let many: Vec<String> = chunk.iter().map(|i| format!("session-{i}")).collect();
        f.run(redis::cmd("PFADD").arg("str:hll:dense").arg(&many))?;
    }

    for bit in [0u32, 3, 64, 1023, 8191] {
        f.run(redis::cmd("SETBIT").arg("str:bitmap").arg(bit).arg(1))?;
    }

    // Values built by commands.
    set(f, "str:counter", "100")?;
    f.run(redis::cmd("INCRBY").arg("str:counter").arg(23))?;
    f.run(redis::cmd("DECR").arg("str:counter"))?;
    f.run(redis::cmd("INCRBY").arg("str:counter").arg(-1000))?;
    f.run(redis::cmd("INCRBYFLOAT").arg("str:float").arg("0.1"))?;
    f.run(redis::cmd("INCRBYFLOAT").arg("str:float").arg("2.5e3"))?;
    for part in ["head-", "middle-", &"tail".repeat(10)] {
        f.run(redis::cmd("APPEND").arg("str:appended").arg(part))?;
    }
    f.run(redis::cmd("SETRANGE").arg("str:setrange").arg(16).arg("patched"))?;
    set(f, "str:shared", "db 0's value")?;

    // Expiring strings (absolute times only).
    for i in 0..4 {
        let key = format!("ttl:str:{i}");
        set(f, &key, format!("expires some day ({i})"))?;
        let at = Filler::far_future(&mut rng);
        f.expire_at(&key, at)?;
    }
    set(f, "ttl:str:end-of-9999", "expires at the last millisecond of 9999")?;
    f.expire_at("ttl:str:end-of-9999", END_OF_YEAR_9999_MS)?;
    set(f, "ttl:str:int", "4242")?;
    let at = Filler::far_future(&mut rng);
    f.expire_at("ttl:str:int", at)?;
    set(f, b"ttl:str:\xfe", b"\xfe")?;
    let at = Filler::far_future(&mut rng);
    f.expire_at(b"ttl:str:\xfe", at)?;
    Ok(())
}
