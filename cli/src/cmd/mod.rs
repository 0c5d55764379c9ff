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

/// Reads what follows the RDB; see [`RdbReader::finish`]. Returns the count of bytes
/// after the checksum.
pub fn trailing_bytes<R: std::io::Read>(r: RdbReader<R>) -> anyhow::Result<u64> {
    Ok(r.finish()?)
}
