//! `rdbkit convert`: RDB to NDJSON, JSON or RESP.

use std::io::Write;

use rdb_parser::{Filtered, Forked, KeyFilter, RdbReader, VisitError, Visitor};
use resp::rewrite::{RespOut, RespWriter};

use crate::args::{ConvertArgs, ConvertTo};
use crate::exit::Code;
use crate::filter::key_filter;
use crate::input::Input;
use crate::output::bigkey::JsonKeys;
use crate::output::formatted::{Formatted, SharedOut};
use crate::output::paths::check_distinct;
use crate::output::pipeline::{Item, Pipeline};
use crate::output::text::Text;
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
        ConvertTo::Ndjson => {
            // The keys are read and formatted on every core (rdb_parser's read_fanned).
            let input = Input::open_inline(&a.input, quiet)?;
            let mut out = Output::create(a.output.as_deref())?;
            write_lines(input, &filter, &mut out, a.read.relaxed)?;
            out.commit()?;
        }
        ConvertTo::Json => {
            let input = Input::open(&a.input, quiet)?;
            let mut out = Output::create(a.output.as_deref())?;
            write_records(input, &filter, &mut out, a.read.relaxed)?;
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

/// Streams one NDJSON line per key. The keys are read and formatted on every core
/// ([`RdbReader::read_fanned`], [`Formatted`]) and the lines written in file order; the
/// keys too large to copy are read in their turn and their lines written as they are
/// made, big ones in pieces ([`JsonKeys`]).
fn write_lines(input: Input, filter: &KeyFilter, out: &mut Output, relaxed: bool) -> anyhow::Result<()> {
    let Input { name, reader, progress } = input;
    let mut r = RdbReader::with_options(reader, super::reader_options(relaxed));
    let shared = SharedOut::new(out);
    let fork =
        |_: &mut OtherRecords, forked| JsonKeys::new(Formatted::new((forked == Forked::InTurn).then_some(&shared)));
    let finish = |w: &mut JsonKeys<Formatted>, lines: &mut Vec<u8>| w.records_mut().take(lines);
    let sink = |lines: Vec<u8>| -> Result<(), VisitError> { Ok(shared.put(&lines)?) };
    let read = r.read_fanned(&mut OtherRecords, filter, fork, finish, sink);
    if let Some(failed) = shared.take_error() {
        return Err(failed.into());
    }
    read.map_err(|e| super::read_error(e, &name))?;
    super::trailing_bytes(r, &name)?;
    drop(progress);
    Ok(())
}

/// The records other than keys, which NDJSON leaves out.
struct OtherRecords;

impl Visitor for OtherRecords {}

/// Streams the records as a JSON array. They are formatted and written on a second
/// thread ([`Pipeline`]) while the next keys are read; big keys go in pieces
/// ([`JsonKeys`]).
fn write_records(input: Input, filter: &KeyFilter, out: &mut Output, relaxed: bool) -> anyhow::Result<()> {
    let Input { name, reader, progress } = input;
    let mut r = RdbReader::with_options(reader, super::reader_options(relaxed));
    let mut any = false;
    out.write_all(b"[")?;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut first = true;
        let format = move |t: &mut Text, item: &Item| {
            let separator = |t: &mut Text| t.extend_from_slice(if std::mem::take(&mut first) { b"\n" } else { b",\n" });
            item.write(t, separator, |_| {});
        };
        let mut v = Filtered::new(JsonKeys::new(Pipeline::start(scope, &mut *out, format)), filter);
        let read = r.read_all(&mut v);
        if let Some(failed) = v.inner.failed.take() {
            return Err(failed);
        }
        read.map_err(|e| super::read_error(e, &name))?;
        any = v.inner.records > 0;
        v.inner.into_records().finish()
    })?;
    super::trailing_bytes(r, &name)?;
    out.write_all(if any { b"\n]\n" } else { b"]\n" })?;
    drop(progress);
    Ok(())
}
