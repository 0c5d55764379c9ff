//! Reading a backup back: `verify` (download, SHA-256, decompress, parse, compare with
//! the manifest), and `restore` to files (written only once they check out) or into a
//! server or cluster through [`crate::restore`].

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rdb_parser::RdbReader;
use sha2::{Digest, Sha256};
use tokio::runtime::Handle;
use tokio_util::io::SyncIoBridge;

use crate::backend::s3::hex;
use crate::backend::SharedBackend;
use crate::compress::Compression;
use crate::error::{Error, Result};
use crate::facts::RdbFacts;
use crate::progress::Progress;
use crate::repo::{Manifest, Part, PartKind, Repository};
use crate::restore::{restore, DumpSource, RestoreOptions, Summary};

/// Hashes and counts the stored bytes as they are read. With `expect`, reaching the end
/// with another size or hash is an error (for readers whose caller cannot compare).
struct Hashed<R> {
    inner: R,
    sha: Sha256,
    bytes: u64,
    progress: Arc<Progress>,
    expect: Option<(u64, String, String)>,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        self.progress.add(n as u64);
        if n == 0 {
            if let Some((size, sha, what)) = &self.expect {
                let got = hex(&self.sha.clone().finalize());
                if self.bytes != *size || got != *sha {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{what}: the stored object ({} bytes, SHA-256 {got}) is not the one backed up ({size} bytes, SHA-256 {sha})", self.bytes),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// Counts decompressed bytes and copies them to `copy`.
struct Copied<R, W> {
    inner: R,
    bytes: u64,
    copy: W,
}

impl<R: Read, W: Write> Read for Copied<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The stored bytes of `part`, read on a blocking thread.
fn stored(backend: &SharedBackend, part: &Part, handle: &Handle) -> Result<SyncIoBridge<crate::backend::ObjectReader>> {
    let reader = handle.block_on(backend.get(&part.object, None))?;
    Ok(SyncIoBridge::new_with_handle(reader, handle.clone()))
}

/// Reads one part completely, writing its decompressed bytes to `out`, and compares
/// everything with the manifest (blocking).
fn check_part(
    backend: &SharedBackend,
    m: &Manifest,
    part: &Part,
    out: &mut dyn Write,
    progress: Arc<Progress>,
    handle: &Handle,
) -> Result<()> {
    let what = format!("backup {} {}", m.id, part.file);
    let mut hashed =
        Hashed { inner: stored(backend, part, handle)?, sha: Sha256::new(), bytes: 0, progress, expect: None };
    let decoder = m.compression.decoder(&mut hashed)?;
    let mut copied = Copied { inner: decoder, bytes: 0, copy: out };
    let facts = match part.kind {
        PartKind::Rdb => {
            let mut facts = RdbFacts::default();
            let mut reader = RdbReader::new(&mut copied);
            reader.read_all(&mut facts).map_err(|e| Error::Integrity(format!("{what}: {e}")))?;
            reader.finish().map_err(|e| Error::Integrity(format!("{what}: {e}")))?;
            Some(facts)
        }
        PartKind::Aof | PartKind::AofManifest => {
            io::copy(&mut copied, &mut io::sink()).map_err(|e| Error::Integrity(format!("{what}: {e}")))?;
            None
        }
    };
    let raw = copied.bytes;
    drop(copied);
    io::copy(&mut hashed, &mut io::sink())?;
    let sha = hex(&hashed.sha.clone().finalize());
    let mut problems = Vec::new();
    if hashed.bytes != part.stored_bytes || sha != part.sha256 {
        problems.push(format!(
            "stored object has {} bytes with SHA-256 {sha}, the manifest says {} bytes with {}",
            hashed.bytes, part.stored_bytes, part.sha256
        ));
    }
    if raw != part.raw_bytes {
        problems.push(format!("{raw} bytes after decompression, the manifest says {}", part.raw_bytes));
    }
    if let Some(f) = facts {
        if f.keys_per_db != part.keys_per_db {
            problems.push(format!("keys per database {:?}, the manifest says {:?}", f.keys_per_db, part.keys_per_db));
        }
        if f.crc64 != part.rdb_crc64 {
            problems.push(format!("RDB checksum {:?}, the manifest says {:?}", f.crc64, part.rdb_crc64));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Integrity(format!("{what}: {}", problems.join("; "))))
    }
}

/// Downloads every part of `m`, checks its SHA-256 and size, decompresses and parses it,
/// and compares what it holds with the manifest.
pub async fn verify_backup(repo: &Repository, m: &Manifest, progress: Arc<Progress>) -> Result<()> {
    progress.expect(m.stored_bytes);
    let (backend, m) = (repo.backend().clone(), m.clone());
    tokio::task::spawn_blocking(move || {
        let handle = Handle::current();
        for part in &m.parts {
            check_part(&backend, &m, part, &mut io::sink(), progress.clone(), &handle)?;
        }
        Ok(())
    })
    .await
    .map_err(|e| Error::Io(io::Error::other(e.to_string())))?
}

/// Where each part of `m` goes when restored to `out`: `out` itself for a single part
/// (unless it is a directory), else `out/<file>`.
pub fn restore_paths(m: &Manifest, out: &Path) -> Vec<PathBuf> {
    if m.parts.len() == 1 && !out.is_dir() {
        vec![out.to_path_buf()]
    } else {
        m.parts.iter().map(|p| out.join(&p.file)).collect()
    }
}

/// Restores `m` to files (see [`restore_paths`]). Each file is written to a temporary
/// name, checked completely, flushed and renamed; nothing is renamed unless every part
/// checks out. Returns the files written.
pub async fn restore_to_files(
    repo: &Repository,
    m: &Manifest,
    out: &Path,
    progress: Arc<Progress>,
) -> Result<Vec<PathBuf>> {
    progress.expect(m.stored_bytes);
    let paths = restore_paths(m, out);
    let (backend, m, targets) = (repo.backend().clone(), m.clone(), paths.clone());
    tokio::task::spawn_blocking(move || {
        let handle = Handle::current();
        let mut temps = Vec::new();
        for (part, path) in m.parts.iter().zip(&targets) {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::Builder::new().prefix(".rdbkit-restore-").tempfile_in(dir)?;
            let mut writer = io::BufWriter::new(tmp.as_file_mut());
            check_part(&backend, &m, part, &mut writer, progress.clone(), &handle)?;
            writer.flush()?;
            drop(writer);
            tmp.as_file().sync_all()?;
            temps.push((tmp, path.clone(), dir.to_path_buf()));
        }
        // In part order: an AOF directory's manifest lands last.
        for (tmp, path, dir) in temps {
            tmp.persist(&path).map_err(|e| e.error)?;
            std::fs::File::open(&dir)?.sync_all()?;
        }
        Ok::<_, Error>(())
    })
    .await
    .map_err(|e| Error::Io(io::Error::other(e.to_string())))??;
    Ok(paths)
}

/// One stored RDB as a dump for the restore engine (opened again for a second pass).
struct PartSource {
    backend: SharedBackend,
    part: Part,
    compression: Compression,
    what: String,
    progress: Arc<Progress>,
    handle: Handle,
}

impl DumpSource for PartSource {
    fn open(&self) -> io::Result<Box<dyn Read + '_>> {
        let inner = stored(&self.backend, &self.part, &self.handle).map_err(io::Error::other)?;
        let expect = Some((self.part.stored_bytes, self.part.sha256.clone(), self.what.clone()));
        let hashed = Hashed { inner, sha: Sha256::new(), bytes: 0, progress: self.progress.clone(), expect };
        self.compression.decoder(hashed)
    }
    fn reopenable(&self) -> bool {
        true
    }
}

/// Loads every RDB part of `m` into the server or cluster of `options`.
pub async fn restore_into_server(
    repo: &Repository,
    m: &Manifest,
    options: &RestoreOptions,
    progress: Arc<Progress>,
) -> Result<Vec<Summary>> {
    if m.parts.iter().any(|p| p.kind != PartKind::Rdb) {
        return Err(Error::Usage(format!(
            "backup {} is an AOF directory: restore it with -o DIR and start the server on that directory",
            m.id
        )));
    }
    progress.expect(m.stored_bytes);
    let (backend, m, options) = (repo.backend().clone(), m.clone(), options.clone());
    tokio::task::spawn_blocking(move || {
        let handle = Handle::current();
        let mut summaries = Vec::new();
        for part in &m.parts {
            let source = PartSource {
                backend: backend.clone(),
                part: part.clone(),
                compression: m.compression,
                what: format!("backup {} {}", m.id, part.file),
                progress: progress.clone(),
                handle: handle.clone(),
            };
            summaries.push(restore(&source, &options)?);
        }
        Ok(summaries)
    })
    .await
    .map_err(|e| Error::Io(io::Error::other(e.to_string())))?
}
