//! Errors of frames, URLs and connections.

use std::time::Duration;

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong talking RESP. Messages are one line and never contain a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL or a connection option is invalid (a usage error).
    #[error("invalid server URL {url}: {why}")]
    Url {
        /// The URL with its password hidden.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// Reading or writing the socket, or a local file (CA, certificate), failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The peer did not answer in time.
    #[error("no reply within {} s", .0.as_secs())]
    Timeout(Duration),
    /// The peer closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The peer sent bytes that are not RESP.
    #[error("not a RESP reply at byte {offset} of the reply stream: expected {expected}, got {got}")]
    Protocol {
        /// Offset in the connection's reply stream.
        offset: u64,
        /// What a RESP reply would have there.
        expected: &'static str,
        /// The bytes found, escaped and cut short.
        got: String,
    },
    /// The server answered with an error reply (`-ERR ...`).
    #[error("{0}")]
    Server(String),
    /// The server refused the credentials, or needs some.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// Setting up TLS failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// `--cluster` was given for a server that is not in cluster mode (a usage error).
    #[error("{0} is not a cluster node (cluster mode is off); leave out --cluster")]
    NotACluster(String),
    /// An error at one node of several (a cluster member, a Sentinel).
    #[error("{node}: {error}")]
    Node {
        /// `host:port` of the node.
        node: String,
        /// What happened there.
        error: Box<Error>,
    },
}

impl Error {
    /// True for mistakes in the URL or options (exit code 2), false for I/O and server errors.
    pub fn is_usage(&self) -> bool {
        match self {
            Error::Url { .. } | Error::NotACluster(_) => true,
            Error::Node { error, .. } => error.is_usage(),
            _ => false,
        }
    }

    /// Attributes the error to a node.
    pub fn at(self, node: &str) -> Error {
        match self {
            e @ (Error::Node { .. } | Error::Url { .. }) => e,
            e => Error::Node { node: node.to_string(), error: Box::new(e) },
        }
    }

    /// The error code of a server error reply (`BUSYKEY`, `MOVED`, `ERR`...).
    pub fn server_code(&self) -> Option<&str> {
        match self {
            Error::Server(line) => line.split(' ').next(),
            Error::Node { error, .. } => error.server_code(),
            _ => None,
        }
    }
}

/// Maps socket errors: a read timeout becomes [`Error::Timeout`], end of stream [`Error::Closed`].
pub(crate) fn from_io(e: std::io::Error, timeout: Duration) -> Error {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Error::Timeout(timeout),
        std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset => Error::Closed,
        _ => Error::Io(e),
    }
}
