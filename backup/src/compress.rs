//! Compression of stored parts: zstd (the default), gzip (flate2) or none.

use std::io::{self, BufReader, Read, Write};

use serde::{Deserialize, Serialize};

/// zstd level: fast, and smaller than `gzip -1` on dumps.
pub const ZSTD_LEVEL: i32 = 3;

/// How parts are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Zstandard.
    #[default]
    Zstd,
    /// gzip (RFC 1952).
    Gzip,
    /// Stored as is.
    None,
}

impl Compression {
    /// Parses `zstd`, `gzip` or `none`.
    pub fn parse(s: &str) -> Option<Compression> {
        match s {
            "zstd" => Some(Compression::Zstd),
            "gzip" => Some(Compression::Gzip),
            "none" => Some(Compression::None),
            _ => None,
        }
    }

    /// The name (`zstd`, `gzip`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Zstd => "zstd",
            Compression::Gzip => "gzip",
            Compression::None => "none",
        }
    }

    /// The suffix of stored object names (`.zst`, `.gz`, nothing).
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::Zstd => ".zst",
            Compression::Gzip => ".gz",
            Compression::None => "",
        }
    }

    /// A compressor writing into `out`.
    pub fn encoder<W: Write + Send + 'static>(self, out: W) -> io::Result<Encoder<W>> {
        Ok(match self {
            Compression::Zstd => {
                let mut e = zstd::Encoder::new(out, ZSTD_LEVEL)?;
                // A frame checksum catches damage even before the SHA-256 is compared.
                e.include_checksum(true)?;
                Encoder::Zstd(e)
            }
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(out, flate2::Compression::fast())),
            Compression::None => Encoder::None(out),
        })
    }

    /// A decompressor reading from `input`; it reads `input` to its end.
    pub fn decoder<'a, R: Read + 'a>(self, input: R) -> io::Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Compression::Zstd => Box::new(zstd::Decoder::new(input)?),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(input))),
            Compression::None => Box::new(input),
        })
    }
}

/// A compressor; [`Encoder::finish`] writes the end of the stream and returns the output.
pub enum Encoder<W: Write> {
    /// zstd.
    Zstd(zstd::Encoder<'static, W>),
    /// gzip.
    Gzip(flate2::write::GzEncoder<W>),
    /// No compression.
    None(W),
}

impl<W: Write> Encoder<W> {
    /// Ends the compressed stream.
    pub fn finish(self) -> io::Result<W> {
        match self {
            Encoder::Zstd(e) => e.finish(),
            Encoder::Gzip(e) => e.finish(),
            Encoder::None(w) => Ok(w),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Zstd(e) => e.write(buf),
            Encoder::Gzip(e) => e.write(buf),
            Encoder::None(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Zstd(e) => e.flush(),
            Encoder::Gzip(e) => e.flush(),
            Encoder::None(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_compression_round_trips() -> io::Result<()> {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for c in [Compression::Zstd, Compression::Gzip, Compression::None] {
            let mut e = c.encoder(Vec::new())?;
            e.write_all(&data)?;
            let packed = e.finish()?;
            let mut back = Vec::new();
            c.decoder(&packed[..])?.read_to_end(&mut back)?;
            assert_eq!(back, data, "{}", c.name());
            assert_eq!(Compression::parse(c.name()), Some(c));
        }
        Ok(())
    }
}
