//! LZF, the compression of RDB strings: a decoder, a checker and an encoder, all safe
//! code, written for the sizes RDB files hold (most blobs are 20 bytes to 8 KiB).
//!
//! The format is a series of runs. A control byte below 32 starts a literal run of
//! `ctrl + 1` bytes. Otherwise the top three bits are a match length (7 means "add the
//! next byte"), the low five bits and the next byte a distance: copy `len + 2` bytes
//! from `distance + 1` bytes back in the output (the copy may overlap what it writes).
//!
//! Why not the `lzf-rust` crate: its decoder copies every run with a `memcpy` call (a
//! call per 1–32 bytes is most of its time), and its encoder zeroes a 256 KiB table on
//! every call, which made `convert --to rdb` spend over half its time in `memset`.
//! Here literals and matches are copied in fixed-size blocks into an output with some
//! slack (the compiler turns those into a few register moves), and the encoder's table
//! is kept between calls and invalidated by moving a base position instead of zeroing.

/// Longest literal run.
const MAX_LITERAL: usize = 32;
/// Longest match (`7 + 255 + 2`).
const MAX_MATCH: usize = 264;
/// Farthest back a match may reach.
const MAX_DISTANCE: usize = 1 << 13;
/// Bytes the decoder may write past the end while copying in blocks.
const SLACK: usize = MAX_LITERAL;

/// Decompresses `input` into `out` (replacing its contents), which must come out exactly
/// `ulen` bytes long.
pub(crate) fn decompress(input: &[u8], ulen: usize, out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    out.resize(ulen + SLACK, 0);
    let n = decode(input, ulen, out)?;
    out.truncate(ulen);
    if n != ulen {
        return Err(format!("decompressed to {n} bytes, expected {ulen}"));
    }
    Ok(())
}

/// The decoder proper: `out` is `ulen + SLACK` bytes; returns the decoded length.
fn decode(input: &[u8], ulen: usize, out: &mut [u8]) -> Result<usize, String> {
    let (mut ip, mut op) = (0usize, 0usize);
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if ip + n > input.len() {
                return Err(format!("literal run past the end of the input at compressed byte {ip}"));
            }
            if op + n > ulen {
                return Err(format!("output longer than declared at compressed byte {ip}"));
            }
            if ip + MAX_LITERAL <= input.len() {
                // A fixed 32-byte copy (the slack absorbs what lies past `n`).
                out[op..op + MAX_LITERAL].copy_from_slice(&input[ip..ip + MAX_LITERAL]);
            } else {
                out[op..op + n].copy_from_slice(&input[ip..ip + n]);
            }
            ip += n;
            op += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let Some(&extra) = input.get(ip) else {
                    return Err(format!("truncated length at compressed byte {ip}"));
                };
                len += usize::from(extra);
                ip += 1;
            }
            let Some(&low) = input.get(ip) else {
                return Err(format!("truncated back-reference at compressed byte {ip}"));
            };
            ip += 1;
            let distance = (((ctrl & 0x1f) << 8) | usize::from(low)) + 1;
            if distance > op {
                return Err(format!("back-reference before the start of the output at compressed byte {ip}"));
            }
            let len = len + 2;
            if op + len > ulen {
                return Err(format!("output longer than declared at compressed byte {ip}"));
            }
            copy_match(out, op, distance, len);
            op += len;
        }
    }
    Ok(op)
}

/// Copies `len` bytes from `distance` back to `op`, byte by byte in effect (a short
/// distance repeats a pattern). Writes at most 7 bytes past `op + len`.
fn copy_match(out: &mut [u8], op: usize, distance: usize, len: usize) {
    let src = op - distance;
    if distance >= 8 {
        // Each 8-byte block reads only bytes written before it: blocks are exact.
        let mut k = 0;
        while k < len {
            out.copy_within(src + k..src + k + 8, op + k);
            k += 8;
        }
    } else if distance == 1 {
        let b = out[src];
        out[op..op + len].fill(b);
    } else {
        for k in 0..len {
            out[op + k] = out[src + k];
        }
    }
}

/// The first `N` bytes `input` decompresses to, decoding no further; `None` when it
/// does not produce that many bytes or is malformed before them.
pub(crate) fn head<const N: usize>(input: &[u8]) -> Option<[u8; N]> {
    let mut out = Vec::with_capacity(N + 2 * MAX_LITERAL);
    let mut ip = 0;
    while out.len() < N {
        let ctrl = usize::from(*input.get(ip)?);
        ip += 1;
        if ctrl < 32 {
            out.extend_from_slice(input.get(ip..ip + ctrl + 1)?);
            ip += ctrl + 1;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(ip)?);
                ip += 1;
            }
            let distance = (((ctrl & 0x1f) << 8) | usize::from(*input.get(ip)?)) + 1;
            ip += 1;
            let from = out.len().checked_sub(distance)?;
            for k in 0..(len + 2).min(N) {
                out.push(out[from + k]);
            }
        }
    }
    out.get(..N)?.try_into().ok()
}

