//! Where outputs go: never over the input or over another output, errors that name the
//! output (a closed pipe is success, a full disk exit 3), files that keep their mode and
//! symbolic links, long names, and no temporary file left by SIGINT, SIGTERM or SIGHUP.

mod util;

use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use util::{describe, path_str, rdbkit, rdbkit_bin, repo_root};

fn fixture() -> PathBuf {
    repo_root().join("fixtures/redis-7.0.15/dump.rdb")
}

/// Files in `dir` whose name ends like a temporary output.
fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

#[test]
fn an_output_is_never_the_input_or_another_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("dump.rdb");
    std::fs::copy(fixture(), &input).expect("copy");
    let original = std::fs::read(&input).expect("read");
    let hard = dir.path().join("hard.rdb");
    std::fs::hard_link(&input, &hard).expect("hard link");
    let soft = dir.path().join("soft.rdb");
    std::os::unix::fs::symlink(&input, &soft).expect("symlink");
    let fresh = dir.path().join("report.csv");
    let (i, h, s, f) = (path_str(&input), path_str(&hard), path_str(&soft), path_str(&fresh));
    let runs: [&[&str]; 7] = [
        &["convert", i, "--to", "rdb", "-o", i],
        &["convert", i, "--to", "ndjson", "-o", h],
        &["convert", i, "--to", "resp", "-o", s],
        &["memory", i, "--html", i],
        &["memory", i, "--html", h],
        &["memory", i, "-o", s],
        &["memory", i, "--format", "csv", "-o", f, "--html", f],
    ];
    for args in runs {
        let out = rdbkit(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("same file") || err.contains("is the input"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing is written before the refusal");
    }
    assert_eq!(std::fs::read(&input).expect("read"), original, "the input is untouched");
    assert!(!fresh.exists(), "no output was created");
    assert!(temp_files(dir.path()).is_empty());
    // Two outputs to /dev/null are fine.
    let ok = rdbkit(&["memory", i, "--format", "csv", "-o", "/dev/null", "--html", "/dev/null"]);
    assert_eq!(ok.status.code(), Some(0), "{}", describe(&ok));
}

/// Every command that prints, with the dump on standard input.
fn printing_commands() -> Vec<Vec<&'static str>> {
    vec![
        vec!["info", "-"],
        vec!["info", "--format", "json", "-"],
        vec!["verify", "-"],
        vec!["verify", "--format", "json", "-"],
        vec!["convert", "-", "--to", "ndjson"],
        vec!["convert", "-", "--to", "json"],
        vec!["convert", "-", "--to", "resp"],
        vec!["convert", "-", "--to", "rdb", "--target", "redis-7.0"],
        vec!["memory", "-"],
        vec!["memory", "-", "--format", "csv"],
        vec!["memory", "-", "--format", "summary-json"],
        vec!["restore", "-", "--to", "redis://127.0.0.1:1", "--dry-run", "--target", "redis-7.0"],
        vec!["restore", "-", "--to", "redis://127.0.0.1:1", "--dry-run", "--target", "redis-7.0", "--format", "json"],
    ]
}

/// Runs `args` with the dump written to its standard input once `prepare` ran on the
/// child; returns the exit code and stderr.
fn run_fed(args: &[&str], stdout: Stdio, prepare: impl FnOnce(&mut Child)) -> (Option<i32>, String) {
    let mut child = Command::new(rdbkit_bin())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rdbkit");
    prepare(&mut child);
    let dump = std::fs::read(fixture()).expect("read fixture");
    if let Some(mut stdin) = child.stdin.take() {
        // It may stop reading early, once its output failed.
        let _ = stdin.write_all(&dump);
    }
    let out = child.wait_with_output().expect("wait");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_closed_pipe_is_success_and_a_full_disk_names_the_output() {
    for args in printing_commands() {
        // The reading end is closed before the command reads its input, so its first
        // write meets a closed pipe.
        let (code, err) = run_fed(&args, Stdio::piped(), |c| drop(c.stdout.take()));
        assert_eq!(code, Some(0), "{args:?} into a closed pipe: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");

        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let (code, err) = run_fed(&args, Stdio::from(full), |_| {});
        assert_eq!(code, Some(3), "{args:?} into /dev/full: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: standard output: cannot write: No space left"), "{args:?}: {err}");
    }
    for args in [
        vec!["convert", "-", "--to", "ndjson", "-o", "/dev/full"],
        vec!["convert", "-", "--to", "rdb", "--target", "redis-7.0", "-o", "/dev/full"],
        vec!["memory", "-", "--format", "csv", "-o", "/dev/full"],
        vec!["memory", "-", "--html", "/dev/full"],
    ] {
        let (code, err) = run_fed(&args, Stdio::null(), |_| {});
        assert_eq!(code, Some(3), "{args:?}: {err}");
        assert!(err.starts_with("error: /dev/full: cannot write: No space left"), "{args:?}: {err}");
        assert!(!err.contains("<stdin>"), "the input is not to blame: {err}");
    }
}

