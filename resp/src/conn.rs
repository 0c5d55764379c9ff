//! A blocking connection to one server: TCP or TLS, timeouts, authentication, and
//! buffered reading of replies (or of raw bytes, for a replication stream).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use rustls::{ClientConnection, StreamOwned};

use crate::encode::write_command;
use crate::error::{from_io, Error, Result};
use crate::frame::{Frame, ParseError};
use crate::tls::{client_config, server_name, TlsOptions};
use crate::url::{address, ServerUrl};

/// How long to wait for a connection or a reply unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Read buffer size.
const READ_CHUNK: usize = 64 * 1024;

/// Everything needed to open connections to a server (and to the other nodes of its
/// cluster, which share the credentials and TLS settings).
#[derive(Clone)]
pub struct ConnectOptions {
    /// The server.
    pub url: ServerUrl,
    /// The password, already resolved (see [`crate::resolve_password`]).
    pub password: Option<String>,
    /// TLS settings; only valid with `rediss://`.
    pub tls: TlsOptions,
    /// Limit for connecting and for each reply.
    pub timeout: Duration,
}

/// Debug output without the password.
impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("url", &self.url)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl ConnectOptions {
    /// Options for `url` with its own password, no TLS settings, the default timeout.
    pub fn new(url: ServerUrl) -> ConnectOptions {
        let password = url.password.clone();
        ConnectOptions { url, password, tls: TlsOptions::default(), timeout: DEFAULT_TIMEOUT }
    }

    /// Refuses TLS options on a plain-text URL rather than silently ignoring them.
    pub fn validate(&self) -> Result<()> {
        if self.tls.is_set() && !self.url.tls {
            return Err(Error::Url {
                url: self.url.to_string(),
                why: "TLS options (--tls-ca, --tls-cert, --tls-key, --tls-insecure) need a rediss:// URL".into(),
            });
        }
        Ok(())
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Anything that runs one command and returns its reply (error replies as
/// [`Error::Server`]): a [`Connection`], or a [`crate::Link`] to a server or cluster.
pub trait Call {
    /// Runs the command.
    fn call(&mut self, args: &[&[u8]]) -> Result<Frame>;
}

impl Call for Connection {
    fn call(&mut self, args: &[&[u8]]) -> Result<Frame> {
        Connection::call(self, args)
    }
}

/// One open connection.
pub struct Connection {
    stream: Stream,
    peer: String,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Bytes of the reply stream consumed before `buf[start]`.
    consumed: u64,
    timeout: Duration,
}

fn tcp_connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream> {
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last
        .map_or_else(|| Error::Io(std::io::Error::other(format!("{host} has no address"))), |e| from_io(e, timeout)))
}

impl Connection {
    /// Connects to the URL's server and authenticates. Errors name the server.
    pub fn open(o: &ConnectOptions) -> Result<Connection> {
        Self::open_to(o, &o.url.host, o.url.port)
    }

    /// Connects to `host:port` with the options' credentials and TLS settings.
    pub fn open_to(o: &ConnectOptions, host: &str, port: u16) -> Result<Connection> {
        let peer = address(host, port);
        Self::open_inner(o, host, port, peer.clone()).map_err(|e| e.at(&peer))
    }

    fn open_inner(o: &ConnectOptions, host: &str, port: u16, peer: String) -> Result<Connection> {
        o.validate()?;
        let tcp = tcp_connect(host, port, o.timeout)?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(o.timeout))?;
        tcp.set_write_timeout(Some(o.timeout))?;
        let stream = if o.url.tls {
            let mut tls = ClientConnection::new(client_config(&o.tls)?, server_name(host)?)
                .map_err(|e| Error::Tls(e.to_string()))?;
            let mut tcp = tcp;
            while tls.is_handshaking() {
                tls.complete_io(&mut tcp).map_err(|e| match e.kind() {
                    std::io::ErrorKind::InvalidData => Error::Tls(e.to_string()),
                    _ => from_io(e, o.timeout),
                })?;
            }
            Stream::Tls(Box::new(StreamOwned::new(tls, tcp)))
        } else {
            Stream::Plain(tcp)
        };
        let mut conn =
            Connection { stream, peer, buf: vec![0; READ_CHUNK], start: 0, end: 0, consumed: 0, timeout: o.timeout };
        if let Some(password) = &o.password {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &o.url.user {
                args.push(user.as_bytes());
            }
            args.push(password.as_bytes());
            match conn.call(&args) {
                Ok(_) => {}
                Err(Error::Server(msg)) => return Err(Error::Auth(msg)),
                Err(e) => return Err(e),
            }
        }
        Ok(conn)
    }

    /// `host:port` of the server.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Bytes of the reply stream consumed so far.
    pub fn position(&self) -> u64 {
        self.consumed
    }

    /// Changes the reply timeout (`None`: wait forever).
    pub fn set_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.stream.tcp().set_read_timeout(timeout)?;
        self.timeout = timeout.unwrap_or(Duration::MAX);
        Ok(())
    }

    /// Writes already encoded commands.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).and_then(|()| self.stream.flush()).map_err(|e| from_io(e, self.timeout))
    }

    /// Sends one command without waiting for its reply (a big one straight from its
    /// arguments, not copied whole first).
    pub fn send(&mut self, args: &[&[u8]]) -> Result<()> {
        write_command(&mut self.stream, args).and_then(|()| self.stream.flush()).map_err(|e| from_io(e, self.timeout))
    }

    /// Sends one command and reads its reply; an error reply becomes [`Error::Server`].
    pub fn call(&mut self, args: &[&[u8]]) -> Result<Frame> {
        self.send(args)?;
        match self.read_frame()? {
            Frame::Error(e) => Err(Error::Server(String::from_utf8_lossy(&e).into_owned())),
            f => Ok(f),
        }
    }

    /// Reads the next reply (error replies are returned as [`Frame::Error`]).
    pub fn read_frame(&mut self) -> Result<Frame> {
        loop {
            match Frame::parse(&self.buf[self.start..self.end]) {
                Ok((frame, n)) => {
                    self.start += n;
                    self.consumed += n as u64;
                    return Ok(frame);
                }
                Err(ParseError::Incomplete) => self.fill()?,
                Err(ParseError::Invalid { offset, expected }) => {
                    let at = self.start + offset;
                    let got = &self.buf[at..self.end.min(at + 40)];
                    return Err(Error::Protocol {
                        offset: self.consumed + offset as u64,
                        expected,
                        got: rdb_parser::escape_bytes(got, 60),
                    });
                }
            }
        }
    }

    /// Reads up to and including the next `\n`; returns the line without `\r\n` or `\n`.
    pub fn read_line(&mut self, max: usize) -> Result<Vec<u8>> {
        loop {
            if let Some(n) = self.buf[self.start..self.end].iter().position(|&b| b == b'\n') {
                let line = self.buf[self.start..self.start + n]
                    .strip_suffix(b"\r")
                    .unwrap_or(&self.buf[self.start..self.start + n])
                    .to_vec();
                self.start += n + 1;
                self.consumed += n as u64 + 1;
                return Ok(line);
            }
            if self.end - self.start > max {
                let got = rdb_parser::escape_bytes(&self.buf[self.start..self.start + 40], 60);
                return Err(Error::Protocol { offset: self.consumed, expected: "a line end", got });
            }
            self.fill()?;
        }
    }

    /// Reads more bytes into the buffer (keeping unread ones); end of stream is [`Error::Closed`].
    fn fill(&mut self) -> Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        let n = self.stream.read(&mut self.buf[self.end..]).map_err(|e| from_io(e, self.timeout))?;
        if n == 0 {
            return Err(Error::Closed);
        }
        self.end += n;
        Ok(())
    }
}

/// Raw bytes of the stream (what the buffer holds first), e.g. an RDB sent by a master.
impl Read for Connection {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.start < self.end {
            let n = out.len().min(self.end - self.start);
            out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
            self.consumed += n as u64;
            return Ok(n);
        }
        let n = self.stream.read(out)?;
        self.consumed += n as u64;
        Ok(n)
    }
}
