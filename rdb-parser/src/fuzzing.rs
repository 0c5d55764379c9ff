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
