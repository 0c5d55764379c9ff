//! How a sorted-set score is stored in a listpack or ziplist: as an integer entry or as
//! text, formatted the way each server version formats doubles.

use super::pack::Item;

/// The text `%.17g` produces for a finite, non-zero double (Redis up to 7.0).
pub(crate) fn g17(v: f64) -> String {
    let sci = format!("{v:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..17).contains(&exp) {
        let m = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.unsigned_abs());
    }
    let decimals = usize::try_from(16 - exp).unwrap_or(0);
    trim_fraction(&format!("{v:.decimals$}")).to_string()
}

fn trim_fraction(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// The text `fpconv_dtoa` produces (Redis 7.2 and later, Valkey): shortest round-trip
/// digits, plain up to 7 digits beyond the point, otherwise `d.ddde±X`.
pub(crate) fn shortest(v: f64) -> String {
    let sci = format!("{:e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let e: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len() as i64;
    let k = e - (n - 1);
    let sign = if v < 0.0 { "-" } else { "" };
    let abs_e = e.abs();
    if k >= 0 && abs_e < n + 7 {
        return format!("{sign}{digits}{}", "0".repeat(k as usize));
    }
    if k < 0 && (k > -7 || abs_e < 4) {
        let offset = n + k;
        return if offset <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-offset) as usize))
        } else {
            let (a, b) = digits.split_at(offset as usize);
            format!("{sign}{a}.{b}")
        };
    }
    let (first, rest) = digits.split_at(1);
    let dot = if rest.is_empty() { String::new() } else { format!(".{rest}") };
    let esign = if e < 0 { '-' } else { '+' };
    format!("{sign}{first}{dot}e{esign}{abs_e}")
}

/// Text for the cases every version spells out: NaN, infinities and zeros.
fn special(v: f64) -> Option<&'static str> {
    if v.is_nan() {
        Some("nan")
    } else if v == f64::INFINITY {
        Some("inf")
    } else if v == f64::NEG_INFINITY {
        Some("-inf")
    } else if v == 0.0 {
        Some(if v.is_sign_negative() { "-0" } else { "0" })
    } else {
        None
    }
}

/// A score as the encoder receives it: integer or text.
pub(crate) enum Score {
    /// Stored as an integer entry.
    Int(i64),
    /// Stored as text (which a ziplist may still turn into an integer).
    Text(String),
}

impl Score {
    /// The element to size.
    pub(crate) fn item(&self) -> Item<'_> {
        match self {
            Score::Int(v) => Item::Int(*v),
            Score::Text(s) => Item::Bytes(s.as_bytes()),
        }
    }
}

/// The integer a double converts to exactly, within ±(2^63 − 1)/2 (`double2ll`).
fn double2ll(v: f64) -> Option<i64> {
    let bound = (i64::MAX / 2) as f64;
    if !(-bound..=bound).contains(&v) {
        return None;
    }
    let ll = v as i64;
    (ll as f64 == v).then_some(ll)
}

/// How a score is written into a compact sorted set.
///
/// `listpack` (7.0+): integral values are integer entries, others `%.17g` text (7.0) or
/// the shortest form (`fpconv`, 7.2+). Otherwise (ziplists, 6.x): integral values under
/// 2^52 as decimal text, others `%.17g`.
pub(crate) fn encode(v: f64, listpack: bool, fpconv: bool) -> Score {
    if listpack {
        if let Some(ll) = double2ll(v) {
            return Score::Int(ll);
        }
        if let Some(s) = special(v) {
            return Score::Text(s.to_string());
        }
        return Score::Text(if fpconv { shortest(v) } else { g17(v) });
    }
    if let Some(s) = special(v) {
        return Score::Text(s.to_string());
    }
    let limit = 4_503_599_627_370_496.0; // 2^52
    if v > -limit + 1.0 && v < limit && v.fract() == 0.0 {
        return Score::Text((v as i64).to_string());
    }
    Score::Text(g17(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_g17() {
        assert_eq!(g17(1.5), "1.5");
        assert_eq!(g17(0.1), "0.10000000000000001");
        assert_eq!(g17(1e20), "1e+20");
        assert_eq!(g17(-2.5e-7), "-2.4999999999999999e-07");
        assert_eq!(g17(123456.789), "123456.789");
        assert_eq!(g17(f64::MAX), "1.7976931348623157e+308");
    }

    #[test]
    fn fpconv_shortest() {
        assert_eq!(shortest(1.5), "1.5");
        assert_eq!(shortest(0.1), "0.1");
        assert_eq!(shortest(123_456.789_012_345_67), "1.2345678901234567e+5");
        assert_eq!(shortest(2.5e-7), "2.5e-7");
        assert_eq!(shortest(-0.001), "-0.001");
        assert_eq!(shortest(1e20), "1e+20");
        assert_eq!(shortest(1.5e10), "1.5e+10");
        assert_eq!(shortest(1.5e5), "150000");
        assert_eq!(shortest(5e-324), "5e-324");
    }

    #[test]
    fn integral_scores_are_integers_in_listpacks() {
        assert!(matches!(encode(3.0, true, true), Score::Int(3)));
        assert!(matches!(encode(-0.0, true, false), Score::Int(0)));
        assert!(matches!(encode(3.0, false, false), Score::Text(ref s) if s == "3"));
        assert!(matches!(encode(f64::INFINITY, true, true), Score::Text(ref s) if s == "inf"));
    }
}
