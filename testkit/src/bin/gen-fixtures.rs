//! Generate the fixture corpus from every installed server.
//!
//! ```text
//! cargo run -p testkit --bin gen-fixtures -- --out fixtures [--seed 1] [--only redis-7.0]...
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use testkit::{fixture, Flavor, ServerBin};

const USAGE: &str = "usage: gen-fixtures --out DIR [--seed N] [--only NAME]... [--no-example]

Runs every server linked in $RDBKIT_SERVERS_DIR/bin (default <workspace>/.servers/bin)
and writes DIR/<flavor>-<version>/, DIR/example/ and DIR/README.md.

  --out DIR     output directory (created if missing)
  --seed N      dataset seed (default 1)
  --only NAME   only servers whose name starts with NAME, e.g. redis-7.0 or valkey;
                may be repeated
  --no-example  do not rewrite DIR/example/";

struct Args {
    out: PathBuf,
    seed: u64,
    only: Vec<String>,
    example: bool,
}

fn parse_args() -> Result<Args> {
    let mut out = None;
    let mut seed = 1;
    let mut only = Vec::new();
    let mut example = true;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--seed" => {
                let v = value("--seed")?;
                seed = v.parse().with_context(|| format!("--seed {v:?} is not a number"))?;
            }
            "--only" => only.push(value("--only")?),
            "--no-example" => example = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}"),
        }
    }
    let Some(out) = out else {
        bail!("--out is required");
    };
    Ok(Args { out, seed, only, example })
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let all = testkit::available()?;
    if all.is_empty() {
        bail!("no servers in {} (run scripts/install-servers.sh)", testkit::servers::bin_dir().display());
    }
    let chosen: Vec<&ServerBin> = all
        .iter()
        .filter(|s| args.only.is_empty() || args.only.iter().any(|p| s.name().starts_with(p.as_str())))
        .collect();
    if chosen.is_empty() {
        bail!("no installed server matches --only {:?}", args.only);
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    // Servers are independent; running them side by side hides the two
    // seconds a cluster node needs before it accepts writes.
    let results: Vec<Result<fixture::FixtureReport>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chosen
            .iter()
            .map(|server| {
                let dir = args.out.join(server.name());
                scope.spawn(move || fixture::generate(server, &dir, args.seed))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("generator thread panicked"))))
            .collect()
    });
    let mut failed = 0;
    for result in results {
        match result {
            Ok(report) => eprintln!(
                "{:<14} {:>4} keys  dump.rdb {:>7} bytes  variants: {:<16} {:.1}s",
                report.name,
                report.keys,
                report.rdb_bytes,
                report.variants.join(","),
                report.seconds
            ),
            Err(e) => {
                failed += 1;
                eprintln!("gen-fixtures: error: {e:#}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} server(s) failed");
    }
    if args.example {
        // The newest Redis among the installed servers (not only the chosen ones).
        if let Some(server) = all.iter().rev().find(|s| s.flavor == Flavor::Redis) {
            fixture::generate_example(server, &args.out.join("example"))?;
            eprintln!("example        from {}", server.name());
        }
    }
    fixture::write_readme(&args.out)?;
    eprintln!("done in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-fixtures: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
