//! Simulated ESC/POS receipt printer on TCP (a network printer's raw port,
//! 9100 by default).
//!
//! The simulator parses what it receives ([`escpos`]), answers real-time
//! status requests from its state, and keeps every job as text, QR
//! payloads, barcodes and a PNG of the paper ([`render`]).
//!
//! Status bytes (`DLE EOT n`), bits as in the ESC/POS reference; bits 1
//! and 4 are always set:
//!
//! | n | meaning | healthy | fault |
//! | --- | --- | --- | --- |
//! | 1 | printer | `0x12` | `0x1A` offline (cover open or paper out) |
//! | 2 | offline cause | `0x12` | `0x16` cover open, `0x32` stopped by paper end |
//! | 3 | error cause | `0x12` | — |
//! | 4 | roll paper sensor | `0x12` | `0x1E` near end, `0x72` out |
//!
//! Jobs: a job starts with the first thing that would put ink or paper out
//! and ends with a cut (complete) or when the connection closes (not
//! complete). While the paper is out or the cover open, print data is
//! discarded as a real printer's full buffer would lose it; an open job is
//! then closed as not complete.
//!
//! "Unplugged" closes the listening socket and every connection, so a
//! driver sees connection refused, exactly as with a printer switched off.
//!
//! Serial mode ([`PrinterSim::start_serial`]) serves the same printer on a
//! pseudo-terminal under a stable symlink; unplugging hangs the terminal
//! up and removes the link, replugging makes a new one.
//!
//! Paper running out mid-job: [`PrinterSim::set_paper_runs_out_after`]
//! lets `n` more lines print; the next thing to print finds the paper out,
//! the job is recorded `complete: false` with what got printed, the rest
//! is discarded and the status says paper out until paper is loaded
//! ([`PrinterSim::set_paper`] `Ok`).
//!
//! 1D barcodes are drawn as bars from the bytes received ([`symbols`]),
//! so a decoder reading the PNG checks what the host sent.

pub mod escpos;
pub mod render;
pub mod symbols;

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use escpos::{Action, Parser, Style};
use render::Item;

/// Paper width of the simulated head (80 mm at 203 dpi).
pub const PAPER_DOTS: u32 = 576;
/// Paper width of a 58 mm head at 203 dpi.
pub const PAPER_DOTS_58: u32 = 384;

/// How long the serving threads sleep between looks at the state.
const TICK: Duration = Duration::from_millis(20);

/// Paper sensor state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimPaper {
    Ok,
    NearEnd,
    Out,
}

/// One received job.
#[derive(Debug, Clone, Serialize)]
pub struct PrintJob {
    /// Number of the job on this printer, from 1.
    pub id: u64,
    /// The text lines, decoded from GB18030, joined with `\n`.
    pub text: String,
    /// Payloads of the QR codes printed, in order.
    pub qr_codes: Vec<String>,
    /// 1D barcodes as `KIND:data`.
    pub barcodes: Vec<String>,
    /// Whether the job ended with a cut.
    pub cut: bool,
    /// Whether the job ended normally (cut), not by a closed connection
    /// or paper running out.
    pub complete: bool,
    /// Bytes received for the job.
    pub bytes: usize,
    /// The rendering, if it could be written.
    pub png: Option<PathBuf>,
    /// When the job ended, milliseconds since the Unix epoch.
    pub received_at: u64,
}

/// What the control API shows.
#[derive(Debug, Clone, Serialize)]
pub struct PrinterState {
    pub address: String,
    pub paper: SimPaper,
    pub cover_open: bool,
    pub unplugged: bool,
    pub jobs: usize,
    pub discarded_bytes: u64,
    pub status_requests: u64,
    /// Printable width in dots (576 for 80 mm, 384 for 58 mm).
    pub paper_dots: u32,
    /// Lines left before the paper runs out, when armed.
    pub paper_runs_out_after: Option<u32>,
}

struct State {
    paper_dots: u32,
    runs_out_after: Option<u32>,
    paper: SimPaper,
    cover_open: bool,
    unplugged: bool,
    jobs: Vec<PrintJob>,
    next_id: u64,
    discarded_bytes: u64,
    status_requests: u64,
    /// Bumped at every unplug so connection threads notice.
    plug_epoch: u64,
}

