//! `rdbkit aof check` against the servers' own `redis-check-aof`: real AOFs written by
//! every installed server under a randomized workload, cut and bit-flipped at many
//! places, must get the same verdict and the same "ok up to" offset; `--fix` must leave
//! the same bytes as `redis-check-aof --fix`, and the server must start on the result.
//! The shared fixtures' recorded checker outputs are compared too, when present.

mod util;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use testkit::servers::{Flavor, ServerBin};
use testkit::{ServerGuard, StartOptions};
use util::aof::{real_aof, servers};
use util::{describe, path_str, rdbkit, shared_fixtures};

/// The server binary under a name that makes it run as its AOF checker.
struct Checker {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Checker {
    fn new(server: &ServerBin) -> Checker {
        let dir = tempfile::tempdir().expect("tmp");
        let name = if server.flavor == Flavor::Valkey { "valkey-check-aof" } else { "redis-check-aof" };
        let path = dir.path().join(name);
        std::os::unix::fs::symlink(&server.path, &path).expect("symlink");
        Checker { _dir: dir, path }
    }

    /// Exit code and the `ok_up_to` of the last file analyzed.
    fn check(&self, target: &Path, fix: bool) -> (i32, Option<u64>, String) {
        let mut cmd = Command::new(&self.path);
        if fix {
            cmd.arg("--fix");
        }
        let mut child = cmd
            .arg(target)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the checker");
        use std::io::Write;
        let _ = child.stdin.take().expect("stdin").write_all(b"y\n");
        let out = child.wait_with_output().expect("checker output");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code().unwrap_or(-1), ok_up_to(&text), text)
    }
}

fn ok_up_to(text: &str) -> Option<u64> {
    text.lines().rev().find_map(|l| l.split("ok_up_to=").nth(1))?.split(',').next()?.parse().ok()
}

