//! Network cameras speaking Axis VAPIX-style HTTP, with a small blocking
//! HTTP/1.1 client over [`TcpStream`].
//!
//! Selector: `http://HOST[:PORT]/[PATH/]`; the CGI paths below are taken
//! relative to the URL's path, so a camera behind a gateway at
//! `http://gw/cam1/` works too.
//!
//! | request | use |
//! | --- | --- |
//! | `GET axis-cgi/param.cgi?action=list&group=Brand,Properties.Image,ImageSource.I0.Sensor,Light` | at open: product name, `Properties.Image.Resolution=4000x3000,1920x1080,…` (the first or largest is the sensor size), the controls offered |
//! | `GET axis-cgi/mjpg/video.cgi?resolution=WxH&fps=N` | the preview: `multipart/x-mixed-replace; boundary=…`, one `image/jpeg` part per frame |
//! | `GET axis-cgi/jpg/image.cgi?resolution=WxH` | one still at the sensor's size |
//! | `GET axis-cgi/param.cgi?action=update&ImageSource.I0.Sensor.Brightness=N` | a control; the camera answers `OK` |
//!
//! Controls, each 0..=100, offered when the camera lists the parameter:
//! `ImageSource.I0.Sensor.Brightness`, `.Contrast`, `.Sharpness` (VAPIX
//! names) and `Light.L0.Intensity` (the document camera's fill light; the
//! simulator's name, a real camera's light may need its own API).
//!
//! ## Invariants
//!
//! * A reader thread parses the stream and keeps only the newest frame
//!   (`FrameSlot`); [`Camera::next_frame`] returns the newest
//!   not yet returned, so the preview never lags.
//! * A part that is not a complete JPEG (no `FF D8`, no frame header, cut
//!   short) or not `image/jpeg` is skipped and counted in
//!   `frames_corrupt`; the stream goes on.
//! * A part or response body larger than [`super::max_jpeg_bytes`] of the
//!   mode (for example `Content-Length: 2147483648`) is refused before a
//!   byte of it is read or allocated: the stream ends with
//!   [`ErrorKind::Protocol`]; `start` again to resume.
//! * Connection refused, reset or closed, and a stream silent for
//!   [`STALL`], are [`ErrorKind::Disconnected`] and the health goes
//!   offline, so the actor opens the camera afresh.
//! * Every request runs against its deadline: connect, send and every
//!   read get the time left as their timeout.
//! * HTTP answers map to kinds: 401/403 → `PermissionDenied` (this client
//!   sends no credentials), 404 → `Config` (no VAPIX camera at the URL),
//!   400 → `Unsupported` (mode refused), 503 → `Busy`, other non-2xx →
//!   `DeviceFault` with the status as device code.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use hal::camera::{
    Camera, CameraInfo, Control, ControlId, ControlValue, DocumentCamera, Frame, PREVIEW,
    PaperSize, PixelFormat, VideoMode, closest_mode,
};
use hal::{Device, DeviceError, DeviceEvent, DeviceKind, ErrorKind, Health, HealthState, Selector};

use super::{FrameSlot, check_jpeg, max_jpeg_bytes};

/// How long `open` may take to reach the camera and read its parameters.
pub const OPEN_TIMEOUT: Duration = Duration::from_secs(3);
/// A stream that sends nothing for this long is taken as gone.
pub const STALL: Duration = Duration::from_secs(3);
/// Frame rate offered for every resolution (VAPIX takes any `fps` up to
/// the camera's maximum; 30 is the usual one).
pub const MAX_FPS: u32 = 30;
/// How often the idle camera is asked whether it is still there.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
/// Longest response head or part head.
const MAX_HEAD: usize = 16 * 1024;
/// Longest parameter list.
const MAX_PARAMS: usize = 256 * 1024;

/// The parameter groups read at open.
const PARAM_GROUPS: &str = "Brand,Properties.Image,ImageSource.I0.Sensor,Light";

/// Controls and the parameter that holds each, with its default.
const CONTROL_PARAMS: [(ControlId, &str, i64); 4] = [
    (
        ControlId::Brightness,
        "ImageSource.I0.Sensor.Brightness",
        50,
    ),
    (ControlId::Contrast, "ImageSource.I0.Sensor.Contrast", 50),
    (ControlId::Sharpness, "ImageSource.I0.Sensor.Sharpness", 50),
    (ControlId::Light, "Light.L0.Intensity", 0),
];

/// Host, port and path prefix of the camera.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host:port` as written (for the Host header and connecting).
    pub hostport: String,
    /// Path prefix ending in `/`.
    pub base: String,
}

