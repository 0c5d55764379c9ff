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

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use rdb_parser::memory::{MemoryOptions, MemoryVisitor};
use rdb_parser::{Filtered, RdbReader, Step};
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
    let input = Input::open(&a.file, quiet)?;
    let mut out = Output::create(a.output.as_deref())?;
    let options = MemoryOptions { allocator: a.allocator, server_version: a.server_version };
    let mut v = Filtered::new(MemoryVisitor::new(options), &filter);
    let need_summary = a.html.is_some() || matches!(a.format, MemoryFormat::Table | MemoryFormat::SummaryJson);
    let tree = seps.as_deref().map(|s| PrefixTree::new(s, usize::from(a.depth), a.max_prefixes as usize));
    let mut summary = Summary::new(a.top, tree);
    let mut reference_set = false;
    let mut line = Vec::with_capacity(256);
    if a.format == MemoryFormat::Csv {
        out.write_all(rows::CSV_HEADER.as_bytes())?;
    }

    let Input { name, reader, progress } = input;
    let mut r = RdbReader::with_options(reader, super::reader_options(a.read.relaxed));
    loop {
        match r.next_record(&mut v).map_err(|e| super::read_error(e, &name))? {
            Step::End => break,
            Step::Record => {}
            Step::Key => {
                let Some(k) = v.inner.take() else { continue };
                if k.size_in_bytes < a.min_bytes {
                    continue;
                }
                line.clear();
                match a.format {
                    MemoryFormat::Csv => rows::csv(&mut line, &k),
                    MemoryFormat::Json => rows::ndjson(&mut line, &k),
                    MemoryFormat::Table | MemoryFormat::SummaryJson => {}
                }
                out.write_all(&line)?;
                if need_summary {
                    if !reference_set {
                        summary.reference_ms = v.inner.dump_time_ms().unwrap_or_else(now_ms);
                        reference_set = true;
                    }
                    summary.add(&k);
                }
            }
        }
    }
    super::trailing_bytes(r, &name)?;
    drop(progress);

    let profile = v.inner.profile();
    let about = json!({
        "file": name,
        "server": profile.version().to_string(),
        "dump_server": v.inner.dump_version().map(|s| s.to_string()),
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
