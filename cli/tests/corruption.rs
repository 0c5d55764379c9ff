//! Damaged dumps must be rejected cleanly by the `rdbkit` binary.
//!
//! Every `dump.rdb` written by a real server is cut short at many offsets and has
//! single bits flipped at many positions. Each mutant goes through `rdbkit verify`,
//! which must exit with code 1 and print exactly one line,
//! `error: <path>: offset N: <message>`, with N inside the file, and must never panic
//! or hang. The CRC64 trailer covers every byte of an RDB file, so no flipped bit may
//! go unnoticed.
//!
//! Sources of dumps:
//! * `<repo>/fixtures/**/dump.rdb` (the project's fixtures),
//! * `<repo>/fuzz/corpus/rdb_reader/seed-*.rdb` (small dumps from real servers, always
//!   present, so the test never runs empty),
//! * `$RDBKIT_SHARED_FIXTURES/*/**/dump.rdb`, default `<repo>/../shared/fixtures`,
//!   when that directory exists; its `*/corrupt/*.rdb` files must all be rejected too.
//!
//! `peers/` directories are left out: they hold other projects' test data, not dumps
//! from real servers, and some of them are deliberately unsupported.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

const RDBKIT: &str = env!("CARGO_BIN_EXE_rdbkit");

/// Longest a single run may take before it counts as a hang.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Evenly spread truncation points per file (0, 9, len-8 and len-1 come on top).
const TRUNCATIONS: u64 = 40;
/// Bit flips per file.
const FLIPS: usize = 60;
/// Failures printed in full when the test fails.
const SHOWN_FAILURES: usize = 25;

fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().expect("cli/ has a parent").to_path_buf()
}

fn shared_fixtures() -> PathBuf {
    match std::env::var_os("RDBKIT_SHARED_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => repo_root().join("../shared/fixtures"),
    }
}

/// Files under `dir` (recursively, skipping `peers/`) whose name satisfies `want`.
fn find_files(dir: &Path, want: &dyn Fn(&str) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            if name != "peers" {
                find_files(&path, want, out);
            }
        } else if want(&name) {
            out.push(path);
        }
    }
}

/// The intact dumps to mutate.
fn intact_dumps() -> Vec<PathBuf> {
    let mut dumps = Vec::new();
    let own = repo_root().join("fixtures");
    if own.is_dir() {
        find_files(&own, &|n| n == "dump.rdb", &mut dumps);
    } else {
        eprintln!("note: {} does not exist; the project's fixtures are not tested", own.display());
    }
    find_files(
        &repo_root().join("fuzz/corpus/rdb_reader"),
        &|n| n.starts_with("seed-") && n.ends_with(".rdb"),
        &mut dumps,
    );
    let shared = shared_fixtures();
    if shared.is_dir() {
        let before = dumps.len();
        find_files(&shared, &|n| n == "dump.rdb", &mut dumps);
        eprintln!("note: {} dump(s) from {}", dumps.len() - before, shared.display());
    } else {
        eprintln!(
            "note: shared fixtures not found at {} (set RDBKIT_SHARED_FIXTURES); skipping them",
            shared.display()
        );
    }
    assert!(!dumps.is_empty(), "no dump to test at all");
    dumps
}

/// Runs `rdbkit` with `args`, killing it and failing when it takes longer than
/// [`TIMEOUT`]. Returns the output, or a description of the hang.
fn run(args: &[&std::ffi::OsStr]) -> Result<Output, String> {
    let mut child = Command::new(RDBKIT)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {RDBKIT}: {e}"))?;
    // Drain both pipes on their own threads so that a chatty child cannot block.
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let started = Instant::now();
    let mut pause = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {TIMEOUT:?} (killed)"));
            }
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(20));
            }
            Err(e) => return Err(format!("wait failed: {e}")),
        }
    };
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    Ok(Output { status, stdout, stderr })
}

/// Checks the outcome of `rdbkit verify PATH` on a file of `len` bytes that must be
/// rejected. Returns a description of what was wrong, if anything.
fn check_rejected(path: &Path, len: u64, out: &Output) -> Result<(), String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut problems = Vec::new();
    if stdout.contains("panicked") || stderr.contains("panicked") {
        problems.push("output mentions a panic".to_string());
    }
    if out.status.code() != Some(1) {
        problems.push(format!("exit status {:?}, expected 1", out.status));
    }
    let lines: Vec<&str> = stderr.lines().collect();
    if lines.len() != 1 || !stderr.ends_with('\n') {
        problems.push(format!("stderr has {} line(s), expected exactly 1", lines.len()));
    }
    let prefix = format!("error: {}: offset ", path.display());
    match lines.first().and_then(|l| l.strip_prefix(&prefix)) {
        None => problems.push(format!("stderr does not start with {prefix:?}")),
        Some(rest) => match rest.split_once(": ") {
            Some((n, msg)) if !msg.is_empty() => match n.parse::<u64>() {
                Ok(n) if n <= len => {}
                Ok(n) => problems.push(format!("offset {n} is past the end of the {len}-byte file")),
                Err(_) => problems.push(format!("offset {n:?} is not an integer")),
            },
            _ => problems.push("no \"offset N: message\" after the path".to_string()),
        },
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n    stdout: {}\n    stderr: {}", problems.join("; "), stdout.trim_end(), stderr.trim_end()))
    }
}

