//! The off-screen platform with its browser remote view, driven the way a
//! browser would: the page, the frame as PNG, clicks and typing through
//! `POST /input`, the token, and hostile requests.
//!
//! One `#[test]` per binary: the Slint platform is set once per process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use slint::ComponentHandle;

slint::slint! {
    import "../../assets/fonts/NotoSansSC-Regular.otf";

    export component Demo inherits Window {
        width: 1920px;
        height: 1080px;
        background: #ffffff;
        default-font-family: "Noto Sans CJK SC";

        in-out property <bool> done;
        in-out property <string> status: "请点击按钮";
        in-out property <string> typed <=> input.text;
        callback clicked();

        Text { x: 100px; y: 60px; text: "自助终端远程画面测试"; font-size: 64px; color: #000000; }

        Rectangle {
            x: 760px; y: 440px; width: 400px; height: 200px;
            background: root.done ? rgb(26, 127, 55) : rgb(11, 87, 208);
            TouchArea {
                clicked => {
                    root.done = true;
                    root.status = "已点击";
                    root.clicked();
                }
            }
            Text { text: root.done ? "完成" : "点我"; font-size: 64px; color: #ffffff; }
        }

        Text { x: 100px; y: 760px; text: root.status; font-size: 48px; color: #000000; }

        Rectangle {
            x: 100px; y: 880px; width: 800px; height: 100px;
            border-width: 2px; border-color: #888888;
            input := TextInput { x: 10px; y: 0px; width: parent.width - 20px; height: parent.height; font-size: 48px; color: #000000; }
        }
    }
}

const TOKEN: &str = "s3cret 令牌";
const TOKEN_Q: &str = "s3cret%20%E4%BB%A4%E7%89%8C";
const BUTTON: (u32, u32) = (960, 540);
/// Inside the button, away from its label.
const BUTTON_PROBE: (u32, u32) = (790, 460);
const BLUE: [u8; 3] = [0x0b, 0x57, 0xd0];
const GREEN: [u8; 3] = [0x1a, 0x7f, 0x37];

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .join("target")
        },
        PathBuf::from,
    )
}

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends raw bytes on a fresh connection and reads the one answer.
fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may answer (and stop reading) before a hostile request is complete.
    let _ = s.write_all(request);
    let mut data = Vec::new();
    let mut chunk = [0_u8; 65536];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("reading the answer: {e} (got {} bytes)", data.len()),
        }
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + len {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                return Reply {
                    status,
                    head,
                    body: data[end + 4..end + 4 + len].to_vec(),
                };
            }
        }
    }
    panic!(
        "connection closed without a complete answer: {:?}",
        String::from_utf8_lossy(&data)
    );
}

fn get(addr: SocketAddr, path: &str, extra: &str) -> Reply {
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n")
            .as_bytes(),
    )
}

fn with_token(path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}token={TOKEN_Q}")
}

fn post_input(addr: SocketAddr, json: &str) -> Reply {
    raw(
        addr,
        format!(
            "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nOrigin: http://{addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            with_token("/input"),
            json.len()
        )
        .as_bytes(),
    )
}

fn png(addr: SocketAddr) -> image::RgbImage {
    let r = get(addr, &with_token("/frame.png"), "");
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(r.header("content-type"), Some("image/png"));
    image::load_from_memory_with_format(&r.body, image::ImageFormat::Png)
        .unwrap()
        .to_rgb8()
}

fn pixel(img: &image::RgbImage, (x, y): (u32, u32)) -> [u8; 3] {
    img.get_pixel(x, y).0
}

