//! `rdbkit aof rewrite`: offline compaction into a new appendonlydir.

use aof_tools::replay::now_ms;
use aof_tools::rewrite::{write_aof, Preamble, RewriteOptions};

use super::args::RewriteArgs;
use super::replay::{replay, resolve_target};
use crate::exit::Code;
use crate::CmdResult;

pub fn run(a: &RewriteArgs, quiet: bool) -> CmdResult {
    let started = std::time::Instant::now();
    let r = replay(&a.path, &a.replay, quiet)?;
    let replayed = started.elapsed().as_secs_f64();
    let target = resolve_target(a.target.as_deref(), &r)?;
    let preamble = match a.preamble.as_deref() {
        Some("rdb") => Preamble::Rdb,
        Some("resp") => Preamble::Resp,
        Some(other) => return Err(crate::exit::usage(format!("--preamble {other:?}: expected rdb or resp"))),
        // The servers' default (aof-use-rdb-preamble yes), and the only form that keeps
        // pending entries whose stream entry was deleted; but an RDB is only written for
        // a known server: any server loads commands.
        None if a.target.is_some() || r.stats.source.is_some() || r.stats.base_header.is_some() => Preamble::Rdb,
        None => {
            eprintln!("note: the input names no server version (no RDB base); writing a RESP base, which every server loads (give --target for an RDB base)");
            Preamble::Resp
        }
    };
    let options = RewriteOptions {
        preamble,
        target: target.clone(),
        append_filename: r.layout.append_filename(),
        now_ms: now_ms(),
    };
    let write_started = std::time::Instant::now();
    let written = write_aof(&r.data, &a.output, &options)?;
    let wrote = write_started.elapsed().as_secs_f64();
    let before = r.layout.total_bytes();
    let after: u64 = written.files.iter().map(|f| f.1).sum();
    for (path, size) in &written.files {
        println!("{}: {size} bytes", path.display());
    }
    let e = &written.emitted;
    println!(
        "read and replayed {} commands in {replayed:.2} s ({:.0} commands/s); wrote in {wrote:.2} s",
        r.stats.commands,
        r.stats.commands as f64 / replayed.max(1e-9)
    );
    println!(
        "{} commands replayed, {} keys and {} function libraries written for {} ({} expired keys left out); \
         {before} bytes -> {after} bytes ({:.1}% of the original)",
        r.stats.commands,
        e.keys,
        e.functions,
        target.name,
        e.expired,
        if before > 0 { after as f64 * 100.0 / before as f64 } else { 100.0 }
    );
    // The process ends here: leave the dataset to the OS instead of freeing it key by key.
    std::mem::forget(r);
    Ok(Code::Ok)
}
