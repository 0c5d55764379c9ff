//! Deferred checks against an ordinary read: on any input, a read that checks compact
//! values on a second thread (`ReaderOptions::defer_checks`, as `verify` and `info` read)
//! must report exactly what an ordinary read reports: the same error at the same offset
//! for the same key, or the same counts of keys and empty collections.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdb_parser::{KeyEnd, KeyStart, Limits, RdbReader, ReaderOptions, Visit, VisitError, VisitResult, Visitor};

/// Skips every value, as `verify` does; counts keys and empty collections.
#[derive(Default, PartialEq, Debug)]
struct Count {
    keys: u64,
    empty: u64,
}

impl Visitor for Count {
    fn key_start(&mut self, _: &KeyStart<'_>) -> Result<Visit, VisitError> {
        Ok(Visit::Skip)
    }
    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        self.keys += 1;
        self.empty += u64::from(end.empty);
        Ok(())
    }
    fn deferred_empty(&mut self, _: u64, keys: u64) -> VisitResult {
        self.empty += keys;
        Ok(())
    }
}

fn read(data: &[u8], defer_checks: bool) -> Result<Count, String> {
    let options = ReaderOptions {
        buffer_bytes: 4096,
        limits: Limits { max_blob_bytes: 1 << 20, max_template_bytes: 1 << 20 },
        raw_values: false,
        relaxed: false,
        defer_checks,
    };
    let mut count = Count::default();
    RdbReader::with_options(data, options)
        .read_all(&mut count)
        .map_err(|e| format!("at {}: {e} (key {:?})", e.offset(), e.key()))?;
    Ok(count)
}

fuzz_target!(|data: &[u8]| {
    assert_eq!(read(data, false), read(data, true), "deferred checks changed the verdict");
});
