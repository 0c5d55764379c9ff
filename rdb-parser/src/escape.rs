//! Printable renderings of arbitrary bytes for messages.

use std::fmt::Write;

/// Renders `bytes` as a double-quoted string, escaping non-printable bytes as `\xNN`,
/// and cutting it to about `max` characters with a trailing `...`.
pub fn escape_bytes(bytes: &[u8], max: usize) -> String {
    let mut out = String::with_capacity(bytes.len().min(max) + 2);
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        if out.len() > max {
            break;
        }
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    if out.len() > max {
        let mut cut = max;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_control_and_invalid_bytes() {
        assert_eq!(escape_bytes(b"a\"b\x00\xff", 80), r#""a\"b\u{0}\xff""#);
    }

    #[test]
    fn cuts_long_keys() {
        let s = escape_bytes(&[b'x'; 200], 10);
        assert!(s.ends_with("...\""), "{s}");
        assert!(s.len() < 20);
    }
}
