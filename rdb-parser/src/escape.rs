//! Printable renderings of arbitrary bytes for messages.

use std::fmt::Write;

/// True for characters that must not reach a terminal or a page as they are: controls
/// (escape sequences, newlines), and invisible or direction-changing formatting
/// characters (U+202E RIGHT-TO-LEFT OVERRIDE makes `exe.txt` read `txt.exe`).
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}' | '\u{180e}'
            | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{205f}'..='\u{206f}' | '\u{3164}'
            | '\u{feff}' | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}'
            | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

/// `text` with every [`is_hidden_char`] written as `\u{..}`.
pub fn escape_hidden(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_hidden_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Renders `bytes` as a double-quoted string, escaping non-printable bytes as `\xNN`
/// and hidden characters ([`is_hidden_char`]) as `\u{..}`, and cutting it to about
/// `max` characters with a trailing `...`.
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
                c if is_hidden_char(c) => {
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
    fn direction_overrides_and_invisible_characters_are_shown() {
        assert_eq!(escape_bytes("exe.\u{202e}txt".as_bytes(), 80), r#""exe.\u{202e}txt""#);
        assert_eq!(escape_hidden("a\u{2066}b\u{200b}c\u{feff}\u{1b}[1m"), r"a\u{2066}b\u{200b}c\u{feff}\u{1b}[1m");
        assert_eq!(escape_hidden("café ünïcode 键"), "café ünïcode 键");
    }

    #[test]
    fn cuts_long_keys() {
        let s = escape_bytes(&[b'x'; 200], 10);
        assert!(s.ends_with("...\""), "{s}");
        assert!(s.len() < 20);
    }
}
