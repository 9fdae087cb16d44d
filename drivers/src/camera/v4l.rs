//! USB (UVC) cameras through V4L2 with `nokhwa` 0.10.
//!
//! Selectors:
//!
//! | selector | camera |
//! | --- | --- |
//! | `v4l:/dev/video0` (or a `/dev/v4l/by-id/…` link) | that node |
//! | `v4l:name=SUBSTRING` | the first capture node whose V4L2 name (`/sys/class/video4linux/videoN/name`) contains SUBSTRING |
//! | `usb:VID:PID[:SERIAL]` | the first capture node of the USB device with these ids (read from `/sys/class/video4linux/videoN/device/../idVendor`, `idProduct`, `serial`) |
//!
//! A UVC camera makes two nodes (video and metadata); only the one whose
//! sysfs `index` is 0 is taken.
//!
//! ## How it works
//!
//! `nokhwa`'s camera blocks in `frame()` and panics in its `Drop` when
//! stopping fails, so one worker thread owns it: the driver sends
//! commands (start, stop, still, controls) over a channel and the worker
//! puts every frame into a `FrameSlot`. A panic there only ends
//! that thread; the driver then reports [`ErrorKind::Disconnected`] and
//! the actor opens the camera afresh.
//!
//! * Preview: the exact mode asked for, MJPEG preferred ([`choose_format`]),
//!   handed out as MJPEG bytes (checked with [`super::check_jpeg`],
//!   corrupt ones skipped); YUYV/NV12/RGB are decoded by nokhwa to RGB,
//!   GREY is given as luma.
//! * Still: the stream stops, the largest resolution is set
//!   ([`still_format`], MJPEG preferred: many document cameras offer
//!   their top size only in MJPEG), [`SETTLE_FRAMES`] frames are dropped
//!   while exposure and focus settle (or as many as the deadline allows),
//!   the next good one is kept, and the preview mode is restored.
//! * Controls: brightness, contrast, gain, sharpness, white balance
//!   (with auto), exposure (absolute, with auto), focus (absolute, with
//!   autofocus), zoom (absolute), where the camera lists them.
//!
//! Not exercised here: the build machines have no `/dev/video*`. The
//! sysfs lookups and the format choice are unit-tested.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use hal::camera::{
    Camera, CameraInfo, Control, ControlId, ControlValue, DocumentCamera, Frame, PREVIEW,
    PaperSize, PixelFormat, VideoMode, closest_mode,
};
use hal::{Device, DeviceError, DeviceKind, ErrorKind, Health, HealthState, Selector};
use nokhwa::pixel_format::{LumaFormat, RgbFormat};
use nokhwa::utils::{
    CameraFormat, CameraIndex, ControlValueDescription, ControlValueSetter, FrameFormat,
    KnownCameraControl, RequestedFormat, RequestedFormatType,
};
use nokhwa::{Camera as NokhwaCamera, NokhwaError};

use super::{FrameSlot, check_jpeg};

/// Frames dropped before a still is kept, while exposure and focus settle.
pub const SETTLE_FRAMES: usize = 5;
/// How long opening may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);
/// Grace for a command beyond the caller's deadline before the worker is
/// taken as hung.
const GRACE: Duration = Duration::from_millis(500);

// V4L2 control ids (linux/v4l2-controls.h) that nokhwa 0.10 names only
// as `Other`: the camera class holds the absolute and automatic forms UVC
// cameras offer.
const CID_AUTO_WHITE_BALANCE: u32 = 0x0098_090c;
const CID_WHITE_BALANCE_TEMPERATURE: u32 = 0x0098_091a;
const CID_EXPOSURE_AUTO: u32 = 0x009a_0901;
const CID_EXPOSURE_ABSOLUTE: u32 = 0x009a_0902;
const CID_FOCUS_ABSOLUTE: u32 = 0x009a_090a;
const CID_FOCUS_AUTO: u32 = 0x009a_090c;
const CID_ZOOM_ABSOLUTE: u32 = 0x009a_090d;
/// `V4L2_EXPOSURE_MANUAL` and `V4L2_EXPOSURE_APERTURE_PRIORITY` (the
/// automatic mode UVC cameras offer).
const EXPOSURE_MANUAL: i64 = 1;
const EXPOSURE_APERTURE_PRIORITY: i64 = 3;

