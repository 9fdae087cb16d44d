//! 摄像头与高拍仪检测: both simulated network cameras stream into the
//! kiosk's previews over real HTTP; a QR code shown to the face camera is
//! read by the kiosk's code reader; 拍摄文件 takes a 12 MP still from the
//! document camera, runs the document pipeline and shows what was stored
//! (within the caps); the sealed images are wiped on the way home; an
//! unplugged camera shows 设备离线 and its preview comes back on replug.
//!
//! One `#[test]` per binary: the Slint platform is set once per process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use kiosk::ui::{AppAdapter, CameraAdapter, Page};
use sim::camera::{CameraModel, CameraSim, DocKind, SceneRequest};
use slint::ComponentHandle;

fn camera(selector: &str) -> hal::camera::CameraHandle {
    let selector: hal::Selector = selector.parse().unwrap();
    hal::actor::spawn("face_camera", hal::DeviceKind::Camera, move || {
        drivers::registry::open_camera(&selector)
    })
    .unwrap()
}

fn document_camera(selector: &str) -> hal::camera::DocumentCameraHandle {
    let selector: hal::Selector = selector.parse().unwrap();
    hal::actor::spawn("doc_camera", hal::DeviceKind::DocumentCamera, move || {
        drivers::registry::open_document_camera(&selector)
    })
    .unwrap()
}

fn sealed_files(data: &std::path::Path) -> usize {
    std::fs::read_dir(data.join("sealed"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn previews_codes_document_capture_and_wipe() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("camera");
    let (backend_url, _stop_backend) = start_backend(&rt, &dir);
    let face = CameraSim::start("127.0.0.1:0".parse().unwrap(), CameraModel::Face).unwrap();
    let doc = CameraSim::start("127.0.0.1:0".parse().unwrap(), CameraModel::Document).unwrap();
    doc.set_scene(SceneRequest::Document {
        doc: DocKind::Form,
        seed: 4,
    })
    .unwrap();
    let payload = "41040320261120000001";
    face.set_scene(SceneRequest::QrPhone {
        payload: payload.into(),
        dark: false,
        seed: 2,
    })
    .unwrap();
    let data = dir.join("data");
    let config = config(
        &backend_url,
        &data,
        &[("face_camera", face.url()), ("doc_camera", doc.url())],
    );
    let devices = kiosk::Devices {
        camera: Some(camera(&face.url())),
        document_camera: Some(document_camera(&doc.url())),
        ..Default::default()
    };
    let app = kiosk::App::new(config, devices, rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<AppAdapter>();
    let c = ui.global::<CameraAdapter>();

    // From the maintenance screen (the PIN flow is the maintenance test's).
    a.set_page(Page::Maintenance);
    touch(ui, "摄像头检测");
    assert_eq!(a.get_page(), Page::CameraCheck);

    wait_until("both previews live", Duration::from_secs(20), || {
        pump();
        c.get_face_state() == "ok" && c.get_doc_state() == "ok"
    });
    let face_preview = c.get_face_preview().size();
    assert_eq!((face_preview.width, face_preview.height), (800, 450));
    let doc_preview = c.get_doc_preview().size();
    assert_eq!((doc_preview.width, doc_preview.height), (800, 600));

    // The QR code on the phone held to the face camera is read.
    wait_until("the code read", Duration::from_secs(20), || {
        pump();
        c.get_last_code() == payload
    });
    assert_eq!(c.get_last_code_camera(), "face");
    assert!(shows(ui, payload));
    wait_until("a frame rate shown", Duration::from_secs(10), || {
        pump();
        c.get_face_fps() > 0
    });
    screenshot(ui, "camera-check.png");

    // 拍摄文件: a still through the document pipeline.
    assert!(doc.wait_ready(Duration::from_secs(60)), "12 MP scene drawn");
    touch(ui, "拍摄文件");
    wait_until("the capture", Duration::from_secs(60), || {
        pump();
        !c.get_capturing() && !c.get_capture_report().is_empty()
    });
    let report = c.get_capture_report().to_string();
    assert!(!c.get_capture_failed(), "capture failed: {report}");
    assert!(report.starts_with("A4 · 1240×1754"), "{report}");
    let kb = |tag: &str| -> usize {
        let rest = report.split(tag).nth(1).unwrap().trim_start();
        rest.split(' ').next().unwrap().parse().unwrap()
    };
    assert!(kb("彩色 JPEG") <= 300, "{report}");
    assert!(kb("黑白 TIFF") <= 60, "{report}");
    assert!(c.get_processed().size().width > 0);
    screenshot(ui, "camera-capture.png");
    // The stored images are sealed in the journey's store, on disk as
    // ciphertext only, until the journey ends.
    assert!(app.holds_personal_data());
    assert_eq!(sealed_files(&data), 2);

    // Unplugging the face camera: 设备离线; replugging: live again.
    face.set_unplugged(true);
    wait_until("offline shown", Duration::from_secs(5), || {
        pump();
        c.get_face_state() == "offline"
    });
    assert_eq!(c.get_doc_state(), "ok");
    face.set_unplugged(false);
    wait_until("back live", Duration::from_secs(10), || {
        pump();
        c.get_face_state() == "ok"
    });

    // Home: previews stop, the sealed images are wiped.
    app.go_home();
    pump();
    assert_eq!(a.get_page(), Page::Home);
    assert!(!app.holds_personal_data());
    assert_eq!(sealed_files(&data), 0, "sealed images left on disk");
    wait_until("the streams closed", Duration::from_secs(5), || {
        face.state().streams == 0 && doc.state().streams == 0
    });
}
