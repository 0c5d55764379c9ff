//! Which files make up an AOF, in load order, from whatever path the user gives: an
//! `appendonlydir`, its manifest, the data directory holding one, or a single file.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::manifest::{Manifest, ManifestEntry, PartKind};

/// How a part's bytes start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// An RDB (`REDIS` or `VALKEY` magic), possibly followed by RESP commands.
    Rdb,
    /// RESP commands from the first byte.
    Resp,
    /// No bytes at all.
    Empty,
}

/// One file to load.
#[derive(Debug, Clone)]
pub struct Part {
    /// Its path.
    pub path: PathBuf,
    /// Base or incr (a single-file AOF is one base).
    pub kind: PartKind,
    /// Sequence number from the manifest (0 for a single file).
    pub seq: i64,
    /// Size in bytes when the layout was opened.
    pub size: u64,
    /// How it starts.
    pub encoding: Encoding,
}

/// The files of one AOF.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The directory holding the files.
    pub dir: PathBuf,
    /// The manifest path and contents (multi-part AOFs only).
    pub manifest: Option<(PathBuf, Manifest)>,
    /// Files to load, in order.
    pub parts: Vec<Part>,
}

/// Bytes read to tell a manifest from an AOF.
const SNIFF_BYTES: usize = 4096;

/// True when a file starts like an RDB (the servers look at `REDIS`; Valkey 9 also
/// writes `VALKEY`).
pub fn starts_like_rdb(head: &[u8]) -> bool {
    head.starts_with(b"REDIS") || head.starts_with(b"VALKEY")
}

/// `fileIsManifest` of redis-check-aof: the first line that is not a `#` comment
/// starts with `file`.
pub fn looks_like_manifest(head: &[u8]) -> bool {
    for line in head.split(|&b| b == b'\n') {
        if line.first() == Some(&b'#') {
            continue;
        }
        return line.starts_with(b"file");
    }
    false
}

fn head(path: &Path, n: usize) -> Result<Vec<u8>> {
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::with_capacity(n);
    f.by_ref().take(n as u64).read_to_end(&mut buf).map_err(|e| Error::io(path, e))?;
    Ok(buf)
}

fn layout_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Layout { path: path.to_path_buf(), message: message.into() }
}

/// True when `dir` holds an AOF [`Layout::open`] finds: a manifest, an
/// `appendonlydir/`, or an `appendonly.aof`.
pub fn holds_aof(dir: &Path) -> bool {
    dir.join("appendonlydir").is_dir()
        || dir.join("appendonly.aof").is_file()
        || manifests_in(dir).is_ok_and(|m| !m.is_empty())
}

/// The manifests (`*.manifest`, not `temp-*`) in a directory.
fn manifests_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".manifest") && !name.starts_with("temp-") && entry.path().is_file() {
            found.push(entry.path());
        }
    }
    found.sort();
    Ok(found)
}