/// The nokhwa control for a hal control, and its automatic switch.
fn nokhwa_control(id: ControlId) -> Option<(KnownCameraControl, Option<u32>)> {
    let other = |c: u32| KnownCameraControl::Other(u128::from(c));
    Some(match id {
        ControlId::Brightness => (KnownCameraControl::Brightness, None),
        ControlId::Contrast => (KnownCameraControl::Contrast, None),
        ControlId::Gain => (KnownCameraControl::Gain, None),
        ControlId::Sharpness => (KnownCameraControl::Sharpness, None),
        ControlId::WhiteBalance => (
            other(CID_WHITE_BALANCE_TEMPERATURE),
            Some(CID_AUTO_WHITE_BALANCE),
        ),
        ControlId::Exposure => (other(CID_EXPOSURE_ABSOLUTE), Some(CID_EXPOSURE_AUTO)),
        ControlId::Focus => (other(CID_FOCUS_ABSOLUTE), Some(CID_FOCUS_AUTO)),
        ControlId::Zoom => (other(CID_ZOOM_ABSOLUTE), None),
        ControlId::Light => return None,
    })
}

/// Which pixel formats the driver takes, best first; `None` for others.
pub fn format_rank(f: FrameFormat) -> Option<u8> {
    match f {
        FrameFormat::MJPEG => Some(0),
        FrameFormat::YUYV => Some(1),
        FrameFormat::NV12 => Some(2),
        FrameFormat::GRAY => Some(3),
        FrameFormat::RAWRGB => Some(4),
        FrameFormat::RAWBGR => Some(5),
    }
}

/// The modes of a camera's formats: each size and rate once, largest
/// first, formats the driver cannot take left out.
pub fn modes_of(formats: &[CameraFormat]) -> Vec<VideoMode> {
    let mut modes: Vec<VideoMode> = formats
        .iter()
        .filter(|f| format_rank(f.format()).is_some())
        .map(|f| VideoMode::new(f.width(), f.height(), f.frame_rate()))
        .collect();
    modes.sort_by_key(|m| std::cmp::Reverse((m.pixels(), m.fps)));
    modes.dedup();
    modes
}

/// The format for a preview `mode`: that size and rate, best pixel
/// format ([`format_rank`]).
pub fn choose_format(formats: &[CameraFormat], mode: VideoMode) -> Option<CameraFormat> {
    formats
        .iter()
        .filter(|f| f.width() == mode.width && f.height() == mode.height)
        .filter(|f| f.frame_rate() == mode.fps)
        .filter_map(|f| Some((format_rank(f.format())?, *f)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, f)| f)
}

/// The format for a still: the largest size, then the best pixel
/// format, then the highest rate.
pub fn still_format(formats: &[CameraFormat]) -> Option<CameraFormat> {
    formats
        .iter()
        .filter_map(|f| Some((format_rank(f.format())?, *f)))
        .min_by_key(|(rank, f)| {
            (
                std::cmp::Reverse(u64::from(f.width()) * u64::from(f.height())),
                *rank,
                std::cmp::Reverse(f.frame_rate()),
            )
        })
        .map(|(_, f)| f)
}

fn node_number(name: &str) -> Option<u32> {
    name.strip_prefix("video")?.parse().ok()
}

fn read_attr(dir: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .map(|s| s.trim().to_string())
}

/// The video4linux nodes under `sys` (`/sys`) that capture: `(N, dir)`
/// for `/dev/videoN`, in number order.
fn capture_nodes(sys: &Path) -> Vec<(u32, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(sys.join("class/video4linux")) else {
        return Vec::new();
    };
    let mut nodes: Vec<(u32, PathBuf)> = entries
        .flatten()
        .filter_map(|e| Some((node_number(e.file_name().to_str()?)?, e.path())))
        .filter(|(_, dir)| read_attr(dir, "index").is_none_or(|i| i == "0"))
        .collect();
    nodes.sort();
    nodes
}

/// The `/dev/videoN` numbers of the USB camera with these ids (and
/// serial number, when given), capture nodes only, in order.
pub fn find_by_usb(sys: &Path, vendor: u16, product: u16, serial: Option<&str>) -> Vec<u32> {
    capture_nodes(sys)
        .into_iter()
        .filter(|(_, dir)| {
            let Ok(iface) = std::fs::canonicalize(dir.join("device")) else {
                return false;
            };
            // The interface directory's parent (or an ancestor a few
            // levels up) is the USB device with idVendor/idProduct.
            iface.ancestors().take(4).any(|d| {
                let hex = |n| read_attr(d, n).and_then(|v| u16::from_str_radix(&v, 16).ok());
                hex("idVendor") == Some(vendor)
                    && hex("idProduct") == Some(product)
                    && serial.is_none_or(|s| read_attr(d, "serial").as_deref() == Some(s))
            })
        })
        .map(|(n, _)| n)
        .collect()
}

