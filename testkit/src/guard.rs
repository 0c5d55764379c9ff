//! A real server process that lives as long as its guard.
//!
//! Each server listens on 127.0.0.1 on a free port, works in its own
//! temporary directory (which is also its `dir`, so `SAVE` writes
//! `<dir>/dump.rdb`), never saves or appends on its own, and logs to
//! `<dir>/server.log`. Dropping the guard stops the process by its pid
//! (SIGTERM, then SIGKILL) and removes the directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use redis::{Connection, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo};
use tempfile::TempDir;

use crate::servers::ServerBin;

/// File name the server saves to and loads from, inside its directory.
pub const DUMP_FILE: &str = "dump.rdb";

/// Log file name inside the server directory.
const LOG_FILE: &str = "server.log";

/// How often a freshly picked port may turn out to be taken before giving up.
const PORT_ATTEMPTS: usize = 5;

/// How long `Drop` waits after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Options for [`ServerGuard::start_with`].
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Extra command-line arguments, e.g. `["--maxmemory-policy", "allkeys-lfu"]`.
    pub extra_args: Vec<String>,
    /// An RDB file to copy into the server directory as `dump.rdb` before
    /// starting, so the server loads it.
    pub rdb: Option<PathBuf>,
    /// An AOF to copy into the server directory before starting: a directory becomes
    /// `appendonlydir/`, a file `appendonly.aof` (start with `--appendonly yes` so the
    /// server loads it).
    pub aof: Option<PathBuf>,
    /// Start with `--cluster-enabled yes` and a `nodes.conf` in the server
    /// directory.
    pub cluster: bool,
    /// How long to wait for the first successful `PING` (which only succeeds
    /// once loading has finished).
    pub ready_timeout: Duration,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            extra_args: Vec::new(),
            rdb: None,
            aof: None,
            cluster: false,
            ready_timeout: Duration::from_secs(10),
        }
    }
}

/// A running server; stopped and cleaned up on drop.
#[derive(Debug)]
pub struct ServerGuard {
    server: ServerBin,
    child: Child,
    port: u16,
    // `Drop for ServerGuard` stops the process before the fields are
    // dropped, so the directory is only removed once the server is gone.
    dir: TempDir,
}

impl ServerGuard {
    /// Start `server` with default options.
    pub fn start(server: &ServerBin) -> Result<Self> {
        Self::start_with(server, &StartOptions::default())
    }

    /// Start `server` so that it loads `rdb` (copied into its directory).
    pub fn start_with_rdb(server: &ServerBin, rdb: &Path) -> Result<Self> {
        Self::start_with(server, &StartOptions { rdb: Some(rdb.to_path_buf()), ..StartOptions::default() })
    }

    /// Start `server` with the given options and wait until it answers `PING`.
    pub fn start_with(server: &ServerBin, opts: &StartOptions) -> Result<Self> {
        let mut last_err = None;
        for _ in 0..PORT_ATTEMPTS {
            match Self::try_start(server, opts) {
                Ok(guard) => return Ok(guard),
                Err(StartError::PortTaken(e)) => last_err = Some(e),
                Err(StartError::Other(e)) => return Err(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow!("no attempt made")))
            .with_context(|| format!("starting {server}: ports kept being taken"))
    }

    fn try_start(server: &ServerBin, opts: &StartOptions) -> Result<Self, StartError> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("rdbkit-{}-", server.name()))
            .tempdir()
            .context("creating the server directory")?;
        if let Some(rdb) = &opts.rdb {
            std::fs::copy(rdb, dir.path().join(DUMP_FILE))
                .with_context(|| format!("copying {} into the server directory", rdb.display()))?;
        }
        if let Some(aof) = &opts.aof {
            copy_aof(aof, dir.path())
                .with_context(|| format!("copying {} into the server directory", aof.display()))?;
        }
        let port = free_port()?;
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--dir".into(),
            path_arg(dir.path())?,
            "--dbfilename".into(),
            DUMP_FILE.into(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--daemonize".into(),
            "no".into(),
            "--logfile".into(),
            path_arg(&dir.path().join(LOG_FILE))?,
        ];
        if server.features().debug_command_flag() {
            args.extend(["--enable-debug-command".into(), "yes".into()]);
        }
        if opts.cluster {
            args.extend([
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                path_arg(&dir.path().join("nodes.conf"))?,
            ]);
        }
        args.extend(opts.extra_args.iter().cloned());

