//! What a server says about itself: flavor, version, cluster mode, configuration.

use crate::conn::Call;
use crate::error::{Error, Result};
use crate::frame::Frame;

/// Flavor, version and mode of a server, from `INFO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Valkey rather than Redis.
    pub valkey: bool,
    /// `(major, minor, patch)` (Valkey's own numbering for Valkey).
    pub version: (u32, u32, u32),
    /// Cluster mode is on.
    pub cluster_enabled: bool,
}

/// The value of `name:` in INFO text.
pub fn info_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(':')).map(str::trim)
}

/// Parses "7.2.4" (missing parts are 0).
pub fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u32>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    Some((major, minor, patch))
}

impl ServerInfo {
    /// Reads it from the text of `INFO server` and `INFO cluster`.
    pub fn parse(text: &str) -> Option<ServerInfo> {
        let valkey_version = info_field(text, "valkey_version");
        let valkey = valkey_version.is_some() || info_field(text, "server_name") == Some("valkey");
        let version = parse_version(valkey_version.or_else(|| info_field(text, "redis_version"))?)?;
        let cluster_enabled = info_field(text, "cluster_enabled") == Some("1");
        Some(ServerInfo { valkey, version, cluster_enabled })
    }

    /// Asks the server.
    pub fn fetch(conn: &mut impl Call) -> Result<ServerInfo> {
        let mut text = info(conn, "server")?;
        text.push_str(&info(conn, "cluster")?);
        ServerInfo::parse(&text).ok_or_else(|| Error::Server("INFO has no redis_version or valkey_version".into()))
    }
}

/// The text of `INFO section`.
pub fn info(conn: &mut impl Call, section: &str) -> Result<String> {
    match conn.call(&[b"INFO", section.as_bytes()])? {
        Frame::Bulk(b) | Frame::Simple(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        other => Err(Error::Server(format!("unexpected INFO reply {other:?}"))),
    }
}

/// `CONFIG GET name`: `None` when the parameter is unknown or CONFIG is disabled.
pub fn config_get(conn: &mut impl Call, name: &str) -> Result<Option<String>> {
    match conn.call(&[b"CONFIG", b"GET", name.as_bytes()]) {
        Ok(Frame::Array(items)) => {
            Ok(items.get(1).and_then(Frame::as_bytes).map(|b| String::from_utf8_lossy(b).into_owned()))
        }
        Ok(_) | Err(Error::Server(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_text_parses() {
        let redis = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n# Cluster\r\ncluster_enabled:0\r\n";
        assert_eq!(
            ServerInfo::parse(redis),
            Some(ServerInfo { valkey: false, version: (7, 0, 15), cluster_enabled: false })
        );
        let valkey = "redis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:9.1.2\r\ncluster_enabled:1\r\n";
        assert_eq!(
            ServerInfo::parse(valkey),
            Some(ServerInfo { valkey: true, version: (9, 1, 2), cluster_enabled: true })
        );
        assert_eq!(parse_version("255.255.255"), Some((255, 255, 255)));
        assert_eq!(ServerInfo::parse("nothing\r\n"), None);
    }
}
