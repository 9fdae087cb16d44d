//! # headless: the off-screen platform with a browser remote view
//!
//! [`install`] replaces Slint's windowing backend with an off-screen one: a
//! single 1920x1080 [`MinimalSoftwareWindow`] drawn by the software renderer
//! into a frame buffer, and a small HTTP/1.1 server (std threads, no extra
//! dependencies) that shows that frame buffer in a browser and feeds the
//! browser's pointer and keyboard input back into the window.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /` | the viewer page (zh-CN): the screen scaled to the browser width, input forwarding |
//! | `GET /frame.png` | the current frame as PNG (encoded once per frame) |
//! | `GET /frame/version[?after=N]` | the frame counter; with `after`, waits up to 25 s for another frame |
//! | `POST /input` | JSON `{"type":"down"\|"move"\|"up","x":..,"y":..}`, `{"type":"leave"}`, `{"type":"wheel","x","y","dx","dy"}`, `{"type":"text","text":"…"}`, `{"type":"key","key":"Enter"}`, or an array of them |
//! | `GET /healthz` | `{"status":"ok","frames":N}` |
//!
//! With a token every request needs `?token=…` (which sets an `HttpOnly`,
//! `SameSite=Strict` cookie) or that cookie; otherwise `401`. Without a token
//! the server binds only to loopback addresses and answers only requests whose
//! `Host` is a loopback name (no DNS rebinding). `POST /input` needs
//! `Content-Type: application/json` and, when the browser sends `Origin`, an
//! origin equal to `Host` (no cross-site input).
//!
//! The event loop ([`Platform::run_event_loop`]) runs on the thread that
//! called [`install`]: each turn it runs the closures posted with
//! `slint::invoke_from_event_loop` / `Weak::upgrade_in_event_loop` and the
//! queued input events, updates timers and animations, draws the window if
//! needed and publishes the frame, then sleeps on a condition variable until
//! the next timer is due (16 ms while animations run) or something is posted.

mod http;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Clipboard, EventLoopProxy, Platform, WindowAdapter, WindowEvent};
use slint::{EventLoopError, PhysicalSize, PlatformError, Rgb8Pixel, SharedPixelBuffer};

/// Width of the off-screen window in pixels (scale factor 1).
pub const WIDTH: u32 = 1920;
/// Height of the off-screen window in pixels (scale factor 1).
pub const HEIGHT: u32 = 1080;

/// Longest sleep of the event loop when no timer is due (a safety net: every
/// posted closure and input event wakes the loop anyway).
const MAX_IDLE: Duration = Duration::from_secs(1);
/// Frame interval while animations run.
const FRAME_INTERVAL: Duration = Duration::from_millis(16);
/// Input events that may wait for the event loop; more are refused (503).
const MAX_QUEUED_INPUT: usize = 4096;

/// Installs an off-screen Slint platform: a 1920x1080 `MinimalSoftwareWindow`
/// rendered by the software renderer into a frame buffer, and an HTTP server
/// on `addr` serving the live screen to a browser.
///
/// Must be called before any Slint component is created, on the thread that
/// will run the event loop (the platform is per thread). `token`: when `Some`,
/// every request needs `?token=…` (or the cookie it sets); when `None` the
/// server refuses to bind to anything but a loopback address (error).
///
/// Errors: non-loopback address without a token, an empty token, the address
/// cannot be bound, or a Slint platform is already set. The server keeps
/// running when the returned [`RemoteView`] is dropped.
pub fn install(addr: SocketAddr, token: Option<String>) -> anyhow::Result<RemoteView> {
    let token = match token {
        Some(t) if t.is_empty() => bail!("the remote view token is empty"),
        Some(t) if t.chars().any(char::is_control) => {
            bail!("the remote view token contains control characters")
        }
        Some(t) => Some(t),
        None if !addr.ip().is_loopback() => bail!(
            "the remote view without a token may only listen on a loopback address, not {addr}"
        ),
        None => None,
    };
    // Bind first: a busy port must not leave a platform behind.
    let listener =
        TcpListener::bind(addr).with_context(|| format!("binding the remote view to {addr}"))?;
    let local_addr = listener.local_addr().context("remote view address")?;

    let shared = Arc::new(Shared::default());
    let window = MinimalSoftwareWindow::new(RepaintBufferType::ReusedBuffer);
    let platform = HeadlessPlatform {
        window: window.clone(),
        shared: shared.clone(),
        ui_thread: thread::current().id(),
        start: Instant::now(),
        buffer: RefCell::new(SharedPixelBuffer::new(WIDTH, HEIGHT)),
        clipboard: RefCell::new([None, None]),
    };
    slint::platform::set_platform(Box::new(platform))
        .map_err(|e| anyhow!("installing the headless platform: {e}"))?;
    window.set_size(PhysicalSize::new(WIDTH, HEIGHT));

    http::spawn(listener, shared.clone(), token.clone())?;
    tracing::info!(%local_addr, token = token.is_some(), "headless remote view listening");
    Ok(RemoteView {
        shared,
        local_addr,
        token,
    })
}

