//! `rdbkit convert`: RDB to NDJSON, JSON or RESP.

use std::io::{Read, Write};

use rdb_parser::{Filtered, Forked, KeyFilter, RdbReader, VisitError, Visitor};
use resp::rewrite::{RespOut, RespWriter};

use crate::args::{ConvertArgs, ConvertTo};
use crate::exit::Code;
use crate::filter::key_filter;
use crate::input::Input;
use crate::output::bigkey::JsonKeys;
use crate::output::formatted::{Formatted, SharedOut, Style};
use crate::output::paths::check_distinct;
use crate::output::Output;
use crate::CmdResult;

pub fn run(a: &ConvertArgs, quiet: bool) -> CmdResult {
    if super::aof::is_aof_input(&a.input) {
        super::aof::convert::run(a, quiet)?;
        return Ok(Code::Ok);
    }
    let filter = key_filter(&a.filter.dbs, &a.filter.keys, &a.filter.types)?;
    if a.to == ConvertTo::Aof {
        check_distinct(&[("input", &a.input)], &[("-o", a.output.as_deref())])?;
        super::aof::convert::from_rdb(a, &filter, quiet)?;
        return Ok(Code::Ok);
    }
    let rdb_only = a.rdb.target.is_some() || a.rdb.rdb_version.is_some() || a.rdb.lossy || !a.rdb.rename_db.is_empty();
    if rdb_only && a.to != ConvertTo::Rdb {
        return Err(crate::exit::usage("--target, --rdb-version, --lossy and --rename-db apply to --to rdb only"));
    }
    check_distinct(&[("input", &a.input)], &[("-o", a.output.as_deref())])?;
    match a.to {
        ConvertTo::Rdb => super::to_rdb::run(a, &filter, quiet)?,
        ConvertTo::Ndjson | ConvertTo::Json => {
            // The keys are read and formatted on every core (rdb_parser's read_fanned).
            let input = Input::open_inline(&a.input, quiet)?;
            let mut out = Output::create(a.output.as_deref())?;
            write_records(input, &filter, &mut out, a.to == ConvertTo::Json, a.read.relaxed)?;
            out.commit()?;
        }
        // Handled above.
        ConvertTo::Aof => {}
        ConvertTo::Resp => {
            let input = Input::open(&a.input, quiet)?;
            let mut out = Output::create(a.output.as_deref())?;
            let mut v = Filtered::new(RespWriter::new(RespOut(&mut out)), &filter);
            super::read_file(input, &mut v, a.read.relaxed)?;
            out.commit()?;
        }
    }
    Ok(Code::Ok)
}

/// Streams one record per key: a line each, or a JSON array's elements when `array` is
/// set.
fn write_records(input: Input, filter: &KeyFilter, out: &mut Output, array: bool, relaxed: bool) -> anyhow::Result<()> {
    let Input { name, reader, progress } = input;
    let mut r = RdbReader::with_options(reader, super::reader_options(relaxed));
    if array {
        out.write_all(b"[")?;
    }
    let style = if array { Style::Array } else { Style::Lines };
    let any = read_records(&mut r, filter, &SharedOut::new(&mut *out, style), style, &name)?;
    super::trailing_bytes(r, &name)?;
    if array {
        out.write_all(if any { b"\n]\n" } else { b"]\n" })?;
    }
    drop(progress);
    Ok(())
}

/// Reads the keys on every core ([`RdbReader::read_fanned`]) and writes their records
/// of `style` to `out` in file order; says whether there were any. Each worker formats
/// its keys ([`Formatted`]); the keys too large to copy are read in their turn and
/// their records written as they are made, big ones in pieces ([`JsonKeys`]).
fn read_records<'s, R: Read>(
    r: &mut RdbReader<R>,
    filter: &KeyFilter,
    out: &'s SharedOut<'s>,
    style: Style,
    name: &str,
) -> anyhow::Result<bool> {
    let fork =
        |_: &mut OtherRecords, forked| JsonKeys::new(Formatted::new(style, (forked == Forked::InTurn).then_some(out)));
    let finish = |w: &mut JsonKeys, text: &mut Vec<u8>| w.records().take(text);
    let sink = |text: Vec<u8>| -> Result<(), VisitError> { Ok(out.put(&text)?) };
    let read = r.read_fanned(&mut OtherRecords, filter, fork, finish, sink);
    // A write error is reported as it is, not as the read's.
    if let Some(failed) = out.take_error() {
        return Err(failed.into());
    }
    read.map_err(|e| super::read_error(e, name))?;
    Ok(out.any())
}

/// The records other than keys, which the JSON outputs leave out.
struct OtherRecords;

impl Visitor for OtherRecords {}
