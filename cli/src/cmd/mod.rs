//! One module per subcommand.

pub mod convert;
pub mod info;
pub mod memory;
pub mod restore;
pub mod to_rdb;
pub mod verify;

use anyhow::Context;
use rdb_parser::{RdbReader, ReaderOptions, Visitor};

use crate::input::Input;

/// Reads a whole file into `v`; errors name the file. Returns how many bytes follow
/// the end of the RDB.
pub fn read_file<V: Visitor>(input: Input, v: &mut V) -> anyhow::Result<u64> {
    read_file_with(input, v, ReaderOptions::default())
}

/// [`read_file`] with reader options.
pub fn read_file_with<V: Visitor>(input: Input, v: &mut V, options: ReaderOptions) -> anyhow::Result<u64> {
    let Input { name, reader, progress } = input;
    let mut r = RdbReader::with_options(reader, options);
    r.read_all(v).with_context(|| name.clone())?;
    let trailing = trailing_bytes(r).with_context(|| name)?;
    drop(progress);
    Ok(trailing)
}

/// Counts the bytes after the checksum. Servers stop reading at the checksum and ignore
/// them (files captured from a replication stream end with a 40-byte marker, say), so
/// they do not make a file invalid; `verify` and `info` report them.
///
/// Files older than RDB 5 have no checksum, so bytes after their end are refused: a
/// damaged version digit (9 read as 1) would otherwise hide the checksum.
pub fn trailing_bytes<R: std::io::Read>(mut r: RdbReader<R>) -> anyhow::Result<u64> {
    let version = r.header()?.version;
    let end = r.offset();
    let (buffered, rest) = r.into_remainder();
    let mut n = buffered.len() as u64;
    if let Some(mut rest) = rest {
        n += std::io::copy(&mut rest, &mut std::io::sink())?;
    }
    if n > 0 && version < 5 {
        return Err(crate::exit::bad_data(format!(
            "offset {end}: {n} bytes follow the end of an RDB {version} file, which has no checksum; \
             the header is probably damaged"
        )));
    }
    Ok(n)
}
