//! The control socket: a Unix stream socket over which a script (keepalived's notify script, an
//! operator) drives a running peer.
//!
//! # Protocol
//! One request line per connection, one of
//! `up <conn>`, `down <conn>`, `status`, `list-sas`, `reload`; the reply is zero or more text lines
//! and then a last line `OK` or `ERROR <reason>`, after which the server closes the connection.
//! [`send_command`] is the client side. The socket file is created with mode 0600 (only its owner,
//! normally root, may drive the peer) and removed when the [`ControlSocket`] drops.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Longest request line accepted.
const MAX_REQUEST: u64 = 1024;
/// How long a client may take to send its request or read the reply.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// A request on the control socket.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Command {
    /// Initiate the named connection.
    Up(String),
    /// Close every IKE SA of the named connection.
    Down(String),
    /// Connections and their IKE SAs.
    Status,
    /// CHILD SAs with SPIs, algorithms, counters and time to rekey (like `swanctl --list-sas`).
    ListSas,
    /// Reload the configuration file (tears the tunnels down and starts again).
    Reload,
}

impl Command {
    /// Parses one request line.
    ///
    /// # Errors
    /// A message naming what is wrong with the line.
    pub fn parse(line: &str) -> Result<Self, String> {
        let mut words = line.split_whitespace();
        let verb = words.next().ok_or("empty request")?;
        let arg = words.next();
        if words.next().is_some() {
            return Err(format!("too many arguments to {verb}"));
        }
        let conn = |arg: Option<&str>| {
            arg.map(str::to_owned)
                .ok_or(format!("{verb} needs a connection name"))
        };
        let no_arg = |c: Command| match arg {
            Some(a) => Err(format!("{verb} takes no argument, got {a:?}")),
            None => Ok(c),
        };
        match verb {
            "up" => Ok(Self::Up(conn(arg)?)),
            "down" => Ok(Self::Down(conn(arg)?)),
            "status" => no_arg(Self::Status),
            "list-sas" => no_arg(Self::ListSas),
            "reload" => no_arg(Self::Reload),
            other => Err(format!("unknown command {other:?}")),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Up(c) => write!(f, "up {c}"),
            Self::Down(c) => write!(f, "down {c}"),
            Self::Status => f.write_str("status"),
            Self::ListSas => f.write_str("list-sas"),
            Self::Reload => f.write_str("reload"),
        }
    }
}

/// The listening control socket. See the module docs.
#[derive(Debug)]
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
}

/// An accepted request waiting for its reply.
#[derive(Debug)]
pub struct Request {
    stream: UnixStream,
    /// The parsed command, or why the line was refused.
    pub command: Result<Command, String>,
}

impl ControlSocket {
    /// Binds the socket at `path` (mode 0600). A stale socket file that nobody listens on is
    /// replaced; a live one is an error (`AddrInUse`): another peer runs.
    ///
    /// # Errors
    /// Binding or setting permissions failed.
    pub fn bind(path: &Path) -> io::Result<Self> {
        if path.exists() {
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    format!("{} is in use by a running peer", path.display()),
                ));
            }
            std::fs::remove_file(path)?;
        }
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            path: path.to_owned(),
        })
    }

    /// Its path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts one waiting client and reads its request line (`Ok(None)`: nobody waiting).
    /// Clients that close without sending anything (such as the liveness probe of
    /// [`ControlSocket::bind`]) are skipped.
    ///
    /// # Errors
    /// Accepting failed for a reason other than "would block".
    pub fn accept(&self) -> io::Result<Option<Request>> {
        loop {
            let stream = match self.listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) => return Err(e),
            };
            stream.set_nonblocking(false)?;
            stream.set_read_timeout(Some(IO_TIMEOUT))?;
            stream.set_write_timeout(Some(IO_TIMEOUT))?;
            let mut line = String::new();
            let command = match BufReader::new((&stream).take(MAX_REQUEST)).read_line(&mut line) {
                Ok(0) => continue,
                Ok(_) => Command::parse(line.trim()),
                Err(e) => Err(format!("cannot read the request: {e}")),
            };
            return Ok(Some(Request { stream, command }));
        }
    }
}

impl AsFd for ControlSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Request {
    /// Sends `body` and the final `OK` / `ERROR <reason>` line, then closes the connection.
    pub fn reply(mut self, result: Result<String, String>) {
        let text = match result {
            Ok(body) => format!(
                "{body}{}OK\n",
                if body.is_empty() || body.ends_with('\n') {
                    ""
                } else {
                    "\n"
                }
            ),
            Err(reason) => format!("ERROR {reason}\n"),
        };
        if let Err(e) = self.stream.write_all(text.as_bytes()) {
            tracing::debug!(error = %e, "control reply not delivered");
        }
    }
}

/// Sends `command` to the peer listening at `path`; returns the reply body and whether it ended
/// in `OK`.
///
/// # Errors
/// Connecting, sending or receiving failed (no peer runs there, or it did not answer in time).
pub fn send_command(path: &Path, command: &Command) -> io::Result<(bool, String)> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(format!("{command}\n").as_bytes())?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    let mut lines: Vec<&str> = reply.lines().collect();
    let last = lines.pop().unwrap_or("ERROR empty reply");
    let ok = last == "OK";
    let mut body = lines.join("\n");
    if !ok {
        if !body.is_empty() {
            body.push('\n');
        }
        body.push_str(last.strip_prefix("ERROR ").unwrap_or(last));
    }
    Ok((ok, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_print_back() {
        for line in ["up site", "down site", "status", "list-sas", "reload"] {
            let c = Command::parse(line).unwrap();
            assert_eq!(c.to_string(), line);
        }
        assert_eq!(Command::parse("  up   a  ").unwrap(), Command::Up("a".into()));
    }

    #[test]
    fn bad_requests_are_refused_with_a_reason() {
        assert!(Command::parse("").unwrap_err().contains("empty"));
        assert!(Command::parse("up").unwrap_err().contains("connection name"));
        assert!(Command::parse("status x").unwrap_err().contains("no argument"));
        assert!(Command::parse("up a b").unwrap_err().contains("too many"));
        assert!(Command::parse("explode").unwrap_err().contains("unknown command"));
    }

    #[test]
    fn request_and_reply_over_a_socket() {
        let path = std::env::temp_dir().join(format!("ipsec-ctl-test-{}.sock", std::process::id()));
        let server = ControlSocket::bind(&path).unwrap();
        assert!(
            ControlSocket::bind(&path).is_err(),
            "a live socket must not be replaced"
        );
        let client = std::thread::spawn({
            let path = path.clone();
            move || send_command(&path, &Command::Status).unwrap()
        });
        let req = loop {
            if let Some(r) = server.accept().unwrap() {
                break r;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(req.command, Ok(Command::Status));
        req.reply(Ok("site-to-site-vpn: 1 IKE SA".into()));
        assert_eq!(
            client.join().unwrap(),
            (true, "site-to-site-vpn: 1 IKE SA".into())
        );

        let client = std::thread::spawn({
            let path = path.clone();
            move || send_command(&path, &Command::Up("nope".into())).unwrap()
        });
        let req = loop {
            if let Some(r) = server.accept().unwrap() {
                break r;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        req.reply(Err("no connection named nope".into()));
        assert_eq!(client.join().unwrap(), (false, "no connection named nope".into()));
        drop(server);
        assert!(!path.exists(), "socket file removed on drop");
    }
}
