//! Errors of the backup library.

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What stopped an operation. Each kind maps to one exit code of the command line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request itself is wrong (exit 2): a cluster node without `--cluster`, an
    /// unknown target name.
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
}