/// A way to damage a file.
#[derive(Clone, Copy, Debug)]
enum Mutation {
    /// Keep only the first `n` bytes.
    Truncate(u64),
    /// Flip bit `bit` of byte `at`.
    Flip { at: u64, bit: u8 },
}

impl Mutation {
    fn apply(self, original: &[u8]) -> Vec<u8> {
        match self {
            Mutation::Truncate(n) => original[..n as usize].to_vec(),
            Mutation::Flip { at, bit } => {
                let mut v = original.to_vec();
                v[at as usize] ^= 1 << bit;
                v
            }
        }
    }

    fn label(self) -> String {
        match self {
            Mutation::Truncate(n) => format!("trunc-{n}"),
            Mutation::Flip { at, bit } => format!("flip-{at}-bit{bit}"),
        }
    }
}

fn truncations(len: u64) -> Vec<Mutation> {
    let mut points = BTreeSet::new();
    for i in 0..TRUNCATIONS {
        points.insert(i * len / TRUNCATIONS);
    }
    points.extend([0, 9, len.saturating_sub(8), len.saturating_sub(1)]);
    points.into_iter().filter(|&n| n < len).map(Mutation::Truncate).collect()
}

/// SplitMix64: a fixed, dependency-free sequence of pseudo-random numbers.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn bit_flips(len: u64, seed: u64) -> Vec<Mutation> {
    let mut rng = SplitMix(seed);
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    // Always cover the magic, the version and the trailer; the rest at random.
    let fixed = [(0, 0), (8, 1), (len.saturating_sub(1), 7), (len.saturating_sub(8), 0)];
    for (at, bit) in fixed {
        if at < len && seen.insert((at, bit)) {
            out.push(Mutation::Flip { at, bit });
        }
    }
    let wanted = FLIPS.min(len as usize * 8);
    while out.len() < wanted {
        let r = rng.next();
        let (at, bit) = (r % len, (r >> 59) as u8 & 7);
        if seen.insert((at, bit)) {
            out.push(Mutation::Flip { at, bit });
        }
    }
    out
}

/// Runs `job(i)` for `i in 0..count` on a few threads; collects the failures.
fn parallel(count: usize, job: impl Fn(usize) -> Result<(), String> + Sync) -> Vec<String> {
    let workers = thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                if let Err(e) = job(i) {
                    failures.lock().unwrap_or_else(|p| p.into_inner()).push(e);
                }
            });
        }
    });
    let mut failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    failures.sort();
    failures
}

fn assert_no_failures(what: &str, total: usize, failures: &[String]) {
    if failures.is_empty() {
        eprintln!("{what}: {total} case(s), all rejected as expected");
        return;
    }
    let shown: Vec<&str> = failures.iter().take(SHOWN_FAILURES).map(String::as_str).collect();
    panic!("{what}: {} of {total} case(s) failed:\n  {}", failures.len(), shown.join("\n  "));
}

/// Mutates every intact dump with `mutations` and checks each result is rejected.
fn mutate_all(what: &str, mutations: impl Fn(u64, u64) -> Vec<Mutation>) {
    let dumps = intact_dumps();
    let originals: Vec<Vec<u8>> =
        dumps.iter().map(|p| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).collect();
    let mut jobs = Vec::new();
    for (d, data) in originals.iter().enumerate() {
        for m in mutations(data.len() as u64, 0x5eed_0000 + d as u64) {
            jobs.push((d, m));
        }
    }
    let tmp = tempfile::tempdir().expect("temporary directory");
    let failures = parallel(jobs.len(), |i| {
        let (d, m) = jobs[i];
        let bytes = m.apply(&originals[d]);
        let path = tmp.path().join(format!("{d:03}-{}.rdb", m.label()));
        std::fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let outcome =
            run(&["verify".as_ref(), path.as_os_str()]).and_then(|out| check_rejected(&path, bytes.len() as u64, &out));
        let _ = std::fs::remove_file(&path);
        outcome.map_err(|e| format!("{} {}: {e}", dumps[d].display(), m.label()))
    });
    assert_no_failures(what, jobs.len(), &failures);
}

