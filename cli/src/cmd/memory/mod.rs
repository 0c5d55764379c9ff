//! `rdbkit memory`: per-key memory estimates (what `MEMORY USAGE` reports after the
//! server loads the dump), as rows or as a summary, and an HTML report.
//!
//! One pass, constant memory apart from the top-N lists and the bounded prefix tree.

mod args;
mod html;
mod prefix;
mod rows;
mod summary;
mod table;

use std::cell::Cell;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use rdb_parser::memory::{KeyMemory, MemoryOptions, MemoryVisitor};
use rdb_parser::{RdbReader, VisitError};
use serde_json::json;

pub use args::{MemoryArgs, MemoryFormat};
use prefix::PrefixTree;
use summary::Summary;

use crate::exit::{usage, Code};
use crate::filter::key_filter;
use crate::input::Input;
use crate::output::paths::check_distinct;
use crate::output::Output;
use crate::CmdResult;

/// Separators the HTML report uses when `--by-prefix` is not given.
const DEFAULT_SEPARATORS: &str = ":";
/// Prefix tree children per node in `summary-json`.
const JSON_CHILDREN: usize = 1000;

pub fn run(a: &MemoryArgs, quiet: bool) -> CmdResult {
    let filter = key_filter(&a.filter.dbs, &a.filter.keys, &a.filter.types)?;
    let seps = match (&a.by_prefix, &a.html) {
        (Some(s), _) => Some(separators(s)?),
        (None, Some(_)) => Some(DEFAULT_SEPARATORS.as_bytes().to_vec()),
        (None, None) => None,
    };
    check_distinct(&[("input", &a.file)], &[("-o", a.output.as_deref()), ("--html", a.html.as_deref())])?;
    // The keys are visited on every core (rdb_parser's read_fanned).
    let input = Input::open_inline(&a.file, quiet)?;
    let mut out = Output::create(a.output.as_deref())?;
    let options = MemoryOptions { allocator: a.allocator, server_version: a.server_version };
    let mut v = MemoryVisitor::new(options);
    let need_summary = a.html.is_some() || matches!(a.format, MemoryFormat::Table | MemoryFormat::SummaryJson);
    let tree = seps.as_deref().map(|s| PrefixTree::new(s, usize::from(a.depth), a.max_prefixes as usize));
    let mut summary = Summary::new(a.top, tree);
    if a.format == MemoryFormat::Csv {
        out.write_all(rows::CSV_HEADER.as_bytes())?;
    }
    // When the dump was written: set from the dump's facts at the first key.
    let reference = Cell::new(None);

    let Input { name, reader, progress } = input;
    let mut r = RdbReader::with_options(reader, super::reader_options(a.read.relaxed));
    let fork = |v: &mut MemoryVisitor, _| {
        reference.set(Some(v.dump_time_ms().unwrap_or_else(now_ms)));
        v.fork()
    };
    let (format, min_bytes) = (a.format, a.min_bytes);
    let finish = |w: &mut MemoryVisitor, rows: &mut Rows| {
        let Some(k) = w.take().filter(|k| k.size_in_bytes >= min_bytes) else { return };
        match format {
            MemoryFormat::Csv => rows::csv(&mut rows.text, &k),
            MemoryFormat::Json => rows::ndjson(&mut rows.text, &k),
            MemoryFormat::Table | MemoryFormat::SummaryJson => {}
        }
        if need_summary {
            rows.keys.push(k);
        }
    };
    let sink = |rows: Rows| -> Result<(), VisitError> {
        out.write_all(&rows.text)?;
        if !rows.keys.is_empty() {
            summary.reference_ms = reference.get().unwrap_or_default();
        }
        for k in &rows.keys {
            summary.add(k);
        }
        Ok(())
    };
    r.read_fanned(&mut v, &filter, fork, finish, sink).map_err(|e| super::read_error(e, &name))?;
    super::trailing_bytes(r, &name)?;
    drop(progress);

    let profile = v.profile();
    let about = json!({
        "file": name,
        "server": profile.version().to_string(),
        "dump_server": v.dump_version().map(|s| s.to_string()),
        "allocator": profile.allocator().name(),
        "validated": profile.validated(),
        "separators": seps.as_deref().map(String::from_utf8_lossy),
    });
    match a.format {
        MemoryFormat::Table => out.write_all(table::render(&summary, &about).as_bytes())?,
        MemoryFormat::SummaryJson => {
            serde_json::to_writer_pretty(&mut out, &summary.to_json(about.clone(), JSON_CHILDREN))?;
            out.write_all(b"\n")?;
        }
        MemoryFormat::Csv | MemoryFormat::Json => {}
    }
    if let Some(path) = &a.html {
        html::write(path, &summary, &about)?;
    }
    out.commit()?;
    Ok(Code::Ok)
}

/// The rows made of a batch of keys, and the keys when a summary needs them.
#[derive(Default)]
struct Rows {
    text: Vec<u8>,
    keys: Vec<KeyMemory>,
}

/// `--by-prefix` characters: ASCII, at least one.
fn separators(s: &str) -> anyhow::Result<Vec<u8>> {
    if s.is_empty() || !s.is_ascii() {
        return Err(usage(format!("--by-prefix takes one or more ASCII separator characters, got {s:?}")));
    }
    Ok(s.as_bytes().to_vec())
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
