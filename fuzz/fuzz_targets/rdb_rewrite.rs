//! Writing for another version (`convert --to rdb --target`): on any input, lists
//! re-encoded node by node and streams with copied nodes must not panic, and a write
//! whose checks ran on a second thread must succeed exactly when one checked as read
//! does, with a file of the same size (only the ctime AUX field may differ).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdb_parser::fuzzing::rewrite_verdict;

fuzz_target!(|data: &[u8]| {
    for target in ["redis-6.2", "redis-7.0", "redis-7.2"] {
        let read = rewrite_verdict(data, target, false).map(|f| f.len());
        let deferred = rewrite_verdict(data, target, true).map(|f| f.len());
        assert_eq!(read.ok(), deferred.ok(), "deferred checks changed the file for {target}");
    }
});
