//! HyperLogLogs byte for byte as the servers build them (`hyperloglog.c`): the sparse
//! and dense representations, the sparse-to-dense promotion at `hll-sparse-max-bytes`
//! (3000, the default), MurmurHash64A, and the cached cardinality PFCOUNT stores (and
//! the AOF logs) with the same floating-point estimator.

use super::args::at_least;
use super::{Ctx, Fail, Outcome};
use crate::dataset::Value;

const P: u32 = 14;
const Q: u32 = 64 - P;
const REGISTERS: usize = 1 << P;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
const HDR: usize = 16;
const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const SPARSE_MAX_BYTES: usize = 3000;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        for (i, &b) in rest.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Register index and run length of an element.
fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

fn dense_get(r: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u16::from(r[byte]);
    let b1 = u16::from(r.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) as u8) & REGISTER_MAX
}

fn dense_set(r: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    r[byte] &= !(REGISTER_MAX << fb);
    r[byte] |= v << fb;
    if let Some(next) = r.get_mut(byte + 1) {
        *next &= !(REGISTER_MAX >> (8 - fb));
        *next |= v >> (8 - fb);
    }
}

/// Decodes sparse opcodes into per-register values; `None` when malformed.
fn sparse_registers(ops: &[u8]) -> Option<Vec<u8>> {
    let mut regs = vec![0u8; REGISTERS];
    let (mut i, mut idx) = (0, 0usize);
    while i < ops.len() {
        let op = ops[i];
        let (run, val, width) = match op & 0xc0 {
            0x00 => (usize::from(op & 0x3f) + 1, 0, 1),
            0x40 => ((usize::from(op & 0x3f) << 8 | usize::from(*ops.get(i + 1)?)) + 1, 0, 2),
            _ => (usize::from(op & 3) + 1, ((op >> 2) & 0x1f) + 1, 1),
        };
        if idx + run > REGISTERS {
            return None;
        }
        regs[idx..idx + run].fill(val);
        idx += run;
        i += width;
    }
    (idx == REGISTERS).then_some(regs)
}

fn new_hll() -> Vec<u8> {
    let mut s = b"HYLL".to_vec();
    s.extend_from_slice(&[SPARSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let mut left = REGISTERS;
    while left > 0 {
        let x = left.min(XZERO_MAX_LEN) - 1;
        s.extend_from_slice(&[((x >> 8) as u8) | 0x40, (x & 0xff) as u8]);
        left -= x + 1;
    }
    s
}

fn invalidate(s: &mut [u8]) {
    s[15] |= 0x80;
}

fn invalid() -> Fail {
    Fail::Reply("WRONGTYPE Key is not a valid HyperLogLog string value.".into())
}

fn check(s: &[u8]) -> Result<(), Fail> {
    if s.len() < HDR || &s[..4] != b"HYLL" || s[4] > SPARSE || (s[4] == DENSE && s.len() != DENSE_SIZE) {
        return Err(invalid());
    }
    Ok(())
}

fn to_dense(s: &mut Vec<u8>) -> Result<(), Fail> {
    if s[4] == DENSE {
        return Ok(());
    }
    let regs = sparse_registers(&s[HDR..]).ok_or_else(invalid)?;
    let mut d = vec![0u8; DENSE_SIZE];
    d[..4].copy_from_slice(b"HYLL");
    d[4] = DENSE;
    for (i, &v) in regs.iter().enumerate() {
        if v != 0 {
            dense_set(&mut d[HDR..], i, v);
        }
    }
    *s = d;
    Ok(())
}

fn set_zero_run(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        let l = len - 1;
        out.extend_from_slice(&[((l >> 8) as u8) | 0x40, (l & 0xff) as u8]);
    } else {
        out.push((len - 1) as u8);
    }
}

fn val_op(v: u8, len: usize) -> u8 {
    ((v - 1) << 2 | (len as u8 - 1)) | 0x80
}

/// `hllSparseSet`: 1 when a register grew, 0 when not.
fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8) -> Result<u8, Fail> {
    if count > VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    let end = s.len();
    let (mut p, mut first, mut prev, mut span) = (HDR, 0usize, None, 0usize);
    while p < end {
        let op = s[p];
        let (sp, width) = match op & 0xc0 {
            0x00 => (usize::from(op & 0x3f) + 1, 1),
            0x40 => ((usize::from(op & 0x3f) << 8 | usize::from(*s.get(p + 1).ok_or_else(invalid)?)) + 1, 2),
            _ => (usize::from(op & 3) + 1, 1),
        };
        span = sp;
        if index < first + span {
            break;
        }
        prev = Some(p);
        p += width;
        first += span;
    }
    if span == 0 || p >= end {
        return Err(invalid());
    }
    let op = s[p];
    let (is_xzero, is_val) = (op & 0xc0 == 0x40, op & 0x80 != 0);
    let runlen = span;
    if is_val {
        let old = ((op >> 2) & 0x1f) + 1;
        if old >= count {
            return Ok(0);
        }
    }
    if runlen == 1 && (is_val || op & 0xc0 == 0) {
        s[p] = val_op(count, 1);
    } else {
        let last = first + span - 1;
        let mut seq = Vec::with_capacity(5);
        if is_val {
            let cur = ((op >> 2) & 0x1f) + 1;
            if index != first {
                seq.push(val_op(cur, index - first));
            }
            seq.push(val_op(count, 1));
            if index != last {
                seq.push(val_op(cur, last - index));
            }
        } else {
            if index != first {
                set_zero_run(&mut seq, index - first);
            }
            seq.push(val_op(count, 1));
            if index != last {
                set_zero_run(&mut seq, last - index);
            }
        }
        let old_len = if is_xzero { 2 } else { 1 };
        if seq.len() > old_len && s.len() + seq.len() - old_len > SPARSE_MAX_BYTES {
            return promote(s, index, count);
        }
        s.splice(p..p + old_len, seq);
    }
    // Merge adjacent VAL opcodes of equal value, scanning up to five from `prev`.
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let op = s[p];
        if op & 0xc0 == 0x40 {
            p += 2;
            continue;
        }
        if op & 0xc0 == 0 {
            p += 1;
            continue;
        }
        if p + 1 < s.len() && s[p + 1] & 0x80 != 0 {
            let (v1, v2) = (((op >> 2) & 0x1f) + 1, ((s[p + 1] >> 2) & 0x1f) + 1);
            let len = usize::from(op & 3) + 1 + usize::from(s[p + 1] & 3) + 1;
            if v1 == v2 && len <= VAL_MAX_LEN {
                s[p + 1] = val_op(v1, len);
                s.remove(p);
                continue;
            }
        }
        p += 1;
    }
    invalidate(s);
    Ok(1)
}

fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<u8, Fail> {
    to_dense(s)?;
    Ok(dense_add(s, index, count))
}

fn dense_add(s: &mut [u8], index: usize, count: u8) -> u8 {
    let regs = &mut s[HDR..];
    if count > dense_get(regs, index) {
        dense_set(regs, index, count);
        1
    } else {
        0
    }
}

/// Per-register maximum over an HLL.
fn merge_into(max: &mut [u8], s: &[u8]) -> Result<(), Fail> {
    if s[4] == DENSE {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(&s[HDR..], i));
        }
    } else {
        let regs = sparse_registers(&s[HDR..]).ok_or_else(invalid)?;
        for (m, r) in max.iter_mut().zip(regs) {
            *m = (*m).max(r);
        }
    }
    Ok(())
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powf(2.0) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// `hllCount`.
fn count(regs: &[u8]) -> u64 {
    let m = REGISTERS as f64;
    let mut histo = [0u32; 64];
    for &r in regs {
        histo[usize::from(r)] += 1;
    }
    let mut z = m * tau((m - f64::from(histo[Q as usize + 1])) / m);
    for j in (1..=Q as usize).rev() {
        z += f64::from(histo[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histo[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn hll_of<'a>(cx: &'a mut Ctx, key: &[u8]) -> Result<Option<&'a mut Vec<u8>>, Fail> {
    match cx.slot(key).map(|s| &mut s.value) {
        None => Ok(None),
        Some(Value::Str(s)) => {
            check(s)?;
            Ok(Some(s))
        }
        Some(_) => Err(Fail::wrong_type()),
    }
}

/// PFADD, PFMERGE, PFCOUNT (which stores the cardinality it computes).
pub fn command(cx: &mut Ctx, name: &[u8], argv: &[&[u8]]) -> Outcome {
    at_least(argv, 2)?;
    match name {
        b"PFADD" => {
            let created = hll_of(cx, argv[1])?.is_none();
            if created {
                cx.put(argv[1], Value::Str(new_hll()), None);
            }
            let Some(s) = hll_of(cx, argv[1])? else { return Ok(()) };
            let mut updated = created;
            for e in &argv[2..] {
                let (index, c) = pat_len(e);
                let r = if s[4] == DENSE { dense_add(s, index, c) } else { sparse_set(s, index, c)? };
                updated |= r == 1;
            }
            if updated {
                invalidate(s);
            }
            Ok(())
        }
        b"PFCOUNT" => {
            if argv.len() > 2 {
                return Ok(());
            }
            let Some(s) = hll_of(cx, argv[1])? else { return Ok(()) };
            if s[15] & 0x80 == 0 {
                return Ok(());
            }
            let regs = if s[4] == DENSE {
                (0..REGISTERS).map(|i| dense_get(&s[HDR..], i)).collect()
            } else {
                sparse_registers(&s[HDR..]).ok_or_else(invalid)?
            };
            s[8..16].copy_from_slice(&count(&regs).to_le_bytes());
            Ok(())
        }
        b"PFMERGE" => {
            let mut max = vec![0u8; REGISTERS];
            let mut use_dense = false;
            for k in &argv[1..] {
                if let Some(s) = hll_of(cx, k)? {
                    use_dense |= s[4] == DENSE;
                    merge_into(&mut max, s)?;
                }
            }
            if hll_of(cx, argv[1])?.is_none() {
                cx.put(argv[1], Value::Str(new_hll()), None);
            }
            let Some(s) = hll_of(cx, argv[1])? else { return Ok(()) };
            if use_dense {
                to_dense(s)?;
                for (i, &v) in max.iter().enumerate() {
                    dense_set(&mut s[HDR..], i, v);
                }
            } else {
                for (i, &v) in max.iter().enumerate() {
                    if v == 0 {
                        continue;
                    }
                    if s[4] == DENSE {
                        dense_add(s, i, v);
                    } else {
                        sparse_set(s, i, v)?;
                    }
                }
            }
            invalidate(s);
            Ok(())
        }
        _ => Err(Fail::Unsupported(format!("{} is not replayed", String::from_utf8_lossy(name)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_hll_is_the_servers_sparse_form() {
        let s = new_hll();
        assert_eq!(s.len(), 16 + 2);
        assert_eq!(&s[16..], &[0x7f, 0xff]);
        assert_eq!(count(&sparse_registers(&s[HDR..]).expect("valid")), 0);
    }
}