impl Endpoint {
    /// Reads `http://HOST[:PORT][/PATH]`; port 80 unless given.
    pub fn parse(url: &str) -> Result<Endpoint, DeviceError> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            DeviceError::new(ErrorKind::Config, format!("{url:?} is not an http:// URL"))
        })?;
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("")),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("{url:?}: give host[:port] without user name"),
            ));
        }
        let has_port = match authority.rsplit_once(':') {
            Some((_, p)) if !authority.ends_with(']') => {
                p.parse::<u16>().map_err(|_| {
                    DeviceError::new(ErrorKind::Config, format!("{url:?}: bad port {p:?}"))
                })?;
                true
            }
            _ => false,
        };
        let hostport = if has_port {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let path = path.split('?').next().unwrap_or("");
        let mut base = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("/{path}")
        };
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(Endpoint { hostport, base })
    }

    fn connect(&self, deadline: Instant) -> Result<TcpStream, DeviceError> {
        let addrs: Vec<_> = self
            .hostport
            .to_socket_addrs()
            .map_err(|e| {
                DeviceError::new(
                    ErrorKind::NotFound,
                    format!("camera address {} does not resolve", self.hostport),
                )
                .with_source(e)
            })?
            .collect();
        let mut last = None;
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => connect_error(e, &self.hostport),
            None => DeviceError::timeout(format!("connecting to camera {}", self.hostport)),
        })
    }

    /// Sends `GET base+path` and reads the response head.
    fn get(&self, path: &str, deadline: Instant) -> Result<(Head, BufReader<Timed>), DeviceError> {
        let stream = self.connect(deadline)?;
        let mut timed = Timed {
            stream,
            deadline: Some(deadline),
        };
        let req = format!(
            "GET {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: kiosk-drivers\r\nAccept: */*\r\nConnection: close\r\n\r\n",
            self.base, self.hostport
        );
        timed.set_timeouts()?;
        timed
            .stream
            .write_all(req.as_bytes())
            .map_err(|e| DeviceError::from_io(e, "sending a request to the camera"))?;
        let mut reader = BufReader::with_capacity(64 * 1024, timed);
        let head = read_head(&mut reader)?;
        Ok((head, reader))
    }
}

fn connect_error(e: std::io::Error, hostport: &str) -> DeviceError {
    use std::io::ErrorKind as K;
    let kind = match e.kind() {
        K::TimedOut | K::WouldBlock => ErrorKind::Timeout,
        K::PermissionDenied => ErrorKind::PermissionDenied,
        _ => ErrorKind::Disconnected,
    };
    DeviceError::new(kind, format!("cannot connect to camera {hostport}")).with_source(e)
}

/// A socket whose every read and write gets the time left to a deadline
/// as its timeout; without a deadline, [`STALL`].
#[derive(Debug)]
pub(crate) struct Timed {
    stream: TcpStream,
    deadline: Option<Instant>,
}

impl Timed {
    fn set_timeouts(&self) -> Result<(), DeviceError> {
        let t = match self.deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(DeviceError::timeout("camera request: deadline passed"));
                }
                left
            }
            None => STALL,
        };
        self.stream
            .set_read_timeout(Some(t))
            .and_then(|()| self.stream.set_write_timeout(Some(t)))
            .map_err(|e| DeviceError::from_io(e, "camera socket"))
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(d) = self.deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            self.stream.set_read_timeout(Some(left))?;
        }
        self.stream.read(buf)
    }
}

/// A response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// Header names in lower case, in order.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `Content-Length`, refused when it is not a number.
    fn content_length(&self) -> Result<Option<u64>, DeviceError> {
        match self.header("content-length") {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| DeviceError::protocol(format!("camera sent Content-Length {v:?}"))),
        }
    }

    /// Success, or the kind the status means (table in the module docs).
    fn check(&self, what: &str) -> Result<(), DeviceError> {
        let s = self.status;
        let kind = match s {
            200..=299 => return Ok(()),
            401 | 403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::Config,
            400 => ErrorKind::Unsupported,
            503 => ErrorKind::Busy,
            _ => ErrorKind::DeviceFault,
        };
        Err(
            DeviceError::new(kind, format!("{what}: camera answered HTTP {s}"))
                .with_device_code(u32::from(s)),
        )
    }
}

/// One line of at most `cap` bytes including its LF; `None` at EOF.
fn read_line<R: BufRead>(r: &mut R, cap: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let n = r.by_ref().take(cap as u64).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") && n >= cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    Ok(Some(line))
}

fn io_err(e: std::io::Error, what: &str) -> DeviceError {
    if e.kind() == std::io::ErrorKind::InvalidData {
        DeviceError::protocol(format!("{what}: {e}"))
    } else {
        DeviceError::from_io(e, what)
    }
}

