//! The network camera driver against the simulated face and document
//! cameras over real TCP on loopback, the driver in the device actor
//! (unplug and replug), and hand-made misbehaving peers.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use drivers::camera::{NetworkCamera, decode_rgb};
use drivers::registry::{open_camera, open_document_camera};
use hal::camera::{
    Camera, ControlId, ControlValue, DocumentCamera, Frame, PREVIEW, PaperSize, PixelFormat,
    VideoMode,
};
use hal::{Device, DeviceEvent, DeviceKind, ErrorKind, HealthState, Selector};
use sim::camera::{CamFault, CameraModel, CameraSim, DocKind, SceneRequest};

fn sim(model: CameraModel) -> CameraSim {
    CameraSim::start("127.0.0.1:0".parse().unwrap(), model).unwrap()
}

fn selector(cam: &CameraSim) -> Selector {
    cam.url().parse().unwrap()
}

fn within(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

/// Share of pixels with the simulated person's skin colour.
fn skin_share(frame: &Frame) -> f64 {
    let rgb = decode_rgb(frame).unwrap();
    let skin = rgb
        .data
        .chunks_exact(3)
        .filter(|p| {
            let (r, g, b) = (u16::from(p[0]), u16::from(p[1]), u16::from(p[2]));
            r > 190 && r > b + 40 && g > b + 15
        })
        .count();
    skin as f64 / f64::from(rgb.width * rgb.height)
}

#[test]
fn camera_lists_its_modes_name_and_controls() {
    let cam = sim(CameraModel::Face);
    let mut c = open_camera(&selector(&cam)).unwrap();
    assert_eq!(c.kind(), DeviceKind::Camera);
    assert_eq!(c.health().state, HealthState::Ok);
    assert_eq!(
        c.modes(),
        [
            VideoMode::new(1920, 1080, 30),
            VideoMode::new(1280, 720, 30),
            VideoMode::new(640, 480, 30),
        ]
    );
    let info = c.info();
    assert!(info.name.contains("face camera"), "{info:?}");
    assert_eq!(info.sensor, Some((1920, 1080)));
    assert_eq!(info.location, cam.url());

    let controls = c.controls(within(2000)).unwrap();
    let ids: Vec<ControlId> = controls.iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [
            ControlId::Brightness,
            ControlId::Contrast,
            ControlId::Sharpness
        ],
        "the face camera has no fill light"
    );
    assert!(controls.iter().all(|c| c.value == 50 && c.max == 100));
    c.set_control(
        ControlId::Brightness,
        ControlValue::Manual(80),
        within(2000),
    )
    .unwrap();
    assert_eq!(cam.state().look.brightness, 80);
    let b = c.controls(within(2000)).unwrap();
    assert_eq!(b[0].value, 80, "read back from the camera");
    let e = c
        .set_control(
            ControlId::Brightness,
            ControlValue::Manual(101),
            within(2000),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    let e = c
        .set_control(ControlId::Light, ControlValue::Manual(50), within(2000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let e = c
        .set_control(ControlId::Brightness, ControlValue::Auto, within(2000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    let e = c
        .start(VideoMode::new(800, 600, 30), within(2000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported, "a mode the camera lacks");
    let h = c.self_test(within(5000)).unwrap();
    assert!(h.last_self_test.is_some());
    cam.stop();
}

#[test]
fn preview_streams_1280x720_frames_newest_first() {
    let cam = sim(CameraModel::Face);
    assert!(cam.wait_ready(Duration::from_secs(20)));
    let mut c = open_camera(&selector(&cam)).unwrap();
    c.start(PREVIEW, within(3000)).unwrap();
    assert_eq!(c.current_mode(), Some(PREVIEW));
    let mut frames = Vec::new();
    for _ in 0..8 {
        let f = c.next_frame(within(3000)).unwrap();
        assert_eq!(
            (f.width, f.height, f.format),
            (1280, 720, PixelFormat::Mjpeg)
        );
        assert!(f.data.starts_with(&[0xFF, 0xD8]));
        frames.push(f);
    }
    assert!(
        frames.windows(2).all(|w| w[0] != w[1]),
        "every call gives a new frame"
    );
    assert!(
        skin_share(&frames[0]) > 0.03,
        "the person is in the picture"
    );

    // A consumer that falls behind gets the newest frame, not a backlog.
    std::thread::sleep(Duration::from_millis(500));
    c.next_frame(within(3000)).unwrap();
    let h = c.health();
    assert!(
        h.counters.get("frames_dropped").copied().unwrap_or(0) >= 5,
        "{:?}",
        h.counters
    );
    c.stop().unwrap();
    assert_eq!(c.current_mode(), None);
    // next_frame without start starts the preview mode.
    let f = c.next_frame(within(3000)).unwrap();
    assert_eq!((f.width, f.height), (1280, 720));
    assert_eq!(c.current_mode(), Some(PREVIEW));
    drop(c);
    cam.stop();
}

#[test]
fn document_still_is_4000x3000_within_a_second_while_the_preview_runs() {
    let cam = sim(CameraModel::Document);
    assert!(
        cam.wait_ready(Duration::from_secs(60)),
        "the simulator draws the 12 MP scene once"
    );
    let mut d = open_document_camera(&selector(&cam)).unwrap();
    assert_eq!(d.kind(), DeviceKind::DocumentCamera);
    assert_eq!(d.info().sensor, Some((4000, 3000)));
    d.start(PREVIEW, within(3000)).unwrap();
    d.next_frame(within(3000)).unwrap();
    // The deadline is the 1 s the requirement gives: a late still is an
    // error of kind Timeout.
    let still = d.capture_still(PaperSize::A4, within(1000)).unwrap();
    assert_eq!((still.width, still.height), (4000, 3000));
    assert_eq!(still.format, PixelFormat::Mjpeg);
    let rgb = decode_rgb(&still).unwrap();
    assert_eq!(rgb.data.len(), 4000 * 3000 * 3);
    // The page is white paper in the middle of a brown desk.
    let mean = |x0: usize, y0: usize| {
        let mut sum = [0u64; 3];
        for y in y0..y0 + 200 {
            for x in x0..x0 + 200 {
                let i = (y * 4000 + x) * 3;
                for (c, s) in sum.iter_mut().enumerate() {
                    *s += u64::from(rgb.data[i + c]);
                }
            }
        }
        sum.map(|s| s / 40_000)
    };
    let centre = mean(1900, 1400);
    assert!(centre.iter().all(|&v| v > 150), "paper: {centre:?}");
    let corner = mean(0, 2800);
    assert!(corner[2] + 40 < corner[0], "desk: {corner:?}");
    let f = d.next_frame(within(3000)).unwrap();
    assert_eq!((f.width, f.height), (1280, 720), "the preview goes on");
    assert_eq!(d.health().counters.get("stills"), Some(&1));

    // The fill light is a control of the document camera.
    let lights: Vec<_> = d
        .controls(within(2000))
        .unwrap()
        .into_iter()
        .filter(|c| c.id == ControlId::Light)
        .collect();
    assert_eq!(lights.len(), 1);
    assert_eq!(lights[0].value, 0);
    d.set_control(ControlId::Light, ControlValue::Manual(80), within(2000))
        .unwrap();
    assert_eq!(cam.state().look.light, 80);
    drop(d);
    cam.stop();
}

#[test]
fn a_scene_change_shows_in_the_frames() {
    let cam = sim(CameraModel::Face);
    let mut c = NetworkCamera::open(&selector(&cam), DeviceKind::Camera).unwrap();
    c.start(VideoMode::new(640, 480, 30), within(3000)).unwrap();
    let f = c.next_frame(within(5000)).unwrap();
    assert_eq!((f.width, f.height), (640, 480));
    assert!(skin_share(&f) > 0.03);
    cam.set_scene(SceneRequest::Empty).unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let f = c.next_frame(within(3000)).unwrap();
        if skin_share(&f) < 0.001 {
            break;
        }
        assert!(Instant::now() < end, "the person never left the picture");
    }
    // A document under the face camera: mostly paper-white, some ink.
    cam.set_scene(SceneRequest::Document {
        doc: DocKind::Certificate,
        seed: 2,
    })
    .unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let f = decode_rgb(&c.next_frame(within(5000)).unwrap()).unwrap();
        let white = f
            .data
            .chunks_exact(3)
            .filter(|p| p.iter().all(|&v| v > 180))
            .count();
        if white > (640 * 480) / 10 {
            break;
        }
        assert!(Instant::now() < end, "the page never showed");
    }
    cam.stop();
}

/// The QR codes zbar (an independent decoder) reads in a frame.
fn zbar(frame: &Frame, tag: &str) -> Vec<String> {
    let path = std::env::temp_dir().join(format!("camera-it-{tag}-{}.jpg", std::process::id()));
    std::fs::write(&path, drivers::camera::encode_jpeg(frame, 92).unwrap()).unwrap();
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&path)
        .output()
        .expect("zbarimg is installed by `cargo xtask test` (Debian zbar-tools)");
    let _ = std::fs::remove_file(&path);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn qr_scenes_give_frames_zbar_reads() {
    let cam = sim(CameraModel::Face);
    let mut c = open_camera(&selector(&cam)).unwrap();
    let cases = [
        (
            SceneRequest::QrPhone {
                payload: "41040320261128000001".into(),
                dark: false,
                seed: 3,
            },
            "41040320261128000001",
        ),
        (
            SceneRequest::QrPaper {
                payload: "WD-2026-000417".into(),
                seed: 5,
            },
            "WD-2026-000417",
        ),
    ];
    for (i, (scene, want)) in cases.into_iter().enumerate() {
        cam.set_scene(scene).unwrap();
        // Frames of the scene before may still be on their way.
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            let f = c.next_frame(within(5000)).unwrap();
            if zbar(&f, &i.to_string()) == [want] {
                break;
            }
            assert!(Instant::now() < end, "zbar never read {want}");
        }
    }
    cam.stop();
}

#[test]
fn corrupt_and_truncated_parts_are_skipped() {
    let cam = sim(CameraModel::Face);
    let mut c = open_camera(&selector(&cam)).unwrap();
    c.start(VideoMode::new(640, 480, 30), within(3000)).unwrap();
    c.next_frame(within(5000)).unwrap();
    cam.inject(CamFault::CorruptFrame);
    cam.inject(CamFault::TruncatedFrame);
    cam.inject(CamFault::CorruptFrame);
    for _ in 0..10 {
        let f = c.next_frame(within(3000)).unwrap();
        decode_rgb(&f).expect("only complete JPEGs are handed out");
    }
    assert!(cam.state().pending_faults.is_empty());
    let corrupt = c.health().counters.get("frames_corrupt").copied();
    assert_eq!(corrupt, Some(3));
    assert_eq!(c.health().state, HealthState::Ok);
    cam.stop();
}

#[test]
fn a_silent_stream_is_a_disconnected_camera() {
    let cam = sim(CameraModel::Face);
    let mut c = open_camera(&selector(&cam)).unwrap();
    c.start(VideoMode::new(640, 480, 30), within(3000)).unwrap();
    c.next_frame(within(5000)).unwrap();
    cam.inject(CamFault::Stall);
    let started = Instant::now();
    let e = loop {
        match c.next_frame(within(6000)) {
            Ok(_) => assert!(started.elapsed() < Duration::from_secs(2), "frames went on"),
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind(), ErrorKind::Disconnected, "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(c.health().state, HealthState::Offline);
    cam.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_actor_unplug_is_disconnected_within_2s_and_replug_reopens_within_5s() {
    use hal::actor::spawn;
    use hal::camera::CameraHandle;

    let cam = sim(CameraModel::Face);
    let sel = selector(&cam);
    let h: CameraHandle =
        spawn("face_camera", DeviceKind::Camera, move || open_camera(&sel)).unwrap();
    let mut events = h.events();
    let t = Duration::from_secs(3);
    // The first open may race the subscription: wait until a call works.
    let end = Instant::now() + Duration::from_secs(5);
    while h.camera_modes(t).await.is_err() {
        assert!(Instant::now() < end, "the camera never opened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    h.start_stream(VideoMode::new(640, 480, 30), t)
        .await
        .unwrap();
    let f = h.next_frame(t).await.unwrap();
    assert_eq!((f.width, f.height), (640, 480));

    let unplugged = Instant::now();
    cam.set_unplugged(true);
    let e = loop {
        match h.next_frame(t).await {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind(), ErrorKind::Disconnected, "{e}");
    assert!(
        unplugged.elapsed() < Duration::from_secs(2),
        "{:?}",
        unplugged.elapsed()
    );
    wait_for(&mut events, DeviceEvent::Detached).await;
    assert_eq!(h.health().state, HealthState::Offline);

    let replugged = Instant::now();
    cam.set_unplugged(false);
    wait_for(&mut events, DeviceEvent::Attached).await;
    assert!(replugged.elapsed() < Duration::from_secs(5));
    assert_eq!(h.health().state, HealthState::Ok);
    let f = h.next_frame(t).await.unwrap();
    assert_eq!(
        (f.width, f.height),
        (1280, 720),
        "a fresh driver starts the preview"
    );
    cam.stop();
}

async fn wait_for(rx: &mut tokio::sync::broadcast::Receiver<DeviceEvent>, want: DeviceEvent) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Ok(ev)) if ev == want => return,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("no {want:?} within 5 s: {other:?}"),
        }
    }
}

/// A peer that answers every request with what `answer` gives for its
/// request line, then keeps the connection open for `hold`.
fn peer(answer: fn(&str) -> Vec<u8>, hold: Duration) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap() == 0 || h.trim().is_empty() {
                        break;
                    }
                }
                let _ = s.write_all(&answer(&line));
                std::thread::sleep(hold);
            });
        }
    });
    addr
}

