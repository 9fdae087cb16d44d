//! Simulated A4 printer speaking IPP/1.1 and 2.0 over HTTP on loopback
//! (RFC 8010 encoding in [`wire`], RFC 8011 operations here), written
//! from the printer's side with its own HTTP/1.1 server.
//!
//! Operations: Print-Job, Validate-Job, Cancel-Job, Get-Job-Attributes,
//! Get-Jobs, Get-Printer-Attributes. Documents (PDF) are kept in the jobs
//! directory as `job-N.pdf`. Jobs go pending → processing → completed, each
//! step after [`IppSim::set_job_time`]/2 (150 ms by default); while the
//! printer is stopped (paused, media empty, toner empty, cover open) a
//! pending job stays pending with `printer-stopped` and a processing one
//! becomes processing-stopped, and both go on when the printer is back.
//!
//! State a test or the control API sets:
//!
//! | setter | printer-state | printer-state-reasons |
//! | --- | --- | --- |
//! | `set_media_empty(true)` | stopped | `media-empty-error` |
//! | `set_toner_level(n)`, n ≤ 10 | — | `toner-low-warning` (marker-levels n) |
//! | `set_toner_level(0)` | stopped | `toner-empty-error` |
//! | `set_cover_open(true)` | stopped | `cover-open-error` |
//! | `set_stopped(true)` | stopped | `paused` |
//! | `set_accepting(false)` | — | printer-is-accepting-jobs false; Print-Job gets server-error-not-accepting-jobs |
//! | `set_unplugged(true)` | — | listener and connections closed: connection refused |
//!
//! The URI is `ipp://127.0.0.1:PORT/ipp/print`; any path is accepted, so
//! `/printers/NAME` works too.

pub mod wire;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, ErrorKind as IoKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::Serialize;

use wire::{Attr, Group, Message, Value, tag};

const TICK: Duration = Duration::from_millis(20);

/// Largest request body accepted (a document plus attributes).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Longest a connection may sit idle between requests.
const IDLE: Duration = Duration::from_secs(30);

/// Toner level at or below which the printer warns.
pub const TONER_LOW: u8 = 10;

/// Name of the simulated printer.
pub const PRINTER_NAME: &str = "KioskA4";

/// One received job.
#[derive(Debug, Clone, Serialize)]
pub struct SimJob {
    pub id: u32,
    /// `job-name` as sent.
    pub name: String,
    /// `requesting-user-name` as sent.
    pub user: String,
    /// `document-format` as sent.
    pub format: String,
    pub bytes: usize,
    /// Where the document was stored.
    pub path: Option<PathBuf>,
    /// `pending`, `processing`, `processing-stopped`, `canceled`,
    /// `completed`.
    pub state: String,
    /// Milliseconds since the Unix epoch.
    pub received_at: u64,
}

/// What the control API shows.
#[derive(Debug, Clone, Serialize)]
pub struct IppSimState {
    pub uri: String,
    pub printer_state: String,
    pub reasons: Vec<String>,
    pub accepting_jobs: bool,
    pub media_empty: bool,
    pub toner_level: u8,
    pub cover_open: bool,
    pub stopped: bool,
    pub unplugged: bool,
    pub jobs: usize,
    pub requests: u64,
}

struct Job {
    info: SimJob,
    state: i32,
    reasons: Vec<&'static str>,
    /// When the job last changed state.
    since: Instant,
    created: Instant,
    processing_at: Option<Instant>,
    completed_at: Option<Instant>,
}

struct State {
    media_empty: bool,
    toner_level: u8,
    cover_open: bool,
    stopped: bool,
    accepting: bool,
    unplugged: bool,
    plug_epoch: u64,
    job_time: Duration,
    jobs: Vec<Job>,
    next_id: u32,
    requests: u64,
}

impl State {
    fn halted(&self) -> bool {
        self.stopped || self.media_empty || self.cover_open || self.toner_level == 0
    }