/// Handle on the running remote view (cheap to clone; dropping it changes nothing).
#[derive(Clone)]
pub struct RemoteView {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    token: Option<String>,
}

impl RemoteView {
    /// The address the HTTP server listens on (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The viewer page's URL, with `?token=…` when a token is set (so it is a secret then).
    pub fn url(&self) -> String {
        match &self.token {
            Some(t) => format!(
                "http://{}/?token={}",
                self.local_addr,
                http::percent_encode(t)
            ),
            None => format!("http://{}/", self.local_addr),
        }
    }

    /// Frames rendered so far (0 before the first frame).
    pub fn frame_count(&self) -> u64 {
        lock(&self.shared.frame).counter
    }

    /// Waits up to `timeout` for a frame other than `after`; returns the frame counter.
    pub fn wait_for_frame(&self, after: u64, timeout: Duration) -> u64 {
        self.shared.wait_frame(after, timeout)
    }

    /// The latest frame as PNG; empty before the first frame (or if encoding failed).
    pub fn latest_png(&self) -> Vec<u8> {
        match self.shared.png() {
            Ok(Some((_, png))) => png.as_ref().clone(),
            Ok(None) => Vec::new(),
            Err(e) => {
                tracing::warn!("encoding the remote view frame: {e:#}");
                Vec::new()
            }
        }
    }
}

impl fmt::Debug for RemoteView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteView")
            .field("local_addr", &self.local_addr)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .field("frames", &self.frame_count())
            .finish()
    }
}

/// Work for the event loop, posted from any thread.
enum Task {
    Call(Box<dyn FnOnce() + Send>),
    Input(WindowEvent),
}

#[derive(Default)]
struct LoopState {
    tasks: VecDeque<Task>,
    queued_input: usize,
    quit: bool,
    /// Nesting depth of `run_event_loop` (0: not running).
    running: usize,
}

/// The latest published frame (tightly packed RGB8).
struct Frame {
    counter: u64,
    rgb: Arc<Vec<u8>>,
}

/// State shared by the event loop, the proxy, the HTTP threads and [`RemoteView`].
struct Shared {
    state: Mutex<LoopState>,
    wake: Condvar,
    frame: Mutex<Frame>,
    frame_changed: Condvar,
    /// PNG of frame N; the lock is held while encoding so concurrent requests encode once.
    png: Mutex<Option<(u64, Arc<Vec<u8>>)>>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            state: Mutex::default(),
            wake: Condvar::new(),
            frame: Mutex::new(Frame {
                counter: 0,
                rgb: Arc::new(Vec::new()),
            }),
            frame_changed: Condvar::new(),
            png: Mutex::new(None),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn post(&self, task: Task) {
        lock(&self.state).tasks.push_back(task);
        self.wake.notify_all();
    }

    /// Queues input events for the window; false when too many are waiting.
    fn post_input(&self, events: Vec<WindowEvent>) -> bool {
        let mut st = lock(&self.state);
        if st.queued_input.saturating_add(events.len()) > MAX_QUEUED_INPUT {
            return false;
        }
        st.queued_input += events.len();
        st.tasks.extend(events.into_iter().map(Task::Input));
        drop(st);
        self.wake.notify_all();
        true
    }

    fn publish(&self, rgb: &[u8]) {
        let mut frame = lock(&self.frame);
        match Arc::get_mut(&mut frame.rgb) {
            Some(v) if v.len() == rgb.len() => v.copy_from_slice(rgb),
            _ => frame.rgb = Arc::new(rgb.to_vec()),
        }
        frame.counter += 1;
        drop(frame);
        self.frame_changed.notify_all();
    }

    fn wait_frame(&self, after: u64, timeout: Duration) -> u64 {
        let deadline = Instant::now() + timeout;
        let mut frame = lock(&self.frame);
        while frame.counter == after {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            frame = match self.frame_changed.wait_timeout(frame, left) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
        frame.counter
    }

    /// The current frame as PNG with its counter; `None` before the first frame.
    fn png(&self) -> anyhow::Result<Option<(u64, Arc<Vec<u8>>)>> {
        let mut cache = lock(&self.png);
        let (counter, rgb) = {
            let frame = lock(&self.frame);
            (frame.counter, frame.rgb.clone())
        };
        if counter == 0 {
            return Ok(None);
        }
        if let Some((n, png)) = cache.as_ref()
            && *n == counter
        {
            return Ok(Some((*n, png.clone())));
        }
        let png = Arc::new(encode_png(&rgb)?);
        *cache = Some((counter, png.clone()));
        Ok(Some((counter, png)))
    }
}

fn encode_png(rgb: &[u8]) -> anyhow::Result<Vec<u8>> {
    use image::ImageEncoder as _;
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut out = Vec::with_capacity(256 * 1024);
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive)
        .write_image(rgb, WIDTH, HEIGHT, image::ExtendedColorType::Rgb8)
        .context("PNG encoding")?;
    Ok(out)
}

