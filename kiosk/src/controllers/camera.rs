//! `CameraAdapter`: 摄像头与高拍仪检测, reached from the maintenance screen.
//!
//! While the page shows, one task per camera pulls frames through the
//! camera's actor, turns each into a screen-sized preview off the UI
//! thread and hands the frame to the code reader, which decodes in its
//! own thread and drops frames it had no time for, so the preview never
//! waits for decoding. 拍摄文件 takes a full-resolution still from the
//! document camera and runs the document pipeline (page, perspective,
//! light; colour JPEG ≤ 300 KB and black-and-white TIFF-G4 ≤ 60 KB); the
//! stored images go into the journey's sealed image store and are wiped
//! with everything else on the way home.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hal::actor::Handle;
use hal::camera::{Camera, Frame, PaperSize, VideoMode};
use slint::{ComponentHandle, Rgb8Pixel, SharedPixelBuffer};

use crate::app::Shared;
use crate::controllers::frames;
use crate::ui::{AppAdapter, CameraAdapter, MainWindow, MaintenanceAdapter, Page};

/// Size of a preview on screen (the panels are about this big).
const PREVIEW_W: u32 = 800;
const PREVIEW_H: u32 = 600;
/// The preview mode asked of the face camera.
const FACE_MODE: VideoMode = VideoMode {
    width: 1280,
    height: 720,
    fps: 30,
};
/// The document camera's preview: 4:3, so a whole A4 page shows.
const DOC_MODE: VideoMode = VideoMode {
    width: 1600,
    height: 1200,
    fps: 30,
};

/// Which camera a preview loop serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Face,
    Document,
}

impl Which {
    fn key(self) -> &'static str {
        match self {
            Which::Face => "face",
            Which::Document => "document",
        }
    }

    fn name_zh(self) -> &'static str {
        match self {
            Which::Face => "人像摄像头",
            Which::Document => "高拍仪",
        }
    }
}

/// The page's run: previews stop when it moves on.
#[derive(Default)]
pub(crate) struct CameraCheck {
    run: AtomicU64,
}

pub(crate) fn install(ui: &MainWindow, shared: &Arc<Shared>) {
    let check = Arc::new(CameraCheck::default());
    let c = ui.global::<CameraAdapter>();

    let (weak, sh, ck) = (ui.as_weak(), Arc::clone(shared), Arc::clone(&check));
    ui.global::<MaintenanceAdapter>().on_camera_check(move || {
        let Some(ui) = weak.upgrade() else { return };
        open(&ui, &sh, &ck);
    });

    let (weak, ck) = (ui.as_weak(), Arc::clone(&check));
    c.on_back(move || {
        ck.run.fetch_add(1, Ordering::SeqCst);
        if let Some(ui) = weak.upgrade() {
            ui.global::<AppAdapter>().set_page(Page::Maintenance);
        }
    });

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    c.on_capture(move || {
        let Some(ui) = weak.upgrade() else { return };
        capture(&ui, &sh);
    });
}

fn open(ui: &MainWindow, shared: &Arc<Shared>, check: &Arc<CameraCheck>) {
    let run = check.run.fetch_add(1, Ordering::SeqCst) + 1;
    let generation = shared.generation();
    let c = ui.global::<CameraAdapter>();
    c.set_face_preview(slint::Image::default());
    c.set_doc_preview(slint::Image::default());
    c.set_processed(slint::Image::default());
    c.set_capture_report("".into());
    c.set_capture_failed(false);
    c.set_last_code("".into());
    c.set_last_code_camera("".into());
    c.set_face_fps(0);
    c.set_doc_fps(0);
    ui.global::<AppAdapter>().set_page(Page::CameraCheck);

    let alive = {
        let (check, shared) = (Arc::clone(check), Arc::clone(shared));
        move || check.run.load(Ordering::SeqCst) == run && shared.generation() == generation
    };
    match shared.devices.camera.clone() {
        Some(h) => {
            shared
                .rt
                .spawn(preview_loop(ui.as_weak(), h, Which::Face, alive.clone()));
        }
        None => c.set_face_state("not-fitted".into()),
    }
    match shared.devices.document_camera.clone() {
        Some(h) => {
            shared
                .rt
                .spawn(preview_loop(ui.as_weak(), h, Which::Document, alive));
        }
        None => c.set_doc_state("not-fitted".into()),
    }
}

fn set_state(weak: &slint::Weak<MainWindow>, which: Which, state: &'static str, fps: i32) {
    let _ = weak.upgrade_in_event_loop(move |ui| {
        let c = ui.global::<CameraAdapter>();
        match which {
            Which::Face => {
                c.set_face_state(state.into());
                c.set_face_fps(fps);
            }
            Which::Document => {
                c.set_doc_state(state.into());
                c.set_doc_fps(fps);
            }
        }
    });
}

