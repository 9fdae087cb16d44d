//! The remote view's HTTP/1.1 server: one std thread per connection (at most
//! [`MAX_CONNECTIONS`]), keep-alive, bounded request size, deadlines on every
//! read and write, and no panics on hostile input.

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Deserialize;
use slint::LogicalPosition;
use slint::platform::{Key, PointerEventButton, WindowEvent};

use super::{HEIGHT, Shared, WIDTH};

const MAX_CONNECTIONS: usize = 32;
const MAX_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 64;
const MAX_BODY: usize = 16 * 1024;
const MAX_REQUESTS_PER_CONNECTION: usize = 10_000;
/// An open connection without a request is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// A started request must arrive completely within this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait of `GET /frame/version?after=N`.
const LONG_POLL: Duration = Duration::from_secs(25);
const MAX_INPUT_MESSAGES: usize = 64;
const MAX_TEXT_CHARS: usize = 256;
const COOKIE: &str = "kiosk_remote_view";

const PAGE: &str = include_str!("page.html");

struct Server {
    shared: Arc<Shared>,
    token: Option<String>,
    connections: AtomicUsize,
}

/// Starts the accept thread.
pub(super) fn spawn(
    listener: TcpListener,
    shared: Arc<Shared>,
    token: Option<String>,
) -> anyhow::Result<()> {
    let server = Arc::new(Server {
        shared,
        token,
        connections: AtomicUsize::new(0),
    });
    thread::Builder::new()
        .name("remote-view".into())
        .spawn(move || server.accept_loop(&listener))
        .context("starting the remote view server thread")?;
    Ok(())
}

