//! Simulated GA 467 ID card reader on a pseudo-terminal.
//!
//! The simulator is the reader's side of devices.md section 1, written
//! without the driver's code: [`wire`] decodes requests and encodes
//! replies, [`card`] turns a [`SimCard`] into the text block, photo and
//! fingerprint, and this module holds the state machine (devices.md 1.8b):
//!
//! | request | no card | card laid, not read | card read |
//! | --- | --- | --- | --- |
//! | find 20 01 | 0x80 | 0x9F + 4 bytes | 0x80 |
//! | select 20 02 | 0x81 | 0x90 + 8 bytes | 0x81 |
//! | read 30 01 / 30 10 | 0x41 | 0x41 unless selected, then the full reply | the full reply again (a host may retry after a bad checksum) |
//!
//! SAM status (11 FF), SAM reset (10 FF), RF frame size (61 FF) answer
//! 0x90; SAM id (12 FF) answers 0x90 and 16 bytes; the appended address
//! (30 03) answers 0x91; anything else 0x21. A request with a wrong
//! checksum is answered 0x10, one with an impossible length 0x11.
//!
//! Faults ([`IdFault`]) are one-shot and hit the next reply, except
//! [`IdFault::ReadFailure`], which waits for the next read command (only a
//! read can fail that way). [`IdCardSim::pull_during_next_read`] cuts the
//! next read reply after [`PULL_AFTER`] bytes and takes the card away.
//!
//! One background thread serves the pseudo-terminal; the state sits
//! behind a mutex, so [`IdCardSim`] is cheap to clone and can be driven
//! from any thread (control API, tests).

pub mod card;
pub mod wire;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

pub use card::{SimCard, demo_people, demo_person};

use crate::pty::{LinkedPty, Pty};
use wire::{Request, RequestDecoder};

/// Bytes of a read reply that get out before a pulled card cuts it off.
pub const PULL_AFTER: usize = 300;

/// How long the serving thread waits on the line before it looks at the
/// state again (unplug, stop).
const TICK: Duration = Duration::from_millis(20);

/// How long `set_unplugged` waits for the serving thread to apply it.
const PLUG_WAIT: Duration = Duration::from_secs(3);

/// A one-shot fault for the next reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdFault {
    /// The reply's checksum byte is wrong.
    BadChecksum,
    /// Line noise (with preamble look-alikes) before the reply.
    GarbageBeforeFrame,
    /// The reply leaves in several small writes with pauses.
    SplitWrites,
    /// The next read command answers SW3 0x41.
    ReadFailure,
    /// The next reply is SW3 0x60 (SAM self-test failed).
    SamFailure,
    /// The next request gets no reply at all.
    Silence,
}

/// What the control API shows about the reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdCardSimState {
    pub card_present: bool,
    pub already_read: bool,
    pub unplugged: bool,
    /// Complete read replies sent.
    pub reads: u64,
    /// The laid card's number, masked (`410403********0013`).
    pub card: Option<String>,
}

