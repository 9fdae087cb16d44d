//! Fingerprint modules of the `EF 01` UART protocol family (ZhianTec
//! ZFM-20/60, R30x, R503, AS608, FPM10A; devices.md section 2).
//!
//! [`packet`] encodes command packets and parses acknowledge and data
//! packets, [`status`] maps confirmation codes to outcomes (the table in
//! [`hal::fingerprint`]), and this module drives the port.
//!
//! ## Selector
//!
//! `serial:PATH?baud=57600&address=FFFFFFFF&password=0`: `baud` is
//! 9600 × N (N 1..12, default 57600); `address` and `password` are hex
//! (an optional `0x` prefix), defaults `FFFFFFFF` and `0`.
//!
//! ## Invariants
//!
//! * No call blocks past its deadline: every read and write is bounded by
//!   the time left, and the result is [`ErrorKind::Timeout`].
//! * A packet that starts and then stops for [`REPLY_GAP`] is given up.
//! * Stale input is discarded before every command, so a late answer to an
//!   earlier command cannot be taken for this one.
//! * The password is verified before the first command of a session and
//!   again when the module says it was not (0x21, a module that lost
//!   power). A wrong password is [`ErrorKind::Config`] and the health goes
//!   to fault.
//! * An acknowledge with a wrong checksum, or a module reporting that it
//!   got a garbled packet (0x01), makes the driver send the command once
//!   more; a second failure is [`ErrorKind::Protocol`].
//! * EIO, hang-up or a broken pipe on the port is
//!   [`ErrorKind::Disconnected`] and the health goes offline.
//! * Template bytes are never logged.

pub mod packet;
pub mod status;

use crate::serial::{open_error, port_error, time_left};
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime};

use hal::fingerprint::{
    CardMatch, CharBuffer, Enrolment, FingerGuidance, FingerprintScanner, MatchResult, SearchHit,
    SystemParameters, Template,
};
use hal::{Device, DeviceError, DeviceEvent, DeviceKind, ErrorKind, Health, HealthState, Selector};
use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits, TTYPort};

use hal::fingerprint::Capture;
use packet::{PID_ACK, PID_DATA, PID_END_DATA, Packet, Parsed, Parser};

/// Baud rate when the selector names none.
pub const DEFAULT_BAUD: u32 = 57_600;

/// Silence inside a started packet after which it counts as truncated.
pub const REPLY_GAP: Duration = Duration::from_millis(500);

/// How often the actor looks for a finger.
pub const POLL_INTERVAL: Duration = Duration::from_millis(300);

/// Pause between two looks for a finger while waiting for one.
const FINGER_WAIT_STEP: Duration = Duration::from_millis(100);

/// Time kept back from a deadline while waiting for a finger, for the
/// commands that follow the capture.
const FINGER_RESERVE: Duration = Duration::from_millis(400);

/// Size of one template as card features carry it.
pub const TEMPLATE_LEN: usize = 512;

/// Largest template accepted in upload (module → host).
const MAX_TEMPLATE_LEN: usize = 4096;

/// Instruction codes (devices.md 2.2).
mod ins {
    pub const GEN_IMG: u8 = 0x01;
    pub const IMG2TZ: u8 = 0x02;
    pub const MATCH: u8 = 0x03;
    pub const SEARCH: u8 = 0x04;
    pub const REG_MODEL: u8 = 0x05;
    pub const STORE: u8 = 0x06;
    pub const LOAD_CHAR: u8 = 0x07;
    pub const UP_CHAR: u8 = 0x08;
    pub const DOWN_CHAR: u8 = 0x09;
    pub const DELETE: u8 = 0x0C;
    pub const READ_SYS_PARA: u8 = 0x0F;
    pub const VFY_PWD: u8 = 0x13;
    pub const TEMPLATE_NUM: u8 = 0x1D;
}

/// How one command/acknowledge exchange ended on the wire.
enum Exchange {
    Packet(Packet),
    BadChecksum,
    Truncated { got: usize },
}