/// Reads header lines up to the blank line (at most [`MAX_HEAD`] bytes).
fn read_headers<R: BufRead>(r: &mut R, what: &str) -> Result<Vec<(String, String)>, DeviceError> {
    let mut headers = Vec::new();
    let mut used = 0usize;
    loop {
        let line = read_line(r, MAX_HEAD.saturating_sub(used).max(1))
            .map_err(|e| io_err(e, what))?
            .ok_or_else(|| DeviceError::disconnected(format!("{what}: connection closed")))?;
        used += line.len() + 2;
        if used > MAX_HEAD {
            return Err(DeviceError::protocol(format!("{what}: header too long")));
        }
        if line.is_empty() {
            return Ok(headers);
        }
        let text = String::from_utf8_lossy(&line);
        if let Some((n, v)) = text.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

/// Reads the status line and headers of a response.
fn read_head<R: BufRead>(r: &mut R) -> Result<Head, DeviceError> {
    let what = "reading the camera's answer";
    let line = read_line(r, MAX_HEAD)
        .map_err(|e| io_err(e, what))?
        .ok_or_else(|| {
            DeviceError::disconnected("camera closed the connection without answering")
        })?;
    let text = String::from_utf8_lossy(&line);
    let mut parts = text.split_whitespace();
    let status = match (parts.next(), parts.next()) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") => code.parse::<u16>().ok(),
        _ => None,
    }
    .ok_or_else(|| {
        DeviceError::protocol(format!("camera answered {:?}, not HTTP", truncate(&text)))
    })?;
    let headers = read_headers(r, what)?;
    Ok(Head { status, headers })
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

/// Reads a response body of at most `max` bytes: by Content-Length
/// (refused before reading when larger), chunked, or to the end.
fn read_body<R: BufRead>(r: &mut R, head: &Head, max: usize) -> Result<Vec<u8>, DeviceError> {
    let what = "reading the camera's answer";
    let too_big = |n: u64| {
        DeviceError::protocol(format!(
            "camera sent {n} bytes where at most {max} make sense; refused"
        ))
    };
    if head
        .header("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"))
    {
        let mut body = Vec::new();
        loop {
            let line = read_line(r, 1024)
                .map_err(|e| io_err(e, what))?
                .ok_or_else(|| DeviceError::disconnected(format!("{what}: cut short")))?;
            let size_text = String::from_utf8_lossy(&line);
            let size_text = size_text.split(';').next().unwrap_or("").trim();
            let n = u64::from_str_radix(size_text, 16)
                .map_err(|_| DeviceError::protocol(format!("bad chunk size {size_text:?}")))?;
            if n == 0 {
                return Ok(body);
            }
            if body.len() as u64 + n > max as u64 {
                return Err(too_big(body.len() as u64 + n));
            }
            let start = body.len();
            body.resize(start + n as usize, 0);
            r.read_exact(body.get_mut(start..).unwrap_or_default())
                .map_err(|e| io_err(e, what))?;
            read_line(r, 4).map_err(|e| io_err(e, what))?;
        }
    }
    match head.content_length()? {
        Some(n) if n > max as u64 => Err(too_big(n)),
        Some(n) => {
            let mut body = vec![0u8; n as usize];
            r.read_exact(&mut body).map_err(|e| io_err(e, what))?;
            Ok(body)
        }
        None => {
            let mut body = Vec::new();
            r.take(max as u64 + 1)
                .read_to_end(&mut body)
                .map_err(|e| io_err(e, what))?;
            if body.len() > max {
                return Err(too_big(body.len() as u64));
            }
            Ok(body)
        }
    }
}

/// `root.A.B=value` lines of a parameter list, without `root.`. Lines
/// starting with `#` (VAPIX errors for one group) are left out.
pub fn parse_params(body: &str) -> BTreeMap<String, String> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            (
                k.trim().trim_start_matches("root.").to_string(),
                v.trim().to_string(),
            )
        })
        .collect()
}

/// `4000x3000,1920x1080` → sizes, largest first; malformed entries are
/// left out.
pub fn parse_resolutions(list: &str) -> Vec<(u32, u32)> {
    let mut v: Vec<(u32, u32)> = list
        .split(',')
        .filter_map(|r| {
            let (w, h) = r.trim().split_once('x')?;
            let (w, h) = (w.parse().ok()?, h.parse().ok()?);
            (w > 0 && h > 0).then_some((w, h))
        })
        .collect();
    v.sort_by_key(|&(w, h)| std::cmp::Reverse(u64::from(w) * u64::from(h)));
    v.dedup();
    v
}

/// The boundary of a `multipart/x-mixed-replace; boundary=…` type, as
/// the part delimiter line reads (`--` + boundary).
pub fn boundary_of(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime
        .trim()
        .eq_ignore_ascii_case("multipart/x-mixed-replace")
    {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let b = v.trim().trim_matches('"');
        if b.is_empty() {
            return None;
        }
        // Some cameras put the leading dashes into the header already.
        Some(if b.starts_with("--") {
            b.to_string()
        } else {
            format!("--{b}")
        })
    })
}

