//! The Redis dict (and Valkey 8.0's) as a hash is loaded field by field: tables grow
//! when full and rehash incrementally, one bucket per insert, so loading can end with
//! two tables. Which buckets are empty depends on the hash seed, so the loads are
//! simulated with random hashes and the bucket counts averaged.

use std::collections::HashMap;

use super::profile::{Profile, Rules};

/// Simulated loads averaged per estimate.
const RUNS: u64 = 16;
/// Smallest table.
const INITIAL: usize = 4;
/// Empty buckets one rehash step may skip.
const EMPTY_VISITS: usize = 10;

/// How a version's dict grows and rehashes.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// Grow to twice the entries (up to 6.0), not to the next power above entries + 1.
    double: bool,
    /// Redis 7.4, Valkey 8.0: an insert first moves the bucket its key falls in, if that
    /// has not moved yet; a table is never "resized" to the same or a smaller size; an
    /// empty table is replaced without rehashing.
    bucket_rehash: bool,
}

/// A dict: per table, the hashes of the entries in each bucket.
struct Dict {
    style: Style,
    tables: [Vec<Vec<u64>>; 2],
    used: [usize; 2],
    rehash_idx: Option<usize>,
    rng: u64,
}

impl Dict {
    fn new(style: Style, seed: u64) -> Dict {
        Dict { style, tables: [Vec::new(), Vec::new()], used: [0, 0], rehash_idx: None, rng: seed }
    }

    fn next_hash(&mut self) -> u64 {
        // splitmix64
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn expand(&mut self, size: usize) {
        let size0 = self.tables[0].len();
        if self.rehash_idx.is_some() || self.used[0] > size || (self.style.bucket_rehash && size0 >= size) {
            return;
        }
        let real = size.max(INITIAL).next_power_of_two();
        if real == size0 {
            return;
        }
        let table = vec![Vec::new(); real];
        if size0 == 0 || (self.style.bucket_rehash && self.used[0] == 0) {
            self.tables[0] = table;
        } else {
            self.tables[1] = table;
            self.rehash_idx = Some(0);
        }
    }

    fn move_bucket(&mut self, idx: usize) {
        let mask = self.tables[1].len() - 1;
        for h in std::mem::take(&mut self.tables[0][idx]) {
            self.tables[1][h as usize & mask].push(h);
            self.used[0] -= 1;
            self.used[1] += 1;
        }
    }

    fn finish_rehash(&mut self) {
        if self.rehash_idx.is_some() && self.used[0] == 0 {
            self.tables[0] = std::mem::take(&mut self.tables[1]);
            self.used = [self.used[1], 0];
            self.rehash_idx = None;
        }
    }

    fn rehash_step(&mut self) {
        let Some(mut idx) = self.rehash_idx else { return };
        if self.used[0] != 0 {
            let mut empty = EMPTY_VISITS;
            while self.tables[0].get(idx).is_some_and(Vec::is_empty) {
                idx += 1;
                empty -= 1;
                if empty == 0 {
                    self.rehash_idx = Some(idx);
                    return;
                }
            }
            if idx < self.tables[0].len() {
                self.move_bucket(idx);
            }
            self.rehash_idx = Some(idx + 1);
        }
        self.finish_rehash();
    }

    fn add(&mut self) {
        let h = self.next_hash();
        if let Some(next) = self.rehash_idx {
            let idx = h as usize & (self.tables[0].len() - 1);
            if self.style.bucket_rehash && idx >= next && !self.tables[0][idx].is_empty() {
                self.move_bucket(idx);
                self.finish_rehash();
            } else {
                self.rehash_step();
            }
        }
        if self.rehash_idx.is_none() {
            let (size, used) = (self.tables[0].len(), self.used[0]);
            if size == 0 {
                self.expand(INITIAL);
            } else if used >= size {
                self.expand(if self.style.double { used * 2 } else { used + 1 });
            }
        }
        let t = usize::from(self.rehash_idx.is_some());
        let mask = self.tables[t].len() - 1;
        self.tables[t][h as usize & mask].push(h);
        self.used[t] += 1;
    }

    fn buckets(&self) -> u64 {
        (self.tables[0].len() + self.tables[1].len()) as u64
    }
}

/// How the loader fills a hash table from a hash the file stores field by field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Fill {
    /// A plain hash whose first field or value too long for a listpack is pair `j`: the
    /// loader fills a listpack with pairs `0..j`, converts it (presized for them), adds
    /// pair `j`, presizes for the pairs still to come (Redis 8.4+: for all of them) and
    /// adds those.
    Plain(u64),
    /// A hash with field TTLs whose first long pair is `j`: as [`Fill::Plain`], but the
    /// table is presized before pair `j` is added.
    WithTtls(u64),
    /// A hash with field TTLs and more fields than a listpack takes: every field goes
    /// into a table that starts empty and grows.
    Grown,
}

/// Expected bucket counts of loaded hashes, cached per (fields, fill).
#[derive(Debug, Default)]
pub(crate) struct LoadedHashes {
    cache: HashMap<(u64, Fill), u64>,
}

