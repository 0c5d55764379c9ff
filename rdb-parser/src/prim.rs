//! Primitive encodings: lengths, strings (raw, integer, LZF), doubles, times, stream IDs.

use std::io::Read;

use crate::error::{Error, ErrorKind, Result};
use crate::source::Source;
use crate::StreamId;

/// A length prefix or, where a string is expected, a special string encoding.
pub(crate) enum LenOrSpecial {
    Len(u64),
    Special(u8),
}

/// How a string was stored; tells where its bytes came from, for error offsets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StringOrigin {
    /// Offset of the string header.
    pub header: u64,
    /// Offset of the first data byte when stored raw, `None` when compressed or an integer.
    pub raw_data: Option<u64>,
}

impl StringOrigin {
    /// The file offset of byte `at` of the decoded string, or the header when compressed.
    pub(crate) fn offset_of(&self, at: usize) -> u64 {
        match self.raw_data {
            Some(d) => d + at as u64,
            None => self.header,
        }
    }

    /// A corruption error about the byte at `at` of this (decoded) blob.
    pub(crate) fn error(&self, at: usize, what: &str, msg: impl std::fmt::Display) -> Error {
        match self.raw_data {
            Some(_) => Error::corrupt(self.offset_of(at), format!("{what}: {msg}")),
            None => Error::corrupt(
                self.header,
                format!("{what} (LZF-compressed, at +{at} of the decompressed bytes): {msg}"),
            ),
        }
    }
}

/// Limits on what the reader holds in memory at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest string, blob or element the reader will hold whole (bytes).
    pub max_blob_bytes: u64,
    /// Most bytes of hash-template field names held at once (RDB 15): the templates of
    /// a file are kept until its end, plus the field names of one self-contained
    /// template hash. Each name counts its length plus 16 bytes of bookkeeping, each
    /// template 64 bytes more.
    pub max_template_bytes: u64,
}

/// Special string encoding: LZF-compressed.
pub(crate) const ENC_LZF: u8 = 3;
/// The first byte of an LZF-compressed string.
pub(crate) const LZF_STRING: u8 = 0xc0 | ENC_LZF;

/// The most LZF can expand: a 3-byte back-reference yields at most 264 bytes. A
/// declared length beyond this is refused before any buffer is sized for it.
const LZF_MAX_EXPANSION: u64 = 88;

/// Default for [`Limits::max_blob_bytes`]: 1 GiB, the listpack hard limit and twice
/// the server's default `proto-max-bulk-len`.
pub const DEFAULT_MAX_BLOB_BYTES: u64 = 1 << 30;

/// Default for [`Limits::max_template_bytes`]: 64 MiB.
pub const DEFAULT_MAX_TEMPLATE_BYTES: u64 = 64 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits { max_blob_bytes: DEFAULT_MAX_BLOB_BYTES, max_template_bytes: DEFAULT_MAX_TEMPLATE_BYTES }
    }
}

impl<R: Read> Source<R> {
    /// Reads a length prefix, or the special-encoding marker `11xxxxxx`.
    pub(crate) fn len_or_special(&mut self) -> Result<LenOrSpecial> {
        let at = self.offset();
        let b = self.u8("a length")?;
        Ok(match b >> 6 {
            0 => LenOrSpecial::Len(u64::from(b & 0x3f)),
            1 => LenOrSpecial::Len((u64::from(b & 0x3f) << 8) | u64::from(self.u8("a 14-bit length")?)),
            3 => LenOrSpecial::Special(b & 0x3f),
            _ => match b {
                0x80 => LenOrSpecial::Len(u64::from(u32::from_be_bytes(self.array("a 32-bit length")?))),
                0x81 => LenOrSpecial::Len(u64::from_be_bytes(self.array("a 64-bit length")?)),
                _ => return Err(Error::new(at, ErrorKind::BadLength(b))),
            },
        })
    }

    /// Reads a length prefix (a special encoding here is an error).
    pub(crate) fn length(&mut self) -> Result<u64> {
        let at = self.offset();
        match self.len_or_special()? {
            LenOrSpecial::Len(n) => Ok(n),
            LenOrSpecial::Special(s) => Err(Error::new(at, ErrorKind::BadLength(0xc0 | s))),
        }
    }

    /// Reads an RDB string into `out` (cleared first), decoding integer and LZF forms.
    pub(crate) fn string_into(
        &mut self,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        limits: &Limits,
        what: &'static str,
    ) -> Result<StringOrigin> {
        out.clear();
        let header = self.offset();
        match self.len_or_special()? {
            LenOrSpecial::Len(n) => {
                check_limit(header, n, limits, what)?;
                let raw_data = self.offset();
                self.read_into(n, out, what)?;
                Ok(StringOrigin { header, raw_data: Some(raw_data) })
            }
            LenOrSpecial::Special(enc) => {
                self.special_string_into(header, enc, out, scratch, limits, what)?;
                Ok(StringOrigin { header, raw_data: None })
            }
        }
    }

