//! The memory estimator over arbitrary bytes: whatever the reader lets through, the
//! estimates must come out without panicking (no overflow, no division by zero), for
//! every allocator, and a key's estimate is never zero.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdb_parser::memory::{Allocator, MemoryOptions, MemoryVisitor};
use rdb_parser::{Limits, RdbReader, ReaderOptions, Step};

const OPTIONS: ReaderOptions = ReaderOptions {
    buffer_bytes: 4096,
    limits: Limits { max_blob_bytes: 1 << 20, max_template_bytes: 1 << 20 },
    raw_values: false,
    relaxed: false,
    defer_checks: false,
};

fuzz_target!(|data: &[u8]| {
    for allocator in [Allocator::Jemalloc, Allocator::Jemalloc16, Allocator::Libc] {
        let mut reader = RdbReader::with_options(data, OPTIONS);
        let mut v = MemoryVisitor::new(MemoryOptions { allocator, server_version: None });
        loop {
            match reader.next_record(&mut v) {
                Ok(Step::End) | Err(_) => break,
                Ok(_) => {
                    if let Some(k) = v.take() {
                        assert!(k.size_in_bytes > 0, "a key takes memory");
                        std::hint::black_box(&k);
                    }
                }
            }
        }
    }
});
