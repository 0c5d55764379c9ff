//! Primitive encoders: lengths, strings (integer, LZF or raw), canonical integers.

/// Appends a length in its shortest form.
pub(crate) fn put_len(out: &mut Vec<u8>, n: u64) {
    if n < 64 {
        out.push(n as u8);
    } else if n < 16384 {
        out.push(0x40 | (n >> 8) as u8);
        out.push(n as u8);
    } else if n <= u64::from(u32::MAX) {
        out.push(0x80);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// The value of `s` when it is the canonical decimal text of a 64-bit integer (no sign
/// but `-`, no leading zeros, not `-0`), as the servers decide when to store integers.
pub(crate) fn canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if digits[0] == b'0' && (digits.len() > 1 || neg) {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    text.parse::<i64>().ok()
}

/// Strings longer than this are tried with LZF (the servers' rule).
const LZF_MIN_LEN: usize = 20;

/// Appends an RDB string the way servers save one: a small canonical integer as an
/// integer, a string over 20 bytes LZF-compressed when that saves at least 4 bytes,
/// else raw.
pub(crate) fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = canonical_int(s) {
            if let Ok(v) = i8::try_from(v) {
                out.push(0xc0);
                out.push(v as u8);
                return;
            }
            if let Ok(v) = i16::try_from(v) {
                out.push(0xc1);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
            if let Ok(v) = i32::try_from(v) {
                out.push(0xc2);
                out.extend_from_slice(&v.to_le_bytes());
                return;
            }
        }
    }
    if s.len() > LZF_MIN_LEN && put_lzf(out, s) {
        return;
    }
    put_raw_string(out, s);
}

/// Appends a string without trying integer or LZF forms.
pub(crate) fn put_raw_string(out: &mut Vec<u8>, s: &[u8]) {
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

thread_local! {
    /// One encoder per thread: its hash table is reused, never reallocated per string.
    static LZF: std::cell::RefCell<(crate::lzf::Encoder, Vec<u8>)> = std::cell::RefCell::default();
}

/// Appends `s` LZF-compressed if the result is at most `len - 4` bytes.
fn put_lzf(out: &mut Vec<u8>, s: &[u8]) -> bool {
    LZF.with_borrow_mut(|(encoder, packed)| {
        packed.clear();
        match encoder.compress(s, packed, s.len() - 4) {
            Some(n) if n > 0 => {
                out.push(0xc3);
                put_len(out, n as u64);
                put_len(out, s.len() as u64);
                out.extend_from_slice(packed);
                true
            }
            _ => false,
        }
    })
}

/// Appends a score as text (type 3 sorted sets, RDB < 8): NaN is never written.
pub(crate) fn put_text_double(out: &mut Vec<u8>, v: f64) {
    if v == f64::INFINITY {
        out.push(254);
    } else if v == f64::NEG_INFINITY {
        out.push(255);
    } else {
        // Shortest text that reads back to the same double.
        let text = format!("{v:e}");
        out.push(text.len() as u8);
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prim::Limits;
    use crate::source::Source;

    #[test]
    fn canonical_integers() {
        for ok in ["0", "-1", "123", "9223372036854775807", "-9223372036854775808"] {
            assert!(canonical_int(ok.as_bytes()).is_some(), "{ok}");
        }
        for no in ["", "-", "-0", "007", "+5", " 1", "1 ", "9223372036854775808", "1.0", "0x1"] {
            assert!(canonical_int(no.as_bytes()).is_none(), "{no}");
        }
    }

    fn read_back(bytes: &[u8]) -> Vec<u8> {
        let mut src = Source::new(bytes, 64);
        let mut out = Vec::new();
        src.string_into(&mut out, &mut Vec::new(), &Limits::default(), "t").expect("valid string");
        out
    }

    #[test]
    fn strings_round_trip_in_every_form() {
        let long = "abc".repeat(40);
        for s in ["", "-5", "300", "70000", "2147483648", "007", "plain", long.as_str()] {
            let mut out = Vec::new();
            put_string(&mut out, s.as_bytes());
            assert_eq!(read_back(&out), s.as_bytes(), "{s}");
        }
        let mut out = Vec::new();
        put_string(&mut out, long.as_bytes());
        assert_eq!(out[0], 0xc3, "compressible text is compressed");
        out.clear();
        put_string(&mut out, b"-5");
        assert_eq!(out, [0xc0, 0xfb]);
    }

    #[test]
    fn text_doubles_round_trip() {
        for v in [0.0, -2.5, 1e-300, 5e-324, f64::MAX, f64::INFINITY, f64::NEG_INFINITY, 0.1] {
            let mut out = Vec::new();
            put_text_double(&mut out, v);
            let mut src = Source::new(&out[..], 64);
            assert_eq!(src.text_double().expect("valid").to_bits(), v.to_bits(), "{v}");
        }
    }
}