    /// Decodes a string whose header byte was `11xxxxxx` (integer or LZF).
    pub(crate) fn special_string_into(
        &mut self,
        header: u64,
        enc: u8,
        out: &mut Vec<u8>,
        scratch: &mut Vec<u8>,
        limits: &Limits,
        what: &'static str,
    ) -> Result<()> {
        out.clear();
        if enc == ENC_LZF {
            let ulen = self.lzf_body(header, scratch, limits, what)?;
            return lzf_decompress(scratch, ulen, out)
                .map_err(|msg| Error::corrupt(header, format!("{what}: invalid LZF data: {msg}")));
        }
        let value = self.int_string(header, enc)?;
        out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        Ok(())
    }

    /// The value of an integer-encoded string whose header byte was `0xC0 | enc`.
    fn int_string(&mut self, header: u64, enc: u8) -> Result<i64> {
        Ok(match enc {
            0 => i64::from(self.u8("an 8-bit integer string")? as i8),
            1 => i64::from(i16::from_le_bytes(self.array("a 16-bit integer string")?)),
            2 => i64::from(i32::from_le_bytes(self.array("a 32-bit integer string")?)),
            _ => return Err(Error::new(header, ErrorKind::BadStringEncoding(0xc0 | enc))),
        })
    }

    /// Steps over an RDB string as [`Source::string_into`] reads it (the same checks, so
    /// the same errors) without decompressing or copying it.
    pub(crate) fn skip_string(&mut self, limits: &Limits, what: &'static str) -> Result<()> {
        let header = self.offset();
        match self.len_or_special()? {
            LenOrSpecial::Len(n) => {
                check_limit(header, n, limits, what)?;
                self.read_chunks(n, what, |_| Ok(()))
            }
            LenOrSpecial::Special(ENC_LZF) => self.skip_lzf_body(header, limits, what),
            LenOrSpecial::Special(enc) => self.int_string(header, enc).map(drop),
        }
    }

    /// Steps over the lengths and compressed bytes of an LZF string as
    /// [`Source::lzf_body`] reads them.
    pub(crate) fn skip_lzf_body(&mut self, header: u64, limits: &Limits, what: &'static str) -> Result<()> {
        let (clen, _) = self.lzf_lengths(header, limits, what)?;
        self.read_chunks(clen, what, |_| Ok(()))
    }

    /// Reads the lengths and the compressed bytes of an LZF string (after its `0xC3`
    /// header at `header`) into `scratch`; returns the uncompressed length.
    pub(crate) fn lzf_body(
        &mut self,
        header: u64,
        scratch: &mut Vec<u8>,
        limits: &Limits,
        what: &'static str,
    ) -> Result<u64> {
        let (clen, ulen) = self.lzf_lengths(header, limits, what)?;
        scratch.clear();
        self.read_into(clen, scratch, what)?;
        Ok(ulen)
    }

    /// Reads and checks the compressed and uncompressed lengths of an LZF string.
    fn lzf_lengths(&mut self, header: u64, limits: &Limits, what: &'static str) -> Result<(u64, u64)> {
        let clen = self.length()?;
        let ulen = self.length()?;
        check_limit(header, clen, limits, what)?;
        check_limit(header, ulen, limits, what)?;
        if ulen > clen.saturating_mul(LZF_MAX_EXPANSION) {
            return Err(Error::corrupt(
                header,
                format!("{what}: LZF data of {clen} bytes cannot expand to {ulen} bytes"),
            ));
        }
        Ok((clen, ulen))
    }

    /// Reads a score stored as text (type 3 sorted sets): length byte, ASCII, or a marker.
    pub(crate) fn text_double(&mut self) -> Result<f64> {
        let at = self.offset();
        let len = self.u8("a text score length")?;
        match len {
            253 => Err(Error::corrupt(at, "sorted set score is NaN")),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let mut buf = Vec::with_capacity(usize::from(n));
                self.read_into(u64::from(n), &mut buf, "a text score")?;
                parse_score(&buf).ok_or_else(|| {
                    Error::corrupt(at, format!("invalid score text {}", crate::escape::escape_bytes(&buf, 40)))
                })
            }
        }
    }

    pub(crate) fn f64_le(&mut self, what: &'static str) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn i64_le(&mut self, what: &'static str) -> Result<i64> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    /// A stream ID stored as two lengths.
    pub(crate) fn stream_id_lengths(&mut self) -> Result<StreamId> {
        let ms = self.length()?;
        let seq = self.length()?;
        Ok(StreamId { ms, seq })
    }

    /// A stream ID stored as 16 raw big-endian bytes.
    pub(crate) fn stream_id_raw(&mut self) -> Result<StreamId> {
        let raw: [u8; 16] = self.array("a raw stream ID")?;
        Ok(StreamId::from_be_bytes(&raw))
    }
}

