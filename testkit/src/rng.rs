//! A tiny deterministic random generator for dataset content.
//!
//! Fixtures must be byte-for-byte reproducible from a seed across toolchain
//! and dependency upgrades, which general-purpose generators do not promise
//! (`rand`'s `StdRng` explicitly may change between versions). SplitMix64 is
//! fixed by its definition, fast, and good enough for test data.

/// SplitMix64 stream derived from a seed and a label.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Rng {
    /// A generator for one part of the dataset. Each part gets its own stream,
    /// so adding keys to one family does not change the content of another.
    pub(crate) fn new(seed: u64, label: &str) -> Self {
        // FNV-1a over the label, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let mut rng = Rng { state: seed ^ h.rotate_left(17) };
        rng.next_u64();
        rng
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the tiny modulo bias does not matter here).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..hi` (half open, `lo < hi`).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = hi.wrapping_sub(lo) as u64;
        lo.wrapping_add(self.below(span) as i64)
    }

    /// Length in `lo..hi`.
    pub(crate) fn len(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below((hi - lo) as u64) as usize
    }

    /// `n` random ASCII letters and digits (valid UTF-8, hardly compressible).
    pub(crate) fn alnum(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(ALNUM[self.below(ALNUM.len() as u64) as usize])).collect()
    }

    /// `n` random bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// `k` distinct integers from `lo..hi`, in generation order.
    pub(crate) fn distinct(&mut self, k: usize, lo: i64, hi: i64) -> Vec<i64> {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let v = self.range(lo, hi);
            if seen.insert(v) {
                out.push(v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn same_seed_and_label_give_same_stream() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7, "x");
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(7, "x");
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let mut other = Rng::new(7, "y");
        assert_ne!(a[0], other.next_u64());
        let mut seed2 = Rng::new(8, "x");
        assert_ne!(a[0], seed2.next_u64());
    }

    #[test]
    fn range_stays_in_bounds() {
        let mut r = Rng::new(1, "range");
        for _ in 0..1000 {
            let v = r.range(-5, 5);
            assert!((-5..5).contains(&v));
        }
        assert_eq!(r.distinct(10, 0, 10).len(), 10);
    }
}
