//! The player thread: ALSA playback of one prompt at a time.

use std::ffi::CString;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use alsa::pcm::{Access, Format, HwParams, PCM};
use alsa::{Direction, ValueOr};

use crate::{Lang, Prompts, SAMPLE_RATE};

/// Frames written to ALSA at a time (40 ms): a newer prompt or `stop()`
/// is noticed between two chunks.
const CHUNK_FRAMES: usize = 640;
/// How far writing may run ahead of what has been played. Keeps the
/// device's buffer short, so an interrupted prompt stops at once, and
/// paces writing even on PCMs that never block (files, `null`).
const LEAD: Duration = Duration::from_millis(120);
/// Device buffer asked for (µs): more than `LEAD`, so writes rarely block.
const BUFFER_US: u32 = 250_000;
/// Period asked for (µs).
const PERIOD_US: u32 = 40_000;
/// A device that failed to open is tried again on a prompt at most this often.
const REOPEN_AFTER: Duration = Duration::from_secs(30);
/// Linux `EINVAL`, for a device name ALSA cannot take.
const EINVAL: i32 = 22;
/// How long [`Voice::new`] waits for the player thread to open the device.
const OPEN_WAIT: Duration = Duration::from_secs(5);

/// The voice's state, for the maintenance screen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// The ALSA device name, e.g. `default`.
    pub device: String,
    /// The device is open and its last write succeeded.
    pub ok: bool,
    /// The last device error (open, set-up or write), if any.
    pub last_error: Option<String>,
    /// Prompts started on the device since [`Voice::new`].
    pub played_count: u64,
    /// The prompt playing now (`id/lang`), if any.
    pub playing: Option<String>,
    /// Whether the voice is muted.
    pub muted: bool,
}

/// A request to the player thread, numbered in the order it was sent.
enum Cmd {
    Say(u64, String, Lang),
    Stop(u64),
    Quit,
}

/// What the caller and the player thread share.
struct Shared {
    muted: AtomicBool,
    /// Number of the last request sent.
    sent: AtomicU64,
    /// Status plus the number of the last request the thread finished.
    state: Mutex<(Status, u64)>,
    idle: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, (Status, u64)> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, f: impl FnOnce(&mut Status)) {
        f(&mut self.lock().0);
    }

    /// Marks requests up to `seq` finished and nothing playing.
    fn finished(&self, seq: u64) {
        let mut g = self.lock();
        g.0.playing = None;
        g.1 = g.1.max(seq);
        drop(g);
        self.idle.notify_all();
    }
}

/// Speaks prompts through an ALSA device on a player thread.
///
/// Every method returns at once and never fails: without a usable device
/// the voice stays silent and says why in [`Voice::status`].
pub struct Voice {
    tx: Sender<Cmd>,
    shared: Arc<Shared>,
    prompts: Arc<Prompts>,
    thread: Option<JoinHandle<()>>,
}

impl Voice {
    /// Starts the player for the ALSA PCM `device_name` (`"default"` on
    /// the kiosk; `plughw:CARD=…` or a name from an asoundrc otherwise).
    /// The device is opened before this returns (waiting at most 5 s), so
    /// [`Voice::status`] tells at once whether it works.
    pub fn new(device_name: &str, prompts: Prompts, muted: bool) -> Voice {
        let shared = Arc::new(Shared {
            muted: AtomicBool::new(muted),
            sent: AtomicU64::new(0),
            state: Mutex::new((
                Status {
                    device: device_name.to_string(),
                    ok: false,
                    last_error: None,
                    played_count: 0,
                    playing: None,
                    muted,
                },
                0,
            )),
            idle: Condvar::new(),
        });
        let prompts = Arc::new(prompts);
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let player = Player {
            device_name: device_name.to_string(),
            prompts: Arc::clone(&prompts),
            shared: Arc::clone(&shared),
            rx,
            device: None,
            last_attempt: None,
            logged_error: None,
        };
        let thread = std::thread::Builder::new()
            .name("voice".into())
            .spawn(move || player.run(ready_tx));
        let thread = match thread {
            // A device whose open blocks (a busy hw: device) keeps the
            // thread: go on without it, and never wait for it on drop.
            Ok(t) => match ready_rx.recv_timeout(OPEN_WAIT) {
                Ok(()) => Some(t),
                Err(_) => {
                    tracing::warn!(
                        device = device_name,
                        "语音设备打开超时 / the voice device is slow to open"
                    );
                    None
                }
            },
            Err(e) => {
                tracing::error!("语音播放线程无法启动 / cannot start the voice thread: {e}");
                shared.update(|s| s.last_error = Some(format!("thread: {e}")));
                None
            }
        };
        Voice {
            tx,
            shared,
            prompts,
            thread,
        }
    }