/// The `/dev/videoN` numbers of capture nodes whose name contains
/// `needle` (case-insensitive), in order.
pub fn find_by_name(sys: &Path, needle: &str) -> Vec<u32> {
    let needle = needle.to_lowercase();
    capture_nodes(sys)
        .into_iter()
        .filter(|(_, dir)| {
            read_attr(dir, "name").is_some_and(|n| n.to_lowercase().contains(&needle))
        })
        .map(|(n, _)| n)
        .collect()
}

/// The `/dev/videoN` number a selector names, looking in `sys` for
/// names and USB ids.
pub fn resolve(selector: &Selector, sys: &Path) -> Result<u32, DeviceError> {
    let not_found = |what: String| DeviceError::new(ErrorKind::NotFound, what);
    match selector {
        Selector::V4l {
            path: Some(path), ..
        } => {
            let real = std::fs::canonicalize(path)
                .map_err(|e| DeviceError::from_io(e, &format!("camera node {path}")))?;
            real.file_name()
                .and_then(|n| n.to_str())
                .and_then(node_number)
                .ok_or_else(|| {
                    DeviceError::new(
                        ErrorKind::Config,
                        format!("{path} is not a /dev/videoN node"),
                    )
                })
        }
        Selector::V4l { path: None, .. } => {
            let name = selector.option("name").unwrap_or_default();
            find_by_name(sys, name)
                .first()
                .copied()
                .ok_or_else(|| not_found(format!("no V4L2 camera named like {name:?}")))
        }
        Selector::Usb {
            vendor,
            product,
            serial,
        } => find_by_usb(sys, *vendor, *product, serial.as_deref())
            .first()
            .copied()
            .ok_or_else(|| {
                not_found(format!(
                    "no V4L2 camera on USB {vendor:04x}:{product:04x}{}",
                    serial
                        .as_deref()
                        .map(|s| format!(" serial {s}"))
                        .unwrap_or_default()
                ))
            }),
        other => Err(DeviceError::new(
            ErrorKind::Config,
            format!("V4L2 camera needs v4l: or usb:, not {other}"),
        )),
    }
}

/// A nokhwa error as a hal error; `gone` when the camera is the likely
/// cause (a failed frame read or stream).
fn nokhwa_error(e: NokhwaError, what: &str) -> DeviceError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    let kind = if lower.contains("permission denied") {
        ErrorKind::PermissionDenied
    } else if lower.contains("busy") {
        ErrorKind::Busy
    } else if lower.contains("no such device") || lower.contains("no such file") {
        ErrorKind::Disconnected
    } else {
        match e {
            NokhwaError::ReadFrameError(_)
            | NokhwaError::OpenStreamError(_)
            | NokhwaError::OpenDeviceError(..)
            | NokhwaError::InitializeError { .. } => ErrorKind::Disconnected,
            NokhwaError::SetPropertyError { .. } => ErrorKind::Unsupported,
            NokhwaError::UnsupportedOperationError(_) | NokhwaError::NotImplementedError(_) => {
                ErrorKind::Unsupported
            }
            _ => ErrorKind::Protocol,
        }
    };
    DeviceError::new(kind, format!("{what}: {text}"))
}

type Reply<T> = Sender<Result<T, DeviceError>>;

enum Cmd {
    Start(VideoMode, Reply<()>),
    Stop(Reply<()>),
    Still(Instant, Reply<Frame>),
    Controls(Reply<Vec<Control>>),
    Set(ControlId, ControlValue, Reply<()>),
}

/// What the worker found at open.
struct Opened {
    info: CameraInfo,
    modes: Vec<VideoMode>,
}

/// A V4L2 camera.
pub struct V4lCamera {
    kind: DeviceKind,
    info: CameraInfo,
    modes: Vec<VideoMode>,
    commands: Option<Sender<Cmd>>,
    worker: Option<JoinHandle<()>>,
    slot: Arc<FrameSlot>,
    health: Health,
    mode: Option<VideoMode>,
    /// The mode last started: `next_frame` restarts a stopped or failed
    /// stream in it.
    last_mode: Option<VideoMode>,
}

impl std::fmt::Debug for V4lCamera {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("V4lCamera")
            .field("location", &self.info.location)
            .field("mode", &self.mode)
            .finish()
    }
}

