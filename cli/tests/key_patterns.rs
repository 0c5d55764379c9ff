//! `--key PATTERN` selects exactly the keys a real server's `KEYS PATTERN` returns.

mod util;

use std::collections::BTreeSet;

use testkit::{Flavor, ServerGuard};
use util::{convert_ndjson_args, path_str};

const KEYS: &[&[u8]] = &[
    b"{u1}:cart",
    b"{u1}:profile",
    b"u1:cart",
    b"{u2}:cart",
    b"user:1",
    b"user:10",
    b"users",
    b"a/b/c",
    b"a*b",
    b"a[b",
    b"h\\llo",
    b"hello",
    b"hallo",
    b"-",
    b"]",
    b"bin\xff\x00key",
];

const PATTERNS: &[&str] = &[
    "{u1}:*",
    "{u1,u2}:*",
    "user:?",
    "user:*",
    "a/*",
    "a\\*b",
    "a[[]b",
    "h[ae]llo",
    "h[^e]llo",
    "h[b-a]llo",
    "h\\\\llo",
    "[\\]]",
    "[a\\-z]",
    "bin*",
    "*",
    "a[b",
    "*{*",
];

#[test]
fn key_patterns_select_what_keys_returns() -> anyhow::Result<()> {
    let servers = testkit::require(&[(Flavor::Redis, 7, 0)])?;
    let Some(server) = servers.first() else { return Ok(()) };
    let guard = ServerGuard::start(server)?;
    let mut conn = guard.conn()?;
    for k in KEYS {
        redis::cmd("SET").arg(*k).arg("v").exec(&mut conn)?;
    }
    let dump = guard.save()?;
    for pattern in PATTERNS {
        let want: BTreeSet<Vec<u8>> =
            redis::cmd("KEYS").arg(*pattern).query::<Vec<Vec<u8>>>(&mut conn)?.into_iter().collect();
        let got: BTreeSet<Vec<u8>> =
            convert_ndjson_args(&["--key", pattern], path_str(&dump)).iter().map(util::key_bytes).collect();
        assert_eq!(got, want, "pattern {pattern:?}");
    }
    Ok(())
}
