//! Collection keys kept compact: their elements back to back in one buffer with 4-byte
//! offsets (instead of a vector per element), and their records written from there.

use std::cmp::Ordering;

use rdb_parser::{KeyMeta, KeyStart, Kind, VisitResult};

use super::record;
use super::text::Text;

/// Elements a key's header may reserve room for.
const RESERVED_ELEMENTS: u64 = 1 << 14;

/// A list, set, sorted set or hash, as read.
pub struct PackedKey {
    pub db: u64,
    pub key: Vec<u8>,
    pub kind: Kind,
    pub expire_at_ms: Option<i64>,
    pub meta: Vec<KeyMeta>,
    pub packed: Packed,
}

impl PackedKey {
    /// A key of `k`'s type, or `None` for the types not kept this way.
    pub fn start(k: &KeyStart<'_>) -> Option<PackedKey> {
        let kind = k.rdb_type.kind();
        if !matches!(kind, Kind::List | Kind::Set | Kind::ZSet | Kind::Hash) {
            return None;
        }
        // Room for the elements the header states (up to a bound: headers can lie).
        let n = k.len.unwrap_or(0).min(RESERVED_ELEMENTS) as usize;
        let strings = if kind == Kind::Hash { 2 * n } else { n };
        let packed = Packed {
            data: Vec::with_capacity(strings * 16),
            ends: Vec::with_capacity(strings),
            scores: Vec::with_capacity(if kind == Kind::ZSet { n } else { 0 }),
            ..Packed::default()
        };
        Some(PackedKey {
            db: k.db,
            key: k.key.to_vec(),
            kind,
            expire_at_ms: k.expire_at_ms,
            meta: k.meta.to_vec(),
            packed,
        })
    }

    /// About how many bytes it holds.
    pub fn approx_bytes(&self) -> usize {
        self.key.len() + self.packed.data.len() + 4 * self.packed.ends.len() + 8 * self.packed.scores.len()
    }

    /// Its record (without a newline).
    pub fn write(&self, out: &mut Text) {
        record::head(out, self.db, &self.key, self.kind, self.expire_at_ms);
        self.packed.write(out, self.kind);
        record::tail(out, &self.meta);
    }
}

/// Items (lists), members (sets, sorted sets) or fields and values (hashes), back to
/// back, with 4-byte offsets: up to 4 GiB of them.
#[derive(Default)]
pub struct Packed {
    data: Vec<u8>,
    ends: Vec<u32>,
    scores: Vec<f64>,
    /// Hash field expiries; empty until a field has one.
    ttls: Vec<Option<i64>>,
    fields: usize,
}

impl Packed {
    pub fn push(&mut self, b: &[u8]) -> VisitResult {
        self.data.extend_from_slice(b);
        let end =
            u32::try_from(self.data.len()).map_err(|_| "a key of over 4 GiB of elements cannot be written as JSON")?;
        self.ends.push(end);
        Ok(())
    }

    pub fn push_field(&mut self, field: &[u8], value: &[u8], expire_at_ms: Option<i64>) -> VisitResult {
        self.push(field)?;
        self.push(value)?;
        if expire_at_ms.is_some() || !self.ttls.is_empty() {
            // The fields before the first with an expiry had none.
            self.ttls.resize(self.fields, None);
            self.ttls.push(expire_at_ms);
        }
        self.fields += 1;
        Ok(())
    }

    /// A sorted-set member and its score.
    pub fn push_scored(&mut self, member: &[u8], score: f64) -> VisitResult {
        self.scores.push(score);
        self.push(member)
    }

