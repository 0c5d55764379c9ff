//! Bit commands on strings: BITFIELD (SET, INCRBY, OVERFLOW), BITOP, and the
//! HyperLogLog commands.

use super::args::{at_least, int, is};
use super::strings::as_str;
use super::{Ctx, Fail, Outcome};
use crate::dataset::Value;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

fn get_bits(s: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v = 0u64;
    for i in 0..u64::from(bits) {
        let pos = offset + i;
        let byte = (pos >> 3) as usize;
        let bit = s.get(byte).map_or(0, |b| (b >> (7 - (pos & 7))) & 1);
        v = (v << 1) | u64::from(bit);
    }
    v
}

fn set_bits(s: &mut Vec<u8>, offset: u64, bits: u32, value: u64) {
    let need = ((offset + u64::from(bits) + 7) >> 3) as usize;
    if s.len() < need {
        s.resize(need, 0);
    }
    for i in 0..u64::from(bits) {
        let bit = (value >> (u64::from(bits) - 1 - i)) & 1;
        let pos = offset + i;
        let byte = (pos >> 3) as usize;
        let mask = 1u8 << (7 - (pos & 7));
        if bit == 1 {
            s[byte] |= mask;
        } else {
            s[byte] &= !mask;
        }
    }
}

/// `checkSignedBitfieldOverflow` / the unsigned variant: the stored result, or `None`
/// when FAIL refuses it.
fn apply(value: i128, signed: bool, bits: u32, ov: Overflow) -> Option<u64> {
    let (min, max) =
        if signed { (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1) } else { (0, (1i128 << bits) - 1) };
    if (min..=max).contains(&value) {
        return Some(value as u64 & mask(bits));
    }
    match ov {
        Overflow::Fail => None,
        Overflow::Sat => Some((if value > max { max } else { min }) as u64 & mask(bits)),
        Overflow::Wrap => Some(value as u64 & mask(bits)),
    }
}

fn mask(bits: u32) -> u64 {
    if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

fn to_signed(v: u64, bits: u32) -> i128 {
    if bits < 64 && v & (1 << (bits - 1)) != 0 {
        i128::from(v) - (1i128 << bits)
    } else if bits == 64 {
        i128::from(v as i64)
    } else {
        i128::from(v)
    }
}

/// `i8`, `u16`...: signedness and width.
fn field_type(a: &[u8]) -> Result<(bool, u32), Fail> {
    let bad = || {
        Fail::Reply(
            "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.".into(),
        )
    };
    let signed = match a.first() {
        Some(b'i' | b'I') => true,
        Some(b'u' | b'U') => false,
        _ => return Err(bad()),
    };
    let bits: u32 = std::str::from_utf8(&a[1..]).ok().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    if bits < 1 || (signed && bits > 64) || (!signed && bits > 63) {
        return Err(bad());
    }
    Ok((signed, bits))
}

fn field_offset(a: &[u8], bits: u32) -> Result<u64, Fail> {
    let bad = || Fail::Reply("ERR bit offset is not an integer or out of range".into());
    let (mul, digits) = match a.strip_prefix(b"#") {
        Some(d) => (u64::from(bits), d),
        None => (1, a),
    };
    let n = int(digits).map_err(|_| bad())?;
    let off = u64::try_from(n).map_err(|_| bad())?.checked_mul(mul).ok_or_else(bad)?;
    if off + u64::from(bits) > (512u64 << 20) * 8 {
        return Err(bad());
    }
    Ok(off)
}

pub fn bitfield(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 2)?;
    enum Op {
        Set(bool, u32, u64, i64),
        Incr(bool, u32, u64, i64),
        Overflow(Overflow),
    }
    let mut ops = Vec::new();
    let mut i = 2;
    while i < argv.len() {
        let a = argv[i];
        let arg = |k: usize| argv.get(i + k).copied().ok_or_else(Fail::syntax);
        if is(a, "GET") {
            field_offset(arg(2)?, field_type(arg(1)?)?.1)?;
            i += 3;
        } else if is(a, "SET") || is(a, "INCRBY") {
            let (signed, bits) = field_type(arg(1)?)?;
            let off = field_offset(arg(2)?, bits)?;
            let v = int(arg(3)?)?;
            ops.push(if is(a, "SET") { Op::Set(signed, bits, off, v) } else { Op::Incr(signed, bits, off, v) });
            i += 4;
        } else if is(a, "OVERFLOW") {
            let o = arg(1)?;
            ops.push(Op::Overflow(if is(o, "WRAP") {
                Overflow::Wrap
            } else if is(o, "SAT") {
                Overflow::Sat
            } else if is(o, "FAIL") {
                Overflow::Fail
            } else {
                return Err(Fail::Reply("ERR Invalid OVERFLOW type specified".into()));
            }));
            i += 2;
        } else {
            return Err(Fail::syntax());
        }
    }
    if !ops.iter().any(|o| matches!(o, Op::Set(..) | Op::Incr(..))) {
        return Ok(());
    }
    let s = cx.value_or(argv[1], || Value::Str(Vec::new()), as_str)?;
    let mut ov = Overflow::Wrap;
    for op in ops {
        match op {
            Op::Overflow(o) => ov = o,
            Op::Set(signed, bits, off, v) => {
                let value = if signed { i128::from(v) } else { i128::from(v as u64) };
                if let Some(stored) = apply(value, signed, bits, ov) {
                    set_bits(s, off, bits, stored);
                }
            }
            Op::Incr(signed, bits, off, by) => {
                let old = get_bits(s, off, bits);
                let old = if signed { to_signed(old, bits) } else { i128::from(old) };
                if let Some(stored) = apply(old + i128::from(by), signed, bits, ov) {
                    set_bits(s, off, bits, stored);
                }
            }
        }
    }
    Ok(())
}

