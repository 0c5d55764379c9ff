//! Text written out in pieces as it grows, so that a big key's record is never held
//! whole as text.

use std::io::{self, Write};
use std::ops::{Deref, DerefMut};

/// Buffered text is written out once it holds this much.
pub const SPILL_BYTES: usize = 256 << 10;

/// A text buffer in front of a writer. It derefs to its `Vec<u8>`, so formatting code
/// appends to it as to a vector and calls [`Text::spill`] between items; write errors
/// are kept until [`Text::flush`].
pub struct Text<'a> {
    buf: Vec<u8>,
    sink: &'a mut dyn Write,
    error: Option<io::Error>,
}

impl<'a> Text<'a> {
    pub fn new(sink: &'a mut dyn Write) -> Text<'a> {
        Text::with_buffer(Vec::with_capacity(2 * SPILL_BYTES), sink)
    }

    /// A text that starts with what `buf` holds (to reuse its allocation).
    pub fn with_buffer(buf: Vec<u8>, sink: &'a mut dyn Write) -> Text<'a> {
        Text { buf, sink, error: None }
    }

    /// What is still buffered, and the first write error.
    pub fn into_parts(self) -> (Vec<u8>, Option<io::Error>) {
        (self.buf, self.error)
    }

    /// Writes out what is buffered once it is large.
    pub fn spill(&mut self) {
        if self.buf.len() >= SPILL_BYTES {
            self.write_out();
        }
    }

    /// Writes out everything buffered; the first write error since the last flush.
    pub fn flush(&mut self) -> io::Result<()> {
        self.write_out();
        self.error.take().map_or(Ok(()), Err)
    }

    fn write_out(&mut self) {
        if self.error.is_none() {
            self.error = self.sink.write_all(&self.buf).err();
        }
        self.buf.clear();
    }
}

impl Deref for Text<'_> {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl DerefMut for Text<'_> {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_text_goes_out_in_pieces_and_errors_wait_for_flush() {
        let mut sink = Vec::new();
        let mut t = Text::new(&mut sink);
        t.extend_from_slice(&[b'x'; SPILL_BYTES - 1]);
        t.spill();
        assert_eq!(t.len(), SPILL_BYTES - 1, "kept while small");
        t.push(b'y');
        t.spill();
        assert!(t.is_empty(), "written once large");
        t.push(b'z');
        t.flush().expect("flushed");
        assert_eq!(sink.len(), SPILL_BYTES + 1);

        let mut full = [0u8; 4];
        let mut small = &mut full[..];
        let mut t = Text::new(&mut small);
        t.extend_from_slice(b"too long");
        t.spill();
        assert!(t.flush().is_err(), "the write error is reported");
    }
}