/// A fingerprint module on a serial port (USB-serial bridge or
/// pseudo-terminal).
pub struct FingerprintModule {
    port: TTYPort,
    path: String,
    address: u32,
    password: u32,
    parser: Parser,
    health: Health,
    verified: bool,
    /// Data packet size and capacity, once read from the module.
    params: Option<SystemParameters>,
    /// A finger was on the sensor at the last look.
    finger_on: bool,
}

fn hex_option(selector: &Selector, key: &str, default: u32) -> Result<u32, DeviceError> {
    match selector.option(key) {
        None => Ok(default),
        Some(v) => {
            let digits = v
                .strip_prefix("0x")
                .or_else(|| v.strip_prefix("0X"))
                .unwrap_or(v);
            u32::from_str_radix(digits, 16).map_err(|_| {
                DeviceError::new(
                    ErrorKind::Config,
                    format!("option {key} is not a 32-bit hex number"),
                )
            })
        }
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

/// Parses the 16 bytes of ReadSysPara (devices.md 2.2).
fn parse_system_parameters(data: &[u8]) -> Option<SystemParameters> {
    let address =
        u32::from_be_bytes([*data.get(8)?, *data.get(9)?, *data.get(10)?, *data.get(11)?]);
    let packet_size = match u16_at(data, 12)? {
        0 => 32,
        1 => 64,
        2 => 128,
        3 => 256,
        _ => return None,
    };
    Some(SystemParameters {
        status_register: u16_at(data, 0)?,
        system_id: u16_at(data, 2)?,
        capacity: u16_at(data, 4)?,
        security_level: u16_at(data, 6)?,
        address,
        packet_size,
        baud: 9600 * u32::from(u16_at(data, 14)?),
    })
}

impl FingerprintModule {
    /// Opens the module named by the selector (8N1, no flow control, raw).
    /// Opening does not talk to the module; the password is verified with
    /// the first command.
    pub fn open(selector: &Selector) -> Result<FingerprintModule, DeviceError> {
        let Selector::Serial { path, .. } = selector else {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("fingerprint module needs a serial selector, not {selector}"),
            ));
        };
        let baud = selector.option_u32("baud", DEFAULT_BAUD)?;
        if baud == 0 || !baud.is_multiple_of(9600) || baud / 9600 > 12 {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("baud {baud} is not 9600 × N with N 1..12"),
            ));
        }
        let address = hex_option(selector, "address", 0xFFFF_FFFF)?;
        let password = hex_option(selector, "password", 0)?;
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
        for counter in [
            "captures",
            "capture_retries",
            "matches",
            "no_matches",
            "searches",
            "enrolments",
            "errors",
            "timeouts",
            "resyncs",
            "checksum_errors",
        ] {
            health.counters.insert(counter.to_string(), 0);
        }
        tracing::debug!(path = %path, baud, "fingerprint module opened");
        Ok(FingerprintModule {
            port,
            path: path.clone(),
            address,
            password,
            parser: Parser::new(address),
            health,
            verified: false,
            params: None,
            finger_on: false,
        })
    }

    /// The port path as configured.
    pub fn path(&self) -> &str {
        &self.path
    }

    // ---- health ---------------------------------------------------------

    fn observe_ok(&mut self) {
        if self.health.state != HealthState::Ok {
            self.health.set(HealthState::Ok, None, "正常", "OK");
        }
    }

    fn observe_error(&mut self, err: &DeviceError) {
        self.health.bump("errors");
        let state = match err.kind() {
            ErrorKind::Disconnected => HealthState::Offline,
            ErrorKind::DeviceFault | ErrorKind::Config => HealthState::Fault,
            ErrorKind::Timeout => {
                self.health.bump("timeouts");
                HealthState::Degraded
            }
            ErrorKind::Protocol => HealthState::Degraded,
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

    // ---- wire -----------------------------------------------------------

    fn write(&mut self, bytes: &[u8], what: &str, deadline: Instant) -> Result<(), DeviceError> {
        let left = time_left(deadline, what)?;
        self.port
            .set_timeout(left)
            .map_err(|e| port_error(e, what))?;
        self.port.write_all(bytes).map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut => {
                DeviceError::timeout(format!("{what}: packet not accepted by the port"))
            }
            _ => port_error(e, what),
        })
    }

    /// Receives one packet.
    fn receive(&mut self, what: &str, deadline: Instant) -> Result<Exchange, DeviceError> {
        let mut buf = [0u8; 1024];
        let mut last_byte = Instant::now();
        let mut got = 0usize;
        loop {
            let next = self.parser.next_packet();
            self.health
                .counters
                .insert("resyncs".into(), self.parser.resyncs());
            match next {
                Some(Parsed::Packet(p)) => return Ok(Exchange::Packet(p)),
                Some(Parsed::BadChecksum { .. }) => {
                    self.health.bump("checksum_errors");
                    return Ok(Exchange::BadChecksum);
                }
                None => {}
            }
            let now = Instant::now();
            let mut wait = deadline.saturating_duration_since(now);
            if wait.is_zero() {
                let state = if self.parser.in_packet() {
                    "incomplete"
                } else {
                    "missing"
                };
                return Err(DeviceError::timeout(format!(
                    "{what}: answer {state} at the deadline"
                )));
            }
            if self.parser.in_packet() {
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

    /// Sends one command and receives its acknowledge, resending once on a
    /// bad checksum or a 0x01 from the module. Returns the ack whatever its
    /// confirmation code.
    fn exchange(
        &mut self,
        instruction: u8,
        params: &[u8],
        what: &str,
        deadline: Instant,
    ) -> Result<Packet, DeviceError> {
        let frame = packet::command(self.address, instruction, params);
        for attempt in 1..=2 {
            time_left(deadline, what)?;
            self.parser.clear();
            self.port
                .clear(ClearBuffer::Input)
                .map_err(|e| port_error(e, what))?;
            self.write(&frame, what, deadline)?;
            match self.receive(what, deadline)? {
                Exchange::Packet(p) if p.pid != PID_ACK => {
                    return Err(DeviceError::protocol(format!(
                        "{what}: expected an acknowledge, got packet type 0x{:02X}",
                        p.pid
                    )));
                }
                Exchange::Packet(p) if p.code() == Some(status::PACKET_ERROR) && attempt == 1 => {
                    tracing::debug!(what, "module got a garbled command; sending again");
                }
                Exchange::Packet(p) if p.code().is_none() => {
                    return Err(DeviceError::protocol(format!(
                        "{what}: acknowledge without a confirmation code"
                    )));
                }
                Exchange::Packet(p) => return Ok(p),
                Exchange::BadChecksum => {
                    tracing::debug!(what, attempt, "acknowledge checksum wrong");
                }
                Exchange::Truncated { got } => {
                    return Err(DeviceError::timeout(format!(
                        "{what}: answer broke off after {got} bytes"
                    )));
                }
            }
        }
        Err(DeviceError::protocol(format!(
            "{what}: answer garbled twice"
        )))
    }

    fn verify_inner(&mut self, deadline: Instant) -> Result<(), DeviceError> {
        let pwd = self.password.to_be_bytes();
        let ack = self.exchange(ins::VFY_PWD, &pwd, "verify password", deadline)?;
        match ack.code() {
            Some(status::OK) => {
                self.verified = true;
                Ok(())
            }
            Some(0x13) => Err(DeviceError::new(
                ErrorKind::Config,
                "verify password: the module refuses the configured password",
            )
            .with_device_code(0x13)),
            Some(c) => Err(status::error(c, "verify password")),
            None => Err(DeviceError::protocol("verify password: empty acknowledge")),
        }
    }

    /// Runs one command in a verified session and returns its ack; health
    /// is updated from transport errors. The confirmation code is left to
    /// the caller.
    fn command(
        &mut self,
        instruction: u8,
        params: &[u8],
        what: &str,
        deadline: Instant,
    ) -> Result<Packet, DeviceError> {
        // A deadline that passed before anything was sent says nothing
        // about the module.
        time_left(deadline, what)?;
        let result = self.command_inner(instruction, params, what, deadline);
        match &result {
            Err(e) => self.observe_error(e),
            Ok(_) => self.observe_ok(),
        }
        result
    }

    fn command_inner(
        &mut self,
        instruction: u8,
        params: &[u8],
        what: &str,
        deadline: Instant,
    ) -> Result<Packet, DeviceError> {
        if !self.verified {
            self.verify_inner(deadline)?;
        }
        let ack = self.exchange(instruction, params, what, deadline)?;
        if ack.code() == Some(status::NOT_VERIFIED) {
            // The module lost power and its session with it.
            tracing::info!(path = %self.path, "module asks for the password again");
            self.verified = false;
            self.verify_inner(deadline)?;
            return self.exchange(instruction, params, what, deadline);
        }
        Ok(ack)
    }

    /// A command whose only success is 0x00; any other code is an error.
    fn simple(
        &mut self,
        instruction: u8,
        params: &[u8],
        what: &str,
        deadline: Instant,
    ) -> Result<Packet, DeviceError> {
        let ack = self.command(instruction, params, what, deadline)?;
        match ack.code() {
            Some(status::OK) => Ok(ack),
            Some(c) => Err(self.code_error(c, what)),
            None => Err(DeviceError::protocol(format!("{what}: empty acknowledge"))),
        }
    }

    fn code_error(&mut self, code: u8, what: &str) -> DeviceError {
        let err = status::error(code, what);
        self.observe_error(&err);
        err
    }

    /// Reads data packets up to and including the last one.
    fn receive_data(&mut self, what: &str, deadline: Instant) -> Result<Vec<u8>, DeviceError> {
        let mut data = Vec::new();
        loop {
            match self.receive(what, deadline)? {
                Exchange::Packet(p) if matches!(p.pid, PID_DATA | PID_END_DATA) => {
                    data.extend_from_slice(&p.payload);
                    if data.len() > MAX_TEMPLATE_LEN {
                        return Err(DeviceError::protocol(format!(
                            "{what}: more than {MAX_TEMPLATE_LEN} bytes of data"
                        )));
                    }
                    if p.pid == PID_END_DATA {
                        return Ok(data);
                    }
                }
                Exchange::Packet(p) => {
                    return Err(DeviceError::protocol(format!(
                        "{what}: expected a data packet, got type 0x{:02X}",
                        p.pid
                    )));
                }
                Exchange::BadChecksum => {
                    return Err(DeviceError::protocol(format!(
                        "{what}: data packet checksum wrong"
                    )));
                }
                Exchange::Truncated { got } => {
                    return Err(DeviceError::timeout(format!(
                        "{what}: data broke off after {got} bytes"
                    )));
                }
            }
        }
    }

    fn params(&mut self, deadline: Instant) -> Result<SystemParameters, DeviceError> {
        match self.params {
            Some(p) => Ok(p),
            None => self.system_parameters(deadline),
        }
    }

    /// Waits until the sensor reports no finger, or the deadline.
    fn wait_lifted(&mut self, deadline: Instant) -> Result<bool, DeviceError> {
        loop {
            if let hal::fingerprint::Capture::Retry(FingerGuidance::PlaceFinger) =
                self.capture(deadline)?
            {
                return Ok(true);
            }
            if deadline.saturating_duration_since(Instant::now())
                < FINGER_RESERVE + FINGER_WAIT_STEP
            {
                return Ok(false);
            }
            std::thread::sleep(FINGER_WAIT_STEP);
        }
    }

    fn enrol_inner(&mut self, page: u16, deadline: Instant) -> Result<Enrolment, DeviceError> {
        if let Capture::Retry(g) = self.capture_template(CharBuffer::One, deadline)? {
            return Ok(Enrolment::Retry(g));
        }
        if !self.wait_lifted(deadline)? {
            return Ok(Enrolment::Retry(FingerGuidance::LiftAndPlaceAgain));
        }
        if let Capture::Retry(g) = self.capture_template(CharBuffer::Two, deadline)? {
            return Ok(Enrolment::Retry(g));
        }
        let ack = self.command(ins::REG_MODEL, &[], "merge templates", deadline)?;
        match ack.code() {
            Some(status::OK) => {}
            Some(status::MERGE_FAILED) => {
                return Ok(Enrolment::Retry(FingerGuidance::LiftAndPlaceAgain));
            }
            Some(c) => return Err(self.code_error(c, "merge templates")),
            None => return Err(DeviceError::protocol("merge templates: empty acknowledge")),
        }
        self.store(CharBuffer::One, page, deadline)?;
        Ok(Enrolment::Stored { page })
    }

    fn match_card_inner(
        &mut self,
        features: &[u8],
        deadline: Instant,
    ) -> Result<CardMatch, DeviceError> {
        let templates: Vec<&[u8]> = match features.len() {
            TEMPLATE_LEN => vec![features],
            n if n == 2 * TEMPLATE_LEN => features.chunks(TEMPLATE_LEN).collect(),
            n => {
                return Err(DeviceError::new(
                    ErrorKind::Unsupported,
                    format!("card features of {n} bytes; 512 or 1024 expected"),
                ));
            }
        };
        let mut rest = templates.into_iter();
        let Some(first) = rest.next() else {
            return Err(DeviceError::new(ErrorKind::Unsupported, "no card features"));
        };
        self.download_template(CharBuffer::Two, first, deadline)?;
        if let Capture::Retry(g) = self.capture_template(CharBuffer::One, deadline)? {
            return Ok(CardMatch::Retry(g));
        }
        let r = self.compare_buffers(deadline)?;
        if r.matched {
            return Ok(CardMatch::Matched { score: r.score });
        }
        for t in rest {
            self.download_template(CharBuffer::Two, t, deadline)?;
            let r = self.compare_buffers(deadline)?;
            if r.matched {
                return Ok(CardMatch::Matched { score: r.score });
            }
        }
        Ok(CardMatch::NoMatch)
    }
}

impl Device for FingerprintModule {
    fn kind(&self) -> DeviceKind {
        DeviceKind::FingerprintScanner
    }

    fn health(&self) -> Health {
        self.health.clone()
    }

    /// One GenImg: a finger that arrives is [`DeviceEvent::FingerOn`], one
    /// that leaves is [`DeviceEvent::FingerOff`].
    fn poll(&mut self, deadline: Instant) -> Vec<DeviceEvent> {
        let ack = match self.command(ins::GEN_IMG, &[], "look for a finger", deadline) {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(path = %self.path, kind = e.kind().code(), detail = e.detail(), "poll failed");
                return Vec::new();
            }
        };
        let on = match ack.code() {
            Some(status::NO_FINGER) => false,
            Some(c) if c == status::OK || status::guidance(c).is_some() => true,
            _ => return Vec::new(),
        };
        if on == self.finger_on {
            return Vec::new();
        }
        self.finger_on = on;
        vec![if on {
            DeviceEvent::FingerOn
        } else {
            DeviceEvent::FingerOff
        }]
    }

    fn poll_interval(&self) -> Duration {
        POLL_INTERVAL
    }

    /// Verifies the password and reads the system parameters. A refused
    /// password or a module fault gives a health in fault; transport errors
    /// are returned.
    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        self.verified = false;
        let result = self.system_parameters(deadline);
        self.health.last_self_test = Some(SystemTime::now());
        match result {
            Ok(_) => Ok(self.health.clone()),
            Err(e) if matches!(e.kind(), ErrorKind::Config | ErrorKind::DeviceFault) => {
                tracing::warn!(path = %self.path, detail = e.detail(), "fingerprint self-test failed");
                Ok(self.health.clone())
            }
            Err(e) => Err(e),
        }
    }
}

