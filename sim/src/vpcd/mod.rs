//! Simulated smart cards behind pcscd's virtual reader (vsmartcard
//! `vpcd`, Debian package vsmartcard-vpcd).
//!
//! pcscd loads the vpcd driver, which shows a reader ("Virtual PCD 00 00")
//! and waits on TCP 35963 for a virtual card. [`VirtualCardSim`] is that
//! card: inserting connects, removing disconnects, so the real driver
//! sees the insertion and removal through pcscd exactly as with a reader
//! on USB. Wire protocol (devices.md 6.1): every message is a 2-byte
//! big-endian length and a payload; one-byte payloads are control
//! (`00` power off, `01` power on, `02` reset, `04` send the ATR), longer
//! ones are command APDUs answered with the response APDU.
//!
//! Cards (demo data, invented numbers):
//! * 社会保障卡: application SSSE selected by DF name; EF05 records 05
//!   (issue date), 06 (expiry), 07 (card number) read by SFI 5; after
//!   `SELECT EF06`, records 08 (社会保障号码), 09 (name, GBK, 30 bytes),
//!   0A (sex), 0D (birth date BCD). A card set to need a PSAM answers
//!   `69 82` to the EF06 reads.
//! * UnionPay debit card: PPSE → AID `A000000333010101` → GPO (format 2,
//!   AFL SFI 1 record 1) → record with `57`, `5A`, `5F24`.
//! * A blank card that knows no application (`6A 82`).
//!
//! Between two cards the slot stays empty for a second, so pcscd (which
//! looks every 400 ms) sees the first one leave. Test helpers:
//! [`ensure_pcscd`] starts the machine's pcscd if its vpcd reader does not
//! listen, [`lock_slot`] serialises the tests that use that one slot, and
//! [`PrivatePcscd`] runs a pcscd of a test's own that it may kill.

use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::idcard::demo_person;

/// The port vpcd listens on for its first slot.
pub const VPCD_PORT: u16 = 35963;

/// The ATR the simulated cards give: T=1, one historical byte.
pub const ATR: [u8; 5] = [0x3B, 0x81, 0x01, 0x00, 0x80];

/// `sx1.sh.` + `社会保障` in GBK: the DF name of the SSSE application.
const SSSE: [u8; 15] = [
    0x73, 0x78, 0x31, 0x2E, 0x73, 0x68, 0x2E, 0xC9, 0xE7, 0xBB, 0xE1, 0xB1, 0xA3, 0xD5, 0xCF,
];
const PPSE: &[u8] = b"2PAY.SYS.DDF01";
const UNIONPAY_DEBIT: [u8; 8] = [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01];

const TICK: Duration = Duration::from_millis(30);

/// How long the slot stays empty between two cards (see `serve`).
const REMOVAL_GAP: Duration = Duration::from_millis(1000);

/// Which card is in the reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "card", rename_all = "snake_case")]
pub enum SimSmartCard {
    /// A social-security card of a demo person (`zhangwei`, …).
    Ssc {
        person: String,
        /// The personal data needs the regional PSAM (answers 69 82).
        #[serde(default)]
        needs_psam: bool,
    },
    /// A UnionPay debit card of a demo person.
    Bank { person: String },
    /// A card with no application we know.
    Blank,
}

/// What the control API shows (never a full card number).
#[derive(Debug, Clone, Serialize)]
pub struct VirtualCardState {
    pub port: u16,
    pub card: Option<String>,
    pub connected: bool,
    pub apdus: u64,
    /// How many times vpcd has taken a card in (pcscd saw an insertion).
    pub attachments: u64,
    pub unplugged: bool,
}

struct State {
    card: Option<SimSmartCard>,
    /// Bumped at every insert/remove so the serving loop reconnects.
    epoch: u64,
    connected: bool,
    apdus: u64,
    attachments: u64,
    /// Disconnect after this many more APDUs (a card pulled mid-read).
    pull_after: Option<u32>,
    unplugged: bool,
}

