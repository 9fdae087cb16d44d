//! `kioskctl camera`: the face camera and the document camera (高拍仪).
//!
//! ```text
//! kioskctl camera list
//! kioskctl camera info --addr SELECTOR [--timeout-ms N]
//! kioskctl camera snap --addr SELECTOR --out FILE.jpg [--still] [--paper a4|a5|a6|auto] [--mode WxH[@FPS]] [--timeout-ms N]
//! ```
//!
//! `SELECTOR` is `http://HOST:PORT/` (network camera, also the
//! simulator's; a bare `HOST:PORT` is taken as that), `v4l:/dev/videoN`,
//! `v4l:name=SUBSTRING` or `usb:VID:PID`.
//!
//! * `list`: the V4L2 cameras as a JSON array of `{"name","node"}` (`[]`
//!   on a machine without cameras).
//! * `info`: name, location, sensor size, modes and controls as JSON.
//! * `snap`: one preview frame (the mode closest to 1280×720 at 30 fps,
//!   or `--mode`) or with `--still` one full-resolution still, written as
//!   a JPEG; prints `{"out","width","height","bytes","ms"}`.
//!
//! Exit codes: 0 done; 2 cannot open, bad selector, option or file;
//! 4 timeout; 5 protocol or device fault.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Subcommand;
use drivers::camera::encode_jpeg;
use hal::camera::{DocumentCamera, PREVIEW, PaperSize, VideoMode, closest_mode};
use hal::{Device, DeviceError, ErrorKind, Selector};
use serde_json::{Value, json};

#[derive(Subcommand)]
pub enum Action {
    /// Lists the V4L2 (USB) cameras as JSON.
    List,
    /// Prints a camera's name, modes and controls as JSON.
    Info {
        #[arg(long)]
        addr: String,
        #[arg(long, default_value_t = 5_000)]
        timeout_ms: u64,
    },
    /// Takes one picture and writes it as a JPEG file.
    Snap {
        #[arg(long)]
        addr: String,
        #[arg(long)]
        out: PathBuf,
        /// A full-resolution still (document camera) instead of a preview frame.
        #[arg(long)]
        still: bool,
        /// The paper laid under the document camera: a4, a5, a6, auto.
        #[arg(long, default_value = "auto")]
        paper: String,
        /// Preview mode, `WxH` or `WxH@FPS` (default: closest to 1280x720@30).
        #[arg(long)]
        mode: Option<String>,
        #[arg(long, default_value_t = 5_000)]
        timeout_ms: u64,
    },
}

pub fn run(action: Action) -> ExitCode {
    let result = match action {
        Action::List => list(),
        Action::Info { addr, timeout_ms } => info(&addr, timeout_ms),
        Action::Snap {
            addr,
            out,
            still,
            paper,
            mode,
            timeout_ms,
        } => snap(&addr, &out, still, &paper, mode.as_deref(), timeout_ms),
    };
    match result {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {}", e.user_message(), e.detail());
            ExitCode::from(exit_code(e.kind()))
        }
    }
}

/// The exit code of an error kind (module docs).
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Timeout => 4,
        ErrorKind::Protocol | ErrorKind::DeviceFault => 5,
        _ => 2,
    }
}

/// A selector, taking a bare `HOST:PORT` as a network camera.
pub fn selector(addr: &str) -> Result<Selector, DeviceError> {
    match addr.parse::<Selector>() {
        Ok(s) => Ok(s),
        Err(e) => match addr.parse::<std::net::SocketAddr>() {
            Ok(a) => format!("http://{a}/").parse(),
            Err(_) => Err(e),
        },
    }
}

/// `1280x720` or `1280x720@30`.
pub fn parse_mode(s: &str) -> Option<VideoMode> {
    let (size, fps) = match s.split_once('@') {
        Some((size, fps)) => (size, fps.parse().ok()?),
        None => (s, 30),
    };
    let (w, h) = size.split_once('x')?;
    Some(VideoMode::new(w.parse().ok()?, h.parse().ok()?, fps))
}