/// Hashes loaded through a listpack have at most this many fields (more are presized).
const MAX_SIMULATED: u64 = 512;
/// Tables grown to more entries than this are simulated at this scale: only the last
/// growth matters, and whether its rehash ends before loading does depends on the
/// entries added since as a share of the table.
const MAX_GROWN: u64 = 8192;

impl LoadedHashes {
    /// Expected buckets (both tables) of a hash of `n` fields loaded as `fill` says.
    pub(crate) fn buckets(&mut self, p: &Profile, n: u64, fill: Fill) -> u64 {
        let (j, ttls) = match fill {
            Fill::Grown => return self.grown(p, n),
            Fill::Plain(j) => (j, false),
            Fill::WithTtls(j) => (j, true),
        };
        if n > MAX_SIMULATED || j >= n {
            return super::table::dict_buckets(n);
        }
        let style = style(p);
        let presize_on_convert = p.rules >= Rules::R70;
        let rest = n - j - 1;
        // The loaders up to 8.2 presize for the pairs left, 8.4+ for all of them.
        let presize = if p.tracked() { n } else { rest + u64::from(ttls) };
        let limit = if p.tracked() { n } else { presize };
        *self.cache.entry((n, fill)).or_insert_with(|| {
            average(|run| {
                let mut d = Dict::new(style, run.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ n ^ (j << 20));
                if presize_on_convert {
                    d.expand(j as usize);
                }
                let before = if ttls { j } else { j + 1 };
                for _ in 0..before {
                    d.add();
                }
                if limit > INITIAL as u64 {
                    d.expand(presize as usize);
                }
                for _ in before..n {
                    d.add();
                }
                d.buckets()
            })
        })
    }

    /// [`Fill::Grown`]: a table grown by `n` inserts from empty.
    fn grown(&mut self, p: &Profile, n: u64) -> u64 {
        let style = style(p);
        if n <= MAX_GROWN {
            return *self.cache.entry((n, Fill::Grown)).or_insert_with(|| {
                average(|run| {
                    let mut d = Dict::new(style, run.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n);
                    for _ in 0..n {
                        d.add();
                    }
                    d.buckets()
                })
            });
        }
        // The last growth doubled a table of `last` buckets at `last` entries; the same
        // growth at the largest simulated scale, with as many inserts after it in
        // proportion, ends in the same state.
        let last = 1u64 << (63 - (n - 1).leading_zeros());
        let scale = MAX_GROWN / 2;
        let scaled = scale + ((n - last) as u128 * scale as u128 / last as u128) as u64;
        self.grown(p, scaled.max(scale + 1)) * (last / scale)
    }
}

/// The dict behaviour of a version.
fn style(p: &Profile) -> Style {
    Style {
        double: p.rules <= Rules::R60,
        bucket_rehash: matches!(p.rules, Rules::R74 | Rules::R82 | Rules::R84 | Rules::V80),
    }
}

/// The mean over the simulated runs, rounded.
fn average(mut run: impl FnMut(u64) -> u64) -> u64 {
    let total: u64 = (0..RUNS).map(&mut run).sum();
    (total + RUNS / 2) / RUNS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Allocator, ServerVersion};

    #[test]
    fn a_full_table_grows_and_may_still_be_rehashing() {
        let p = Profile::new(ServerVersion::redis(6, 2), Allocator::Jemalloc);
        let mut cache = LoadedHashes::default();
        // 5 fields, the first one long: 4 buckets, then 8 while rehashing or after.
        let b = cache.buckets(&p, 5, Fill::Plain(0));
        assert!((8..=12).contains(&b), "{b}");
        // Presized for the remaining 299 (512 buckets), which hold all 300.
        assert_eq!(cache.buckets(&p, 300, Fill::Plain(0)), 512);
    }

    #[test]
    fn redis_8_6_presizes_for_every_field() {
        let p = Profile::new(ServerVersion::redis(8, 6), Allocator::Jemalloc);
        let mut cache = LoadedHashes::default();
        // The first pair is long: 4 buckets for it, then 8 for all five, rehashed while
        // the other four go in.
        assert_eq!(cache.buckets(&p, 5, Fill::Plain(0)), 8);
    }

    #[test]
    fn grown_tables_are_often_caught_rehashing() {
        let p = Profile::new(ServerVersion::redis(8, 6), Allocator::Jemalloc);
        let mut cache = LoadedHashes::default();
        // 513 inserts: the table of 512 doubled at the 513th, its rehash has just begun.
        assert_eq!(cache.buckets(&p, 513, Fill::Grown), 512 + 1024);
        // Far past the last doubling the rehash is over.
        assert_eq!(cache.buckets(&p, 1000, Fill::Grown), 1024);
        // Large tables scale: 2^20 + 1 inserts look like 4097.
        assert_eq!(cache.buckets(&p, (1 << 20) + 1, Fill::Grown), (1 << 20) + (1 << 21));
    }

    #[test]
    fn tables_without_rehash_are_powers_of_two() {
        let mut d = Dict::new(Style { double: false, bucket_rehash: false }, 1);
        for _ in 0..4 {
            d.add();
        }
        assert_eq!(d.buckets(), 4);
        d.add();
        assert!(d.rehash_idx.is_some());
        assert_eq!(d.buckets(), 12);
    }
}