impl V4lCamera {
    /// Opens the camera a `v4l:` or `usb:` selector names, as a device of
    /// `kind`.
    pub fn open(selector: &Selector, kind: DeviceKind) -> Result<V4lCamera, DeviceError> {
        let index = resolve(selector, Path::new("/sys"))?;
        let node = format!("/dev/video{index}");
        // Opening the node ourselves first gives the right error kind
        // (missing, permission) where nokhwa gives only text.
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&node)
            .map_err(|e| DeviceError::from_io(e, &format!("opening {node}")))?;
        let slot = Arc::new(FrameSlot::default());
        let (tx, rx) = mpsc::channel();
        let (otx, orx) = mpsc::channel();
        let slot2 = Arc::clone(&slot);
        let worker = std::thread::Builder::new()
            .name(format!("v4l-video{index}"))
            .spawn(move || worker(index, &otx, &rx, &slot2))
            .map_err(|e| {
                DeviceError::new(ErrorKind::Busy, "cannot start camera thread").with_source(e)
            })?;
        let opened = match orx.recv_timeout(OPEN_TIMEOUT) {
            Ok(r) => r?,
            Err(_) => {
                return Err(DeviceError::timeout(format!("{node} did not open in time")));
            }
        };
        let mut health = Health::ok();
        health.set(HealthState::Ok, None, "摄像头正常", "camera OK");
        Ok(V4lCamera {
            kind,
            info: opened.info,
            modes: opened.modes,
            commands: Some(tx),
            worker: Some(worker),
            slot,
            health,
            mode: None,
            last_mode: None,
        })
    }

    /// Sends a command and waits for its answer until `deadline` (plus
    /// a little grace for a frame in flight).
    fn ask<T>(
        &mut self,
        make: impl FnOnce(Reply<T>) -> Cmd,
        deadline: Instant,
    ) -> Result<T, DeviceError> {
        let (tx, rx) = mpsc::channel();
        let sent = self
            .commands
            .as_ref()
            .is_some_and(|c| c.send(make(tx)).is_ok());
        if !sent {
            return Err(self.gone("camera thread has stopped"));
        }
        let wait = deadline.saturating_duration_since(Instant::now()) + GRACE;
        match rx.recv_timeout(wait) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if e.kind() == ErrorKind::Disconnected {
                    self.health.set(
                        HealthState::Offline,
                        Some(ErrorKind::Disconnected.code()),
                        "摄像头已断开连接",
                        "camera disconnected",
                    );
                }
                Err(e)
            }
            Err(RecvTimeoutError::Timeout) => {
                Err(DeviceError::timeout("camera did not answer in time"))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.gone("camera thread has stopped")),
        }
    }

    fn gone(&mut self, detail: &str) -> DeviceError {
        self.health.set(
            HealthState::Offline,
            Some(ErrorKind::Disconnected.code()),
            "摄像头已断开连接",
            "camera disconnected",
        );
        DeviceError::disconnected(detail.to_string())
    }
}

impl Drop for V4lCamera {
    /// Ends the worker. A worker stuck in a frame read (a camera that
    /// stopped sending without an error) is left to finish on its own
    /// rather than hanging the actor.
    fn drop(&mut self) {
        self.commands = None;
        if let Some(w) = self.worker.take() {
            let end = Instant::now() + Duration::from_secs(1);
            while !w.is_finished() && Instant::now() < end {
                std::thread::sleep(Duration::from_millis(10));
            }
            if w.is_finished() {
                let _ = w.join();
            }
        }
    }
}

