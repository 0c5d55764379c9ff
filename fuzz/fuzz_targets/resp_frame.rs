//! RESP reply frames: any bytes either parse into a frame no longer than the input,
//! re-parse identically from a longer buffer, or are reported incomplete/invalid, never
//! a panic; every proper prefix of a parsed frame is incomplete. Also feeds the bytes to
//! the server URL parser: what a URL shows is built without its password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use resp::{Frame, ParseError};

fuzz_target!(|data: &[u8]| {
    match Frame::parse(data) {
        Ok((frame, n)) => {
            assert!(n > 0 && n <= data.len());
            let mut longer = data[..n].to_vec();
            longer.extend_from_slice(b"+tail\r\n");
            assert_eq!(Frame::parse(&longer), Ok((frame, n)));
            for cut in [0, n / 2, n - 1] {
                assert_eq!(Frame::parse(&data[..cut]), Err(ParseError::Incomplete), "prefix {cut} of {n}");
            }
        }
        Err(ParseError::Invalid { offset, .. }) => assert!(offset <= data.len()),
        Err(ParseError::Incomplete) => {}
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(url) = resp::ServerUrl::parse(text) {
            // What is shown is made of everything but the password.
            let scheme = if url.tls { "rediss" } else { "redis" };
            let user = url.user.as_deref().map(|u| format!("{u}@")).unwrap_or_default();
            let db = url.db.map(|d| format!("/{d}")).unwrap_or_default();
            assert_eq!(url.to_string(), format!("{scheme}://{user}{}{db}", url.address()));
            assert!(!format!("{url:?}").contains("password:"));
        }
    }
});
