//! GA 467 second-generation ID card reader over a serial port.
//!
//! The reader speaks the "SAM" frame protocol of devices.md section 1:
//! the host sends a request frame, the reader answers with one reply
//! frame. [`frame`] builds requests and parses replies, [`status`] maps
//! the SW3 status byte to an [`ErrorKind`], [`decode`] turns the read
//! reply into an [`hal::idcard::Identity`]. This module drives the port.
//!
//! ## Invariants
//!
//! * No call blocks past its deadline: every read and write on the port
//!   is bounded by the time left, and the result is
//!   [`ErrorKind::Timeout`].
//! * A reply that starts and then stops for [`REPLY_GAP`] is given up as
//!   truncated; for the read command that means the card was lifted
//!   mid-read ([`ErrorKind::CardRead`]).
//! * Stale input is discarded before every request, so a late reply to an
//!   earlier request cannot be taken for the answer to this one.
//! * A reply with a wrong checksum makes the driver send the same request
//!   once more; a second wrong checksum is [`ErrorKind::Protocol`].
//! * A port that reports EIO, hang-up or a broken pipe is
//!   [`ErrorKind::Disconnected`] and the health goes offline, so the actor
//!   reopens the selector (which, for the simulator, is a stable symlink).
//! * Names, addresses and ID numbers are never logged; numbers appear only
//!   masked (`410403********0013`).
//!
//! ## Photo and fingerprint
//!
//! The photo is 1024 bytes of the proprietary WLT wavelet format. Only the
//! reader vendor's licensed library (`libwlt2bmp.so`, `WltRS.dll` and
//! kin) can decode it, into a 102×126 24-bit BMP; no open decoder exists.
//! The driver hands the bytes over untouched in
//! [`CardRead::photo_wlt`]. The fingerprint features (0, 512 or 1024
//! bytes) are likewise opaque and only meaningful to a fingerprint module
//! that compares against card features.

pub mod decode;
pub mod frame;
pub mod status;

use crate::serial::{open_error, port_error, time_left};
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime};

use hal::idcard::{CardPresence, CardRead, IdCardCapabilities, IdCardReader};
use hal::{Device, DeviceError, DeviceEvent, DeviceKind, ErrorKind, Health, HealthState, Selector};
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits, TTYPort};

use frame::{Parsed, Parser, Reply};

/// Baud rate when the selector names none.
pub const DEFAULT_BAUD: u32 = 115_200;

/// Silence inside a started reply after which it counts as truncated.
/// At 9600 baud a byte takes about 1 ms; real readers send a reply in one
/// go once they have it.
pub const REPLY_GAP: Duration = Duration::from_millis(500);

/// How often the actor looks for a card.
pub const POLL_INTERVAL: Duration = Duration::from_millis(300);

/// The commands this driver sends (CMD, PARA).
mod cmd {
    pub const SAM_STATUS: (u8, u8) = (0x11, 0xFF);
    pub const SAM_ID: (u8, u8) = (0x12, 0xFF);
    pub const FIND: (u8, u8) = (0x20, 0x01);
    pub const SELECT: (u8, u8) = (0x20, 0x02);
    pub const READ: (u8, u8) = (0x30, 0x01);
    pub const READ_WITH_FINGERPRINT: (u8, u8) = (0x30, 0x10);
}

/// How one request/reply exchange ended on the wire.
enum Exchange {
    Reply(Reply),
    BadChecksum,
    /// A reply started and then stopped; `got` bytes of it arrived.
    Truncated {
        got: usize,
    },
}

/// A GA 467 reader on a serial port (USB-serial bridge or pseudo-terminal).
pub struct Ga467Reader {
    port: TTYPort,
    path: String,
    parser: Parser,
    health: Health,
    /// A card was found by [`Device::poll`] and has not been read or
    /// removed since.
    card_pending: bool,
    /// Cleared when the reader refuses the fingerprint read command.
    fingerprint_supported: bool,
}

