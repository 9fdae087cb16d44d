//! Simulated network cameras: the face camera and the document camera
//! (高拍仪), each an HTTP server on loopback in the style of Axis VAPIX,
//! written from the camera's side with its own small HTTP/1.0 server.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /axis-cgi/mjpg/video.cgi?resolution=WxH&fps=N` | `multipart/x-mixed-replace; boundary=myboundary`: one `image/jpeg` part per frame at N fps (at most 30; 5 above 1920×1080) until the client goes |
//! | `GET /axis-cgi/jpg/image.cgi?resolution=WxH` | one JPEG; without `resolution` the sensor's full size (4000×3000 on the document camera) |
//! | `GET /axis-cgi/param.cgi?action=list[&group=A,B]` | `root.Brand.*`, `root.Properties.Image.Resolution=4000x3000,1920x1080,1600x1200,1280x720,640x480` (face camera: `1920x1080,1280x720,640x480`), `root.ImageSource.I0.Sensor.{Brightness,Contrast,Sharpness}`, `root.Light.L0.Intensity` (document camera); `# Error: …` for an unknown group |
//! | `GET /axis-cgi/param.cgi?action=update&ImageSource.I0.Sensor.Brightness=70` | `OK` (values 0..=100; the frames change with brightness, contrast and the fill light) |
//!
//! Anything before `/axis-cgi/` in the path is ignored, so a driver
//! configured with a gateway prefix reaches it too. A bad resolution or
//! frame rate is HTTP 400, an unknown path 404.
//!
//! What the camera sees is a [`SceneRequest`] (face, document, a QR code
//! on a phone or on paper, an image file, or the empty desk/wall) drawn
//! by [`crate::scene`]. Drawing and JPEG encoding are expensive (two
//! cores shared by everything), so each scene is drawn once per
//! resolution and encoded into a small ring of frames that differ by
//! sensor noise (and, for a person, a pixel or two of sway); the stream
//! cycles through the ring. The first request after a scene change
//! starts drawing the preview size and, on the document camera, the full
//! sensor size in the background ([`CameraSim::wait_ready`]).
//!
//! Faults ([`CamFault`], one-shot): a corrupt part, a part cut short, a
//! stream that stalls for [`STALL`]. Unplugging drops every connection
//! and refuses new ones until replugged.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, ErrorKind as IoKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::scene::{document, face, qr};

const TICK: Duration = Duration::from_millis(20);
/// How long a stream stays silent for the `stall` fault.
pub const STALL: Duration = Duration::from_secs(5);
/// Frames in the ring of a preview-sized stream.
const RING: usize = 6;
/// JPEG quality of the simulated camera's encoder.
const QUALITY: u8 = 85;
/// The multipart boundary (Axis uses the same).
const BOUNDARY: &str = "myboundary";

/// Which simulated camera.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraModel {
    /// The face camera over the screen: 1920×1080 sensor.
    Face,
    /// The document camera (高拍仪): 12 MP sensor, 4000×3000, with a fill
    /// light.
    Document,
}

impl CameraModel {
    /// Resolutions offered, largest first (the first is the sensor's).
    pub fn resolutions(self) -> &'static [(u32, u32)] {
        match self {
            CameraModel::Face => &[(1920, 1080), (1280, 720), (640, 480)],
            CameraModel::Document => &[
                (4000, 3000),
                (1920, 1080),
                (1600, 1200),
                (1280, 720),
                (640, 480),
            ],
        }
    }

    /// The sensor's full size.
    pub fn sensor(self) -> (u32, u32) {
        match self {
            CameraModel::Face => (1920, 1080),
            CameraModel::Document => (4000, 3000),
        }
    }

    /// `hal`'s machine name of the device class.
    pub fn kind(self) -> &'static str {
        match self {
            CameraModel::Face => "camera",
            CameraModel::Document => "document_camera",
        }
    }

    fn product(self) -> (&'static str, &'static str) {
        match self {
            CameraModel::Face => ("FC-1080", "Kiosk simulated face camera FC-1080"),
            CameraModel::Document => ("DC-1200", "Kiosk simulated document camera DC-1200 (12MP)"),
        }
    }

    /// The scene at start.
    pub fn default_scene(self) -> SceneRequest {
        match self {
            CameraModel::Face => SceneRequest::Face { seed: 1 },
            CameraModel::Document => SceneRequest::Document {
                doc: DocKind::Form,
                seed: 1,
            },
        }
    }

    fn max_fps(w: u32, h: u32) -> u32 {
        if u64::from(w) * u64::from(h) > 1920 * 1080 {
            5
        } else {
            30
        }
    }
}