    fn send(&self, make: impl FnOnce(u64) -> Cmd) {
        let seq = self.shared.sent.fetch_add(1, Ordering::SeqCst) + 1;
        if self.tx.send(make(seq)).is_err() {
            // No player thread: nothing will ever play; count it done.
            self.shared.finished(seq);
        }
    }

    /// Speaks prompt `id` in `lang`, interrupting the prompt playing.
    /// Returns at once. Unknown ids are logged and ignored; nothing plays
    /// while muted.
    pub fn say(&self, id: &str, lang: Lang) {
        if self.is_muted() {
            return;
        }
        if self.prompts.text(id, lang).is_none() {
            tracing::warn!(prompt = id, "没有这条语音提示 / no such voice prompt");
            return;
        }
        self.send(|seq| Cmd::Say(seq, id.to_string(), lang));
    }

    /// Stops the prompt playing, if any.
    pub fn stop(&self) {
        self.send(Cmd::Stop);
    }

    /// Mutes (stopping the prompt playing) or unmutes the voice.
    pub fn set_muted(&self, muted: bool) {
        self.shared.muted.store(muted, Ordering::SeqCst);
        self.shared.update(|s| s.muted = muted);
        if muted {
            self.stop();
        }
    }

    /// Whether the voice is muted.
    pub fn is_muted(&self) -> bool {
        self.shared.muted.load(Ordering::SeqCst)
    }

    /// The device's state for the maintenance screen.
    pub fn status(&self) -> Status {
        self.shared.lock().0.clone()
    }

    /// The prompts this voice speaks (ids and texts for the maintenance
    /// screen).
    pub fn prompts(&self) -> &Prompts {
        &self.prompts
    }