impl Ga467Reader {
    /// Opens the reader named by `serial:PATH[?baud=N]` (8N1, no flow
    /// control, raw). Opening does not talk to the reader; use
    /// [`Device::self_test`] for that.
    pub fn open(selector: &Selector) -> Result<Ga467Reader, DeviceError> {
        let Selector::Serial { path, .. } = selector else {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("GA 467 reader needs a serial selector, not {selector}"),
            ));
        };
        let baud = selector.option_u32("baud", DEFAULT_BAUD)?;
        if baud == 0 {
            return Err(DeviceError::new(ErrorKind::Config, "baud must not be 0"));
        }
        let port = serialport::new(path.as_str(), baud)
            .data_bits(DataBits::Eight)
            .parity(Parity::None)
            .stop_bits(StopBits::One)
            .flow_control(FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open_native()
            .map_err(|e| open_error(e, path))?;
        port.clear(ClearBuffer::All)
            .map_err(|e| port_error(e, "clearing buffers at open"))?;
        let mut health = Health::ok();
        for counter in ["reads", "read_errors", "resyncs", "checksum_errors"] {
            health.counters.insert(counter.to_string(), 0);
        }
        tracing::debug!(path = %path, baud, "GA 467 reader opened");
        Ok(Ga467Reader {
            port,
            path: path.clone(),
            parser: Parser::new(),
            health,
            card_pending: false,
            fingerprint_supported: true,
        })
    }

    /// The port path as configured.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Asks the secure module for its self-check (0x11 0xFF).
    pub fn sam_status(&mut self, deadline: Instant) -> Result<(), DeviceError> {
        let reply = self.request(cmd::SAM_STATUS, "SAM status", deadline)?;
        self.expect(reply, &[status::OK], "SAM status").map(drop)
    }

    /// Reads the secure module's management number (0x12 0xFF), formatted
    /// as public drivers print it: `AA.BB-N1-N2-N3`.
    pub fn sam_id(&mut self, deadline: Instant) -> Result<String, DeviceError> {
        let reply = self.request(cmd::SAM_ID, "SAM id", deadline)?;
        let reply = self.expect(reply, &[status::OK], "SAM id")?;
        let d = &reply.data;
        let u32_at = |at: usize| -> Option<u32> {
            Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
        };
        match (d.first(), d.get(2), u32_at(4), u32_at(8), u32_at(12)) {
            (Some(a), Some(b), Some(n1), Some(n2), Some(n3)) => {
                Ok(format!("{a:02}.{b:02}-{n1}-{n2:010}-{n3:010}"))
            }
            _ => Err(DeviceError::protocol(format!(
                "SAM id reply carries {} bytes, needs 16",
                d.len()
            ))),
        }
    }

    /// Sends one request and waits for its reply frame, retrying once on a
    /// bad checksum. The status byte is not looked at here.
    fn request(
        &mut self,
        (c, p): (u8, u8),
        what: &str,
        deadline: Instant,
    ) -> Result<Reply, DeviceError> {
        // A deadline that passed before anything was sent says nothing
        // about the reader, so it leaves the health alone.
        time_left(deadline, what)?;
        let result = self.request_inner(c, p, what, deadline);
        if let Err(e) = &result {
            self.observe_error(e);
        }
        result
    }

    fn request_inner(
        &mut self,
        c: u8,
        p: u8,
        what: &str,
        deadline: Instant,
    ) -> Result<Reply, DeviceError> {
        let frame = frame::request(c, p, &[]);
        for attempt in 1..=2 {
            match self.exchange(&frame, what, deadline)? {
                Exchange::Reply(reply) => return Ok(reply),
                Exchange::BadChecksum => {
                    self.health.bump("checksum_errors");
                    tracing::debug!(what, attempt, "reply checksum wrong");
                }
                Exchange::Truncated { got } if c == cmd::READ.0 => {
                    return Err(DeviceError::new(
                        ErrorKind::CardRead,
                        format!(
                            "{what}: reply broke off after {got} bytes (card lifted during the read?)"
                        ),
                    ));
                }
                Exchange::Truncated { got } => {
                    return Err(DeviceError::timeout(format!(
                        "{what}: reply broke off after {got} bytes"
                    )));
                }
            }
        }
        Err(DeviceError::protocol(format!(
            "{what}: reply checksum wrong twice"
        )))
    }

    /// Checks the status byte of `reply` against the accepted ones.
    fn expect(&mut self, reply: Reply, accept: &[u8], what: &str) -> Result<Reply, DeviceError> {
        if accept.contains(&reply.sw3) {
            self.observe_ok();
            return Ok(reply);
        }
        let err = status::error(reply.sw3, what).unwrap_or_else(|| {
            DeviceError::protocol(format!("{what}: unexpected SW3 0x{:02X}", reply.sw3))
                .with_device_code(u32::from(reply.sw3))
        });
        self.observe_error(&err);
        Err(err)
    }

    fn observe_ok(&mut self) {
        if self.health.state != HealthState::Ok {
            self.health.set(HealthState::Ok, None, "正常", "OK");
        }
    }

    fn observe_error(&mut self, err: &DeviceError) {
        let state = match err.kind() {
            ErrorKind::Disconnected => HealthState::Offline,
            ErrorKind::SecureModule => HealthState::Fault,
            ErrorKind::Timeout => HealthState::Degraded,
            _ => return,
        };
        let kind = err.kind();
        self.health.set(
            state,
            Some(kind.code()),
            kind.message_zh(),
            kind.message_en(),
        );
    }

    /// Discards stale input, writes `frame` and receives one reply.
    fn exchange(
        &mut self,
        frame: &[u8],
        what: &str,
        deadline: Instant,
    ) -> Result<Exchange, DeviceError> {
        let left = time_left(deadline, what)?;
        self.parser.clear();
        self.port
            .clear(ClearBuffer::Input)
            .map_err(|e| port_error(e, what))?;
        self.port
            .set_timeout(left)
            .map_err(|e| port_error(e, what))?;
        self.port.write_all(frame).map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => {
                DeviceError::timeout(format!("{what}: request not accepted by the port"))
            }
            _ => port_error(e, what),
        })?;
        self.receive(what, deadline)
    }

    fn receive(&mut self, what: &str, deadline: Instant) -> Result<Exchange, DeviceError> {
        let mut buf = [0u8; 4096];
        let mut last_byte = Instant::now();
        let mut got = 0usize;
        loop {
            let next = self.parser.next_frame();
            self.health
                .counters
                .insert("resyncs".into(), self.parser.resyncs());
            match next {
                Some(Parsed::Reply(reply)) => return Ok(Exchange::Reply(reply)),
                Some(Parsed::BadChecksum { .. }) => return Ok(Exchange::BadChecksum),
                None => {}
            }
            let now = Instant::now();
            let mut wait = deadline.saturating_duration_since(now);
            if wait.is_zero() {
                let state = if self.parser.in_frame() {
                    "incomplete"
                } else {
                    "missing"
                };
                return Err(DeviceError::timeout(format!(
                    "{what}: reply {state} at the deadline"
                )));
            }
            if self.parser.in_frame() {
                let gap_left = (last_byte + REPLY_GAP).saturating_duration_since(now);
                if gap_left.is_zero() {
                    return Ok(Exchange::Truncated { got });
                }
                wait = wait.min(gap_left);
            }
            self.port
                .set_timeout(wait)
                .map_err(|e| port_error(e, what))?;
            match self.port.read(&mut buf) {
                Ok(0) => return Err(DeviceError::disconnected(format!("{what}: port closed"))),
                Ok(n) => {
                    self.parser.push(buf.get(..n).unwrap_or_default());
                    got += n;
                    last_byte = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::TimedOut
                            | std::io::ErrorKind::WouldBlock
                            | std::io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(port_error(e, what)),
            }
        }
    }

    fn read_inner(
        &mut self,
        with_fingerprint: bool,
        deadline: Instant,
    ) -> Result<CardRead, DeviceError> {
        let reply = self.request(cmd::FIND, "find card", deadline)?;
        self.expect(reply, &[status::FOUND, status::OK], "find card")?;
        let reply = self.request(cmd::SELECT, "select card", deadline)?;
        self.expect(reply, &[status::OK], "select card")?;

        let mut fingerprint_words = false;
        let mut reply = None;
        if with_fingerprint && self.fingerprint_supported {
            let r = self.request(
                cmd::READ_WITH_FINGERPRINT,
                "read card with fingerprint",
                deadline,
            )?;
            match r.sw3 {
                status::OK => {
                    self.observe_ok();
                    fingerprint_words = true;
                    reply = Some(r);
                }
                // The card holds no fingerprint, or the reader has no such
                // command: read text and photo alone.
                status::NO_ITEM => {}
                status::BAD_COMMAND => {
                    tracing::info!(path = %self.path, "reader refuses the fingerprint read; reading without");
                    self.fingerprint_supported = false;
                }
                _ => {
                    self.expect(r, &[status::OK], "read card with fingerprint")?;
                }
            }
        }
        let mut reply = match reply {
            Some(r) => r,
            None => {
                let r = self.request(cmd::READ, "read card", deadline)?;
                self.expect(r, &[status::OK], "read card")?
            }
        };
        let decoded =
            decode::split_read_reply(&reply.data, fingerprint_words).and_then(|mut blocks| {
                let identity = decode::decode_text(&blocks.text);
                blocks.text.iter_mut().for_each(|b| *b = 0);
                let fingerprint = if with_fingerprint {
                    blocks.fingerprint.take().filter(|f| !f.is_empty())
                } else {
                    None
                };
                Ok(CardRead {
                    identity: identity?,
                    photo_wlt: std::mem::take(&mut blocks.photo),
                    fingerprint,
                })
            });
        reply.data.iter_mut().for_each(|b| *b = 0);
        decoded
    }
}

