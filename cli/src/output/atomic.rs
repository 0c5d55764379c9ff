//! A file written under a temporary name beside its target, then renamed over it.

use std::ffi::OsString;
use std::fs::{File, Metadata, Permissions};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::cleanup;
use super::writeback::WriteBehind;

/// Symbolic links followed before giving up (as the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;
/// Bytes of the target's name kept in the temporary name: with the dot, the random
/// part and the suffix it stays within the usual 255-byte limit.
const NAME_BYTES_KEPT: usize = 200;
/// Suffix of temporary files.
const SUFFIX: &str = ".rdbkit.tmp";

/// Follows symbolic links: writing "through" a link replaces the file it points to and
/// keeps the link. A link to a missing file gives the missing file's path.
pub fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if to.is_relative() => dir.join(to),
                    _ => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// The directory a file is in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// `.NAME.` cut to fit, as the temporary file's prefix.
fn prefix(target: &Path) -> OsString {
    let name = target.file_name().map(OsStrExt::as_bytes).unwrap_or_default();
    let mut cut = name.len().min(NAME_BYTES_KEPT);
    // Keep whole UTF-8 characters where the name is UTF-8.
    while cut < name.len() && (name[cut] & 0xc0) == 0x80 && cut > 0 {
        cut -= 1;
    }
    let mut p = vec![b'.'];
    p.extend_from_slice(&name[..cut]);
    p.push(b'.');
    OsString::from_vec(p)
}

/// tempfile's error without the ` at path "<random name>"` it appends (the name is of
/// no use to anyone; the message names the output instead).
fn without_path(e: io::Error) -> io::Error {
    match e.to_string().rsplit_once(" at path \"") {
        Some((message, _)) => io::Error::new(e.kind(), message.to_string()),
        None => e,
    }
}

/// A temporary file that becomes `target` on [`TempTarget::commit`] and disappears
/// otherwise (on drop, or when the process is interrupted).
pub struct TempTarget {
    tmp: NamedTempFile,
    behind: WriteBehind,
    target: PathBuf,
    _registered: Registered,
}

/// Keeps a path in the interrupt cleanup list while it lives.
struct Registered(PathBuf);

impl Drop for Registered {
    fn drop(&mut self) {
        cleanup::unregister(&mut cleanup::registry(), &self.0);
    }
}

impl TempTarget {
    /// Creates the temporary file beside `target` (`existing`: the target's metadata,
    /// whose permissions and owner the new file takes).
    pub fn create(target: PathBuf, existing: Option<&Metadata>) -> io::Result<TempTarget> {
        let mode = existing.map_or(0o666, |m| m.permissions().mode() & 0o7777);
        let tmp = cleanup::create_registered(|| {
            let tmp = tempfile::Builder::new()
                .prefix(&prefix(&target))
                .suffix(SUFFIX)
                .permissions(Permissions::from_mode(mode))
                .tempfile_in(parent_dir(&target))
                // tempfile adds "at path <random name>": the name is of no use to anyone.
                .map_err(without_path)?;
            let path = tmp.path().to_path_buf();
            Ok((tmp, path))
        })?;
        let registered = Registered(tmp.path().to_path_buf());
        let t = TempTarget { tmp, behind: WriteBehind::default(), target, _registered: registered };
        if let Some(m) = existing {
            // The umask applied at creation: set the exact mode again.
            t.tmp.as_file().set_permissions(Permissions::from_mode(mode))?;
            if m.uid() != t.tmp.as_file().metadata()?.uid() || m.gid() != t.tmp.as_file().metadata()?.gid() {
                // Only root may give a file away; others keep their own ownership.
                let _ = std::os::unix::fs::fchown(t.tmp.as_file(), Some(m.uid()), Some(m.gid()));
            }
        }
        Ok(t)
    }

    /// Writes at the end of the file (whose write-back starts as it grows).
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.tmp.as_file_mut().write(buf)?;
        self.behind.wrote(self.tmp.as_file(), n);
        Ok(n)
    }

    /// The file written.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// fsync, rename over the target, fsync the directory.
    pub fn commit(self) -> io::Result<()> {
        self.tmp.as_file().sync_all()?;
        let TempTarget { tmp, target, _registered, .. } = self;
        {
            // Renamed and forgotten under the lock: an interrupt either removes the
            // temporary file before the rename or finds nothing left to remove.
            let mut paths = cleanup::registry();
            tmp.persist(&target).map_err(|e| e.error)?;
            cleanup::unregister(&mut paths, &_registered.0);
        }
        File::open(parent_dir(&target))?.sync_all()
    }
}