/// What one multipart part turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum Part {
    /// A part's body and its Content-Type.
    Body { content_type: String, data: Vec<u8> },
    /// The closing delimiter: the camera ended the stream.
    End,
}

/// Parses a multipart/x-mixed-replace stream part by part.
#[derive(Debug)]
pub struct PartReader {
    delimiter: Vec<u8>,
    max: usize,
    /// The delimiter line of the next part was read already (a part
    /// without Content-Length ends at it).
    at_headers: bool,
}

impl PartReader {
    /// A reader for parts after `delimiter` (`--boundary`), each at most
    /// `max` bytes.
    pub fn new(delimiter: &str, max: usize) -> PartReader {
        PartReader {
            delimiter: delimiter.as_bytes().to_vec(),
            max,
            at_headers: false,
        }
    }

    fn is_delimiter(&self, line: &[u8]) -> Option<bool> {
        let rest = line.strip_prefix(self.delimiter.as_slice())?;
        let rest = rest.trim_ascii_end();
        match rest {
            b"" => Some(false),
            b"--" => Some(true),
            _ => None,
        }
    }

    /// The next part. Errors: the connection failed, or a part breaks
    /// the limits (refused before its body is read).
    pub fn next<R: BufRead>(&mut self, r: &mut R) -> Result<Part, DeviceError> {
        let what = "reading the camera stream";
        if !self.at_headers {
            // Skip the CRLF after the previous body and any preamble.
            let mut skipped = 0usize;
            loop {
                let line = read_line(r, self.max)
                    .map_err(|e| io_err(e, what))?
                    .ok_or_else(|| DeviceError::disconnected("camera closed the stream"))?;
                match self.is_delimiter(&line) {
                    Some(true) => return Ok(Part::End),
                    Some(false) => break,
                    None => {
                        skipped += line.len() + 2;
                        if skipped > self.max {
                            return Err(DeviceError::protocol(
                                "camera stream holds no part delimiter",
                            ));
                        }
                    }
                }
            }
        }
        self.at_headers = false;
        let headers = read_headers(r, what)?;
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let content_type = header("content-type").unwrap_or("").to_string();
        if let Some(v) = header("content-length") {
            let n: u64 = v
                .trim()
                .parse()
                .map_err(|_| DeviceError::protocol(format!("part Content-Length {v:?}")))?;
            if n > self.max as u64 {
                return Err(DeviceError::protocol(format!(
                    "camera sent a part of {n} bytes where at most {} make sense; refused",
                    self.max
                )));
            }
            let mut data = vec![0u8; n as usize];
            r.read_exact(&mut data).map_err(|e| io_err(e, what))?;
            return Ok(Part::Body { content_type, data });
        }
        // No length: the body runs to the next delimiter line.
        let mut data = Vec::new();
        loop {
            let mut line = Vec::new();
            let room = (self.max + 2).saturating_sub(data.len()).max(1);
            let n = r
                .by_ref()
                .take(room as u64)
                .read_until(b'\n', &mut line)
                .map_err(|e| io_err(e, what))?;
            if n == 0 {
                return Err(DeviceError::disconnected("camera closed the stream"));
            }
            let bare = line.trim_ascii_end();
            if let Some(last) = self.is_delimiter(bare) {
                // The CRLF before the delimiter belongs to it.
                if data.ends_with(b"\r\n") {
                    data.truncate(data.len() - 2);
                } else if data.ends_with(b"\n") {
                    data.truncate(data.len() - 1);
                }
                self.at_headers = !last;
                return Ok(Part::Body { content_type, data });
            }
            data.extend_from_slice(&line);
            if data.len() > self.max {
                return Err(DeviceError::protocol(format!(
                    "camera sent a part of more than {} bytes; refused",
                    self.max
                )));
            }
        }
    }
}

/// Reads parts into the slot until stopped or the stream fails.
fn pump(mut reader: BufReader<Timed>, mut parts: PartReader, slot: &FrameSlot, stop: &AtomicBool) {
    loop {
        let part = parts.next(&mut reader);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        match part {
            Ok(Part::End) => {
                slot.end(ErrorKind::Disconnected, "camera ended the stream");
                return;
            }
            Ok(Part::Body { content_type, data }) => {
                let is_jpeg = content_type.is_empty()
                    || content_type.to_ascii_lowercase().starts_with("image/jpeg");
                match check_jpeg(&data) {
                    Ok((width, height)) if is_jpeg => slot.publish(Frame {
                        width,
                        height,
                        format: PixelFormat::Mjpeg,
                        data,
                    }),
                    Ok(_) => {
                        tracing::debug!(%content_type, "camera part is not a JPEG; skipped");
                        slot.lock().bump("frames_corrupt");
                    }
                    Err(problem) => {
                        tracing::debug!(%problem, bytes = data.len(), "corrupt camera frame skipped");
                        slot.lock().bump("frames_corrupt");
                    }
                }
            }
            Err(e) => {
                let (kind, detail) = match e.kind() {
                    ErrorKind::Timeout => (
                        ErrorKind::Disconnected,
                        format!("camera stream silent for {} s", STALL.as_secs()),
                    ),
                    k => (k, e.detail().to_string()),
                };
                slot.end(kind, detail);
                return;
            }
        }
    }
}

