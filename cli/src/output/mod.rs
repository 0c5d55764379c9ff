//! Output formats and the output file.

mod atomic;
pub mod bigkey;
pub mod cleanup;
pub mod formatted;
pub mod json;
pub mod packed;
pub mod paths;
pub mod record;
pub mod text;
mod writeback;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use atomic::TempTarget;

/// The name of standard output in messages.
pub const STDOUT_NAME: &str = "standard output";

/// Where a command writes: stdout, or a file that appears only once complete.
///
/// A file output is written to a temporary file in the target's directory, flushed and
/// fsynced, then renamed over the target (through symbolic links, keeping an existing
/// file's permissions); if it is dropped without [`Output::commit`], or the process is
/// interrupted, the temporary file is removed, so a reader never sees a partial result
/// under the final name. Write errors name the output ([`WriteError`]).
pub struct Output {
    writer: BufWriter<Dest>,
    name: String,
}

enum Dest {
    Stdout(io::Stdout),
    /// A device or a pipe, written in place.
    InPlace(File),
    Temp(TempTarget),
}

impl Write for Dest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::Stdout(s) => s.write(buf),
            Dest::InPlace(f) => f.write(buf),
            Dest::Temp(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::Stdout(s) => s.flush(),
            Dest::InPlace(f) => f.flush(),
            Dest::Temp(t) => t.file().flush(),
        }
    }
}

/// A failed write to an output, naming it. Carried inside an [`io::Error`] of the same
/// kind, so a closed pipe is still recognised as one.
#[derive(Debug, Clone)]
pub struct WriteError {
    /// The output's name (a path, or "standard output").
    pub name: String,
    /// What the system said.
    pub message: String,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: cannot write: {}", self.name, self.message)
    }
}

impl std::error::Error for WriteError {}

impl WriteError {
    /// `e` as a write error of `name`.
    pub fn wrap(name: &str, e: io::Error) -> io::Error {
        if e.get_ref().is_some_and(|inner| inner.is::<WriteError>()) {
            return e;
        }
        io::Error::new(e.kind(), WriteError { name: name.to_string(), message: e.to_string() })
    }

    /// The write error inside `e`, if it is one.
    pub fn find(e: &io::Error) -> Option<io::Error> {
        let inner = e.get_ref()?.downcast_ref::<WriteError>()?;
        Some(io::Error::new(e.kind(), inner.clone()))
    }
}

const BUFFER: usize = 1 << 16;

impl Output {
    /// Standard output.
    pub fn stdout() -> Output {
        Output { writer: BufWriter::with_capacity(BUFFER, Dest::Stdout(io::stdout())), name: STDOUT_NAME.into() }
    }

    /// Opens `path` (stdout when `None` or `-`).
    pub fn create(path: Option<&Path>) -> anyhow::Result<Output> {
        let Some(path) = path.filter(|p| *p != Path::new("-")) else { return Ok(Output::stdout()) };
        let name = path.display().to_string();
        let target = atomic::resolve_links(path).map_err(|e| WriteError::wrap(&name, e))?;
        // A device or a pipe (`-o /dev/null`, a FIFO) is written in place: renaming a
        // temporary file over it would replace the device with a plain file.
        let meta = std::fs::metadata(&target).ok();
        if meta.as_ref().is_some_and(|m| m.is_dir()) {
            let e = io::Error::new(io::ErrorKind::IsADirectory, "it is a directory");
            return Err(WriteError::wrap(&name, e).into());
        }
        let dest = if meta.as_ref().is_some_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new().write(true).open(&target).map_err(|e| WriteError::wrap(&name, e))?;
            Dest::InPlace(file)
        } else {
            Dest::Temp(TempTarget::create(target, meta.as_ref()).map_err(|e| WriteError::wrap(&name, e))?)
        };
        Ok(Output { writer: BufWriter::with_capacity(BUFFER, dest), name })
    }

    /// Makes the output final: flush, and for files fsync, rename and fsync the directory.
    pub fn commit(self) -> anyhow::Result<()> {
        let name = self.name;
        let dest = self.writer.into_inner().map_err(|e| WriteError::wrap(&name, e.into_error()))?;
        match dest {
            Dest::Stdout(_) | Dest::InPlace(_) => Ok(()),
            Dest::Temp(t) => Ok(t.commit().map_err(|e| WriteError::wrap(&name, e))?),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf).map_err(|e| WriteError::wrap(&self.name, e))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.writer.write_all(buf).map_err(|e| WriteError::wrap(&self.name, e))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush().map_err(|e| WriteError::wrap(&self.name, e))
    }
}
