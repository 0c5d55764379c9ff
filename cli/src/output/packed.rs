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

    /// The order of `n` items by `cmp`, sorted only when not in order or in reverse
    /// order already.
    fn order(n: usize, cmp: impl Fn(u32, u32) -> Ordering) -> Vec<u32> {
        // `n` is at most the number of offsets, which fit in u32.
        let mut order: Vec<u32> = (0..n as u32).collect();
        if order.is_sorted_by(|&a, &b| cmp(a, b) != Ordering::Greater) {
            return order;
        }
        if order.is_sorted_by(|&a, &b| cmp(a, b) == Ordering::Greater) {
            order.reverse();
            return order;
        }
        order.sort_by(|&a, &b| cmp(a, b));
        order
    }

    /// The value of a key of `kind`, in the records' order.
    fn write(&self, out: &mut Text, kind: Kind) {
        match kind {
            Kind::List => record::list(out, (0..self.ends.len() as u32).map(|i| self.get(i))),
            Kind::Set => {
                let order = Packed::order(self.ends.len(), |a, b| self.get(a).cmp(self.get(b)));
                record::set(out, order.iter().map(|&i| self.get(i)));
            }
            Kind::ZSet => {
                let member = |i: u32| (self.get(i), self.scores[i as usize]);
                let order = Packed::order(self.ends.len(), |a, b| record::by_score(member(a), member(b)));
                record::zset(out, order.iter().map(|&i| member(i)));
            }
            _ => {
                let order = Packed::order(self.fields, |a, b| self.get(2 * a).cmp(self.get(2 * b)));
                record::hash(out, || order.iter().map(|&i| (self.get(2 * i), self.get(2 * i + 1), self.ttl(i))));
            }
        }
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
        assert_eq!(Packed::order(4, |a, b| sorted[a as usize].cmp(&sorted[b as usize])), [0, 1, 2, 3]);
        assert_eq!(Packed::order(4, |a, b| sorted[b as usize].cmp(&sorted[a as usize])), [3, 2, 1, 0]);
        let mixed = [3, 1, 4, 2];
        assert_eq!(Packed::order(4, |a, b| mixed[a as usize].cmp(&mixed[b as usize])), [1, 3, 0, 2]);
    }
}