impl Layout {
    /// Resolves `path`: a directory with one manifest (an `appendonlydir`), a data
    /// directory holding `appendonlydir/` or `appendonly.aof`, a manifest, or one AOF file.
    pub fn open(path: &Path) -> Result<Layout> {
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            let manifests = manifests_in(path)?;
            return match manifests.as_slice() {
                [one] => Self::from_manifest(one),
                [] if path.join("appendonlydir").is_dir() => Self::open(&path.join("appendonlydir")),
                [] if path.join("appendonly.aof").is_file() => Self::single(&path.join("appendonly.aof")),
                [] => Err(layout_err(path, "no AOF manifest (*.manifest) or appendonly.aof in this directory")),
                many => {
                    Err(layout_err(path, format!("{} manifests in this directory; give the one to use", many.len())))
                }
            };
        }
        if looks_like_manifest(&head(path, SNIFF_BYTES)?) {
            Self::from_manifest(path)
        } else {
            Self::single(path)
        }
    }

    /// A single-file AOF (Redis 6.2 and older, or one part given on its own).
    pub fn single(path: &Path) -> Result<Layout> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        let part = Self::part(path.to_path_buf(), PartKind::Base, 0)?;
        Ok(Layout { dir, manifest: None, parts: vec![part] })
    }

    fn part(path: PathBuf, kind: PartKind, seq: i64) -> Result<Part> {
        let size = fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
        let encoding = if size == 0 {
            Encoding::Empty
        } else if starts_like_rdb(&head(&path, 9)?) {
            Encoding::Rdb
        } else {
            Encoding::Resp
        };
        Ok(Part { path, kind, seq, size, encoding })
    }

    /// A multi-part AOF from its manifest; every base and incr file must exist.
    pub fn from_manifest(path: &Path) -> Result<Layout> {
        let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
        let manifest = Manifest::parse(&bytes).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            line: e.line,
            message: e.to_string(),
        })?;
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
        let file = |e: &ManifestEntry| dir.join(String::from_utf8_lossy(&e.name).as_ref());
        let missing: Vec<String> = manifest
            .load_order()
            .filter(|e| !file(e).is_file())
            .map(|e| format!("{} ({})", rdb_parser::escape_bytes(&e.name, 200), e.kind.name()))
            .collect();
        if !missing.is_empty() {
            return Err(layout_err(
                path,
                format!(
                    "the manifest lists file(s) missing from {}: {}; a server refuses to start without them",
                    dir.display(),
                    missing.join(", ")
                ),
            ));
        }
        let parts = manifest.load_order().map(|e| Self::part(file(e), e.kind, e.seq)).collect::<Result<_>>()?;
        Ok(Layout { dir, manifest: Some((path.to_path_buf(), manifest)), parts })
    }

    /// True for a manifest-based AOF.
    pub fn is_multi_part(&self) -> bool {
        self.manifest.is_some()
    }

    /// The server's `appendfilename`: the manifest name without `.manifest`, or the
    /// single file's name.
    pub fn append_filename(&self) -> String {
        match &self.manifest {
            Some((p, _)) => {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                name.strip_suffix(".manifest").unwrap_or(&name).to_string()
            }
            None => "appendonly.aof".to_string(),
        }
    }

    /// Total size of the files to load.
    pub fn total_bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum()
    }

    /// History files named by the manifest (never loaded).
    pub fn history(&self) -> &[ManifestEntry] {
        self.manifest.as_ref().map_or(&[], |(_, m)| m.history.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_manifests_and_rdb() {
        assert!(looks_like_manifest(b"# x\nfile a seq 1 type b\n"));
        assert!(!looks_like_manifest(b"*2\r\n$3\r\nDEL\r\n"));
        assert!(starts_like_rdb(b"REDIS0011") && starts_like_rdb(b"VALKEY080") && !starts_like_rdb(b"*1\r\n"));
    }

    #[test]
    fn resolves_directories_and_reports_missing_parts() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tmp", e))?;
        let d = dir.path().join("appendonlydir");
        fs::create_dir(&d).map_err(|e| Error::io(&d, e))?;
        let m = d.join("appendonly.aof.manifest");
        fs::write(&m, "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n")
            .map_err(|e| Error::io(&m, e))?;
        let err = Layout::open(dir.path()).expect_err("parts are missing");
        assert!(
            err.to_string().contains("appendonly.aof.1.base.rdb\" (base), \"appendonly.aof.1.incr.aof\" (incr)"),
            "{err}"
        );
        fs::write(d.join("appendonly.aof.1.base.rdb"), "REDIS0011").map_err(|e| Error::io(&d, e))?;
        fs::write(d.join("appendonly.aof.1.incr.aof"), "").map_err(|e| Error::io(&d, e))?;
        let l = Layout::open(&m)?;
        assert_eq!(l.parts.iter().map(|p| p.encoding).collect::<Vec<_>>(), vec![Encoding::Rdb, Encoding::Empty]);
        assert_eq!(l.append_filename(), "appendonly.aof");
        assert_eq!(Layout::open(&d)?.parts.len(), 2);
        Ok(())
    }
}