/// The pages the document scene can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// 申请表, A4.
    #[default]
    Form,
    /// 证明 with a red stamp, A5.
    Certificate,
    /// 常住人口登记卡, A6 landscape.
    Household,
    /// A4 with about 2 000 characters.
    Dense,
}

impl DocKind {
    fn kind(self) -> document::Kind {
        match self {
            DocKind::Form => document::Kind::ApplicationForm,
            DocKind::Certificate => document::Kind::Certificate,
            DocKind::Household => document::Kind::HouseholdRegister,
            DocKind::Dense => document::Kind::Dense,
        }
    }
}

/// What the camera sees, as the control API sets it:
/// `{"scene":"face"}`, `{"scene":"document","doc":"form","seed":3}`,
/// `{"scene":"qr_phone","payload":"…"}`, `{"scene":"qr_paper","payload":"…"}`,
/// `{"scene":"file","path":"/x.png"}`, `{"scene":"empty"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scene", rename_all = "snake_case")]
pub enum SceneRequest {
    /// A cartoon person in front of a wall.
    Face {
        #[serde(default = "one")]
        seed: u64,
    },
    /// A page lying under the camera.
    Document {
        #[serde(default)]
        doc: DocKind,
        #[serde(default = "one")]
        seed: u64,
    },
    /// A phone held up showing a QR code of `payload` (UTF-8).
    QrPhone {
        payload: String,
        #[serde(default)]
        dark: bool,
        #[serde(default = "one")]
        seed: u64,
    },
    /// A printed sheet with a QR code of `payload` (UTF-8).
    QrPaper {
        payload: String,
        #[serde(default = "one")]
        seed: u64,
    },
    /// A PNG or JPEG file, scaled to fill the frame.
    File { path: PathBuf },
    /// Nobody and nothing: the wall (face camera) or the desk (document
    /// camera).
    Empty,
}

fn one() -> u64 {
    1
}

/// A one-shot fault in the next stream frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CamFault {
    /// The next part's bytes are garbage (length kept).
    CorruptFrame,
    /// The next part is a JPEG cut in half (length of the half).
    TruncatedFrame,
    /// The streams go silent for [`STALL`].
    Stall,
}

/// Image settings the clients can change (each 0..=100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Look {
    pub brightness: u8,
    pub contrast: u8,
    pub sharpness: u8,
    /// The document camera's fill light; 0 = off.
    pub light: u8,
}

impl Default for Look {
    fn default() -> Self {
        Look {
            brightness: 50,
            contrast: 50,
            sharpness: 50,
            light: 0,
        }
    }
}

/// What the control API shows.
#[derive(Debug, Clone, Serialize)]
pub struct CameraSimState {
    pub model: CameraModel,
    pub url: String,
    pub scene: SceneRequest,
    pub resolutions: Vec<String>,
    pub look: Look,
    /// Streams being served now.
    pub streams: usize,
    pub frames_sent: u64,
    pub stills: u64,
    pub requests: u64,
    /// The preview (and, on the document camera, the full-size still) of
    /// the current scene is drawn.
    pub ready: bool,
    pub unplugged: bool,
    pub pending_faults: Vec<CamFault>,
}

/// Encoded frames of one scene at one size.
type Ring = Vec<Arc<Vec<u8>>>;
type Lazy<T> = Arc<OnceLock<T>>;

struct State {
    scene: SceneRequest,
    /// A decoded `file` scene.
    file: Option<Arc<RgbImage>>,
    look: Look,
    /// Bumped on every scene change; keys the drawn images.
    scene_epoch: u64,
    /// Bumped on every scene or look change; keys the encoded rings.
    look_epoch: u64,
    bases: HashMap<(u32, u32), Lazy<Arc<RgbImage>>>,
    rings: HashMap<(u32, u32), Lazy<Ring>>,
    warmed: Option<u64>,
    faults: VecDeque<CamFault>,
    unplugged: bool,
    plug_epoch: u64,
    streams: usize,
    frames_sent: u64,
    stills: u64,
    requests: u64,
}