/// Lets other threads reach the event loop (`slint::invoke_from_event_loop`,
/// `slint::quit_event_loop`, `Weak::upgrade_in_event_loop`).
struct Proxy {
    shared: Arc<Shared>,
    ui_thread: ThreadId,
}

impl EventLoopProxy for Proxy {
    fn quit_event_loop(&self) -> Result<(), EventLoopError> {
        let mut st = lock(&self.shared.state);
        // `Window::hide()` after the loop has returned (as in `component.run()`)
        // asks to quit from the UI thread: that must not end the next run at once.
        // A quit from another thread (a signal handler) before the loop runs is kept.
        if st.running == 0 && thread::current().id() == self.ui_thread {
            return Ok(());
        }
        st.quit = true;
        drop(st);
        self.shared.wake.notify_all();
        Ok(())
    }

    fn invoke_from_event_loop(
        &self,
        event: Box<dyn FnOnce() + Send>,
    ) -> Result<(), EventLoopError> {
        self.shared.post(Task::Call(event));
        Ok(())
    }
}

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
    shared: Arc<Shared>,
    ui_thread: ThreadId,
    start: Instant,
    buffer: RefCell<SharedPixelBuffer<Rgb8Pixel>>,
    clipboard: RefCell<[Option<String>; 2]>,
}

/// Marks the event loop as running for its lifetime (also when unwinding).
struct Running<'a>(&'a Shared);

impl<'a> Running<'a> {
    fn enter(shared: &'a Shared) -> Self {
        lock(&shared.state).running += 1;
        Self(shared)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut st = lock(&self.0.state);
        st.running = st.running.saturating_sub(1);
    }
}

impl HeadlessPlatform {
    fn run(&self) {
        let _running = Running::enter(&self.shared);
        loop {
            slint::platform::update_timers_and_animations();
            let tasks = {
                let mut st = lock(&self.shared.state);
                if st.quit {
                    st.quit = false;
                    return;
                }
                st.queued_input = 0;
                std::mem::take(&mut st.tasks)
            };
            if !tasks.is_empty() {
                for task in tasks {
                    match task {
                        Task::Call(f) => f(),
                        Task::Input(event) => {
                            if let Err(e) = self.window.dispatch_event_with_result(event) {
                                tracing::warn!("remote view input: {e}");
                            }
                        }
                    }
                }
                slint::platform::update_timers_and_animations();
            }
            self.render();

            let timeout = if self.window.has_active_animations() {
                FRAME_INTERVAL
            } else {
                slint::platform::duration_until_next_timer_update()
                    .map_or(MAX_IDLE, |d| d.min(MAX_IDLE))
            };
            let st = lock(&self.shared.state);
            if st.tasks.is_empty() && !st.quit && !timeout.is_zero() {
                drop(match self.shared.wake.wait_timeout(st, timeout) {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                });
            }
        }
    }

    /// Draws the window if needed and publishes the frame when pixels changed.
    fn render(&self) {
        let Ok(mut buffer) = self.buffer.try_borrow_mut() else {
            return; // a nested event loop is drawing
        };
        let mut changed = false;
        self.window.draw_if_needed(|renderer| {
            let region = renderer.render(buffer.make_mut_slice(), WIDTH as usize);
            let size = region.bounding_box_size();
            changed = size.width > 0 && size.height > 0;
        });
        if changed {
            self.shared.publish(buffer.as_bytes());
        }
    }
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, PlatformError> {
        Ok(self.window.clone())
    }

    fn run_event_loop(&self) -> Result<(), PlatformError> {
        self.run();
        Ok(())
    }

    fn new_event_loop_proxy(&self) -> Option<Box<dyn EventLoopProxy>> {
        Some(Box::new(Proxy {
            shared: self.shared.clone(),
            ui_thread: self.ui_thread,
        }))
    }

    fn duration_since_start(&self) -> Duration {
        self.start.elapsed()
    }

    fn set_clipboard_text(&self, text: &str, clipboard: Clipboard) {
        if let Some(slot) = self
            .clipboard
            .borrow_mut()
            .get_mut(clipboard_index(&clipboard))
        {
            *slot = Some(text.to_string());
        }
    }

    fn clipboard_text(&self, clipboard: Clipboard) -> Option<String> {
        self.clipboard
            .borrow()
            .get(clipboard_index(&clipboard))
            .cloned()
            .flatten()
    }

    fn debug_log(&self, arguments: fmt::Arguments) {
        tracing::info!(target: "slint", "{arguments}");
    }
}

fn clipboard_index(clipboard: &Clipboard) -> usize {
    match clipboard {
        Clipboard::SelectionClipboard => 1,
        _ => 0,
    }
}