    fn reasons(&self) -> Vec<&'static str> {
        let mut r = Vec::new();
        if self.stopped {
            r.push("paused");
        }
        if self.media_empty {
            r.push("media-empty-error");
        }
        if self.cover_open {
            r.push("cover-open-error");
        }
        if self.toner_level == 0 {
            r.push("toner-empty-error");
        } else if self.toner_level <= TONER_LOW {
            r.push("toner-low-warning");
        }
        if r.is_empty() {
            r.push("none");
        }
        r
    }

    fn printer_state(&self) -> i32 {
        if self.halted() {
            5
        } else if self.jobs.iter().any(|j| j.state == 5) {
            4
        } else {
            3
        }
    }

    /// Moves jobs along; returns whether anything changed.
    fn advance(&mut self) -> bool {
        let halted = self.halted();
        let step = self.job_time / 2;
        let mut changed = false;
        let mut busy = self.jobs.iter().any(|j| j.state == 5 || j.state == 6);
        for j in &mut self.jobs {
            let (state, reasons): (i32, Vec<&'static str>) = match (j.state, halted) {
                (3, true) => (3, vec!["printer-stopped"]),
                (3, false) if !busy && j.since.elapsed() >= step => {
                    busy = true;
                    (5, vec!["job-printing"])
                }
                (3, false) => (3, vec!["none"]),
                (5, true) => (6, vec!["printer-stopped"]),
                (6, false) => (5, vec!["job-printing"]),
                (5, false) if j.since.elapsed() >= step => (9, vec!["job-completed-successfully"]),
                (s, _) => (s, j.reasons.clone()),
            };
            if state != j.state {
                j.state = state;
                j.since = Instant::now();
                j.info.state = job_state_name(state).to_string();
                if state == 5 && j.processing_at.is_none() {
                    j.processing_at = Some(Instant::now());
                }
                if state >= 7 {
                    j.completed_at = Some(Instant::now());
                }
                changed = true;
            }
            if reasons != j.reasons {
                j.reasons = reasons;
                changed = true;
            }
        }
        changed
    }
}

fn job_state_name(s: i32) -> &'static str {
    match s {
        3 => "pending",
        4 => "pending-held",
        5 => "processing",
        6 => "processing-stopped",
        7 => "canceled",
        8 => "aborted",
        9 => "completed",
        _ => "unknown",
    }
}