#[derive(Default)]
struct State {
    card: Option<SimCard>,
    selected: bool,
    already_read: bool,
    pull_next_read: bool,
    faults: Vec<IdFault>,
    reads: u64,
    want_unplugged: bool,
    unplugged: bool,
    pts: Option<PathBuf>,
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere must not take the simulator down with it.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

struct Inner {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    link: PathBuf,
}

impl Inner {
    fn stop(&self) {
        self.shared.lock().stop = true;
        self.shared.changed.notify_all();
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A simulated GA 467 reader. Clones share one device.
#[derive(Clone)]
pub struct IdCardSim {
    inner: Arc<Inner>,
}

/// How a reply leaves.
struct Outgoing {
    bytes: Vec<u8>,
    split: bool,
    /// Stop after this many bytes (card pulled).
    cut: Option<usize>,
}

impl IdCardSim {
    /// Opens a pseudo-terminal, points `link_dir/name` at it and starts
    /// serving. `link_dir` is created when missing.
    pub fn start(link_dir: &Path, name: &str) -> anyhow::Result<IdCardSim> {
        let pty = LinkedPty::open(link_dir, name).with_context(|| {
            format!(
                "opening a pseudo-terminal linked at {}",
                link_dir.join(name).display()
            )
        })?;
        let link = pty.link_path().to_path_buf();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pts: pty.slave_path().map(Path::to_path_buf),
                ..State::default()
            }),
            changed: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name(format!("sim-{name}"))
            .spawn(move || serve(&thread_shared, pty))
            .context("starting the ID card simulator thread")?;
        tracing::info!(link = %link.display(), "ID card reader simulator started");
        Ok(IdCardSim {
            inner: Arc::new(Inner {
                shared,
                thread: Mutex::new(Some(handle)),
                link,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.shared.lock()
    }

    /// The stable symlink a driver is configured with.
    pub fn path(&self) -> PathBuf {
        self.inner.link.clone()
    }

    /// The current `/dev/pts/N` (empty while unplugged).
    pub fn pts_path(&self) -> PathBuf {
        self.lock().pts.clone().unwrap_or_default()
    }

    /// Lays `card` on the reader: present and not yet read.
    pub fn lay_card(&self, card: SimCard) {
        let mut st = self.lock();
        tracing::info!(card = %card.masked_id(), "card laid");
        st.card = Some(card);
        st.selected = false;
        st.already_read = false;
    }

    /// Takes the card away.
    pub fn remove_card(&self) {
        let mut st = self.lock();
        st.card = None;
        st.selected = false;
        st.already_read = false;
    }

    /// The next read reply stops after [`PULL_AFTER`] bytes and the card is
    /// gone.
    pub fn pull_during_next_read(&self) {
        self.lock().pull_next_read = true;
    }

    /// Arms a one-shot fault.
    pub fn inject(&self, fault: IdFault) {
        self.lock().faults.push(fault);
    }

    /// Unplugging closes the pseudo-terminal (the driver sees hang-up) and
    /// removes the symlink; replugging opens a new one and points the
    /// symlink at it. Returns once the serving thread has done it.
    pub fn set_unplugged(&self, unplugged: bool) {
        let shared = &self.inner.shared;
        let mut st = shared.lock();
        st.want_unplugged = unplugged;
        shared.changed.notify_all();
        let deadline = Instant::now() + PLUG_WAIT;
        while st.unplugged != unplugged && !st.stop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(unplugged, "simulator did not apply the plug change in time");
                break;
            }
            st = shared
                .changed
                .wait_timeout(st, left)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// A snapshot for the control API.
    pub fn state(&self) -> IdCardSimState {
        let st = self.lock();
        IdCardSimState {
            card_present: st.card.is_some(),
            already_read: st.already_read,
            unplugged: st.unplugged,
            reads: st.reads,
            card: st.card.as_ref().map(SimCard::masked_id),
        }
    }

    /// Stops serving and closes the pseudo-terminal. Idempotent.
    pub fn stop(&self) {
        self.inner.stop();
    }
}

fn serve(shared: &Shared, mut pty: LinkedPty) {
    let mut decoder = RequestDecoder::default();
    let mut buf = [0u8; 512];
    loop {
        {
            let mut st = shared.lock();
            if st.stop {
                return;
            }
            if st.want_unplugged != st.unplugged {
                if st.want_unplugged {
                    pty.unplug();
                } else if let Err(e) = pty.replug() {
                    tracing::error!(error = %e, "cannot open a new pseudo-terminal");
                }
                decoder = RequestDecoder::default();
                st.unplugged = pty.is_unplugged();
                st.pts = pty.slave_path().map(Path::to_path_buf);
                // A reader that loses power forgets its session.
                st.selected = false;
                shared.changed.notify_all();
            }
            if st.unplugged {
                let _ = shared.changed.wait_timeout(st, TICK);
                continue;
            }
        }
        let Some(line) = pty.pty() else { continue };
        let n = match line.read(&mut buf, TICK) {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(error = %e, "pseudo-terminal read failed");
                std::thread::sleep(TICK);
                0
            }
        };
        decoder.push(buf.get(..n).unwrap_or_default());
        while let Some(req) = decoder.next_request() {
            let out = respond(&mut shared.lock(), req);
            if let Some(out) = out {
                send(line, &out);
            }
        }
    }
}

fn send(line: &mut Pty, out: &Outgoing) {
    let bytes = match out.cut {
        Some(n) => out.bytes.get(..n.min(out.bytes.len())).unwrap_or_default(),
        None => &out.bytes,
    };
    let timeout = Duration::from_secs(1);
    let result = if out.split {
        let mut rest = bytes;
        let mut r = Ok(());
        for size in [1usize, 6, 60, 400] {
            let (head, tail) = rest.split_at(size.min(rest.len()));
            r = line.write_all(head, timeout);
            rest = tail;
            // The pause makes the driver see each piece as its own read.
            std::thread::sleep(Duration::from_millis(15));
            if r.is_err() || rest.is_empty() {
                break;
            }
        }
        r.and_then(|()| line.write_all(rest, timeout))
    } else {
        line.write_all(bytes, timeout)
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "reply not delivered");
    }
}

/// Noise before a frame: preamble look-alikes that must not parse.
const GARBAGE: [u8; 14] = [
    0x00, 0x5A, 0xAA, 0xAA, 0x96, 0x01, 0xAA, 0xAA, 0xAA, 0x96, 0x68, 0xFF, 0x69, 0x13,
];

fn take_fault(st: &mut State, fault: IdFault) -> bool {
    match st.faults.iter().position(|f| *f == fault) {
        Some(i) => {
            st.faults.remove(i);
            true
        }
        None => false,
    }
}

const SAM_ID: [u8; 16] = [
    0x05, 0x00, 0x01, 0x00, // 05.01
    0xFD, 0xB7, 0x32, 0x01, // 20101117
    0x7A, 0xD0, 0xDD, 0x00, // 14536826
    0x40, 0x02, 0x00, 0x80, // 2147484224
];

/// The reader's answer to one request, with the armed faults applied.
fn respond(st: &mut State, req: Request) -> Option<Outgoing> {
    let is_read = matches!(
        req,
        Request::Command {
            cmd: 0x30,
            para: 0x01 | 0x10,
            ..
        }
    );
    if take_fault(st, IdFault::Silence) {
        return None;
    }
    let mut cut = None;
    let mut bytes = if take_fault(st, IdFault::SamFailure) {
        wire::reply(0x60, &[])
    } else if is_read && take_fault(st, IdFault::ReadFailure) {
        wire::reply(0x41, &[])
    } else {
        match req {
            Request::BadChecksum => wire::reply(0x10, &[]),
            Request::BadLength => wire::reply(0x11, &[]),
            Request::Command { cmd, para, .. } => match (cmd, para) {
                (0x10, 0xFF) => {
                    st.selected = false;
                    wire::reply(0x90, &[])
                }
                (0x11, 0xFF) | (0x61, 0xFF) => wire::reply(0x90, &[]),
                (0x12, 0xFF) => wire::reply(0x90, &SAM_ID),
                (0x20, 0x01) => match &st.card {
                    Some(_) if !st.already_read => wire::reply(0x9F, &[0, 0, 0, 0]),
                    _ => wire::reply(0x80, &[]),
                },
                (0x20, 0x02) => match &st.card {
                    Some(_) if !st.already_read => {
                        st.selected = true;
                        wire::reply(0x90, &[0; 8])
                    }
                    _ => wire::reply(0x81, &[]),
                },
                (0x30, 0x01 | 0x10) => match st.card.clone() {
                    Some(card) if st.selected => {
                        let reply = wire::reply(0x90, &read_data(&card, para == 0x10));
                        if st.pull_next_read {
                            st.pull_next_read = false;
                            st.card = None;
                            st.selected = false;
                            st.already_read = false;
                            cut = Some(PULL_AFTER);
                        } else {
                            st.already_read = true;
                            st.reads += 1;
                        }
                        reply
                    }
                    _ => wire::reply(0x41, &[]),
                },
                (0x30, 0x03) => wire::reply(0x91, &[]),
                _ => wire::reply(0x21, &[]),
            },
        }
    };
    if take_fault(st, IdFault::BadChecksum)
        && let Some(last) = bytes.last_mut()
    {
        *last ^= 0x5A;
    }
    if take_fault(st, IdFault::GarbageBeforeFrame) {
        let mut noisy = GARBAGE.to_vec();
        noisy.append(&mut bytes);
        bytes = noisy;
        cut = cut.map(|n| n + GARBAGE.len());
    }
    let split = take_fault(st, IdFault::SplitWrites);
    Some(Outgoing { bytes, split, cut })
}

/// Data of a read reply (devices.md 1.5): length words, text, photo and,
/// for 30 10, the fingerprint.
fn read_data(card: &SimCard, with_fingerprint: bool) -> Vec<u8> {
    let text = card.text_block();
    let photo = card.photo();
    let fp = card.fingerprint();
    let word = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
    let mut d = Vec::with_capacity(6 + text.len() + photo.len() + fp.len());
    d.extend_from_slice(&word(text.len()));
    d.extend_from_slice(&word(photo.len()));
    if with_fingerprint {
        d.extend_from_slice(&word(fp.len()));
    }
    d.extend_from_slice(&text);
    d.extend_from_slice(&photo);
    if with_fingerprint {
        d.extend_from_slice(&fp);
    }
    d
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn cmd(c: u8, p: u8) -> Request {
        Request::Command {
            cmd: c,
            para: p,
            data: vec![],
        }
    }

    fn sw3(out: &Option<Outgoing>) -> u8 {
        out.as_ref().unwrap().bytes[9]
    }

    #[test]
    fn state_machine_of_devices_md_1_8b() {
        let mut st = State::default();
        assert_eq!(sw3(&respond(&mut st, cmd(0x20, 0x01))), 0x80);
        assert_eq!(sw3(&respond(&mut st, cmd(0x20, 0x02))), 0x81);
        st.card = demo_person("zhangwei");
        assert_eq!(sw3(&respond(&mut st, cmd(0x20, 0x01))), 0x9F);
        assert_eq!(
            sw3(&respond(&mut st, cmd(0x20, 0x01))),
            0x9F,
            "found again until read"
        );
        assert_eq!(
            sw3(&respond(&mut st, cmd(0x30, 0x01))),
            0x41,
            "read before select"
        );
        assert_eq!(sw3(&respond(&mut st, cmd(0x20, 0x02))), 0x90);
        let r = respond(&mut st, cmd(0x30, 0x01)).unwrap();
        assert_eq!(r.bytes.len(), 1295);
        let r = respond(&mut st, cmd(0x30, 0x10)).unwrap();
        assert_eq!(r.bytes.len(), 2321);
        assert_eq!(
            sw3(&respond(&mut st, cmd(0x20, 0x01))),
            0x80,
            "already read"
        );
        assert_eq!(st.reads, 2);
        st.card = demo_person("lixiuying");
        st.already_read = false;
        respond(&mut st, cmd(0x20, 0x02));
        assert_eq!(respond(&mut st, cmd(0x30, 0x10)).unwrap().bytes.len(), 1297);
        assert_eq!(sw3(&respond(&mut st, cmd(0x11, 0xFF))), 0x90);
        assert_eq!(sw3(&respond(&mut st, cmd(0x77, 0x01))), 0x21);
        assert_eq!(sw3(&respond(&mut st, Request::BadChecksum)), 0x10);
        assert_eq!(sw3(&respond(&mut st, Request::BadLength)), 0x11);
    }

    #[test]
    fn faults_are_one_shot() {
        let mut st = State::default();
        st.faults.push(IdFault::Silence);
        assert!(respond(&mut st, cmd(0x11, 0xFF)).is_none());
        assert_eq!(sw3(&respond(&mut st, cmd(0x11, 0xFF))), 0x90);
        st.faults.push(IdFault::ReadFailure);
        assert_eq!(
            sw3(&respond(&mut st, cmd(0x20, 0x01))),
            0x80,
            "read failure waits for a read"
        );
        assert_eq!(sw3(&respond(&mut st, cmd(0x30, 0x01))), 0x41);
        assert!(st.faults.is_empty());
        st.faults.push(IdFault::GarbageBeforeFrame);
        let out = respond(&mut st, cmd(0x11, 0xFF)).unwrap();
        assert_eq!(&out.bytes[..GARBAGE.len()], &GARBAGE);
        let first_preamble = out
            .bytes
            .windows(5)
            .position(|w| w == wire::PREAMBLE.as_slice());
        assert_eq!(
            first_preamble,
            Some(GARBAGE.len()),
            "the noise holds no whole preamble"
        );
    }
}
