//! Connections to a server or a cluster: URL parsing, credentials, TLS, pipelined batches.

mod cluster;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use redis::{Cmd, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo, TlsCertificates, Value};

pub use cluster::{ClusterLink, Route};

use crate::exit::usage;

/// How long to wait for a connection or a reply.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A parsed `redis://` or `rediss://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    pub user: Option<String>,
    pub password: Option<String>,
    pub db: Option<u64>,
}

impl ServerUrl {
    /// Parses `redis[s]://[user[:password]@]host[:port][/db]`.
    pub fn parse(s: &str) -> anyhow::Result<ServerUrl> {
        let bad = |why: &str| usage(format!("invalid server URL {}: {why}", redact(s)));
        let (tls, rest) = if let Some(r) = s.strip_prefix("rediss://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("redis://") {
            (false, r)
        } else {
            return Err(bad("expected redis:// or rediss://"));
        };
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (user, password) = match auth {
            None => (None, None),
            Some(a) => match a.split_once(':') {
                Some((u, p)) => ((!u.is_empty()).then(|| u.to_string()), Some(p.to_string())),
                None => (Some(a.to_string()), None),
            },
        };
        let (hostport, db) = match hostpart.split_once('/') {
            Some((h, "")) => (h, None),
            Some((h, d)) => (h, Some(d.parse::<u64>().map_err(|_| bad("the path must be a database number"))?)),
            None => (hostpart, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad("invalid port"))?),
            None => (hostport, 6379),
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(ServerUrl { tls, host: host.trim_matches(['[', ']']).to_string(), port, user, password, db })
    }

    /// The URL without its password, for messages.
    pub fn display(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let user = self.user.as_deref().map(|u| format!("{u}@")).unwrap_or_default();
        let db = self.db.map(|d| format!("/{d}")).unwrap_or_default();
        format!("{scheme}://{user}{}:{}{db}", self.host, self.port)
    }
}

/// Hides the password of a URL-looking string.
pub fn redact(s: &str) -> String {
    match (s.find("://"), s.rfind('@')) {
        (Some(a), Some(b)) if b > a => {
            let auth = &s[a + 3..b];
            match auth.split_once(':') {
                Some((u, _)) => format!("{}{u}:***{}", &s[..a + 3], &s[b..]),
                None => s.to_string(),
            }
        }
        _ => s.to_string(),
    }
}

/// Everything needed to connect.
pub struct ConnectOptions {
    pub url: ServerUrl,
    /// From `--password-file` or `REDISCLI_AUTH` when the URL has none.
    pub password_file: Option<PathBuf>,
    pub tls_ca: Option<PathBuf>,
    pub tls_insecure: bool,
    pub cluster: bool,
}

/// Reads the password: URL, then `--password-file`, then `REDISCLI_AUTH`.
fn password(o: &ConnectOptions) -> anyhow::Result<Option<String>> {
    if let Some(p) = &o.url.password {
        return Ok(Some(p.clone()));
    }
    if let Some(f) = &o.password_file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("{}: cannot read the password file", f.display()))?;
        return Ok(Some(text.trim_end_matches(['\r', '\n']).to_string()));
    }
    Ok(std::env::var("REDISCLI_AUTH").ok().filter(|p| !p.is_empty()))
}

fn read_ca(path: &Path) -> anyhow::Result<TlsCertificates> {
    let pem = std::fs::read(path).with_context(|| format!("{}: cannot read the CA file", path.display()))?;
    Ok(TlsCertificates { client_tls: None, root_cert: Some(pem) })
}

/// What the server says about itself.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub valkey: bool,
    pub version: (u32, u32, u32),
    pub cluster_enabled: bool,
}

/// A batch sent by [`Link::send`].
pub enum Sent {
    /// This many replies are still to be read.
    Waiting(usize),
    /// Already answered (clusters run each batch to completion).
    Done(Vec<Result<(), String>>),
}

/// A connection to one server or to a cluster (which follows MOVED and ASK).
pub enum Link {
    Single(Box<redis::Connection>),
    Cluster(Box<ClusterLink>),
}

/// Opens one authenticated connection to `host:port` with the options' TLS settings.
fn open(o: &ConnectOptions, password: Option<&str>, host: &str, port: u16) -> redis::RedisResult<redis::Connection> {
    let mut redis = RedisConnectionInfo::default();
    if let Some(u) = &o.url.user {
        redis = redis.set_username(u);
    }
    if let Some(p) = password {
        redis = redis.set_password(p);
    }
    let addr = if o.url.tls {
        ConnectionAddr::TcpTls { host: host.to_string(), port, insecure: o.tls_insecure, tls_params: None }
    } else {
        ConnectionAddr::Tcp(host.to_string(), port)
    };
    let info: ConnectionInfo = addr.into_connection_info()?.set_redis_settings(redis);
    let client = match (&o.tls_ca, o.url.tls) {
        (Some(ca), true) => {
            let certs =
                read_ca(ca).map_err(|e| redis::RedisError::from((redis::ErrorKind::Io, "CA file", e.to_string())))?;
            redis::Client::build_with_tls(info, certs)?
        }
        _ => redis::Client::open(info)?,
    };
    let conn = client.get_connection_with_timeout(TIMEOUT)?;
    conn.set_read_timeout(Some(TIMEOUT))?;
    conn.set_write_timeout(Some(TIMEOUT))?;
    Ok(conn)
}