/// One connection slot, released on drop.
struct Slot(Arc<Server>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Server {
    fn accept_loop(self: Arc<Self>, listener: &TcpListener) {
        loop {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("remote view accept: {e}");
                    thread::sleep(Duration::from_millis(100));
                    continue;
                }
            };
            if self.connections.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                self.connections.fetch_sub(1, Ordering::AcqRel);
                let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
                let resp = Response::text(503, "busy\n").closing();
                let _ = resp.write_to(&mut &stream);
                continue;
            }
            let slot = Slot(self.clone());
            let spawned = thread::Builder::new()
                .name("remote-view-conn".into())
                .spawn(move || {
                    let slot = slot;
                    slot.0.serve(stream);
                });
            if let Err(e) = spawned {
                tracing::warn!("remote view connection thread: {e}");
            }
        }
    }

    fn serve(&self, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        if stream.set_write_timeout(Some(WRITE_TIMEOUT)).is_err() {
            return;
        }
        let mut buf = Vec::with_capacity(2048);
        for _ in 0..MAX_REQUESTS_PER_CONNECTION {
            match read_request(&mut stream, &mut buf) {
                Ok(None) => return,
                Ok(Some(req)) => {
                    let resp = self.handle(&req);
                    let keep = req.keep_alive && !resp.close;
                    let resp = if keep { resp } else { resp.closing() };
                    if resp.write_to(&mut stream).is_err() || !keep {
                        return;
                    }
                }
                Err(status) => {
                    let resp = Response::text(status, &format!("{}\n", reason(status))).closing();
                    let _ = resp.write_to(&mut stream);
                    linger(&mut stream);
                    return;
                }
            }
        }
    }

    fn handle(&self, req: &Request) -> Response {
        let resp = self.route(req);
        if resp.status >= 400 {
            tracing::debug!(status = resp.status, path = %req.path, "remote view request refused");
        }
        resp
    }

    fn route(&self, req: &Request) -> Response {
        const PATHS: [(&str, &str); 5] = [
            ("/", "GET"),
            ("/healthz", "GET"),
            ("/frame.png", "GET"),
            ("/frame/version", "GET"),
            ("/input", "POST"),
        ];
        if req.method != "GET" && req.method != "POST" {
            return Response::text(405, "only GET and POST\n").header("Allow", "GET, POST");
        }
        if self.token.is_none() && req.header("host").is_some_and(|h| !is_loopback_host(h)) {
            return Response::text(403, "loopback hosts only\n");
        }
        let mut set_cookie = None;
        if let Some(token) = &self.token {
            let by_query = req.query("token").is_some_and(|t| same(&t, token));
            let by_cookie = req.cookie(COOKIE).is_some_and(|t| same(&t, token));
            if !by_query && !by_cookie {
                return Response::text(401, "需要访问令牌 / token required\n");
            }
            if by_query && !by_cookie {
                set_cookie = Some(format!(
                    "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
                    percent_encode(token)
                ));
            }
        }
        let resp = match PATHS.iter().find(|(p, _)| *p == req.path) {
            None => Response::text(404, "not found\n"),
            Some((_, method)) if *method != req.method => {
                Response::text(405, "method not allowed\n").header("Allow", method)
            }
            Some((path, _)) => match *path {
                "/" => Response::new(200, "text/html; charset=utf-8", PAGE.as_bytes().to_vec())
                    .header("Content-Security-Policy", CSP),
                "/healthz" => Response::json(&format!(
                    "{{\"status\":\"ok\",\"frames\":{}}}\n",
                    lock_counter(&self.shared)
                )),
                "/frame.png" => self.frame_png(),
                "/frame/version" => self.frame_version(req),
                _ => self.input(req),
            },
        };
        match set_cookie {
            Some(c) => resp.header("Set-Cookie", &c),
            None => resp,
        }
    }

    fn frame_png(&self) -> Response {
        match self.shared.png() {
            Ok(Some((n, png))) => Response::new(200, "image/png", png.as_ref().clone())
                .header("X-Frame-Number", &n.to_string()),
            Ok(None) => Response::text(503, "no frame yet\n").header("Retry-After", "1"),
            Err(e) => {
                tracing::warn!("remote view PNG: {e:#}");
                Response::text(500, "encoding failed\n")
            }
        }
    }

    fn frame_version(&self, req: &Request) -> Response {
        let n = match req.query("after") {
            None => lock_counter(&self.shared),
            Some(after) => match after.parse::<u64>() {
                Ok(after) => self.shared.wait_frame(after, LONG_POLL),
                Err(_) => return Response::text(400, "after: not a number\n"),
            },
        };
        Response::new(
            200,
            "text/plain; charset=utf-8",
            format!("{n}\n").into_bytes(),
        )
    }

    fn input(&self, req: &Request) -> Response {
        let json = req.header("content-type").is_some_and(|c| {
            c.split(';')
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        });
        if !json {
            return Response::text(415, "Content-Type: application/json expected\n");
        }
        if let Some(origin) = req.header("origin") {
            let authority = origin.split_once("://").map(|(_, a)| a);
            let same_origin = authority
                .zip(req.header("host"))
                .is_some_and(|(a, h)| a.eq_ignore_ascii_case(h));
            if !same_origin {
                return Response::text(403, "cross-origin input refused\n");
            }
        }
        let events = match parse_input(&req.body) {
            Ok(events) => events,
            Err(msg) => return Response::text(400, &format!("{msg}\n")),
        };
        if !self.shared.post_input(events) {
            return Response::text(503, "input queue full\n").header("Retry-After", "1");
        }
        Response::new(204, "text/plain", Vec::new())
    }
}

const CSP: &str = "default-src 'none'; img-src 'self'; connect-src 'self'; \
    style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

fn lock_counter(shared: &Shared) -> u64 {
    super::lock(&shared.frame).counter
}

/// After an error answer: stop sending, read (and drop) what the client still
/// sends for a moment, so the close does not reset the connection before the
/// client has read the answer.
fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut sink = [0_u8; 4096];
    let mut total = 0_usize;
    while total < 1024 * 1024 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(n) => total += n,
        }
    }
}

// ---------------------------------------------------------------- requests

#[derive(Debug)]
pub(super) struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    keep_alive: bool,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn query(&self, name: &str) -> Option<String> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "cookie")
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(n, _)| *n == name)
            .map(|(_, v)| percent_decode(v, false))
    }
}

