//! Hash tables and skiplist nodes: the parts whose size depends on a hash seed or on
//! random levels, estimated by their expected value.

use super::profile::Profile;

/// Buckets of a dict presized for `n` entries: the next power of two, at least 4.
pub(crate) fn dict_buckets(n: u64) -> u64 {
    n.max(4).checked_next_power_of_two().unwrap_or(1 << 63)
}

/// Entries per Valkey hash table bucket (a 64-byte bucket holds 7 pointers).
const BUCKET_SLOTS: f64 = 7.0;
/// Entries per chained bucket before its child pointer (the last child holds 7).
const CHAINED_SLOTS: f64 = 6.0;
/// `sizeof(hashtable)` in Valkey 8.1 and later.
const HASHTABLE_STRUCT: u64 = 72;
/// Bytes per bucket.
const BUCKET_BYTES: u64 = 64;

/// Buckets of a Valkey hash table sized for `n` entries: the smallest power of two with
/// at least n·5/32 buckets (at most about 6.4 entries per 7-slot bucket).
fn valkey_buckets(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    n.saturating_mul(5).div_ceil(32).checked_next_power_of_two().unwrap_or(1 << 63)
}

/// `hashtableMemUsage` of a Valkey 8.1+ table holding `n` entries: the struct, the
/// buckets, and the child buckets that overflowing buckets chain to. Entries per bucket
/// follow a Poisson distribution; of the expected number of child buckets the whole
/// part is kept (the most likely count), so small tables, which usually have none, come
/// out exact.
pub(crate) fn valkey_table(n: u64) -> u64 {
    let buckets = valkey_buckets(n);
    if buckets == 0 {
        return HASHTABLE_STRUCT;
    }
    let lambda = n as f64 / buckets as f64;
    let mut pmf = (-lambda).exp();
    let mut children = 0.0;
    for k in 1..200u32 {
        pmf *= lambda / f64::from(k);
        let k = f64::from(k);
        if k > BUCKET_SLOTS {
            children += pmf * ((k - BUCKET_SLOTS) / CHAINED_SLOTS).ceil();
        }
        if k > lambda && pmf < 1e-12 {
            break;
        }
    }
    let children = (buckets as f64 * children).floor() as u64;
    HASHTABLE_STRUCT + BUCKET_BYTES * (buckets + children)
}

/// Expected entry bytes of a Valkey 8.0 set: a member alone in its bucket needs no
/// entry, the others a 16-byte `dictEntryNoValue`.
pub(crate) fn valkey80_set_entries(n: u64, buckets: u64) -> f64 {
    let (n, b) = (n as f64, buckets as f64);
    16.0 * (n - b * (1.0 - (1.0 - 1.0 / b).powf(n)))
}

/// Most skiplist levels.
const MAX_LEVEL: i32 = 32;

/// Expected usable size of a skiplist node of `base + 16 · level` bytes, with levels
/// drawn as the servers draw them (each further level with probability 1/4).
pub(crate) fn skiplist_node(p: &Profile, base: u64) -> f64 {
    let mut total = 0.0;
    let mut rest = 1.0;
    for level in 1..=MAX_LEVEL {
        let prob = if level == MAX_LEVEL { rest } else { rest * 0.75 };
        total += prob * p.a(base + 16 * level as u64) as f64;
        rest -= prob;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Allocator, ServerVersion};

    #[test]
    fn presized_dicts() {
        assert_eq!(dict_buckets(0), 4);
        assert_eq!(dict_buckets(5), 8);
        assert_eq!(dict_buckets(512), 512);
        assert_eq!(dict_buckets(513), 1024);
    }

    #[test]
    fn valkey_tables_grow_by_buckets() {
        assert_eq!(valkey_buckets(1), 1);
        assert_eq!(valkey_buckets(7), 2);
        assert_eq!(valkey_buckets(600), 128);
        // 16 buckets for 100 entries: some overflow into child buckets.
        let t = valkey_table(100);
        assert!(t > 72 + 64 * 16 && t < 72 + 64 * 32, "{t}");
        assert_eq!(valkey_table(3), 72 + 64);
    }

    #[test]
    fn skiplist_levels_average_about_one_and_a_third() {
        // Levels 1, 2, 3... with probability 3/4, 3/16, 3/64...: 40, 56, 80 (72), 96 (88)...
        let p = Profile::new(ServerVersion::redis(7, 4), Allocator::Jemalloc);
        let e = skiplist_node(&p, 24);
        assert!((45.5..46.0).contains(&e), "{e}");
    }
}