fn open(addr: &str) -> Result<Box<dyn DocumentCamera>, DeviceError> {
    drivers::registry::open_document_camera(&selector(addr)?)
}

fn list() -> Result<Value, DeviceError> {
    let cams = drivers::camera::v4l::list()?;
    Ok(Value::Array(
        cams.into_iter()
            .map(|(name, node)| json!({ "name": name, "node": node }))
            .collect(),
    ))
}

fn info(addr: &str, timeout_ms: u64) -> Result<Value, DeviceError> {
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let mut cam = open(addr)?;
    let info = cam.info();
    let modes: Vec<Value> = cam
        .modes()
        .iter()
        .map(|m| json!({ "width": m.width, "height": m.height, "fps": m.fps }))
        .collect();
    let controls: Vec<Value> = cam
        .controls(deadline)?
        .iter()
        .map(|c| {
            json!({
                "id": c.id.as_str(), "name": c.name, "min": c.min, "max": c.max,
                "step": c.step, "default": c.default, "value": c.value, "auto": c.auto,
            })
        })
        .collect();
    let h = cam.health();
    Ok(json!({
        "name": info.name,
        "location": info.location,
        "sensor": info.sensor.map(|(w, h)| json!([w, h])),
        "modes": modes,
        "controls": controls,
        "state": h.state.as_str(),
        "text_zh": h.text_zh,
        "text_en": h.text_en,
    }))
}

fn snap(
    addr: &str,
    out: &std::path::Path,
    still: bool,
    paper: &str,
    mode: Option<&str>,
    timeout_ms: u64,
) -> Result<Value, DeviceError> {
    let paper = PaperSize::parse(paper).ok_or_else(|| {
        DeviceError::new(
            ErrorKind::Config,
            format!("--paper {paper:?} is not a4, a5, a6 or auto"),
        )
    })?;
    let wanted = match mode {
        Some(m) => Some(parse_mode(m).ok_or_else(|| {
            DeviceError::new(
                ErrorKind::Config,
                format!("--mode {m:?} is not WxH or WxH@FPS"),
            )
        })?),
        None => None,
    };
    let started = Instant::now();
    let deadline = started + Duration::from_millis(timeout_ms);
    let mut cam = open(addr)?;
    let frame = if still {
        cam.capture_still(paper, deadline)?
    } else {
        let mode = match wanted {
            Some(m) => m,
            None => closest_mode(&cam.modes(), PREVIEW)
                .ok_or_else(|| DeviceError::new(ErrorKind::Unsupported, "camera has no modes"))?,
        };
        cam.start(mode, deadline)?;
        let f = cam.next_frame(deadline);
        let _ = cam.stop();
        f?
    };
    let ms = started.elapsed().as_millis() as u64;
    let jpeg = encode_jpeg(&frame, 92)?;
    std::fs::write(out, &jpeg).map_err(|e| {
        DeviceError::new(ErrorKind::Config, format!("cannot write {}", out.display()))
            .with_source(e)
    })?;
    Ok(json!({
        "out": out.display().to_string(),
        "width": frame.width,
        "height": frame.height,
        "format": frame.format.as_str(),
        "bytes": jpeg.len(),
        "ms": ms,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn selectors_modes_and_exit_codes() {
        assert_eq!(
            selector("127.0.0.1:8091").unwrap(),
            Selector::Http {
                url: "http://127.0.0.1:8091/".into()
            }
        );
        assert!(matches!(
            selector("v4l:/dev/video0").unwrap(),
            Selector::V4l { .. }
        ));
        assert_eq!(selector("cam").unwrap_err().kind(), ErrorKind::Config);
        assert_eq!(
            parse_mode("1600x1200"),
            Some(VideoMode::new(1600, 1200, 30))
        );
        assert_eq!(parse_mode("640x480@15"), Some(VideoMode::new(640, 480, 15)));
        assert_eq!(parse_mode("640"), None);
        assert_eq!(exit_code(ErrorKind::Timeout), 4);
        assert_eq!(exit_code(ErrorKind::Protocol), 5);
        assert_eq!(exit_code(ErrorKind::Disconnected), 2);
    }
}
