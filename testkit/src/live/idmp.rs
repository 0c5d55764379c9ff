//! The idempotent-producer state of a stream on a live Redis 8.6+ server.
//!
//! `XINFO STREAM` reports the settings and counters (`idmp-duration`, `idmp-maxsize`,
//! `pids-tracked`, `iids-tracked`, `iids-added`, `iids-duplicates`), but no command
//! lists the producers and the IDs they remember. Those are read from the server's own
//! serialization of the key (`DUMP`: a type 26 stream whose IDMP section follows the
//! consumer groups) with a decoder that shares no code with rdbkit's parser, and the
//! result is checked against every figure `XINFO STREAM` reports.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, ensure, Context, Result};
use redis::{Connection, Value};

use crate::record::{Bytes, Idmp, IdmpProducer, StreamId};
use crate::reply;

/// RDB type of a stream with IDMP state (`RDB_TYPE_STREAM_LISTPACKS_4`).
const STREAM_WITH_IDMP: u8 = 26;
/// Bytes of a stream ID in raw form (PEL entries), of a millisecond time.
const RAW_ID: usize = 16;
const RAW_MS: usize = 8;

/// The IDMP state of the stream `key`, whose `XINFO STREAM` reply is `info`.
pub(super) fn read_idmp(conn: &mut Connection, key: &[u8], info: &BTreeMap<String, &Value>) -> Result<Idmp> {
    let figure = |name: &str| -> Result<u64> {
        let n = reply::int(reply::get(info, name)?).with_context(|| format!("XINFO STREAM {name}"))?;
        u64::try_from(n).map_err(|_| anyhow!("XINFO STREAM {name} is {n}"))
    };
    let payload: Bytes = redis::cmd("DUMP").arg(key).query(conn).context("DUMP")?;
    let idmp = idmp_from_dump(&payload).context("the IDMP section of the DUMP payload")?;
    let iids: usize = idmp.producers.iter().map(|p| p.entries.len()).sum();
    let pairs = [
        ("idmp-duration", idmp.duration_s),
        ("idmp-maxsize", idmp.max_entries),
        ("pids-tracked", idmp.producers.len() as u64),
        ("iids-tracked", iids as u64),
        ("iids-added", idmp.iids_added),
        ("iids-duplicates", idmp.iids_duplicates),
    ];
    for (name, from_dump) in pairs {
        let reported = figure(name)?;
        ensure!(reported == from_dump, "XINFO STREAM reports {name} {reported}, DUMP holds {from_dump}");
    }
    Ok(idmp)
}

/// Decodes the IDMP section of a `DUMP` payload of a type 26 stream.
fn idmp_from_dump(payload: &[u8]) -> Result<Idmp> {
    let mut c = Cursor { buf: payload, pos: 0 };
    let ty = c.byte()?;
    ensure!(ty == STREAM_WITH_IDMP, "value type {ty}, expected {STREAM_WITH_IDMP}");
    for _ in 0..c.len()? {
        c.skip_string()?; // node key
        c.skip_string()?; // node listpack
    }
    // length, last ID, first ID, max deleted ID (two numbers each), entries added
    for _ in 0..8 {
        c.len()?;
    }
    for _ in 0..c.len()? {
        c.skip_string()?; // group name
        c.id()?; // last delivered ID
        c.len()?; // entries read
        for _ in 0..c.len()? {
            c.take(RAW_ID + RAW_MS)?;
            c.len()?; // delivery count
        }
        for _ in 0..c.len()? {
            c.skip_string()?; // consumer name
            c.take(2 * RAW_MS)?; // seen and active time
            let pending = c.len()?;
            for _ in 0..pending {
                c.take(RAW_ID)?;
            }
        }
    }
    let duration_s = c.len()?;
    let max_entries = c.len()?;
    let mut producers = Vec::new();
    for _ in 0..c.len()? {
        let pid = c.string()?;
        let mut entries = Vec::new();
        for _ in 0..c.len()? {
            let iid = c.string()?;
            entries.push((iid, c.id()?));
        }
        producers.push(IdmpProducer { pid, entries });
    }
    let iids_added = c.len()?;
    let iids_duplicates = c.len()?;
    // The footer: RDB version (2 bytes) and CRC64 (8 bytes).
    ensure!(c.buf.len() - c.pos == 10, "{} bytes follow the IDMP section, expected 10", c.buf.len() - c.pos);
    Ok(Idmp { duration_s, max_entries, producers, iids_added, iids_duplicates })
}