/// Pulls frames while the page shows: preview to the screen, frame to the
/// code reader. A camera that goes away shows 设备离线 and is asked again
/// every half second; its actor reopens it when it comes back.
async fn preview_loop<D>(
    weak: slint::Weak<MainWindow>,
    handle: Handle<Box<D>>,
    which: Which,
    alive: impl Fn() -> bool + Send + 'static,
) where
    D: Camera + ?Sized + Send + 'static,
    Box<D>: hal::Device,
{
    // Each camera has its own code reader: it decodes the newest frame it
    // has and drops the ones it had no time for.
    let codes = {
        let weak = weak.clone();
        move |result: imaging::qr::DecodeResult| {
            let Some(code) = result.decoded.into_iter().next() else {
                return;
            };
            let _ = weak.upgrade_in_event_loop(move |ui| {
                let c = ui.global::<CameraAdapter>();
                c.set_last_code(code.text.into());
                c.set_last_code_camera(which.key().into());
            });
        }
    };
    let decoder =
        match imaging::qr::LatestFrameDecoder::with_callback(imaging::qr::Formats::ALL, codes) {
            Ok(d) => Some(d),
            Err(e) => {
                tracing::warn!("code reader thread cannot start: {e}");
                None
            }
        };
    let mut started = false;
    let mode = match which {
        Which::Face => FACE_MODE,
        Which::Document => DOC_MODE,
    };
    let mut shown = 0i32;
    let mut second = Instant::now();
    let mut fps = 0;
    set_state(&weak, which, "starting", 0);
    while alive() {
        let Some(frame) =
            frames::next_frame(&handle, mode, &mut started, which.name_zh(), &|ok: bool| {
                if !ok {
                    set_state(&weak, which, "offline", 0);
                }
            })
            .await
        else {
            continue;
        };
        if let Some(d) = &decoder {
            d.submit(frame.clone());
        }
        let preview = tokio::task::spawn_blocking(move || {
            imaging::frame::rgb(&frame)
                .map(|img| imaging::frame::preview(&img, PREVIEW_W, PREVIEW_H))
        })
        .await;
        let Ok(Ok(preview)) = preview else {
            // A corrupt frame: skip it, the next one comes in 33 ms.
            continue;
        };
        shown += 1;
        if second.elapsed() >= Duration::from_secs(1) {
            fps = shown;
            shown = 0;
            second = Instant::now();
        }
        let (w, h) = preview.dimensions();
        let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(preview.as_raw(), w, h);
        let _ = weak.upgrade_in_event_loop(move |ui| {
            let c = ui.global::<CameraAdapter>();
            let image = slint::Image::from_rgb8(buffer);
            match which {
                Which::Face => {
                    c.set_face_preview(image);
                    c.set_face_state("ok".into());
                    c.set_face_fps(fps);
                }
                Which::Document => {
                    c.set_doc_preview(image);
                    c.set_doc_state("ok".into());
                    c.set_doc_fps(fps);
                }
            }
        });
    }
    frames::stop(&handle, started).await;
}

/// One test capture through the whole document pipeline.
fn capture(ui: &MainWindow, shared: &Arc<Shared>) {
    let c = ui.global::<CameraAdapter>();
    let Some(camera) = shared.devices.document_camera.clone() else {
        return;
    };
    c.set_capturing(true);
    c.set_capture_failed(false);
    c.set_capture_report("".into());
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    let generation = shared.generation();
    shared.rt.spawn(async move {
        let started = Instant::now();
        let still = camera
            .call(Duration::from_secs(3), |d, deadline| {
                d.capture_still(PaperSize::Auto, deadline)
            })
            .await;
        let outcome = match still {
            Err(e) => Err(format!("拍摄失败：{} / capture failed", e.user_message())),
            Ok(frame) => tokio::task::spawn_blocking(move || process_still(&frame))
                .await
                .unwrap_or_else(|_| Err("处理失败 / processing failed".into())),
        };
        let outcome = outcome.and_then(|done| {
            // Into the journey's sealed store, wiped on the way home.
            if sh.generation() != generation {
                return Err("已返回首页 / back home".into());
            }
            let mut s = sh.session();
            let store = s.images(&sh.config)?;
            store
                .put(
                    imaging::store::ImageKind::Document,
                    "高拍仪测试（彩色）",
                    done.colour,
                )
                .map_err(|e| e.to_string())?;
            store
                .put(
                    imaging::store::ImageKind::Document,
                    "高拍仪测试（黑白）",
                    done.bw,
                )
                .map_err(|e| e.to_string())?;
            Ok((done.preview, done.report))
        });
        let total = started.elapsed().as_millis();
        let _ = weak.upgrade_in_event_loop(move |ui| {
            let c = ui.global::<CameraAdapter>();
            c.set_capturing(false);
            match outcome {
                Ok((preview, report)) => {
                    let (w, h) = preview.dimensions();
                    let buffer =
                        SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(preview.as_raw(), w, h);
                    c.set_processed(slint::Image::from_rgb8(buffer));
                    c.set_capture_report(format!("{report} · 共 {total} ms").into());
                }
                Err(message) => {
                    c.set_capture_failed(true);
                    c.set_capture_report(message.into());
                }
            }
        });
    });
}

/// What one still became.
struct Processed {
    colour: Vec<u8>,
    bw: Vec<u8>,
    preview: image::RgbImage,
    report: String,
}

fn process_still(frame: &Frame) -> Result<Processed, String> {
    use imaging::doc::{Format, Mode, Options};
    let photo = imaging::frame::rgb(frame).map_err(|e| e.to_string())?;
    let colour = imaging::doc::process(
        &photo,
        &Options {
            mode: Mode::Colour,
            paper: PaperSize::Auto,
            ..Options::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let bw = imaging::doc::process(
        &photo,
        &Options {
            mode: Mode::Bw,
            paper: PaperSize::Auto,
            ..Options::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let colour_out = imaging::doc::encode(&colour, Format::Jpeg).map_err(|e| e.to_string())?;
    let bw_out = imaging::doc::encode(&bw, Format::Tiff).map_err(|e| e.to_string())?;
    let preview = imaging::frame::preview(&colour.to_rgb(), 480, 640);
    let report = format!(
        "{} · {}×{} · 彩色 JPEG {} KB · 黑白 TIFF {} KB",
        colour.paper.name(),
        colour.width(),
        colour.height(),
        colour_out.bytes.len().div_ceil(1024),
        bw_out.bytes.len().div_ceil(1024),
    );
    Ok(Processed {
        colour: colour_out.bytes,
        bw: bw_out.bytes,
        preview,
        report,
    })
}