/// The worker: opens the camera, then serves commands and streams.
fn worker(index: u32, opened: &Reply<Opened>, commands: &Receiver<Cmd>, slot: &FrameSlot) {
    let node = format!("/dev/video{index}");
    let request = RequestedFormat::new::<RgbFormat>(RequestedFormatType::AbsoluteHighestFrameRate);
    let mut cam = match NokhwaCamera::new(CameraIndex::Index(index), request) {
        Ok(c) => c,
        Err(e) => {
            let _ = opened.send(Err(nokhwa_error(e, &format!("opening {node}"))));
            return;
        }
    };
    let formats = match cam.compatible_camera_formats() {
        Ok(f) => f,
        Err(e) => {
            let _ = opened.send(Err(nokhwa_error(e, "listing camera formats")));
            return;
        }
    };
    let modes = modes_of(&formats);
    let still = still_format(&formats);
    let ci = cam.info();
    let misc = ci.misc();
    let info = CameraInfo {
        name: ci.human_name(),
        location: if misc.trim().is_empty() {
            node.clone()
        } else {
            format!("{node} ({})", misc.trim())
        },
        sensor: still.map(|f| (f.width(), f.height())),
    };
    if opened.send(Ok(Opened { info, modes })).is_err() {
        return;
    }
    let mut preview: Option<CameraFormat> = None;
    loop {
        let cmd = if preview.is_some() && cam.is_stream_open() {
            match commands.try_recv() {
                Ok(c) => Some(c),
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => break,
            }
        } else {
            match commands.recv() {
                Ok(c) => Some(c),
                Err(_) => break,
            }
        };
        match cmd {
            Some(Cmd::Start(mode, reply)) => {
                let r = choose_format(&formats, mode)
                    .ok_or_else(|| {
                        DeviceError::new(
                            ErrorKind::Unsupported,
                            format!("camera offers no mode {mode}"),
                        )
                    })
                    .and_then(|f| switch(&mut cam, f).map(|()| f));
                slot.reset();
                preview = r.as_ref().ok().copied();
                let _ = reply.send(r.map(|_| ()));
            }
            Some(Cmd::Stop(reply)) => {
                preview = None;
                let _ = cam.stop_stream();
                let _ = reply.send(Ok(()));
            }
            Some(Cmd::Still(deadline, reply)) => {
                let r = take_still(&mut cam, still, deadline, slot);
                if let Some(p) = preview
                    && let Err(e) = switch(&mut cam, p)
                {
                    slot.end(e.kind(), e.detail().to_string());
                    preview = None;
                }
                let _ = reply.send(r);
            }
            Some(Cmd::Controls(reply)) => {
                let _ = reply.send(list_controls(&cam));
            }
            Some(Cmd::Set(id, value, reply)) => {
                let _ = reply.send(set_control(&mut cam, id, value));
            }
            None => {
                if let Some(fmt) = preview {
                    match grab(&mut cam, fmt, slot) {
                        Ok(Some(frame)) => slot.publish(frame),
                        Ok(None) => {}
                        Err(e) => {
                            slot.end(e.kind(), e.detail().to_string());
                            preview = None;
                            let _ = cam.stop_stream();
                        }
                    }
                }
            }
        }
    }
    // A camera gone mid-stream can make nokhwa's Drop panic; that ends
    // only this thread.
    let _ = cam.stop_stream();
}

/// Stops the stream, sets `fmt` and opens the stream again.
fn switch(cam: &mut NokhwaCamera, fmt: CameraFormat) -> Result<(), DeviceError> {
    if cam.is_stream_open() {
        cam.stop_stream()
            .map_err(|e| nokhwa_error(e, "stopping the stream"))?;
    }
    let wanted = [fmt.format()];
    cam.set_camera_requset(RequestedFormat::with_formats(
        RequestedFormatType::Exact(fmt),
        &wanted,
    ))
    .map_err(|e| nokhwa_error(e, "setting the camera format"))?;
    cam.open_stream()
        .map_err(|e| nokhwa_error(e, "starting the stream"))
}

/// One frame in `fmt`; `None` for a corrupt MJPEG frame (counted).
fn grab(
    cam: &mut NokhwaCamera,
    fmt: CameraFormat,
    slot: &FrameSlot,
) -> Result<Option<Frame>, DeviceError> {
    let read = |e| nokhwa_error(e, "reading a frame");
    match fmt.format() {
        FrameFormat::MJPEG => {
            let raw = cam.frame_raw().map_err(read)?;
            match check_jpeg(&raw) {
                Ok((width, height)) => Ok(Some(Frame {
                    width,
                    height,
                    format: PixelFormat::Mjpeg,
                    data: raw.into_owned(),
                })),
                Err(problem) => {
                    tracing::debug!(%problem, "corrupt camera frame skipped");
                    slot.lock().bump("frames_corrupt");
                    Ok(None)
                }
            }
        }
        FrameFormat::GRAY => {
            let img = cam
                .frame()
                .map_err(read)?
                .decode_image::<LumaFormat>()
                .map_err(|e| nokhwa_error(e, "decoding a frame"))?;
            Ok(Some(Frame {
                width: img.width(),
                height: img.height(),
                format: PixelFormat::Luma8,
                data: img.into_raw(),
            }))
        }
        _ => {
            let img = cam
                .frame()
                .map_err(read)?
                .decode_image::<RgbFormat>()
                .map_err(|e| nokhwa_error(e, "decoding a frame"))?;
            Ok(Some(Frame {
                width: img.width(),
                height: img.height(),
                format: PixelFormat::Rgb8,
                data: img.into_raw(),
            }))
        }
    }
}

