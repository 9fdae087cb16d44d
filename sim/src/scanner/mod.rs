//! Simulated code scanner in serial (USB-CDC) mode on a pseudo-terminal.
//!
//! A real scanner in this mode writes, for every code it reads,
//! `[prefix][AIM identifier][data][suffix]` (devices.md section 7), where
//! prefix, AIM identifier and suffix are whatever the scanner was
//! programmed with. [`ScannerSim::scan`] does exactly that with the
//! [`ScannerConfig`] it was started with. It also listens to the host:
//! Honeywell's serial trigger commands `SYN T CR` / `SYN U CR` switch
//! [`ScannerSimState::trigger_active`].
//!
//! Faults ([`ScanFault`]) are one-shot and hit the next scan: its bytes
//! leave in several small writes, or line noise (no suffix) precedes it
//! after a pause. [`ScannerSim::set_unplugged`] closes the pseudo-terminal
//! (the driver sees hang-up) and removes the symlink; replugging opens a
//! new pair behind the same link.
//!
//! Written from the scanner's side, without the driver's code.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::pty::LinkedPty;

/// Frame end the simulated scanner is programmed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SimSuffix {
    #[default]
    Cr,
    Crlf,
    Lf,
    None,
}

impl SimSuffix {
    fn bytes(self) -> &'static [u8] {
        match self {
            SimSuffix::Cr => b"\r",
            SimSuffix::Crlf => b"\r\n",
            SimSuffix::Lf => b"\n",
            SimSuffix::None => b"",
        }
    }
}

/// Symbologies the simulator can claim, with their AIM identifiers
/// (ISO/IEC 15424).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimSymbology {
    Qr,
    DataMatrix,
    Pdf417,
    Code128,
    Ean13,
    Ean8,
    Code39,
    Aztec,
    Hanxin,
}

impl SimSymbology {
    /// The three-byte AIM identifier.
    pub fn aim(self) -> &'static [u8; 3] {
        match self {
            SimSymbology::Qr => b"]Q1",
            SimSymbology::DataMatrix => b"]d1",
            SimSymbology::Pdf417 => b"]L0",
            SimSymbology::Code128 => b"]C0",
            SimSymbology::Ean13 => b"]E0",
            SimSymbology::Ean8 => b"]E4",
            SimSymbology::Code39 => b"]A0",
            SimSymbology::Aztec => b"]z0",
            SimSymbology::Hanxin => b"]h0",
        }
    }
}

/// How the simulated scanner is programmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ScannerConfig {
    pub suffix: SimSuffix,
    /// Text sent before every code (raw bytes of the string).
    pub prefix: String,
    /// Send the AIM identifier.
    pub aim: bool,
}

/// A one-shot fault for the next scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanFault {
    /// The scan leaves in pieces of 1, 3, 7, … bytes with short pauses.
    SplitWrites,
    /// Line noise without a suffix, then a pause, then the scan.
    Noise,
}

/// Line noise: no CR or LF, nothing that looks like a suffix.
pub const NOISE: [u8; 9] = [0x00, 0xFF, 0x5D, 0x51, 0x31, 0x7E, 0x80, 0x1B, 0x16];

/// Pause after noise: long enough for a driver to give the partial up.
pub const NOISE_PAUSE: Duration = Duration::from_millis(400);

/// A scan as the control API sends it: `{"text": "...", "symbology":
/// "qr"}` or `{"hex": "..."}`; `encoding` (`utf8`, default, or `gb18030`)
/// says how `text` becomes bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ScanRequest {
    pub text: Option<String>,
    pub hex: Option<String>,
    pub symbology: Option<SimSymbology>,
    pub encoding: Option<String>,
}

impl ScanRequest {
    /// The payload bytes.
    pub fn bytes(&self) -> anyhow::Result<Vec<u8>> {
        match (&self.text, &self.hex) {
            (Some(t), None) => match self.encoding.as_deref().unwrap_or("utf8") {
                "utf8" | "utf-8" => Ok(t.as_bytes().to_vec()),
                "gb18030" => {
                    let (b, _, unmappable) = encoding_rs::GB18030.encode(t);
                    if unmappable {
                        bail!("text not representable in GB18030");
                    }
                    Ok(b.into_owned())
                }
                other => bail!("unknown encoding {other:?} (utf8 or gb18030)"),
            },
            (None, Some(h)) => parse_hex(h),
            _ => bail!("a scan needs exactly one of \"text\" or \"hex\""),
        }
    }
}