/// Polls `check` on fresh frames until it holds or the deadline passes.
fn until(what: &str, deadline: Duration, mut check: impl FnMut() -> bool) {
    let end = Instant::now() + deadline;
    while !check() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The browser side, run on a helper thread while the test thread runs the event loop.
fn browser(view: &kiosk::headless::RemoteView, ui: slint::Weak<Demo>, clicked: &AtomicBool) {
    let addr = view.local_addr();

    // The first frame.
    let first = view.wait_for_frame(0, Duration::from_secs(30));
    assert!(first > 0, "no frame rendered");
    let v = get(addr, &with_token("/frame/version"), "");
    assert_eq!(v.status, 200);
    assert!(v.text().trim().parse::<u64>().unwrap() >= first);

    // The token: refused without or with a wrong one, accepted by query or cookie.
    for path in [
        "/",
        "/frame.png",
        "/frame/version",
        "/healthz",
        "/nope",
        "/?token=wrong",
    ] {
        assert_eq!(get(addr, path, "").status, 401, "{path}");
    }
    let page = get(addr, &with_token("/"), "");
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text();
    assert!(html.contains("<html lang=\"zh-CN\">"));
    assert!(html.contains("<title>自助终端远程画面 / Kiosk remote view</title>"));
    assert!(
        html.contains("/frame.png") && html.contains("/input") && html.contains("/frame/version")
    );
    let cookie = page.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap();
    let health = get(addr, "/healthz", &format!("Cookie: {cookie}\r\n"));
    assert_eq!(health.status, 200);
    assert!(health.text().contains("\"status\":\"ok\""));

    // The frame: a 1920x1080 PNG with the blue button and the Chinese title drawn.
    let before = png(addr);
    assert_eq!(before.dimensions(), (1920, 1080));
    assert_eq!(pixel(&before, BUTTON_PROBE), BLUE);
    let title_ink = (100..1000)
        .flat_map(|x| (60..140).map(move |y| (x, y)))
        .filter(|&p| pixel(&before, p)[0] < 128)
        .count();
    assert!(
        title_ink > 2000,
        "the Chinese title was not drawn ({title_ink} dark pixels)"
    );
    assert_eq!(
        view.latest_png().len(),
        get(addr, &with_token("/frame.png"), "").body.len()
    );

    // A click in the middle of the button: the callback runs and the frame turns green.
    let n = view.frame_count();
    let (x, y) = BUTTON;
    let r = post_input(
        addr,
        &format!(
            r#"[{{"type":"down","x":{x},"y":{y}}},{{"type":"up","x":{x},"y":{y}}},{{"type":"leave"}}]"#
        ),
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert!(
        view.wait_for_frame(n, Duration::from_secs(30)) > n,
        "no new frame after the click"
    );
    until("the green button", Duration::from_secs(30), || {
        pixel(&png(addr), BUTTON_PROBE) == GREEN
    });
    assert!(clicked.load(Ordering::SeqCst));

    // Typing: click into the text field, Chinese text and a Backspace.
    let r = post_input(
        addr,
        r#"[{"type":"down","x":500,"y":930},{"type":"up","x":500,"y":930},
            {"type":"text","text":"你好abc"},{"type":"key","key":"Backspace"}]"#,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    until("the typed text", Duration::from_secs(30), || {
        let (tx, rx) = std::sync::mpsc::channel();
        ui.upgrade_in_event_loop(move |ui| {
            let _ = tx.send(ui.get_typed().to_string());
        })
        .unwrap();
        rx.recv_timeout(Duration::from_secs(10)).unwrap() == "你好ab"
    });

    // A closure from another thread reaches the UI and shows on the next frame.
    let n = view.frame_count();
    ui.upgrade_in_event_loop(|ui| ui.set_status("来自后台线程".into()))
        .unwrap();
    assert!(view.wait_for_frame(n, Duration::from_secs(30)) > n);

    // Hostile and wrong requests: 4xx, and the server keeps serving.
    let hostile: Vec<(Vec<u8>, u16)> = vec![
        (b"\x00\x01\x02garbage\xff\xfe\r\n\r\n".to_vec(), 400),
        (b"GET /\r\n\r\n".to_vec(), 400),
        (
            format!("GET / HTTP/1.1\r\nHost: {addr}\r\nX-Big: {}\r\n\r\n", "a".repeat(64 * 1024)).into_bytes(),
            431,
        ),
        (format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000)).into_bytes(), 431),
        (format!("DELETE {} HTTP/1.1\r\nHost: {addr}\r\n\r\n", with_token("/")).into_bytes(), 405),
        (format!("GET {} HTTP/1.1\r\nHost: {addr}\r\n\r\n", with_token("/nope")).into_bytes(), 404),
        (format!("GET {} HTTP/1.1\r\nHost: {addr}\r\n\r\n", with_token("/input")).into_bytes(), 405),
        (format!("GET {} HTTP/2.0\r\nHost: {addr}\r\n\r\n", with_token("/")).into_bytes(), 505),
        (
            format!(
                "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{{",
                with_token("/input")
            )
            .into_bytes(),
            413,
        ),
        (
            format!(
                "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                with_token("/input")
            )
            .into_bytes(),
            411,
        ),
        (
            format!(
                "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{{}}",
                with_token("/input")
            )
            .into_bytes(),
            415,
        ),
        (
            format!(
                "POST {} HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{{\"type\":\"leave\"}}",
                with_token("/input")
            )
            .into_bytes(),
            403,
        ),
    ];
    for (request, status) in &hostile {
        let r = raw(addr, request);
        assert_eq!(
            r.status,
            *status,
            "{:?}",
            String::from_utf8_lossy(&request[..request.len().min(80)])
        );
    }
    for body in [
        r#"{"type":"explode"}"#,
        "not json",
        r#"{"type":"text","text":"a\u0000"}"#,
        r#"[]"#,
    ] {
        assert_eq!(post_input(addr, body).status, 400, "{body}");
    }
    // Bytes that never finish a request, from a client that then goes away.
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(b"GET / HT").unwrap();
    }
    // Keep-alive: two requests on one connection.
    {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let req = format!(
            "GET {} HTTP/1.1\r\nHost: {addr}\r\n\r\n",
            with_token("/healthz")
        );
        s.write_all(format!("{req}{req}").as_bytes()).unwrap();
        let mut data = Vec::new();
        let mut chunk = [0_u8; 4096];
        while data.windows(15).filter(|w| w == b"HTTP/1.1 200 OK").count() < 2
            || !data.ends_with(b"}\n")
        {
            let n = s.read(&mut chunk).unwrap();
            assert!(n > 0, "closed early: {:?}", String::from_utf8_lossy(&data));
            data.extend_from_slice(&chunk[..n]);
        }
    }
    let health = get(addr, &with_token("/healthz"), "");
    assert_eq!(health.status, 200, "the server stopped serving");

    // The final frame for the record.
    let dir = target_dir().join("screens");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("headless.png"), view.latest_png()).unwrap();
}