/// Switches to the still format, drops settle frames while the deadline
/// allows, keeps the next good frame, and stops.
fn take_still(
    cam: &mut NokhwaCamera,
    still: Option<CameraFormat>,
    deadline: Instant,
    slot: &FrameSlot,
) -> Result<Frame, DeviceError> {
    let fmt = still
        .ok_or_else(|| DeviceError::new(ErrorKind::Unsupported, "camera has no still format"))?;
    switch(cam, fmt)?;
    let started = Instant::now();
    let mut kept: Option<Frame> = None;
    let mut seen = 0usize;
    while seen <= SETTLE_FRAMES {
        // Stop early rather than overrun: one more frame takes about as
        // long as the average so far.
        let per_frame = started.elapsed() / u32::try_from(seen.max(1)).unwrap_or(1);
        if kept.is_some() && Instant::now() + per_frame > deadline {
            break;
        }
        if Instant::now() >= deadline {
            break;
        }
        if let Some(f) = grab(cam, fmt, slot)? {
            kept = Some(f);
        }
        seen += 1;
    }
    let _ = cam.stop_stream();
    let frame = kept.ok_or_else(|| DeviceError::timeout("no still before the deadline"))?;
    slot.lock().bump("stills");
    Ok(frame)
}

fn list_controls(cam: &NokhwaCamera) -> Result<Vec<Control>, DeviceError> {
    let all = cam
        .camera_controls()
        .map_err(|e| nokhwa_error(e, "listing camera controls"))?;
    let find = |k: KnownCameraControl| all.iter().find(|c| c.control() == k);
    let mut out = Vec::new();
    for id in ControlId::ALL {
        let Some((known, auto_id)) = nokhwa_control(id) else {
            continue;
        };
        let Some(c) = find(known) else { continue };
        let ControlValueDescription::IntegerRange {
            min,
            max,
            value,
            step,
            default,
        } = *c.description()
        else {
            continue;
        };
        let auto = auto_id
            .and_then(|a| find(KnownCameraControl::Other(u128::from(a))))
            .map(|a| match a.value() {
                ControlValueSetter::Boolean(b) => b,
                ControlValueSetter::Integer(v) | ControlValueSetter::EnumValue(v) => {
                    v != EXPOSURE_MANUAL && v != 0
                }
                _ => false,
            });
        out.push(Control {
            id,
            name: c.name().to_string(),
            min,
            max,
            step,
            default,
            value,
            auto,
        });
    }
    Ok(out)
}

fn set_control(
    cam: &mut NokhwaCamera,
    id: ControlId,
    value: ControlValue,
) -> Result<(), DeviceError> {
    let unsupported = || {
        DeviceError::new(
            ErrorKind::Unsupported,
            format!("this camera has no {} control", id.as_str()),
        )
    };
    let (known, auto_id) = nokhwa_control(id).ok_or_else(unsupported)?;
    let auto_setter = |on: bool| match auto_id {
        Some(CID_EXPOSURE_AUTO) => ControlValueSetter::Integer(if on {
            EXPOSURE_APERTURE_PRIORITY
        } else {
            EXPOSURE_MANUAL
        }),
        _ => ControlValueSetter::Boolean(on),
    };
    let set = |cam: &mut NokhwaCamera, k, v| {
        cam.set_camera_control(k, v)
            .map_err(|e| nokhwa_error(e, &format!("setting {}", id.as_str())))
    };
    match value {
        ControlValue::Auto => {
            let a = auto_id.ok_or_else(|| {
                DeviceError::new(
                    ErrorKind::Unsupported,
                    format!("{} has no automatic mode", id.as_str()),
                )
            })?;
            set(
                cam,
                KnownCameraControl::Other(u128::from(a)),
                auto_setter(true),
            )
        }
        ControlValue::Manual(v) => {
            let c = cam.camera_control(known).map_err(|_| unsupported())?;
            if let ControlValueDescription::IntegerRange { min, max, .. } = *c.description()
                && !(min..=max).contains(&v)
            {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("{} {v} is outside {min}..={max}", id.as_str()),
                ));
            }
            if let Some(a) = auto_id {
                // Best effort: some cameras have the value but no switch.
                let _ = set(
                    cam,
                    KnownCameraControl::Other(u128::from(a)),
                    auto_setter(false),
                );
            }
            set(cam, known, ControlValueSetter::Integer(v))
        }
    }
}

impl Device for V4lCamera {
    fn kind(&self) -> DeviceKind {
        self.kind
    }

    fn health(&self) -> Health {
        let mut h = self.health.clone();
        let slot = self.slot.lock();
        for (k, v) in &slot.counters {
            h.counters.insert(k.clone(), *v);
        }
        if let Some(e) = &slot.ended
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

    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        let mode = closest_mode(&self.modes, PREVIEW)
            .ok_or_else(|| DeviceError::new(ErrorKind::Unsupported, "camera has no modes"))?;
        let was = self.mode;
        self.start(mode, deadline)?;
        let r = self.next_frame(deadline);
        match was {
            Some(m) => self.start(m, deadline)?,
            None => self.stop()?,
        }
        r?;
        self.health
            .set(HealthState::Ok, None, "摄像头正常", "camera OK");
        self.health.last_self_test = Some(SystemTime::now());
        Ok(self.health())
    }
}