struct Inner {
    model: CameraModel,
    addr: SocketAddr,
    state: Mutex<State>,
    stop: AtomicBool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn halted(&self, plug_epoch: u64) -> bool {
        self.stop.load(Ordering::SeqCst) || self.lock().plug_epoch != plug_epoch
    }

    /// The drawn scene at `w`×`h`, drawing it if needed (outside the lock).
    fn base(&self, w: u32, h: u32) -> Arc<RgbImage> {
        let (cell, scene, file, epoch) = {
            let mut s = self.lock();
            let cell = Arc::clone(s.bases.entry((w, h)).or_default());
            (cell, s.scene.clone(), s.file.clone(), s.scene_epoch)
        };
        Arc::clone(cell.get_or_init(|| {
            let started = Instant::now();
            let img = draw(self.model, &scene, file.as_deref(), w, h);
            tracing::debug!(
                w,
                h,
                epoch,
                ms = started.elapsed().as_millis() as u64,
                "camera scene drawn"
            );
            Arc::new(img)
        }))
    }

    /// The encoded frames at `w`×`h` for the current scene and look.
    fn ring(&self, w: u32, h: u32) -> Arc<Ring> {
        let (cell, look, sway) = {
            let mut s = self.lock();
            let cell = Arc::clone(s.rings.entry((w, h)).or_default());
            (cell, s.look, matches!(s.scene, SceneRequest::Face { .. }))
        };
        // The ring's Arc is cloned out of the OnceLock's value.
        let ring = cell.get_or_init(|| {
            let base = self.base(w, h);
            let n = if u64::from(w) * u64::from(h) > 1920 * 1080 {
                1
            } else {
                RING
            };
            if n == 1 && look == Look::default() {
                // A full-size still: the drawn scene has its own noise.
                return vec![Arc::new(encode(&base))];
            }
            (0..n)
                .map(|i| Arc::new(encode(&variant(&base, look, i, sway, self.model))))
                .collect()
        });
        Arc::new(ring.clone())
    }

    /// Starts drawing the preview and the still in the background once
    /// per scene and look.
    fn warm(self: &Arc<Self>) {
        {
            let mut s = self.lock();
            if s.warmed == Some(s.look_epoch) {
                return;
            }
            s.warmed = Some(s.look_epoch);
        }
        let me = Arc::clone(self);
        let _ = std::thread::Builder::new()
            .name("sim-camera-warm".into())
            .spawn(move || {
                me.ring(1280, 720);
                if me.model == CameraModel::Document {
                    let (w, h) = me.model.sensor();
                    me.ring(w, h);
                }
            });
    }

    fn ready(&self) -> bool {
        let s = self.lock();
        let done = |k: (u32, u32)| s.rings.get(&k).is_some_and(|c| c.get().is_some());
        done((1280, 720)) && (self.model == CameraModel::Face || done(self.model.sensor()))
    }
}