#[test]
fn intact_dumps_verify() {
    let dumps = intact_dumps();
    let failures = parallel(dumps.len(), |i| {
        let path = &dumps[i];
        let out = run(&["verify".as_ref(), path.as_os_str()])?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.code() == Some(0) && stdout.contains(": ok (") && out.stderr.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}: exit {:?}\n    stdout: {}\n    stderr: {}",
                path.display(),
                out.status,
                stdout.trim_end(),
                String::from_utf8_lossy(&out.stderr).trim_end()
            ))
        }
    });
    if failures.is_empty() {
        eprintln!("intact dumps: {} file(s) verified", dumps.len());
    } else {
        panic!("intact dumps that do not verify:\n  {}", failures.join("\n  "));
    }
}

#[test]
fn truncated_dumps_are_rejected() {
    mutate_all("truncations", |len, _| truncations(len));
}

#[test]
fn bit_flipped_dumps_are_rejected() {
    mutate_all("bit flips", bit_flips);
}

/// Every single-bit flip of the 9-byte header (magic and version digits).
///
/// A flip that turns the version of an RDB 9, 11 or 12 file into 1 or 2
/// (`REDIS0009` byte 8 bit 3, `REDIS0011` / `REDIS0012` byte 7 bit 0) makes a file
/// without a CRC64 (versions before 5 have none). It is caught twice: a type or opcode
/// newer than the header's version is refused, and so is a file without checksum followed
/// by exactly 8 bytes (the old trailer).
#[test]
fn header_bit_flips_are_rejected() {
    mutate_all("header bit flips", |len, _| {
        (0..9u64.min(len)).flat_map(|at| (0..8).map(move |bit| Mutation::Flip { at, bit })).collect()
    });
}

#[test]
fn shared_corrupt_files_are_rejected() {
    let shared = shared_fixtures();
    if !shared.is_dir() {
        eprintln!("note: shared fixtures not found at {}; nothing to do", shared.display());
        return;
    }
    let mut files = Vec::new();
    let Ok(servers) = std::fs::read_dir(&shared) else { return };
    let mut servers: Vec<PathBuf> = servers.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    servers.sort();
    for server in servers {
        let corrupt = server.join("corrupt");
        if server.file_name().is_some_and(|n| n == "peers") || !corrupt.is_dir() {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&corrupt) else { continue };
        let mut here: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "rdb"))
            .collect();
        here.sort();
        files.extend(here);
    }
    assert!(!files.is_empty(), "{} exists but holds no */corrupt/*.rdb", shared.display());
    let failures = parallel(files.len(), |i| {
        let path = &files[i];
        let len = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
        let out = run(&["verify".as_ref(), path.as_os_str()])?;
        check_rejected(path, len, &out).map_err(|e| format!("{}: {e}", path.display()))
    });
    assert_no_failures("shared corrupt files", files.len(), &failures);
}

#[test]
fn convert_of_truncated_dump_leaves_no_output() {
    let dumps = intact_dumps();
    let tmp = tempfile::tempdir().expect("temporary directory");
    let mut cases = Vec::new();
    for (d, path) in dumps.iter().enumerate() {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let len = data.len();
        // Inside the header, in the middle of the data, and without the CRC trailer.
        for cut in BTreeSet::from([5.min(len), len / 2, len.saturating_sub(8)]) {
            let input = tmp.path().join(format!("{d:03}-trunc-{cut}.rdb"));
            std::fs::write(&input, &data[..cut]).expect("write mutant");
            cases.push((path.clone(), input, cut));
        }
    }
    let failures = parallel(cases.len(), |i| {
        let (origin, input, cut) = &cases[i];
        let out_dir = tmp.path().join(format!("out-{i}"));
        std::fs::create_dir(&out_dir).map_err(|e| e.to_string())?;
        let target = out_dir.join("dump.ndjson");
        let out = run(&[
            "convert".as_ref(),
            input.as_os_str(),
            "--to".as_ref(),
            "ndjson".as_ref(),
            "-o".as_ref(),
            target.as_os_str(),
        ])?;
        let left: Vec<String> = std::fs::read_dir(&out_dir)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        if out.status.code() != Some(1) {
            problems.push(format!("exit status {:?}, expected 1", out.status));
        }
        if !left.is_empty() {
            problems.push(format!("files left in the output directory: {left:?}"));
        }
        if stderr.contains("panicked") {
            problems.push("stderr mentions a panic".into());
        }
        if !stderr.starts_with("error: ") {
            problems.push("stderr does not start with \"error: \"".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} cut at {cut}: {}\n    stderr: {}",
                origin.display(),
                problems.join("; "),
                stderr.trim_end()
            ))
        }
    });
    assert_no_failures("convert of truncated dumps", cases.len(), &failures);
}