impl Camera for V4lCamera {
    fn modes(&self) -> Vec<VideoMode> {
        self.modes.clone()
    }

    fn start(&mut self, mode: VideoMode, deadline: Instant) -> Result<(), DeviceError> {
        self.ask(|r| Cmd::Start(mode, r), deadline)?;
        self.mode = Some(mode);
        self.last_mode = Some(mode);
        Ok(())
    }

    fn next_frame(&mut self, deadline: Instant) -> Result<Frame, DeviceError> {
        if self.mode.is_none() {
            let mode = self
                .last_mode
                .or_else(|| closest_mode(&self.modes, PREVIEW))
                .ok_or_else(|| DeviceError::new(ErrorKind::Unsupported, "camera has no modes"))?;
            self.start(mode, deadline)?;
        }
        let r = self.slot.take(deadline);
        if let Err(e) = &r
            && e.kind() != ErrorKind::Timeout
        {
            self.mode = None;
        }
        r
    }

    fn stop(&mut self) -> Result<(), DeviceError> {
        self.mode = None;
        let deadline = Instant::now() + Duration::from_secs(2);
        self.ask(Cmd::Stop, deadline)
    }

    fn current_mode(&self) -> Option<VideoMode> {
        self.mode
    }

    fn info(&self) -> CameraInfo {
        self.info.clone()
    }

    fn controls(&mut self, deadline: Instant) -> Result<Vec<Control>, DeviceError> {
        self.ask(Cmd::Controls, deadline)
    }

    fn set_control(
        &mut self,
        id: ControlId,
        value: ControlValue,
        deadline: Instant,
    ) -> Result<(), DeviceError> {
        self.ask(|r| Cmd::Set(id, value, r), deadline)
    }
}

impl DocumentCamera for V4lCamera {
    /// The whole field at the largest resolution; `paper` is not used
    /// (UVC has no paper setting; the image pipeline finds the sheet).
    fn capture_still(&mut self, paper: PaperSize, deadline: Instant) -> Result<Frame, DeviceError> {
        tracing::debug!(paper = paper.as_str(), "document still");
        self.ask(|r| Cmd::Still(deadline, r), deadline)
    }
}

