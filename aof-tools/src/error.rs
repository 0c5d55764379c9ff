//! The crate's error: what went wrong, in which file, at which byte and command.

use std::fmt;
use std::path::PathBuf;

/// Where in an AOF something happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file (a part of a multi-part AOF, or the single file).
    pub file: PathBuf,
    /// Byte offset in that file.
    pub offset: u64,
    /// 1-based index of the command in that file, when the failure is about a command.
    pub command: Option<u64>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: offset {}", self.file.display(), self.offset)?;
        if let Some(n) = self.command {
            write!(f, " (command #{n})")?;
        }
        Ok(())
    }
}

/// A failure of the AOF tools.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not an AOF at this position.
    #[error("{at}: {message}")]
    Format {
        /// Where.
        at: Position,
        /// What was expected.
        message: String,
    },
    /// The manifest of a multi-part AOF is invalid.
    #[error("{}: line {line}: {message}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// 1-based line number (0 when about the whole file).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The layout (directory, manifest, parts) is not usable.
    #[error("{}: {message}", path.display())]
    Layout {
        /// The path given, or the part concerned.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The RDB preamble or base is invalid (the RDB error carries its own offset).
    #[error("{}: RDB part: {source}", path.display())]
    Rdb {
        /// The file.
        path: PathBuf,
        /// The reader's error.
        #[source]
        source: rdb_parser::Error,
    },
    /// A command cannot be replayed (unknown or unsupported command, bad arguments).
    #[error("{at}: {name}: {message}")]
    Command {
        /// Where the command starts.
        at: Position,
        /// The command name as written (escaped).
        name: String,
        /// Why it cannot be replayed.
        message: String,
    },
    /// The dataset outgrew the memory budget.
    #[error("{at}: the dataset needs more than the memory budget of {budget} bytes (raise --memory-budget, or give the machine more memory)")]
    MemoryBudget {
        /// The command that crossed the limit.
        at: Position,
        /// The budget in bytes.
        budget: u64,
    },
    /// The request cannot be carried out (refused fix, invalid option).
    #[error("{0}")]
    Refused(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// True when the cause is I/O (a missing file, a full disk), not the data.
    pub fn is_io(&self) -> bool {
        match self {
            Error::Io { .. } => true,
            Error::Rdb { source, .. } => source.is_io(),
            _ => false,
        }
    }

    /// The position, for errors tied to one.
    pub fn position(&self) -> Option<&Position> {
        match self {
            Error::Format { at, .. } | Error::Command { at, .. } | Error::MemoryBudget { at, .. } => Some(at),
            _ => None,
        }
    }
}

/// Result alias of the crate.
pub type Result<T> = std::result::Result<T, Error>;