/// Checks that `input` decompresses to exactly `ulen` bytes, without producing them
/// (every literal and back-reference must stay inside the output).
pub(crate) fn check(input: &[u8], ulen: u64) -> Result<(), String> {
    let (mut ip, mut op) = (0usize, 0u64);
    let bad = |what: &str, at: usize| Err(format!("{what} at compressed byte {at}"));
    while ip < input.len() {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if ip + n > input.len() {
                return bad("literal run past the end of the input", ip);
            }
            ip += n;
            op += n as u64;
        } else {
            let mut n = ctrl >> 5;
            if n == 7 {
                let Some(&extra) = input.get(ip) else { return bad("truncated length", ip) };
                n += usize::from(extra);
                ip += 1;
            }
            let Some(&low) = input.get(ip) else { return bad("truncated back-reference", ip) };
            ip += 1;
            let distance = (((ctrl & 0x1f) << 8) | usize::from(low)) as u64 + 1;
            if distance > op {
                return bad("back-reference before the start of the output", ip);
            }
            op += n as u64 + 2;
        }
        if op > ulen {
            return bad("output longer than declared", ip);
        }
    }
    if op != ulen {
        return Err(format!("decompressed to {op} bytes, expected {ulen}"));
    }
    Ok(())
}

/// log2 of the encoder's hash table size (the servers' `HLOG`).
const HASH_LOG: u32 = 16;

/// An LZF encoder that keeps its hash table between calls.
///
/// The table maps a hash of 3 bytes to the last position (plus one) where they were
/// seen, counted from a base that grows with every call: an entry below the current
/// base belongs to an earlier input and reads as empty, so the table never needs
/// zeroing (except when the base wraps, every 4 GiB of input).
pub(crate) struct Encoder {
    table: Box<[u32]>,
    base: u32,
}

impl Default for Encoder {
    fn default() -> Self {
        Encoder { table: vec![0u32; 1 << HASH_LOG].into_boxed_slice(), base: 0 }
    }
}

impl Encoder {
    /// Appends the compressed form of `input` to `out`, unless it would take more than
    /// `max_out` bytes; returns the compressed size, or `None` (with `out` unchanged).
    pub(crate) fn compress(&mut self, input: &[u8], out: &mut Vec<u8>, max_out: usize) -> Option<usize> {
        let start = out.len();
        let n = self.compress_inner(input, out, start + max_out);
        if n.is_none() {
            out.truncate(start);
        }
        n
    }

    fn compress_inner(&mut self, input: &[u8], out: &mut Vec<u8>, limit: usize) -> Option<usize> {
        let start = out.len();
        if input.is_empty() {
            return Some(0);
        }
        let len = u32::try_from(input.len()).ok().filter(|&l| l < u32::MAX / 4)?;
        if u32::MAX - self.base < len + 1 {
            self.table.fill(0);
            self.base = 0;
        }
        let base = self.base;
        // The next input starts past everything this one stores.
        self.base += len + 1;
        out.reserve(input.len() + input.len() / MAX_LITERAL + 1);
        let mut anchor = 0usize;
        let mut pos = 0usize;
        while pos + 2 < input.len() {
            let h = hash3(input, pos);
            let prev = self.table[h];
            self.table[h] = base + pos as u32 + 1;
            if prev > base {
                let candidate = (prev - base - 1) as usize;
                let distance = pos - candidate;
                if distance <= MAX_DISTANCE && input[candidate..candidate + 3] == input[pos..pos + 3] {
                    literals(out, &input[anchor..pos]);
                    let max = (input.len() - pos).min(MAX_MATCH);
                    let mut m = 3;
                    while m < max && input[candidate + m] == input[pos + m] {
                        m += 1;
                    }
                    reference(out, distance - 1, m);
                    if out.len() > limit {
                        return None;
                    }
                    // Index the positions inside the match, as liblzf does.
                    let end = pos + m;
                    for p in pos + 1..end.min(input.len() - 2) {
                        self.table[hash3(input, p)] = base + p as u32 + 1;
                    }
                    pos = end;
                    anchor = end;
                    continue;
                }
            }
            pos += 1;
        }
        literals(out, &input[anchor..]);
        (out.len() <= limit).then_some(out.len() - start)
    }
}

fn hash3(input: &[u8], at: usize) -> usize {
    let v = (u32::from(input[at]) << 16) | (u32::from(input[at + 1]) << 8) | u32::from(input[at + 2]);
    (v.wrapping_mul(0x1e35_a7bd) >> (32 - HASH_LOG)) as usize
}

