//! LZF decompression: the first two bytes (little-endian) are the expected output
//! length, the rest is the compressed data. Never panics; a success yields exactly the
//! expected length.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let ulen = u16::from_le_bytes([data[0], data[1]]);
    if let Some(out) = rdb_parser::fuzzing::lzf(&data[2..], ulen) {
        assert_eq!(out.len(), usize::from(ulen));
    }
});