struct Inner {
    addr: SocketAddr,
    dir: PathBuf,
    started: Instant,
    state: Mutex<State>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running simulated IPP printer; clones share it.
#[derive(Clone)]
pub struct IppSim {
    inner: Arc<Inner>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl IppSim {
    /// Listens on `addr` (port 0 picks a free one) and keeps documents in
    /// `dir`.
    pub fn start(addr: SocketAddr, dir: &Path) -> anyhow::Result<IppSim> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            addr,
            dir: dir.to_path_buf(),
            started: Instant::now(),
            state: Mutex::new(State {
                media_empty: false,
                toner_level: 80,
                cover_open: false,
                stopped: false,
                accepting: true,
                unplugged: false,
                plug_epoch: 0,
                job_time: Duration::from_millis(300),
                jobs: Vec::new(),
                next_id: 1,
                requests: 0,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let i2 = inner.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sim-ipp-{}", addr.port()))
            .spawn(move || accept_loop(i2, Some(listener)))?;
        Ok(IppSim {
            inner,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `ipp://127.0.0.1:PORT/ipp/print`.
    pub fn uri(&self) -> String {
        format!("ipp://{}/ipp/print", self.inner.addr)
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let mut s = self.inner.lock();
        f(&mut s);
        s.advance();
        drop(s);
        self.inner.changed.notify_all();
    }

    /// Paper tray empty (printer stops, `media-empty-error`) or refilled.
    pub fn set_media_empty(&self, empty: bool) {
        self.update(|s| s.media_empty = empty);
    }

    /// Toner level in percent (clamped to 100): ≤ 10 warns, 0 stops.
    pub fn set_toner_level(&self, level: u8) {
        self.update(|s| s.toner_level = level.min(100));
    }

    /// Cover open (printer stops) or closed.
    pub fn set_cover_open(&self, open: bool) {
        self.update(|s| s.cover_open = open);
    }

    /// Paused by an operator (jobs are held) or resumed.
    pub fn set_stopped(&self, stopped: bool) {
        self.update(|s| s.stopped = stopped);
    }

    /// Whether Print-Job is accepted at all.
    pub fn set_accepting(&self, accepting: bool) {
        self.update(|s| s.accepting = accepting);
    }

    /// How long a job takes from arrival to completed (two equal steps).
    pub fn set_job_time(&self, t: Duration) {
        self.update(|s| s.job_time = t);
    }

    /// Switches the printer off (connections refused) or on again.
    pub fn set_unplugged(&self, unplugged: bool) {
        self.update(|s| {
            if unplugged && !s.unplugged {
                s.plug_epoch += 1;
            }
            s.unplugged = unplugged;
        });
    }

    /// Every job received so far, oldest first.
    pub fn jobs(&self) -> Vec<SimJob> {
        self.inner
            .lock()
            .jobs
            .iter()
            .map(|j| j.info.clone())
            .collect()
    }

    /// Waits until at least `n` jobs arrived or `timeout` passes.
    pub fn wait_for_jobs(&self, n: usize, timeout: Duration) -> Vec<SimJob> {
        let end = Instant::now() + timeout;
        let mut s = self.inner.lock();
        while s.jobs.len() < n {
            let now = Instant::now();
            if now >= end {
                break;
            }
            s = match self.inner.changed.wait_timeout(s, end - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        s.jobs.iter().map(|j| j.info.clone()).collect()
    }

    /// Forgets received jobs (their files stay on disk).
    pub fn clear_jobs(&self) {
        self.inner.lock().jobs.clear();
    }

    /// The state for the control API.
    pub fn state(&self) -> IppSimState {
        let s = self.inner.lock();
        IppSimState {
            uri: self.uri(),
            printer_state: match s.printer_state() {
                3 => "idle",
                4 => "processing",
                _ => "stopped",
            }
            .into(),
            reasons: s.reasons().into_iter().map(str::to_string).collect(),
            accepting_jobs: s.accepting,
            media_empty: s.media_empty,
            toner_level: s.toner_level,
            cover_open: s.cover_open,
            stopped: s.stopped,
            unplugged: s.unplugged,
            jobs: s.jobs.len(),
            requests: s.requests,
        }
    }

    /// Stops serving and joins the thread.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.changed.notify_all();
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

fn accept_loop(inner: Arc<Inner>, mut listener: Option<TcpListener>) {
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !inner.stop.load(Ordering::SeqCst) {
        let unplugged = {
            let mut s = inner.lock();
            if s.advance() {
                inner.changed.notify_all();
            }
            s.unplugged
        };
        if unplugged {
            listener = None;
            std::thread::sleep(TICK);
            continue;
        }
        let Some(l) = crate::net::ensure_listening(&mut listener, inner.addr, "IPP") else {
            continue;
        };
        match l.accept() {
            Ok((stream, _peer)) => {
                let i2 = inner.clone();
                if let Ok(h) = std::thread::Builder::new()
                    .name("sim-ipp-conn".into())
                    .spawn(move || serve(&i2, stream))
                {
                    conns.push(h);
                }
                conns.retain(|h| !h.is_finished());
            }
            Err(e) if e.kind() == IoKind::WouldBlock => std::thread::sleep(TICK),
            Err(_) => std::thread::sleep(TICK),
        }
    }
    drop(listener);
    for h in conns {
        let _ = h.join();
    }
}

/// Reads from the socket in short slices so that stop and unplug are
/// noticed; gives up after [`IDLE`] without a byte.
struct ConnReader<'a> {
    inner: &'a Inner,
    stream: TcpStream,
    epoch: u64,
}

impl Read for ConnReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let start = Instant::now();
        loop {
            if self.inner.stop.load(Ordering::SeqCst) || self.inner.lock().plug_epoch != self.epoch
            {
                return Err(IoKind::ConnectionAborted.into());
            }
            match self.stream.read(buf) {
                Err(e) if matches!(e.kind(), IoKind::WouldBlock | IoKind::TimedOut) => {
                    if start.elapsed() > IDLE {
                        return Err(IoKind::TimedOut.into());
                    }
                }
                Err(e) if e.kind() == IoKind::Interrupted => {}
                other => return other,
            }
        }
    }
}

struct HttpRequest {
    method: String,
    close: bool,
    body: Vec<u8>,
}

fn read_line(r: &mut impl BufRead) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let n = r.by_ref().take(16 * 1024).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        return Err(std::io::Error::new(
            IoKind::InvalidData,
            "header line too long",
        ));
    }
    Ok(Some(String::from_utf8_lossy(&line).trim_end().to_string()))
}

fn bad(msg: &str) -> std::io::Error {
    std::io::Error::new(IoKind::InvalidData, msg.to_string())
}

/// Reads one HTTP/1.1 request (Content-Length or chunked body). Answers
/// `100 Continue` when asked. `None` when the peer closed between
/// requests.
fn read_request(
    r: &mut BufReader<ConnReader<'_>>,
    w: &mut TcpStream,
) -> std::io::Result<Option<HttpRequest>> {
    let Some(first) = read_line(r)? else {
        return Ok(None);
    };
    if first.is_empty() {
        return Ok(None);
    }
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let _path = parts
        .next()
        .ok_or_else(|| bad("request line lacks a path"))?;
    let version = parts.next().unwrap_or("HTTP/1.0");
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let line = read_line(r)?.ok_or_else(|| bad("headers cut off"))?;
        if line.is_empty() {
            break;
        }
        if headers.len() > 100 {
            return Err(bad("too many headers"));
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let close = version == "HTTP/1.0"
        || headers
            .get("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
    if headers
        .get("expect")
        .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
    {
        w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let mut body = Vec::new();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let size_line = read_line(r)?.ok_or_else(|| bad("chunk cut off"))?;
            let size_hex = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                // Trailers up to the empty line.
                while let Some(l) = read_line(r)? {
                    if l.is_empty() {
                        break;
                    }
                }
                break;
            }
            if body.len() + size > MAX_BODY {
                return Err(bad("body too large"));
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(body.get_mut(start..).unwrap_or_default())?;
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf)?;
        }
    } else if let Some(len) = headers.get("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        if len > MAX_BODY {
            return Err(bad("body too large"));
        }
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    }
    Ok(Some(HttpRequest {
        method,
        close,
        body,
    }))
}

fn respond(
    w: &mut TcpStream,
    status: &str,
    ctype: &str,
    body: &[u8],
    close: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nServer: kiosk-sim-ipp\r\n{}\r\n",
        body.len(),
        if close { "Connection: close\r\n" } else { "" }
    );
    w.write_all(head.as_bytes())?;
    w.write_all(body)?;
    w.flush()
}

fn serve(inner: &Inner, stream: TcpStream) {
    let epoch = inner.lock().plug_epoch;
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let _ = stream.set_nodelay(true);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(ConnReader {
        inner,
        stream,
        epoch,
    });
    loop {
        let req = match read_request(&mut reader, &mut writer) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                if e.kind() == IoKind::InvalidData {
                    let _ = respond(
                        &mut writer,
                        "400 Bad Request",
                        "text/plain",
                        b"bad request\n",
                        true,
                    );
                }
                return;
            }
        };
        if req.method != "POST" {
            let _ = respond(
                &mut writer,
                "405 Method Not Allowed",
                "text/plain",
                b"IPP needs POST\n",
                true,
            );
            return;
        }
        let answer = match wire::parse(&req.body) {
            Ok(m) => handle(inner, &m),
            Err(e) => {
                tracing::debug!(error = %e, "IPP sim got garbage");
                // Not an IPP message: answer client-error-bad-request with
                // whatever request-id there is.
                let id = req
                    .body
                    .get(4..8)
                    .and_then(|b| b.try_into().ok())
                    .map(u32::from_be_bytes)
                    .unwrap_or(0);
                response((1, 1), 0x0400, id, "malformed request")
            }
        };
        let bytes = wire::encode(&answer);
        if respond(&mut writer, "200 OK", "application/ipp", &bytes, req.close).is_err()
            || req.close
        {
            return;
        }
    }
}

