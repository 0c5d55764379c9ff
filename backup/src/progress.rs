//! Counters a caller can poll to draw progress (the library draws nothing).

use std::sync::atomic::{AtomicU64, Ordering};

/// Bytes done and expected, updated by the running operation.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    /// Counts `n` more bytes done.
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// Adds `n` to the bytes expected.
    pub fn expect(&self, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
    }

    /// Bytes done.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Bytes expected (`None` while unknown).
    pub fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|&t| t > 0)
    }
}
