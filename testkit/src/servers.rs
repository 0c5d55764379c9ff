//! Finding the installed server binaries.
//!
//! `scripts/install-servers.sh` links every server as
//! `$RDBKIT_SERVERS_DIR/bin/<flavor>-<major>.<minor>.<patch>` (default
//! `<workspace>/.servers/bin`), plus `redis-cli` and `redis-check-rdb`.
//! Discovery only reads those names; it does not run the binaries.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Environment variable naming the servers directory (holding `bin/`).
pub const SERVERS_DIR_ENV: &str = "RDBKIT_SERVERS_DIR";

/// When this environment variable is `1`, a missing expected server is an
/// error instead of a skipped test (CI sets it).
pub const REQUIRE_ENV: &str = "RDBKIT_REQUIRE_SERVERS";

/// Server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flavor {
    /// Redis (redis-server).
    Redis,
    /// Valkey (valkey-server).
    Valkey,
}

impl Flavor {
    /// Lower-case name as used in file names: `redis` or `valkey`.
    pub fn as_str(self) -> &'static str {
        match self {
            Flavor::Redis => "redis",
            Flavor::Valkey => "valkey",
        }
    }

    fn parse(s: &str) -> Option<Flavor> {
        match s.to_ascii_lowercase().as_str() {
            "redis" => Some(Flavor::Redis),
            "valkey" => Some(Flavor::Valkey),
            _ => None,
        }
    }
}

impl fmt::Display for Flavor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An expected server line: flavor plus major and minor version.
pub type ServerLine = (Flavor, u32, u32);

/// The server lines the test suite expects (`RDBKIT_REQUIRE_SERVERS=1`
/// makes a missing one an error).
pub const EXPECTED_SERVERS: [ServerLine; 8] = [
    (Flavor::Redis, 5, 0),
    (Flavor::Redis, 6, 0),
    (Flavor::Redis, 6, 2),
    (Flavor::Redis, 7, 0),
    (Flavor::Redis, 8, 0),
    (Flavor::Redis, 8, 6),
    (Flavor::Valkey, 8, 1),
    (Flavor::Valkey, 9, 1),
];

/// One installed server binary.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerBin {
    /// Redis or Valkey.
    pub flavor: Flavor,
    /// `(major, minor, patch)` as the binary reports it.
    pub version: (u32, u32, u32),
    /// Path of the binary (usually a link in the servers `bin/` directory).
    pub path: PathBuf,
}

impl ServerBin {
    /// `<flavor>-<major>.<minor>.<patch>`, e.g. `redis-7.0.15`.
    pub fn name(&self) -> String {
        format!("{}-{}", self.flavor, self.version_text())
    }

    /// `<major>.<minor>.<patch>`, e.g. `7.0.15`.
    pub fn version_text(&self) -> String {
        let (a, b, c) = self.version;
        format!("{a}.{b}.{c}")
    }

    /// Whether this binary belongs to the given `(flavor, major, minor)` line.
    pub fn is_line(&self, line: ServerLine) -> bool {
        self.flavor == line.0 && self.version.0 == line.1 && self.version.1 == line.2
    }

    /// Describe a binary by running `<path> --version`
    /// ("Redis server v=7.0.15 ..." / "Valkey server v=9.1.2 ...").
    pub fn probe(path: &Path) -> Result<ServerBin> {
        let out = std::process::Command::new(path)
            .arg("--version")
            .output()
            .with_context(|| format!("running {} --version", path.display()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        parse_version_line(&text)
            .map(|(flavor, version)| ServerBin { flavor, version, path: path.to_path_buf() })
            .with_context(|| {
                format!("{} --version printed no \"<Redis|Valkey> server v=X.Y.Z\": {text:?}", path.display())
            })
    }

    /// The binary's features (what the dataset and the reader may use).
    pub fn features(&self) -> crate::Features {
        crate::Features::new(self.flavor, self.version)
    }
}

impl fmt::Display for ServerBin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Parse "X.Y.Z" (extra components and suffixes are ignored).
pub(crate) fn parse_version(s: &str) -> Option<(u32, u32, u32)> {
    let mut it = s.split('.').map(|p| {
        let digits: String = p.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<u32>().ok()
    });
    Some((it.next()??, it.next()??, it.next()??))
}

fn parse_version_line(text: &str) -> Option<(Flavor, (u32, u32, u32))> {
    let mut words = text.split_whitespace();
    let flavor = Flavor::parse(words.next()?)?;
    if words.next()? != "server" {
        return None;
    }
    let v = words.next()?.strip_prefix("v=")?;
    Some((flavor, parse_version(v)?))
}

/// Parse a link name such as `valkey-9.1.2`.
fn parse_link_name(name: &str) -> Option<(Flavor, (u32, u32, u32))> {
    let (flavor, version) = name.split_once('-')?;
    let flavor = Flavor::parse(flavor)?;
    if version.split('.').count() != 3 || !version.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    Some((flavor, parse_version(version)?))
}

/// Root of the cargo workspace (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `$RDBKIT_SERVERS_DIR`, or `<workspace>/.servers`.
pub fn servers_dir() -> PathBuf {
    match std::env::var_os(SERVERS_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root().join(".servers"),
    }
}

/// Directory holding the server links.
pub fn bin_dir() -> PathBuf {
    servers_dir().join("bin")
}

/// Every server linked in [`bin_dir`], sorted by flavor then version.
/// A missing directory gives an empty list.
pub fn available() -> Result<Vec<ServerBin>> {
    let dir = bin_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name();
        let Some((flavor, version)) = name.to_str().and_then(parse_link_name) else {
            continue;
        };
        let path = entry.path();
        // A dangling link (e.g. a removed venv) is not a usable server.
        if path.is_file() {
            out.push(ServerBin { flavor, version, path });
        }
    }
    out.sort();
    Ok(out)
}

/// The newest installed binary of a `(flavor, major, minor)` line.
pub fn find(line: ServerLine) -> Result<Option<ServerBin>> {
    Ok(available()?.into_iter().rev().find(|s| s.is_line(line)))
}

/// Whether `RDBKIT_REQUIRE_SERVERS=1` is set.
pub fn servers_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v.trim() == "1")
}