fn params() -> Vec<u8> {
    let body = "root.Properties.Image.Resolution=640x480\r\n";
    format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[test]
fn an_oversized_part_is_refused_without_reading_it() {
    let addr = peer(
        |line| {
            if line.contains("param.cgi") {
                params()
            } else {
                // A part claiming 2 GB, then only a little data.
                b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=b\r\n\r\n\
--b\r\nContent-Type: image/jpeg\r\nContent-Length: 2147483648\r\n\r\n\xFF\xD8\xFF"
                    .to_vec()
            }
        },
        Duration::from_secs(10),
    );
    let sel: Selector = format!("http://{addr}/").parse().unwrap();
    let mut c = open_camera(&sel).unwrap();
    c.start(VideoMode::new(640, 480, 30), within(2000)).unwrap();
    let started = Instant::now();
    let e = c.next_frame(within(5000)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    assert!(e.detail().contains("2147483648"), "{}", e.detail());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "refused at the header, not after waiting for 2 GB"
    );
}

#[test]
fn a_peer_that_is_no_camera_is_refused_with_the_right_kind() {
    // Nothing listening: connection refused.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let sel: Selector = format!("http://{closed}/").parse().unwrap();
    let e = open_camera(&sel).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::Disconnected, "{e}");

    // A web server without the CGI.
    let addr = peer(
        |_| b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
        Duration::ZERO,
    );
    let e = open_camera(&format!("http://{addr}/").parse().unwrap())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");

    // A camera asking for a password.
    let addr = peer(
        |_| {
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"AXIS\"\r\nContent-Length: 0\r\n\r\n".to_vec()
        },
        Duration::ZERO,
    );
    let e = open_camera(&format!("http://{addr}/").parse().unwrap())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");

    // Something that does not speak HTTP, and one that never answers.
    let addr = peer(|_| b"\x1b[2J220 ftp ready\r\n".to_vec(), Duration::ZERO);
    let e = open_camera(&format!("http://{addr}/").parse().unwrap())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let started = Instant::now();
    let e = open_camera(&format!("http://{addr}/").parse().unwrap())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "open gives up by its deadline"
    );

    // A stream that is not multipart.
    let addr = peer(
        |line| {
            if line.contains("param.cgi") {
                params()
            } else {
                b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n<html>".to_vec()
            }
        },
        Duration::from_secs(2),
    );
    let mut c = open_camera(&format!("http://{addr}/").parse().unwrap()).unwrap();
    let e = c
        .start(VideoMode::new(640, 480, 30), within(2000))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Protocol, "{e}");
    drop(silent);
}

#[test]
fn v4l_and_usb_selectors_without_a_camera_are_not_found() {
    // No /dev/video* on the build machines: the V4L2 path says so.
    for s in [
        "v4l:name=No Such Camera",
        "usb:ffff:fffe",
        "v4l:/dev/video99",
    ] {
        let e = open_camera(&s.parse().unwrap()).err().unwrap();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{s}: {e}");
    }
    let e = open_camera(&"serial:/dev/ttyS0".parse().unwrap())
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Config);
}
