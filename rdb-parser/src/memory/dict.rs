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

/// Expected bucket counts of loaded hashes, cached per (fields, first long pair).
#[derive(Debug, Default)]
pub(crate) struct LoadedHashes {
    cache: HashMap<(u64, u64), u64>,
}

/// Hashes loaded field by field have at most this many fields (more are presized).
const MAX_SIMULATED: u64 = 512;

impl LoadedHashes {
    /// Expected buckets (both tables) of a hash of `n` fields loaded from a plain RDB
    /// hash whose first field or value too long for a listpack is pair `j`: the loader
    /// fills a listpack with pairs `0..j`, converts it, adds pair `j`, presizes for the
    /// pairs still to come and adds them.
    pub(crate) fn buckets(&mut self, p: &Profile, n: u64, j: u64) -> u64 {
        if n > MAX_SIMULATED || j >= n {
            return super::table::dict_buckets(n);
        }
        let style = Style {
            double: p.rules <= Rules::R60,
            bucket_rehash: matches!(p.rules, Rules::R74 | Rules::R80 | Rules::V80),
        };
        let presize_on_convert = p.rules >= Rules::R70;
        *self.cache.entry((n, j)).or_insert_with(|| {
            let mut total = 0;
            for run in 0..RUNS {
                let mut d = Dict::new(style, run.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ n ^ (j << 20));
                if presize_on_convert {
                    d.expand(j as usize);
                }
                for _ in 0..=j {
                    d.add();
                }
                let rest = (n - j - 1) as usize;
                if rest > INITIAL {
                    d.expand(rest);
                }
                for _ in 0..rest {
                    d.add();
                }
                total += d.buckets();
            }
            (total + RUNS / 2) / RUNS
        })
    }
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
        let b = cache.buckets(&p, 5, 0);
        assert!((8..=12).contains(&b), "{b}");
        // Presized for the remaining 299 (512 buckets), which hold all 300.
        assert_eq!(cache.buckets(&p, 300, 0), 512);
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
