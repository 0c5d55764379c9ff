//! Sparse arrays (Redis 8.8+) and GCRA values: rough estimates only.
//!
//! The server's array layout (slices, directories) is not persisted and was not measured
//! against a server: the estimate charges a fixed header, 16 bytes of slot per element
//! and an sds for each value longer than an inline small string. It is not validated.

use super::profile::Profile;
use super::{Encoding, KeyFacts, ValueSize};

/// Assumed array header (directory and slice bookkeeping).
const ARRAY_HEADER: u64 = 64;
/// Assumed bytes per populated slot (index and value pointer).
const SLOT: u64 = 16;
/// Values up to this length are assumed inline (`AR_SMALLSTR_MAXLEN` on 64-bit builds).
const SMALL_INLINE: u64 = 7;

/// A sparse array value.
#[derive(Debug, Default)]
pub(crate) struct ArrayEst {
    bytes: u64,
}

impl ArrayEst {
    pub(crate) fn element(&mut self, p: &Profile, value: &[u8]) {
        let len = value.len() as u64;
        self.bytes += SLOT + if len <= SMALL_INLINE { 0 } else { p.sds(len) };
    }

    pub(crate) fn finish(&self, p: &Profile, facts: KeyFacts) -> ValueSize {
        ValueSize { encoding: Encoding::Array, bytes: p.robj(facts) + ARRAY_HEADER + self.bytes }
    }
}

/// A GCRA value: the object and its 8-byte arrival time.
pub(crate) fn gcra(p: &Profile, facts: KeyFacts) -> ValueSize {
    ValueSize { encoding: Encoding::Gcra, bytes: p.robj(facts) + 8 }
}