fn response(version: (u8, u8), status: u16, request_id: u32, message: &str) -> Message {
    let mut op = Group::new(tag::OPERATION);
    op.push(Attr::new(
        "attributes-charset",
        Value::Str(tag::CHARSET, "utf-8".into()),
    ));
    op.push(Attr::new(
        "attributes-natural-language",
        Value::Str(tag::LANGUAGE, "en".into()),
    ));
    if !message.is_empty() {
        op.push(Attr::new("status-message", Value::text(message)));
    }
    Message {
        version,
        code: status,
        request_id,
        groups: vec![op],
        data: Vec::new(),
    }
}

const OPS: [i32; 6] = [0x0002, 0x0004, 0x0008, 0x0009, 0x000A, 0x000B];

fn handle(inner: &Inner, req: &Message) -> Message {
    inner.lock().requests += 1;
    let version = req.version;
    let id = req.request_id;
    if !(1..=2).contains(&version.0) {
        return response((1, 1), 0x0503, id, "version not supported");
    }
    // RFC 8011 4.1.1: request-id is 1..2^31-1.
    if id == 0 || id > i32::MAX as u32 {
        return response(version, 0x0400, id, "bad request-id");
    }
    // RFC 8011 4.1.4: the operation group comes first with the charset
    // then the natural language.
    let Some(op) = req.groups.first().filter(|g| g.tag == tag::OPERATION) else {
        return response(version, 0x0400, id, "no operation attributes");
    };
    let first = op.attrs.first().map(|a| a.name.as_str());
    let second = op.attrs.get(1).map(|a| a.name.as_str());
    if first != Some("attributes-charset") || second != Some("attributes-natural-language") {
        return response(
            version,
            0x0400,
            id,
            "attributes-charset and attributes-natural-language must come first",
        );
    }
    if op.get("printer-uri").is_none() && op.get("job-uri").is_none() {
        return response(version, 0x0400, id, "no printer-uri");
    }
    let mut resp = response(version, 0, id, "");
    let mut s = inner.lock();
    s.advance();
    match req.code {
        0x000B => get_printer_attributes(inner, &s, op, &mut resp),
        0x0004 => {
            if let Some(code) = check_document(&s, op, false) {
                resp.code = code;
            }
        }
        0x0002 => print_job(inner, &mut s, req, op, &mut resp),
        0x0009 => match find_job(op) {
            Some(jid) => match s.jobs.iter().find(|j| j.info.id == jid) {
                Some(j) => resp
                    .groups
                    .push(job_group(inner, j, requested(op).as_deref())),
                None => resp.code = 0x0406,
            },
            None => resp.code = 0x0400,
        },
        0x000A => {
            let which = op
                .get("which-jobs")
                .and_then(|a| a.values.first())
                .and_then(Value::as_str)
                .unwrap_or("not-completed")
                .to_string();
            let req_attrs = requested(op);
            let names = req_attrs
                .clone()
                .unwrap_or_else(|| vec!["job-id".into(), "job-uri".into()]);
            let my_jobs = matches!(
                op.get("my-jobs").and_then(|a| a.values.first()),
                Some(Value::Boolean(true))
            );
            let me = op
                .get("requesting-user-name")
                .and_then(|a| a.values.first())
                .and_then(Value::as_str)
                .unwrap_or_default();
            for j in &s.jobs {
                if my_jobs && j.info.user != me {
                    continue;
                }
                let done = j.state >= 7;
                let include = match which.as_str() {
                    "completed" => done,
                    "all" => true,
                    _ => !done,
                };
                if include {
                    resp.groups.push(job_group(inner, j, Some(&names)));
                }
            }
        }
        0x0008 => match find_job(op) {
            Some(jid) => match s.jobs.iter_mut().find(|j| j.info.id == jid) {
                Some(j) if j.state >= 7 => {
                    resp.code = 0x0404;
                    resp = with_message(resp, "job already finished");
                }
                Some(j) => {
                    j.state = 7;
                    j.reasons = vec!["job-canceled-by-user"];
                    j.info.state = "canceled".into();
                    j.since = Instant::now();
                    j.completed_at = Some(Instant::now());
                }
                None => resp.code = 0x0406,
            },
            None => resp.code = 0x0400,
        },
        _ => resp.code = 0x0501,
    }
    drop(s);
    inner.changed.notify_all();
    resp
}

