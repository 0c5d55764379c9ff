//! `rdbkit`: command-line front end over `rdb-parser` and `aof-tools`.

/// `eprintln!` that never panics: a closed or full standard error is not worth a crash.
/// Writes a line to standard output. A failure (a closed pipe, a full disk) is an
/// `io::Error` naming standard output, never a panic; use it with `?`.
macro_rules! stdout {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)
            .map_err(|e| crate::output::WriteError::wrap(crate::output::STDOUT_NAME, e))
    }};
}

macro_rules! stderr {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod alloc;
mod args;
mod cmd;
mod exit;
mod filter;
mod input;

mod output;
mod readahead;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::exit::Code;

fn main() -> ExitCode {
    alloc::tune();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Info(a) => cmd::info::run(a, cli.quiet),
        Command::Verify(a) => cmd::verify::run(a, cli.quiet),
        Command::Convert(a) => cmd::convert::run(a, cli.quiet),
        Command::Restore(a) => cmd::restore::run(a, cli.quiet),
        Command::Memory(a) => cmd::memory::run(a, cli.quiet),
        Command::Backup(a) => cmd::backup::run(a, cli.quiet),
        Command::Aof(a) => cmd::aof::run(a, cli.quiet),
    };
    let partial = cmd::take_partial();
    for note in &partial {
        eprintln!("warning: {note}");
    }
    match result {
        Ok(Code::Ok) if !partial.is_empty() => ExitCode::from(Code::BadData as u8),
        Ok(code) => ExitCode::from(code as u8),
        Err(err) if exit::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            stderr!("error: {err:#}");
            ExitCode::from(exit::classify(&err) as u8)
        }
    }
}

/// Exit code type returned by commands that can partly succeed (verify).
pub type CmdResult = anyhow::Result<Code>;