/// The V4L2 cameras nokhwa finds: `(name, /dev/videoN)`.
pub fn list() -> Result<Vec<(String, String)>, DeviceError> {
    let cams = nokhwa::query(nokhwa::utils::ApiBackend::Video4Linux)
        .map_err(|e| nokhwa_error(e, "listing V4L2 cameras"))?;
    Ok(cams
        .into_iter()
        .map(|c| {
            let node = match c.index() {
                CameraIndex::Index(i) => format!("/dev/video{i}"),
                CameraIndex::String(s) => s.clone(),
            };
            (c.human_name(), node)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use std::os::unix::fs::symlink;

    /// A sysfs tree with two UVC cameras (each a capture and a metadata
    /// node) and one non-USB node.
    fn sysfs(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("v4l-sys-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let class = root.join("class/video4linux");
        std::fs::create_dir_all(&class).unwrap();
        let usb = |dev: &str, vid: &str, pid: &str, serial: Option<&str>| {
            let d = root.join("devices/pci0000:00/usb1").join(dev);
            std::fs::create_dir_all(d.join(format!("{dev}:1.0"))).unwrap();
            std::fs::write(d.join("idVendor"), format!("{vid}\n")).unwrap();
            std::fs::write(d.join("idProduct"), format!("{pid}\n")).unwrap();
            if let Some(s) = serial {
                std::fs::write(d.join("serial"), format!("{s}\n")).unwrap();
            }
            d.join(format!("{dev}:1.0"))
        };
        let node = |n: u32, iface: &Path, name: &str, index: u32| {
            let d = class.join(format!("video{n}"));
            std::fs::create_dir_all(&d).unwrap();
            symlink(iface, d.join("device")).unwrap();
            std::fs::write(d.join("name"), format!("{name}\n")).unwrap();
            std::fs::write(d.join("index"), format!("{index}\n")).unwrap();
        };
        let face = usb("1-1", "0c45", "636b", Some("SN-FACE"));
        let doc = usb("1-2", "2b16", "6689", None);
        node(0, &face, "USB 2.0 Camera: HD Face", 0);
        node(1, &face, "USB 2.0 Camera: HD Face", 1);
        node(2, &doc, "Document Camera 12MP", 0);
        node(3, &doc, "Document Camera 12MP", 1);
        let platform = root.join("devices/platform/vivid.0");
        std::fs::create_dir_all(&platform).unwrap();
        node(10, &platform, "vivid", 0);
        root
    }

    #[test]
    fn finds_cameras_by_usb_ids_and_by_name_in_sysfs() {
        let sys = sysfs("find");
        assert_eq!(find_by_usb(&sys, 0x0c45, 0x636b, None), [0]);
        assert_eq!(find_by_usb(&sys, 0x0c45, 0x636b, Some("SN-FACE")), [0]);
        assert!(find_by_usb(&sys, 0x0c45, 0x636b, Some("OTHER")).is_empty());
        assert_eq!(
            find_by_usb(&sys, 0x2b16, 0x6689, None),
            [2],
            "the capture node, not metadata"
        );
        assert!(find_by_usb(&sys, 0x1234, 0x5678, None).is_empty());
        assert_eq!(find_by_name(&sys, "document"), [2]);
        assert_eq!(find_by_name(&sys, "Camera"), [0, 2]);
        assert_eq!(find_by_name(&sys, "vivid"), [10]);

        let usb: Selector = "usb:2b16:6689".parse().unwrap();
        assert_eq!(resolve(&usb, &sys).unwrap(), 2);
        let by_name: Selector = "v4l:name=HD Face".parse().unwrap();
        assert_eq!(resolve(&by_name, &sys).unwrap(), 0);
        let missing: Selector = "usb:ffff:0001".parse().unwrap();
        let e = resolve(&missing, &sys).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.detail().contains("ffff:0001"));
        let no_node: Selector = "v4l:/nonexistent/video7".parse().unwrap();
        assert_eq!(
            resolve(&no_node, &sys).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        let http: Selector = "http://127.0.0.1:1/".parse().unwrap();
        assert_eq!(resolve(&http, &sys).unwrap_err().kind(), ErrorKind::Config);
        // A by-id style link resolves to its node.
        let dev = sys.join("dev");
        std::fs::create_dir_all(&dev).unwrap();
        std::fs::write(dev.join("video4"), b"").unwrap();
        symlink(dev.join("video4"), dev.join("usb-Doc_Camera-video-index0")).unwrap();
        let link: Selector = format!("v4l:{}", dev.join("usb-Doc_Camera-video-index0").display())
            .parse()
            .unwrap();
        assert_eq!(resolve(&link, &sys).unwrap(), 4);
        let _ = std::fs::remove_dir_all(&sys);
    }

    fn fmt(w: u32, h: u32, f: FrameFormat, fps: u32) -> CameraFormat {
        CameraFormat::new_from(w, h, f, fps)
    }

    #[test]
    fn formats_prefer_mjpeg_and_stills_take_the_largest_size() {
        let formats = [
            fmt(640, 480, FrameFormat::YUYV, 30),
            fmt(1280, 720, FrameFormat::YUYV, 10),
            fmt(1280, 720, FrameFormat::MJPEG, 30),
            fmt(1280, 720, FrameFormat::YUYV, 30),
            fmt(4000, 3000, FrameFormat::YUYV, 2),
            fmt(4000, 3000, FrameFormat::MJPEG, 10),
            fmt(4000, 3000, FrameFormat::MJPEG, 15),
        ];
        assert_eq!(
            choose_format(&formats, PREVIEW),
            Some(fmt(1280, 720, FrameFormat::MJPEG, 30))
        );
        assert_eq!(
            choose_format(&formats, VideoMode::new(1280, 720, 10)),
            Some(fmt(1280, 720, FrameFormat::YUYV, 10))
        );
        assert_eq!(choose_format(&formats, VideoMode::new(800, 600, 30)), None);
        assert_eq!(
            still_format(&formats),
            Some(fmt(4000, 3000, FrameFormat::MJPEG, 15))
        );
        assert_eq!(
            modes_of(&formats),
            [
                VideoMode::new(4000, 3000, 15),
                VideoMode::new(4000, 3000, 10),
                VideoMode::new(4000, 3000, 2),
                VideoMode::new(1280, 720, 30),
                VideoMode::new(1280, 720, 10),
                VideoMode::new(640, 480, 30),
            ]
        );
        assert_eq!(closest_mode(&modes_of(&formats), PREVIEW), Some(PREVIEW));
        assert_eq!(still_format(&[]), None);
    }
}