fn parse_hex(h: &str) -> anyhow::Result<Vec<u8>> {
    let digits: Vec<u8> = h.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        bail!("hex payload has an odd number of digits");
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .context("hex payload has a non-hex digit")
        })
        .collect()
}

/// What the control API shows about the scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannerSimState {
    pub config: ScannerConfig,
    pub unplugged: bool,
    /// Scans written to the line.
    pub scans: u64,
    /// Byte length of the last scan's payload (the content is not kept).
    pub last_scan_bytes: Option<usize>,
    /// Last Honeywell trigger command received (`None`: never).
    pub trigger_active: Option<bool>,
    pub pending_faults: Vec<ScanFault>,
    pub path: String,
}

struct State {
    pty: LinkedPty,
    config: ScannerConfig,
    scans: u64,
    last_scan_bytes: Option<usize>,
    trigger_active: Option<bool>,
    faults: Vec<ScanFault>,
    host_bytes: Vec<u8>,
    stop: bool,
}

struct Inner {
    state: Mutex<State>,
    thread: Mutex<Option<JoinHandle<()>>>,
    link: PathBuf,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn stop(&self) {
        self.lock().stop = true;
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

/// A simulated serial code scanner. Clones share one device.
#[derive(Clone)]
pub struct ScannerSim {
    inner: Arc<Inner>,
}

const TICK: Duration = Duration::from_millis(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(1);

impl ScannerSim {
    /// Opens a pseudo-terminal linked at `link_dir/name` and starts
    /// listening for host commands.
    pub fn start(link_dir: &Path, name: &str, config: ScannerConfig) -> anyhow::Result<ScannerSim> {
        let pty = LinkedPty::open(link_dir, name).with_context(|| {
            format!(
                "opening a pseudo-terminal linked at {}",
                link_dir.join(name).display()
            )
        })?;
        let link = pty.link_path().to_path_buf();
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                pty,
                config,
                scans: 0,
                last_scan_bytes: None,
                trigger_active: None,
                faults: Vec::new(),
                host_bytes: Vec::new(),
                stop: false,
            }),
            thread: Mutex::new(None),
            link,
        });
        let weak = Arc::downgrade(&inner);
        let handle = std::thread::Builder::new()
            .name(format!("sim-{name}"))
            .spawn(move || {
                while let Some(inner) = weak.upgrade() {
                    if !listen_once(&inner) {
                        return;
                    }
                    drop(inner);
                    std::thread::sleep(TICK);
                }
            })
            .context("starting the scanner simulator thread")?;
        *inner
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(handle);
        tracing::info!(link = %inner.link.display(), "code scanner simulator started");
        Ok(ScannerSim { inner })
    }

    /// The stable symlink a driver is configured with.
    pub fn path(&self) -> PathBuf {
        self.inner.link.clone()
    }

    /// Changes how the scanner is programmed (takes effect at the next scan).
    pub fn set_config(&self, config: ScannerConfig) {
        self.inner.lock().config = config;
    }

    /// Arms a one-shot fault for the next scan.
    pub fn inject(&self, fault: ScanFault) {
        self.inner.lock().faults.push(fault);
    }

    /// Scans a code: writes prefix, AIM identifier (default QR), `data`
    /// and suffix as the configuration says. Fails while unplugged.
    pub fn scan(&self, data: &[u8], symbology: Option<SimSymbology>) -> anyhow::Result<()> {
        let mut st = self.inner.lock();
        let mut frame = st.config.prefix.as_bytes().to_vec();
        if st.config.aim {
            frame.extend_from_slice(symbology.unwrap_or(SimSymbology::Qr).aim());
        }
        frame.extend_from_slice(data);
        frame.extend_from_slice(st.config.suffix.bytes());
        let split = take_fault(&mut st, ScanFault::SplitWrites);
        let noise = take_fault(&mut st, ScanFault::Noise);
        let Some(line) = st.pty.pty() else {
            bail!("scanner is unplugged");
        };
        if noise {
            line.write_all(&NOISE, WRITE_TIMEOUT)?;
            std::thread::sleep(NOISE_PAUSE);
        }
        if split {
            let mut rest = frame.as_slice();
            let mut size = 1usize;
            while !rest.is_empty() {
                let (head, tail) = rest.split_at(size.min(rest.len()));
                line.write_all(head, WRITE_TIMEOUT)?;
                rest = tail;
                size = size * 2 + 1;
                std::thread::sleep(Duration::from_millis(15));
            }
        } else {
            line.write_all(&frame, WRITE_TIMEOUT)?;
        }
        st.scans += 1;
        st.last_scan_bytes = Some(data.len());
        Ok(())
    }

    /// Scans what the control API asked for.
    pub fn scan_request(&self, req: &ScanRequest) -> anyhow::Result<()> {
        self.scan(&req.bytes()?, req.symbology)
    }

    /// Writes line noise now (no suffix).
    pub fn noise(&self) -> anyhow::Result<()> {
        let mut st = self.inner.lock();
        let Some(line) = st.pty.pty() else {
            bail!("scanner is unplugged");
        };
        line.write_all(&NOISE, WRITE_TIMEOUT)?;
        Ok(())
    }

    /// Unplugs (closes the pair, removes the link) or replugs.
    pub fn set_unplugged(&self, unplugged: bool) -> anyhow::Result<()> {
        let mut st = self.inner.lock();
        if unplugged {
            st.pty.unplug();
        } else if st.pty.is_unplugged() {
            st.pty.replug().context("opening a new pseudo-terminal")?;
        }
        st.host_bytes.clear();
        Ok(())
    }

    /// A snapshot for the control API.
    pub fn state(&self) -> ScannerSimState {
        let st = self.inner.lock();
        ScannerSimState {
            config: st.config.clone(),
            unplugged: st.pty.is_unplugged(),
            scans: st.scans,
            last_scan_bytes: st.last_scan_bytes,
            trigger_active: st.trigger_active,
            pending_faults: st.faults.clone(),
            path: self.inner.link.display().to_string(),
        }
    }

    /// Stops listening and closes the pseudo-terminal. Idempotent.
    pub fn stop(&self) {
        self.inner.stop();
        self.inner.lock().pty.unplug();
    }
}

