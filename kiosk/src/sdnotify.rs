//! # sdnotify: systemd's readiness and watchdog protocol, without a crate
//!
//! The kiosk runs as `kiosk.service` with `Type=notify` and
//! `WatchdogSec=`. systemd passes three variables:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `NOTIFY_SOCKET` | where to send: an absolute path, or `@name` for a socket in the abstract namespace |
//! | `WATCHDOG_USEC` | the watchdog timeout in microseconds; the service pings at half of it |
//! | `WATCHDOG_PID` | the process the watchdog is meant for; another pid means "not you" |
//!
//! Each message is one datagram of `KEY=VALUE` lines: `READY=1` (the
//! service is up), `STATUS=…` (one line for `systemctl status`),
//! `WATCHDOG=1` (still alive), `STOPPING=1` (an orderly exit has begun).
//!
//! [`Notifier::from_env`] reads the variables (no socket: `None`, and
//! every call site simply has nothing to do). The socket is non-blocking:
//! a notification that cannot be queued at once is dropped (and logged),
//! never waited for, because the watchdog pings come from the UI thread.
//! The caller removes the variables from the environment after reading
//! them (see `main.rs`), so no child process inherits them.

use std::ffi::OsStr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::PathBuf;
use std::time::Duration;

/// The variable naming the notification socket.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";
/// The variable with the watchdog timeout in microseconds.
pub const WATCHDOG_USEC: &str = "WATCHDOG_USEC";
/// The variable with the pid the watchdog is meant for.
pub const WATCHDOG_PID: &str = "WATCHDOG_PID";

/// Where the notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyAddr {
    /// A socket file (`NOTIFY_SOCKET=/run/systemd/notify`).
    Path(PathBuf),
    /// A socket in the abstract namespace (`NOTIFY_SOCKET=@name`), the
    /// name without the `@`.
    Abstract(Vec<u8>),
}

/// What the environment says, before any socket is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyTarget {
    /// The socket.
    pub addr: NotifyAddr,
    /// The watchdog timeout (`WATCHDOG_USEC`), when the watchdog is on and
    /// meant for this process.
    pub watchdog_timeout: Option<Duration>,
}

/// Reads the three variables' values (`None`: unset) for the process
/// `own_pid`. `None` when there is no usable socket: unset, empty, a
/// relative path, or a kind of address the kiosk does not speak (such as
/// `vsock:`). The watchdog is off when `WATCHDOG_USEC` is missing, not a
/// positive number, or `WATCHDOG_PID` names another process.
pub fn parse(
    socket: Option<&OsStr>,
    watchdog_usec: Option<&OsStr>,
    watchdog_pid: Option<&OsStr>,
    own_pid: u32,
) -> Option<NotifyTarget> {
    let raw = socket?.as_bytes();
    let addr = match raw.split_first() {
        None => return None,
        Some((b'@', name)) if !name.is_empty() => NotifyAddr::Abstract(name.to_vec()),
        Some((b'/', _)) => NotifyAddr::Path(PathBuf::from(OsStr::from_bytes(raw))),
        Some(_) => return None,
    };
    let for_us = match watchdog_pid {
        None => true,
        Some(pid) => pid
            .to_str()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .is_some_and(|p| p == own_pid),
    };
    let watchdog_timeout = watchdog_usec
        .and_then(OsStr::to_str)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&usec| usec > 0 && for_us)
        .map(Duration::from_micros);
    Some(NotifyTarget {
        addr,
        watchdog_timeout,
    })
}

/// Sends notifications to systemd.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
    target: NotifyTarget,
}

impl Notifier {
    /// The notifier systemd asked for through `NOTIFY_SOCKET`,
    /// `WATCHDOG_USEC` and `WATCHDOG_PID`; `None` when the kiosk does not
    /// run under systemd (or the socket cannot be used, which is logged).
    /// Does not change the environment.
    pub fn from_env() -> Option<Notifier> {
        let target = parse(
            std::env::var_os(NOTIFY_SOCKET).as_deref(),
            std::env::var_os(WATCHDOG_USEC).as_deref(),
            std::env::var_os(WATCHDOG_PID).as_deref(),
            std::process::id(),
        );
        if target.is_none() && std::env::var_os(NOTIFY_SOCKET).is_some_and(|s| !s.is_empty()) {
            tracing::warn!("NOTIFY_SOCKET is not a socket path or @name; not notifying systemd");
        }
        match Notifier::new(target?) {
            Ok(n) => Some(n),
            Err(e) => {
                tracing::warn!("cannot open a socket to notify systemd: {e}");
                None
            }
        }
    }

    /// A notifier for `target`.
    ///
    /// # Errors
    /// The datagram socket cannot be created, or the address is invalid
    /// (a path or name too long for a socket address).
    pub fn new(target: NotifyTarget) -> std::io::Result<Notifier> {
        let addr = match &target.addr {
            NotifyAddr::Path(p) => SocketAddr::from_pathname(p)?,
            NotifyAddr::Abstract(name) => SocketAddr::from_abstract_name(name)?,
        };
        let socket = UnixDatagram::unbound()?;
        socket.set_nonblocking(true)?;
        Ok(Notifier {
            socket,
            addr,
            target,
        })
    }

    /// Where the notifications go.
    pub fn target(&self) -> &NotifyTarget {
        &self.target
    }