    /// Waits until every request so far is handled and nothing plays;
    /// `false` if `timeout` passed first (e.g. before shutting down after
    /// a last “goodbye”).
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let target = self.shared.sent.load(Ordering::SeqCst);
        let deadline = Instant::now() + timeout;
        let mut g = self.shared.lock();
        while g.1 < target {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            g = self
                .shared
                .idle
                .wait_timeout(g, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Drop for Voice {
    fn drop(&mut self) {
        let _ = self.tx.send(Cmd::Quit);
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            tracing::error!("语音播放线程异常退出 / the voice thread panicked");
        }
    }
}

/// How a prompt's playback ended.
enum Outcome {
    /// Played to the end.
    Done,
    /// A newer request arrived while playing.
    Interrupted(Cmd),
    /// The device failed.
    Failed(alsa::Error),
}

/// The player thread's state.
struct Player {
    device_name: String,
    prompts: Arc<Prompts>,
    shared: Arc<Shared>,
    rx: Receiver<Cmd>,
    device: Option<PCM>,
    last_attempt: Option<Instant>,
    /// The open error last logged (each distinct error is logged once).
    logged_error: Option<String>,
}

/// Opens `name` for 16 kHz mono S16 playback with a short buffer.
fn open_pcm(name: &str) -> Result<PCM, alsa::Error> {
    // (`PCM::new` would panic on a name with a NUL byte.)
    let c_name = CString::new(name).map_err(|_| alsa::Error::new("snd_pcm_open", EINVAL))?;
    let pcm = PCM::open(&c_name, Direction::Playback, false)?;
    {
        let hw = HwParams::any(&pcm)?;
        hw.set_access(Access::RWInterleaved)?;
        hw.set_format(Format::s16())?;
        hw.set_channels(1)?;
        hw.set_rate(SAMPLE_RATE, ValueOr::Nearest)?;
        hw.set_buffer_time_near(BUFFER_US, ValueOr::Nearest)?;
        hw.set_period_time_near(PERIOD_US, ValueOr::Nearest)?;
        pcm.hw_params(&hw)?;
    }
    Ok(pcm)
}

impl Player {
    fn run(mut self, ready: Sender<()>) {
        self.open();
        let _ = ready.send(());
        let mut next: Option<Cmd> = None;
        loop {
            let cmd = match next.take() {
                Some(c) => c,
                None => match self.rx.recv() {
                    Ok(c) => c,
                    Err(_) => break,
                },
            };
            let cmd = self.latest(cmd);
            match cmd {
                Cmd::Quit => break,
                Cmd::Stop(seq) => self.shared.finished(seq),
                Cmd::Say(seq, id, lang) => {
                    next = self.say(&id, lang);
                    self.shared.finished(seq);
                }
            }
        }
        self.shared.update(|s| s.playing = None);
    }

    /// Skips requests superseded by newer ones already waiting.
    fn latest(&self, mut cmd: Cmd) -> Cmd {
        while !matches!(cmd, Cmd::Quit) {
            match self.rx.try_recv() {
                Ok(newer) => {
                    if let Cmd::Say(seq, ..) | Cmd::Stop(seq) = cmd {
                        self.shared.finished(seq);
                    }
                    cmd = newer;
                }
                Err(_) => break,
            }
        }
        cmd
    }

    /// Opens the device (if not open); logs each distinct failure once.
    fn open(&mut self) {
        if self.device.is_some() {
            return;
        }
        self.last_attempt = Some(Instant::now());
        match open_pcm(&self.device_name) {
            Ok(pcm) => {
                tracing::info!(device = %self.device_name, "语音设备已打开 / voice device opened");
                self.device = Some(pcm);
                self.logged_error = None;
                self.shared.update(|s| s.ok = true);
            }
            Err(e) => {
                let msg = e.to_string();
                if self.logged_error.as_deref() != Some(msg.as_str()) {
                    tracing::warn!(
                        device = %self.device_name,
                        "无法打开语音设备，语音提示静音 / cannot open the voice device, prompts are silent: {msg}"
                    );
                    self.logged_error = Some(msg.clone());
                }
                self.shared.update(|s| {
                    s.ok = false;
                    s.last_error = Some(format!("open {}: {msg}", self.device_name));
                });
            }
        }
    }

    /// Plays one prompt; returns a request that interrupted it.
    fn say(&mut self, id: &str, lang: Lang) -> Option<Cmd> {
        if self.shared.muted.load(Ordering::SeqCst) {
            return None;
        }
        let samples = self.prompts.samples(id, lang)?;
        if samples.is_empty() {
            return None; // Missing file: warned about when loading.
        }
        if self.device.is_none()
            && self
                .last_attempt
                .is_none_or(|t| t.elapsed() >= REOPEN_AFTER)
        {
            self.open();
        }
        let pcm = self.device.take()?;
        self.shared.update(|s| {
            s.played_count += 1;
            s.playing = Some(format!("{id}/{lang}"));
        });
        match self.play(&pcm, &samples) {
            Outcome::Done => {
                self.device = Some(pcm);
                None
            }
            Outcome::Interrupted(cmd) => {
                let _ = pcm.drop();
                self.device = Some(pcm);
                Some(cmd)
            }
            Outcome::Failed(e) => {
                tracing::warn!(device = %self.device_name, "语音播放失败 / voice playback failed: {e}");
                self.shared.update(|s| {
                    s.ok = false;
                    s.last_error = Some(format!("play {}: {e}", self.device_name));
                });
                // Closed now; opened again on a later prompt.
                self.last_attempt = Some(Instant::now());
                None
            }
        }
    }

    /// Waits until `due` after `start`, returning a request that arrives
    /// meanwhile.
    fn wait_until(&self, start: Instant, due: Duration) -> Option<Cmd> {
        loop {
            let left = due.saturating_sub(start.elapsed());
            if left.is_zero() {
                return match self.rx.try_recv() {
                    Ok(c) => Some(c),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => Some(Cmd::Quit),
                };
            }
            match self.rx.recv_timeout(left) {
                Ok(c) => return Some(c),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Some(Cmd::Quit),
            }
        }
    }

    /// Writes the samples chunk by chunk, never more than [`LEAD`] ahead
    /// of real time, then lets the device play out.
    fn play(&self, pcm: &PCM, samples: &[i16]) -> Outcome {
        if let Err(e) = pcm.prepare() {
            return Outcome::Failed(e);
        }
        let io = match pcm.io_i16() {
            Ok(io) => io,
            Err(e) => return Outcome::Failed(e),
        };
        let start = Instant::now();
        let mut written = 0usize;
        for chunk in samples.chunks(CHUNK_FRAMES) {
            let due = frames_time(written).saturating_sub(LEAD);
            if let Some(cmd) = self.wait_until(start, due) {
                return Outcome::Interrupted(cmd);
            }
            let mut rest = chunk;
            while !rest.is_empty() {
                match io.writei(rest) {
                    Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                    // An underrun (the thread was late): prepare and go on.
                    Err(e) => {
                        if let Err(e) = pcm.try_recover(e, true) {
                            return Outcome::Failed(e);
                        }
                    }
                }
            }
            written += chunk.len();
        }
        if let Some(cmd) = self.wait_until(start, frames_time(written)) {
            return Outcome::Interrupted(cmd);
        }
        self.shared.update(|s| s.ok = true);
        match pcm.drain() {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// Playing time of `frames` frames.
fn frames_time(frames: usize) -> Duration {
    Duration::from_micros(frames as u64 * 1_000_000 / u64::from(SAMPLE_RATE))
}
