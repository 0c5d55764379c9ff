//! `rdbkit aof info`: parts, sizes, commands per name, transactions, `#TS:` range.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use aof_tools::reader::{read_layout, timestamp, Command, Handler, PartEnd, ReadOptions};
use aof_tools::{Layout, Part, Position};
use rdb_parser::{Header, KeyEnd, KeyStart, Visit, VisitError, VisitResult, Visitor};
use serde_json::{json, Value};

use super::args::InfoArgs;
use crate::args::ReportFormat;
use crate::exit::Code;
use crate::CmdResult;

/// Keys and libraries of an RDB base, without decoding values.
#[derive(Default)]
struct RdbTally {
    header: Option<Header>,
    keys: u64,
    functions: u64,
}

impl Visitor for RdbTally {
    fn header(&mut self, h: &Header) -> VisitResult {
        self.header = Some(*h);
        Ok(())
    }
    fn function(&mut self, _: &[u8]) -> VisitResult {
        self.functions += 1;
        Ok(())
    }
    fn key_start(&mut self, _: &KeyStart<'_>) -> Result<Visit, VisitError> {
        Ok(Visit::Skip)
    }
    fn key_end(&mut self, _: &KeyEnd) -> VisitResult {
        self.keys += 1;
        Ok(())
    }
}

#[derive(Default)]
struct Tally {
    rdb: RdbTally,
    commands: BTreeMap<String, u64>,
    transactions: u64,
    timestamps: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    parts: Vec<Value>,
    part_keys: u64,
    truncated: Option<String>,
}

/// `XGROUP CREATE`, `FUNCTION LOAD`...: the name, with the subcommand for containers.
pub fn command_label(cmd: &Command<'_>) -> String {
    let name = String::from_utf8_lossy(cmd.name()).to_ascii_uppercase();
    let container = matches!(name.as_str(), "XGROUP" | "FUNCTION" | "SCRIPT" | "CLIENT" | "CONFIG" | "OBJECT");
    match (container, cmd.len() > 1) {
        (true, true) => format!("{name} {}", String::from_utf8_lossy(cmd.arg(1)).to_ascii_uppercase()),
        _ => name,
    }
}

impl Handler for Tally {
    type Rdb = RdbTally;
    fn rdb(&mut self) -> &mut RdbTally {
        &mut self.rdb
    }
    fn part_start(&mut self, _: &Part) -> aof_tools::Result<()> {
        self.part_keys = self.rdb.keys;
        Ok(())
    }
    fn command(&mut self, cmd: &Command<'_>) -> aof_tools::Result<()> {
        let label = command_label(cmd);
        if label == "MULTI" {
            self.transactions += 1;
        }
        *self.commands.entry(label).or_default() += 1;
        Ok(())
    }
    fn annotation(&mut self, text: &[u8], _: &Position) -> aof_tools::Result<()> {
        if let Some(t) = timestamp(text) {
            self.timestamps += 1;
            self.first_ts.get_or_insert(t);
            self.last_ts = Some(t);
        }
        Ok(())
    }
    fn part_end(&mut self, part: &Part, end: &PartEnd) -> aof_tools::Result<()> {
        let mut v = json!({
            "file": part.path.display().to_string(), "type": part.kind.name(), "seq": part.seq,
            "bytes": part.size, "commands": end.commands,
        });
        if let Some(at) = end.rdb_end {
            let label = self.rdb.header.map(|h| h.label()).unwrap_or_default();
            v["rdb"] = json!({"header": label, "bytes": at, "keys": self.rdb.keys - self.part_keys});
        }
        if let Some(t) = &end.truncated {
            self.truncated = Some(format!(
                "{}: {}; a server loads it up to offset {} ({} bytes left out)",
                part.path.display(),
                t.reason,
                t.valid_up_to,
                t.dropped_bytes
            ));
            v["torn_tail"] = json!({"valid_up_to": t.valid_up_to, "dropped_bytes": t.dropped_bytes});
        }
        self.parts.push(v);
        Ok(())
    }
}

pub fn run(a: &InfoArgs, quiet: bool) -> CmdResult {
    let layout = Layout::open(&a.path)?;
    let (bar, progress) = super::progress(layout.total_bytes(), quiet);
    let mut t = Tally::default();
    read_layout(&layout, &ReadOptions { progress, ..ReadOptions::default() }, &mut t)?;
    drop(bar);
    let total: u64 = t.commands.values().sum();
    let history: Vec<String> = layout.history().iter().map(|h| String::from_utf8_lossy(&h.name).into_owned()).collect();
    let doc = json!({
        "path": a.path.display().to_string(),
        "layout": if layout.is_multi_part() { "multi-part" } else { "single file" },
        "manifest": layout.manifest.as_ref().map(|(p, _)| p.display().to_string()),
        "history": history,
        "parts": t.parts,
        "bytes": layout.total_bytes(),
        "commands": total,
        "transactions": t.transactions,
        "per_command": t.commands,
        "rdb_keys": t.rdb.keys,
        "rdb_functions": t.rdb.functions,
        "timestamps": {"count": t.timestamps, "first": t.first_ts, "last": t.last_ts},
        "torn_tail": t.truncated,
    });
    if a.format == ReportFormat::Json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(Code::Ok);
    }
    let mut out = String::new();
    writeln!(
        out,
        "{}: {} AOF, {} bytes",
        a.path.display(),
        doc["layout"].as_str().unwrap_or(""),
        layout.total_bytes()
    )?;
    if let Some((m, _)) = &layout.manifest {
        writeln!(out, "manifest: {}", m.display())?;
    }
    for p in doc["parts"].as_array().into_iter().flatten() {
        let rdb = match p.get("rdb") {
            Some(r) => {
                format!(", RDB {} of {} bytes with {} keys", r["header"].as_str().unwrap_or(""), r["bytes"], r["keys"])
            }
            None => String::new(),
        };
        writeln!(
            out,
            "  {} ({} seq {}): {} bytes{rdb}, {} commands",
            p["file"].as_str().unwrap_or(""),
            p["type"].as_str().unwrap_or(""),
            p["seq"],
            p["bytes"],
            p["commands"]
        )?;
    }
    if !history.is_empty() {
        writeln!(out, "history files (not loaded): {}", history.join(", "))?;
    }
    writeln!(out, "commands: {total} ({} transactions)", t.transactions)?;
    let mut by_count: Vec<(&String, &u64)> = t.commands.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (name, n) in by_count {
        writeln!(out, "  {name:<24} {n}")?;
    }
    match (t.first_ts, t.last_ts) {
        (Some(a), Some(b)) => writeln!(out, "#TS: annotations: {} from {a} to {b}", t.timestamps)?,
        _ => writeln!(out, "#TS: annotations: none (aof-timestamp-enabled is off)")?,
    }
    if let Some(torn) = &t.truncated {
        writeln!(out, "torn tail: {torn}")?;
    }
    std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes())?;
    Ok(Code::Ok)
}
