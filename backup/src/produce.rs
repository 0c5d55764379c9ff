//! The producing half of a backup: source bytes are read and checked (an RDB is parsed
//! to its end: structure, CRC-64, keys per database), compressed and hashed, and handed
//! to the uploader in chunks over a bounded channel.
//!
//! Two threads share the work: this one reads and checks, a second one compresses and
//! hashes what the first read. Both are plain threads (the parsers are synchronous);
//! only the upload is async. Memory is bounded by the queues, whatever the input size.

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use bytes::Bytes;
use rdb_parser::RdbReader;
use sha2::{Digest, Sha256};

use crate::backend::s3::hex;
use crate::backend::{Chunk, ChunkSender, CHUNK_BYTES};
use crate::compress::Compression;
use crate::error::{Error, Result};
use crate::facts::RdbFacts;
use crate::progress::Progress;
use crate::repo::PartKind;

/// Raw buffers queued between the reading and the compressing thread.
const RAW_QUEUE: usize = 8;

/// What was produced for one part.
#[derive(Debug, Clone)]
pub struct Produced {
    /// Bytes read from the source.
    pub raw_bytes: u64,
    /// Bytes handed to the uploader.
    pub stored_bytes: u64,
    /// SHA-256 of those bytes (hex).
    pub sha256: String,
    /// For an RDB: what its verifying read learned.
    pub rdb: Option<RdbFacts>,
}

/// Messages from the reading to the compressing thread.
enum Raw {
    Data(Vec<u8>),
    End,
}

/// Hands everything read to the compressing thread as well.
struct Tee<'a, R> {
    inner: R,
    to: SyncSender<Raw>,
    read: u64,
    progress: &'a Progress,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            self.to.send(Raw::Data(buf[..n].to_vec())).map_err(|_| io::Error::other("the compressor stopped"))?;
            self.read += n as u64;
            self.progress.add(n as u64);
        }
        Ok(n)
    }
}

/// Cuts the compressed stream into chunks for the uploader and hashes it.
struct PartSink {
    to: ChunkSender,
    buf: Vec<u8>,
    sha: Sha256,
    size: u64,
}

impl PartSink {
    fn send(&mut self, chunk: Chunk) -> io::Result<()> {
        self.to.blocking_send(chunk).map_err(|_| io::Error::other("the upload stopped"))
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let data = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES)));
            self.send(Chunk::Data(data))?;
        }
        Ok(())
    }

    /// Sends what is left and the end of the body; returns size and SHA-256.
    fn finish(mut self) -> io::Result<(u64, String)> {
        self.flush_chunk()?;
        self.send(Chunk::End)?;
        let sha = std::mem::take(&mut self.sha);
        Ok((self.size, hex(&sha.finalize())))
    }
}

impl Write for PartSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.sha.update(data);
        self.size += data.len() as u64;
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.flush_chunk()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The compressing thread: everything up to [`Raw::End`] goes through the compressor;
/// without it (the reader failed) nothing is finished and the upload is aborted.
fn compress(from: Receiver<Raw>, compression: Compression, to: ChunkSender) -> io::Result<(u64, String)> {
    let abort = to.clone();
    let sink = PartSink { to, buf: Vec::with_capacity(CHUNK_BYTES), sha: Sha256::new(), size: 0 };
    let run = || -> io::Result<(u64, String)> {
        let mut encoder = compression.encoder(sink)?;
        loop {
            match from.recv() {
                Ok(Raw::Data(data)) => encoder.write_all(&data)?,
                Ok(Raw::End) => break,
                Err(_) => return Err(io::Error::new(io::ErrorKind::Interrupted, "the source read failed")),
            }
        }
        encoder.finish()?.finish()
    };
    let result = run();
    if let Err(e) = &result {
        let _ = abort.blocking_send(Chunk::Abort(e.to_string()));
    }
    result
}

/// Reads `input` to its end (parsing it when it is an RDB), compressing and hashing it
/// into `to`. On any error the upload is told to abort.
pub fn produce(
    input: Box<dyn Read + Send + '_>,
    kind: PartKind,
    compression: Compression,
    to: ChunkSender,
    progress: &Progress,
) -> Result<Produced> {
    let abort = to.clone();
    let (raw_tx, raw_rx) = sync_channel(RAW_QUEUE);
    let (read, compressed) = std::thread::scope(|scope| {
        let compressor = scope.spawn(move || compress(raw_rx, compression, to));
        let mut tee = Tee { inner: input, to: raw_tx, read: 0, progress };
        let read = read_through(&mut tee, kind);
        if read.is_ok() {
            let _ = tee.to.send(Raw::End);
        }
        let raw_bytes = tee.read;
        drop(tee);
        let compressed = compressor.join().unwrap_or_else(|_| Err(io::Error::other("the compressor panicked")));
        (read.map(|facts| (raw_bytes, facts)), compressed)
    });
    match (read, compressed) {
        (Ok((raw_bytes, rdb)), Ok((stored_bytes, sha256))) => Ok(Produced { raw_bytes, stored_bytes, sha256, rdb }),
        (Err(e), _) => {
            let _ = abort.blocking_send(Chunk::Abort(e.to_string()));
            Err(e)
        }
        (Ok(_), Err(e)) => Err(Error::Io(e)),
    }
}

/// Reads everything; an RDB is parsed and checked on the way.
fn read_through<R: Read>(input: &mut R, kind: PartKind) -> Result<Option<RdbFacts>> {
    match kind {
        PartKind::Rdb => {
            let mut facts = RdbFacts::default();
            let mut reader = RdbReader::new(input);
            reader.read_all(&mut facts)?;
            reader.finish()?;
            Ok(Some(facts))
        }
        PartKind::Aof | PartKind::AofManifest => {
            io::copy(input, &mut io::sink())?;
            Ok(None)
        }
    }
}
