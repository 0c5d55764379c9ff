//! Entry points for fuzz targets: each internal decoder over arbitrary bytes.
//!
//! Not part of the stable API. Every function must return (never panic, never hang)
//! whatever the input.

use crate::decode::intset::Intset;
use crate::decode::listpack::Listpack;
use crate::decode::ziplist::Ziplist;
use crate::decode::zipmap;

/// Walks a listpack; returns the element count, or `None` when invalid.
pub fn listpack(blob: &[u8]) -> Option<usize> {
    Listpack::new(blob).ok()?.try_fold(0, |n, e| e.ok().map(|_| n + 1))
}

/// Walks a ziplist; returns the entry count, or `None` when invalid.
pub fn ziplist(blob: &[u8]) -> Option<usize> {
    Ziplist::new(blob).ok()?.try_fold(0, |n, e| e.ok().map(|_| n + 1))
}

/// Checks an intset; returns the member count, or `None` when invalid.
pub fn intset(blob: &[u8]) -> Option<usize> {
    Intset::new(blob).ok().map(|s| s.iter().count())
}

/// Decodes a zipmap; returns the pair count, or `None` when invalid.
pub fn zipmap(blob: &[u8]) -> Option<usize> {
    zipmap::pairs(blob).ok().map(|p| p.len())
}

/// Decompresses LZF data to `ulen` bytes; `None` when invalid. The checker (which does
/// not decode) must reach the same verdict.
pub fn lzf(input: &[u8], ulen: u16) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let decoded = crate::prim::lzf_decompress(input, u64::from(ulen), &mut out);
    assert_eq!(decoded.is_ok(), crate::prim::lzf_check(input, u64::from(ulen)).is_ok(), "checker disagrees");
    decoded.ok()?;
    Some(out)
}

/// Compresses `input` (when LZF makes it smaller) and decompresses it again; returns
/// the compressed form, which must decode back to `input`.
pub fn lzf_round_trip(input: &[u8]) -> Option<Vec<u8>> {
    let mut packed = Vec::new();
    crate::lzf::Encoder::default().compress(input, &mut packed, input.len())?;
    let mut back = Vec::new();
    let decoded = crate::lzf::decompress(&packed, input.len(), &mut back);
    assert!(decoded.is_ok() && back == input, "LZF round trip failed: {decoded:?}");
    Some(packed)
}

/// Keys and empty collections a read counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Keys read.
    pub keys: u64,
    /// Empty collections among them.
    pub empty: u64,
}

/// Skips every value, as `verify` does, and counts.
struct Count(Counts);

impl crate::Visitor for Count {
    fn key_start(&mut self, _: &crate::KeyStart<'_>) -> Result<crate::Visit, crate::VisitError> {
        Ok(crate::Visit::Skip)
    }
    fn key_end(&mut self, end: &crate::KeyEnd) -> crate::VisitResult {
        self.0.keys += 1;
        self.0.empty += u64::from(end.empty);
        Ok(())
    }
    fn deferred_empty(&mut self, _: u64, keys: u64) -> crate::VisitResult {
        self.0.empty += keys;
        Ok(())
    }
}

/// What a `verify`-style read of `data` (every value skipped, 4 KiB buffer so values
/// cross refills) reports: the counts, or the error with its offset and key. With
/// `defer_checks` the compact values are checked on a second thread; the verdict must
/// not depend on it.
pub fn skip_read_verdict(data: &[u8], defer_checks: bool) -> Result<Counts, String> {
    let options = crate::ReaderOptions {
        buffer_bytes: 4096,
        limits: crate::Limits { max_blob_bytes: 1 << 20, max_template_bytes: 1 << 20 },
        defer_checks,
        ..Default::default()
    };
    let mut count = Count(Counts::default());
    crate::RdbReader::with_options(data, options)
        .read_all(&mut count)
        .map_err(|e| format!("at {}: {e} (key {:?})", e.offset(), e.key()))?;
    Ok(count.0)
}