/// Reading RDB lengths and strings from a byte slice.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else { bail!("payload ends at {} inside a {n}-byte item", self.buf.len()) };
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn be(&mut self, n: usize) -> Result<u64> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// A length, or the special-encoding tag of a string as `Err(tag)`.
    fn len_or_tag(&mut self) -> Result<std::result::Result<u64, u8>> {
        let first = self.byte()?;
        Ok(match first >> 6 {
            0 => Ok(u64::from(first & 0x3f)),
            1 => Ok((u64::from(first & 0x3f) << 8) | u64::from(self.byte()?)),
            2 if first == 0x80 => Ok(self.be(4)?),
            2 if first == 0x81 => Ok(self.be(8)?),
            2 => bail!("bad length byte {first:#04x} at {}", self.pos - 1),
            _ => Err(first & 0x3f),
        })
    }

    fn len(&mut self) -> Result<u64> {
        match self.len_or_tag()? {
            Ok(n) => Ok(n),
            Err(tag) => bail!("string encoding {tag} where a length belongs, at {}", self.pos - 1),
        }
    }

    fn usize(&mut self) -> Result<usize> {
        Ok(usize::try_from(self.len()?)?)
    }

    fn id(&mut self) -> Result<StreamId> {
        Ok(StreamId { ms: self.len()?, seq: self.len()? })
    }

    /// A string in any of its encodings: plain, integer (as decimal text) or LZF.
    fn string(&mut self) -> Result<Bytes> {
        match self.len_or_tag()? {
            Ok(n) => Ok(self.take(usize::try_from(n)?)?.to_vec()),
            Err(0) => Ok((self.byte()? as i8).to_string().into_bytes()),
            Err(1) => Ok(i16::from_le_bytes([self.byte()?, self.byte()?]).to_string().into_bytes()),
            Err(2) => {
                let b = self.take(4)?;
                Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]).to_string().into_bytes())
            }
            Err(3) => {
                let (clen, ulen) = (self.usize()?, self.usize()?);
                lzf_decompress(self.take(clen)?, ulen)
            }
            Err(tag) => bail!("unknown string encoding {tag} at {}", self.pos - 1),
        }
    }

    fn skip_string(&mut self) -> Result<()> {
        match self.len_or_tag()? {
            Ok(n) => self.take(usize::try_from(n)?).map(drop),
            Err(0) => self.take(1).map(drop),
            Err(1) => self.take(2).map(drop),
            Err(2) => self.take(4).map(drop),
            Err(3) => {
                let clen = self.usize()?;
                self.usize()?;
                self.take(clen).map(drop)
            }
            Err(tag) => bail!("unknown string encoding {tag} at {}", self.pos - 1),
        }
    }
}

/// LZF decompression (the format of `lzf_d.c`): literal runs and back references.
fn lzf_decompress(input: &[u8], out_len: usize) -> Result<Bytes> {
    let mut out: Bytes = Vec::with_capacity(out_len);
    let mut i = 0;
    let next = |i: &mut usize| -> Result<u8> {
        let b = *input.get(*i).context("LZF data ends inside an item")?;
        *i += 1;
        Ok(b)
    };
    while i < input.len() {
        let ctrl = usize::from(next(&mut i)?);
        if ctrl < 32 {
            let run = input.get(i..i + ctrl + 1).context("LZF literal run past the end")?;
            out.extend_from_slice(run);
            i += ctrl + 1;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(next(&mut i)?);
            }
            let back = ((ctrl & 0x1f) << 8) + usize::from(next(&mut i)?) + 1;
            let start = out.len().checked_sub(back).context("LZF back reference before the start")?;
            for k in 0..len + 2 {
                out.push(out[start + k]);
            }
        }
    }
    ensure!(out.len() == out_len, "LZF data gives {} bytes, expected {out_len}", out.len());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_strings_in_every_encoding() -> Result<()> {
        let buf = [0x03, b'a', b'b', b'c', 0xc0, 0xfe, 0xc1, 0x39, 0x30, 0xc2, 0, 0, 0, 0x80, 0x41, 0x7f];
        let mut c = Cursor { buf: &buf, pos: 0 };
        assert_eq!(c.string()?, b"abc");
        assert_eq!(c.string()?, b"-2");
        assert_eq!(c.string()?, b"12345");
        assert_eq!(c.string()?, b"-2147483648");
        assert_eq!(c.len()?, 0x17f);
        assert!(c.byte().is_err(), "reading past the end fails");
        Ok(())
    }

    #[test]
    fn decompresses_lzf_back_references() -> Result<()> {
        // "abc" literal, then a back reference of length 6 at distance 3: "abcabcabc".
        let data = [0x02, b'a', b'b', b'c', (4 << 5), 0x02];
        assert_eq!(lzf_decompress(&data, 9)?, b"abcabcabc");
        assert!(lzf_decompress(&data, 8).is_err());
        assert!(lzf_decompress(&[0x20, 0x05], 3).is_err(), "reference before the start");
        Ok(())
    }
}
