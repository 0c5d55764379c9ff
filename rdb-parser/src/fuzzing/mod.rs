//! Entry points for fuzz targets: each internal decoder over arbitrary bytes.
//!
//! Not part of the stable API. Every function must return (never panic, never hang)
//! whatever the input.

use crate::decode::intset::Intset;
use crate::decode::listpack::Listpack;
use crate::decode::ziplist::Ziplist;
use crate::decode::zipmap;

mod trace;

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

/// Asks for every value's stored bytes, as `convert --to rdb` does, and keeps them.
#[derive(Default)]
struct Copy {
    counts: Counts,
    bytes: Vec<u8>,
}

impl crate::Visitor for Copy {
    fn key_start(&mut self, _: &crate::KeyStart<'_>) -> Result<crate::Visit, crate::VisitError> {
        Ok(crate::Visit::Raw)
    }
    fn raw_value(&mut self, _: crate::RdbType, bytes: &[u8]) -> crate::VisitResult {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }
    /// A copier must know at the key's end (`deferred_empty` is left out).
    fn key_end(&mut self, end: &crate::KeyEnd) -> crate::VisitResult {
        self.counts.keys += 1;
        self.counts.empty += u64::from(end.empty);
        Ok(())
    }
}

/// Reads `data` with a 4 KiB buffer (values cross refills) and small limits.
fn read_with<V: crate::Visitor>(data: &[u8], v: &mut V, defer_checks: bool, raw_values: bool) -> Result<(), String> {
    let options = crate::ReaderOptions {
        buffer_bytes: 4096,
        limits: crate::Limits { max_blob_bytes: 1 << 20, max_template_bytes: 1 << 20 },
        defer_checks,
        raw_values,
        ..Default::default()
    };
    crate::RdbReader::with_options(data, options)
        .read_all(v)
        .map_err(|e| format!("at {}: {e} (key {:?})", e.offset(), e.key()))
}

/// What a `verify`-style read of `data` (every value skipped) reports: the counts, or
/// the error with its offset and key. With `defer_checks` the compact values are
/// checked on a second thread; the verdict must not depend on it.
pub fn skip_read_verdict(data: &[u8], defer_checks: bool) -> Result<Counts, String> {
    let mut count = Count(Counts::default());
    read_with(data, &mut count, defer_checks, false)?;
    Ok(count.0)
}

/// What a `convert --to rdb`-style read of `data` (every value's stored bytes asked
/// for) reports: the counts and the bytes, or the error. With `defer_checks` the
/// copied compact values are checked on a second thread; the verdict must not depend
/// on it.
pub fn copy_read_verdict(data: &[u8], defer_checks: bool) -> Result<(Counts, Vec<u8>), String> {
    let mut copy = Copy::default();
    read_with(data, &mut copy, defer_checks, true)?;
    Ok((copy.counts, copy.bytes))
}

/// `data` written for `target` (a [`crate::Target`] name) as `convert --to rdb --target`
/// writes for another version: stored values copied or rewritten node by node where
/// they can be, what the target cannot hold left out. The output, or the error.
pub fn rewrite_verdict(data: &[u8], target: &str, defer_checks: bool) -> Result<Vec<u8>, String> {
    let target = crate::Target::named(target).ok_or_else(|| format!("unknown target {target}"))?;
    let mut options = crate::WriterOptions::new(target);
    options.copy_stored_values = true;
    options.lossy = true;
    let mut w = crate::RdbWriter::new(Vec::new(), options).map_err(|e| e.to_string())?;
    read_with(data, &mut w, defer_checks, true)?;
    w.finish().map(|s| s.out).map_err(|e| e.to_string())
}

/// Keys of a trace the fanned-out reads leave out: those whose name's hash is odd
/// (both reads are shown the same choice).
struct SomeKeys;

impl crate::KeyPredicate for SomeKeys {
    fn matches(&self, k: &crate::KeyStart<'_>) -> bool {
        k.key.iter().fold(0u8, |h, b| h.wrapping_mul(31).wrapping_add(*b)) % 2 == 0
    }
}

/// Everything a read of `data` shows a visitor (the records other than keys, then the
/// keys, each callback a line), or the error with its offset and key. `fanned` visits
/// the values on worker threads ([`crate::RdbReader::read_fanned`]); `all_keys` off
/// leaves out some keys (they are still checked). The verdict must not depend on
/// `fanned`.
pub fn fanned_read_verdict(data: &[u8], fanned: bool, all_keys: bool) -> Result<(Vec<String>, Vec<String>), String> {
    let options = crate::ReaderOptions {
        buffer_bytes: 4096,
        limits: crate::Limits { max_blob_bytes: 1 << 20, max_template_bytes: 1 << 20 },
        ..Default::default()
    };
    let mut reader = crate::RdbReader::with_options(data, options);
    let everything = crate::KeyFilter::default();
    let filter: &dyn crate::KeyPredicate = if all_keys { &everything } else { &SomeKeys };
    let shown = |e: crate::Error| format!("at {}: {e} (key {:?})", e.offset(), e.key());
    if !fanned {
        // An ordinary read: the key lines split off the others.
        let mut v = crate::Filtered::new(trace::Trace::default(), filter);
        reader.read_all(&mut v).map_err(shown)?;
        let (keys, others) = split_keys(v.inner.lines);
        return Ok((others, keys));
    }
    let mut main = trace::Trace::default();
    // The keys visited in their turn write their lines as they go, where the outputs
    // go: the lines come out in order only if the outputs before them were out.
    let keys = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let fork = |_: &mut trace::Trace, forked| trace::Trace {
        direct: (forked == crate::Forked::InTurn).then(|| keys.clone()),
        ..Default::default()
    };
    let sink = |lines: Vec<String>| -> std::result::Result<(), crate::VisitError> {
        keys.lock().map_err(|_| "the line log is poisoned")?.extend(lines);
        Ok(())
    };
    let finish = |w: &mut trace::Trace, out: &mut Vec<String>| out.append(&mut w.lines);
    reader.read_fanned(&mut main, filter, fork, finish, sink).map_err(shown)?;
    let keys = std::mem::take(&mut *keys.lock().map_err(|_| "the line log is poisoned".to_string())?);
    Ok((main.lines, keys))
}

/// Splits the lines of keys (from `key` to `end`) from the others.
fn split_keys(lines: Vec<String>) -> (Vec<String>, Vec<String>) {
    let (mut keys, mut others) = (Vec::new(), Vec::new());
    let mut in_key = false;
    for line in lines {
        in_key |= line.starts_with("key ");
        let ends = line.starts_with("end ");
        if in_key {
            keys.push(line)
        } else {
            others.push(line)
        }
        in_key &= !ends;
    }
    (keys, others)
}
