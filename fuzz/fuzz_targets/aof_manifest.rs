//! The manifest parser over arbitrary bytes: it must return; whatever it accepts must
//! be written back in the servers' format and parse again to the same manifest, unless
//! escaping made a line longer than the 1024 bytes servers read (their own writer does
//! the same; the parser then refuses the line as too long).
#![no_main]

use aof_tools::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Manifest::parse(data) {
        Ok(m) => {
            let text = m.to_bytes();
            if m.base.is_none() && m.history.is_empty() && m.incr.is_empty() {
                return;
            }
            if text.split(|&b| b == b'\n').any(|l| l.len() + 1 > aof_tools::manifest::MAX_LINE) {
                let e = Manifest::parse(&text).expect_err("a line over the limit is refused");
                assert!(e.message.contains("too long"), "{e}");
                return;
            }
            let again = Manifest::parse(&text).unwrap_or_else(|e| panic!("rewritten manifest refused: {e}: {text:?}"));
            assert_eq!(again, m, "round trip changed the manifest: {text:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