/// Reads one request. `Ok(None)`: the client closed or stayed idle; `Err(status)`: answer and close.
fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<Request>, u16> {
    // Tolerate the empty lines some clients send between requests.
    while buf.starts_with(b"\r\n") {
        buf.drain(..2);
    }
    let mut deadline = if buf.is_empty() {
        None
    } else {
        Some(Instant::now() + REQUEST_TIMEOUT)
    };
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(431);
        }
        match fill(stream, buf, deadline) {
            Fill::Data => {
                while buf.starts_with(b"\r\n") {
                    buf.drain(..2);
                }
                if deadline.is_none() && !buf.is_empty() {
                    deadline = Some(Instant::now() + REQUEST_TIMEOUT);
                }
            }
            Fill::Closed | Fill::TimedOut if buf.is_empty() => return Ok(None),
            Fill::Closed => return Err(400),
            Fill::TimedOut => return Err(408),
        }
    };
    if head_end > MAX_HEAD {
        return Err(431);
    }
    let head = buf.get(..head_end).ok_or(400_u16)?;
    let head = std::str::from_utf8(head).map_err(|_| 400_u16)?;
    let mut req = parse_head(head)?;

    let body_len = content_length(&req)?;
    let body_start = head_end + 4;
    let total = body_start.checked_add(body_len).ok_or(413_u16)?;
    let deadline = deadline.unwrap_or_else(|| Instant::now() + REQUEST_TIMEOUT);
    while buf.len() < total {
        match fill(stream, buf, Some(deadline)) {
            Fill::Data => {}
            Fill::Closed => return Err(400),
            Fill::TimedOut => return Err(408),
        }
    }
    req.body = buf.get(body_start..total).ok_or(400_u16)?.to_vec();
    buf.drain(..total);
    Ok(Some(req))
}

enum Fill {
    Data,
    Closed,
    TimedOut,
}

/// Reads more bytes into `buf`, waiting until `deadline` (or [`IDLE_TIMEOUT`] when `None`).
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, deadline: Option<Instant>) -> Fill {
    let left = match deadline {
        Some(d) => d.saturating_duration_since(Instant::now()),
        None => IDLE_TIMEOUT,
    };
    if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
        return Fill::TimedOut;
    }
    let mut chunk = [0_u8; 4096];
    loop {
        return match stream.read(&mut chunk) {
            Ok(0) => Fill::Closed,
            Ok(n) => {
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                Fill::Data
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                Fill::TimedOut
            }
            Err(_) => Fill::Closed,
        };
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses the request line and headers (without the final empty line).
pub(super) fn parse_head(head: &str) -> Result<Request, u16> {
    let mut lines = head.split("\r\n");
    let line = lines.next().ok_or(400_u16)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(400);
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(400);
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        v if v.starts_with("HTTP/") => return Err(505),
        _ => return Err(400),
    };
    if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(400);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect();

    let mut headers = Vec::new();
    for line in lines {
        if headers.len() >= MAX_HEADERS {
            return Err(431);
        }
        let (name, value) = line.split_once(':').ok_or(400_u16)?;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(400); // also refuses obsolete line folding
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let connection = headers
        .iter()
        .filter(|(n, _)| n == "connection")
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect::<Vec<_>>();
    let keep_alive = if http10 {
        connection.iter().any(|t| t == "keep-alive")
    } else {
        !connection.iter().any(|t| t == "close")
    };
    Ok(Request {
        method: method.to_string(),
        path: path.to_string(),
        query,
        headers,
        body: Vec::new(),
        keep_alive,
    })
}

fn content_length(req: &Request) -> Result<usize, u16> {
    if req.header("transfer-encoding").is_some() {
        return Err(411);
    }
    let mut len = None;
    for (_, v) in req.headers.iter().filter(|(n, _)| n == "content-length") {
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(400);
        }
        let n = v.parse::<usize>().map_err(|_| 413_u16)?;
        if len.is_some_and(|l| l != n) {
            return Err(400);
        }
        len = Some(n);
    }
    let len = len.unwrap_or(0);
    if len > MAX_BODY {
        return Err(413);
    }
    Ok(len)
}

// ---------------------------------------------------------------- responses

struct Response {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    close: bool,
}

impl Response {
    fn new(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body,
            close: false,
        }
    }

    fn text(status: u16, text: &str) -> Self {
        Self::new(
            status,
            "text/plain; charset=utf-8",
            text.as_bytes().to_vec(),
        )
    }

    fn json(text: &str) -> Self {
        Self::new(200, "application/json", text.as_bytes().to_vec())
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_string()));
        self
    }

    fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        let mut head = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!(
            "Content-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\
             Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\nConnection: {}\r\n\r\n",
            self.body.len(),
            if self.close { "close" } else { "keep-alive" }
        ));
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        w.write_all(&out)?;
        w.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

// ---------------------------------------------------------------- input

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Input {
    Down {
        x: f32,
        y: f32,
    },
    Move {
        x: f32,
        y: f32,
    },
    Up {
        x: f32,
        y: f32,
    },
    Leave,
    Wheel {
        x: f32,
        y: f32,
        #[serde(default)]
        dx: f32,
        #[serde(default)]
        dy: f32,
    },
    Text {
        text: String,
    },
    Key {
        key: String,
    },
}

