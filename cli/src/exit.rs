//! The exit-code contract and the one place that maps errors to it.

use std::fmt;

use crate::output::{WriteError, STDOUT_NAME};

/// Process exit codes (documented in docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// Success.
    Ok = 0,
    /// The input is not valid (corrupt, truncated, unsupported).
    BadData = 1,
    /// The command line is wrong.
    Usage = 2,
    /// Reading, writing, the network or a server failed.
    Io = 3,
}

/// An error that carries its own exit code (usage mistakes, mostly).
#[derive(Debug)]
pub struct Coded {
    pub code: Code,
    pub message: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// A usage error (exit 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    Coded { code: Code::Usage, message: message.into() }.into()
}

/// A bad-data error (exit 1).
pub fn bad_data(message: impl Into<String>) -> anyhow::Error {
    Coded { code: Code::BadData, message: message.into() }.into()
}

fn classify_rdb(e: &rdb_parser::Error) -> Code {
    if e.is_io() {
        Code::Io
    } else {
        Code::BadData
    }
}

fn classify_resp(e: &resp::Error) -> Code {
    if e.is_usage() {
        Code::Usage
    } else {
        Code::Io
    }
}

/// The exit code of a backup library error.
pub fn backup_code(e: &backup::Error) -> Code {
    match e {
        backup::Error::Usage(_) => Code::Usage,
        backup::Error::Server(e) => classify_resp(e),
        backup::Error::Dump(e) => classify_rdb(e),
        backup::Error::Integrity(_) | backup::Error::Missing { .. } => Code::BadData,
        _ => Code::Io,
    }
}

/// Maps an error to its exit code by walking its causes.
pub fn classify(err: &anyhow::Error) -> Code {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<backup::Error>() {
            return backup_code(e);
        }
        if let Some(e) = cause.downcast_ref::<aof_tools::Error>() {
            let resources = matches!(e, aof_tools::Error::MemoryBudget { .. });
            return if e.is_io() || resources { Code::Io } else { Code::BadData };
        }
        if let Some(c) = cause.downcast_ref::<Coded>() {
            return c.code;
        }
        if let Some(e) = cause.downcast_ref::<rdb_parser::Error>() {
            return classify_rdb(e);
        }
        if let Some(e) = cause.downcast_ref::<resp::Error>() {
            return classify_resp(e);
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return Code::Io;
        }
    }
    Code::BadData
}

/// True when the error is a closed output pipe (`rdbkit ... | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    // Only a write to standard output counts: a broken pipe to a server or between
    // threads is a failure, and exit 0 would hide it.
    let to_stdout = |e: &std::io::Error| {
        e.kind() == std::io::ErrorKind::BrokenPipe
            && e.get_ref().and_then(|i| i.downcast_ref::<WriteError>()).is_some_and(|w| w.name == STDOUT_NAME)
    };
    err.chain().any(|c| {
        let io = c.downcast_ref::<std::io::Error>().or_else(|| {
            c.downcast_ref::<rdb_parser::Error>().and_then(|e| match e.kind() {
                rdb_parser::ErrorKind::Io(io) => Some(io),
                _ => e.visitor_error().and_then(|v| v.downcast_ref::<std::io::Error>()),
            })
        });
        io.is_some_and(to_stdout)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes_follow_the_cause() {
        let data = rdb_parser::Error::corrupt(5, "bad");
        assert_eq!(classify(&anyhow::Error::new(data).context("f.rdb")), Code::BadData);
        let io: anyhow::Result<()> = Err(std::io::Error::other("disk")).context("f.rdb");
        assert_eq!(classify(&io.expect_err("err")), Code::Io);
        assert_eq!(classify(&usage("no")), Code::Usage);
        let pipe = WriteError::wrap(STDOUT_NAME, std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&anyhow::Error::new(pipe)));
        let socket = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(!is_broken_pipe(&socket), "a broken pipe to a server is a failure");
        let file = WriteError::wrap("out.rdb", std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(!is_broken_pipe(&anyhow::Error::new(file)));
    }
}