impl Drop for Ga467Reader {
    fn drop(&mut self) {
        // Clear TIOCEXCL so the next opener (the actor after a restart,
        // kioskctl) is not refused; the flock goes with the descriptor.
        let _ = self.port.set_exclusive(false);
    }
}

impl Device for Ga467Reader {
    fn kind(&self) -> DeviceKind {
        DeviceKind::IdCardReader
    }

    fn health(&self) -> Health {
        self.health.clone()
    }

    /// One find: [`DeviceEvent::CardLaid`] when a card newly appears,
    /// [`DeviceEvent::CardRemoved`] when a found but unread card is gone.
    fn poll(&mut self, deadline: Instant) -> Vec<DeviceEvent> {
        match self.find_card(deadline) {
            Ok(CardPresence::Present) if !self.card_pending => {
                self.card_pending = true;
                vec![DeviceEvent::CardLaid]
            }
            Ok(CardPresence::Absent) if self.card_pending => {
                self.card_pending = false;
                vec![DeviceEvent::CardRemoved]
            }
            Ok(_) => Vec::new(),
            Err(e) => {
                tracing::debug!(path = %self.path, kind = e.kind().code(), detail = e.detail(), "poll failed");
                Vec::new()
            }
        }
    }

    fn poll_interval(&self) -> Duration {
        POLL_INTERVAL
    }

