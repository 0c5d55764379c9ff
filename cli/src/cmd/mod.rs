//! One module per subcommand.

pub mod convert;
pub mod info;
pub mod verify;

use anyhow::Context;
use rdb_parser::{RdbReader, Visitor};

use crate::input::Input;

/// Reads a whole file into `v`; errors name the file.
pub fn read_file<V: Visitor>(input: Input, v: &mut V) -> anyhow::Result<()> {
    let Input { name, reader, progress } = input;
    let mut r = RdbReader::new(reader);
    r.read_all(v).with_context(|| name.clone())?;
    check_trailing(&mut r).with_context(|| name)?;
    drop(progress);
    Ok(())
}

/// A dump ends with its checksum; anything after it is reported.
fn check_trailing<R: std::io::Read>(r: &mut RdbReader<R>) -> anyhow::Result<()> {
    if !r.at_eof()? {
        return Err(crate::exit::bad_data(format!(
            "offset {}: data after the end of the RDB (after the checksum)",
            r.offset()
        )));
    }
    Ok(())
}
