//! Records formatted by the visitor that read the key, for reads that visit the keys on
//! several threads ([`rdb_parser::RdbReader::read_fanned`]): text kept for the read to
//! hand on in file order or, for the visitor of the keys read in their turn, written to
//! the output as it is made.

use std::io::{self, Write};
use std::sync::Mutex;

use rdb_parser::Entry;

use super::packed::PackedKey;
use super::record;
use super::text::Text;
use super::WriteError;

/// What [`super::bigkey::JsonKeys`] hands on: keys, or pieces of a record it formats
/// itself as the key is read.
pub enum Item {
    Entry(Entry),
    Packed(Box<PackedKey>),
    /// The start of a record formatted as it is read (its text follows through
    /// [`Formatted::text`]).
    Begin,
    /// Its end.
    End,
}

impl Item {
    /// Appends its text to `t` as a record of `style`.
    fn write(&self, t: &mut Text, style: Style) {
        match self {
            Item::Entry(e) => {
                style.before(t);
                record::write(t, e);
                style.after(t);
            }
            Item::Packed(k) => {
                style.before(t);
                k.write(t);
                style.after(t);
            }
            Item::Begin => style.before(t),
            Item::End => style.after(t),
        }
    }
}

/// How records are laid out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// One per line.
    Lines,
    /// The elements of a JSON array, one per line: each starts with `,\n`, and
    /// [`SharedOut`] drops the first comma.
    Array,
}

impl Style {
    fn before(self, t: &mut Text) {
        if self == Style::Array {
            t.extend_from_slice(b",\n");
        }
    }

    fn after(self, t: &mut Text) {
        if self == Style::Lines {
            t.push(b'\n');
        }
    }
}

/// The output, written from the reading thread both by the read's sink and by the
/// visitor of the keys read in their turn; it keeps the first write error.
pub struct SharedOut<'o> {
    inner: Mutex<Shared<'o>>,
}

struct Shared<'o> {
    out: &'o mut (dyn Write + Send),
    failed: Option<io::Error>,
    /// The first record's comma, in [`Style::Array`], is still to be dropped.
    first_comma: bool,
}

impl<'o> SharedOut<'o> {
    pub fn new(out: &'o mut (dyn Write + Send), style: Style) -> SharedOut<'o> {
        let first_comma = style == Style::Array;
        SharedOut { inner: Mutex::new(Shared { out, failed: None, first_comma }) }
    }

    /// Writes all of `bytes`, unless a write failed before.
    pub fn put(&self, mut bytes: &[u8]) -> io::Result<()> {
        let mut inner = self.inner.lock().map_err(|_| io::Error::other("the output failed"))?;
        let Shared { out, failed, first_comma } = &mut *inner;
        if let Some(e) = failed {
            return Err(copy(e));
        }
        if *first_comma && !bytes.is_empty() {
            *first_comma = false;
            bytes = bytes.strip_prefix(b",").unwrap_or(bytes);
        }
        out.write_all(bytes).inspect_err(|e| *failed = Some(copy(e)))
    }

    /// Whether any record was written, in [`Style::Array`].
    pub fn any(&self) -> bool {
        self.inner.lock().is_ok_and(|inner| !inner.first_comma)
    }

    /// The first write error.
    pub fn take_error(&self) -> Option<io::Error> {
        self.inner.lock().ok().and_then(|mut inner| inner.failed.take())
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

/// Formats the keys' records of `style` as they are handed on.
pub struct Formatted<'s> {
    style: Style,
    /// Text not taken yet (when it is not written out).
    text: Vec<u8>,
    /// Text of a record large enough to be spilled from `text`, which follows it.
    spilled: Vec<u8>,
    /// Where the text goes as it is made, when it does.
    direct: Option<&'s SharedOut<'s>>,
}

impl<'s> Formatted<'s> {
    /// Text kept to be taken, or written to `direct` as it is made.
    pub fn new(style: Style, direct: Option<&'s SharedOut<'s>>) -> Formatted<'s> {
        Formatted { style, text: Vec::new(), spilled: Vec::new(), direct }
    }

    /// Appends the text made since the last call to `out`.
    pub fn take(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.spilled);
        out.extend_from_slice(&self.text);
        self.text.clear();
    }

    /// Formats one item.
    pub fn push(&mut self, item: Item) -> io::Result<()> {
        let style = self.style;
        self.format(|t| item.write(t, style))
    }

    /// Appends text of a record formatted as it is read.
    pub fn text(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.format(|t| t.extend_from_slice(bytes))
    }

    /// Appends what `f` writes: kept to be taken, or written out now.
    fn format(&mut self, f: impl FnOnce(&mut Text)) -> io::Result<()> {
        let mut direct = self.direct;
        let sink: &mut dyn Write = match &mut direct {
            Some(out) => out,
            None => &mut self.spilled,
        };
        let mut t = Text::with_buffer(std::mem::take(&mut self.text), sink);
        f(&mut t);
        // Kept text waits to be taken (appending to a vector cannot fail).
        let written = if self.direct.is_some() { t.flush() } else { Ok(()) };
        self.text = t.into_parts().0;
        written
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
        let mut f = Formatted::new(Style::Lines, None);
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

    #[test]
    fn array_elements_drop_the_first_comma_only() -> anyhow::Result<()> {
        let mut written = Vec::new();
        {
            let shared = SharedOut::new(&mut written, Style::Array);
            assert!(!shared.any());
            // Records made by a worker and taken, then one written as it is made.
            let mut worker = Formatted::new(Style::Array, None);
            worker.push(string_key("a", 1))?;
            worker.push(string_key("b", 1))?;
            let mut text = Vec::new();
            worker.take(&mut text);
            shared.put(&text)?;
            Formatted::new(Style::Array, Some(&shared)).push(string_key("c", 1))?;
            assert!(shared.any());
        }
        let records: Vec<String> = ["a", "b", "c"].iter().map(|k| line(k, 1).trim_end().to_string()).collect();
        assert_eq!(String::from_utf8(written)?, format!("\n{}", records.join(",\n")));
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
            let shared = SharedOut::new(&mut written, Style::Lines);
            let mut f = Formatted::new(Style::Lines, Some(&shared));
            f.push(string_key("a", 3))?;
            let mut out = Vec::new();
            f.take(&mut out);
            assert!(out.is_empty(), "nothing left to take");
            assert!(shared.take_error().is_none());
        }
        assert_eq!(String::from_utf8(written)?, line("a", 3));

        let mut full = Full(10);
        let shared = SharedOut::new(&mut full, Style::Lines);
        let mut f = Formatted::new(Style::Lines, Some(&shared));
        assert!(f.push(string_key("a", 3)).is_err(), "the write fails");
        assert!(shared.put(b"x").is_err(), "later writes fail too, even small ones");
        let kept = shared.take_error().map(|e| e.kind());
        assert_eq!(kept, Some(io::ErrorKind::StorageFull));
        Ok(())
    }
}