    /// SAM status: health Ok, or Fault with `SECURE_MODULE` when the
    /// secure module fails its self-check. Transport errors are returned.
    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        let result = self.sam_status(deadline);
        self.health.last_self_test = Some(SystemTime::now());
        match result {
            Ok(()) => Ok(self.health.clone()),
            Err(e) if e.kind() == ErrorKind::SecureModule => {
                tracing::warn!(path = %self.path, detail = e.detail(), "SAM self-test failed");
                Ok(self.health.clone())
            }
            Err(e) => Err(e),
        }
    }
}

impl IdCardReader for Ga467Reader {
    fn capabilities(&self) -> IdCardCapabilities {
        IdCardCapabilities {
            reads_fingerprint: self.fingerprint_supported,
            reads_foreign_cards: true,
        }
    }

    fn find_card(&mut self, deadline: Instant) -> Result<CardPresence, DeviceError> {
        let reply = self.request(cmd::FIND, "find card", deadline)?;
        if reply.sw3 == status::NO_CARD {
            self.observe_ok();
            return Ok(CardPresence::Absent);
        }
        self.expect(reply, &[status::FOUND, status::OK], "find card")
            .map(|_| CardPresence::Present)
    }

    fn read(&mut self, with_fingerprint: bool, deadline: Instant) -> Result<CardRead, DeviceError> {
        let result = self.read_inner(with_fingerprint, deadline);
        match &result {
            Ok(card) => {
                self.health.bump("reads");
                self.card_pending = false;
                tracing::info!(
                    card_type = card.identity.card_type.as_str(),
                    id = %hal::idcard::mask_id_number(&card.identity.id_number),
                    photo_bytes = card.photo_wlt.len(),
                    fingerprint_bytes = card.fingerprint.as_ref().map_or(0, Vec::len),
                    "card read"
                );
            }
            Err(e) => {
                self.health.bump("read_errors");
                tracing::warn!(path = %self.path, kind = e.kind().code(), detail = e.detail(), "card read failed");
            }
        }
        result
    }
}