impl FingerprintScanner for FingerprintModule {
    fn verify_password(&mut self, deadline: Instant) -> Result<(), DeviceError> {
        time_left(deadline, "verify password")?;
        self.verified = false;
        let result = self.verify_inner(deadline);
        match &result {
            Ok(()) => self.observe_ok(),
            Err(e) => self.observe_error(e),
        }
        result
    }

    fn system_parameters(&mut self, deadline: Instant) -> Result<SystemParameters, DeviceError> {
        let what = "read system parameters";
        let ack = self.simple(ins::READ_SYS_PARA, &[], what, deadline)?;
        let p = parse_system_parameters(ack.data()).ok_or_else(|| {
            DeviceError::protocol(format!(
                "{what}: {} bytes of parameters, 16 expected",
                ack.data().len()
            ))
        })?;
        self.params = Some(p);
        Ok(p)
    }

    fn capture(&mut self, deadline: Instant) -> Result<Capture, DeviceError> {
        let ack = self.command(ins::GEN_IMG, &[], "capture", deadline)?;
        match ack.code() {
            Some(status::OK) => {
                self.finger_on = true;
                self.health.bump("captures");
                Ok(Capture::Captured)
            }
            Some(c) => match status::guidance(c) {
                Some(g) => {
                    self.finger_on = c != status::NO_FINGER;
                    if c != status::NO_FINGER {
                        self.health.bump("capture_retries");
                    }
                    Ok(Capture::Retry(g))
                }
                None => Err(self.code_error(c, "capture")),
            },
            None => Err(DeviceError::protocol("capture: empty acknowledge")),
        }
    }