fn with_message(mut m: Message, text: &str) -> Message {
    if let Some(g) = m.groups.first_mut() {
        g.push(Attr::new("status-message", Value::text(text)));
    }
    m
}

/// `job-id` of the operation group, or the number at the end of `job-uri`.
fn find_job(op: &Group) -> Option<u32> {
    if let Some(id) = op
        .get("job-id")
        .and_then(|a| a.values.first())
        .and_then(Value::as_int)
    {
        return u32::try_from(id).ok();
    }
    op.get("job-uri")
        .and_then(|a| a.values.first())
        .and_then(Value::as_str)
        .and_then(|u| u.rsplit('/').next())
        .and_then(|n| n.parse().ok())
}

fn requested(op: &Group) -> Option<Vec<String>> {
    op.get("requested-attributes").map(|a| {
        a.values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
}

fn check_document(s: &State, op: &Group, printing: bool) -> Option<u16> {
    let format = op
        .get("document-format")
        .and_then(|a| a.values.first())
        .and_then(Value::as_str)
        .unwrap_or("application/pdf");
    if !matches!(format, "application/pdf" | "application/octet-stream") {
        return Some(0x040A);
    }
    if printing && !s.accepting {
        return Some(0x0506);
    }
    None
}

fn print_job(inner: &Inner, s: &mut State, req: &Message, op: &Group, resp: &mut Message) {
    if let Some(code) = check_document(s, op, true) {
        resp.code = code;
        return;
    }
    let text = |name: &str| {
        op.get(name)
            .and_then(|a| a.values.first())
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let id = s.next_id;
    s.next_id += 1;
    let path = inner.dir.join(format!("job-{id}.pdf"));
    let path = match std::fs::write(&path, &req.data) {
        Ok(()) => Some(path),
        Err(e) => {
            tracing::warn!(error = %e, "IPP sim could not keep the document");
            None
        }
    };
    let received_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let format = op
        .get("document-format")
        .and_then(|a| a.values.first())
        .and_then(Value::as_str)
        .unwrap_or("application/pdf")
        .to_string();
    let job = Job {
        info: SimJob {
            id,
            name: text("job-name"),
            user: text("requesting-user-name"),
            format,
            bytes: req.data.len(),
            path,
            state: "pending".into(),
            received_at,
        },
        state: 3,
        reasons: vec!["none"],
        since: Instant::now(),
        created: Instant::now(),
        processing_at: None,
        completed_at: None,
    };
    s.jobs.push(job);
    s.advance();
    if let Some(j) = s.jobs.last() {
        resp.groups.push(job_group(
            inner,
            j,
            Some(&[
                "job-id".into(),
                "job-uri".into(),
                "job-state".into(),
                "job-state-reasons".into(),
            ]),
        ));
    }
}

fn printer_uri(inner: &Inner) -> String {
    format!("ipp://{}/ipp/print", inner.addr)
}

/// RFC 8011 5.3.14: times are the printer's up-time in seconds (from 1);
/// a time that has not come yet is `no-value`.
fn up_time(inner: &Inner, at: Option<Instant>) -> Value {
    match at {
        Some(t) => Value::Integer(
            i32::try_from(t.saturating_duration_since(inner.started).as_secs() + 1)
                .unwrap_or(i32::MAX),
        ),
        None => Value::OutOfBand(tag::NO_VALUE),
    }
}

fn job_group(inner: &Inner, j: &Job, names: Option<&[String]>) -> Group {
    let mut g = Group::new(tag::JOB);
    let all: Vec<Attr> = vec![
        Attr::new("job-id", Value::Integer(j.info.id as i32)),
        Attr::new(
            "job-uri",
            Value::uri(&format!("ipp://{}/jobs/{}", inner.addr, j.info.id)),
        ),
        Attr::new("job-printer-uri", Value::uri(&printer_uri(inner))),
        Attr::new("job-state", Value::Enum(j.state)),
        Attr::many(
            "job-state-reasons",
            j.reasons.iter().map(|r| Value::keyword(r)).collect(),
        ),
        Attr::new("job-name", Value::name(&j.info.name)),
        Attr::new("job-originating-user-name", Value::name(&j.info.user)),
        Attr::new("document-format", Value::mime(&j.info.format)),
        Attr::new(
            "job-k-octets",
            Value::Integer(j.info.bytes.div_ceil(1024) as i32),
        ),
        Attr::new("time-at-creation", up_time(inner, Some(j.created))),
        Attr::new("time-at-processing", up_time(inner, j.processing_at)),
        Attr::new("time-at-completed", up_time(inner, j.completed_at)),
        Attr::new("job-printer-up-time", up_time(inner, Some(Instant::now()))),
    ];
    for a in all {
        let wanted = match names {
            None => true,
            Some(n) => n
                .iter()
                .any(|x| x == &a.name || x == "all" || x == "job-description" || x == "job-status"),
        };
        if wanted {
            g.push(a);
        }
    }
    g
}

fn keywords(list: &[&str]) -> Vec<Value> {
    list.iter().map(|k| Value::keyword(k)).collect()
}

fn printer_attributes(inner: &Inner, s: &State) -> Vec<Attr> {
    let uri = printer_uri(inner);
    let up = i32::try_from(inner.started.elapsed().as_secs() + 1).unwrap_or(i32::MAX);
    let a4 = Value::Collection(vec![
        (
            "media-size".into(),
            vec![Value::Collection(vec![
                ("x-dimension".into(), vec![Value::Integer(21000)]),
                ("y-dimension".into(), vec![Value::Integer(29700)]),
            ])],
        ),
        ("media-source".into(), vec![Value::keyword("main")]),
    ]);
    let queued = s.jobs.iter().filter(|j| j.state < 7).count() as i32;
    vec![
        Attr::new("printer-uri-supported", Value::uri(&uri)),
        Attr::new("uri-authentication-supported", Value::keyword("none")),
        Attr::new("uri-security-supported", Value::keyword("none")),
        Attr::new("printer-name", Value::name(PRINTER_NAME)),
        Attr::new(
            "printer-info",
            Value::text("模拟A4打印机 Simulated A4 printer"),
        ),
        Attr::new("printer-location", Value::text("kiosk")),
        Attr::new(
            "printer-more-info",
            Value::uri(&format!("http://{}/", inner.addr)),
        ),
        Attr::new("printer-make-and-model", Value::text("Kiosk Sim A4 Laser")),
        Attr::new("printer-state", Value::Enum(s.printer_state())),
        Attr::many("printer-state-reasons", keywords(&s.reasons())),
        Attr::new(
            "printer-state-message",
            Value::text(if s.halted() { "stopped" } else { "ready" }),
        ),
        Attr::new("printer-is-accepting-jobs", Value::Boolean(s.accepting)),
        Attr::new("queued-job-count", Value::Integer(queued)),
        Attr::new("printer-up-time", Value::Integer(up)),
        Attr::many("ipp-versions-supported", keywords(&["1.1", "2.0"])),
        Attr::many(
            "operations-supported",
            OPS.iter().map(|o| Value::Enum(*o)).collect(),
        ),
        Attr::new(
            "charset-configured",
            Value::Str(tag::CHARSET, "utf-8".into()),
        ),
        Attr::new(
            "charset-supported",
            Value::Str(tag::CHARSET, "utf-8".into()),
        ),
        Attr::new(
            "natural-language-configured",
            Value::Str(tag::LANGUAGE, "en".into()),
        ),
        Attr::many(
            "generated-natural-language-supported",
            vec![
                Value::Str(tag::LANGUAGE, "en".into()),
                Value::Str(tag::LANGUAGE, "zh-cn".into()),
            ],
        ),
        Attr::new("document-format-default", Value::mime("application/pdf")),
        Attr::many(
            "document-format-supported",
            vec![
                Value::mime("application/pdf"),
                Value::mime("application/octet-stream"),
            ],
        ),
        Attr::new("compression-supported", Value::keyword("none")),
        Attr::new("pdl-override-supported", Value::keyword("not-attempted")),
        Attr::new("copies-default", Value::Integer(1)),
        Attr::new("copies-supported", Value::Range(1, 99)),
        Attr::new("sides-default", Value::keyword("one-sided")),
        Attr::many(
            "sides-supported",
            keywords(&["one-sided", "two-sided-long-edge", "two-sided-short-edge"]),
        ),
        Attr::new("color-supported", Value::Boolean(false)),
        Attr::new("finishings-default", Value::Enum(3)),
        Attr::new("finishings-supported", Value::Enum(3)),
        Attr::new("orientation-requested-default", Value::Enum(3)),
        Attr::many(
            "orientation-requested-supported",
            vec![Value::Enum(3), Value::Enum(4)],
        ),
        Attr::new("output-bin-default", Value::keyword("face-down")),
        Attr::new("output-bin-supported", Value::keyword("face-down")),
        Attr::new("print-quality-default", Value::Enum(4)),
        Attr::many(
            "print-quality-supported",
            vec![Value::Enum(3), Value::Enum(4), Value::Enum(5)],
        ),
        Attr::new("printer-resolution-default", Value::Resolution(600, 600, 3)),
        Attr::new(
            "printer-resolution-supported",
            Value::Resolution(600, 600, 3),
        ),
        Attr::new("pages-per-minute", Value::Integer(30)),
        Attr::new("media-default", Value::keyword("iso_a4_210x297mm")),
        Attr::new("media-supported", Value::keyword("iso_a4_210x297mm")),
        Attr::new("media-col-default", a4.clone()),
        Attr::new("media-col-ready", a4.clone()),
        Attr::new("media-col-database", a4),
        Attr::new("marker-names", Value::name("Black Toner")),
        Attr::new("marker-types", Value::keyword("toner")),
        Attr::new("marker-colors", Value::name("#000000")),
        Attr::new("marker-levels", Value::Integer(i32::from(s.toner_level))),
        Attr::new("marker-low-levels", Value::Integer(i32::from(TONER_LOW))),
        Attr::new("marker-high-levels", Value::Integer(100)),
    ]
}

/// Attributes in the RFC 8011 "job-template" group of a printer.
const JOB_TEMPLATE: [&str; 10] = [
    "copies-default",
    "copies-supported",
    "sides-default",
    "sides-supported",
    "media-default",
    "media-supported",
    "media-col-default",
    "media-col-ready",
    "media-col-database",
    "pdl-override-supported",
];

fn get_printer_attributes(inner: &Inner, s: &State, op: &Group, resp: &mut Message) {
    let wanted = requested(op);
    let mut g = Group::new(tag::PRINTER);
    for a in printer_attributes(inner, s) {
        let include = match &wanted {
            None => a.name != "media-col-database",
            Some(w) => w.iter().any(|x| {
                x == &a.name
                    || (x == "all" && a.name != "media-col-database")
                    || (x == "job-template" && JOB_TEMPLATE.contains(&a.name.as_str()))
                    || (x == "printer-description" && !JOB_TEMPLATE.contains(&a.name.as_str()))
            }),
        };
        if include {
            g.push(a);
        }
    }
    resp.groups.push(g);
}

/// A minimal valid one-page A4 PDF showing `text` in Helvetica (ASCII
/// only; other characters become `?`), for tests and demos.
pub fn sample_pdf(text: &str) -> Vec<u8> {
    let safe: String = text
        .chars()
        .map(|c| match c {
            '(' | ')' | '\\' => format!("\\{c}"),
            c if c.is_ascii() && !c.is_ascii_control() => c.to_string(),
            _ => "?".to_string(),
        })
        .collect();
    let content = format!("BT /F1 24 Tf 72 720 Td ({safe}) Tj ET\n");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}endstream", content.len()),
    ];
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn jobs_wait_while_stopped_and_go_on_after() {
        let mut s = State {
            media_empty: false,
            toner_level: 80,
            cover_open: false,
            stopped: true,
            accepting: true,
            unplugged: false,
            plug_epoch: 0,
            job_time: Duration::ZERO,
            jobs: Vec::new(),
            next_id: 1,
            requests: 0,
        };
        s.jobs.push(Job {
            info: SimJob {
                id: 1,
                name: String::new(),
                user: String::new(),
                format: String::new(),
                bytes: 0,
                path: None,
                state: "pending".into(),
                received_at: 0,
            },
            state: 3,
            reasons: vec![],
            since: Instant::now(),
            created: Instant::now(),
            processing_at: None,
            completed_at: None,
        });
        s.advance();
        assert_eq!(s.jobs[0].state, 3);
        assert_eq!(s.jobs[0].reasons, vec!["printer-stopped"]);
        assert_eq!(s.printer_state(), 5);
        s.stopped = false;
        s.advance();
        assert_eq!(s.jobs[0].state, 5);
        s.advance();
        assert_eq!(s.jobs[0].state, 9);
        assert_eq!(s.printer_state(), 3);
    }
}