/// Exit code and the "valid up to offset" of `rdbkit aof check`.
fn rdbkit_check(target: &Path, extra: &[&str]) -> (i32, Option<u64>, String) {
    let mut args = vec!["aof", "check", path_str(target)];
    args.extend_from_slice(extra);
    let out = rdbkit(&args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let at = text
        .lines()
        .rev()
        .find_map(|l| l.split("valid up to offset ").nth(1))
        .and_then(|s| s.split(' ').next()?.parse().ok());
    (out.status.code().unwrap_or(-1), at, describe(&out))
}

/// The last file a server loads (the one corruptions go into).
fn last_part(aof: &Path) -> PathBuf {
    if aof.is_file() {
        return aof.to_path_buf();
    }
    let layout = aof_tools::Layout::open(aof).expect("layout");
    layout.parts.last().expect("a part").path.clone()
}

fn copy_tree(src: &Path, dst: &Path) {
    if src.is_dir() {
        std::fs::create_dir_all(dst).expect("mkdir");
        for e in std::fs::read_dir(src).expect("read dir") {
            let e = e.expect("entry");
            std::fs::copy(e.path(), dst.join(e.file_name())).expect("copy");
        }
    } else {
        std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
        std::fs::copy(src, dst).expect("copy");
    }
}

#[test]
fn verdicts_and_offsets_match_redis_check_aof_on_damaged_real_aofs() {
    let work = tempfile::tempdir().expect("tmp");
    for server in servers() {
        let checker = Checker::new(&server);
        let aof = real_aof(&server, false, work.path());
        let (code, _, out) = rdbkit_check(&aof, &[]);
        assert_eq!(code, 0, "{server}: intact AOF: {out}");
        let last = last_part(&aof);
        let name = last.file_name().expect("name").to_owned();
        let original = std::fs::read(&last).expect("read");
        let n = original.len();
        let mut damages: Vec<(String, Vec<u8>)> = Vec::new();
        for k in 1..=10 {
            let cut = n * k / 11;
            damages.push((format!("cut at {cut}"), original[..cut].to_vec()));
        }
        for cut in [n - 1, n - 2, n - 3] {
            damages.push((format!("cut at {cut}"), original[..cut].to_vec()));
        }
        for k in 1..=10 {
            let at = n * k / 11 + k;
            let mut bytes = original.clone();
            bytes[at] ^= 1 << (k % 8);
            damages.push((format!("bit {} of byte {at} flipped", k % 8), bytes));
        }
        let mut lf_only = original.clone();
        lf_only.retain(|&b| b != b'\r');
        damages.push(("CRLF converted to LF".into(), lf_only));
        for (i, (what, bytes)) in damages.iter().enumerate() {
            let case = work.path().join(format!("{}-case{i}", server.name()));
            let (ours, theirs) = (case.join("ours"), case.join("theirs"));
            for side in [&ours, &theirs] {
                let target = side.join(aof.file_name().expect("name"));
                copy_tree(&aof, &target);
                let damaged = if target.is_dir() { target.join(&name) } else { target.clone() };
                std::fs::write(&damaged, bytes).expect("write");
            }
            let target = |side: &Path| side.join(aof.file_name().expect("name"));
            let manifest_or_file = |side: &Path| {
                let t = target(side);
                if t.is_dir() {
                    aof_tools::Layout::open(&t).expect("layout").manifest.expect("manifest").0
                } else {
                    t
                }
            };
            let (their_code, their_ok, their_out) = checker.check(&manifest_or_file(&theirs), false);
            let (our_code, our_ok, our_out) = rdbkit_check(&target(&ours), &[]);
            assert_eq!(
                our_code, their_code,
                "{server}, {what}: exit codes differ\nchecker: {their_out}\nrdbkit: {our_out}"
            );
            if their_code != 0 {
                assert_eq!(
                    our_ok, their_ok,
                    "{server}, {what}: ok_up_to differs\nchecker: {their_out}\nrdbkit: {our_out}"
                );
            }
            if their_code == 0 || their_ok.is_none() {
                continue;
            }
            // Both fixes must leave the same bytes.
            let (fixed_code, _, fixed_out) = checker.check(&manifest_or_file(&theirs), true);
            assert_eq!(fixed_code, 0, "{server}, {what}: checker --fix: {fixed_out}");
            let (code, _, out) = rdbkit_check(&target(&ours), &["--fix", "--backup-dir", path_str(&case)]);
            assert_eq!(code, 0, "{server}, {what}: rdbkit --fix: {out}");
            let part = |side: &Path| {
                let t = target(side);
                if t.is_dir() {
                    t.join(&name)
                } else {
                    t
                }
            };
            assert_eq!(
                std::fs::read(part(&ours)).expect("ours"),
                std::fs::read(part(&theirs)).expect("theirs"),
                "{server}, {what}: fixed files differ"
            );
            assert!(
                std::fs::read_dir(&case)
                    .expect("backups")
                    .any(|e| { e.expect("entry").file_name().to_string_lossy().contains(".bak-") }),
                "{server}, {what}: no backup kept"
            );
            assert_eq!(rdbkit_check(&target(&ours), &[]).0, 0, "{server}, {what}: still invalid after --fix");
            if i == 1 {
                let opts = StartOptions {
                    extra_args: vec!["--appendonly".into(), "yes".into()],
                    aof: Some(target(&ours)),
                    ..StartOptions::default()
                };
                let g = ServerGuard::start_with(&server, &opts).expect("the server starts on the fixed AOF");
                drop(g);
            }
        }
    }
}

#[test]
fn recorded_checker_outputs_of_the_shared_fixtures() {
    let Some(root) = shared_fixtures() else { return };
    for dir in util::server_dirs(&root) {
        let outputs = dir.join("corrupt/check-output");
        let Ok(entries) = std::fs::read_dir(&outputs) else { continue };
        for e in entries {
            let e = e.expect("entry");
            let fname = e.file_name().to_string_lossy().into_owned();
            let Some(stem) = fname.strip_suffix(".txt") else { continue };
            if !stem.contains("aof") || stem.ends_with(".rdb") && !stem.starts_with("aof-") {
                continue;
            }
            let rel = stem.replace("__", "/").replacen("original/", "../", 1);
            let target = dir.join("corrupt").join(&rel);
            let text = std::fs::read_to_string(e.path()).expect("output");
            let theirs_valid = !(text.contains("not valid") || text.contains("not sane") || text.contains("FATAL"));
            let head = std::fs::read(&target).unwrap_or_default();
            // valkey-check-aof 9.1 does not know its own VALKEY080 preamble: it calls
            // intact ones invalid and damaged ones "format error at 0"; the server loads
            // intact ones, and so does rdbkit.
            let valkey9_preamble = head.starts_with(b"VALKEY") || text.contains(".rdb format error");
            let (code, ok, out) = rdbkit_check(&target, &[]);
            if valkey9_preamble {
                if stem.starts_with("original") {
                    assert_eq!(code, 0, "{}: {out}", target.display());
                }
                continue;
            }
            assert_eq!(code == 0, theirs_valid, "{}: recorded:\n{text}\nrdbkit: {out}", target.display());
            if !theirs_valid {
                if let Some(theirs) = ok_up_to(&text).filter(|_| text.contains("is not valid")) {
                    assert_eq!(ok, Some(theirs), "{}: recorded:\n{text}\nrdbkit: {out}", target.display());
                }
            }
        }
    }
}