/// The BITOP operations: AND, OR, XOR, NOT, and Redis 8.2's DIFF (X and none of the
/// others), DIFF1 (not X but some other), ANDOR (X and some other), ONE (exactly one).
#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    And,
    Or,
    Xor,
    Not,
    Diff,
    Diff1,
    AndOr,
    One,
}

impl BitOp {
    fn parse(op: &[u8]) -> Option<BitOp> {
        let ops = [
            ("AND", BitOp::And),
            ("OR", BitOp::Or),
            ("XOR", BitOp::Xor),
            ("NOT", BitOp::Not),
            ("DIFF", BitOp::Diff),
            ("DIFF1", BitOp::Diff1),
            ("ANDOR", BitOp::AndOr),
            ("ONE", BitOp::One),
        ];
        ops.iter().find(|(n, _)| is(op, n)).map(|&(_, o)| o)
    }

    /// One output byte from the sources' bytes at the same offset.
    fn byte(self, b: &[u8]) -> u8 {
        let (first, rest) = (b[0], &b[1..]);
        let any_rest = rest.iter().fold(0, |a, &x| a | x);
        match self {
            BitOp::Not => !first,
            BitOp::And => rest.iter().fold(first, |a, &x| a & x),
            BitOp::Or => first | any_rest,
            BitOp::Xor => rest.iter().fold(first, |a, &x| a ^ x),
            BitOp::Diff => first & !any_rest,
            BitOp::Diff1 => !first & any_rest,
            BitOp::AndOr => first & any_rest,
            BitOp::One => {
                let (mut once, mut twice) = (0u8, 0u8);
                for &x in b {
                    twice |= once & x;
                    once ^= x;
                }
                once & !twice
            }
        }
    }
}

pub fn bitop(cx: &mut Ctx, argv: &[&[u8]]) -> Outcome {
    at_least(argv, 4)?;
    let Some(op) = BitOp::parse(argv[1]) else { return Err(Fail::syntax()) };
    if op == BitOp::Not && argv.len() != 4 {
        return Err(Fail::Reply("ERR BITOP NOT must be called with a single source key.".into()));
    }
    if matches!(op, BitOp::Diff | BitOp::Diff1 | BitOp::AndOr) && argv.len() < 5 {
        return Err(Fail::Reply("ERR BITOP DIFF/DIFF1/ANDOR must be called with at least two source keys.".into()));
    }
    let mut sources = Vec::new();
    for k in &argv[3..] {
        match cx.slot(k) {
            None => sources.push(Vec::new()),
            Some(slot) => match &slot.value {
                Value::Str(s) => sources.push(s.clone()),
                _ => return Err(Fail::wrong_type()),
            },
        }
    }
    let len = sources.iter().map(Vec::len).max().unwrap_or(0);
    let mut column = vec![0u8; sources.len()];
    let out: Vec<u8> = (0..len)
        .map(|i| {
            for (c, s) in column.iter_mut().zip(&sources) {
                *c = s.get(i).copied().unwrap_or(0);
            }
            op.byte(&column)
        })
        .collect();
    if out.is_empty() {
        cx.remove(argv[2]);
    } else {
        cx.put(argv[2], Value::Str(out), None);
    }
    Ok(())
}

pub fn hll(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Outcome {
    super::hll::command(cx, name, argv)
}