/// Literal runs of at most 32 bytes.
fn literals(out: &mut Vec<u8>, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = bytes.len().min(MAX_LITERAL);
        out.push((n - 1) as u8);
        out.extend_from_slice(&bytes[..n]);
        bytes = &bytes[n..];
    }
}

/// A back-reference: `offset` is the distance minus one, `len` 3 to 264.
fn reference(out: &mut Vec<u8>, offset: usize, len: usize) {
    let l = len - 2;
    let hi = (offset >> 8) as u8;
    if l < 7 {
        out.push(((l as u8) << 5) | hi);
    } else {
        out.push((7 << 5) | hi);
        out.push((l - 7) as u8);
    }
    out.push(offset as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    fn samples() -> Vec<Vec<u8>> {
        let mut text = Vec::new();
        for i in 0..3000u32 {
            text.extend_from_slice(format!("the {} quick brown fox {} ", i % 17, i % 5).as_bytes());
        }
        let noise: Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        vec![
            Vec::new(),
            b"a".to_vec(),
            b"abcabcabcabcabcabcabcabc".to_vec(),
            vec![7u8; 1000],
            text,
            noise,
            b"ababababababababababababababab0123012301230123012301234567456745674567".to_vec(),
        ]
    }

    #[test]
    fn round_trips_and_agrees_with_the_reference_decoder() {
        let mut enc = Encoder::default();
        for s in samples() {
            let mut packed = Vec::new();
            let Some(n) = enc.compress(&s, &mut packed, s.len() + s.len() / 16 + 64) else {
                panic!("{} bytes did not fit", s.len());
            };
            assert_eq!(n, packed.len());
            let mut back = Vec::new();
            decompress(&packed, s.len(), &mut back).expect("decodes");
            assert_eq!(back, s);
            let mut reference = vec![0u8; s.len()];
            assert_eq!(lzf_rust::decompress(&packed, &mut reference).ok(), Some(s.len()));
            assert_eq!(reference, s);
            assert_eq!(check(&packed, s.len() as u64), Ok(()));
        }
    }

    #[test]
    fn head_is_the_start_of_the_output() {
        let mut enc = Encoder::default();
        for s in samples() {
            let mut packed = Vec::new();
            enc.compress(&s, &mut packed, s.len() + s.len() / 16 + 64);
            let want = |n: usize| s.get(..n).map(<[u8]>::to_vec);
            assert_eq!(head::<1>(&packed).map(|h| h.to_vec()), want(1));
            assert_eq!(head::<10>(&packed).map(|h| h.to_vec()), want(10));
            assert_eq!(head::<40>(&packed).map(|h| h.to_vec()), want(40));
        }
        // A back-reference before the start, a cut literal run.
        assert_eq!(head::<4>(&hex!("20 05")), None);
        assert_eq!(head::<4>(&hex!("05 61 62")), None);
    }

    #[test]
    fn a_reused_encoder_gives_what_a_fresh_one_gives() {
        let mut reused = Encoder::default();
        for s in samples().into_iter().chain(samples()) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            reused.compress(&s, &mut a, usize::MAX / 2);
            Encoder::default().compress(&s, &mut b, usize::MAX / 2);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn the_size_limit_leaves_the_output_unchanged() {
        let noise: Vec<u8> = (0..200u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let mut out = b"head".to_vec();
        assert_eq!(Encoder::default().compress(&noise, &mut out, noise.len() - 4), None);
        assert_eq!(out, b"head");
    }

    #[test]
    fn decoder_and_checker_agree_on_bad_input() {
        let cases: [(&[u8], usize); 8] = [
            (&hex!("00 61 e0 00 00"), 10),
            (&hex!("00 61 e0 00 00"), 11),
            (&hex!("00 61 e0 00 00"), 9),
            (&hex!("00 61 e0 00 01"), 10),
            (&hex!("00 61 e0 00"), 10),
            (&hex!("02 61 62 63 20 02"), 6),
            (&hex!("05 61 62"), 6),
            (&hex!(""), 0),
        ];
        for (input, ulen) in cases {
            let mut out = Vec::new();
            let decoded = decompress(input, ulen, &mut out);
            assert_eq!(check(input, ulen as u64).is_ok(), decoded.is_ok(), "{input:02x?} -> {ulen}");
            let mut reference = vec![0u8; ulen];
            let agrees = matches!(lzf_rust::decompress(input, &mut reference), Ok(n) if n == ulen);
            assert_eq!(decoded.is_ok(), agrees, "{input:02x?} -> {ulen}");
            if decoded.is_ok() {
                assert_eq!(out, reference);
            }
        }
    }
}