/// Turns a `POST /input` body (one message or an array) into window events.
pub(super) fn parse_input(body: &[u8]) -> Result<Vec<WindowEvent>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let messages = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    if messages.is_empty() || messages.len() > MAX_INPUT_MESSAGES {
        return Err(format!("1 to {MAX_INPUT_MESSAGES} messages expected"));
    }
    let mut events = Vec::new();
    for message in messages {
        let input: Input =
            serde_json::from_value(message).map_err(|e| format!("invalid input: {e}"))?;
        to_events(input, &mut events)?;
    }
    Ok(events)
}

fn position(x: f32, y: f32) -> LogicalPosition {
    let clamp = |v: f32, max: u32| {
        if v.is_finite() {
            v.clamp(0.0, max as f32 - 1.0)
        } else {
            0.0
        }
    };
    LogicalPosition::new(clamp(x, WIDTH), clamp(y, HEIGHT))
}

fn to_events(input: Input, out: &mut Vec<WindowEvent>) -> Result<(), String> {
    let left = PointerEventButton::Left;
    match input {
        Input::Down { x, y } => {
            let position = position(x, y);
            out.push(WindowEvent::PointerMoved { position });
            out.push(WindowEvent::PointerPressed {
                position,
                button: left,
            });
        }
        Input::Move { x, y } => out.push(WindowEvent::PointerMoved {
            position: position(x, y),
        }),
        Input::Up { x, y } => {
            out.push(WindowEvent::PointerReleased {
                position: position(x, y),
                button: left,
            });
        }
        Input::Leave => out.push(WindowEvent::PointerExited),
        Input::Wheel { x, y, dx, dy } => {
            let d = |v: f32| {
                if v.is_finite() {
                    v.clamp(-10_000.0, 10_000.0)
                } else {
                    0.0
                }
            };
            out.push(WindowEvent::PointerScrolled {
                position: position(x, y),
                delta_x: d(dx),
                delta_y: d(dy),
            });
        }
        Input::Text { text } => {
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(format!("text longer than {MAX_TEXT_CHARS} characters"));
            }
            if text.chars().any(char::is_control) {
                return Err("control characters in text: send them as keys".into());
            }
            for c in text.chars() {
                let text: slint::SharedString = c.to_string().into();
                out.push(WindowEvent::KeyPressed { text: text.clone() });
                out.push(WindowEvent::KeyReleased { text });
            }
        }
        Input::Key { key } => {
            let code = named_key(&key).ok_or_else(|| format!("unknown key {key:?}"))?;
            let text: slint::SharedString = code.into();
            out.push(WindowEvent::KeyPressed { text: text.clone() });
            out.push(WindowEvent::KeyReleased { text });
        }
    }
    Ok(())
}

/// Browser `KeyboardEvent.key` names of the non-printing keys.
fn named_key(name: &str) -> Option<Key> {
    Some(match name {
        "Backspace" => Key::Backspace,
        "Tab" => Key::Tab,
        "Enter" => Key::Return,
        "Escape" => Key::Escape,
        "Delete" => Key::Delete,
        "ArrowUp" => Key::UpArrow,
        "ArrowDown" => Key::DownArrow,
        "ArrowLeft" => Key::LeftArrow,
        "ArrowRight" => Key::RightArrow,
        "Home" => Key::Home,
        "End" => Key::End,
        "PageUp" => Key::PageUp,
        "PageDown" => Key::PageDown,
        _ => return None,
    })
}

// ---------------------------------------------------------------- helpers