struct Inner {
    addr: SocketAddr,
    /// The stable path in serial mode.
    link: Option<PathBuf>,
    jobs_dir: PathBuf,
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

/// A running simulated printer; clones share it.
#[derive(Clone)]
pub struct PrinterSim {
    inner: Arc<Inner>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl PrinterSim {
    /// Listens on `addr` (port 0 picks a free one) and keeps job PNGs in
    /// `jobs_dir`.
    pub fn start(addr: SocketAddr, jobs_dir: &Path) -> anyhow::Result<PrinterSim> {
        std::fs::create_dir_all(jobs_dir)
            .with_context(|| format!("creating {}", jobs_dir.display()))?;
        let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            addr,
            link: None,
            jobs_dir: jobs_dir.to_path_buf(),
            state: Mutex::new(State {
                paper_dots: PAPER_DOTS,
                runs_out_after: None,
                paper: SimPaper::Ok,
                cover_open: false,
                unplugged: false,
                jobs: Vec::new(),
                next_id: 1,
                discarded_bytes: 0,
                status_requests: 0,
                plug_epoch: 0,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let i2 = inner.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sim-printer-{}", addr.port()))
            .spawn(move || accept_loop(i2, Some(listener)))?;
        Ok(PrinterSim {
            inner,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// Serves the printer on a pseudo-terminal reachable as `dir/name`
    /// (a symlink to the current `/dev/pts/N`); jobs are kept in
    /// `dir/name-jobs`. [`PrinterSim::addr`] is `0.0.0.0:0` in this mode.
    pub fn start_serial(dir: &Path, name: &str) -> anyhow::Result<PrinterSim> {
        let jobs_dir = dir.join(format!("{name}-jobs"));
        std::fs::create_dir_all(&jobs_dir)
            .with_context(|| format!("creating {}", jobs_dir.display()))?;
        let pty = crate::pty::LinkedPty::open(dir, name)
            .with_context(|| format!("opening a pseudo-terminal at {}", dir.display()))?;
        let inner = Arc::new(Inner {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            link: Some(pty.link_path().to_path_buf()),
            jobs_dir,
            state: Mutex::new(State {
                paper_dots: PAPER_DOTS,
                runs_out_after: None,
                paper: SimPaper::Ok,
                cover_open: false,
                unplugged: false,
                jobs: Vec::new(),
                next_id: 1,
                discarded_bytes: 0,
                status_requests: 0,
                plug_epoch: 0,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let i2 = inner.clone();
        let thread = std::thread::Builder::new()
            .name(format!("sim-printer-{name}"))
            .spawn(move || serve_pty(i2, pty))?;
        Ok(PrinterSim {
            inner,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// The address it listens on (`0.0.0.0:0` in serial mode).
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The stable serial path in serial mode.
    pub fn path(&self) -> Option<PathBuf> {
        self.inner.link.clone()
    }

    /// The selector a driver opens: `tcp:ADDR` or `serial:PATH`.
    pub fn selector(&self) -> String {
        match &self.inner.link {
            Some(p) => format!("serial:{}", p.display()),
            None => format!("tcp:{}", self.inner.addr),
        }
    }

    /// Paper width in millimetres, 80 (576 dots) or 58 (384 dots); other
    /// values keep the width. Jobs are rendered and wrapped at it.
    pub fn set_paper_width_mm(&self, mm: u32) {
        let dots = match mm {
            58 => PAPER_DOTS_58,
            80 => PAPER_DOTS,
            _ => return,
        };
        self.inner.lock().paper_dots = dots;
    }

    /// Lets `lines` more text lines print, then the paper runs out (the
    /// job in progress ends incomplete); `None` disarms.
    pub fn set_paper_runs_out_after(&self, lines: Option<u32>) {
        self.inner.lock().runs_out_after = lines;
        self.inner.changed.notify_all();
    }

    /// Sets the paper sensor.
    pub fn set_paper(&self, paper: SimPaper) {
        self.inner.lock().paper = paper;
        self.inner.changed.notify_all();
    }

    /// Opens or closes the cover.
    pub fn set_cover_open(&self, open: bool) {
        self.inner.lock().cover_open = open;
        self.inner.changed.notify_all();
    }

    /// Switches the printer off (connections refused) or on again.
    pub fn set_unplugged(&self, unplugged: bool) {
        let mut s = self.inner.lock();
        if unplugged && !s.unplugged {
            s.plug_epoch += 1;
        }
        s.unplugged = unplugged;
        drop(s);
        self.inner.changed.notify_all();
    }

    /// Every job received so far.
    pub fn jobs(&self) -> Vec<PrintJob> {
        self.inner.lock().jobs.clone()
    }

    /// Waits until at least `n` jobs are there or `timeout` passes, and
    /// returns the jobs there are.
    pub fn wait_for_jobs(&self, n: usize, timeout: Duration) -> Vec<PrintJob> {
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
        s.jobs.clone()
    }

    /// Forgets received jobs (their PNGs stay on disk).
    pub fn clear_jobs(&self) {
        self.inner.lock().jobs.clear();
    }

    /// The state for the control API.
    pub fn state(&self) -> PrinterState {
        let s = self.inner.lock();
        PrinterState {
            address: match &self.inner.link {
                Some(p) => p.display().to_string(),
                None => self.inner.addr.to_string(),
            },
            paper: s.paper,
            cover_open: s.cover_open,
            unplugged: s.unplugged,
            jobs: s.jobs.len(),
            discarded_bytes: s.discarded_bytes,
            status_requests: s.status_requests,
            paper_dots: s.paper_dots,
            paper_runs_out_after: s.runs_out_after,
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
        let unplugged = inner.lock().unplugged;
        if unplugged {
            listener = None;
            std::thread::sleep(TICK);
            continue;
        }
        let Some(l) = crate::net::ensure_listening(&mut listener, inner.addr, "printer") else {
            continue;
        };
        match l.accept() {
            Ok((stream, peer)) => {
                tracing::debug!(%peer, "printer connection");
                let i2 = inner.clone();
                if let Ok(h) = std::thread::Builder::new()
                    .name("sim-printer-conn".into())
                    .spawn(move || serve(i2, stream))
                {
                    conns.push(h);
                }
                conns.retain(|h| !h.is_finished());
            }
            Err(e) if e.kind() == IoKind::WouldBlock => std::thread::sleep(TICK),
            Err(e) => {
                tracing::debug!(error = %e, "accept failed");
                std::thread::sleep(TICK);
            }
        }
    }
    drop(listener);
    for h in conns {
        let _ = h.join();
    }
}

/// A job being received.
#[derive(Default)]
struct Open {
    lines: Vec<String>,
    items: Vec<Item>,
    qr_codes: Vec<String>,
    barcodes: Vec<String>,
    bytes: usize,
}

/// One connection: parser, current line and open job.
struct Session {
    parser: Parser,
    line: Vec<u8>,
    line_style: Option<Style>,
    job: Option<Open>,
    /// Lines printed, for the paper running out after some.
    printed_lines: u32,
}

impl Session {
    fn new() -> Session {
        Session {
            parser: Parser::new(),
            line: Vec::new(),
            line_style: None,
            job: None,
            printed_lines: 0,
        }
    }
}

fn decode(bytes: &[u8]) -> String {
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    encoding_rs::GB18030
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

impl Session {
    fn job(&mut self) -> &mut Open {
        self.job.get_or_insert_with(Open::default)
    }

    fn flush_line(&mut self) {
        let style = self.line_style.take().unwrap_or_default();
        let text = encoding_rs::GB18030
            .decode_without_bom_handling(&self.line)
            .0
            .into_owned();
        self.line.clear();
        let job = self.job();
        job.lines.push(text.clone());
        job.items.push(Item::Line { text, style });
        self.printed_lines += 1;
    }

    /// Applies one action; returns bytes to send back.
    fn apply(&mut self, inner: &Inner, action: Action) -> (Option<Vec<u8>>, Option<PrintJob>) {
        let mut finished = None;
        let prints = matches!(
            action,
            Action::Text(..)
                | Action::LineFeed
                | Action::FeedDots(_)
                | Action::FeedLines(_)
                | Action::PrintQr { .. }
                | Action::Barcode { .. }
                | Action::Raster { .. }
                | Action::Cut { .. }
        );
        let ready = {
            let mut s = inner.lock();
            // Lines printed since the last look use up the armed paper.
            if let Some(left) = s.runs_out_after.as_mut() {
                *left = left.saturating_sub(self.printed_lines);
            }
            self.printed_lines = 0;
            if prints && s.runs_out_after == Some(0) {
                s.runs_out_after = None;
                s.paper = SimPaper::Out;
                tracing::info!("paper ran out mid-job");
            }
            s.paper != SimPaper::Out && !s.cover_open
        };
        if prints && !ready {
            if let Action::Text(t, _) = &action {
                inner.lock().discarded_bytes += t.len() as u64;
            }
            self.line.clear();
            if self.job.is_some() {
                finished = self.finish(inner, false, false);
            }
            return (None, finished);
        }
        let reply = match action {
            Action::Text(t, style) => {
                if self.line.is_empty() {
                    self.line_style = Some(style);
                }
                self.line.extend_from_slice(&t);
                self.job();
                None
            }
            Action::LineFeed => {
                self.flush_line();
                None
            }
            Action::FeedLines(n) => {
                // ESC d n prints the buffer and feeds n lines; printing a
                // line is itself the first of them.
                let mut lines = u32::from(n);
                if !self.line.is_empty() {
                    self.flush_line();
                    lines = lines.saturating_sub(1);
                }
                if lines > 0 {
                    self.job().items.push(Item::Space(lines * 30));
                }
                None
            }
            Action::FeedDots(d) => {
                self.job().items.push(Item::Space(d));
                None
            }
            Action::PrintQr {
                data,
                module,
                level,
                justify,
            } => {
                let job = self.job();
                job.qr_codes.push(decode(&data));
                job.items.push(Item::Qr {
                    data,
                    module,
                    level,
                    justify,
                });
                None
            }
            Action::Barcode {
                kind,
                data,
                raw,
                height,
                module,
                justify,
            } => {
                let text = decode(&data);
                let job = self.job();
                job.barcodes.push(format!("{kind}:{text}"));
                job.items.push(Item::Barcode {
                    kind,
                    data: text,
                    raw,
                    height,
                    module,
                    justify,
                });
                None
            }
            Action::Raster {
                width_bytes,
                height,
                bits,
                justify,
            } => {
                self.job().items.push(Item::Raster {
                    width_bytes,
                    height,
                    bits,
                    justify,
                });
                None
            }
            Action::Cut { partial } => {
                if !self.line.is_empty() {
                    self.flush_line();
                }
                if self.job.is_some() {
                    self.job().items.push(Item::Cut { partial });
                    finished = self.finish(inner, true, true);
                }
                None
            }
            Action::Init | Action::Style => None,
            Action::StatusRequest(n) => Some(vec![status_byte(inner, n)]),
            Action::TransmitStatus(n) => Some(vec![transmit_status(inner, n)]),
            Action::PrinterId(n) => Some(printer_id(n)),
        };
        (reply, finished)
    }

    fn finish(&mut self, inner: &Inner, cut: bool, complete: bool) -> Option<PrintJob> {
        if !self.line.is_empty() {
            self.flush_line();
        }
        let open = self.job.take()?;
        let id = {
            let mut s = inner.lock();
            let id = s.next_id;
            s.next_id += 1;
            id
        };
        let dots = inner.lock().paper_dots;
        let img = render::render(&open.items, dots);
        let path = inner.jobs_dir.join(format!("job-{id:04}.png"));
        let png = match img.save(&path) {
            Ok(()) => Some(path),
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "could not write job rendering");
                None
            }
        };
        let received_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Some(PrintJob {
            id,
            text: open.lines.join("\n"),
            qr_codes: open.qr_codes,
            barcodes: open.barcodes,
            cut,
            complete,
            bytes: open.bytes,
            png,
            received_at,
        })
    }
}

fn status_byte(inner: &Inner, n: u8) -> u8 {
    let mut s = inner.lock();
    s.status_requests += 1;
    let out = s.paper == SimPaper::Out;
    match n {
        1 if out || s.cover_open => 0x1A,
        1 => 0x12,
        2 => {
            let mut b = 0x12;
            if s.cover_open {
                b |= 0x04;
            }
            if out {
                b |= 0x20;
            }
            b
        }
        3 => 0x12,
        4 => match s.paper {
            SimPaper::Ok => 0x12,
            SimPaper::NearEnd => 0x1E,
            SimPaper::Out => 0x72,
        },
        _ => 0x12,
    }
}

/// GS r 1: paper sensor status (bits 0-1 near end, 2-3 end).
fn transmit_status(inner: &Inner, n: u8) -> u8 {
    let s = inner.lock();
    match n {
        1 | 49 => match s.paper {
            SimPaper::Ok => 0x00,
            SimPaper::NearEnd => 0x03,
            SimPaper::Out => 0x0F,
        },
        _ => 0x00,
    }
}

/// GS I n: model (1), type (2, multi-byte characters supported), firmware.
fn printer_id(n: u8) -> Vec<u8> {
    match n {
        1 | 49 => vec![0x20],
        2 | 50 => vec![0x03],
        3 | 51 => vec![0x10],
        65 => b"_SIM-1.0\0".to_vec(),
        66 => b"_KIOSK-SIM\0".to_vec(),
        67 => b"_SIM-80\0".to_vec(),
        _ => b"_\0".to_vec(),
    }
}

/// Feeds received bytes through the session; returns the bytes to send
/// back and records finished jobs.
fn process(inner: &Inner, session: &mut Session, chunk: &[u8]) -> Vec<u8> {
    let n = chunk.len();
    let actions = session.parser.push(chunk);
    if let Some(job) = session.job.as_mut() {
        job.bytes += n;
    }
    let mut counted = session.job.is_some();
    let mut replies = Vec::new();
    for action in actions {
        let (reply, finished) = session.apply(inner, action);
        if !counted && let Some(job) = session.job.as_mut() {
            job.bytes += n;
            counted = true;
        }
        if let Some(bytes) = reply {
            replies.extend_from_slice(&bytes);
        }
        if let Some(job) = finished {
            tracing::info!(
                id = job.id,
                bytes = job.bytes,
                complete = job.complete,
                "print job received"
            );
            inner.lock().jobs.push(job);
            inner.changed.notify_all();
            counted = false;
        }
    }
    replies
}

/// The link closed: whatever was open ends here, not complete.
fn close_session(inner: &Inner, session: &mut Session) {
    if let Some(job) = session.finish(inner, false, false) {
        tracing::info!(
            id = job.id,
            bytes = job.bytes,
            "print job ended by closed connection"
        );
        inner.lock().jobs.push(job);
        inner.changed.notify_all();
    }
}

fn serve(inner: Arc<Inner>, mut stream: TcpStream) {
    let epoch = inner.lock().plug_epoch;
    let _ = stream.set_read_timeout(Some(TICK * 2));
    let _ = stream.set_nodelay(true);
    let mut session = Session::new();
    let mut buf = [0u8; 4096];
    loop {
        if inner.stop.load(Ordering::SeqCst) {
            break;
        }
        {
            let s = inner.lock();
            if s.unplugged || s.plug_epoch != epoch {
                drop(s);
                let _ = stream.shutdown(Shutdown::Both);
                // The job being received is lost with the power.
                session.job = None;
                return;
            }
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    IoKind::WouldBlock | IoKind::TimedOut | IoKind::Interrupted
                ) =>
            {
                continue;
            }
            Err(_) => break,
        };
        let replies = process(&inner, &mut session, buf.get(..n).unwrap_or_default());
        if !replies.is_empty() && stream.write_all(&replies).is_err() {
            break;
        }
    }
    close_session(&inner, &mut session);
}

/// Serial mode: one session on the pseudo-terminal, reset at every
/// replug.
fn serve_pty(inner: Arc<Inner>, mut pty: crate::pty::LinkedPty) {
    let mut session = Session::new();
    let mut buf = [0u8; 4096];
    while !inner.stop.load(Ordering::SeqCst) {
        let unplugged = inner.lock().unplugged;
        if unplugged {
            if !pty.is_unplugged() {
                pty.unplug();
                // The job being received is lost with the power.
                session = Session::new();
            }
            std::thread::sleep(TICK);
            continue;
        }
        if pty.is_unplugged() {
            if let Err(e) = pty.replug() {
                tracing::warn!(error = %e, "printer pseudo-terminal replug failed; retrying");
                std::thread::sleep(TICK * 5);
                continue;
            }
            session = Session::new();
        }
        let Some(p) = pty.pty() else { continue };
        let n = match p.read(&mut buf, TICK * 2) {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "printer pseudo-terminal read failed");
                std::thread::sleep(TICK);
                continue;
            }
        };
        if n == 0 {
            continue;
        }
        let replies = process(&inner, &mut session, buf.get(..n).unwrap_or_default());
        if !replies.is_empty()
            && let Some(p) = pty.pty()
            && let Err(e) = p.write_all(&replies, Duration::from_secs(1))
        {
            tracing::debug!(error = %e, "printer pseudo-terminal write failed");
        }
    }
    close_session(&inner, &mut session);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn sim(tag: &str) -> (PrinterSim, PathBuf) {
        let dir = std::env::temp_dir().join(format!("printer-sim-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        (
            PrinterSim::start("127.0.0.1:0".parse().unwrap(), &dir).unwrap(),
            dir,
        )
    }

    fn ask(s: &mut TcpStream, n: u8) -> u8 {
        s.write_all(&[0x10, 0x04, n]).unwrap();
        let mut b = [0u8; 1];
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.read_exact(&mut b).unwrap();
        b[0]
    }

    #[test]
    fn status_bytes_follow_the_state() {
        let (p, dir) = sim("status");
        let mut s = TcpStream::connect(p.addr()).unwrap();
        assert_eq!(ask(&mut s, 1), 0x12);
        assert_eq!(ask(&mut s, 4), 0x12);
        p.set_paper(SimPaper::NearEnd);
        assert_eq!(ask(&mut s, 4), 0x1E);
        p.set_paper(SimPaper::Out);
        assert_eq!(ask(&mut s, 4), 0x72);
        assert_eq!(ask(&mut s, 1), 0x1A, "offline while out of paper");
        p.set_paper(SimPaper::Ok);
        p.set_cover_open(true);
        assert_eq!(ask(&mut s, 2), 0x16);
        p.stop();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_job_ends_at_the_cut_and_is_rendered() {
        let (p, dir) = sim("job");
        let mut s = TcpStream::connect(p.addr()).unwrap();
        let mut bytes = vec![0x1B, b'@'];
        bytes.extend_from_slice(&encoding_rs::GB18030.encode("办件回执\n").0);
        bytes.extend_from_slice(&[0x1D, b'V', 0x41, 0]);
        s.write_all(&bytes).unwrap();
        let jobs = p.wait_for_jobs(1, Duration::from_secs(5));
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].text, "办件回执");
        assert!(jobs[0].cut && jobs[0].complete);
        assert!(jobs[0].png.as_ref().unwrap().exists());
        p.stop();
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn unplugged_printer_refuses_connections_and_comes_back() {
        let (p, dir) = sim("plug");
        p.set_unplugged(true);
        std::thread::sleep(Duration::from_millis(100));
        assert!(TcpStream::connect(p.addr()).is_err());
        p.set_unplugged(false);
        let end = Instant::now() + Duration::from_secs(3);
        let mut ok = false;
        while Instant::now() < end {
            if TcpStream::connect(p.addr()).is_ok() {
                ok = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(ok, "back after replug");
        p.stop();
        let _ = std::fs::remove_dir_all(dir);
    }
}
