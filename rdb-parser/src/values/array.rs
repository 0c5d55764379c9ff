//! Sparse arrays (Redis 28, RDB 14+): populated indices with their values.

use std::io::Read;

use crate::context::{Buf, Ctx, Gate};
use crate::error::{Error, Result};
use crate::visitor::{KeyStart, Visitor};

/// Element tags: how a value is stored.
const TAG_SDS: u64 = 0;
const TAG_INT: u64 = 1;
const TAG_FLOAT: u64 = 2;
const TAG_SMALLSTR: u64 = 3;
/// Longest small string on 64-bit builds (`AR_SMALLSTR_MAXLEN`).
const SMALLSTR_MAX: usize = 7;

pub(crate) fn read<R: Read, V: Visitor>(cx: &mut Ctx<R>, head: &KeyStart<'_>, g: &mut Gate<'_, V>) -> Result<()> {
    let at = cx.src.offset();
    let count = cx.count()?;
    if count == 0 {
        return Err(Error::corrupt(at, "empty array (count 0)"));
    }
    let at = cx.src.offset();
    let insert_idx = match cx.src.length()? {
        0 => None,
        1 => match cx.src.length()? {
            u64::MAX => return Err(Error::corrupt(at, "array insert index 2^64-1 is reserved")),
            v => Some(v),
        },
        f => return Err(Error::corrupt(at, format!("array insert-index flag {f}, expected 0 or 1"))),
    };
    g.begin(head, Some(count))?;
    if let Some(v) = g.visitor() {
        let r = v.array_insert_idx(insert_idx);
        g.wrap(r)?;
    }
    let mut prev: Option<u64> = None;
    let mut text = itoa::Buffer::new();
    for _ in 0..count {
        let at = cx.src.offset();
        let index = cx.src.length()?;
        match prev {
            _ if index == u64::MAX => return Err(Error::corrupt(at, "array index 2^64-1 is reserved")),
            Some(p) if p == index => return Err(Error::corrupt(at, format!("duplicate array index {index}"))),
            Some(p) if p > index => {
                return Err(Error::corrupt(at, format!("array index {index} after {p}: indices must ascend")))
            }
            _ => prev = Some(index),
        }
        let tag_at = cx.src.offset();
        match cx.src.length()? {
            TAG_SDS => {
                cx.string(Buf::B, "an array value")?;
            }
            TAG_INT => {
                let v = cx.src.i64_le("an array integer")?;
                cx.b.clear();
                cx.b.extend_from_slice(text.format(v).as_bytes());
            }
            TAG_FLOAT => {
                let v = cx.src.f64_le("an array double")?;
                cx.b.clear();
                cx.b.extend_from_slice(double_text(v).as_bytes());
            }
            TAG_SMALLSTR => {
                let value_at = cx.src.offset();
                cx.string(Buf::B, "an array small string")?;
                if cx.b.len() > SMALLSTR_MAX {
                    let n = cx.b.len();
                    return Err(Error::corrupt(value_at, format!("array small string of {n} bytes (at most 7)")));
                }
            }
            t => return Err(Error::corrupt(tag_at, format!("array element tag {t}, expected 0 to 3"))),
        }
        g.array_element(index, &cx.b)?;
    }
    Ok(())
}

/// A double as text: integral values without a fraction, others with the shortest
/// digits that read back exactly, exponents (`1.5e+20`) outside 1e-5 … 1e17.
/// (How Redis renders array doubles was not checked against a server.)
pub(crate) fn double_text(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let magnitude = v.abs();
    if v.fract() == 0.0 && magnitude < 1e17 {
        return format!("{}", v as i64);
    }
    if (1e-5..1e17).contains(&magnitude) {
        return format!("{v}");
    }
    let sci = format!("{v:e}");
    match sci.split_once('e') {
        Some((m, e)) if !e.starts_with('-') => format!("{m}e+{e}"),
        _ => sci,
    }
}

#[cfg(test)]
mod tests {
    use super::double_text;

    #[test]
    fn doubles_read_back() {
        assert_eq!(double_text(1.5), "1.5");
        assert_eq!(double_text(3.0), "3");
        assert_eq!(double_text(1.5e20), "1.5e+20");
        assert_eq!(double_text(2.5e-7), "2.5e-7");
        for v in [0.1, 1.0 / 3.0, 1e300, -4.25e-300, 123456.789] {
            assert_eq!(double_text(v).parse::<f64>().ok(), Some(v));
        }
    }
}