struct Inner {
    addr: SocketAddr,
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A virtual card slot attached to vpcd; clones share it.
#[derive(Clone)]
pub struct VirtualCardSim {
    inner: Arc<Inner>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// Demo data of a person's social-security card: (SS number, name, card
/// number, sex code).
fn ssc_data(person: &str) -> Option<(String, String, String, u8)> {
    let card = demo_person(person)?;
    let sex = if card.sex.contains('女') { b'2' } else { b'1' };
    let number = format!("D{}", card.id_number.get(..8).unwrap_or("41040300"));
    Some((card.id_number.clone(), card.name.clone(), number, sex))
}

/// A Luhn-valid demo PAN for a person (6228 48…, UnionPay debit).
pub fn demo_pan(person: &str) -> String {
    let seed: u32 = person.bytes().map(u32::from).sum();
    let body = format!("622848{:012}", u64::from(seed) * 7_919 % 1_000_000_000_000);
    format!("{body}{}", luhn_digit(&body))
}

fn luhn_digit(body: &str) -> u32 {
    let sum: u32 = body
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn bcd(digits: &str) -> Vec<u8> {
    let mut s: Vec<u8> = digits
        .bytes()
        .map(|b| b.wrapping_sub(b'0') & 0x0F)
        .collect();
    if s.len() % 2 == 1 {
        s.push(0x0F);
    }
    s.chunks(2)
        .map(|p| (p.first().copied().unwrap_or(0) << 4) | p.get(1).copied().unwrap_or(0))
        .collect()
}

fn tlv(tag: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = tag.to_vec();
    let n = value.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        out.push(0x81);
        out.push(n as u8);
    }
    out.extend_from_slice(value);
    out
}

fn ok(mut data: Vec<u8>) -> Vec<u8> {
    data.extend_from_slice(&[0x90, 0x00]);
    data
}

const NOT_FOUND: [u8; 2] = [0x6A, 0x82];
const RECORD_NOT_FOUND: [u8; 2] = [0x6A, 0x83];
const SECURITY: [u8; 2] = [0x69, 0x82];
const BAD_INS: [u8; 2] = [0x6D, 0x00];

/// What is selected on the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Selected {
    Mf,
    Ssse,
    Ef06,
    Ppse,
    Aid,
}

/// One card's APDU logic.
struct Card {
    kind: SimSmartCard,
    selected: Selected,
}

impl Card {
    fn new(kind: SimSmartCard) -> Card {
        Card {
            kind,
            selected: Selected::Mf,
        }
    }

    fn apdu(&mut self, c: &[u8]) -> Vec<u8> {
        let (Some(&cla), Some(&ins), Some(&p1), Some(&p2)) =
            (c.first(), c.get(1), c.get(2), c.get(3))
        else {
            return vec![0x67, 0x00];
        };
        let data = c
            .get(4)
            .and_then(|&lc| c.get(5..5 + usize::from(lc)))
            .unwrap_or_default();
        match (cla, ins) {
            (0x00, 0xA4) => self.select(p1, data),
            (0x00, 0xB2) => self.read_record(p1, p2),
            (0x80, 0xA8) => self.gpo(),
            _ => BAD_INS.to_vec(),
        }
    }

