//! Server URLs: `redis://[user[:password]@]host[:port][/db]` and `rediss://` for TLS.
//!
//! User and password may be percent-encoded (`p%40ss` is `p@ss`). The password never
//! appears in messages: [`ServerUrl`]'s `Display` and `Debug` leave it out, and errors
//! about a malformed URL quote it through [`redact`].

use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};

/// Port used when the URL names none.
pub const DEFAULT_PORT: u16 = 6379;

/// A parsed server URL.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerUrl {
    /// `rediss://`: connect with TLS.
    pub tls: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// ACL user name.
    pub user: Option<String>,
    /// Password (decoded).
    pub password: Option<String>,
    /// Database number from the path.
    pub db: Option<u64>,
}

impl ServerUrl {
    /// Parses a `redis://` or `rediss://` URL.
    pub fn parse(s: &str) -> Result<ServerUrl> {
        let bad = |why: &str| Error::Url { url: redact(s), why: why.to_string() };
        let (tls, rest) = if let Some(r) = s.strip_prefix("rediss://") {
            (true, r)
        } else if let Some(r) = s.strip_prefix("redis://") {
            (false, r)
        } else {
            return Err(bad("expected redis:// or rediss://"));
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let decode = |part: &str, what: &str| {
            percent_decode(part).ok_or_else(|| bad(&format!("invalid %-escape in the {what}")))
        };
        let (user, password) = match auth {
            None => (None, None),
            Some(a) => match a.split_once(':') {
                Some((u, p)) => {
                    ((!u.is_empty()).then(|| decode(u, "user name")).transpose()?, Some(decode(p, "password")?))
                }
                None => (Some(decode(a, "user name")?), None),
            },
        };
        let (hostport, db) = match hostpart.split_once('/') {
            Some((h, "")) => (h, None),
            Some((h, d)) => (h, Some(d.parse::<u64>().map_err(|_| bad("the path must be a database number"))?)),
            None => (hostpart, None),
        };
        let (host, port) = split_host_port(hostport).ok_or_else(|| bad("invalid port"))?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(ServerUrl { tls, host: host.to_string(), port, user, password, db })
    }

    /// `host:port` (IPv6 hosts in brackets).
    pub fn address(&self) -> String {
        address(&self.host, self.port)
    }
}

/// `host:port`, with an IPv6 host in brackets.
pub fn address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Splits `host[:port]`, `[v6]` or `[v6]:port`.
fn split_host_port(s: &str) -> Option<(&str, u16)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, DEFAULT_PORT)),
            p => Some((host, p.strip_prefix(':')?.parse().ok()?)),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) => Some((h, p.parse().ok()?)),
        None => Some((s, DEFAULT_PORT)),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The URL without its password.
impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "rediss" } else { "redis" };
        write!(f, "{scheme}://")?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        write!(f, "{}", self.address())?;
        if let Some(d) = self.db {
            write!(f, "/{d}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerUrl({self}{})", if self.password.is_some() { ", password set" } else { "" })
    }
}

/// Hides what may be secret in a URL-looking string, for messages about a malformed
/// URL: everything before the last `@` after the scheme but a user name followed by
/// `:` (`redis://u:***@h`, `redis://***@h`, also without `://`), and a query string.
pub fn redact(s: &str) -> String {
    let (scheme, rest) = match s.find("://") {
        Some(a) => s.split_at(a + 3),
        None => ("", s),
    };
    let (rest, query) = match rest.find(['?', '#']) {
        Some(q) => (&rest[..q], "?***"),
        None => (rest, ""),
    };
    let rest = match rest.rfind('@') {
        Some(at) => {
            let shown = match rest[..at].split_once(':') {
                Some((user, _)) if !user.is_empty() && !user.contains('/') => format!("{user}:***"),
                _ => "***".to_string(),
            };
            format!("{shown}{}", &rest[at..])
        }
        None => rest.to_string(),
    };
    format!("{scheme}{rest}{query}")
}

/// The password to use: the URL's, else the first line of `password_file`, else the
/// `REDISCLI_AUTH` environment variable (so it never has to be on the command line).
pub fn resolve_password(url: &ServerUrl, password_file: Option<&Path>) -> Result<Option<String>> {
    if let Some(p) = &url.password {
        return Ok(Some(p.clone()));
    }
    if let Some(f) = password_file {
        let text = std::fs::read_to_string(f).map_err(|e| {
            Error::Io(std::io::Error::new(e.kind(), format!("{}: cannot read the password file: {e}", f.display())))
        })?;
        return Ok(Some(text.lines().next().unwrap_or_default().to_string()));
    }
    Ok(std::env::var("REDISCLI_AUTH").ok().filter(|p| !p.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_hide_passwords() -> Result<()> {
        let u = ServerUrl::parse("rediss://admin:s3cret@cache.example:6380/2")?;
        assert_eq!((u.tls, u.host.as_str(), u.port, u.db), (true, "cache.example", 6380, Some(2)));
        assert_eq!((u.user.as_deref(), u.password.as_deref()), (Some("admin"), Some("s3cret")));
        assert_eq!(u.to_string(), "rediss://admin@cache.example:6380/2");
        assert!(!format!("{u:?}").contains("s3cret"));
        let u = ServerUrl::parse("redis://:pw@10.0.0.1")?;
        assert_eq!((u.user, u.password.as_deref(), u.port), (None, Some("pw"), 6379));
        let u = ServerUrl::parse("redis://[::1]:7000")?;
        assert_eq!((u.host.as_str(), u.port, u.address()), ("::1", 7000, "[::1]:7000".to_string()));
        assert!(ServerUrl::parse("http://x").is_err());
        assert!(ServerUrl::parse("redis://h:notaport").is_err());
        assert!(ServerUrl::parse("redis://h:1/x").is_err());
        assert!(ServerUrl::parse("redis://u:pw@").is_err());
        Ok(())
    }

    #[test]
    fn passwords_are_percent_decoded_and_never_echoed() -> Result<()> {
        let u = ServerUrl::parse("redis://us%65r:p%40ss%3Aw%2Fd@h:1")?;
        assert_eq!((u.user.as_deref(), u.password.as_deref()), (Some("user"), Some("p@ss:w/d")));
        let u = ServerUrl::parse("redis://u:p@ss@h")?;
        assert_eq!(u.password.as_deref(), Some("p@ss"));
        for bad in
            ["redis://u:topsecret@h:x", "redis://u:topsecret@h/x", "redis://u:top%zzsecret@h", "redis://u:topsecret@"]
        {
            let msg = ServerUrl::parse(bad).expect_err(bad).to_string();
            assert!(!msg.contains("topsecret") && !msg.contains("secret"), "{msg}");
            assert!(!msg.contains('\n'));
        }
        assert_eq!(redact("redis://u:pw@h:1"), "redis://u:***@h:1");
        assert_eq!(redact("redis://pw@h:1"), "redis://***@h:1");
        assert_eq!(redact("redis//u:pw@h"), "***@h");
        assert_eq!(redact("redis://h:1?password=pw"), "redis://h:1?***");
        assert_eq!(redact("redis://h:1/2"), "redis://h:1/2");
        let options = crate::ConnectOptions::new(ServerUrl::parse("redis://u:topsecret@h")?);
        assert!(!format!("{options:?}").contains("topsecret"));
        Ok(())
    }
}
