//! Sentinel: `redis+sentinel://[user[:password]@]host:26379[,host2:26379...]/MASTERNAME[/db]`
//! names a monitored group; [`pick_node`] asks the Sentinels for a healthy replica to
//! take a snapshot from, or the master when no replica is healthy.
//!
//! The URL's credentials are those of the data nodes. A Sentinel protected by its own
//! password gets it separately (`sentinel_password`).

use std::fmt;

use crate::conn::{ConnectOptions, Connection};
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::tls::TlsOptions;
use crate::url::{address, redact, ServerUrl};

/// The usual Sentinel port.
pub const DEFAULT_SENTINEL_PORT: u16 = 26379;

/// A parsed `redis+sentinel://` (or `rediss+sentinel://`) URL.
#[derive(Clone, PartialEq, Eq)]
pub struct SentinelUrl {
    /// The data nodes speak TLS (`rediss+sentinel://`); so do the Sentinels.
    pub tls: bool,
    /// The Sentinels, tried in order.
    pub sentinels: Vec<(String, u16)>,
    /// The monitored master's name.
    pub master: String,
    /// ACL user of the data nodes.
    pub user: Option<String>,
    /// Password of the data nodes.
    pub password: Option<String>,
    /// Database number.
    pub db: Option<u64>,
}

impl SentinelUrl {
    /// True when `s` looks like a Sentinel URL.
    pub fn matches(s: &str) -> bool {
        s.starts_with("redis+sentinel://") || s.starts_with("rediss+sentinel://")
    }

    /// Parses the URL.
    pub fn parse(s: &str) -> Result<SentinelUrl> {
        let bad = |why: &str| Error::Url { url: redact(s), why: why.to_string() };
        let (tls, rest) = if let Some(r) = s.strip_prefix("rediss+sentinel://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("redis+sentinel://") {
            (false, r)
        } else {
            return Err(bad("expected redis+sentinel:// or rediss+sentinel://"));
        };
        let (hosts, path) = rest.split_once('/').ok_or_else(|| bad("no master name (…:26379/MASTERNAME)"))?;
        let (auth, hosts) = match hosts.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, hosts),
        };
        let (master, db) = match path.split_once('/') {
            Some((m, "")) => (m, None),
            Some((m, d)) => (m, Some(d.parse::<u64>().map_err(|_| bad("the database must be a number"))?)),
            None => (path, None),
        };
        if master.is_empty() {
            return Err(bad("no master name"));
        }
        let mut sentinels = Vec::new();
        for h in hosts.split(',') {
            // Each host parses the way a redis:// URL's does, with another default port.
            let with_port = if h.ends_with(']') || !h.contains(':') {
                format!("{h}:{DEFAULT_SENTINEL_PORT}")
            } else {
                h.to_string()
            };
            let u = ServerUrl::parse(&format!("redis://{with_port}")).map_err(|_| bad("invalid Sentinel address"))?;
            sentinels.push((u.host, u.port));
        }
        // Credentials decode exactly as in a redis:// URL.
        let creds = match auth {
            Some(a) => ServerUrl::parse(&format!("redis://{a}@h")).map_err(|_| bad("invalid credentials"))?,
            None => ServerUrl::parse("redis://h")?,
        };
        Ok(SentinelUrl { tls, sentinels, master: master.to_string(), user: creds.user, password: creds.password, db })
    }

    /// The URL of a data node, with this URL's credentials and database.
    pub fn node_url(&self, host: &str, port: u16) -> ServerUrl {
        ServerUrl {
            tls: self.tls,
            host: host.to_string(),
            port,
            user: self.user.clone(),
            password: self.password.clone(),
            db: self.db,
        }
    }
}

/// The URL without its password.
impl fmt::Display for SentinelUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", if self.tls { "rediss+sentinel" } else { "redis+sentinel" })?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        let hosts: Vec<String> = self.sentinels.iter().map(|(h, p)| address(h, *p)).collect();
        write!(f, "{}/{}", hosts.join(","), self.master)?;
        if let Some(d) = self.db {
            write!(f, "/{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for SentinelUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SentinelUrl({self})")
    }
}

/// The node a Sentinel pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picked {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// A replica (else the master, because no replica was healthy).
    pub replica: bool,
    /// The Sentinel that answered.
    pub sentinel: String,
}

/// One `SENTINEL replicas` entry as field/value pairs.
type Fields = Vec<(String, String)>;
/// A host and port.
type HostPort = (String, u16);

fn fields(entry: &Frame) -> Option<Fields> {
    let Frame::Array(items) = entry else { return None };
    let text = |f: &Frame| f.as_bytes().map(|b| String::from_utf8_lossy(b).into_owned());
    items.chunks(2).map(|pair| Some((text(pair.first()?)?, text(pair.get(1)?)?))).collect()
}

