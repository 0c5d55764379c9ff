//! The buffer size must not change what is read: every fixture dump gives the same
//! entries through a 16-byte, a 4 KiB and a 1 MiB read buffer.

mod common;

use std::path::Path;

use rdb_parser::{Entries, Entry, RdbReader, ReaderOptions};

fn read(path: &Path, buffer_bytes: usize) -> Vec<Entry> {
    let file = std::fs::File::open(path).expect("open dump");
    let options = ReaderOptions { buffer_bytes, ..Default::default() };
    Entries::new(RdbReader::with_options(file, options))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_buffer_size_reads_the_same_entries() {
    let files = common::fixture_dumps();
    for f in &files {
        let reference = read(f, 1 << 20);
        assert!(!reference.is_empty(), "{}", f.display());
        for size in [16, 4096] {
            assert!(read(f, size) == reference, "{}: buffer of {size} bytes reads differently", f.display());
        }
    }
}
