//! The zipmap decoder over arbitrary bytes: returns Some(count) or None, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(n) = rdb_parser::fuzzing::zipmap(data) {
        // Every element takes at least one byte.
        assert!(n <= data.len(), "{n} elements from {} bytes", data.len());
    }
});
