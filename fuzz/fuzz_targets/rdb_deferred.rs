//! Deferred checks against an ordinary read: on any input, a read that checks compact
//! values on a second thread (`ReaderOptions::defer_checks`, as `verify` and `info` read,
//! and `convert --to rdb` when it copies stored values) must report exactly what an
//! ordinary read reports: the same error at the same offset for the same key, or the
//! same counts of keys and empty collections (and the same copied bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdb_parser::fuzzing::{copy_read_verdict, skip_read_verdict};

fuzz_target!(|data: &[u8]| {
    assert_eq!(skip_read_verdict(data, false), skip_read_verdict(data, true), "deferred checks changed the verdict");
    assert_eq!(copy_read_verdict(data, false), copy_read_verdict(data, true), "deferred checks changed the copy");
});
