//! Deferred checks (`ReaderOptions::defer_checks`) must not change what a read reports:
//! on every fixture dump, intact, cut short and with damaged bytes, a read that checks
//! compact values on a second thread fails with the same error (message, offset, key)
//! as an ordinary read, and counts the same keys and empty collections.

use std::path::{Path, PathBuf};

use rdb_parser::{KeyEnd, KeyStart, RdbReader, ReaderOptions, Visit, VisitError, VisitResult, Visitor};

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

/// Skips every value, as `verify` does; counts keys and empty collections.
#[derive(Default, PartialEq, Debug)]
struct Count {
    keys: u64,
    empty: u64,
}

impl Visitor for Count {
    fn key_start(&mut self, _: &KeyStart<'_>) -> Result<Visit, VisitError> {
        Ok(Visit::Skip)
    }
    fn key_end(&mut self, end: &KeyEnd) -> VisitResult {
        self.keys += 1;
        self.empty += u64::from(end.empty);
        Ok(())
    }
    fn deferred_empty(&mut self, _: u64, keys: u64) -> VisitResult {
        self.empty += keys;
        Ok(())
    }
}

/// The outcome of reading `bytes`: counts, or the error as printed with its offset.
fn read(bytes: &[u8], defer_checks: bool) -> Result<Count, String> {
    // A small buffer exercises refills inside the values stepped over.
    let options = ReaderOptions { defer_checks, buffer_bytes: 4096, ..Default::default() };
    let mut count = Count::default();
    RdbReader::with_options(bytes, options)
        .read_all(&mut count)
        .map_err(|e| format!("at {}: {e} (key {:?})", e.offset(), e.key()))?;
    Ok(count)
}

fn same(bytes: &[u8], what: &str) {
    let plain = read(bytes, false);
    let deferred = read(bytes, true);
    assert_eq!(plain, deferred, "{what}");
}

#[test]
fn deferred_checks_report_what_an_ordinary_read_reports() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut files = Vec::new();
    dumps(&root, &mut files);
    assert!(files.len() >= 20, "fixture dumps under {}", root.display());
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for f in &files {
        let name = f.display();
        let data = std::fs::read(f).expect("read dump");
        same(&data, &format!("{name}: intact"));
        assert!(read(&data, true).is_ok(), "{name} reads");
        let step = (data.len() / 150).max(1);
        for cut in (9..data.len()).step_by(step) {
            same(&data[..cut], &format!("{name}: cut at {cut}"));
        }
        for _ in 0..300 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = 9 + (x as usize) % (data.len() - 9);
            let mut damaged = data.clone();
            damaged[at] = match x >> 60 {
                0..=5 => damaged[at] ^ 0xff,
                6..=10 => damaged[at].wrapping_add(1),
                _ => (x >> 32) as u8,
            };
            same(&damaged, &format!("{name}: byte {at} damaged"));
        }
    }
}
