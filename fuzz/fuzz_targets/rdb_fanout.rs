//! Values visited on worker threads against an ordinary read: on any input, a read
//! that hands values to other threads (`RdbReader::read_fanned`, as `memory` reads)
//! must show its visitors the same callbacks in the same order as an ordinary read,
//! or fail with the same error at the same offset for the same key, with every key
//! wanted and with some left out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdb_parser::fuzzing::fanned_read_verdict;

fuzz_target!(|data: &[u8]| {
    for all_keys in [true, false] {
        assert_eq!(
            fanned_read_verdict(data, false, all_keys),
            fanned_read_verdict(data, true, all_keys),
            "fanning out changed the verdict"
        );
    }
});
