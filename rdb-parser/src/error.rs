//! The one error type of the crate: what went wrong, where in the file, and in which key.

use std::fmt;

/// Error returned by visitors to stop a read early (an output that failed, for instance).
pub type VisitError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A failure while reading or writing an RDB stream.
///
/// `offset` is the absolute byte position of the first byte of the item that failed
/// (for data inside an LZF-compressed blob: the start of that blob, with the position
/// inside the decompressed bytes in the message).
#[derive(Debug)]
pub struct Error {
    offset: u64,
    kind: ErrorKind,
    key: Option<Box<[u8]>>,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The underlying reader or writer failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The input ended in the middle of an item.
    #[error("unexpected end of file: expected {needed} more byte(s) for {what}")]
    UnexpectedEof {
        /// Bytes still missing (at least).
        needed: u64,
        /// What was being read.
        what: &'static str,
    },
    /// The first bytes are not `REDIS` or `VALKEY` followed by digits.
    #[error("not an RDB file: expected magic \"REDIS\" or \"VALKEY\" and a version, found {0:?}")]
    BadMagic(String),
    /// The header names a version this reader does not know.
    #[error("unsupported RDB version {version} (magic {magic}); supported: REDIS 1-15 and VALKEY 80")]
    UnsupportedVersion {
        /// The magic prefix.
        magic: &'static str,
        /// The version digits.
        version: u32,
    },
    /// An opcode byte that this dialect does not define.
    #[error("unknown opcode or value type {byte} (0x{byte:02x}) in a {dialect} RDB {version} file")]
    UnknownType {
        /// The byte read.
        byte: u8,
        /// The file's dialect.
        dialect: &'static str,
        /// The file's RDB version.
        version: u32,
    },
    /// A known but unsupported construct (pre-release formats, for instance).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A length prefix with an invalid first byte.
    #[error("invalid length encoding byte 0x{0:02x}")]
    BadLength(u8),
    /// A string header with an invalid special encoding.
    #[error("invalid string encoding 0x{0:02x}")]
    BadStringEncoding(u8),
    /// A value that must be held whole is larger than the configured limit.
    #[error("{what} of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// What was being read.
        what: &'static str,
        /// Its declared size.
        len: u64,
        /// The limit in force.
        limit: u64,
    },
    /// The data violates the format (the message says which rule).
    #[error("{0}")]
    Corrupt(String),
    /// The CRC64 trailer does not match the file contents.
    #[error("checksum mismatch: file says 0x{stored:016x}, contents give 0x{computed:016x}")]
    ChecksumMismatch {
        /// The trailer value.
        stored: u64,
        /// The computed value.
        computed: u64,
    },
    /// The target cannot represent part of the data (not tied to an input offset).
    #[error("{0}")]
    Refused(String),
    /// A visitor asked to stop.
    #[error("{0}")]
    Visitor(VisitError),
}

impl Error {
    /// Creates an error at `offset`.
    pub fn new(offset: u64, kind: ErrorKind) -> Self {
        Error { offset, kind, key: None }
    }

    /// Creates a [`ErrorKind::Corrupt`] error at `offset`.
    pub fn corrupt(offset: u64, msg: impl Into<String>) -> Self {
        Error::new(offset, ErrorKind::Corrupt(msg.into()))
    }

    /// Attaches the key being read, unless one is already set.
    pub fn with_key(mut self, key: &[u8]) -> Self {
        if self.key.is_none() {
            self.key = Some(key.into());
        }
        self
    }

    /// Absolute byte offset of the item that failed.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The kind of failure.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The key being read when the error happened, if any.
    pub fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }

    /// True when the failure came from I/O (reading or writing), not from the data.
    pub fn is_io(&self) -> bool {
        match &self.kind {
            ErrorKind::Io(_) => true,
            ErrorKind::Visitor(e) => e.downcast_ref::<std::io::Error>().is_some(),
            _ => false,
        }
    }

    /// Takes out the visitor's error when a visitor stopped the read; otherwise gives
    /// the error back.
    pub fn into_visitor_error(self) -> std::result::Result<VisitError, Error> {
        match self.kind {
            ErrorKind::Visitor(e) => Ok(e),
            kind => Err(Error { kind, ..self }),
        }
    }

    /// The visitor's error, when a visitor stopped the read.
    pub fn visitor_error(&self) -> Option<&VisitError> {
        match &self.kind {
            ErrorKind::Visitor(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Refused(msg) => f.write_str(msg)?,
            kind => write!(f, "offset {}: {kind}", self.offset)?,
        }
        if let Some(key) = &self.key {
            write!(f, " (key {})", crate::escape::escape_bytes(key, 80))?;
        }
        Ok(())
    }
}

/// No `source()`: the message already includes the I/O error's text, and a source
/// would print it twice in a chain ("Is a directory: Is a directory").
impl std::error::Error for Error {}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;