#[test]
fn remote_view_shows_the_screen_and_forwards_input() {
    // Refused before anything is installed: no token off loopback, an empty token.
    let err = kiosk::headless::install("0.0.0.0:0".parse().unwrap(), None).unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err:#}");
    assert!(kiosk::headless::install("127.0.0.1:0".parse().unwrap(), Some(String::new())).is_err());

    let view =
        kiosk::headless::install("127.0.0.1:0".parse().unwrap(), Some(TOKEN.into())).unwrap();
    assert!(view.local_addr().ip().is_loopback() && view.local_addr().port() != 0);
    assert!(view.url().ends_with(&format!("/?token={TOKEN_Q}")));
    assert_eq!(view.frame_count(), 0);
    assert!(view.latest_png().is_empty());
    // The platform is set once per process.
    assert!(kiosk::headless::install("127.0.0.1:0".parse().unwrap(), Some(TOKEN.into())).is_err());

    let ui = Demo::new().unwrap();
    let clicked = Arc::new(AtomicBool::new(false));
    ui.on_clicked({
        let clicked = clicked.clone();
        move || clicked.store(true, Ordering::SeqCst)
    });

    // A watchdog on the event loop itself, in case the browser thread hangs.
    let watchdog = slint::Timer::default();
    watchdog.start(
        slint::TimerMode::SingleShot,
        Duration::from_secs(180),
        || {
            let _ = slint::quit_event_loop();
        },
    );

    let browser_thread = std::thread::spawn({
        let view = view.clone();
        let weak = ui.as_weak();
        let clicked = clicked.clone();
        move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                browser(&view, weak, &clicked);
            }));
            slint::quit_event_loop().unwrap();
            result
        }
    });

    let started = Instant::now();
    ui.run().unwrap();
    if let Err(panic) = browser_thread.join().unwrap() {
        std::panic::resume_unwind(panic);
    }
    assert!(
        started.elapsed() < Duration::from_secs(180),
        "the watchdog ended the event loop"
    );
    assert!(ui.get_done());
    assert_eq!(ui.get_status(), "来自后台线程");
    assert!(clicked.load(Ordering::SeqCst));
}
