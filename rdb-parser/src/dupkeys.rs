//! Keys stored twice in one database, found in bounded memory whatever the file size.
//!
//! Redis 7.0 and later refuse such a file ("Duplicated key"). Holding every key is out
//! of the question for dumps with millions of them, so the check takes two passes:
//!
//! 1. [`RepeatFilter`] puts a 128-bit fingerprint of each (database, key) into a Bloom
//!    filter of fixed size; a key whose bits are all set already is a *candidate* (a
//!    repeat, or a false positive). Only candidates' fingerprints are kept, up to a cap.
//!    The filter is blocked: a key's bits all fall in one 64-byte cache line, so a key
//!    costs one cache miss, not one per bit (the filter is far larger than the caches);
//!    and keys are added in groups whose lines are loaded together, so that the misses
//!    overlap instead of following one another.
//! 2. [`Confirm`] reads the file again and remembers the first occurrence (position and
//!    key bytes, within a budget) of each candidate: a second occurrence with the same
//!    bytes is a duplicate, reported with both positions.

use std::collections::{HashMap, HashSet};

use xxhash_rust::xxh3::xxh3_128_with_seed;

/// Most Bloom filter bits (32 MiB).
pub const MAX_FILTER_BITS: u64 = 1 << 28;
/// Most candidate fingerprints kept by the first pass (16 bytes each).
pub const MAX_CANDIDATES: usize = 1 << 20;
/// Most key bytes the second pass keeps to compare keys byte for byte; past it, equal
/// 128-bit fingerprints (a false match has probability about 2^-100) confirm a repeat.
pub const MAX_CONFIRM_KEY_BYTES: usize = 64 << 20;

fn fingerprint(db: u64, key: &[u8]) -> u128 {
    xxh3_128_with_seed(key, db)
}

/// 512 bits of the filter, one cache line.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Line([u64; 8]);

/// First pass: a Bloom filter over every key, and the fingerprints of possible repeats.
pub struct RepeatFilter {
    lines: Vec<Line>,
    mask: u64,
    candidates: HashSet<u128>,
    overflow: bool,
    /// Fingerprints of keys not yet in the filter.
    pending: Vec<u128>,
}

/// Bits set per key, all in the key's line. Twelve make a false candidate rare even at
/// 18 keys per line (a 1 GB dump has about 9), so the second pass seldom runs.
const BITS_PER_KEY: u32 = 12;

/// Keys added to the filter at once.
const GROUP: usize = 32;

impl RepeatFilter {
    /// A filter sized for an input of `size_hint` bytes (each key takes at least 3 bytes
    /// of a file; 16 bits per possible key, at most [`MAX_FILTER_BITS`]); unknown size:
    /// the maximum.
    pub fn new(size_hint: Option<u64>) -> Self {
        let wanted = size_hint.map_or(MAX_FILTER_BITS, |s| s.saturating_mul(16) / 3);
        let bits = wanted.clamp(1 << 12, MAX_FILTER_BITS).next_power_of_two();
        RepeatFilter {
            lines: vec![Line([0; 8]); (bits / 512) as usize],
            mask: bits - 1,
            candidates: HashSet::new(),
            overflow: false,
            pending: Vec::with_capacity(GROUP),
        }
    }

    /// Adds a key.
    pub fn add(&mut self, db: u64, key: &[u8]) {
        self.pending.push(fingerprint(db, key));
        if self.pending.len() == GROUP {
            self.flush();
        }
    }

    fn line_of(&self, fp: u128) -> usize {
        // The line from the high half (its bits in the line: see `flush`).
        ((fp >> 64) as u64 & (self.mask >> 9)) as usize
    }

