//! Server discovery and RDBKIT_REQUIRE_SERVERS. This binary holds a single
//! test because it changes environment variables.

use anyhow::{ensure, Result};
use testkit::{servers, Flavor};

#[test]
fn discovery_and_require_follow_the_environment() -> Result<()> {
    let Some(real) = testkit::available()?.into_iter().next() else {
        eprintln!("no servers installed; skipping");
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin)?;
    std::os::unix::fs::symlink(&real.path, bin.join(real.name()))?;
    std::os::unix::fs::symlink(dir.path().join("gone"), bin.join("redis-6.2.99"))?; // dangling
    std::fs::write(bin.join("notes.txt"), "not a server")?;

    std::env::set_var(servers::SERVERS_DIR_ENV, dir.path());
    std::env::remove_var(servers::REQUIRE_ENV);
    let found = testkit::available()?;
    ensure!(found.len() == 1 && found[0].name() == real.name(), "{found:?}");
    let line = (real.flavor, real.version.0, real.version.1);
    let missing = (Flavor::Redis, 4, 0);

    // Without the variable a missing server is skipped.
    let got = testkit::require(&[line, missing])?;
    ensure!(got.len() == 1 && got[0].name() == real.name(), "{got:?}");

    // With it, the same call fails and names what is missing.
    std::env::set_var(servers::REQUIRE_ENV, "1");
    let err = testkit::require(&[line, missing]).expect_err("missing server must fail");
    ensure!(err.to_string().contains("redis-4.0"), "{err}");
    ensure!(testkit::require(&[line])?.len() == 1);

    // Tools fall back to PATH; the servers directory has none now.
    std::env::set_var("PATH", "/nonexistent");
    ensure!(testkit::redis_cli().is_none());
    std::os::unix::fs::symlink("/bin/true", bin.join("redis-cli"))?;
    ensure!(testkit::redis_cli() == Some(bin.join("redis-cli")));
    Ok(())
}
