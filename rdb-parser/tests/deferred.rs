//! Deferred checks (`ReaderOptions::defer_checks`) must not change what a read reports:
//! on every fixture dump, intact, cut short and with damaged bytes, a read that checks
//! compact values on a second thread fails with the same error (message, offset, key)
//! as an ordinary read, and counts the same keys and empty collections.

mod common;

use rdb_parser::fuzzing::skip_read_verdict;

fn same(bytes: &[u8], what: &str) {
    let plain = skip_read_verdict(bytes, false);
    let deferred = skip_read_verdict(bytes, true);
    assert_eq!(plain, deferred, "{what}");
}

#[test]
fn deferred_checks_report_what_an_ordinary_read_reports() {
    let files = common::fixture_dumps();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for f in &files {
        let name = f.display();
        let data = std::fs::read(f).expect("read dump");
        same(&data, &format!("{name}: intact"));
        assert!(skip_read_verdict(&data, true).is_ok(), "{name} reads");
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
