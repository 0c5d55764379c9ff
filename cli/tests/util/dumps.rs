//! Dumps made by real servers for the restore tests.

use std::path::{Path, PathBuf};

use testkit::{ServerBin, ServerGuard};

/// A dump with values larger than 1 MiB, from a real server.
pub fn big_dump(server: &ServerBin, dir: &Path) -> (PathBuf, String) {
    let guard = ServerGuard::start(server).expect("start");
    let mut c = guard.conn().expect("conn");
    // xorshift64: incompressible, so LZF cannot shrink the payloads under 1 MiB.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // A string cannot exceed proto-max-bulk-len on any server, so it stays under 1 MiB;
    // the collections' payloads do not, while each element is small.
    let big: Vec<u8> = (0..900_000).map(|_| noise() as u8).collect();
    redis::cmd("SET").arg("big:string").arg(&big).exec(&mut c).expect("SET");
    for chunk in 0..40 {
        let items: Vec<String> =
            (0..1000).map(|i| format!("item-{chunk}-{i}-{:016x}{:016x}", noise(), noise())).collect();
        redis::cmd("RPUSH").arg("big:list").arg(&items).exec(&mut c).expect("RPUSH");
    }
    for chunk in 0..30 {
        let fields: Vec<String> =
            (0..1000).flat_map(|i| [format!("f{chunk}-{i}"), format!("{:016x}{:016x}", noise(), noise())]).collect();
        redis::cmd("HSET").arg("big:hash").arg(&fields).exec(&mut c).expect("HSET");
    }
    redis::cmd("SET").arg("small").arg("v").exec(&mut c).expect("SET");
    redis::cmd("PEXPIREAT").arg("big:list").arg(4_102_444_800_000i64).exec(&mut c).expect("PEXPIREAT");
    let digest = guard.digest().expect("digest");
    let path = dir.join("big.rdb");
    std::fs::copy(guard.save().expect("save"), &path).expect("copy");
    (path, digest)
}

/// A dump of `keys` small strings in db 0 (`DEBUG POPULATE`), saved as `dir/name`.
pub fn populated_dump(server: &ServerBin, dir: &Path, keys: u64, name: &str) -> PathBuf {
    let guard = ServerGuard::start(server).expect("start");
    redis::cmd("DEBUG").arg("POPULATE").arg(keys).exec(&mut guard.conn().expect("conn")).expect("DEBUG POPULATE");
    let path = dir.join(name);
    std::fs::copy(guard.save().expect("save"), &path).expect("copy");
    path
}

/// Keys of the current database whose name matches `pattern` (`KEYS`).
pub fn keys_matching(conn: &mut redis::Connection, pattern: &str) -> Vec<String> {
    redis::cmd("KEYS").arg(pattern).query(conn).expect("KEYS")
}
