//! The byte pipes an ESC/POS printer sits on: TCP (raw port 9100), a
//! serial port and USB (printer class, see [`super::usb`]). The printer
//! logic above does not know which one it has.
//!
//! Every operation takes a deadline and returns [`ErrorKind::Timeout`]
//! rather than wait past it. A transport opens lazily and can be closed
//! and opened again (a printer switched off and on, a USB cable pulled
//! and plugged back); failures are mapped to [`ErrorKind`]s so that "gone"
//! is `Disconnected` (or `NotFound` when it is not there to reopen).

use crate::serial::open_error;
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use hal::{DeviceError, ErrorKind};
use serialport::{ClearBuffer, SerialPort, TTYPort};

/// Longest a connection attempt may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A bidirectional byte link to the printer.
pub(crate) trait Transport: Send {
    /// Where it goes, for logs (`tcp:127.0.0.1:9100`, `serial:/dev/ttyS0`).
    fn describe(&self) -> String;
    /// Whether a link is open now.
    fn is_open(&self) -> bool;
    /// Opens the link if it is closed.
    fn open(&mut self, deadline: Instant) -> Result<(), DeviceError>;
    /// Closes the link; the next [`Transport::open`] starts afresh.
    fn close(&mut self);
    /// Writes all of `bytes`.
    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), DeviceError>;
    /// Reads at least one byte into `buf`.
    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, DeviceError>;
    /// Throws away bytes that arrived unasked (a late answer).
    fn discard_input(&mut self) -> Result<(), DeviceError>;
}

pub(crate) fn remaining(deadline: Instant) -> Result<Duration, DeviceError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(DeviceError::timeout("deadline passed"))
    } else {
        Ok(left)
    }
}

fn io_error(e: std::io::Error, what: &str) -> DeviceError {
    let kind = match e.kind() {
        IoKind::TimedOut | IoKind::WouldBlock => ErrorKind::Timeout,
        _ => ErrorKind::Disconnected,
    };
    DeviceError::new(kind, format!("{what}: {e}")).with_source(e)
}

/// A network printer's raw port.
pub(crate) struct TcpTransport {
    addr: SocketAddr,
    stream: Option<TcpStream>,
}

impl TcpTransport {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        TcpTransport { addr, stream: None }
    }

    fn stream(&mut self) -> Result<&mut TcpStream, DeviceError> {
        self.stream
            .as_mut()
            .ok_or_else(|| DeviceError::disconnected("not connected"))
    }
}

impl Transport for TcpTransport {
    fn describe(&self) -> String {
        format!("tcp:{}", self.addr)
    }

    fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    fn open(&mut self, deadline: Instant) -> Result<(), DeviceError> {
        if self.stream.is_none() {
            let t = remaining(deadline)?.min(CONNECT_TIMEOUT);
            let s =
                TcpStream::connect_timeout(&self.addr, t).map_err(|e| io_error(e, "connecting"))?;
            let _ = s.set_nodelay(true);
            self.stream = Some(s);
        }
        Ok(())
    }

    fn close(&mut self) {
        self.stream = None;
    }

    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), DeviceError> {
        let s = self.stream()?;
        s.set_write_timeout(Some(remaining(deadline)?))
            .map_err(|e| io_error(e, "write"))?;
        s.write_all(bytes).map_err(|e| io_error(e, "sending"))?;
        s.flush().map_err(|e| io_error(e, "sending"))
    }

    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, DeviceError> {
        let s = self.stream()?;
        loop {
            s.set_read_timeout(Some(remaining(deadline)?))
                .map_err(|e| io_error(e, "read"))?;
            match s.read(buf) {
                Ok(0) => return Err(DeviceError::disconnected("printer closed the connection")),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => return Err(io_error(e, "reading")),
            }
        }
    }

    fn discard_input(&mut self) -> Result<(), DeviceError> {
        let s = self.stream()?;
        s.set_nonblocking(true)
            .map_err(|e| io_error(e, "draining"))?;
        let mut junk = [0u8; 256];
        let result = loop {
            match s.read(&mut junk) {
                Ok(0) => break Err(DeviceError::disconnected("printer closed the connection")),
                Ok(_) => continue,
                Err(e) if e.kind() == IoKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => break Err(io_error(e, "draining")),
            }
        };
        let _ = s.set_nonblocking(false);
        result
    }
}

