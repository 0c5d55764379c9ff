//! One module per subcommand.

pub mod convert;
mod dupcheck;
mod dupkeys;
pub mod info;
pub mod memory;
mod merge;
pub mod restore;
pub mod to_rdb;
pub mod verify;

use rdb_parser::{ErrorKind, RdbReader, ReaderOptions, Visitor};

use crate::input::Input;
use crate::output::WriteError;

/// Reads a whole file into `v`; errors name the file. Returns how many bytes follow
/// the end of the RDB.
pub fn read_file<V: Visitor>(input: Input, v: &mut V) -> anyhow::Result<u64> {
    read_file_with(input, v, ReaderOptions::default())
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
pub fn trailing_bytes<R: std::io::Read>(r: RdbReader<R>, name: &str) -> anyhow::Result<u64> {
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
