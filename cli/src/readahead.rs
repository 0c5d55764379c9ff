//! Reading ahead on a second thread: the kernel's copy out of the page cache (a sixth of
//! `verify`'s time on one core) then overlaps with parsing on the other.
//!
//! A reader thread fills fixed-size chunks and sends them over a bounded channel; the
//! parser's `read` copies out of the current chunk and hands spent chunks back for
//! reuse. At most `CHUNKS` chunks exist, so memory stays bounded (4 MiB).

use std::io::{self, Read};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread;

/// Size of one chunk.
const CHUNK_BYTES: usize = 1 << 20;
/// Chunks in flight (filled, being read, or on their way back).
const CHUNKS: usize = 4;

/// A `Read` whose data comes from another thread.
pub struct ReadAhead {
    filled: Receiver<io::Result<Vec<u8>>>,
    spent: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl ReadAhead {
    /// Starts the reader thread over `inner`.
    pub fn new<R: Read + Send + 'static>(mut inner: R) -> io::Result<ReadAhead> {
        let (filled_tx, filled) = sync_channel::<io::Result<Vec<u8>>>(CHUNKS);
        let (spent, spent_rx) = sync_channel::<Vec<u8>>(CHUNKS);
        for _ in 0..CHUNKS {
            let _ = spent.send(vec![0u8; CHUNK_BYTES]);
        }
        thread::Builder::new().name("read-ahead".into()).spawn(move || {
            // Ends when the input ends or fails, or when the parser hangs up.
            while let Ok(mut buf) = spent_rx.recv() {
                buf.resize(CHUNK_BYTES, 0);
                let n = match read_full(&mut inner, &mut buf) {
                    Ok(n) => n,
                    Err(e) => {
                        let _ = filled_tx.send(Err(e));
                        return;
                    }
                };
                buf.truncate(n);
                if filled_tx.send(Ok(buf)).is_err() || n == 0 {
                    return;
                }
            }
        })?;
        Ok(ReadAhead { filled, spent, current: Vec::new(), pos: 0, done: false })
    }
}

/// Reads until `buf` is full or the input ends.
fn read_full<R: Read>(inner: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match inner.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

impl Read for ReadAhead {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done || out.is_empty() {
                return Ok(0);
            }
            let next = match self.filled.recv() {
                Ok(Ok(chunk)) => chunk,
                Ok(Err(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => return Err(io::Error::other("the read-ahead thread stopped")),
            };
            let spent = std::mem::replace(&mut self.current, next);
            // The reader thread may be gone (end of input): the chunk is then dropped.
            let _ = self.spent.send(spent);
            self.pos = 0;
            self.done = self.current.is_empty();
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out data in odd-sized pieces, then fails if asked to.
    struct Pieces {
        data: Vec<u8>,
        at: usize,
        fail_at_end: bool,
    }

    impl Read for Pieces {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at == self.data.len() {
                return if self.fail_at_end { Err(io::Error::other("disk on fire")) } else { Ok(0) };
            }
            let n = buf.len().min(777).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn data() -> Vec<u8> {
        (0..(CHUNK_BYTES * 5 + 12345) as u32).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn hands_over_every_byte_in_order() -> io::Result<()> {
        let data = data();
        let mut r = ReadAhead::new(Pieces { data: data.clone(), at: 0, fail_at_end: false })?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 100_003];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, data);
        assert_eq!(r.read(&mut buf)?, 0, "stays at the end");
        Ok(())
    }

    #[test]
    fn errors_arrive_after_the_data() -> io::Result<()> {
        let data = data();
        let mut r = ReadAhead::new(Pieces { data: data.clone(), at: 0, fail_at_end: true })?;
        let mut out = Vec::new();
        let err = r.read_to_end(&mut out).expect_err("the error");
        assert_eq!(err.to_string(), "disk on fire");
        assert_eq!(out.len(), data.len() / CHUNK_BYTES * CHUNK_BYTES, "whole chunks before the failing one");
        Ok(())
    }
}
