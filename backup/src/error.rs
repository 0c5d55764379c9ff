//! Errors of the backup library.

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What stopped an operation. Each kind maps to one exit code of the command line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request itself is wrong (exit 2): a cluster node without `--cluster`, an
    /// unknown target name, an unknown backup ID, a bad cron expression.
    #[error("{0}")]
    Usage(String),
    /// Talking to a server failed (exit 3, or 2 for a malformed URL).
    #[error(transparent)]
    Server(#[from] resp::Error),
    /// Reading the dump failed (exit 1 for bad data, 3 for I/O).
    #[error(transparent)]
    Dump(#[from] rdb_parser::Error),
    /// Local I/O failed (exit 3).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The repository's storage failed (exit 3).
    #[error("{location}: {op} {name}: {message}")]
    Storage {
        /// The repository (`file:///...`, `s3://bucket/prefix`).
        location: String,
        /// What was being done (`put`, `get`, `list`...).
        op: &'static str,
        /// The object.
        name: String,
        /// What the storage said.
        message: String,
    },
    /// An object the repository should hold is missing (exit 1: the backup is damaged).
    #[error("{location}: {name} is missing")]
    Missing {
        /// The repository.
        location: String,
        /// The object.
        name: String,
    },
    /// Stored data does not match what was recorded (exit 1).
    #[error("{0}")]
    Integrity(String),
    /// Another process holds the repository lock (exit 3).
    #[error("{0}")]
    Locked(String),
}

impl Error {
    /// A storage error.
    pub(crate) fn storage(location: &str, op: &'static str, name: &str, message: impl std::fmt::Display) -> Error {
        Error::Storage { location: location.to_string(), op, name: name.to_string(), message: message.to_string() }
    }
}