    fn image_to_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Capture, DeviceError> {
        let what = "image to template";
        let ack = self.command(ins::IMG2TZ, &[buffer.id()], what, deadline)?;
        match ack.code() {
            Some(status::OK) => Ok(Capture::Captured),
            Some(c) => match status::guidance(c) {
                Some(g) => {
                    self.health.bump("capture_retries");
                    Ok(Capture::Retry(g))
                }
                None => Err(self.code_error(c, what)),
            },
            None => Err(DeviceError::protocol(
                "image to template: empty acknowledge",
            )),
        }
    }

    fn capture_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Capture, DeviceError> {
        loop {
            match self.capture(deadline)? {
                Capture::Captured => return self.image_to_template(buffer, deadline),
                Capture::Retry(FingerGuidance::PlaceFinger) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left < FINGER_RESERVE + FINGER_WAIT_STEP {
                        return Ok(Capture::Retry(FingerGuidance::PlaceFinger));
                    }
                    std::thread::sleep(FINGER_WAIT_STEP);
                }
                retry => return Ok(retry),
            }
        }
    }

    fn compare_buffers(&mut self, deadline: Instant) -> Result<MatchResult, DeviceError> {
        let what = "compare buffers";
        let ack = self.command(ins::MATCH, &[], what, deadline)?;
        let score = u16_at(ack.data(), 0).unwrap_or(0);
        match ack.code() {
            Some(status::OK) => {
                self.health.bump("matches");
                Ok(MatchResult {
                    matched: true,
                    score,
                })
            }
            Some(status::NO_MATCH) => {
                self.health.bump("no_matches");
                Ok(MatchResult {
                    matched: false,
                    score: 0,
                })
            }
            Some(c) => Err(self.code_error(c, what)),
            None => Err(DeviceError::protocol("compare buffers: empty acknowledge")),
        }
    }

    fn search(
        &mut self,
        buffer: CharBuffer,
        start: u16,
        count: u16,
        deadline: Instant,
    ) -> Result<Option<SearchHit>, DeviceError> {
        let what = "search library";
        let [s1, s2] = start.to_be_bytes();
        let [c1, c2] = count.to_be_bytes();
        let ack = self.command(ins::SEARCH, &[buffer.id(), s1, s2, c1, c2], what, deadline)?;
        self.health.bump("searches");
        match ack.code() {
            Some(status::OK) => match (u16_at(ack.data(), 0), u16_at(ack.data(), 2)) {
                (Some(page), Some(score)) => Ok(Some(SearchHit { page, score })),
                _ => Err(DeviceError::protocol(format!(
                    "{what}: answer without page and score"
                ))),
            },
            Some(status::NOT_FOUND) => Ok(None),
            Some(c) => Err(self.code_error(c, what)),
            None => Err(DeviceError::protocol("search library: empty acknowledge")),
        }
    }

    fn enrol(&mut self, page: u16, deadline: Instant) -> Result<Enrolment, DeviceError> {
        let result = self.enrol_inner(page, deadline);
        if let Ok(Enrolment::Stored { page }) = &result {
            self.health.bump("enrolments");
            tracing::info!(path = %self.path, page, "finger enrolled");
        }
        result
    }

    fn store(
        &mut self,
        buffer: CharBuffer,
        page: u16,
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        let [p1, p2] = page.to_be_bytes();
        self.simple(
            ins::STORE,
            &[buffer.id(), p1, p2],
            "store template",
            deadline,
        )
        .map(drop)
    }

    fn load(
        &mut self,
        buffer: CharBuffer,
        page: u16,
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        let [p1, p2] = page.to_be_bytes();
        self.simple(
            ins::LOAD_CHAR,
            &[buffer.id(), p1, p2],
            "load template",
            deadline,
        )
        .map(drop)
    }

    fn upload_template(
        &mut self,
        buffer: CharBuffer,
        deadline: Instant,
    ) -> Result<Template, DeviceError> {
        let what = "upload template";
        self.simple(ins::UP_CHAR, &[buffer.id()], what, deadline)?;
        let result = self.receive_data(what, deadline);
        match result {
            Ok(bytes) => Ok(Template::new(bytes)),
            Err(e) => {
                self.observe_error(&e);
                Err(e)
            }
        }
    }

    fn download_template(
        &mut self,
        buffer: CharBuffer,
        template: &[u8],
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        let what = "download template";
        if template.is_empty() {
            return Err(DeviceError::new(
                ErrorKind::Unsupported,
                "download template: empty template",
            ));
        }
        let size = usize::from(self.params(deadline)?.packet_size).max(32);
        self.simple(ins::DOWN_CHAR, &[buffer.id()], what, deadline)?;
        let chunks: Vec<&[u8]> = template.chunks(size).collect();
        let last = chunks.len().saturating_sub(1);
        for (i, chunk) in chunks.into_iter().enumerate() {
            let pid = if i == last { PID_END_DATA } else { PID_DATA };
            let pkt = packet::encode(self.address, pid, chunk);
            if let Err(e) = self.write(&pkt, what, deadline) {
                self.observe_error(&e);
                return Err(e);
            }
        }
        Ok(())
    }

    fn template_count(&mut self, deadline: Instant) -> Result<u16, DeviceError> {
        let what = "template count";
        let ack = self.simple(ins::TEMPLATE_NUM, &[], what, deadline)?;
        u16_at(ack.data(), 0)
            .ok_or_else(|| DeviceError::protocol(format!("{what}: answer without a count")))
    }

    fn delete(&mut self, page: u16, count: u16, deadline: Instant) -> Result<(), DeviceError> {
        let [p1, p2] = page.to_be_bytes();
        let [c1, c2] = count.to_be_bytes();
        self.simple(ins::DELETE, &[p1, p2, c1, c2], "delete templates", deadline)
            .map(drop)
    }

    fn match_card_features(
        &mut self,
        features: &[u8],
        deadline: Instant,
    ) -> Result<CardMatch, DeviceError> {
        let result = self.match_card_inner(features, deadline);
        match &result {
            Ok(m) => {
                let outcome = match m {
                    CardMatch::Matched { .. } => "matched",
                    CardMatch::NoMatch => "no_match",
                    CardMatch::Retry(g) => g.as_str(),
                };
                tracing::info!(path = %self.path, outcome, "finger compared with card features");
            }
            Err(e) => {
                tracing::warn!(path = %self.path, kind = e.kind().code(), detail = e.detail(), "card feature comparison failed");
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn system_parameters_layout() {
        let data = [
            0x00, 0x04, 0x00, 0x09, 0x01, 0x2C, 0x00, 0x03, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x02,
            0x00, 0x06,
        ];
        let p = parse_system_parameters(&data).unwrap();
        assert_eq!(
            p,
            SystemParameters {
                status_register: 4,
                system_id: 9,
                capacity: 300,
                security_level: 3,
                address: 0xFFFF_FFFF,
                packet_size: 128,
                baud: 57_600,
            }
        );
        assert!(parse_system_parameters(&data[..15]).is_none());
    }

    #[test]
    fn selector_options_are_checked() {
        for bad in [
            "serial:/nonexistent/x?baud=12345",
            "serial:/nonexistent/x?address=zz",
            "serial:/nonexistent/x?password=0x1FFFFFFFF",
            "tcp:127.0.0.1:1",
        ] {
            let s: Selector = bad.parse().unwrap();
            assert_eq!(
                FingerprintModule::open(&s).err().unwrap().kind(),
                ErrorKind::Config,
                "{bad}"
            );
        }
    }
}
