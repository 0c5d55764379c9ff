//! `rdbkit aof`: check, repair, inspect, rewrite append-only files.

pub mod args;
mod check;
pub mod convert;
pub mod info;
pub mod replay;
mod rewrite;

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;

use aof_tools::reader::Progress;
use indicatif::{ProgressBar, ProgressStyle};

pub use args::AofArgs;
use args::AofCommand;

use crate::exit::{classify, Code};
use crate::CmdResult;

pub fn run(a: &AofArgs, quiet: bool) -> CmdResult {
    match &a.command {
        AofCommand::Check(c) => check::run(c),
        AofCommand::Info(i) => info::run(i, quiet),
        AofCommand::Rewrite(r) => rewrite::run(r, quiet),
    }
}

/// True when `path` is an AOF rather than an RDB dump: a directory holding one, a manifest, a file
/// that starts with a RESP array or an annotation, or a `*.aof` file (an RDB preamble
/// followed by commands, as Redis 4.0-6.2 write `appendonly.aof`).
pub fn is_aof_input(path: &Path) -> bool {
    if path == Path::new("-") {
        return false;
    }
    if path.is_dir() {
        // Any other directory gets the RDB commands' "it is a directory" error.
        return aof_tools::layout::holds_aof(path);
    }
    if path.extension().is_some_and(|e| e == "aof") {
        return true;
    }
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head)).unwrap_or(0);
    let head = &head[..n];
    aof_tools::layout::looks_like_manifest(head) || matches!(head.first(), Some(b'*' | b'#'))
}

/// A progress bar over `total` bytes on a terminal (hidden when `quiet`), and the
/// callback that moves it.
pub fn progress(total: u64, quiet: bool) -> (Option<ProgressBar>, Option<Progress>) {
    if quiet || total < (64 << 20) || !std::io::stderr().is_terminal() {
        return (None, None);
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let b = bar.clone();
    (Some(bar), Some(Arc::new(move |n| b.set_position(n))))
}

/// `rdbkit verify` of an AOF: the check of `aof check`, one line, and its JSON result.
pub fn verify(path: &Path, text: bool) -> (Code, serde_json::Value) {
    let name = path.display().to_string();
    let outcome = aof_tools::Layout::open(path).and_then(|l| Ok((aof_tools::check::check(&l, None)?, l)));
    let (report, layout) = match outcome {
        Ok(r) => r,
        Err(e) => {
            let err = anyhow::Error::new(e);
            let code = classify(&err);
            if text {
                eprintln!("error: {err:#}");
            }
            return (
                code,
                serde_json::json!({"file": name, "valid": false, "error": format!("{err:#}"), "exit_code": code as u8}),
            );
        }
    };
    let commands: u64 = report.files.iter().map(|f| f.commands).sum();
    if report.is_valid() {
        if text {
            println!("{name}: ok (AOF, {} file(s), {commands} commands)", layout.parts.len());
        }
        return (
            Code::Ok,
            serde_json::json!({"file": name, "valid": true, "files": layout.parts.len(), "commands": commands}),
        );
    }
    let message = match (&report.fatal, report.files.last()) {
        (Some(f), _) => format!("{}: {}", f.path.display(), f.message),
        (None, Some(f)) => {
            let (at, msg) = f.error.clone().unwrap_or((f.ok_up_to, "invalid".into()));
            format!("{}: offset {at}: {msg} (valid up to offset {})", f.path.display(), f.ok_up_to)
        }
        (None, None) => "invalid".into(),
    };
    if text {
        eprintln!("error: {message}");
    }
    (Code::BadData, serde_json::json!({"file": name, "valid": false, "error": message, "exit_code": 1}))
}