/// The installed servers of the given lines, one (the newest) per line.
///
/// A line with no installed binary is an error when
/// `RDBKIT_REQUIRE_SERVERS=1`, so that the calling test fails; otherwise a
/// note is printed on stderr and the line is left out (the test skips it).
pub fn require(lines: &[ServerLine]) -> Result<Vec<ServerBin>> {
    let all = available()?;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for &line in lines {
        match all.iter().rev().find(|s| s.is_line(line)) {
            Some(s) => found.push(s.clone()),
            None => missing.push(format!("{}-{}.{}", line.0, line.1, line.2)),
        }
    }
    if !missing.is_empty() {
        let msg = format!(
            "server(s) {} not found in {} (run scripts/install-servers.sh)",
            missing.join(", "),
            bin_dir().display()
        );
        if servers_required() {
            bail!("{msg}; {REQUIRE_ENV}=1 makes this an error");
        }
        eprintln!("testkit: skipping {msg}");
    }
    Ok(found)
}

/// [`require`] for every line in [`EXPECTED_SERVERS`].
pub fn require_all() -> Result<Vec<ServerBin>> {
    require(&EXPECTED_SERVERS)
}

/// A tool from the servers `bin/` directory, else from `PATH`.
fn tool(name: &str) -> Option<PathBuf> {
    let local = bin_dir().join(name);
    if local.is_file() {
        return Some(local);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// `redis-cli`: the servers `bin/` directory first, then `PATH`.
pub fn redis_cli() -> Option<PathBuf> {
    tool("redis-cli")
}

/// A test module built with `server` (`scripts/install-servers.sh` keeps Redis 8.6's
/// `test_keymeta` next to the binary it builds), when installed.
pub fn test_module(server: &ServerBin, name: &str) -> Option<PathBuf> {
    let path = servers_dir().join("redis-build").join(server.name()).join(format!("{name}.so"));
    path.is_file().then_some(path)
}

/// `redis-check-rdb`: the servers `bin/` directory first, then `PATH`.
pub fn redis_check_rdb() -> Option<PathBuf> {
    tool("redis-check-rdb")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_version_lines() {
        assert_eq!(
            parse_version_line("Redis server v=6.2.14 sha=40305114:0 malloc=libc bits=64"),
            Some((Flavor::Redis, (6, 2, 14)))
        );
        assert_eq!(
            parse_version_line("Valkey server v=9.1.2 sha=00000000:1 malloc=libc"),
            Some((Flavor::Valkey, (9, 1, 2)))
        );
        assert_eq!(parse_version_line("redis-cli 7.0.15"), None);
    }

    #[test]
    fn parses_link_names() {
        assert_eq!(parse_link_name("redis-5.0.10"), Some((Flavor::Redis, (5, 0, 10))));
        assert_eq!(parse_link_name("valkey-8.1.8"), Some((Flavor::Valkey, (8, 1, 8))));
        assert_eq!(parse_link_name("redis-cli"), None);
        assert_eq!(parse_link_name("redis-check-rdb"), None);
        assert_eq!(parse_link_name("redis-7.0"), None);
    }

    #[test]
    fn names_and_ordering() {
        let a = ServerBin { flavor: Flavor::Redis, version: (6, 2, 14), path: PathBuf::from("a") };
        let b = ServerBin { flavor: Flavor::Redis, version: (6, 10, 0), path: PathBuf::from("b") };
        assert_eq!(a.name(), "redis-6.2.14");
        assert!(a < b, "versions compare numerically");
        assert!(a.is_line((Flavor::Redis, 6, 2)));
        assert!(!a.is_line((Flavor::Valkey, 6, 2)));
    }
}