struct Stream {
    socket: TcpStream,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Stream {
    fn shut(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.socket.shutdown(Shutdown::Both);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A network camera (face camera or document camera).
pub struct NetworkCamera {
    kind: DeviceKind,
    endpoint: Endpoint,
    url: String,
    info: CameraInfo,
    /// Resolutions offered, largest first.
    resolutions: Vec<(u32, u32)>,
    modes: Vec<VideoMode>,
    /// Controls offered (their parameters were listed at open).
    offered: Vec<(ControlId, &'static str, i64)>,
    health: Health,
    slot: Arc<FrameSlot>,
    stream: Option<Stream>,
    mode: Option<VideoMode>,
    /// The mode last started: `next_frame` restarts a stopped or failed
    /// stream in it.
    last_mode: Option<VideoMode>,
    last_seen: Instant,
}

impl std::fmt::Debug for NetworkCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkCamera")
            .field("url", &self.url)
            .field("kind", &self.kind)
            .field("mode", &self.mode)
            .finish()
    }
}

impl NetworkCamera {
    /// Opens the camera at an `http://` selector as a device of `kind`
    /// ([`DeviceKind::Camera`] or [`DeviceKind::DocumentCamera`]): reads
    /// its parameters within [`OPEN_TIMEOUT`].
    pub fn open(selector: &Selector, kind: DeviceKind) -> Result<NetworkCamera, DeviceError> {
        let Selector::Http { url } = selector else {
            return Err(DeviceError::new(
                ErrorKind::Config,
                format!("network camera needs an http:// selector, not {selector}"),
            ));
        };
        let endpoint = Endpoint::parse(url)?;
        let deadline = Instant::now() + OPEN_TIMEOUT;
        let params = read_params(&endpoint, PARAM_GROUPS, deadline)?;
        let resolutions = params
            .get("Properties.Image.Resolution")
            .map(|l| parse_resolutions(l))
            .unwrap_or_default();
        if resolutions.is_empty() {
            return Err(DeviceError::protocol(format!(
                "{url} lists no Properties.Image.Resolution: not a VAPIX camera"
            )));
        }
        let modes = resolutions
            .iter()
            .map(|&(w, h)| VideoMode::new(w, h, MAX_FPS))
            .collect();
        let name = params
            .get("Brand.ProdFullName")
            .cloned()
            .or_else(|| {
                let brand = params.get("Brand.Brand")?;
                Some(format!(
                    "{brand} {}",
                    params.get("Brand.ProdNbr").map_or("", String::as_str)
                ))
            })
            .unwrap_or_else(|| "network camera".to_string());
        let offered = CONTROL_PARAMS
            .into_iter()
            .filter(|(_, p, _)| params.contains_key(*p))
            .collect();
        let mut health = Health::ok();
        health.set(HealthState::Ok, None, "摄像头正常", "camera OK");
        Ok(NetworkCamera {
            kind,
            endpoint,
            url: url.clone(),
            info: CameraInfo {
                name: name.trim().to_string(),
                location: url.clone(),
                sensor: resolutions.first().copied(),
            },
            resolutions,
            modes,
            offered,
            health,
            slot: Arc::new(FrameSlot::default()),
            stream: None,
            mode: None,
            last_mode: None,
            last_seen: Instant::now(),
        })
    }

    /// Marks the camera gone when `e` says so, and passes `e` on.
    fn note(&mut self, e: DeviceError) -> DeviceError {
        if e.kind() == ErrorKind::Disconnected {
            self.health.set(
                HealthState::Offline,
                Some(ErrorKind::Disconnected.code()),
                "摄像头已断开连接",
                "camera disconnected",
            );
        }
        e
    }

    fn get_jpeg(&mut self, w: u32, h: u32, deadline: Instant) -> Result<Frame, DeviceError> {
        let path = format!("axis-cgi/jpg/image.cgi?resolution={w}x{h}");
        let result = (|| {
            let (head, mut body) = self.endpoint.get(&path, deadline)?;
            head.check("taking a still")?;
            let ct = head.header("content-type").unwrap_or("");
            if !ct.to_ascii_lowercase().starts_with("image/jpeg") {
                return Err(DeviceError::protocol(format!(
                    "still came as {:?}, not image/jpeg",
                    truncate(ct)
                )));
            }
            let data = read_body(&mut body, &head, max_jpeg_bytes(w, h))?;
            let (width, height) = check_jpeg(&data)
                .map_err(|p| DeviceError::protocol(format!("still is not a complete JPEG: {p}")))?;
            Ok(Frame {
                width,
                height,
                format: PixelFormat::Mjpeg,
                data,
            })
        })();
        match result {
            Ok(f) => {
                self.last_seen = Instant::now();
                Ok(f)
            }
            Err(e) => Err(self.note(e)),
        }
    }

    fn control_param(&self, id: ControlId) -> Option<(&'static str, i64)> {
        self.offered
            .iter()
            .find(|(c, _, _)| *c == id)
            .map(|(_, p, d)| (*p, *d))
    }
}

fn read_params(
    endpoint: &Endpoint,
    groups: &str,
    deadline: Instant,
) -> Result<BTreeMap<String, String>, DeviceError> {
    let (head, mut body) = endpoint.get(
        &format!("axis-cgi/param.cgi?action=list&group={groups}"),
        deadline,
    )?;
    head.check("reading camera parameters")?;
    let body = read_body(&mut body, &head, MAX_PARAMS)?;
    Ok(parse_params(&String::from_utf8_lossy(&body)))
}

impl Drop for NetworkCamera {
    fn drop(&mut self) {
        if let Some(s) = self.stream.take() {
            s.shut();
        }
    }
}

impl Device for NetworkCamera {
    fn kind(&self) -> DeviceKind {
        self.kind
    }

    fn health(&self) -> Health {
        let mut h = self.health.clone();
        let slot = self.slot.lock();
        for (k, v) in &slot.counters {
            h.counters.insert(k.clone(), *v);
        }
        if self.stream.is_some()
            && let Some(e) = &slot.ended
            && e.kind == ErrorKind::Disconnected
        {
            h.set(
                HealthState::Offline,
                Some(ErrorKind::Disconnected.code()),
                "摄像头已断开连接",
                "camera disconnected",
            );
        }
        h
    }

    fn poll(&mut self, deadline: Instant) -> Vec<DeviceEvent> {
        if self.stream.is_none() && self.last_seen.elapsed() >= POLL_INTERVAL {
            match read_params(&self.endpoint, "Brand", deadline) {
                Ok(_) => self.last_seen = Instant::now(),
                Err(e) => {
                    tracing::debug!(url = %self.url, error = %e, "camera did not answer");
                    let _ = self.note(e);
                }
            }
        }
        Vec::new()
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_millis(500)
    }

    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        let (w, h) = self.resolutions.last().copied().unwrap_or((640, 480));
        let f = self.get_jpeg(w, h, deadline)?;
        tracing::debug!(width = f.width, height = f.height, "camera self-test still");
        self.health
            .set(HealthState::Ok, None, "摄像头正常", "camera OK");
        self.health.last_self_test = Some(SystemTime::now());
        Ok(self.health())
    }
}

impl Camera for NetworkCamera {
    fn modes(&self) -> Vec<VideoMode> {
        self.modes.clone()
    }