/// Whether a `Host` header names this machine's loopback interface.
fn is_loopback_host(host: &str) -> bool {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        },
    };
    name.eq_ignore_ascii_case("localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Constant-time comparison of a presented token with the configured one.
fn same(presented: &str, token: &str) -> bool {
    let (a, b) = (presented.as_bytes(), token.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (i, y) in b.iter().enumerate() {
        diff |= a.get(i).copied().unwrap_or(0) ^ y;
    }
    diff == 0
}

/// Decodes `%XX` escapes (and `+` as space in query strings); invalid escapes stay as they are.
fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
        match b {
            b'%' => match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b),
            },
            b'+' if plus_is_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes everything but unreserved characters as `%XX`.
pub(super) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    #[test]
    fn parses_a_request_head() {
        let req = parse_head(
            "GET /frame/version?after=12&token=a%20b+c HTTP/1.1\r\nHost: 127.0.0.1:8090\r\nCookie: x=1; kiosk_remote_view=s%3Bx",
        )
        .unwrap();
        assert_eq!(req.method, "GET");
        assert_eq!(req.path, "/frame/version");
        assert_eq!(req.query("after").as_deref(), Some("12"));
        assert_eq!(req.query("token").as_deref(), Some("a b c"));
        assert_eq!(req.cookie(COOKIE).as_deref(), Some("s;x"));
        assert_eq!(req.header("host"), Some("127.0.0.1:8090"));
        assert!(req.keep_alive);
    }

    #[test]
    fn refuses_malformed_heads() {
        for head in [
            "",
            "GET",
            "GET /",
            "GET / HTTP/1.1 extra",
            "get / HTTP/1.1",
            "GET http://x/ HTTP/1.1",
            "GET / FTP/1.0",
            "GET / HTTP/1.1\r\nno colon",
            "GET / HTTP/1.1\r\n folded: x",
            "\u{0}\u{1}garbage",
        ] {
            assert!(parse_head(head).is_err(), "{head:?}");
        }
        assert_eq!(parse_head("GET / HTTP/2.0").unwrap_err(), 505);
        let many = format!("GET / HTTP/1.1{}", "\r\nx: y".repeat(MAX_HEADERS + 1));
        assert_eq!(parse_head(&many).unwrap_err(), 431);
        let close = parse_head("GET / HTTP/1.1\r\nConnection: close").unwrap();
        assert!(!close.keep_alive);
        assert!(!parse_head("GET / HTTP/1.0").unwrap().keep_alive);
    }

    #[test]
    fn content_length_rules() {
        let len =
            |h: &str| content_length(&parse_head(&format!("POST /input HTTP/1.1{h}")).unwrap());
        assert_eq!(len(""), Ok(0));
        assert_eq!(len("\r\nContent-Length: 12"), Ok(12));
        assert_eq!(len("\r\nContent-Length: 99999999"), Err(413));
        assert_eq!(
            len("\r\nContent-Length: 999999999999999999999999"),
            Err(413)
        );
        assert_eq!(len("\r\nContent-Length: -1"), Err(400));
        assert_eq!(len("\r\nContent-Length: 1\r\nContent-Length: 2"), Err(400));
        assert_eq!(len("\r\nTransfer-Encoding: chunked"), Err(411));
    }

    #[test]
    fn input_messages_become_window_events() {
        let events = parse_input(br#"{"type":"down","x":960,"y":5000}"#).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(
            events[1],
            WindowEvent::PointerPressed {
                position: LogicalPosition::new(960.0, 1079.0),
                button: PointerEventButton::Left
            }
        );
        let events = parse_input(
            r#"[{"type":"text","text":"你好"},{"type":"key","key":"Backspace"}]"#.as_bytes(),
        )
        .unwrap();
        assert_eq!(events.len(), 6);
        assert_eq!(events[0], WindowEvent::KeyPressed { text: "你".into() });
        assert_eq!(
            events[4],
            WindowEvent::KeyPressed {
                text: Key::Backspace.into()
            }
        );
        for bad in [
            &b"not json"[..],
            br#"{"type":"explode"}"#,
            br#"{"type":"down","x":"a","y":1}"#,
            br#"{"type":"text","text":"a\u0008"}"#,
            br#"{"type":"key","key":"F13"}"#,
            b"[]",
        ] {
            assert!(
                parse_input(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn hosts_tokens_and_escapes() {
        assert!(is_loopback_host("127.0.0.1:8090"));
        assert!(is_loopback_host("localhost"));
        assert!(is_loopback_host("[::1]:80"));
        assert!(!is_loopback_host("evil.example:8090"));
        assert!(!is_loopback_host("10.0.0.1"));
        assert!(same("s3cret", "s3cret"));
        assert!(!same("s3cre", "s3cret"));
        assert!(!same("s3cret!", "s3cret"));
        assert!(!same("", "s3cret"));
        assert_eq!(percent_encode("a b;c~"), "a%20b%3Bc~");
        assert_eq!(percent_decode(&percent_encode("令牌 x"), false), "令牌 x");
        assert_eq!(percent_decode("%zz%4", true), "%zz%4");
    }
}
