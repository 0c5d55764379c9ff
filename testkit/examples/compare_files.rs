//! Compare two NDJSON files: `cargo run -p testkit --example compare_files -- EXPECTED ACTUAL`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [expected, actual] = args.as_slice() else {
        eprintln!("usage: compare_files EXPECTED.ndjson ACTUAL.ndjson");
        return ExitCode::from(2);
    };
    let read = |p: &PathBuf| testkit::ndjson::read_ndjson(p);
    match (read(expected), read(actual)) {
        (Ok(e), Ok(a)) => match testkit::ndjson::compare(&e, &a) {
            Ok(()) => {
                println!("equal ({} records)", e.len());
                ExitCode::SUCCESS
            }
            Err(report) => {
                println!("{report}");
                ExitCode::FAILURE
            }
        },
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
