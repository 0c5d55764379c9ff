//! `rdbkit restore`: load a dump into a running server or cluster (see
//! [`backup::restore`]); this module only turns flags into options and prints.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use backup::restore::{restore, DumpSource, RestoreOptions, Summary};
use serde_json::json;

use crate::args::{ReportFormat, RestoreArgs};
use crate::exit::{usage, Code};
use crate::filter::key_filter;
use crate::input::Input;
use crate::output::Output;
use crate::CmdResult;

/// Failures and warnings listed one by one.
const MAX_LISTED: usize = 50;

/// The dump file (`-` is standard input), with a progress bar on a terminal.
struct DumpFile<'a> {
    path: &'a Path,
    quiet: bool,
}

impl DumpSource for DumpFile<'_> {
    fn open(&self) -> std::io::Result<Box<dyn Read + '_>> {
        let input = Input::open(self.path, self.quiet).map_err(std::io::Error::other)?;
        Ok(Box::new(ProgressReader(input)))
    }
    fn reopenable(&self) -> bool {
        // Only a regular file: a FIFO would be opened again and wait forever.
        self.path != Path::new("-") && std::fs::metadata(self.path).is_ok_and(|m| m.is_file())
    }
}

/// Reads an [`Input`], keeping its progress bar alive until dropped.
struct ProgressReader(Input);

impl Read for ProgressReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.reader.read(buf)
    }
}

pub fn run(a: &RestoreArgs, quiet: bool) -> CmdResult {
    if a.pipeline == 0 {
        return Err(usage("--pipeline must be at least 1"));
    }
    let target = match &a.target {
        Some(name) => Some(rdb_parser::Target::named(name).ok_or_else(|| usage(format!("unknown --target {name:?}")))?),
        None => None,
    };
    let mut connect = a.server.connect_options(&a.url)?;
    connect.timeout = Duration::from_secs(a.timeout);
    let options = RestoreOptions {
        connect,
        cluster: a.cluster,
        replace: a.replace,
        dry_run: a.dry_run,
        pipeline: a.pipeline,
        target,
        lossy: a.lossy,
        rename_db: a.rename_db.iter().copied().collect(),
        filter: key_filter(&a.filter.dbs, &a.filter.keys, &a.filter.types)?,
    };
    let name = if a.file == Path::new("-") { "<stdin>".to_string() } else { a.file.display().to_string() };
    if a.file != Path::new("-") {
        // Before connecting: a missing dump is the dump's problem, not the server's. Only
        // metadata: opening a FIFO here would take the one stream it carries.
        std::fs::metadata(&a.file).with_context(|| format!("{name}: cannot open"))?;
    }
    let shown = options.connect.url.to_string();
    let summary = restore(&DumpFile { path: &a.file, quiet }, &options).map_err(|e| match e {
        backup::Error::Dump(_) => anyhow::Error::new(e).context(name),
        // Opening the dump: the message names it already.
        backup::Error::Io(_) => anyhow::Error::new(e),
        // Already names the node it happened at.
        backup::Error::Server(resp::Error::Node { .. }) => anyhow::Error::new(e),
        e => anyhow::Error::new(e).context(shown),
    })?;
    report(a.format, &summary)
}

/// Prints the failures (the first ones, then counts by error code) on stderr and the
/// summary on stdout. Exit 3 when the server refused keys or the restore stopped, 1
/// when keys do not fit the target, else 0.
pub fn report(format: ReportFormat, s: &Summary) -> CmdResult {
    let t = &s.tally;
    for (level, list, total) in [("warning", &t.warnings, t.warnings_total), ("error", &t.failures, t.failed())] {
        for line in list.iter().take(MAX_LISTED) {
            stderr!("{level}: {line}");
        }
        let listed = list.len().min(MAX_LISTED) as u64;
        if total > listed {
            stderr!("{level}: ... and {} more", total - listed);
        }
    }
    if t.failed() > MAX_LISTED as u64 {
        let codes: Vec<String> = t.failure_codes.iter().map(|(code, n)| format!("{code} {n}")).collect();
        stderr!("error: failed keys by error: {}", codes.join(", "));
    }
    if let Some(why) = &t.stopped {
        stderr!("error: {}: {why}", s.server);
    }
    let seconds = s.seconds;
    let rate = if seconds > 0.0 { t.restored as f64 / seconds } else { 0.0 };
    let summary = json!({
        "server": s.server, "target": s.target, "dry_run": s.dry_run, "restored": t.restored,
        "via_commands": t.via_commands, "failed": t.failed(), "refused": t.refused, "unfit": t.unfit,
        "failures_by_code": t.failure_codes, "stopped": t.stopped, "skipped_expired": t.expired,
        "left_out": t.dropped, "payload_bytes": t.payload_bytes, "seconds": seconds, "keys_per_second": rate,
    });
    let mut out = Output::stdout();
    match format {
        ReportFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?,
        ReportFormat::Text => writeln!(
            out,
            "{}{} ({}): {} keys restored ({} as commands), {} failed, {} expired and skipped, {} left out; \
             {} payload bytes in {seconds:.2} s ({rate:.0} keys/s)",
            if s.dry_run { "dry run, nothing sent to " } else { "" },
            s.server,
            s.target,
            t.restored,
            t.via_commands,
            t.failed(),
            t.expired,
            t.dropped,
            t.payload_bytes
        )?,
    }
    out.commit()?;
    Ok(if t.refused > 0 || t.stopped.is_some() {
        Code::Io
    } else if t.unfit > 0 {
        Code::BadData
    } else {
        Code::Ok
    })
}
