//! `rdbkit convert` with an AOF on either side: an AOF's final dataset as records, RESP
//! or an RDB; an RDB (or AOF) as a new appendonlydir.

use std::io::Write;

use aof_tools::emit::{for_each_entry, write_rdb, write_resp, Emitted};
use aof_tools::replay::now_ms;
use aof_tools::rewrite::{target_version, write_aof, write_aof_with, Preamble, RewriteOptions, Written};
use rdb_parser::{KeyFilter, RdbType};

use super::replay::{replay, resolve_target, ReplayArgs, Replayed};
use crate::args::{ConvertArgs, ConvertTo};
use crate::cmd::to_rdb;
use crate::exit::usage;
use crate::output::text::Text;
use crate::output::{record, Output};

fn target(a: &ConvertArgs, r: &Replayed) -> anyhow::Result<rdb_parser::Target> {
    match (&a.rdb.target, a.rdb.rdb_version) {
        (None, Some(v)) => Ok(rdb_parser::Target::for_version(v, v >= 80)
            .map_err(|e| usage(format!("--rdb-version {v}: {}", e.kind())))?),
        (name, _) => resolve_target(name.as_deref(), r),
    }
}

/// Converts an AOF (or, with `--to aof`, any input) through a replayed dataset.
pub fn run(a: &ConvertArgs, quiet: bool) -> anyhow::Result<()> {
    if !a.filter.dbs.is_empty() || !a.filter.keys.is_empty() || !a.filter.types.is_empty() {
        return Err(usage("--db, --key and --type apply to RDB input only"));
    }
    if a.rdb.lossy || !a.rdb.rename_db.is_empty() {
        return Err(usage("--lossy and --rename-db apply to RDB input only"));
    }
    let r = replay(&a.input, &ReplayArgs { memory_budget: None, until: None }, quiet)?;
    let now = now_ms();
    if a.to == ConvertTo::Aof {
        let Some(dir) = &a.output else { return Err(usage("--to aof needs -o OUTDIR (a directory to create)")) };
        let options = RewriteOptions {
            preamble: Preamble::Rdb,
            target: target(a, &r)?,
            append_filename: "appendonly.aof".into(),
            now_ms: now,
        };
        print_files(&write_aof(&r.data, dir, &options)?);
        return Ok(());
    }
    let mut out = Output::create(a.output.as_deref())?;
    match a.to {
        ConvertTo::Rdb => {
            write_rdb(&r.data, target(a, &r)?, &mut out, now)?;
        }
        ConvertTo::Resp => {
            let t = target(a, &r)?;
            write_resp(&r.data, &mut out, target_version(&t), now)?;
        }
        ConvertTo::Ndjson | ConvertTo::Json => {
            let array = a.to == ConvertTo::Json;
            let mut first = true;
            if array {
                out.write_all(b"[")?;
            }
            let mut text = Text::new(&mut out);
            for_each_entry(&r.data, now, RdbType::StreamListpacks3, |e| {
                if array {
                    text.extend_from_slice(if first { b"\n" } else { b",\n" });
                }
                record::write(&mut text, e);
                if !array {
                    text.push(b'\n');
                }
                first = false;
                text.spill();
                Ok(())
            })?;
            text.flush()?;
            drop(text);
            if array {
                out.write_all(if first { b"]\n" } else { b"\n]\n" })?;
            }
        }
        ConvertTo::Aof => {}
    }
    out.commit()?;
    // The process ends here: leave the dataset to the OS instead of freeing it key by key.
    std::mem::forget(r);
    Ok(())
}

/// An RDB as a new appendonlydir: the dump streamed into an RDB base as `--to rdb` writes
/// it for the target (one key at a time, whatever the dump's size), an empty incr file
/// and a manifest.
pub fn from_rdb(a: &ConvertArgs, filter: &KeyFilter, quiet: bool) -> anyhow::Result<()> {
    let Some(dir) = &a.output else { return Err(usage("--to aof needs -o OUTDIR (a directory to create)")) };
    let renames = to_rdb::Renames::new(a);
    let prepared = to_rdb::prepare(a, filter, quiet, &renames)?;
    let options = RewriteOptions {
        preamble: Preamble::Rdb,
        target: prepared.target().clone(),
        append_filename: "appendonly.aof".into(),
        now_ms: now_ms(),
    };
    let written =
        write_aof_with(dir, &options, |out| prepared.write(out, filter, a.rdb.lossy).map(|()| Emitted::default()))?;
    print_files(&written);
    Ok(())
}

fn print_files(w: &Written) {
    for (p, size) in &w.files {
        println!("{}: {size} bytes", p.display());
    }
}