fn field<'a>(f: &'a Fields, name: &str) -> Option<&'a str> {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The healthiest replica: up (no `s_down`, `o_down` or `disconnected` flag), linked to
/// its master, and the furthest along in replication.
pub fn choose_replica(replicas: &[Fields]) -> Option<HostPort> {
    replicas
        .iter()
        .filter(|r| {
            let flags = field(r, "flags").unwrap_or_default();
            !flags.split(',').any(|f| matches!(f, "s_down" | "o_down" | "disconnected"))
                && field(r, "master-link-status") == Some("ok")
        })
        .filter_map(|r| {
            let port = field(r, "port")?.parse::<u16>().ok()?;
            let offset = field(r, "slave-repl-offset").and_then(|o| o.parse::<u64>().ok()).unwrap_or(0);
            Some((offset, field(r, "ip")?.to_string(), port))
        })
        .max_by_key(|(offset, _, _)| *offset)
        .map(|(_, host, port)| (host, port))
}

fn ask(conn: &mut Connection, master: &str) -> Result<(Option<HostPort>, HostPort)> {
    let replicas = match conn.call(&[b"SENTINEL", b"replicas", master.as_bytes()]) {
        Err(Error::Server(e)) if e.to_ascii_lowercase().contains("unknown") => {
            conn.call(&[b"SENTINEL", b"slaves", master.as_bytes()])?
        }
        r => r?,
    };
    let list: Vec<Fields> = match &replicas {
        Frame::Array(entries) => entries.iter().filter_map(fields).collect(),
        _ => Vec::new(),
    };
    let addr = conn.call(&[b"SENTINEL", b"get-master-addr-by-name", master.as_bytes()])?;
    let master_addr = match &addr {
        Frame::Array(parts) => parts
            .first()
            .and_then(Frame::as_bytes)
            .map(|h| String::from_utf8_lossy(h).into_owned())
            .zip(parts.get(1).and_then(Frame::as_int).and_then(|p| u16::try_from(p).ok())),
        _ => None,
    }
    .ok_or_else(|| Error::Server(format!("Sentinel does not know a master named {master:?}")))?;
    Ok((choose_replica(&list), master_addr))
}

/// Asks the Sentinels in turn for a healthy replica of the group (the master if none is).
pub fn pick_node(
    url: &SentinelUrl,
    sentinel_password: Option<&str>,
    tls: &TlsOptions,
    timeout: std::time::Duration,
) -> Result<Picked> {
    let mut last = None;
    for (host, port) in &url.sentinels {
        let sentinel = address(host, *port);
        let options = ConnectOptions {
            url: ServerUrl { tls: url.tls, host: host.clone(), port: *port, user: None, password: None, db: None },
            password: sentinel_password.map(str::to_string),
            tls: tls.clone(),
            timeout,
        };
        let answer = Connection::open(&options).and_then(|mut c| ask(&mut c, &url.master));
        match answer {
            Ok((Some((host, port)), _)) => return Ok(Picked { host, port, replica: true, sentinel }),
            Ok((None, (host, port))) => return Ok(Picked { host, port, replica: false, sentinel }),
            Err(e) => last = Some(e.at(&format!("Sentinel {sentinel}"))),
        }
    }
    Err(last.unwrap_or_else(|| Error::Server("no Sentinel given".into())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_urls_parse() -> Result<()> {
        let u = SentinelUrl::parse("redis+sentinel://:s3cret@10.0.0.1,10.0.0.2:26380/mymaster/2")?;
        assert_eq!(u.sentinels, vec![("10.0.0.1".into(), 26379), ("10.0.0.2".into(), 26380)]);
        assert_eq!((u.master.as_str(), u.db, u.password.as_deref()), ("mymaster", Some(2), Some("s3cret")));
        assert_eq!(u.to_string(), "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380/mymaster/2");
        assert!(!format!("{u:?}").contains("s3cret"));
        let n = u.node_url("10.0.0.9", 6380);
        assert_eq!((n.port, n.password.as_deref(), n.db), (6380, Some("s3cret"), Some(2)));
        let u = SentinelUrl::parse("rediss+sentinel://[::1]/m")?;
        assert_eq!((u.tls, u.sentinels[0].clone()), (true, ("::1".into(), 26379)));
        assert!(SentinelUrl::parse("redis+sentinel://h:1").is_err());
        assert!(SentinelUrl::parse("redis+sentinel://h:1/").is_err());
        let msg = SentinelUrl::parse("redis+sentinel://u:topsecret@h:x/m").expect_err("bad port").to_string();
        assert!(!msg.contains("topsecret"), "{msg}");
        Ok(())
    }

    fn replica(ip: &str, flags: &str, link: &str, offset: u64) -> Fields {
        [("ip", ip), ("port", "6380"), ("flags", flags), ("master-link-status", link)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .chain([("slave-repl-offset".to_string(), offset.to_string())])
            .collect()
    }

    #[test]
    fn the_furthest_healthy_replica_is_chosen() {
        let list = vec![
            replica("a", "slave", "ok", 10),
            replica("b", "slave,s_down", "ok", 99),
            replica("c", "slave", "err", 98),
            replica("d", "slave", "ok", 50),
            replica("e", "slave,disconnected", "ok", 97),
        ];
        assert_eq!(choose_replica(&list), Some(("d".into(), 6380)));
        assert_eq!(choose_replica(&list[1..3]), None);
        assert_eq!(choose_replica(&[]), None);
    }
}
