//! `rdbkit convert`: RDB to NDJSON, JSON or RESP.

use std::io::Write;

use rdb_parser::{Filtered, KeyFilter, RdbReader};
use resp::rewrite::{RespOut, RespWriter};

use crate::args::{ConvertArgs, ConvertTo};
use crate::exit::Code;
use crate::filter::key_filter;
use crate::input::Input;
use crate::output::bigkey::JsonKeys;
use crate::output::paths::check_distinct;
use crate::output::pipeline::{Item, Pipeline};
use crate::output::text::Text;
use crate::output::{record, Output};
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
            let input = Input::open(&a.input, quiet)?;
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

/// Streams one record per key; as a JSON array when `array` is set. Records are
/// formatted and written on a second thread ([`Pipeline`]) while the next keys are read;
/// big keys go in pieces ([`JsonKeys`]).
fn write_records(input: Input, filter: &KeyFilter, out: &mut Output, array: bool, relaxed: bool) -> anyhow::Result<()> {
    let Input { name, reader, progress } = input;
    let mut r = RdbReader::with_options(reader, super::reader_options(relaxed));
    let mut any = false;
    if array {
        out.write_all(b"[")?;
    }
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut first = true;
        let mut separator = move |t: &mut Text| {
            if array {
                t.extend_from_slice(if first { b"\n" } else { b",\n" });
            }
            first = false;
        };
        let end = |t: &mut Text| {
            if !array {
                t.push(b'\n');
            }
        };
        let format = move |t: &mut Text, item: &Item| match item {
            Item::Entry(e) => {
                separator(t);
                record::write(t, e);
                end(t);
            }
            Item::Packed(k) => {
                separator(t);
                k.write(t);
                end(t);
            }
            Item::Begin => separator(t),
            Item::Text(text) => t.extend_from_slice(text),
            Item::End => end(t),
        };
        let mut v = Filtered::new(JsonKeys::new(Pipeline::start(scope, &mut *out, format)), filter);
        let read = r.read_all(&mut v);
        if let Some(failed) = v.inner.failed.take() {
            return Err(failed);
        }
        read.map_err(|e| super::read_error(e, &name))?;
        any = v.inner.records > 0;
        v.inner.finish()
    })?;
    super::trailing_bytes(r, &name)?;
    if array {
        out.write_all(if any { b"\n]\n" } else { b"]\n" })?;
    }
    drop(progress);
    Ok(())
}