/// A running simulated camera.
#[derive(Clone)]
pub struct CameraSim {
    inner: Arc<Inner>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl CameraSim {
    /// Listens on `addr` (port 0 picks a free one) as a camera of `model`
    /// showing its default scene.
    pub fn start(addr: SocketAddr, model: CameraModel) -> anyhow::Result<CameraSim> {
        let listener = TcpListener::bind(addr).with_context(|| format!("binding {addr}"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            model,
            addr,
            state: Mutex::new(State {
                scene: model.default_scene(),
                file: None,
                look: Look::default(),
                scene_epoch: 0,
                look_epoch: 0,
                bases: HashMap::new(),
                rings: HashMap::new(),
                warmed: None,
                faults: VecDeque::new(),
                unplugged: false,
                plug_epoch: 0,
                streams: 0,
                frames_sent: 0,
                stills: 0,
                requests: 0,
            }),
            stop: AtomicBool::new(false),
        });
        let i2 = Arc::clone(&inner);
        let thread = std::thread::Builder::new()
            .name(format!("sim-camera-{}", addr.port()))
            .spawn(move || accept_loop(&i2, Some(listener)))?;
        Ok(CameraSim {
            inner,
            thread: Arc::new(Mutex::new(Some(thread))),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT/`, the driver's selector.
    pub fn url(&self) -> String {
        format!("http://{}/", self.inner.addr)
    }

    /// Which camera it is.
    pub fn model(&self) -> CameraModel {
        self.inner.model
    }

    /// Shows another scene. A `file` scene is read and decoded now, and a
    /// QR payload encoded now, so a bad one is an error here.
    pub fn set_scene(&self, scene: SceneRequest) -> anyhow::Result<()> {
        let file = match &scene {
            SceneRequest::File { path } => Some(Arc::new(
                image::open(path)
                    .with_context(|| {
                        format!("图片无法读取 / cannot read image {}", path.display())
                    })?
                    .to_rgb8(),
            )),
            SceneRequest::QrPhone { payload, .. } | SceneRequest::QrPaper { payload, .. } => {
                qr::qr(payload.as_bytes(), None, qr::Ec::M, None)?;
                None
            }
            _ => None,
        };
        let mut s = self.inner.lock();
        s.scene = scene;
        s.file = file;
        s.scene_epoch += 1;
        s.look_epoch += 1;
        s.bases.clear();
        s.rings.clear();
        Ok(())
    }

    /// Sets brightness, contrast, sharpness or the fill light (0..=100)
    /// as a client's `param.cgi?action=update` would.
    pub fn set_look(&self, look: Look) {
        let mut s = self.inner.lock();
        if s.look != look {
            s.look = look;
            s.look_epoch += 1;
            s.rings.clear();
        }
    }

    /// Queues a one-shot fault for the next stream frame.
    pub fn inject(&self, fault: CamFault) {
        self.inner.lock().faults.push_back(fault);
    }

    /// Switches the camera off (connections dropped and refused) or on.
    pub fn set_unplugged(&self, unplugged: bool) {
        let mut s = self.inner.lock();
        if unplugged && !s.unplugged {
            s.plug_epoch += 1;
        }
        s.unplugged = unplugged;
    }

    /// Draws the preview (and the document camera's full-size still) of
    /// the current scene now; true when done within `timeout`.
    pub fn wait_ready(&self, timeout: Duration) -> bool {
        self.inner.warm();
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.inner.ready() {
                return true;
            }
            std::thread::sleep(TICK);
        }
        self.inner.ready()
    }

    /// One frame as the camera would send it now, decoded (for tests and
    /// the control API's snapshot).
    pub fn snapshot(&self, w: u32, h: u32) -> Arc<Vec<u8>> {
        let ring = self.inner.ring(w, h);
        ring.first().cloned().unwrap_or_default()
    }

    /// Current state.
    pub fn state(&self) -> CameraSimState {
        let ready = self.inner.ready();
        let s = self.inner.lock();
        CameraSimState {
            model: self.inner.model,
            url: format!("http://{}/", self.inner.addr),
            scene: s.scene.clone(),
            resolutions: self
                .inner
                .model
                .resolutions()
                .iter()
                .map(|(w, h)| format!("{w}x{h}"))
                .collect(),
            look: s.look,
            streams: s.streams,
            frames_sent: s.frames_sent,
            stills: s.stills,
            requests: s.requests,
            ready,
            unplugged: s.unplugged,
            pending_faults: s.faults.iter().copied().collect(),
        }
    }

    /// Stops serving and joins the thread.
    pub fn stop(&self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// Draws `scene` at `w`×`h`.
fn draw(
    model: CameraModel,
    scene: &SceneRequest,
    file: Option<&RgbImage>,
    w: u32,
    h: u32,
) -> RgbImage {
    let fallback = || match model {
        CameraModel::Face => face::background(w, h, 1),
        CameraModel::Document => document::empty_desk(&document::PhotoParams::camera(w, h), 1),
    };
    match scene {
        SceneRequest::Face { seed } => face::face(w, h, *seed),
        SceneRequest::Empty => fallback(),
        SceneRequest::Document { doc, seed } => {
            let params = document::PhotoParams::camera(w, h);
            // Enough page pixels for the photo's scale, no more.
            let dpi = (params.px_per_mm() * 25.4 * 1.15)
                .round()
                .clamp(40.0, 300.0) as u32;
            let page = document::render(doc.kind(), dpi, *seed);
            document::photo(&page, &params, *seed).image
        }
        SceneRequest::QrPhone {
            payload,
            dark,
            seed,
        } => match qr::phone_showing(payload, *dark, *seed) {
            Ok(s) => cover(&s.image, w, h),
            Err(_) => fallback(),
        },
        SceneRequest::QrPaper { payload, seed } => {
            let made = qr::qr(payload.as_bytes(), None, qr::Ec::M, None).and_then(|symbol| {
                let shot = qr::Shot {
                    module_px: (300.0 / symbol.width as f64).clamp(3.0, 8.0),
                    rotation_deg: (*seed % 21) as f64 - 10.0,
                    ..qr::Shot::default()
                };
                qr::render(&symbol, &qr::Medium::Paper, &shot, *seed)
            });
            match made {
                Ok(s) => cover(&s.image, w, h),
                Err(_) => fallback(),
            }
        }
        SceneRequest::File { .. } => match file {
            Some(img) => cover(img, w, h),
            None => fallback(),
        },
    }
}

/// `img` scaled to cover `w`×`h` and cut to it around its centre.
fn cover(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    if img.dimensions() == (w, h) {
        return img.clone();
    }
    let (iw, ih) = (
        f64::from(img.width().max(1)),
        f64::from(img.height().max(1)),
    );
    let scale = (f64::from(w) / iw).max(f64::from(h) / ih);
    let (sw, sh) = (
        ((iw * scale).ceil() as u32).max(w),
        ((ih * scale).ceil() as u32).max(h),
    );
    let scaled = image::imageops::resize(img, sw, sh, image::imageops::FilterType::Triangle);
    image::imageops::crop_imm(&scaled, (sw - w) / 2, (sh - h) / 2, w, h).to_image()
}

/// Frame `i` of a ring: the look applied, sensor noise from a cheap
/// generator seeded by `i`, and for a person a pixel or two of sway.
fn variant(base: &RgbImage, look: Look, i: usize, sway: bool, model: CameraModel) -> RgbImage {
    const SWAY: [(i64, i64); RING] = [(0, 0), (1, 0), (2, 1), (1, 1), (0, 1), (-1, 0)];
    let (dx, dy) = if sway {
        SWAY.get(i).copied().unwrap_or((0, 0))
    } else {
        (0, 0)
    };
    let gain = 0.5 + f32::from(look.brightness) / 100.0;
    let contrast = 0.5 + f32::from(look.contrast) / 100.0;
    let fill = if model == CameraModel::Document {
        f32::from(look.light) / 100.0 * 0.3
    } else {
        0.0
    };
    let (w, h) = (i64::from(base.width()), i64::from(base.height()));
    let mut seed = (i as u32).wrapping_mul(0x9E37_79B9) | 1;
    let mut out = RgbImage::new(base.width(), base.height());
    for (x, y, p) in out.enumerate_pixels_mut() {
        let sx = (i64::from(x) - dx).clamp(0, w - 1) as u32;
        let sy = (i64::from(y) - dy).clamp(0, h - 1) as u32;
        let src = base.get_pixel(sx, sy).0;
        // xorshift32: noise of about ±3 grey levels.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let n = ((seed & 0x7) as f32) - 3.5;
        *p = Rgb(src.map(|c| {
            let v = (f32::from(c) - 128.0) * contrast + 128.0;
            let v = v * gain;
            let v = v + (255.0 - v) * fill + n;
            v.round().clamp(0.0, 255.0) as u8
        }));
    }
    out
}

fn encode(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY);
    if let Err(e) = img.write_with_encoder(enc) {
        tracing::warn!(error = %e, "camera frame could not be encoded");
    }
    out
}

fn accept_loop(inner: &Arc<Inner>, mut listener: Option<TcpListener>) {
    let mut conns: Vec<JoinHandle<()>> = Vec::new();
    while !inner.stop.load(Ordering::SeqCst) {
        let (unplugged, epoch) = {
            let s = inner.lock();
            (s.unplugged, s.plug_epoch)
        };
        if unplugged {
            listener = None;
            std::thread::sleep(TICK);
            continue;
        }
        let Some(l) = crate::net::ensure_listening(&mut listener, inner.addr, "camera") else {
            continue;
        };
        match l.accept() {
            Ok((stream, _)) => {
                let i2 = Arc::clone(inner);
                if let Ok(h) = std::thread::Builder::new()
                    .name("sim-camera-conn".into())
                    .spawn(move || {
                        if let Err(e) = serve(&i2, stream, epoch) {
                            tracing::debug!(error = %e, "camera connection ended");
                        }
                    })
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

/// `%XX` and `+` decoded.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(c);
            }
            b'+' => out.push(b' '),
            _ => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reply(stream: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.0 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

fn serve(inner: &Arc<Inner>, mut stream: TcpStream, epoch: u64) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.by_ref().take(8192).read_line(&mut line)?;
    let mut head_bytes = line.len();
    loop {
        let mut h = String::new();
        let n = reader.by_ref().take(8192).read_line(&mut h)?;
        head_bytes += n;
        if n == 0 || h.trim().is_empty() || head_bytes > 16 * 1024 {
            break;
        }
    }
    inner.lock().requests += 1;
    inner.warm();
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" {
        return reply(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\r\n",
        );
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (unescape(k), unescape(v))
        })
        .collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let cgi = path
        .find("/axis-cgi/")
        .map_or(path, |i| path.get(i..).unwrap_or(path));
    let model = inner.model;
    let size = |default: (u32, u32)| -> Option<(u32, u32)> {
        match get("resolution") {
            None => Some(default),
            Some(r) => {
                let (w, h) = r.split_once('x')?;
                let size = (w.parse().ok()?, h.parse().ok()?);
                model.resolutions().contains(&size).then_some(size)
            }
        }
    };
    match cgi {
        "/axis-cgi/param.cgi" => {
            let body = params(inner, get("action").unwrap_or("list"), get("group"), &query);
            reply(&mut stream, "200 OK", "text/plain", body.as_bytes())
        }
        "/axis-cgi/jpg/image.cgi" => {
            let Some((w, h)) = size(model.sensor()) else {
                return reply(
                    &mut stream,
                    "400 Bad Request",
                    "text/plain",
                    b"Error: resolution not supported\r\n",
                );
            };
            let ring = inner.ring(w, h);
            if inner.halted(epoch) {
                return Ok(());
            }
            inner.lock().stills += 1;
            let jpeg = ring.first().cloned().unwrap_or_default();
            reply(&mut stream, "200 OK", "image/jpeg", &jpeg)
        }
        "/axis-cgi/mjpg/video.cgi" => {
            let preview = if model.resolutions().contains(&(1280, 720)) {
                (1280, 720)
            } else {
                model.sensor()
            };
            let fps = get("fps").map_or(Some(30), |f| {
                f.parse::<u32>().ok().filter(|f| (1..=30).contains(f))
            });
            let (Some((w, h)), Some(fps)) = (size(preview), fps) else {
                return reply(
                    &mut stream,
                    "400 Bad Request",
                    "text/plain",
                    b"Error: resolution or fps not supported\r\n",
                );
            };
            inner.lock().streams += 1;
            let r = stream_frames(
                inner,
                &mut stream,
                w,
                h,
                fps.min(CameraModel::max_fps(w, h)),
                epoch,
            );
            inner.lock().streams -= 1;
            r
        }
        _ => reply(
            &mut stream,
            "404 Not Found",
            "text/plain",
            b"Error: no such CGI\r\n",
        ),
    }
}

/// The parameter list or update answer.
fn params(inner: &Inner, action: &str, groups: Option<&str>, query: &[(String, String)]) -> String {
    let model = inner.model;
    let writable = |k: &str| {
        matches!(
            k,
            "ImageSource.I0.Sensor.Brightness"
                | "ImageSource.I0.Sensor.Contrast"
                | "ImageSource.I0.Sensor.Sharpness"
        ) || (model == CameraModel::Document && k == "Light.L0.Intensity")
    };
    if action == "update" {
        let mut look = inner.lock().look;
        for (k, v) in query.iter().filter(|(k, _)| k != "action") {
            let key = k.trim_start_matches("root.");
            let Some(v) = v.parse::<u8>().ok().filter(|v| *v <= 100) else {
                return format!("# Error: {key} must be 0..100\r\n");
            };
            match key {
                "ImageSource.I0.Sensor.Brightness" => look.brightness = v,
                "ImageSource.I0.Sensor.Contrast" => look.contrast = v,
                "ImageSource.I0.Sensor.Sharpness" => look.sharpness = v,
                k if writable(k) => look.light = v,
                _ => return format!("# Error: Error setting '{key}'\r\n"),
            }
        }
        let mut s = inner.lock();
        if s.look != look {
            s.look = look;
            s.look_epoch += 1;
            s.rings.clear();
        }
        return "OK\r\n".to_string();
    }
    if action != "list" {
        return format!("# Error: unknown action {action}\r\n");
    }
    let look = inner.lock().look;
    let (nbr, full) = model.product();
    let resolutions: Vec<String> = model
        .resolutions()
        .iter()
        .map(|(w, h)| format!("{w}x{h}"))
        .collect();
    let mut all = vec![
        ("Brand.Brand".to_string(), "KIOSK-SIM".to_string()),
        ("Brand.ProdFullName".into(), full.into()),
        ("Brand.ProdNbr".into(), nbr.into()),
        (
            "Brand.ProdType".into(),
            match model {
                CameraModel::Face => "Network Camera",
                CameraModel::Document => "Document Camera",
            }
            .into(),
        ),
        ("Properties.Image.Format".into(), "jpeg,mjpeg".into()),
        ("Properties.Image.Resolution".into(), resolutions.join(",")),
        (
            "ImageSource.I0.Sensor.Brightness".into(),
            look.brightness.to_string(),
        ),
        (
            "ImageSource.I0.Sensor.Contrast".into(),
            look.contrast.to_string(),
        ),
        (
            "ImageSource.I0.Sensor.Sharpness".into(),
            look.sharpness.to_string(),
        ),
    ];
    if model == CameraModel::Document {
        all.push(("Light.L0.Intensity".into(), look.light.to_string()));
    }
    let mut out = String::new();
    let wanted: Vec<&str> = groups.map_or_else(Vec::new, |g| {
        g.split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .collect()
    });
    if wanted.is_empty() {
        for (k, v) in &all {
            out.push_str(&format!("root.{k}={v}\r\n"));
        }
        return out;
    }
    for g in wanted {
        let g = g.trim_start_matches("root.");
        let lines: Vec<&(String, String)> = all
            .iter()
            .filter(|(k, _)| k == g || k.starts_with(&format!("{g}.")))
            .collect();
        if lines.is_empty() {
            out.push_str(&format!(
                "# Error: Error -1 getting param in group '{g}'\r\n"
            ));
        }
        for (k, v) in lines {
            out.push_str(&format!("root.{k}={v}\r\n"));
        }
    }
    out
}

/// Serves the MJPEG stream until the client goes, the camera is
/// unplugged or stopped.
fn stream_frames(
    inner: &Arc<Inner>,
    stream: &mut TcpStream,
    w: u32,
    h: u32,
    fps: u32,
    epoch: u64,
) -> std::io::Result<()> {
    write!(
        stream,
        "HTTP/1.0 200 OK\r\nCache-Control: no-cache\r\nPragma: no-cache\r\nConnection: close\r\nContent-Type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\n\r\n"
    )?;
    let interval = Duration::from_secs(1) / fps.max(1);
    let mut next = Instant::now();
    let mut i = 0usize;
    loop {
        if inner.halted(epoch) {
            return Ok(());
        }
        let ring = inner.ring(w, h);
        let Some(frame) = ring.get(i % ring.len().max(1)).cloned() else {
            return Ok(());
        };
        i += 1;
        let fault = inner.lock().faults.pop_front();
        let data: std::borrow::Cow<'_, [u8]> = match fault {
            Some(CamFault::CorruptFrame) => frame
                .iter()
                .map(|b| b.wrapping_mul(31).wrapping_add(7))
                .collect(),
            Some(CamFault::TruncatedFrame) => {
                frame.get(..frame.len() / 2).unwrap_or_default().into()
            }
            Some(CamFault::Stall) => {
                let until = Instant::now() + STALL;
                while Instant::now() < until {
                    if inner.halted(epoch) {
                        return Ok(());
                    }
                    std::thread::sleep(TICK);
                }
                next = Instant::now();
                frame.as_slice().into()
            }
            None => frame.as_slice().into(),
        };
        write!(
            stream,
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            data.len()
        )?;
        stream.write_all(&data)?;
        stream.write_all(b"\r\n")?;
        inner.lock().frames_sent += 1;
        next += interval;
        let now = Instant::now();
        if next > now {
            // Sleep in short steps so unplug is noticed at once.
            while Instant::now() < next {
                if inner.halted(epoch) {
                    return Ok(());
                }
                std::thread::sleep((next - Instant::now()).min(TICK));
            }
        } else {
            next = now;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    fn get(addr: SocketAddr, path: &str) -> (String, Vec<u8>) {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (
            String::from_utf8_lossy(&raw[..at]).into_owned(),
            raw[at + 4..].to_vec(),
        )
    }

    #[test]
    fn params_stills_and_errors() {
        let cam = CameraSim::start("127.0.0.1:0".parse().unwrap(), CameraModel::Face).unwrap();
        let (head, body) = get(
            cam.addr(),
            "/axis-cgi/param.cgi?action=list&group=Properties.Image.Resolution",
        );
        assert!(head.starts_with("HTTP/1.0 200"), "{head}");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "root.Properties.Image.Resolution=1920x1080,1280x720,640x480\r\n"
        );
        let (_, body) = get(
            cam.addr(),
            "/axis-cgi/param.cgi?action=list&group=Brand,Nope",
        );
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("root.Brand.ProdNbr=FC-1080"), "{text}");
        assert!(text.contains("# Error: Error -1 getting param in group 'Nope'"));
        let (head, jpeg) = get(cam.addr(), "/gw/axis-cgi/jpg/image.cgi?resolution=640x480");
        assert!(head.contains("image/jpeg"), "{head}");
        let img = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((img.width(), img.height()), (640, 480));
        let (head, _) = get(cam.addr(), "/axis-cgi/jpg/image.cgi?resolution=123x45");
        assert!(head.starts_with("HTTP/1.0 400"), "{head}");
        let (head, _) = get(cam.addr(), "/axis-cgi/mjpg/video.cgi?fps=0");
        assert!(head.starts_with("HTTP/1.0 400"), "{head}");
        let (head, _) = get(cam.addr(), "/index.html");
        assert!(head.starts_with("HTTP/1.0 404"), "{head}");
        let (_, body) = get(
            cam.addr(),
            "/axis-cgi/param.cgi?action=update&ImageSource.I0.Sensor.Brightness=80",
        );
        assert_eq!(body, b"OK\r\n");
        assert_eq!(cam.state().look.brightness, 80);
        let (_, body) = get(
            cam.addr(),
            "/axis-cgi/param.cgi?action=update&Light.L0.Intensity=80",
        );
        assert!(body.starts_with(b"# Error"), "the face camera has no light");
        assert!(
            cam.set_scene(SceneRequest::File {
                path: "/nonexistent.png".into()
            })
            .is_err()
        );
        cam.stop();
    }

    #[test]
    fn scenes_parse_from_the_control_api_json() {
        let s: SceneRequest =
            serde_json::from_str(r#"{"scene":"document","doc":"household","seed":7}"#).unwrap();
        assert_eq!(
            s,
            SceneRequest::Document {
                doc: DocKind::Household,
                seed: 7
            }
        );
        let s: SceneRequest =
            serde_json::from_str(r#"{"scene":"qr_phone","payload":"卫东区"}"#).unwrap();
        assert!(
            matches!(s, SceneRequest::QrPhone { ref payload, dark: false, seed: 1 } if payload == "卫东区")
        );
        let s: SceneRequest = serde_json::from_str(r#"{"scene":"empty"}"#).unwrap();
        assert_eq!(s, SceneRequest::Empty);
        assert!(serde_json::from_str::<SceneRequest>(r#"{"scene":"moon"}"#).is_err());
    }

    #[test]
    fn frames_in_a_ring_differ_and_the_look_changes_them() {
        let base = face::face(160, 90, 1);
        let a = variant(&base, Look::default(), 0, true, CameraModel::Face);
        let b = variant(&base, Look::default(), 1, true, CameraModel::Face);
        assert_ne!(a, b);
        let dark = variant(
            &base,
            Look {
                brightness: 10,
                ..Look::default()
            },
            0,
            true,
            CameraModel::Face,
        );
        let mean = |i: &RgbImage| {
            i.as_raw().iter().map(|&v| u64::from(v)).sum::<u64>() / i.as_raw().len() as u64
        };
        assert!(
            mean(&dark) + 40 < mean(&a),
            "{} vs {}",
            mean(&dark),
            mean(&a)
        );
        let c = cover(&base, 40, 40);
        assert_eq!(c.dimensions(), (40, 40));
    }
}