    fn select(&mut self, p1: u8, data: &[u8]) -> Vec<u8> {
        match (&self.kind, p1) {
            (SimSmartCard::Ssc { .. }, 0x04) if data == SSSE => {
                self.selected = Selected::Ssse;
                ok(tlv(&[0x6F], &tlv(&[0x84], &SSSE)))
            }
            (SimSmartCard::Ssc { .. }, 0x02)
                if data == [0xEF, 0x06] && self.selected != Selected::Mf =>
            {
                self.selected = Selected::Ef06;
                ok(Vec::new())
            }
            (SimSmartCard::Bank { .. }, 0x04) if data == PPSE => {
                self.selected = Selected::Ppse;
                let entry = tlv(
                    &[0x61],
                    &[tlv(&[0x4F], &UNIONPAY_DEBIT), tlv(&[0x87], &[1])].concat(),
                );
                let fci = tlv(
                    &[0x6F],
                    &[
                        tlv(&[0x84], PPSE),
                        tlv(&[0xA5], &tlv(&[0xBF, 0x0C], &entry)),
                    ]
                    .concat(),
                );
                ok(fci)
            }
            (SimSmartCard::Bank { .. }, 0x04) if data == UNIONPAY_DEBIT => {
                self.selected = Selected::Aid;
                // PDOL: 9F66 (4), 9F02 (6), 9F37 (4), 5F2A (2).
                let pdol = [
                    0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x9F, 0x37, 0x04, 0x5F, 0x2A, 0x02,
                ];
                let a5 = [tlv(&[0x50], b"UnionPay Debit"), tlv(&[0x9F, 0x38], &pdol)].concat();
                ok(tlv(
                    &[0x6F],
                    &[tlv(&[0x84], &UNIONPAY_DEBIT), tlv(&[0xA5], &a5)].concat(),
                ))
            }
            _ => NOT_FOUND.to_vec(),
        }
    }

    fn gpo(&mut self) -> Vec<u8> {
        if self.selected != Selected::Aid {
            return vec![0x69, 0x85];
        }
        // Format 2: AIP, AFL (SFI 1, records 1..1).
        let body = [
            tlv(&[0x82], &[0x7C, 0x00]),
            tlv(&[0x94], &[0x08, 0x01, 0x01, 0x00]),
        ]
        .concat();
        ok(tlv(&[0x77], &body))
    }

