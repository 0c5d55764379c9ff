//! The settings of [`crate::RdbReader`].

use crate::prim::Limits;
use crate::source::DEFAULT_BUFFER_BYTES;
#[cfg(doc)]
use crate::visitor::{KeyEnd, KeyStart, Visitor};
#[cfg(doc)]
use crate::RdbReader;

/// Reader settings.
#[derive(Debug, Clone, Copy)]
pub struct ReaderOptions {
    /// Size of the read buffer in bytes.
    pub buffer_bytes: usize,
    /// Memory limits.
    pub limits: Limits,
    /// Hand each value's bytes, as stored, to [`Visitor::raw_value`] (costs a copy of
    /// each value).
    pub raw_values: bool,
    /// Read files of a newer version than known, as far as known types and opcodes go:
    /// the first unknown one ends the read ([`RdbReader::stopped`] says where), as if
    /// the file ended there (without the EOF opcode, so [`Visitor::end`] is not called).
    pub relaxed: bool,
    /// Check values the visitor skips ([`crate::Visit::Skip`]: listpacks, ziplists,
    /// intsets, zipmaps, quicklists, LZF strings, plain sets, hashes and sorted sets
    /// with binary scores) or only copies ([`crate::Visit::Raw`], with `raw_values`) on
    /// a second thread. Errors stay the same (the first damage in the file). For those
    /// keys [`KeyStart::len`] is `None` (an LZF string's is its stated uncompressed
    /// length) and [`KeyEnd::elements`] is 0; skipped ones have
    /// [`KeyEnd::empty`] false and are counted in [`Visitor::deferred_empty`] before
    /// [`Visitor::end`] when empty, copied ones say whether they are empty.
    pub defer_checks: bool,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            limits: Limits::default(),
            raw_values: false,
            relaxed: false,
            defer_checks: false,
        }
    }
}
