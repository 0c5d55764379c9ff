//! A new AOF from a dataset, written atomically: every file goes into a temporary
//! directory next to the destination, is fsynced, and the directory is renamed into
//! place, so the destination is either complete or absent.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rdb_parser::Target;

use crate::dataset::Dataset;
use crate::emit::{write_rdb, write_resp, Emitted};
use crate::error::{Error, Result};
use crate::manifest::{Manifest, ManifestEntry, PartKind};

/// The base file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preamble {
    /// An RDB base (`aof-use-rdb-preamble yes`).
    Rdb,
    /// RESP commands (`aof-use-rdb-preamble no`).
    Resp,
}

/// How to write the new AOF.
#[derive(Debug, Clone)]
pub struct RewriteOptions {
    /// Base format.
    pub preamble: Preamble,
    /// The server that will load it (RDB version, thresholds, layout).
    pub target: Target,
    /// The server's `appendfilename`.
    pub append_filename: String,
    /// Keys that expire before this (Unix ms) are left out.
    pub now_ms: i64,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The files, with their sizes.
    pub files: Vec<(PathBuf, u64)>,
    /// Keys and functions written.
    pub emitted: Emitted,
}

/// (major, minor) of a target's server version.
pub fn target_version(t: &Target) -> (u32, u32) {
    let mut it = t.server_version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// True when the target loads multi-part AOFs (Redis 7.0+, every Valkey).
pub fn multi_part(t: &Target) -> bool {
    t.is_valkey() || target_version(t) >= (7, 0)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

fn write_file<E: From<Error>>(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<&File>) -> std::result::Result<Emitted, E>,
) -> std::result::Result<(u64, Emitted), E> {
    let file = File::create(path).map_err(io(path))?;
    let mut w = BufWriter::with_capacity(1 << 20, &file);
    let emitted = f(&mut w)?;
    w.flush().map_err(io(path))?;
    drop(w);
    file.sync_all().map_err(io(path))?;
    Ok((file.metadata().map_err(io(path))?.len(), emitted))
}

/// Writes `data` as an AOF into `out_dir` (which must not exist, or be empty).
pub fn write_aof(data: &Dataset, out_dir: &Path, o: &RewriteOptions) -> Result<Written> {
    write_aof_with(out_dir, o, |w| match o.preamble {
        Preamble::Rdb => write_rdb(data, o.target.clone(), w, o.now_ms).map(|(_, e)| e),
        Preamble::Resp => write_resp(data, w, target_version(&o.target), o.now_ms),
    })
}

/// Writes an AOF into `out_dir` (which must not exist, or be empty) whose base `base`
/// writes, in the format `o.preamble` names (for example an RDB streamed from a dump).
pub fn write_aof_with<E: From<Error>>(
    out_dir: &Path,
    o: &RewriteOptions,
    base: impl FnOnce(&mut dyn Write) -> std::result::Result<Emitted, E>,
) -> std::result::Result<Written, E> {
    if out_dir.exists() && fs::read_dir(out_dir).map_err(io(out_dir))?.next().is_some() {
        let refused = format!("{}: the output directory exists and is not empty", out_dir.display());
        return Err(Error::Refused(refused).into());
    }
    let parent = out_dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "aof".into());
    let tmp = parent.join(format!(".{name}.rdbkit-{}.tmp", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let result = fill(&tmp, o, base);
    let done = result.and_then(|files| {
        File::open(&tmp).and_then(|d| d.sync_all()).map_err(io(&tmp))?;
        if out_dir.exists() {
            fs::remove_dir(out_dir).map_err(io(out_dir))?;
        }
        fs::rename(&tmp, out_dir).map_err(io(out_dir))?;
        File::open(parent).and_then(|d| d.sync_all()).map_err(io(parent))?;
        Ok(files)
    });
    match done {
        Ok((files, emitted)) => {
            let files = files.into_iter().map(|(n, s)| (out_dir.join(n), s)).collect();
            Ok(Written { files, emitted })
        }
        Err(e) => {
            let _ = fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

type Files = (Vec<(String, u64)>, Emitted);

fn fill<E: From<Error>>(
    dir: &Path,
    o: &RewriteOptions,
    base: impl FnOnce(&mut dyn Write) -> std::result::Result<Emitted, E>,
) -> std::result::Result<Files, E> {
    let write_base = |path: &Path| write_file(path, |w| base(w));
    if !multi_part(&o.target) {
        let name = o.append_filename.clone();
        let (size, emitted) = write_base(&dir.join(&name))?;
        return Ok((vec![(name, size)], emitted));
    }
    let ext = if o.preamble == Preamble::Rdb { "rdb" } else { "aof" };
    let base = format!("{}.1.base.{ext}", o.append_filename);
    let incr = format!("{}.1.incr.aof", o.append_filename);
    let manifest_name = format!("{}.manifest", o.append_filename);
    let (base_size, emitted) = write_base(&dir.join(&base))?;
    write_file(&dir.join(&incr), |_| Ok::<_, E>(Emitted::default()))?;
    let manifest = Manifest {
        base: Some(ManifestEntry { name: base.clone().into_bytes(), seq: 1, kind: PartKind::Base }),
        history: Vec::new(),
        incr: vec![ManifestEntry { name: incr.clone().into_bytes(), seq: 1, kind: PartKind::Incr }],
    };
    let bytes = manifest.to_bytes();
    write_file(&dir.join(&manifest_name), |w| {
        w.write_all(&bytes).map_err(io(Path::new(&manifest_name)))?;
        Ok::<_, E>(Emitted::default())
    })?;
    Ok((vec![(base, base_size), (incr, 0), (manifest_name, bytes.len() as u64)], emitted))
}