#[test]
fn errors_do_not_repeat_themselves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = path_str(dir.path());
    for args in [vec!["info", d], vec!["verify", d], vec!["convert", d, "--to", "ndjson"]] {
        let out = rdbkit(&args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(err.trim_end(), format!("error: {d}: cannot read: it is a directory, not a file"), "{args:?}");
    }
    let out = rdbkit(&["convert", path_str(&fixture()), "--to", "ndjson", "-o", d]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim_end(), format!("error: {d}: cannot write: it is a directory"));
    let missing = dir.path().join("missing/out.ndjson");
    let out = rdbkit(&["convert", path_str(&fixture()), "--to", "ndjson", "-o", path_str(&missing)]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let want = format!("error: {}: cannot write: No such file or directory (os error 2)", missing.display());
    assert_eq!((out.status.code(), err.trim_end()), (Some(3), want.as_str()));
    // A missing dump is reported as such, not as the server's failure.
    let out = rdbkit(&["restore", "/nonexistent.rdb", "--to", "redis://127.0.0.1:1"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.starts_with("error: /nonexistent.rdb: cannot open: No such file"), "{err}");
}

#[test]
fn output_files_keep_their_mode_and_links_and_take_long_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = fixture();
    let convert = |out: &Path| {
        let run = rdbkit(&["convert", path_str(&dump), "--to", "ndjson", "-o", path_str(out)]);
        assert_eq!(run.status.code(), Some(0), "{}: {}", out.display(), describe(&run));
    };
    let expected = rdbkit(&["convert", path_str(&dump), "--to", "ndjson"]).stdout;

    let existing = dir.path().join("existing.ndjson");
    std::fs::write(&existing, b"old").expect("write");
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    convert(&existing);
    assert_eq!(std::fs::metadata(&existing).expect("meta").mode() & 0o7777, 0o640, "mode kept");
    assert_eq!(std::fs::read(&existing).expect("read"), expected);

    // A new file gets the mode any new file gets (0666 less the umask).
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).expect("create");
    let new = dir.path().join("new.ndjson");
    convert(&new);
    let mode = |p: &Path| std::fs::metadata(p).expect("meta").mode() & 0o7777;
    assert_eq!(mode(&new), mode(&reference), "a new output is not private to its temporary mode");

    // Through a symbolic link: the link stays, its target is replaced.
    let target = dir.path().join("target.ndjson");
    std::fs::write(&target, b"old").expect("write");
    let link = dir.path().join("link.ndjson");
    std::os::unix::fs::symlink("target.ndjson", &link).expect("symlink");
    convert(&link);
    assert!(std::fs::symlink_metadata(&link).expect("meta").file_type().is_symlink(), "still a link");
    assert_eq!(std::fs::read(&target).expect("read"), expected);
    let dangling = dir.path().join("dangling.ndjson");
    std::os::unix::fs::symlink("made-by-link.ndjson", &dangling).expect("symlink");
    convert(&dangling);
    assert_eq!(std::fs::read(dir.path().join("made-by-link.ndjson")).expect("read"), expected);

    // The longest name a file may have.
    let long = dir.path().join("n".repeat(251) + ".rdb");
    let run = rdbkit(&["convert", path_str(&dump), "--to", "rdb", "--target", "redis-7.0", "-o", path_str(&long)]);
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    assert!(long.is_file());
    assert!(temp_files(dir.path()).is_empty(), "{:?}", temp_files(dir.path()));
}

/// Sends `signal` to a convert that is writing its output, fed slowly on stdin.
fn interrupt(signal: &str) -> (Option<i32>, Vec<String>, bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out_path = dir.path().join("out.ndjson");
    let mut child = Command::new(rdbkit_bin())
        .args(["convert", "-", "--to", "ndjson", "-o", path_str(&out_path)])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let dump = std::fs::read(fixture()).expect("read");
    let mut stdin = child.stdin.take().expect("stdin");
    // Half the dump: the output has started and the command waits for more.
    stdin.write_all(&dump[..dump.len() / 2]).expect("feed");
    stdin.flush().expect("flush");
    let deadline = Instant::now() + Duration::from_secs(20);
    while temp_files(dir.path()).is_empty() {
        assert!(Instant::now() < deadline, "no temporary file appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    let sent = Command::new("kill").args(["-s", signal, &child.id().to_string()]).status().expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "{signal} did not stop the command");
        std::thread::sleep(Duration::from_millis(10));
    };
    drop(stdin);
    (status.code(), temp_files(dir.path()), out_path.exists())
}

#[test]
fn interrupted_runs_leave_no_temporary_file() {
    for (signal, code) in [("INT", 130), ("TERM", 143), ("HUP", 129)] {
        let (status, left, output) = interrupt(signal);
        assert_eq!(status, Some(code), "SIG{signal}");
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
        assert!(!output, "SIG{signal}: no partial output");
    }
}
