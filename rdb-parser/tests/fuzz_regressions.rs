//! Inputs found by fuzzing (fuzz/) and by the corruption tests that once misbehaved.
//!
//! Each test feeds one reproducer to the reader and asserts a clean `Err`: no panic,
//! no hang, no allocation out of proportion to the input, and an offset inside the
//! input. Test names start with the fuzz target that exercises the code path.

use std::sync::Mutex;

use hex_literal::hex;
use rdb_parser::{Entries, NullVisitor, RdbReader};

/// The memory tests below measure the process's peak RSS, so they must not overlap.
static MEMORY: Mutex<()> = Mutex::new(());

/// Peak resident set size of this process in KiB (Linux), after resetting the peak
/// when the kernel allows it.
#[cfg(target_os = "linux")]
fn reset_and_read_peak_kib() -> Option<u64> {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    peak_kib()
}

#[cfg(target_os = "linux")]
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Reads `input` with the default options (1 GiB blob limit, as the CLI uses),
/// expects an error inside the input, and checks that the peak memory grew by less
/// than `max_growth_mib`.
fn assert_err_small_peak(input: &[u8], max_growth_mib: u64) -> rdb_parser::Error {
    let _guard = MEMORY.lock().unwrap_or_else(|p| p.into_inner());
    #[cfg(target_os = "linux")]
    let before = reset_and_read_peak_kib();
    let err = RdbReader::new(input).read_all(&mut NullVisitor).expect_err("the input is invalid");
    #[cfg(target_os = "linux")]
    if let (Some(before), Some(after)) = (before, peak_kib()) {
        let grown_mib = after.saturating_sub(before) / 1024;
        assert!(
            grown_mib < max_growth_mib,
            "reading {} bytes raised the peak RSS by {grown_mib} MiB (error: {err})",
            input.len()
        );
    }
    assert!(err.offset() <= input.len() as u64, "offset {} past the input: {err}", err.offset());
    // The owned-entry iterator takes the same path.
    let errors: Vec<_> = Entries::new(RdbReader::new(input)).filter_map(Result::err).collect();
    assert_eq!(errors.len(), 1, "one error from Entries");
    err
}

/// An LZF-compressed string value: 4 compressed bytes (`clen` = 4) that claim to
/// expand to 256 MiB (`ulen` = 0x1000_0000, under the 1 GiB default limit). The output
/// buffer is sized (and zero-filled) to `ulen` before decompressing, so a 23-byte file
/// makes the reader allocate and touch 256 MiB; with `ulen` near 1 GiB it takes about
/// 1 GB and seconds. LZF can expand at most 88 times (a 3-byte back reference yields
/// at most 264 bytes), so any `ulen > 88 * clen` can be refused up front.
#[test]
fn rdb_reader_lzf_string_ulen_far_beyond_clen_allocates_ulen() {
    let input = hex!(
        "52 45 44 49 53 30 30 31 31" // REDIS0011
        "00 01 6b"                   // string type, key "k"
        "c3 04 80 10 00 00 00"       // LZF: clen 4, ulen 0x10000000
        "00 61 62 63"                // 1 literal byte, then garbage
    );
    let err = assert_err_small_peak(&input, 64);
    assert_eq!(err.offset(), 12, "the offset of the string header: {err}");
}

/// The same for a compact blob (a hash listpack, type 16) stored LZF-compressed.
#[test]
fn rdb_reader_lzf_listpack_blob_ulen_far_beyond_clen_allocates_ulen() {
    let input = hex!(
        "52 45 44 49 53 30 30 31 31" // REDIS0011
        "10 01 6b"                   // hash listpack, key "k"
        "c3 04 80 10 00 00 00"       // LZF: clen 4, ulen 0x10000000
        "00 61 62 63"
    );
    let err = assert_err_small_peak(&input, 64);
    assert_eq!(err.offset(), 12, "the offset of the blob header: {err}");
}

/// A file cut inside a key name: the error must not name the partial key.
#[test]
fn rdb_reader_truncated_key_name_is_not_reported_as_a_key() {
    let input = hex!(
        "52 45 44 49 53 30 30 31 31" // REDIS0011
        "00 80 3b 9a ca 00"          // string type, key of 1e9 bytes
        "61 62 63"                   // only 3 of them
    );
    let err = RdbReader::new(&input[..]).read_all(&mut NullVisitor).expect_err("truncated");
    assert_eq!(err.key(), None, "{err}");
    assert!(err.to_string().contains("a key name"), "{err}");
}

/// A damaged version digit that lowers an RDB 9 file to RDB 1 (no checksum) is caught
/// by the first opcode newer than the claimed version.
#[test]
fn rdb_reader_version_digit_flipped_below_5() {
    let input = hex!(
        "52 45 44 49 53 30 30 30 31" // REDIS0001 (was REDIS0009)
        "fe 00"                      // SELECTDB 0
        "f9 05"                      // FREQ (RDB 9+)
        "00 01 6b 01 76"             // "k" = "v"
        "ff"
    );
    let err = RdbReader::new(&input[..]).read_all(&mut NullVisitor).expect_err("FREQ in RDB 1");
    assert_eq!(err.offset(), 11, "{err}");
    assert!(err.to_string().contains("since RDB 9"), "{err}");
}
