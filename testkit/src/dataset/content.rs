//! Content shared by several families: integer edge values and text makers.

/// Integers at the edges of every integer encoding:
/// RDB strings (int8/int16/int32, longer ones stored as text), ziplist
/// (4-bit immediate 0..=12, int8/16/24/32/64) and listpack (7-bit uint,
/// 13/16/24/32/64-bit), plus the shared-integer limit (10000).
pub(super) const INT_EDGES: &[i64] = &[
    0,
    1,
    12,
    13,
    -1,
    127,
    128,
    -128,
    -129,
    255,
    256,
    4095,
    4096,
    -4096,
    -4097,
    9999,
    10000,
    32767,
    32768,
    -32768,
    -32769,
    65535,
    65536,
    8_388_607,
    8_388_608,
    -8_388_608,
    -8_388_609,
    2_147_483_647,
    2_147_483_648,
    -2_147_483_648,
    -2_147_483_649,
    4_294_967_296,
    9_007_199_254_740_993,
    i64::MAX,
    i64::MIN,
];

/// Strings that look numeric but are not stored as integers, with a label
/// for the key name.
pub(super) const NUMBER_LOOKALIKES: &[(&str, &str)] = &[
    ("leading-zero", "0042"),
    ("plus-sign", "+17"),
    ("minus-zero", "-0"),
    ("decimal", "2.50"),
    ("exponent", "6e3"),
    ("space-before", " 8"),
    ("space-after", "8 "),
    ("u64-max", "18446744073709551615"),
    ("below-i64-min", "-9223372036854775809"),
    ("hex", "0xff"),
    ("nan", "nan"),
    ("inf", "inf"),
    ("unit", "12kg"),
    ("bare-exponent", "1e"),
];

const WORDS: &[&str] = &[
    "snapshot",
    "keyspace",
    "replica",
    "listpack",
    "quicklist",
    "expiry",
    "stream",
    "cursor",
    "module",
    "checksum",
    "eviction",
    "bucket",
    "persistence",
    "encoding",
    "shard",
    "ledger",
];

/// Compressible text of exactly `n` bytes: `tag` followed by words and
/// running line numbers (LZF finds plenty of repeats, but no two lines are
/// identical).
pub(super) fn prose(n: usize, tag: &str) -> String {
    let mut out = String::with_capacity(n + 64);
    let mut line = 0usize;
    while out.len() < n {
        out.push_str(tag);
        out.push_str(&format!(" {line:05}"));
        for k in 0..6 {
            out.push(' ');
            out.push_str(WORDS[(line * 7 + k * 3) % WORDS.len()]);
        }
        out.push('\n');
        line += 1;
    }
    out.truncate(n);
    out
}

/// A short repeating pattern cut to exactly `n` bytes (maximally compressible).
pub(super) fn pattern(n: usize, unit: &str) -> String {
    unit.repeat(n / unit.len().max(1) + 1)[..n].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_makers_give_exact_lengths() {
        for n in [0, 1, 20, 44, 64, 16384] {
            assert_eq!(prose(n, "t").len(), n);
            assert_eq!(pattern(n, "abc").len(), n);
        }
    }
}
