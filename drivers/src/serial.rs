//! What every serial driver shares: how a failed open and a failed port
//! map to `hal` errors, and the time left to a deadline.

use std::time::{Duration, Instant};

use hal::{DeviceError, ErrorKind};

/// Maps a failed `serialport` open to the kind a caller can act on.
pub(crate) fn open_error(err: serialport::Error, path: &str) -> DeviceError {
    use serialport::ErrorKind as S;
    let kind = match err.kind() {
        // serialport reports EBUSY from TIOCEXCL and a taken flock so.
        S::NoDevice => ErrorKind::Busy,
        S::Io(std::io::ErrorKind::NotFound) => ErrorKind::NotFound,
        S::Io(std::io::ErrorKind::PermissionDenied) => ErrorKind::PermissionDenied,
        S::InvalidInput => ErrorKind::Config,
        S::Io(_) | S::Unknown => ErrorKind::NotFound,
    };
    DeviceError::new(kind, format!("cannot open {path}: {}", err.description)).with_source(err)
}

/// Any port error other than a timeout means the port is gone: on a tty
/// that is EIO after hang-up, POLLHUP (reported as a broken pipe) or a
/// closed descriptor.
pub(crate) fn port_error(
    err: impl std::error::Error + Send + Sync + 'static,
    what: &str,
) -> DeviceError {
    DeviceError::disconnected(format!("{what}: port failed")).with_source(err)
}

/// The time left before `deadline`, or a timeout error when none is.
pub(crate) fn time_left(deadline: Instant, what: &str) -> Result<Duration, DeviceError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(DeviceError::timeout(format!("{what}: deadline passed")))
    } else {
        Ok(left)
    }
}
