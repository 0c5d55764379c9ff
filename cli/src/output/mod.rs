//! Output formats and the output file.

pub mod json;
pub mod record;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Where a command writes: stdout, or a file that appears only once complete.
///
/// A file output is written to a temporary name in the same directory, flushed and
/// fsynced, then renamed over the target; if it is dropped without [`Output::commit`],
/// the temporary file is removed, so a reader never sees a partial result under the
/// final name.
pub struct Output {
    writer: BufWriter<Box<dyn Write>>,
    file: Option<FileTarget>,
}

struct FileTarget {
    tmp: PathBuf,
    path: PathBuf,
    file: File,
    committed: bool,
}

impl Output {
    /// Opens `path` (stdout when `None` or `-`).
    pub fn create(path: Option<&Path>) -> anyhow::Result<Output> {
        let Some(path) = path.filter(|p| *p != Path::new("-")) else {
            return Ok(Output { writer: BufWriter::with_capacity(1 << 16, Box::new(io::stdout())), file: None });
        };
        // A device or a pipe (`-o /dev/null`, a FIFO) is written in place: renaming a
        // temporary file over it would replace the device with a plain file.
        if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("{}: cannot open", path.display()))?;
            return Ok(Output { writer: BufWriter::with_capacity(1 << 16, Box::new(file)), file: None });
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let tmp = dir.join(format!(".{name}.rdbkit-{}.tmp", std::process::id()));
        let file = File::create(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        let writer = BufWriter::with_capacity(1 << 16, Box::new(file.try_clone()?) as Box<dyn Write>);
        Ok(Output { writer, file: Some(FileTarget { tmp, path: path.to_path_buf(), file, committed: false }) })
    }

    /// Makes the output final: flush, and for files fsync, rename and fsync the directory.
    pub fn commit(mut self) -> anyhow::Result<()> {
        self.writer.flush()?;
        let Some(target) = self.file.as_mut() else { return Ok(()) };
        let path = target.path.clone();
        (|| -> io::Result<()> {
            target.file.sync_all()?;
            std::fs::rename(&target.tmp, &target.path)?;
            target.committed = true;
            if let Some(dir) = target.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                File::open(dir)?.sync_all()?;
            }
            Ok(())
        })()
        .with_context(|| format!("{}: cannot write", path.display()))
    }
}

impl Drop for FileTarget {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}
