//! The buffer size must not change what is read: every fixture dump gives the same
//! entries through a 16-byte, a 4 KiB and a 1 MiB read buffer.

use std::path::{Path, PathBuf};

use rdb_parser::{Entries, Entry, RdbReader, ReaderOptions};

fn dumps(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read fixtures").flatten() {
        let p = e.path();
        if p.is_dir() {
            dumps(&p, out);
        } else if p.extension().is_some_and(|x| x == "rdb") {
            out.push(p);
        }
    }
}

fn read(path: &Path, buffer_bytes: usize) -> Vec<Entry> {
    let file = std::fs::File::open(path).expect("open dump");
    let options = ReaderOptions { buffer_bytes, ..Default::default() };
    Entries::new(RdbReader::with_options(file, options))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_buffer_size_reads_the_same_entries() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files = Vec::new();
    dumps(&root, &mut files);
    assert!(files.len() >= 20, "fixture dumps under {}", root.display());
    for f in &files {
        let reference = read(f, 1 << 20);
        assert!(!reference.is_empty(), "{}", f.display());
        for size in [16, 4096] {
            assert!(read(f, size) == reference, "{}: buffer of {size} bytes reads differently", f.display());
        }
    }
}