    /// How often to send `WATCHDOG=1`: half the watchdog timeout, or
    /// `None` when the watchdog is off (or meant for another process).
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.target.watchdog_timeout.map(|t| t / 2)
    }

    /// Sends `message` (`KEY=VALUE` lines) as one datagram. Never blocks;
    /// a message that cannot be sent is logged and dropped.
    pub fn send(&self, message: &str) -> std::io::Result<()> {
        match self.socket.send_to_addr(message.as_bytes(), &self.addr) {
            Ok(_) => Ok(()),
            Err(e) => {
                tracing::warn!("notifying systemd failed: {e}");
                Err(e)
            }
        }
    }

    /// `READY=1` with a `STATUS=` line: startup is complete.
    pub fn ready(&self, status: &str) -> std::io::Result<()> {
        self.send(&format!("READY=1\nSTATUS={}", one_line(status)))
    }

    /// `STATUS=…`: one line for `systemctl status`.
    pub fn status(&self, status: &str) -> std::io::Result<()> {
        self.send(&format!("STATUS={}", one_line(status)))
    }

    /// `WATCHDOG=1`: the event loop is alive.
    pub fn watchdog(&self) -> std::io::Result<()> {
        self.send("WATCHDOG=1")
    }

    /// `STOPPING=1`: an orderly exit has begun.
    pub fn stopping(&self) -> std::io::Result<()> {
        self.send("STOPPING=1")
    }
}

/// A status is one line: a newline would start another assignment.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn os(s: &str) -> Option<&OsStr> {
        Some(OsStr::new(s))
    }

    #[test]
    fn a_path_socket_with_the_watchdog_for_this_process() {
        let t = parse(os("/run/systemd/notify"), os("20000000"), os("4242"), 4242).unwrap();
        assert_eq!(t.addr, NotifyAddr::Path("/run/systemd/notify".into()));
        assert_eq!(t.watchdog_timeout, Some(Duration::from_secs(20)));
    }

    #[test]
    fn an_abstract_socket_drops_the_at_sign() {
        let t = parse(os("@/org/freedesktop/systemd1/notify/123"), None, None, 1).unwrap();
        assert_eq!(
            t.addr,
            NotifyAddr::Abstract(b"/org/freedesktop/systemd1/notify/123".to_vec())
        );
        assert_eq!(t.watchdog_timeout, None, "no WATCHDOG_USEC, no watchdog");
    }

    #[test]
    fn the_watchdog_without_a_pid_is_ours() {
        let t = parse(os("/n"), os("2000000"), None, 7).unwrap();
        assert_eq!(t.watchdog_timeout, Some(Duration::from_secs(2)));
    }

    #[test]
    fn a_watchdog_meant_for_another_process_is_not_ours() {
        let t = parse(os("/run/systemd/notify"), os("20000000"), os("4243"), 4242).unwrap();
        assert_eq!(t.watchdog_timeout, None);
        assert_eq!(t.addr, NotifyAddr::Path("/run/systemd/notify".into()));
        let t = parse(os("/n"), os("20000000"), os("not a pid"), 4242).unwrap();
        assert_eq!(t.watchdog_timeout, None);
    }

    #[test]
    fn a_bad_watchdog_timeout_turns_the_watchdog_off() {
        for usec in ["0", "-5", "twenty", ""] {
            let t = parse(os("/n"), os(usec), None, 1).unwrap();
            assert_eq!(t.watchdog_timeout, None, "{usec:?}");
        }
    }

    #[test]
    fn no_usable_socket_is_no_notifier() {
        assert_eq!(parse(None, os("2000000"), None, 1), None);
        for bad in ["", "@", "relative/notify", "vsock:2:1234"] {
            assert_eq!(parse(os(bad), None, None, 1), None, "{bad:?}");
        }
    }

    fn temp_socket() -> (PathBuf, UnixDatagram) {
        let dir = std::env::temp_dir().join(format!("kiosk-sdn-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify");
        let rx = UnixDatagram::bind(&path).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        (path, rx)
    }

    fn recv(rx: &UnixDatagram) -> String {
        let mut buf = [0_u8; 4096];
        let n = rx.recv(&mut buf).unwrap();
        String::from_utf8(buf.get(..n).unwrap().to_vec()).unwrap()
    }

    #[test]
    fn messages_arrive_as_one_datagram_each() {
        let (path, rx) = temp_socket();
        let n = Notifier::new(
            parse(
                Some(path.as_os_str()),
                os("3000000"),
                None,
                std::process::id(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(n.watchdog_interval(), Some(Duration::from_millis(1500)));
        n.ready("主页已显示\nhome screen up").unwrap();
        assert_eq!(recv(&rx), "READY=1\nSTATUS=主页已显示 home screen up");
        n.watchdog().unwrap();
        assert_eq!(recv(&rx), "WATCHDOG=1");
        n.status("时钟未校准").unwrap();
        assert_eq!(recv(&rx), "STATUS=时钟未校准");
        n.stopping().unwrap();
        assert_eq!(recv(&rx), "STOPPING=1");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn an_abstract_socket_receives() {
        let name = format!("kiosk-sdn-test-{}", uuid::Uuid::new_v4().simple());
        let rx = UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap())
            .unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let at = format!("@{name}");
        let n = Notifier::new(parse(os(&at), None, None, 1).unwrap()).unwrap();
        assert_eq!(n.watchdog_interval(), None);
        n.watchdog().unwrap();
        assert_eq!(recv(&rx), "WATCHDOG=1");
    }

    #[test]
    fn a_socket_nobody_listens_on_is_an_error_not_a_hang() {
        let n =
            Notifier::new(parse(os("/nonexistent/kiosk/notify"), None, None, 1).unwrap()).unwrap();
        assert!(n.ready("x").is_err());
    }
}
