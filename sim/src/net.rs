//! What the TCP simulators (receipt printer, IPP printer, cameras) share:
//! a listener that goes away when the device is unplugged and comes back
//! on the same address when it is plugged in again.

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

/// How long to wait before binding again when the port is still taken.
const REBIND_WAIT: Duration = Duration::from_millis(100);

/// The listener on `addr`, bound (non-blocking) now if it is not yet.
/// `None` after a short wait when the port cannot be bound yet (the old
/// socket lingers after a replug); the caller tries again next round.
pub(crate) fn ensure_listening<'a>(
    listener: &'a mut Option<TcpListener>,
    addr: SocketAddr,
    what: &str,
) -> Option<&'a TcpListener> {
    if listener.is_none() {
        match TcpListener::bind(addr).and_then(|l| l.set_nonblocking(true).map(|()| l)) {
            Ok(l) => *listener = Some(l),
            Err(e) => {
                tracing::debug!(%addr, error = %e, "{what} rebind failed; retrying");
                std::thread::sleep(REBIND_WAIT);
                return None;
            }
        }
    }
    listener.as_ref()
}
