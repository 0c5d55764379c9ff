//! JSON encoding of Redis data: byte strings, scores and IDs.
//!
//! Byte strings that are valid UTF-8 become JSON strings; anything else becomes
//! `{"base64":"..."}`. Scores print the way Python's `repr` does (shortest round-trip
//! digits, `3.0` for integral values, exponents outside 1e-4..1e16), with `"inf"` and
//! `"-inf"` as strings, so output matches the fixtures' `expected.ndjson` byte for byte.

use base64::Engine;

/// Appends `bytes` as a JSON string or a base64 object.
pub fn bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    if plain(bytes) {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => string(out, s),
        Err(_) => {
            out.extend_from_slice(b"{\"base64\":\"");
            base64(out, bytes);
            out.extend_from_slice(b"\"}");
        }
    }
}

/// Whether `bytes` are printable ASCII with nothing to escape, so that their JSON string
/// is them between quotes (most keys and values are).
pub fn plain(bytes: &[u8]) -> bool {
    // No early exit, so the compiler checks many bytes per step.
    !bytes.iter().fold(false, |special, &b| special | !(0x20..0x80).contains(&b) | (b == b'"') | (b == b'\\'))
}

/// Appends `bytes` in standard base64 (padded).
pub fn base64(out: &mut Vec<u8>, bytes: &[u8]) {
    let at = out.len();
    out.resize(at + bytes.len().div_ceil(3) * 4, 0);
    // The room is exactly the encoded length, so encoding cannot fail.
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut out[at..]);
}

/// Appends a JSON string literal.
pub fn string(out: &mut Vec<u8>, s: &str) {
    // Serializing a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Appends what goes between the quotes of the JSON string literal of `s`.
pub fn string_content(out: &mut Vec<u8>, s: &str) {
    let at = out.len();
    string(out, s);
    // Drop the quotes: the closing one, then the opening one.
    out.pop();
    out.remove(at);
}

/// Appends a stream ID as a JSON string, `"ms-seq"`.
pub fn stream_id(out: &mut Vec<u8>, id: rdb_parser::StreamId) {
    out.push(b'"');
    int(out, id.ms);
    out.push(b'-');
    int(out, id.seq);
    out.push(b'"');
}

/// Appends an integer.
pub fn int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends an optional integer (`null` when absent).
pub fn opt_int(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(v) => int(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends a score as a JSON number, or `"inf"` / `"-inf"` (`"nan"` for module floats).
pub fn score(out: &mut Vec<u8>, v: f64) {
    if v == f64::INFINITY {
        out.extend_from_slice(b"\"inf\"");
    } else if v == f64::NEG_INFINITY {
        out.extend_from_slice(b"\"-inf\"");
    } else if v.is_nan() {
        out.extend_from_slice(b"\"nan\"");
    } else {
        // In Python's fixed-notation range ryu prints what `repr` prints (when it uses no
        // exponent), without the digit juggling of `python_repr`.
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(v);
        if (1e-4..1e16).contains(&v.abs()) && !text.contains('e') {
            out.extend_from_slice(text.as_bytes());
        } else {
            out.extend_from_slice(python_repr(v).as_bytes());
        }
    }
}

/// Formats a finite double like Python's `repr(float)`: the shortest digits that read
/// back to the same double (ryu's, which break ties to even as Python does), in fixed
/// notation for exponents -4 to 15, else as `d.ddde+XX`.
pub fn python_repr(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let mut buf = ryu::Buffer::new();
    let text = buf.format_finite(v);
    let (sign, text) = text.strip_prefix('-').map_or(("", text), |t| ("-", t));
    let (mantissa, exp) = text.split_once('e').unwrap_or((text, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // All digits, and the decimal exponent of the first significant one.
    let int_len = mantissa.find('.').unwrap_or(mantissa.len()) as i32;
    let all: String = mantissa.chars().filter(|c| *c != '.').collect();
    let significant = all.trim_start_matches('0');
    let exp = exp + int_len - 1 - (all.len() - significant.len()) as i32;
    let digits = match significant.trim_end_matches('0') {
        "" => "0",
        d => d,
    };
    if (-4..16).contains(&exp) {
        let (int_part, frac_part) = if exp >= 0 {
            let split = exp as usize + 1;
            if digits.len() > split {
                (digits[..split].to_string(), digits[split..].to_string())
            } else {
                (format!("{digits}{}", "0".repeat(split - digits.len())), "0".to_string())
            }
        } else {
            ("0".to_string(), format!("{}{digits}", "0".repeat((-exp - 1) as usize)))
        };
        format!("{sign}{int_part}.{frac_part}")
    } else {
        let m = if digits.len() > 1 { format!("{}.{}", &digits[..1], &digits[1..]) } else { digits.to_string() };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        let cases = [
            (3.0, "3.0"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (5e-324, "5e-324"),
            (1e-300, "1e-300"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e16, "1e+16"),
            (9007199254740992.0, "9007199254740992.0"),
            (123456789012.0, "123456789012.0"),
            (f64::MAX, "1.7976931348623157e+308"),
            (-f64::MAX, "-1.7976931348623157e+308"),
            (1.5e16, "1.5e+16"),
            (-0.0, "-0.0"),
            // The double is 88783124901023.125 exactly: of the two shortest candidates
            // Python picks the even one.
            (88783124901023.12, "88783124901023.12"),
            (0.001, "0.001"),
            (123.456, "123.456"),
            (1e22, "1e+22"),
            (1.5e-7, "1.5e-07"),
            (std::f64::consts::E, "2.718281828459045"),
        ];
        for (v, want) in cases {
            assert_eq!(python_repr(v), want, "{v}");
        }
    }

    #[test]
    fn the_fast_score_path_prints_what_repr_prints() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = match i % 4 {
                0 => f64::from_bits(x),
                1 => (x % 2_000_000) as f64 / 1000.0 - 1000.0,
                2 => (x >> 11) as f64 * 10f64.powi((i % 40) as i32 - 20),
                _ => (x % 100_000) as f64,
            };
            if !v.is_finite() {
                continue;
            }
            let mut out = Vec::new();
            score(&mut out, v);
            assert_eq!(String::from_utf8_lossy(&out), python_repr(v), "{v:e}");
        }
    }

    #[test]
    fn bytes_are_strings_or_base64() {
        let mut out = Vec::new();
        bytes(&mut out, b"a\"\x00");
        out.push(b' ');
        bytes(&mut out, b"\x80\x81");
        out.push(b' ');
        bytes(&mut out, "plain é \\ \x7f".as_bytes());
        assert_eq!(String::from_utf8_lossy(&out), "\"a\\\"\\u0000\" {\"base64\":\"gIE=\"} \"plain é \\\\ \u{7f}\"");
    }
}