        let child = Command::new(&server.path)
            .args(&args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("spawning {}", server.path.display()))?;
        let mut guard = ServerGuard { server: server.clone(), child, port, dir };
        match guard.wait_ready(opts.ready_timeout) {
            Ok(()) => Ok(guard),
            Err(e) => {
                guard.kill_now();
                let log = guard.log_tail(40);
                let err = e.context(format!(
                    "{server} did not become ready on port {port} (args: {})\n--- server.log (tail) ---\n{log}",
                    args.join(" ")
                ));
                if log.contains("Address already in use") {
                    Err(StartError::PortTaken(err))
                } else {
                    Err(StartError::Other(err))
                }
            }
        }
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().context("polling the server process")? {
                bail!("server exited early with {status}");
            }
            match self.conn().and_then(|mut c| redis::cmd("PING").query::<String>(&mut c).map_err(anyhow::Error::from))
            {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => {
                    bail!("no PONG within {timeout:?} (last error: {e:#})")
                }
                Err(_) => {}
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The binary this server runs.
    pub fn server(&self) -> &ServerBin {
        &self.server
    }

    /// `(major, minor, patch)` of the running binary.
    pub fn version(&self) -> (u32, u32, u32) {
        self.server.version
    }

    /// TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The server's working directory (`dir`); `dump.rdb` is saved here.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Path of the server log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join(LOG_FILE)
    }

    /// The last `lines` lines of the server log (empty if unreadable).
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read(self.log_path()).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// A new RESP2 connection to db 0.
    ///
    /// The client handshake is skipped (`CLIENT SETINFO` does not exist
    /// before 7.2), and reads time out after a minute instead of hanging a
    /// test forever.
    pub fn conn(&self) -> Result<Connection> {
        let info = ConnectionAddr::Tcp("127.0.0.1".into(), self.port)
            .into_connection_info()
            .context("building connection info")?
            .set_redis_settings(RedisConnectionInfo::default().set_skip_set_lib_name());
        let client = redis::Client::open(info).context("creating client")?;
        let conn = client
            .get_connection_with_timeout(Duration::from_secs(2))
            .with_context(|| format!("connecting to {} on port {}", self.server, self.port))?;
        conn.set_read_timeout(Some(Duration::from_secs(60))).context("setting the read timeout")?;
        Ok(conn)
    }

    /// `SAVE`, then the path of the written `dump.rdb`.
    pub fn save(&self) -> Result<PathBuf> {
        let mut c = self.conn()?;
        redis::cmd("SAVE").query::<()>(&mut c).with_context(|| format!("SAVE on {}", self.server))?;
        let path = self.dir().join(DUMP_FILE);
        if !path.is_file() {
            bail!("SAVE on {} succeeded but {} is missing", self.server, path.display());
        }
        Ok(path)
    }

    /// `DEBUG DIGEST`: a hash of the whole dataset (40 hex digits; all zeros
    /// when the server is empty).
    pub fn digest(&self) -> Result<String> {
        let mut c = self.conn()?;
        redis::cmd("DEBUG")
            .arg("DIGEST")
            .query::<String>(&mut c)
            .with_context(|| format!("DEBUG DIGEST on {}", self.server))
    }

    /// Start a fresh server of the same binary that loads `rdb`.
    pub fn load_rdb(&self, rdb: &Path) -> Result<ServerGuard> {
        ServerGuard::start_with_rdb(&self.server, rdb)
    }

    /// Stop the server now and report how it ended; `Drop` does the same
    /// silently.
    pub fn stop(mut self) -> Result<()> {
        self.terminate()
    }

    fn terminate(&mut self) -> Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        // std has no SIGTERM and unsafe code is off in this workspace, so use
        // kill(1) on our own child's pid; SIGKILL through Child is the fallback.
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !sent {
            self.kill_now();
            return Ok(());
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill_now();
        Ok(())
    }

    fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        if self.terminate().is_err() {
            self.kill_now();
        }
    }
}

enum StartError {
    PortTaken(anyhow::Error),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for StartError {
    fn from(e: anyhow::Error) -> Self {
        StartError::Other(e)
    }
}

/// A port that was free a moment ago (bind 127.0.0.1:0, read it, release it).
/// Another process may take it before the server binds; `start_with` retries.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr().context("reading the bound port")?.port())
}

/// Copies an AOF directory to `<dir>/appendonlydir`, or a file to `<dir>/appendonly.aof`.
pub fn copy_aof(aof: &Path, dir: &Path) -> Result<()> {
    if aof.is_dir() {
        let dest = dir.join("appendonlydir");
        std::fs::create_dir_all(&dest)?;
        for entry in std::fs::read_dir(aof)? {
            let entry = entry?;
            if entry.path().is_file() {
                std::fs::copy(entry.path(), dest.join(entry.file_name()))?;
            }
        }
    } else {
        std::fs::copy(aof, dir.join("appendonly.aof"))?;
    }
    Ok(())
}

fn path_arg(path: &Path) -> Result<String> {
    path.to_str().map(str::to_owned).with_context(|| format!("path is not UTF-8: {}", path.display()))
}
