//! `rdbkit aof check`: redis-check-aof's verdict, and safe cuts.

use aof_tools::check::{check, FileCheck, Report, Status};
use aof_tools::fix::{backup_path, cut};
use aof_tools::Layout;

use super::args::CheckArgs;
use crate::exit::Code;
use crate::CmdResult;

fn describe(f: &FileCheck) -> String {
    let what = match &f.rdb {
        Some((h, end)) => format!("RDB preamble {} up to offset {end}, then {} commands", h.label(), f.commands),
        None => format!("{} commands", f.commands),
    };
    format!("{} bytes, {what}", f.size)
}

pub fn run(a: &CheckArgs) -> CmdResult {
    let layout = Layout::open(&a.path)?;
    let report = check(&layout, a.truncate_to_timestamp)?;
    print_report(&report);
    if let Some(fatal) = &report.fatal {
        eprintln!("error: {}: {}", fatal.path.display(), fatal.message);
        return Ok(Code::BadData);
    }
    let Some(last) = report.files.last() else {
        println!("{}: no files to load", a.path.display());
        return Ok(Code::Ok);
    };
    match &last.status {
        Status::Valid | Status::Empty => {
            if let Some(t) = a.truncate_to_timestamp {
                println!("nothing to cut: no #TS: annotation later than {t}");
            }
            println!("AOF is valid");
            Ok(Code::Ok)
        }
        Status::CutAtTimestamp { annotation_at, cut_at } => {
            let t = a.truncate_to_timestamp.unwrap_or_default();
            if cut_at != annotation_at {
                println!(
                    "{}: the first #TS: later than {t} (offset {annotation_at}) is inside a transaction; cutting before its MULTI",
                    last.path.display()
                );
            }
            apply_cut(a, last, *cut_at, &format!("the commands after time {t}"))
        }
        Status::Invalid if !a.fix => {
            println!("AOF is not valid; `rdbkit aof check --fix` cuts the last file at offset {}", last.ok_up_to);
            Ok(Code::BadData)
        }
        Status::Invalid if !last.last => {
            eprintln!(
                "error: {}: refusing to cut a file that is not the last one of the manifest (the server cannot \
                 load what follows it either); restore it from a backup",
                last.path.display()
            );
            Ok(Code::BadData)
        }
        Status::Invalid => apply_cut(a, last, last.ok_up_to, "the invalid tail"),
    }
}

fn apply_cut(a: &CheckArgs, f: &FileCheck, at: u64, what: &str) -> CmdResult {
    let removed = f.size - at;
    let share = if f.size > 0 { removed as f64 * 100.0 / f.size as f64 } else { 0.0 };
    if a.dry_run {
        println!(
            "would cut {what}: {removed} bytes ({share:.1}% of the file) of {} after offset {at}, keeping a backup at {}",
            f.path.display(),
            backup_path(&f.path, a.backup_dir.as_deref()).display()
        );
        return Ok(if f.status == Status::Invalid { Code::BadData } else { Code::Ok });
    }
    let done = cut(&f.path, at, a.backup_dir.as_deref())?;
    println!(
        "cut {what}: {} bytes ({share:.1}% of the file) of {} after offset {at}; the original is kept as {}",
        done.removed_bytes,
        f.path.display(),
        done.backup.display()
    );
    Ok(Code::Ok)
}

fn print_report(r: &Report) {
    for f in &r.files {
        let name = f.path.display();
        match &f.status {
            Status::Valid => println!("{name}: valid ({})", describe(f)),
            Status::Empty => println!("{name}: empty"),
            Status::CutAtTimestamp { annotation_at, .. } => {
                println!("{name}: first #TS: past the time at offset {annotation_at} ({})", describe(f))
            }
            Status::Invalid => {
                let (at, msg) = f.error.clone().unwrap_or((f.ok_up_to, "invalid".into()));
                println!("{name}: invalid at offset {at}: {msg}");
                println!(
                    "  valid up to offset {} (ok_up_to_line={}); {} bytes after it",
                    f.ok_up_to,
                    f.line,
                    f.size - f.ok_up_to
                );
            }
        }
    }
}