    /// How many items or members (fields and values count apart).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn get(&self, i: u32) -> &[u8] {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.data[start..self.ends[i] as usize]
    }

    fn ttl(&self, field: u32) -> Option<i64> {
        self.ttls.get(field as usize).copied().flatten()
    }

    /// The order of `n` items by `cmp` (equal ones in their order, as a stable sort
    /// leaves them), sorted only when not in order or in reverse order already. `key`
    /// is a number whose order agrees with `cmp` where the numbers differ (the first
    /// bytes, the score), so that most comparisons are of numbers.
    fn order(n: usize, key: impl Fn(u32) -> u64, cmp: impl Fn(u32, u32) -> Ordering) -> Vec<u32> {
        // `n` is at most the number of offsets, which fit in u32.
        let mut order: Vec<u32> = (0..n as u32).collect();
        if order.is_sorted_by(|&a, &b| cmp(a, b) != Ordering::Greater) {
            return order;
        }
        if order.is_sorted_by(|&a, &b| cmp(a, b) == Ordering::Greater) {
            order.reverse();
            return order;
        }
        let mut keyed: Vec<(u64, u32)> = order.iter().map(|&i| (key(i), i)).collect();
        keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| cmp(a.1, b.1)).then(a.1.cmp(&b.1)));
        order.clear();
        order.extend(keyed.iter().map(|&(_, i)| i));
        order
    }

    /// The value of a key of `kind`, in the records' order.
    fn write(&self, out: &mut Text, kind: Kind) {
        match kind {
            Kind::List => record::list(out, (0..self.ends.len() as u32).map(|i| self.get(i))),
            Kind::Set => {
                let order =
                    Packed::order(self.ends.len(), |i| prefix(self.get(i)), |a, b| self.get(a).cmp(self.get(b)));
                record::set(out, order.iter().map(|&i| self.get(i)));
            }
            Kind::ZSet => {
                let member = |i: u32| (self.get(i), self.scores[i as usize]);
                let score = |i: u32| score_key(self.scores[i as usize]);
                let order = Packed::order(self.ends.len(), score, |a, b| record::by_score(member(a), member(b)));
                record::zset(out, order.iter().map(|&i| member(i)));
            }
            _ => {
                let field = |i: u32| self.get(2 * i);
                let order = Packed::order(self.fields, |i| prefix(field(i)), |a, b| field(a).cmp(field(b)));
                record::hash(out, || order.iter().map(|&i| (self.get(2 * i), self.get(2 * i + 1), self.ttl(i))));
            }
        }
    }
}

/// The first 8 bytes of `b` (padded with zeros) as a number: byte strings whose numbers
/// differ are in the numbers' order.
fn prefix(b: &[u8]) -> u64 {
    let mut first = [0u8; 8];
    let n = b.len().min(8);
    first[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(first)
}

/// A number in the order of the (non-NaN) score `s`, with -0.0 and 0.0 equal.
fn score_key(s: f64) -> u64 {
    let bits = if s == 0.0 { 0 } else { s.to_bits() };
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_expiries_line_up_with_their_fields() {
        for first in [Some(5), None] {
            let mut p = Packed::default();
            p.push_field(b"a", b"1", first).expect("push");
            p.push_field(b"b", b"2", None).expect("push");
            p.push_field(b"c", b"3", Some(7)).expect("push");
            assert_eq!((p.ttl(0), p.ttl(1), p.ttl(2)), (first, None, Some(7)));
        }
        let mut p = Packed::default();
        p.push_field(b"a", b"1", None).expect("push");
        assert!(p.ttls.is_empty(), "no expiry, nothing kept");
    }

    #[test]
    fn order_keeps_sorted_input_and_reverses_reversed_input() {
        let sorted = [1, 2, 3, 4];
        assert_eq!(Packed::order(4, |_| 0, |a, b| sorted[a as usize].cmp(&sorted[b as usize])), [0, 1, 2, 3]);
        assert_eq!(Packed::order(4, |_| 0, |a, b| sorted[b as usize].cmp(&sorted[a as usize])), [3, 2, 1, 0]);
        let mixed = [3, 1, 4, 2];
        assert_eq!(Packed::order(4, |_| 0, |a, b| mixed[a as usize].cmp(&mixed[b as usize])), [1, 3, 0, 2]);
    }

    /// Pseudo-random numbers (xorshift), the same in every run.
    fn numbers(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn sorting_by_prefix_then_bytes_is_a_stable_sort_by_bytes() {
        let mut next = numbers(0x9e37_79b9_7f4a_7c15);
        for round in 0..200 {
            // Short strings over few byte values: many shared prefixes, equal strings,
            // strings that are prefixes of others, zero bytes.
            let strings: Vec<Vec<u8>> = (0..round % 40 + 2)
                .map(|_| (0..next() % 12).map(|_| [0u8, 1, b'a', 0xff][next() as usize % 4]).collect())
                .collect();
            let by_bytes = |a: u32, b: u32| strings[a as usize].cmp(&strings[b as usize]);
            let mut want: Vec<u32> = (0..strings.len() as u32).collect();
            want.sort_by(|&a, &b| by_bytes(a, b));
            let got = Packed::order(strings.len(), |i| prefix(&strings[i as usize]), by_bytes);
            assert_eq!(got, want, "{strings:?}");
        }
    }

    #[test]
    fn score_keys_order_scores() {
        let scores = [f64::NEG_INFINITY, -1e300, -2.5, -f64::MIN_POSITIVE, -0.0, 0.0, 5e-324, 1.0, 2.5, f64::INFINITY];
        for (i, a) in scores.iter().enumerate() {
            for b in &scores[i..] {
                let want = a.partial_cmp(b).expect("not NaN");
                assert_eq!(score_key(*a).cmp(&score_key(*b)), want, "{a} vs {b}");
            }
        }
    }
}