impl Link {
    /// Connects and authenticates (to every master, for a cluster).
    pub fn connect(o: &ConnectOptions) -> anyhow::Result<Link> {
        // rustls needs a process-wide crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let target = o.url.display();
        let password = password(o)?;
        if o.cluster {
            let opts = ConnectOptions {
                url: o.url.clone(),
                password_file: None,
                tls_ca: o.tls_ca.clone(),
                tls_insecure: o.tls_insecure,
                cluster: true,
            };
            let connect = Box::new(move |host: &str, port: u16| open(&opts, password.as_deref(), host, port));
            let link = ClusterLink::new(&o.url.host, o.url.port, connect)
                .with_context(|| format!("{target}: cannot connect to the cluster"))?;
            return Ok(Link::Cluster(Box::new(link)));
        }
        let conn = open(o, password.as_deref(), &o.url.host, o.url.port)
            .with_context(|| format!("{target}: cannot connect"))?;
        Ok(Link::Single(Box::new(conn)))
    }

    /// Runs one command (on any node of a cluster).
    pub fn command(&mut self, cmd: &Cmd) -> redis::RedisResult<Value> {
        match self {
            Link::Single(c) => cmd.query(c.as_mut()),
            Link::Cluster(c) => c.command(cmd),
        }
    }

    /// Runs one command about `key` (on the key's master in a cluster).
    pub fn query_key(&mut self, cmd: &Cmd, key: &[u8]) -> redis::RedisResult<Value> {
        match self {
            Link::Single(c) => cmd.query(c.as_mut()),
            Link::Cluster(c) => c.follow(cmd, &Route::Key(key.to_vec())),
        }
    }

    /// Server flavor and version from `INFO server`.
    pub fn server_info(&mut self) -> anyhow::Result<ServerInfo> {
        let text = match self.command(redis::cmd("INFO").arg("server"))? {
            Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::VerbatimString { text, .. } => text,
            Value::SimpleString(s) => s,
            other => bail!("unexpected INFO reply {other:?}"),
        };
        let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()));
        let valkey = field("valkey_version:").is_some() || field("server_name:").is_some_and(|n| n == "valkey");
        let version_text = field("valkey_version:")
            .or_else(|| field("redis_version:"))
            .ok_or_else(|| anyhow!("INFO has no version"))?;
        let mut parts = version_text.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0));
        let cluster_enabled = field("cluster_enabled:").is_some_and(|v| v == "1")
            || self
                .command(redis::cmd("INFO").arg("cluster"))
                .ok()
                .is_some_and(|v| redis::from_redis_value::<String>(v).is_ok_and(|t| t.contains("cluster_enabled:1")));
        Ok(ServerInfo { valkey, version, cluster_enabled })
    }

    /// Sends commands as one pipeline without waiting for the replies (on a single
    /// server), so that the next batch can be prepared while the server works.
    pub fn send(&mut self, cmds: &[Cmd], routes: &[Route]) -> redis::RedisResult<Sent> {
        match self {
            Link::Single(c) => {
                let mut p = redis::pipe();
                for cmd in cmds {
                    p.add_command(cmd.clone());
                }
                c.send_packed_command(&p.get_packed_pipeline())?;
                Ok(Sent::Waiting(cmds.len()))
            }
            Link::Cluster(c) => Ok(Sent::Done(c.batch(cmds, routes)?)),
        }
    }

    /// The replies to a [`Link::send`]: one result per command (errors as text).
    pub fn receive(&mut self, sent: Sent) -> redis::RedisResult<Vec<Result<(), String>>> {
        match (self, sent) {
            (_, Sent::Done(results)) => Ok(results),
            (Link::Single(c), Sent::Waiting(n)) => (0..n)
                .map(|_| {
                    Ok(match c.recv_response()? {
                        Value::ServerError(e) => Err(format!("{}: {}", e.code(), e.details().unwrap_or_default())),
                        _ => Ok(()),
                    })
                })
                .collect(),
            (Link::Cluster(_), Sent::Waiting(_)) => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_hide_passwords() -> anyhow::Result<()> {
        let u = ServerUrl::parse("rediss://admin:s3cret@cache.example:6380/2")?;
        assert_eq!(
            u,
            ServerUrl {
                tls: true,
                host: "cache.example".into(),
                port: 6380,
                user: Some("admin".into()),
                password: Some("s3cret".into()),
                db: Some(2)
            }
        );
        assert_eq!(u.display(), "rediss://admin@cache.example:6380/2");
        let u = ServerUrl::parse("redis://:pw@10.0.0.1")?;
        assert_eq!((u.user, u.password.as_deref(), u.port), (None, Some("pw"), 6379));
        assert!(ServerUrl::parse("http://x").is_err());
        assert!(ServerUrl::parse("redis://h:notaport").is_err());
        assert!(ServerUrl::parse("redis://h:1/x").is_err());
        assert_eq!(redact("redis://u:pw@h:1"), "redis://u:***@h:1");
        assert!(!format!("{:#}", ServerUrl::parse("redis://u:pw@h:x").expect_err("bad port")).contains("pw"));
        Ok(())
    }
}