    fn read_record(&mut self, record: u8, p2: u8) -> Vec<u8> {
        let sfi = p2 >> 3;
        match &self.kind {
            SimSmartCard::Ssc { person, needs_psam } => {
                let Some((ss, name, number, sex)) = ssc_data(person) else {
                    return RECORD_NOT_FOUND.to_vec();
                };
                let in_ef05 = sfi == 5 && self.selected != Selected::Mf;
                let in_ef06 = (sfi == 6 && self.selected != Selected::Mf)
                    || (sfi == 0 && self.selected == Selected::Ef06);
                let value: Vec<u8> = match record {
                    0x05 if in_ef05 => bcd("20200315"),
                    0x06 if in_ef05 => bcd("20300315"),
                    0x07 if in_ef05 => number.into_bytes(),
                    0x08..=0x0D if in_ef06 && *needs_psam => return SECURITY.to_vec(),
                    0x08 if in_ef06 => ss.into_bytes(),
                    0x09 if in_ef06 => {
                        let mut n = encoding_rs::GBK.encode(&name).0.into_owned();
                        n.resize(30, 0x00);
                        n
                    }
                    0x0A if in_ef06 => vec![sex],
                    0x0D if in_ef06 => bcd(ss.get(6..14).unwrap_or("19800101")),
                    _ => return RECORD_NOT_FOUND.to_vec(),
                };
                ok(tlv(&[record], &value))
            }
            SimSmartCard::Bank { person }
                if sfi == 1 && record == 1 && self.selected == Selected::Aid =>
            {
                let pan = demo_pan(person);
                let mut track2 = bcd(&format!("{pan}D30122010000000000"));
                track2.truncate(19);
                let body = [
                    tlv(&[0x57], &track2),
                    tlv(&[0x5A], &bcd(&pan)),
                    tlv(&[0x5F, 0x24], &bcd("301231")),
                ]
                .concat();
                ok(tlv(&[0x70], &body))
            }
            _ => RECORD_NOT_FOUND.to_vec(),
        }
    }
}

impl VirtualCardSim {
    /// A card slot that attaches to vpcd at `addr` (127.0.0.1:35963 for
    /// the first virtual reader) whenever a card is inserted.
    pub fn start(addr: SocketAddr) -> anyhow::Result<VirtualCardSim> {
        let inner = Arc::new(Inner {
            addr,
            state: Mutex::new(State {
                card: None,
                epoch: 0,
                connected: false,
                apdus: 0,
                attachments: 0,
                pull_after: None,
                unplugged: false,
            }),
            stop: AtomicBool::new(false),
        });
        let i2 = Arc::clone(&inner);
        let thread = std::thread::Builder::new()
            .name("sim-vpcd".into())
            .spawn(move || serve(&i2))?;
        Ok(VirtualCardSim {
            inner,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// The vpcd address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Inserts a card (replacing any card in the reader).
    pub fn insert(&self, card: SimSmartCard) {
        let mut s = self.inner.lock();
        s.card = Some(card);
        s.epoch += 1;
    }

    /// Takes the card out.
    pub fn remove(&self) {
        let mut s = self.inner.lock();
        s.card = None;
        s.epoch += 1;
    }

    /// The card is pulled out after `apdus` more commands.
    pub fn pull_after(&self, apdus: u32) {
        self.inner.lock().pull_after = Some(apdus);
    }

    /// "Unplugged": the card side goes away and stays away (for a reader,
    /// this looks like the card removed; the reader itself is pcscd's).
    pub fn set_unplugged(&self, unplugged: bool) {
        let mut s = self.inner.lock();
        s.unplugged = unplugged;
        s.epoch += 1;
    }

    /// Whether the card is attached to vpcd now: vpcd has accepted it and
    /// asked it something, so pcscd sees a card in the reader.
    pub fn connected(&self) -> bool {
        self.inner.lock().connected
    }

    /// The state for the control API.
    pub fn state(&self) -> VirtualCardState {
        let s = self.inner.lock();
        VirtualCardState {
            port: self.inner.addr.port(),
            card: s.card.as_ref().map(|c| match c {
                SimSmartCard::Ssc { person, .. } => format!("ssc:{person}"),
                SimSmartCard::Bank { person } => format!("bank:{person}"),
                SimSmartCard::Blank => "blank".into(),
            }),
            connected: s.connected,
            apdus: s.apdus,
            attachments: s.attachments,
            unplugged: s.unplugged,
        }
    }

    /// Stops and joins the thread.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        let h = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = h {
            let _ = h.join();
        }
    }
}

fn read_msg(stream: &mut TcpStream, inner: &Inner, epoch: u64) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        if inner.stop.load(Ordering::SeqCst) || inner.lock().epoch != epoch {
            return None;
        }
        match stream.read(len.get_mut(got..).unwrap_or_default()) {
            Ok(0) => return None,
            Ok(n) => got += n,
            Err(e)
                if matches!(
                    e.kind(),
                    IoKind::WouldBlock | IoKind::TimedOut | IoKind::Interrupted
                ) => {}
            Err(_) => return None,
        }
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let r = stream.read_exact(&mut body);
    let _ = stream.set_read_timeout(Some(TICK));
    r.ok().map(|()| body)
}

fn send(stream: &mut TcpStream, payload: &[u8]) -> bool {
    let Ok(n) = u16::try_from(payload.len()) else {
        return false;
    };
    let mut out = n.to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    stream.write_all(&out).is_ok()
}

fn serve(inner: &Inner) {
    while !inner.stop.load(Ordering::SeqCst) {
        let (card, epoch) = {
            let s = inner.lock();
            (if s.unplugged { None } else { s.card.clone() }, s.epoch)
        };
        let Some(card) = card else {
            std::thread::sleep(TICK);
            continue;
        };
        let Ok(mut stream) = TcpStream::connect_timeout(&inner.addr, Duration::from_millis(500))
        else {
            // vpcd (pcscd) not there yet: try again.
            std::thread::sleep(TICK * 5);
            continue;
        };
        let _ = stream.set_read_timeout(Some(TICK));
        let _ = stream.set_nodelay(true);
        // The kernel completes the TCP handshake before vpcd accepts; the
        // card counts as attached once vpcd has spoken to it (its presence
        // check asks for the ATR), which is when pcscd sees it.
        let mut emu = Card::new(card.clone());
        while let Some(msg) = read_msg(&mut stream, inner, epoch) {
            {
                let mut s = inner.lock();
                if !s.connected {
                    s.connected = true;
                    s.attachments += 1;
                }
            }
            if let [control] = msg.as_slice() {
                match control {
                    0x04 => {
                        if !send(&mut stream, &ATR) {
                            break;
                        }
                    }
                    // Power on/off and reset: the card starts over.
                    _ => emu = Card::new(card.clone()),
                }
                continue;
            }
            let pulled = {
                let mut s = inner.lock();
                s.apdus += 1;
                match s.pull_after {
                    Some(0) => {
                        s.pull_after = None;
                        s.card = None;
                        s.epoch += 1;
                        true
                    }
                    Some(n) => {
                        s.pull_after = Some(n - 1);
                        false
                    }
                    None => false,
                }
            };
            if pulled {
                break;
            }
            let reply = emu.apdu(&msg);
            if !send(&mut stream, &reply) {
                break;
            }
        }
        let _ = stream.shutdown(Shutdown::Both);
        inner.lock().connected = false;
        // Wait for the state to change before attaching again (a card
        // that stays in is re-attached only after vpcd dropped us).
        while !inner.stop.load(Ordering::SeqCst) && inner.lock().epoch == epoch {
            std::thread::sleep(TICK);
        }
        // The slot stays empty long enough for pcscd to look at it
        // (every 400 ms): vpcd may notice the old card gone while powering
        // it down rather than in its presence check, and a new card
        // attached at once would then look like the same card still in.
        let empty_until = std::time::Instant::now() + REMOVAL_GAP;
        while !inner.stop.load(Ordering::SeqCst) && std::time::Instant::now() < empty_until {
            std::thread::sleep(TICK);
        }
    }
}

/// Whether something listens on vpcd's port, read from /proc/net/tcp
/// (connecting would look like a card being inserted).
fn vpcd_listening(port: u16) -> bool {
    let needle = format!(":{port:04X} 00000000:0000 0A");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .any(|f| std::fs::read_to_string(f).is_ok_and(|t| t.lines().any(|l| l.contains(&needle))))
}

/// Makes sure pcscd runs with the vpcd reader (starts it as a daemon if
/// not; needs root), for tests and the demo.
pub fn ensure_pcscd() -> anyhow::Result<()> {
    if vpcd_listening(VPCD_PORT) {
        return Ok(());
    }
    let status = std::process::Command::new("pcscd")
        .status()
        .map_err(|e| anyhow::anyhow!("cannot start pcscd (Debian pcscd + vsmartcard-vpcd): {e}"))?;
    anyhow::ensure!(status.success(), "pcscd failed to start: {status}");
    let end = std::time::Instant::now() + Duration::from_secs(15);
    while !vpcd_listening(VPCD_PORT) {
        anyhow::ensure!(
            std::time::Instant::now() < end,
            "pcscd runs but its vpcd reader does not listen on {VPCD_PORT}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // pcscd lists the reader a moment after the driver listens.
    std::thread::sleep(Duration::from_millis(300));
    Ok(())
}

/// A pcscd of a test's own, with its own vpcd reader on `port`, apart from
/// the machine's pcscd: it runs in a private mount namespace
/// (`unshare --mount`, needs root) where `/run/pcscd` is a directory of the
/// test's, so its socket is `<dir>/run/pcscd.comm`. A client process
/// reaches it by setting `PCSCLITE_CSOCK_NAME` to [`PrivatePcscd::socket`]
/// before its first PC/SC call. The test can stop and restart it (pcscd
/// gone and back) without touching anyone else's pcscd; it is killed on
/// drop.
pub struct PrivatePcscd {
    dir: std::path::PathBuf,
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivatePcscd {
    /// Starts pcscd with one vpcd reader whose card port is `port` (vpcd
    /// also takes `port + 1` for its second slot), keeping its files in
    /// `dir`; returns once the reader listens.
    pub fn start(dir: &std::path::Path, port: u16) -> anyhow::Result<PrivatePcscd> {
        let conf = dir.join("conf");
        std::fs::create_dir_all(&conf)?;
        std::fs::create_dir_all(dir.join("run"))?;
        std::fs::write(
            conf.join("vpcd"),
            format!(
                "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME   /dev/null:0x{port:04X}\n\
                 LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID    0x{port:04X}\n"
            ),
        )?;
        let mut p = PrivatePcscd {
            dir: dir.to_path_buf(),
            port,
            child: None,
        };
        p.restart()?;
        Ok(p)
    }

    /// The socket clients use (`PCSCLITE_CSOCK_NAME`).
    pub fn socket(&self) -> std::path::PathBuf {
        self.dir.join("run").join("pcscd.comm")
    }

    /// The vpcd card port of its reader.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills this pcscd (its reader disappears for every client).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let end = std::time::Instant::now() + Duration::from_secs(5);
        while vpcd_listening(self.port) && std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts it (again) and waits until its vpcd reader listens.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.stop();
        let run = self.dir.join("run");
        for f in ["pcscd.comm", "pcscd.pid", "pcscd.pub"] {
            let _ = std::fs::remove_file(run.join(f));
        }
        std::fs::create_dir_all("/run/pcscd")?;
        let script = format!(
            "mount --bind '{}' /run/pcscd && exec pcscd --foreground -c '{}'",
            run.display(),
            self.dir.join("conf").display()
        );
        let log = std::fs::File::create(self.dir.join("pcscd.log"))?;
        let child = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .env("PCSCLITE_CSOCK_NAME", "/run/pcscd/pcscd.comm")
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot run unshare + pcscd: {e}"))?;
        self.child = Some(child);
        let end = std::time::Instant::now() + Duration::from_secs(15);
        while !(vpcd_listening(self.port) && self.socket().exists()) {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(std::process::Child::try_wait) {
                let log = std::fs::read_to_string(self.dir.join("pcscd.log")).unwrap_or_default();
                anyhow::bail!("private pcscd exited ({status}): {log}");
            }
            anyhow::ensure!(
                std::time::Instant::now() < end,
                "private pcscd does not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(300));
        Ok(())
    }
}

impl Drop for PrivatePcscd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The virtual reader has one slot: tests that use it hold this lock.
pub fn lock_slot() -> anyhow::Result<std::fs::File> {
    let f = std::fs::File::create(std::env::temp_dir().join("kiosk-tests-vpcd.lock"))?;
    f.lock()?;
    Ok(f)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn demo_pans_pass_the_luhn_check() {
        for p in ["zhangwei", "lixiuying", "wanghaoran"] {
            let pan = demo_pan(p);
            assert_eq!(pan.len(), 19);
            assert!(pan.starts_with("622848"));
            assert_eq!(luhn_digit(&pan[..18]), pan[18..].parse::<u32>().unwrap());
        }
    }

    #[test]
    fn the_ssc_answers_the_public_apdus() {
        let mut c = Card::new(SimSmartCard::Ssc {
            person: "zhangwei".into(),
            needs_psam: false,
        });
        let mut select = vec![0x00, 0xA4, 0x04, 0x00, 0x0F];
        select.extend_from_slice(&SSSE);
        assert!(c.apdu(&select).ends_with(&[0x90, 0x00]));
        let r = c.apdu(&[0x00, 0xB2, 0x07, 0x2C, 0x0B]);
        assert_eq!(r[0], 0x07);
        assert!(
            c.apdu(&[0x00, 0xA4, 0x02, 0x00, 0x02, 0xEF, 0x06])
                .ends_with(&[0x90, 0x00])
        );
        let r = c.apdu(&[0x00, 0xB2, 0x08, 0x04, 0x14]);
        assert_eq!(&r[2..20], b"410403198503150013");
        let mut psam = Card::new(SimSmartCard::Ssc {
            person: "zhangwei".into(),
            needs_psam: true,
        });
        psam.apdu(&select);
        psam.apdu(&[0x00, 0xA4, 0x02, 0x00, 0x02, 0xEF, 0x06]);
        assert_eq!(
            psam.apdu(&[0x00, 0xB2, 0x08, 0x04, 0x14]),
            SECURITY.to_vec()
        );
        let mut blank = Card::new(SimSmartCard::Blank);
        assert_eq!(blank.apdu(&select), NOT_FOUND.to_vec());
    }
}
