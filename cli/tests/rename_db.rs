//! `convert --rename-db` that merges databases: a key in both would make a file Redis
//! refuses to load. Refused with exit 1 naming the key and both databases, or with
//! --lossy the first copy kept, the other reported; the result loads in a real server.

mod util;

use std::process::{Command, Stdio};

use testkit::ServerGuard;
use util::{describe, path_str, rdbkit, rdbkit_bin};

#[test]
fn merging_databases_never_writes_a_key_twice() {
    let Some(server) = util::redis7() else { return };
    let server = &server;
    let source = ServerGuard::start(server).expect("start");
    let mut c = source.conn().expect("conn");
    for (db, key, value) in [(0, "shared", "from-0"), (0, "only0", "a"), (5, "shared", "from-5"), (5, "only5", "b")] {
        redis::cmd("SELECT").arg(db).exec(&mut c).expect("SELECT");
        redis::cmd("SET").arg(key).arg(value).exec(&mut c).expect("SET");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dump = dir.path().join("two.rdb");
    std::fs::copy(source.save().expect("save"), &dump).expect("copy");
    let out_path = dir.path().join("merged.rdb");
    let convert = |extra: &[&str]| {
        let mut args = vec!["convert", path_str(&dump), "--to", "rdb", "--target", "redis-7.0", "-o"];
        args.push(path_str(&out_path));
        args.extend_from_slice(extra);
        rdbkit(&args)
    };

    let strict = convert(&["--rename-db", "0:5"]);
    assert_eq!(strict.status.code(), Some(1), "{}", describe(&strict));
    let err = String::from_utf8_lossy(&strict.stderr);
    assert!(err.contains("key \"shared\" is in db 0 and db 5, both renamed to db 5"), "{err}");
    assert!(!out_path.exists(), "no output");

    let lossy = convert(&["--rename-db", "0:5", "--lossy"]);
    assert_eq!(lossy.status.code(), Some(0), "{}", describe(&lossy));
    assert!(String::from_utf8_lossy(&lossy.stderr).contains("left out the second copy: key \"shared\""));
    let loaded = ServerGuard::start_with_rdb(server, &out_path).expect("Redis loads the merged file");
    let mut l = loaded.conn().expect("conn");
    redis::cmd("SELECT").arg(5).exec(&mut l).expect("SELECT");
    let size: u64 = redis::cmd("DBSIZE").query(&mut l).expect("DBSIZE");
    assert_eq!(size, 3);
    let kept: String = redis::cmd("GET").arg("shared").query(&mut l).expect("GET");
    assert_eq!(kept, "from-0", "the first copy is kept");

    // Swapping merges nothing: no check, no complaint.
    let swap = convert(&["--rename-db", "0:5", "--rename-db", "5:0"]);
    assert_eq!(swap.status.code(), Some(0), "{}", describe(&swap));

    // Standard input cannot be read twice: refused rather than unchecked.
    let mut child = Command::new(rdbkit_bin())
        .args(["convert", "-", "--to", "rdb", "--rename-db", "0:5", "-o", path_str(&out_path)])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdin.take());
    let piped = child.wait_with_output().expect("wait");
    assert_eq!(piped.status.code(), Some(2), "{}", describe(&piped));
}