    fn start(&mut self, mode: VideoMode, deadline: Instant) -> Result<(), DeviceError> {
        if !self.resolutions.contains(&(mode.width, mode.height))
            || mode.fps == 0
            || mode.fps > MAX_FPS
        {
            return Err(DeviceError::new(
                ErrorKind::Unsupported,
                format!("camera offers no mode {mode}"),
            ));
        }
        if let Some(s) = self.stream.take() {
            s.shut();
        }
        self.mode = None;
        self.slot.reset();
        let path = format!(
            "axis-cgi/mjpg/video.cgi?resolution={}x{}&fps={}",
            mode.width, mode.height, mode.fps
        );
        let opened = (|| {
            let (head, mut reader) = self.endpoint.get(&path, deadline)?;
            head.check("starting the camera stream")?;
            let ct = head.header("content-type").unwrap_or("");
            let delimiter = boundary_of(ct).ok_or_else(|| {
                DeviceError::protocol(format!(
                    "stream came as {:?}, not multipart/x-mixed-replace with a boundary",
                    truncate(ct)
                ))
            })?;
            reader.get_mut().deadline = None;
            reader.get_ref().set_timeouts()?;
            let socket = reader
                .get_ref()
                .stream
                .try_clone()
                .map_err(|e| DeviceError::from_io(e, "camera socket"))?;
            Ok((reader, socket, delimiter))
        })();
        let (reader, socket, delimiter) = opened.map_err(|e| self.note(e))?;
        let parts = PartReader::new(&delimiter, max_jpeg_bytes(mode.width, mode.height));
        let stop = Arc::new(AtomicBool::new(false));
        let (slot, stop2) = (Arc::clone(&self.slot), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("camera-stream".into())
            .spawn(move || pump(reader, parts, &slot, &stop2))
            .map_err(|e| {
                DeviceError::new(ErrorKind::Busy, "cannot start the stream thread").with_source(e)
            })?;
        self.stream = Some(Stream {
            socket,
            stop,
            thread: Some(thread),
        });
        self.mode = Some(mode);
        self.last_mode = Some(mode);
        self.last_seen = Instant::now();
        Ok(())
    }

    fn next_frame(&mut self, deadline: Instant) -> Result<Frame, DeviceError> {
        if self.stream.is_none() {
            let mode = self
                .last_mode
                .or_else(|| closest_mode(&self.modes, PREVIEW))
                .ok_or_else(|| DeviceError::new(ErrorKind::Unsupported, "camera has no modes"))?;
            self.start(mode, deadline)?;
        }
        match self.slot.take(deadline) {
            Ok(f) => {
                self.last_seen = Instant::now();
                Ok(f)
            }
            Err(e) => {
                if e.kind() != ErrorKind::Timeout
                    && let Some(s) = self.stream.take()
                {
                    // The reader has ended; keep its reason for health.
                    s.shut();
                    self.mode = None;
                }
                Err(self.note(e))
            }
        }
    }

    fn stop(&mut self) -> Result<(), DeviceError> {
        if let Some(s) = self.stream.take() {
            s.shut();
        }
        self.mode = None;
        self.slot.reset();
        Ok(())
    }

    fn current_mode(&self) -> Option<VideoMode> {
        self.mode
    }

    fn info(&self) -> CameraInfo {
        self.info.clone()
    }

    fn controls(&mut self, deadline: Instant) -> Result<Vec<Control>, DeviceError> {
        if self.offered.is_empty() {
            return Ok(Vec::new());
        }
        let params = read_params(&self.endpoint, "ImageSource.I0.Sensor,Light", deadline)
            .map_err(|e| self.note(e))?;
        Ok(self
            .offered
            .iter()
            .filter_map(|&(id, param, default)| {
                let value = params.get(param)?.parse::<i64>().ok()?;
                Some(Control {
                    id,
                    name: param.to_string(),
                    min: 0,
                    max: 100,
                    step: 1,
                    default,
                    value,
                    auto: None,
                })
            })
            .collect())
    }

    fn set_control(
        &mut self,
        id: ControlId,
        value: ControlValue,
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        let Some((param, _)) = self.control_param(id) else {
            return Err(DeviceError::new(
                ErrorKind::Unsupported,
                format!("this camera has no {} control", id.as_str()),
            ));
        };
        let v = match value {
            ControlValue::Auto => {
                return Err(DeviceError::new(
                    ErrorKind::Unsupported,
                    format!("{} has no automatic mode on this camera", id.as_str()),
                ));
            }
            ControlValue::Manual(v) if (0..=100).contains(&v) => v,
            ControlValue::Manual(v) => {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("{} {v} is outside 0..=100", id.as_str()),
                ));
            }
        };
        let result = (|| {
            let (head, mut body) = self.endpoint.get(
                &format!("axis-cgi/param.cgi?action=update&{param}={v}"),
                deadline,
            )?;
            head.check("setting a camera control")?;
            let body = read_body(&mut body, &head, MAX_HEAD)?;
            let text = String::from_utf8_lossy(&body);
            if text.trim() == "OK" {
                Ok(())
            } else {
                Err(DeviceError::new(
                    ErrorKind::Unsupported,
                    format!("camera refused {param}={v}: {}", truncate(text.trim())),
                ))
            }
        })();
        result.map_err(|e| self.note(e))
    }
}

