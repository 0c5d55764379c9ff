//! Buffered input that counts its position and checksums every byte it hands out.

use std::io::Read;

use crate::crc64::Crc64;
use crate::error::{Error, ErrorKind, Result};

/// Default size of the read buffer.
///
/// Large enough that refills are rare; small enough to stay cheap per reader.
pub const DEFAULT_BUFFER_BYTES: usize = 256 * 1024;
/// The smallest buffer that still holds every fixed-size item (headers, lengths, IDs).
pub const MIN_BUFFER_BYTES: usize = 16;

/// A reader over `R` with a fixed buffer, the absolute offset of the next byte, and a
/// running CRC-64 of every byte consumed.
pub(crate) struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    /// Next unread byte in `buf`.
    pos: usize,
    /// End of valid data in `buf`.
    end: usize,
    /// `buf[..crc_pos]` is already folded into `crc`.
    crc_pos: usize,
    /// File offset of `buf[0]` (wrapping: a window's buffer may hold more before it than
    /// the file does, as decompressed key names).
    base: u64,
    crc: Crc64,
    /// Whether bytes are checksummed (not for copies of values already checksummed).
    checksum: bool,
    eof: bool,
    /// Bytes consumed since `start_capture`, and where in `buf` the uncopied part starts.
    capture: Option<(Vec<u8>, usize)>,
}

impl Source<std::io::Empty> {
    /// A source for values copied out of a file (whose reader checksums them): it reads
    /// the buffers it is handed ([`Source::swap_buffer`]), without a checksum.
    pub(crate) fn for_copies() -> Self {
        Source { checksum: false, ..Source::new(std::io::empty(), 0) }
    }
}

impl<R: Read> Source<R> {
    pub(crate) fn new(inner: R, buffer_bytes: usize) -> Self {
        let cap = buffer_bytes.max(MIN_BUFFER_BYTES);
        Source {
            inner,
            buf: vec![0u8; cap],
            pos: 0,
            end: 0,
            crc_pos: 0,
            base: 0,
            crc: Crc64::new(),
            checksum: true,
            eof: false,
            capture: None,
        }
    }

