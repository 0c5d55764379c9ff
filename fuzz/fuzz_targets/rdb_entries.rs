//! The owned-entry iterator over arbitrary bytes: must end (after at most one error)
//! without panicking; error offsets must lie inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdb_parser::{Entries, Limits, RdbReader, ReaderOptions};

const OPTIONS: ReaderOptions = ReaderOptions {
    buffer_bytes: 4096,
    limits: Limits { max_blob_bytes: 1 << 20, max_template_bytes: 1 << 20 },
    raw_values: false,
    relaxed: false,
    defer_checks: false,
};

fuzz_target!(|data: &[u8]| {
    let mut entries = Entries::new(RdbReader::with_options(data, OPTIONS));
    let mut total = 0usize;
    for item in entries.by_ref() {
        match item {
            Ok(entry) => {
                total = total.wrapping_add(entry.key.len()).wrapping_add(entry.value.len());
                let _ = entry.value.kind();
                let _ = entry.value.is_empty();
            }
            Err(err) => {
                assert!(
                    err.offset() <= data.len() as u64,
                    "error offset {} beyond input length {}: {err}",
                    err.offset(),
                    data.len()
                );
                let _ = err.to_string();
            }
        }
    }
    // Once exhausted (by the end or by an error), the iterator stays exhausted.
    assert!(entries.next().is_none(), "iterator yielded after its end");
    std::hint::black_box(total);
});