impl DocumentCamera for NetworkCamera {
    /// One JPEG at the sensor's size from `image.cgi`; a running preview
    /// keeps running (a network camera serves both at once). `paper` is
    /// not sent: the camera has no paper setting.
    fn capture_still(&mut self, paper: PaperSize, deadline: Instant) -> Result<Frame, DeviceError> {
        let (w, h) = self.info.sensor.unwrap_or((1920, 1080));
        tracing::debug!(paper = paper.as_str(), w, h, "document still");
        let f = self.get_jpeg(w, h, deadline)?;
        self.slot.lock().bump("stills");
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn endpoints_from_urls() {
        let e = Endpoint::parse("http://127.0.0.1:8091/").unwrap();
        assert_eq!(
            (e.hostport.as_str(), e.base.as_str()),
            ("127.0.0.1:8091", "/")
        );
        let e = Endpoint::parse("http://cam.local").unwrap();
        assert_eq!(
            (e.hostport.as_str(), e.base.as_str()),
            ("cam.local:80", "/")
        );
        let e = Endpoint::parse("http://[::1]:81/gw/cam1?x=1").unwrap();
        assert_eq!(
            (e.hostport.as_str(), e.base.as_str()),
            ("[::1]:81", "/gw/cam1/")
        );
        for bad in [
            "https://x/",
            "http://",
            "http://u:p@cam/",
            "http://cam:port/",
        ] {
            assert_eq!(
                Endpoint::parse(bad).unwrap_err().kind(),
                ErrorKind::Config,
                "{bad}"
            );
        }
    }

    #[test]
    fn parameters_resolutions_and_boundaries() {
        let p = parse_params(
            "root.Properties.Image.Resolution=4000x3000,1280x720,bogus,1920x1080\n\
             # Error: Error -1 getting param in group 'Light'\n\
             root.Brand.ProdFullName=AXIS M1065-L Network Camera\r\n",
        );
        assert_eq!(p["Brand.ProdFullName"], "AXIS M1065-L Network Camera");
        assert_eq!(p.len(), 2);
        assert_eq!(
            parse_resolutions(&p["Properties.Image.Resolution"]),
            [(4000, 3000), (1920, 1080), (1280, 720)]
        );
        assert_eq!(
            boundary_of("multipart/x-mixed-replace; boundary=myboundary").as_deref(),
            Some("--myboundary")
        );
        assert_eq!(
            boundary_of("Multipart/X-Mixed-Replace;boundary=\"--frame\"").as_deref(),
            Some("--frame")
        );
        assert_eq!(boundary_of("image/jpeg"), None);
        assert_eq!(boundary_of("multipart/x-mixed-replace"), None);
    }

    #[test]
    fn parts_with_and_without_length_and_limits() {
        let stream = b"preamble\r\n--b\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\n\r\nabc\r\n\
--b\r\nContent-Type: image/jpeg\r\n\r\nline1\nline2\r\n--b\r\nContent-Length: 1\r\n\r\nz\r\n--b--\r\n";
        let mut r = std::io::BufReader::new(&stream[..]);
        let mut p = PartReader::new("--b", 100);
        let body = |ct: &str, d: &[u8]| Part::Body {
            content_type: ct.into(),
            data: d.to_vec(),
        };
        assert_eq!(p.next(&mut r).unwrap(), body("image/jpeg", b"abc"));
        assert_eq!(p.next(&mut r).unwrap(), body("image/jpeg", b"line1\nline2"));
        assert_eq!(p.next(&mut r).unwrap(), body("", b"z"));
        assert_eq!(p.next(&mut r).unwrap(), Part::End);

        let huge = b"--b\r\nContent-Length: 2147483648\r\n\r\n";
        let mut r = std::io::BufReader::new(&huge[..]);
        let e = PartReader::new("--b", 1 << 20).next(&mut r).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.detail().contains("2147483648"), "{}", e.detail());

        let endless = [b"--b\r\n\r\n".as_slice(), &[b'x'; 300]].concat();
        let mut r = std::io::BufReader::new(&endless[..]);
        let e = PartReader::new("--b", 100).next(&mut r).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");

        let cut = b"--b\r\nContent-Length: 10\r\n\r\nabc";
        let mut r = std::io::BufReader::new(&cut[..]);
        let e = PartReader::new("--b", 100).next(&mut r).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Disconnected);
    }

    #[test]
    fn bodies_by_length_chunks_or_close_within_the_limit() {
        let head = |h: &[(&str, &str)]| Head {
            status: 200,
            headers: h
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        };
        let mut r = std::io::BufReader::new(&b"hello"[..]);
        assert_eq!(
            read_body(&mut r, &head(&[("content-length", "5")]), 10).unwrap(),
            b"hello"
        );
        let mut r = std::io::BufReader::new(&b"hello"[..]);
        let e = read_body(&mut r, &head(&[("content-length", "99999999999")]), 10).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        let mut r = std::io::BufReader::new(&b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n"[..]);
        assert_eq!(
            read_body(&mut r, &head(&[("transfer-encoding", "chunked")]), 10).unwrap(),
            b"abcde"
        );
        let mut r = std::io::BufReader::new(&[b'x'; 20][..]);
        assert_eq!(
            read_body(&mut r, &head(&[]), 10).unwrap_err().kind(),
            ErrorKind::Protocol
        );
        for (status, kind) in [
            (401, ErrorKind::PermissionDenied),
            (404, ErrorKind::Config),
            (400, ErrorKind::Unsupported),
            (503, ErrorKind::Busy),
            (500, ErrorKind::DeviceFault),
        ] {
            let h = Head {
                status,
                headers: Vec::new(),
            };
            let e = h.check("x").unwrap_err();
            assert_eq!((e.kind(), e.device_code()), (kind, Some(u32::from(status))));
        }
    }
}