    /// Absolute offset of the next unread byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base.wrapping_add(self.pos as u64)
    }

    /// CRC-64 of every byte consumed so far.
    pub(crate) fn crc(&mut self) -> u64 {
        self.flush_crc();
        self.crc.value()
    }

    fn flush_crc(&mut self) {
        if self.crc_pos < self.pos {
            if self.checksum {
                self.crc.update(&self.buf[self.crc_pos..self.pos]);
            }
            self.crc_pos = self.pos;
        }
    }

    fn io_err(&self, e: std::io::Error) -> Error {
        Error::new(self.offset(), ErrorKind::Io(e))
    }

    /// Starts keeping a copy of every byte consumed from now on, in `into` (cleared
    /// first; handed back by [`Source::take_capture`], so its capacity is reused).
    pub(crate) fn start_capture(&mut self, mut into: Vec<u8>) {
        into.clear();
        self.capture_onto(into);
    }

    /// Like [`Source::start_capture`], but appends to what `into` holds.
    pub(crate) fn capture_onto(&mut self, into: Vec<u8>) {
        self.capture = Some((into, self.pos));
    }

    /// Stops capturing and returns the bytes consumed since [`Source::start_capture`].
    pub(crate) fn take_capture(&mut self) -> Vec<u8> {
        self.flush_capture();
        self.capture.take().map(|(v, _)| v).unwrap_or_default()
    }

    fn flush_capture(&mut self) {
        if let Some((copy, from)) = &mut self.capture {
            copy.extend_from_slice(&self.buf[*from..self.pos]);
            *from = self.pos;
        }
    }

    /// Moves the unread bytes to the front of the buffer (checksumming, and capturing,
    /// the consumed ones).
    fn compact(&mut self) {
        self.flush_crc();
        self.flush_capture();
        if let Some((_, from)) = &mut self.capture {
            *from = 0;
        }
        self.buf.copy_within(self.pos..self.end, 0);
        self.base = self.base.wrapping_add(self.pos as u64);
        self.end -= self.pos;
        self.pos = 0;
        self.crc_pos = 0;
    }

    /// Reads more bytes into the buffer; returns false at end of input.
    fn refill(&mut self) -> Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 && (self.end == self.buf.len() || self.pos == self.end) {
            self.compact();
        }
        if self.end == self.buf.len() {
            return Ok(true);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_err(e)),
            }
        }
    }

    /// Makes at least `n` bytes available (n ≤ buffer size).
    fn fill(&mut self, n: usize, what: &'static str) -> Result<()> {
        debug_assert!(n <= self.buf.len());
        while self.end - self.pos < n {
            if self.pos + n > self.buf.len() {
                // Not enough room behind the data.
                self.compact();
            }
            if !self.refill()? {
                let needed = (n - (self.end - self.pos)) as u64;
                return Err(Error::new(self.offset(), ErrorKind::UnexpectedEof { needed, what }));
            }
        }
        Ok(())
    }

    /// True when no byte is left.
    pub(crate) fn at_eof(&mut self) -> Result<bool> {
        if self.pos < self.end {
            return Ok(false);
        }
        Ok(!self.refill()?)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8> {
        if self.pos == self.end {
            self.fill(1, what)?;
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// The next byte, left unread (the same error as [`Source::u8`] at the end).
    pub(crate) fn peek_u8(&mut self, what: &'static str) -> Result<u8> {
        if self.pos == self.end {
            self.fill(1, what)?;
        }
        Ok(self.buf[self.pos])
    }

    /// Up to `n` unread bytes (no more than the buffer holds), without consuming them;
    /// fewer only at the end of input.
    pub(crate) fn peek_up_to(&mut self, n: usize) -> Result<&[u8]> {
        let n = n.min(self.buf.len());
        while self.end - self.pos < n {
            if self.pos + n > self.buf.len() {
                self.compact();
            }
            if !self.refill()? {
                break;
            }
        }
        Ok(&self.buf[self.pos..self.end.min(self.pos + n)])
    }

    /// Swaps the buffer with `bytes`, which then holds every byte there is to read
    /// ([`Source::window`] picks them): values copied out of a file are read where they
    /// lie. Swapping back returns the buffer.
    pub(crate) fn swap_buffer(&mut self, bytes: &mut Vec<u8>) {
        if bytes.len() < MIN_BUFFER_BYTES {
            bytes.resize(MIN_BUFFER_BYTES, 0);
        }
        std::mem::swap(&mut self.buf, bytes);
        self.window(0, 0..0);
    }

    /// The whole buffer (see [`Source::swap_buffer`]).
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// Reads `buf[range]` next, as the bytes at file offset `at` and the last there are.
    pub(crate) fn window(&mut self, at: u64, range: std::ops::Range<usize>) {
        self.pos = range.start;
        self.end = range.end;
        self.crc_pos = range.start;
        self.base = at.wrapping_sub(range.start as u64);
        if self.checksum {
            self.crc = Crc64::new();
        }
        self.eof = true;
        self.capture = None;
    }

    /// Reads a fixed-size array.
    pub(crate) fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        self.fill(N, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(out)
    }

    /// Appends exactly `n` bytes to `out`.
    pub(crate) fn read_into(&mut self, n: u64, out: &mut Vec<u8>, what: &'static str) -> Result<()> {
        self.read_chunks(n, what, |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })
    }

    /// Hands out exactly `n` bytes as a series of chunks, without holding them all.
    pub(crate) fn read_chunks(
        &mut self,
        n: u64,
        what: &'static str,
        mut f: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut left = n;
        while left > 0 {
            if self.pos == self.end && !self.refill()? {
                return Err(Error::new(self.offset(), ErrorKind::UnexpectedEof { needed: left, what }));
            }
            let take = (self.end - self.pos).min(usize::try_from(left).unwrap_or(usize::MAX));
            let start = self.pos;
            self.pos += take;
            left -= take as u64;
            f(&self.buf[start..start + take])?;
        }
        Ok(())
    }

    /// The unread bytes already buffered (for callers that continue past the RDB).
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Gives back the inner reader; bytes already buffered are lost unless taken with
    /// [`Source::buffered`] first.
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crc64::crc64;

    /// A reader that hands out one byte per call, to exercise every refill path.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn offsets_and_crc_survive_small_buffers() -> Result<()> {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut s = Source::new(Trickle(&data), MIN_BUFFER_BYTES);
        assert_eq!(s.u8("a")?, data[0]);
        let arr: [u8; 9] = s.array("b")?;
        assert_eq!(&arr, &data[1..10]);
        let mut v = Vec::new();
        s.read_into(500, &mut v, "c")?;
        assert_eq!(&v, &data[10..510]);
        let mut chunks = Vec::new();
        s.read_chunks(490, "d", |c| {
            chunks.extend_from_slice(c);
            Ok(())
        })?;
        assert_eq!(&chunks, &data[510..]);
        assert_eq!(s.offset(), 1000);
        assert_eq!(s.crc(), crc64(&data));
        assert!(s.at_eof()?);
        Ok(())
    }

    #[test]
    fn captures_consumed_bytes_across_refills() -> Result<()> {
        let data: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let mut s = Source::new(Trickle(&data), MIN_BUFFER_BYTES);
        s.array::<5>("a")?;
        s.start_capture(Vec::new());
        let mut v = Vec::new();
        s.read_into(200, &mut v, "b")?;
        s.u8("c")?;
        assert_eq!(s.take_capture(), &data[5..206]);
        s.read_into(10, &mut v, "d")?;
        assert_eq!(s.take_capture(), Vec::<u8>::new(), "not capturing any more");
        Ok(())
    }

    #[test]
    fn eof_reports_offset_and_need() {
        let mut s = Source::new(&b"abc"[..], 64);
        let err = s.array::<8>("thing").expect_err("short input");
        assert_eq!(err.offset(), 0);
        assert!(err.to_string().contains("5 more byte(s) for thing"), "{err}");
    }
}
