//! What every camera screen shares: pulling the next frame from a camera
//! (starting it first, and starting it again after it went away), and a
//! document camera still → the stored page of a material.

use std::time::Duration;

use hal::actor::Handle;
use hal::camera::{Camera, Frame, PaperSize, VideoMode};

/// The next frame from `camera`, started in `mode` when `started` is
/// false. A camera that cannot start or loses a frame is reported with
/// `ok(false)` (and `started` reset); after half a second the caller's
/// loop asks again, and the camera's actor reopens it when it is back.
pub(crate) async fn next_frame<D>(
    camera: &Handle<Box<D>>,
    mode: VideoMode,
    started: &mut bool,
    name: &str,
    ok: &impl Fn(bool),
) -> Option<Frame>
where
    D: Camera + ?Sized + Send + 'static,
    Box<D>: hal::Device,
{
    if !*started {
        match camera
            .call(Duration::from_secs(3), move |d, deadline| {
                d.start(mode, deadline)
            })
            .await
        {
            Ok(()) => *started = true,
            Err(e) => {
                tracing::warn!(camera = name, "preview cannot start: {e}");
                ok(false);
                tokio::time::sleep(Duration::from_millis(500)).await;
                return None;
            }
        }
    }
    match camera
        .call(Duration::from_secs(2), |d, deadline| d.next_frame(deadline))
        .await
    {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(camera = name, "frame lost: {e}");
            *started = false;
            ok(false);
            tokio::time::sleep(Duration::from_millis(500)).await;
            None
        }
    }
}

/// Stops a camera that was started.
pub(crate) async fn stop<D>(camera: &Handle<Box<D>>, started: bool)
where
    D: Camera + ?Sized + Send + 'static,
    Box<D>: hal::Device,
{
    if started {
        let _ = camera.call(Duration::from_secs(1), |d, _| d.stop()).await;
    }
}

/// Takes a full-resolution still from the document camera (4 s deadline)
/// and makes it a page with [`process_page`] off the async threads. The
/// error is the resident's message (Chinese).
pub(crate) async fn capture_page(
    camera: &hal::camera::DocumentCameraHandle,
    colour: bool,
) -> Result<(Vec<u8>, &'static str, image::RgbImage), String> {
    let still = camera
        .call(Duration::from_secs(4), |d, deadline| {
            d.capture_still(PaperSize::Auto, deadline)
        })
        .await;
    match still {
        Err(e) => Err(format!("拍摄失败，请重试：{}", e.user_message())),
        Ok(frame) => tokio::task::spawn_blocking(move || process_page(&frame, colour))
            .await
            .unwrap_or_else(|_| Err("处理失败，请重试".into())),
    }
}

/// A document camera still → the stored page: colour JPEG or
/// black-and-white PNG within the tender's caps, its media type, and a
/// preview. The error is the resident's message (Chinese).
pub(crate) fn process_page(
    frame: &Frame,
    colour: bool,
) -> Result<(Vec<u8>, &'static str, image::RgbImage), String> {
    use imaging::doc::{Format, Mode, Options};
    let photo = imaging::frame::rgb(frame).map_err(|e| e.to_string())?;
    let page = imaging::doc::process(
        &photo,
        &Options {
            mode: if colour { Mode::Colour } else { Mode::Bw },
            paper: PaperSize::Auto,
            ..Options::default()
        },
    )
    .map_err(|e| format!("未找到完整的页面，请将材料平放在拍摄区内：{e}"))?;
    let (format, mime) = if colour {
        (Format::Jpeg, "image/jpeg")
    } else {
        (Format::Png, "image/png")
    };
    let out = imaging::doc::encode(&page, format).map_err(|e| e.to_string())?;
    let preview = imaging::frame::preview(&page.to_rgb(), 480, 640);
    Ok((out.bytes, mime, preview))
}