/// A printer on a serial port (RS-232 or a USB serial adapter), 8N1, no
/// flow control (ESC/POS status bytes such as `0x12`/`0x13` must pass).
pub(crate) struct SerialTransport {
    path: String,
    baud: u32,
    port: Option<TTYPort>,
}

impl SerialTransport {
    pub(crate) fn new(path: String, baud: u32) -> Self {
        SerialTransport {
            path,
            baud,
            port: None,
        }
    }

    fn port(&mut self) -> Result<&mut TTYPort, DeviceError> {
        self.port
            .as_mut()
            .ok_or_else(|| DeviceError::disconnected("port not open"))
    }
}

/// Any port error other than a timeout means the port is gone (EIO after
/// hang-up, POLLHUP, a closed descriptor).
fn port_error(e: std::io::Error, what: &str) -> DeviceError {
    if matches!(e.kind(), IoKind::TimedOut | IoKind::WouldBlock) {
        DeviceError::timeout(format!("{what}: no answer before the deadline")).with_source(e)
    } else {
        DeviceError::disconnected(format!("{what}: port failed")).with_source(e)
    }
}

impl Transport for SerialTransport {
    fn describe(&self) -> String {
        format!("serial:{}", self.path)
    }

    fn is_open(&self) -> bool {
        self.port.is_some()
    }

    fn open(&mut self, _deadline: Instant) -> Result<(), DeviceError> {
        if self.port.is_none() {
            let port = serialport::new(&self.path, self.baud)
                .data_bits(serialport::DataBits::Eight)
                .parity(serialport::Parity::None)
                .stop_bits(serialport::StopBits::One)
                .flow_control(serialport::FlowControl::None)
                .timeout(Duration::from_millis(100))
                .open_native()
                .map_err(|e| open_error(e, &self.path))?;
            self.port = Some(port);
        }
        Ok(())
    }

    fn close(&mut self) {
        if let Some(mut p) = self.port.take() {
            let _ = p.set_exclusive(false);
        }
    }

    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), DeviceError> {
        let port = self.port()?;
        let mut rest = bytes;
        while !rest.is_empty() {
            let left = remaining(deadline)?;
            port.set_timeout(left)
                .map_err(|e| port_error(e.into(), "write"))?;
            match port.write(rest) {
                Ok(0) => return Err(DeviceError::disconnected("port accepts no bytes")),
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(e) if e.kind() == IoKind::Interrupted => {}
                Err(e) => return Err(port_error(e, "sending")),
            }
        }
        port.flush().map_err(|e| port_error(e, "sending"))
    }

    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, DeviceError> {
        let port = self.port()?;
        loop {
            let left = remaining(deadline)?;
            port.set_timeout(left)
                .map_err(|e| port_error(e.into(), "read"))?;
            match port.read(buf) {
                Ok(0) => return Err(DeviceError::disconnected("port hung up")),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == IoKind::Interrupted => continue,
                Err(e) => return Err(port_error(e, "reading")),
            }
        }
    }

    fn discard_input(&mut self) -> Result<(), DeviceError> {
        let port = self.port()?;
        // Bytes still in flight from the far end are read off too, so a
        // hang-up is noticed here and not mistaken for silence later.
        port.clear(ClearBuffer::Input)
            .map_err(|e| port_error(e.into(), "draining"))?;
        let pending = port
            .bytes_to_read()
            .map_err(|e| port_error(e.into(), "draining"))?;
        if pending > 0 {
            let mut junk = vec![0u8; pending as usize];
            let _ = port.read(&mut junk);
        }
        Ok(())
    }
}