fn check_limit(at: u64, n: u64, limits: &Limits, what: &'static str) -> Result<()> {
    if n > limits.max_blob_bytes {
        return Err(Error::new(at, ErrorKind::TooLarge { what, len: n, limit: limits.max_blob_bytes }));
    }
    Ok(())
}

/// Decompresses LZF `input` into `out`, which must come out exactly `ulen` bytes long.
pub(crate) fn lzf_decompress(input: &[u8], ulen: u64, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    let ulen = usize::try_from(ulen).map_err(|_| "length does not fit in memory".to_string())?;
    crate::lzf::decompress(input, ulen, out)
}

/// Checks that LZF `input` decompresses to exactly `ulen` bytes, without producing them.
pub(crate) fn lzf_check(input: &[u8], ulen: u64) -> std::result::Result<(), String> {
    crate::lzf::check(input, ulen)
}

/// Parses a score as the server's `strtod` would for the forms servers write
/// (decimal, exponent, `inf`, `-inf`); NaN is refused.
pub(crate) fn parse_score(text: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(text).ok()?;
    let v: f64 = s.parse().ok()?;
    (!v.is_nan()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    fn src(bytes: &[u8]) -> Source<&[u8]> {
        Source::new(bytes, 64)
    }

    #[test]
    fn lengths_in_every_form() -> Result<()> {
        let mut s = src(&hex!("3f 7f ff 80 00 01 00 00 81 00 00 00 01 00 00 00 00"));
        assert_eq!(s.length()?, 63);
        assert_eq!(s.length()?, 0x3fff);
        assert_eq!(s.length()?, 65536);
        assert_eq!(s.length()?, 1 << 32);
        Ok(())
    }

    #[test]
    fn bad_length_byte() {
        let err = src(&hex!("00 82")).length().and_then(|_| src(&hex!("82")).length()).expect_err("0x82");
        assert!(matches!(err.kind(), ErrorKind::BadLength(0x82)));
    }

    #[test]
    fn integer_strings_decode_to_text() -> Result<()> {
        let mut s = src(&hex!("c0 fb c1 00 80 c2 ff ff ff 7f"));
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        let l = Limits::default();
        s.string_into(&mut out, &mut scratch, &l, "t")?;
        assert_eq!(out, b"-5");
        s.string_into(&mut out, &mut scratch, &l, "t")?;
        assert_eq!(out, b"-32768");
        s.string_into(&mut out, &mut scratch, &l, "t")?;
        assert_eq!(out, b"2147483647");
        Ok(())
    }

    #[test]
    fn lzf_strings_decompress_and_bad_ones_fail() -> Result<()> {
        // "aaaaaaaaaa": literal 'a', then a back-reference of 9 bytes at distance 1.
        let mut s = src(&hex!("c3 05 0a 00 61 e0 00 00"));
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        let l = Limits::default();
        s.string_into(&mut out, &mut scratch, &l, "t")?;
        assert_eq!(out, b"aaaaaaaaaa");
        let mut bad = src(&hex!("c3 05 0b 00 61 e0 00 00"));
        assert!(bad.string_into(&mut out, &mut scratch, &l, "t").is_err());
        Ok(())
    }

    #[test]
    fn limit_applies_before_allocation() {
        let mut s = src(&hex!("81 00 00 10 00 00 00 00 00"));
        let err = s
            .string_into(
                &mut Vec::new(),
                &mut Vec::new(),
                &Limits { max_blob_bytes: 1000, ..Limits::default() },
                "a key",
            )
            .expect_err("too large");
        assert!(matches!(err.kind(), ErrorKind::TooLarge { .. }));
    }

    #[test]
    fn text_scores() -> Result<()> {
        let mut s = src(&hex!("fe ff 03 31 2e 35 fd"));
        assert_eq!(s.text_double()?, f64::INFINITY);
        assert_eq!(s.text_double()?, f64::NEG_INFINITY);
        assert_eq!(s.text_double()?, 1.5);
        assert!(s.text_double().is_err());
        Ok(())
    }
}
