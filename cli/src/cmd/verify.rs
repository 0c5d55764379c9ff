//! `rdbkit verify`: full structural check and checksum of each file.

use std::io::Write;
use std::time::Instant;

use rdb_parser::dupkeys::RepeatFilter;
use rdb_parser::{Checksum, Header, KeyEnd, KeyStart, Visit, VisitError, VisitResult, Visitor};

use crate::args::{ReportFormat, VerifyArgs};
use crate::exit::{classify, Code};
use crate::input::Input;
use crate::output::Output;
use crate::CmdResult;

/// Counts what a verification walked through, and fingerprints the keys.
struct Tally {
    header: Option<Header>,
    keys: u64,
    checksum: Option<Checksum>,
    filter: RepeatFilter,
}

impl Visitor for Tally {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.header = Some(*h);
        Ok(())
    }
    fn key_start(&mut self, k: &KeyStart<'_>) -> Result<Visit, VisitError> {
        self.filter.add(k.db, k.key);
        // Only counted: the reader still checks every value, but need not hand over
        // (or even decompress) what nobody reads.
        Ok(Visit::Skip)
    }
    fn key_end(&mut self, _: &KeyEnd) -> VisitResult {
        self.keys += 1;
        Ok(())
    }
    fn end(&mut self, c: Checksum) -> VisitResult {
        self.checksum = Some(c);
        Ok(())
    }
}

pub fn checksum_text(c: Option<Checksum>) -> String {
    match c {
        Some(Checksum::Ok(v)) => format!("ok ({v:016x})"),
        Some(Checksum::Disabled) => "not computed (stored as 0)".into(),
        Some(Checksum::Absent) => "none (RDB version before 5)".into(),
        None => "not reached".into(),
    }
}

pub fn run(a: &VerifyArgs, quiet: bool) -> CmdResult {
    let mut out = Output::stdout();
    let mut worst = Code::Ok;
    let mut results = Vec::new();
    for path in &a.files {
        if super::aof::is_aof_input(path) {
            let (code, result) = super::aof::verify(path, a.format == ReportFormat::Text);
            worst = worst.max(code);
            results.push(result);
            continue;
        }
        let started = Instant::now();
        let size = std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len());
        let mut tally = Tally { header: None, keys: 0, checksum: None, filter: RepeatFilter::new(size) };
        let mut warning = None;
        let outcome = Input::open(path, quiet)
            .and_then(|input| super::read_file_with(input, &mut tally, super::checking_options(a.read.relaxed)))
            .and_then(|n| {
                let filter = std::mem::replace(&mut tally.filter, RepeatFilter::new(Some(0)));
                warning = super::dupcheck::confirm(path, filter, a.read.relaxed)?;
                Ok(n)
            });
        let trailing = *outcome.as_ref().unwrap_or(&0);
        let name = if path.as_os_str() == "-" { "<stdin>".to_string() } else { path.display().to_string() };
        let seconds = started.elapsed().as_secs_f64();
        let partial = super::take_partial();
        match outcome {
            Ok(_) if !partial.is_empty() => {
                worst = worst.max(Code::BadData);
                let version = tally.header.map(|h| h.label()).unwrap_or_default();
                let note = partial.join("; ");
                if a.format == ReportFormat::Text {
                    stdout!("{name}: partial ({version}, {} keys read before the stop)", tally.keys)?;
                    eprintln!("warning: {note}");
                }
                results.push(serde_json::json!({
                    "file": name, "valid": false, "partial": note, "version": version, "keys": tally.keys,
                    "exit_code": Code::BadData as u8, "seconds": seconds,
                }));
            }
            Ok(_) => {
                let version = tally.header.map(|h| h.label()).unwrap_or_default();
                if a.format == ReportFormat::Text {
                    writeln!(
                        out,
                        "{name}: ok ({version}, {} keys, checksum {})",
                        tally.keys,
                        checksum_text(tally.checksum)
                    )?;
                    out.flush()?;
                    if trailing > 0 {
                        stderr!("warning: {name}: {trailing} bytes after the checksum (servers ignore them)");
                    }
                    if let Some(w) = &warning {
                        eprintln!("warning: {name}: {w}");
                    }
                }
                results.push(serde_json::json!({
                    "file": name, "valid": true, "version": version, "keys": tally.keys,
                    "checksum": checksum_text(tally.checksum), "trailing_bytes": trailing, "seconds": seconds,
                    "warning": warning,
                }));
            }
            Err(err) => {
                let code = classify(&err);
                worst = worst.max(code);
                if a.format == ReportFormat::Text {
                    stderr!("error: {err:#}");
                }
                let offset = err.chain().find_map(|c| c.downcast_ref::<rdb_parser::Error>()).map(|e| e.offset());
                results.push(serde_json::json!({
                    "file": name, "valid": false, "error": format!("{err:#}"), "offset": offset,
                    "exit_code": code as u8, "seconds": seconds,
                }));
            }
        }
    }
    if a.format == ReportFormat::Json {
        serde_json::to_writer_pretty(&mut out, &results)?;
        out.write_all(b"\n")?;
    }
    out.commit()?;
    Ok(worst)
}
