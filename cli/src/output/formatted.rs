//! Records formatted by the visitor that read the key, for reads that visit the keys on
//! several threads ([`rdb_parser::RdbReader::read_fanned`]): NDJSON lines kept for the
//! read to hand on in file order or, for the visitor of the keys read in their turn,
//! written to the output as they are made.

use std::io::{self, Write};
use std::sync::Mutex;

use super::bigkey::Records;
use super::pipeline::Item;
use super::text::Text;
use super::WriteError;

/// Room made for the lines of one batch of keys (a batch holds about 32 KiB of values).
const LINES_ROOM: usize = 96 << 10;

/// The output, written from the reading thread both by the read's sink and by the
/// visitor of the keys read in their turn; it keeps the first write error.
pub struct SharedOut<'o> {
    inner: Mutex<(&'o mut (dyn Write + Send), Option<io::Error>)>,
}

impl<'o> SharedOut<'o> {
    pub fn new(out: &'o mut (dyn Write + Send)) -> SharedOut<'o> {
        SharedOut { inner: Mutex::new((out, None)) }
    }

    /// Writes all of `bytes`, unless a write failed before.
    pub fn put(&self, bytes: &[u8]) -> io::Result<()> {
        let mut inner = self.inner.lock().map_err(|_| io::Error::other("the output failed"))?;
        let (out, failed) = &mut *inner;
        if let Some(e) = failed {
            return Err(copy(e));
        }
        out.write_all(bytes).inspect_err(|e| *failed = Some(copy(e)))
    }

    /// The first write error.
    pub fn take_error(&self) -> Option<io::Error> {
        self.inner.lock().ok().and_then(|mut inner| inner.1.take())
    }
}

/// Another error like `e` (the output's errors are [`WriteError`]s, which are kept).
fn copy(e: &io::Error) -> io::Error {
    WriteError::find(e).unwrap_or_else(|| io::Error::new(e.kind(), e.to_string()))
}

impl Write for &SharedOut<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.put(buf).map(|()| buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// [`Records`] that formats each key as an NDJSON line on the spot.
pub struct Formatted<'s> {
    /// Lines not taken yet (when they are not written out).
    lines: Vec<u8>,
    /// Lines of a record large enough to be spilled from `lines`, which follow them.
    spilled: Vec<u8>,
    /// Where the lines go as they are made, when they are.
    direct: Option<&'s SharedOut<'s>>,
}

impl<'s> Formatted<'s> {
    /// Lines kept to be taken, or written to `direct` as they are made.
    pub fn new(direct: Option<&'s SharedOut<'s>>) -> Formatted<'s> {
        Formatted { lines: Vec::new(), spilled: Vec::new(), direct }
    }

    /// Appends the lines made since the last call to `out`.
    pub fn take(&mut self, out: &mut Vec<u8>) {
        if out.capacity() == 0 {
            // Room for a batch's lines at once, rather than growing by doubling.
            out.reserve(LINES_ROOM);
        }
        out.append(&mut self.spilled);
        out.extend_from_slice(&self.lines);
        self.lines.clear();
    }
}

impl Records for Formatted<'_> {
    fn push(&mut self, item: Item) -> anyhow::Result<()> {
        let ndjson_end = |t: &mut Text| t.push(b'\n');
        match self.direct {
            Some(mut out) => {
                let mut t = Text::with_buffer(std::mem::take(&mut self.lines), &mut out);
                item.write(&mut t, |_| {}, ndjson_end);
                let flushed = t.flush();
                self.lines = t.into_parts().0;
                Ok(flushed?)
            }
            None => {
                let mut t = Text::with_buffer(std::mem::take(&mut self.lines), &mut self.spilled);
                item.write(&mut t, |_| {}, ndjson_end);
                // Appending to a vector cannot fail.
                self.lines = t.into_parts().0;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdb_parser::{Entry, RdbType, Value};

    fn string_key(key: &str, bytes: usize) -> Item {
        Item::Entry(Entry {
            db: 0,
            key: key.as_bytes().to_vec(),
            expire_at_ms: None,
            lru_idle_s: None,
            lfu_freq: None,
            rdb_type: RdbType::String,
            meta: Vec::new(),
            value: Value::String(vec![b'x'; bytes]),
        })
    }

    fn line(key: &str, bytes: usize) -> String {
        format!(
            "{{\"db\":0,\"key\":\"{key}\",\"type\":\"string\",\"expire_at_ms\":null,\"value\":\"{}\"}}\n",
            "x".repeat(bytes)
        )
    }

    #[test]
    fn lines_are_kept_in_order_until_taken() -> anyhow::Result<()> {
        let mut f = Formatted::new(None);
        // The second record is large enough to be spilled while it is formatted.
        for (key, bytes) in [("a", 3), ("b", 600 << 10), ("c", 1)] {
            f.push(string_key(key, bytes))?;
        }
        let mut out = Vec::new();
        f.take(&mut out);
        assert_eq!(String::from_utf8(out)?, [line("a", 3), line("b", 600 << 10), line("c", 1)].concat());
        let mut again = Vec::new();
        f.take(&mut again);
        assert!(again.is_empty(), "taken once");
        Ok(())
    }

    /// A writer that fails once it was given `0` more bytes.
    struct Full(usize);
    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() > self.0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn direct_lines_go_out_at_once_and_the_first_error_is_kept() -> anyhow::Result<()> {
        let mut written = Vec::new();
        {
            let shared = SharedOut::new(&mut written);
            let mut f = Formatted::new(Some(&shared));
            f.push(string_key("a", 3))?;
            let mut out = Vec::new();
            f.take(&mut out);
            assert!(out.is_empty(), "nothing left to take");
            assert!(shared.take_error().is_none());
        }
        assert_eq!(String::from_utf8(written)?, line("a", 3));

        let mut full = Full(10);
        let shared = SharedOut::new(&mut full);
        let mut f = Formatted::new(Some(&shared));
        assert!(f.push(string_key("a", 3)).is_err(), "the write fails");
        assert!(shared.put(b"x").is_err(), "later writes fail too, even small ones");
        let kept = shared.take_error().map(|e| e.kind());
        assert_eq!(kept, Some(io::ErrorKind::StorageFull));
        Ok(())
    }
}