    /// Adds the pending keys, in the order they came.
    fn flush(&mut self) {
        // Load every line first: the loads do not depend on each other, so their cache
        // misses overlap.
        let touched = self.pending.iter().fold(0u64, |acc, &fp| acc ^ self.lines[self.line_of(fp)].0[0]);
        std::hint::black_box(touched);
        for i in 0..self.pending.len() {
            let fp = self.pending[i];
            let at = self.line_of(fp);
            let Line(line) = &mut self.lines[at];
            let mut seen = true;
            for i in 0..BITS_PER_KEY {
                // Nine bits each: seven from the low half, five from the high half above
                // the line number (which takes at most 19 bits).
                let chunk = if i < 7 { fp >> (9 * i) } else { fp >> (64 + 19 + 9 * (i - 7)) };
                let bit = (chunk & 511) as usize;
                let (word, flag) = (bit / 64, 1u64 << (bit % 64));
                seen &= line[word] & flag != 0;
                line[word] |= flag;
            }
            if seen {
                if self.candidates.len() < MAX_CANDIDATES {
                    self.candidates.insert(fp);
                } else {
                    self.overflow = true;
                }
            }
        }
        self.pending.clear();
    }

    /// How many keys may repeat.
    pub fn candidates(&mut self) -> usize {
        self.flush();
        self.candidates.len()
    }

    /// True when more keys may repeat than the check can follow: some repeats may go
    /// unnoticed (the filter is overloaded, by far more keys than it was sized for).
    pub fn overflowed(&mut self) -> bool {
        self.flush();
        self.overflow
    }

    /// The second pass, for this filter's candidates.
    pub fn confirm(mut self) -> Confirm {
        self.flush();
        Confirm { candidates: self.candidates, first: HashMap::new(), key_bytes: 0 }
    }
}

/// Where a key was met: its record offset and its 0-based position among the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPosition {
    /// Offset of the key's record.
    pub offset: u64,
    /// Index of the key in the file (0 = first key).
    pub index: u64,
}

/// A key stored twice in one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// Database.
    pub db: u64,
    /// The key.
    pub key: Vec<u8>,
    /// Its first record.
    pub first: KeyPosition,
    /// The record that repeats it.
    pub second: KeyPosition,
}

/// Second pass: finds the first repeat among the candidates.
pub struct Confirm {
    candidates: HashSet<u128>,
    first: HashMap<u128, (KeyPosition, Option<Vec<u8>>)>,
    key_bytes: usize,
}

impl Confirm {
    /// Checks a key; returns the duplicate when this key repeats an earlier one.
    pub fn check(&mut self, db: u64, key: &[u8], at: KeyPosition) -> Option<Duplicate> {
        let fp = fingerprint(db, key);
        if !self.candidates.contains(&fp) {
            return None;
        }
        match self.first.get(&fp) {
            Some((first, bytes)) if bytes.as_deref().is_none_or(|b| b == key) => {
                Some(Duplicate { db, key: key.to_vec(), first: *first, second: at })
            }
            Some(_) => None,
            None => {
                let keep = self.key_bytes + key.len() <= MAX_CONFIRM_KEY_BYTES;
                self.key_bytes += if keep { key.len() } else { 0 };
                self.first.insert(fp, (at, keep.then(|| key.to_vec())));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(i: u64) -> KeyPosition {
        KeyPosition { offset: 100 + i, index: i }
    }

    #[test]
    fn repeats_are_found_and_confirmed() {
        let keys: Vec<(u64, Vec<u8>)> = (0..5000u64).map(|i| (i % 3, format!("k{i}").into_bytes())).collect();
        let mut f = RepeatFilter::new(Some(10));
        for (db, k) in &keys {
            f.add(*db, k);
        }
        f.add(1, b"k7"); // k7 is in db 1: a repeat
        f.add(0, b"k7"); // not in db 0: no repeat (maybe a false positive)
        assert!(f.candidates() >= 1 && !f.overflowed());
        let mut c = f.confirm();
        let mut found = None;
        for (i, (db, k)) in keys.iter().chain([(1, b"k7".to_vec()), (0, b"k7".to_vec())].iter()).enumerate() {
            if let Some(d) = c.check(*db, k, pos(i as u64)) {
                found.get_or_insert(d);
            }
        }
        let d = found.expect("duplicate");
        assert_eq!((d.db, d.key.as_slice(), d.first, d.second), (1, &b"k7"[..], pos(7), pos(5000)));
    }
}
