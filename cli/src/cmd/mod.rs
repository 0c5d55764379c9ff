//! One module per subcommand.

pub mod aof;
pub mod backup;
pub mod convert;
mod dupcheck;
pub mod info;
pub mod memory;
mod merge;
pub mod restore;
pub mod to_rdb;
pub mod verify;

use std::sync::Mutex;

use rdb_parser::{ErrorKind, RdbReader, ReaderOptions, Visitor};

use crate::input::Input;
use crate::output::WriteError;

/// Where relaxed reads stopped early ("FILE: reading stopped at ..."), for the report.
static PARTIAL: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Reader options for `--relaxed` or not.
pub fn reader_options(relaxed: bool) -> ReaderOptions {
    ReaderOptions { relaxed, ..ReaderOptions::default() }
}

/// [`reader_options`] for commands that only check and count: the compact values they
/// skip are decoded and checked on a second thread.
pub fn checking_options(relaxed: bool) -> ReaderOptions {
    ReaderOptions { defer_checks: true, ..reader_options(relaxed) }
}

/// The partial reads noted since the last call (see [`trailing_bytes`]).
pub fn take_partial() -> Vec<String> {
    std::mem::take(&mut *PARTIAL.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Reads a whole file into `v`; errors name the file. Returns how many bytes follow
/// the end of the RDB.
pub fn read_file<V: Visitor>(input: Input, v: &mut V, relaxed: bool) -> anyhow::Result<u64> {
    read_file_with(input, v, reader_options(relaxed))
}

/// [`read_file`] with reader options.
pub fn read_file_with<V: Visitor>(input: Input, v: &mut V, options: ReaderOptions) -> anyhow::Result<u64> {
    let Input { name, reader, progress } = input;
    let mut r = RdbReader::with_options(reader, options);
    r.read_all(v).map_err(|e| read_error(e, &name))?;
    let trailing = trailing_bytes(r, &name)?;
    drop(progress);
    Ok(trailing)
}

/// Reads what follows the RDB; see [`RdbReader::finish`]. Returns the count of bytes
/// after the checksum.
///
/// After a relaxed read that stopped early nothing is counted; the stop is noted for
/// [`take_partial`] instead.
pub fn trailing_bytes<R: std::io::Read>(r: RdbReader<R>, name: &str) -> anyhow::Result<u64> {
    if let Some(stop) = r.stopped() {
        let note = format!("{name}: partial result: {stop}; the rest of the file was not read (--relaxed)");
        PARTIAL.lock().unwrap_or_else(|p| p.into_inner()).push(note);
        return Ok(0);
    }
    r.finish().map_err(|e| read_error(e, name))
}

/// An error met while reading the input `name`. A failed write to an output (a visitor
/// writing as it reads) is that output's error, not the input's: it is returned alone,
/// naming the output, without the input's name and offset.
pub fn read_error(e: rdb_parser::Error, name: &str) -> anyhow::Error {
    let io = match e.kind() {
        ErrorKind::Io(io) => Some(io),
        ErrorKind::Visitor(v) => v.downcast_ref::<std::io::Error>(),
        _ => None,
    };
    match io.and_then(WriteError::find) {
        Some(write) => write.into(),
        None => anyhow::Error::new(e).context(name.to_string()),
    }
}
