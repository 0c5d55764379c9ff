//! LZF: the first two bytes (little-endian) are the expected output length, the rest
//! is the compressed data. Decompression never panics, a success yields exactly the
//! expected length and the same bytes as the `lzf-rust` decoder, and the checker agrees
//! with the decoder. The same bytes compressed with the encoder decode back to them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(packed) = rdb_parser::fuzzing::lzf_round_trip(data) {
        let mut reference = vec![0u8; data.len()];
        assert_eq!(lzf_rust::decompress(&packed, &mut reference).ok(), Some(data.len()));
        assert_eq!(reference, data);
    }
    if data.len() < 2 {
        return;
    }
    let ulen = u16::from_le_bytes([data[0], data[1]]);
    let ours = rdb_parser::fuzzing::lzf(&data[2..], ulen);
    let mut reference = vec![0u8; usize::from(ulen)];
    let theirs = match lzf_rust::decompress(&data[2..], &mut reference) {
        Ok(n) if n == usize::from(ulen) => Some(reference),
        _ => None,
    };
    assert_eq!(ours, theirs, "differs from lzf-rust");
});
