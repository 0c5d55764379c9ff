//! A real S3 server for the backup tests: `s3s-fs` (an S3 API server on a local
//! directory that checks request signatures and checksums), installed by
//! `scripts/install-servers.sh` as `$RDBKIT_SERVERS_DIR/bin/s3s-fs`.
//!
//! Each server listens on 127.0.0.1 on a free port, stores its buckets as directories
//! of its own temporary directory, requires the credentials of [`S3Server::access_key`]
//! and [`S3Server::secret_key`], and is stopped by its pid when the guard is dropped.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::guard::free_port;
use crate::servers::{bin_dir, servers_required, REQUIRE_ENV};

/// How long the server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a freshly picked port may turn out to be taken.
const PORT_ATTEMPTS: usize = 5;

/// A running `s3s-fs`; killed and cleaned up on drop.
#[derive(Debug)]
pub struct S3Server {
    binary: PathBuf,
    child: Child,
    port: u16,
    dir: TempDir,
}

/// The `s3s-fs` binary: the servers `bin/` directory first, then `PATH`. When it is
/// missing the test skips (prints why, returns `None`), or fails under
/// `RDBKIT_REQUIRE_SERVERS=1`.
pub fn require_s3s_fs() -> Result<Option<PathBuf>> {
    let local = bin_dir().join("s3s-fs");
    let found = if local.is_file() {
        Some(local)
    } else {
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("s3s-fs")).find(|p| p.is_file()))
    };
    if found.is_none() {
        let msg = format!("s3s-fs not found in {} or PATH (run scripts/install-servers.sh)", bin_dir().display());
        if servers_required() {
            bail!("{msg}; {REQUIRE_ENV}=1 makes this an error");
        }
        eprintln!("testkit: skipping: {msg}");
    }
    Ok(found)
}

impl S3Server {
    /// The access key the server accepts.
    pub const ACCESS_KEY: &'static str = "rdbkit-test";
    /// The secret key the server accepts.
    pub const SECRET_KEY: &'static str = "rdbkit-test-secret-key";

    /// Starts `binary` with an empty root directory and waits until it accepts connections.
    pub fn start(binary: &Path) -> Result<S3Server> {
        let mut last = None;
        for _ in 0..PORT_ATTEMPTS {
            match Self::try_start(binary) {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("no attempt made")))
    }

    fn try_start(binary: &Path) -> Result<S3Server> {
        let dir = tempfile::Builder::new().prefix("rdbkit-s3s-").tempdir().context("creating the S3 root")?;
        std::fs::create_dir(dir.path().join("root"))?;
        let port = free_port()?;
        let child = spawn(binary, port, dir.path())?;
        let mut server = S3Server { binary: binary.to_path_buf(), child, port, dir };
        server.wait_ready()?;
        Ok(server)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("s3s-fs exited early with {status}: {}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("s3s-fs did not listen on port {} within {READY_TIMEOUT:?}: {}", self.port, self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the server again (after [`S3Server::kill`]) on the same port and data.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        self.child = spawn(&self.binary, self.port, self.dir.path())?;
        self.wait_ready()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The TCP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the buckets (one subdirectory each).
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, name: &str) -> Result<()> {
        std::fs::create_dir(self.root().join(name)).with_context(|| format!("creating bucket {name}"))
    }

    /// The server's log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("s3s.log")).unwrap_or_default()
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Environment for an AWS client talking to this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", Self::ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", Self::SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
            // Never ask an instance metadata service (there is none here).
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

/// Runs `binary` on `port` with `<dir>/root` as its data, logging to `<dir>/s3s.log`.
fn spawn(binary: &Path, port: u16, dir: &Path) -> Result<Child> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("s3s.log"))?;
    Command::new(binary)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", S3Server::ACCESS_KEY, "--secret-key", S3Server::SECRET_KEY])
        .arg(dir.join("root"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("spawning {}", binary.display()))
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}
