//! Cutting a file at an offset without ever losing data: the original stays as a backup
//! (a hard link, so no copy), the cut file is written under a temporary name, fsynced,
//! and renamed over the original.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// What a cut did.
#[derive(Debug, Clone)]
pub struct Cut {
    /// The untouched original, under its backup name.
    pub backup: PathBuf,
    /// Bytes removed from the end.
    pub removed_bytes: u64,
}

/// Backup name: `<dir>/<name>.bak-<unix seconds>` (a number is added if it exists).
pub fn backup_path(path: &Path, backup_dir: Option<&Path>) -> PathBuf {
    let dir = backup_dir
        .map(Path::to_path_buf)
        .or_else(|| path.parent().filter(|d| !d.as_os_str().is_empty()).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let mut candidate = dir.join(format!("{name}.bak-{now}"));
    let mut n = 1;
    while candidate.exists() {
        candidate = dir.join(format!("{name}.bak-{now}-{n}"));
        n += 1;
    }
    candidate
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Keeps the first `keep` bytes of `path`; the whole original is kept at a backup path.
pub fn cut(path: &Path, keep: u64, backup_dir: Option<&Path>) -> Result<Cut> {
    let io = |e| Error::io(path, e);
    let size = fs::metadata(path).map_err(io)?.len();
    if keep > size {
        return Err(Error::Refused(format!("{}: cannot keep {keep} bytes of a {size}-byte file", path.display())));
    }
    let backup = backup_path(path, backup_dir);
    if fs::hard_link(path, &backup).is_err() {
        fs::copy(path, &backup).map_err(|e| Error::io(&backup, e))?;
        File::open(&backup).and_then(|f| f.sync_all()).map_err(|e| Error::io(&backup, e))?;
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rdbkit-cut-{}.tmp", std::process::id()));
    let written = (|| -> io::Result<()> {
        let mut out = File::create(&tmp)?;
        let copied = io::copy(&mut File::open(path)?.take(keep), &mut out)?;
        if copied != keep {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while being cut"));
        }
        out.flush()?;
        out.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    if let Some(parent) = backup.parent() {
        sync_dir(parent).map_err(|e| Error::io(parent, e))?;
    }
    Ok(Cut { backup, removed_bytes: size - keep })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_and_keeps_the_original() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tmp", e))?;
        let p = dir.path().join("a.aof");
        fs::write(&p, b"0123456789").map_err(|e| Error::io(&p, e))?;
        let c = cut(&p, 4, None)?;
        assert_eq!(fs::read(&p).map_err(|e| Error::io(&p, e))?, b"0123");
        assert_eq!(fs::read(&c.backup).map_err(|e| Error::io(&c.backup, e))?, b"0123456789");
        assert_eq!(c.removed_bytes, 6);
        assert!(cut(&p, 5, None).is_err());
        Ok(())
    }
}