fn take_fault(st: &mut State, fault: ScanFault) -> bool {
    match st.faults.iter().position(|f| *f == fault) {
        Some(i) => {
            st.faults.remove(i);
            true
        }
        None => false,
    }
}

/// Reads host bytes once; false when told to stop.
fn listen_once(inner: &Inner) -> bool {
    let mut st = inner.lock();
    if st.stop {
        return false;
    }
    let mut buf = [0u8; 64];
    let n = match st.pty.pty() {
        Some(line) => line.read(&mut buf, Duration::from_millis(1)).unwrap_or(0),
        None => 0,
    };
    st.host_bytes
        .extend_from_slice(buf.get(..n).unwrap_or_default());
    // Honeywell serial commands: SYN <letter> CR.
    while let Some(cr) = st.host_bytes.iter().position(|&b| b == b'\r') {
        let cmd: Vec<u8> = st.host_bytes.drain(..=cr).collect();
        match cmd.as_slice() {
            [.., 0x16, b'T', b'\r'] => st.trigger_active = Some(true),
            [.., 0x16, b'U', b'\r'] => st.trigger_active = Some(false),
            _ => {}
        }
    }
    if st.host_bytes.len() > 256 {
        st.host_bytes.clear();
    }
    true
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.lock().stop = true;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scan_requests_to_bytes() {
        let r: ScanRequest = serde_json::from_str(r#"{"text":"办事","symbology":"qr"}"#).unwrap();
        assert_eq!(r.bytes().unwrap(), "办事".as_bytes());
        assert_eq!(r.symbology, Some(SimSymbology::Qr));
        let r: ScanRequest =
            serde_json::from_str(r#"{"text":"办事","encoding":"gb18030"}"#).unwrap();
        assert_eq!(r.bytes().unwrap(), vec![0xB0, 0xEC, 0xCA, 0xC2]);
        let r: ScanRequest = serde_json::from_str(r#"{"hex":"00 ff 0D"}"#).unwrap();
        assert_eq!(r.bytes().unwrap(), vec![0, 0xFF, 0x0D]);
        for bad in [
            r#"{}"#,
            r#"{"hex":"0"}"#,
            r#"{"hex":"zz"}"#,
            r#"{"text":"a","hex":"00"}"#,
        ] {
            let r: ScanRequest = serde_json::from_str(bad).unwrap();
            assert!(r.bytes().is_err(), "{bad}");
        }
        let r: ScanRequest = serde_json::from_str(r#"{"text":"a","encoding":"big5"}"#).unwrap();
        assert!(r.bytes().is_err());
    }

    #[test]
    fn noise_holds_no_suffix() {
        assert!(!NOISE.contains(&b'\r') && !NOISE.contains(&b'\n'));
    }
}
