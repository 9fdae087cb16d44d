//! Developer commands. Run as `cargo xtask <command>`.
//!
//! * `cargo xtask test` — installs what the tests need on a Debian machine
//!   (as root), then checks formatting, runs clippy with warnings denied,
//!   builds every binary and runs every test (cargo-nextest when present).
//! * `cargo xtask demo` — installs what the demo needs, builds, starts the
//!   backend with demo data, the simulated device farm and the kiosk, and
//!   prints the portal, clerk, simulator and kiosk remote-view URLs.
//!   Ctrl-C stops all of it.
//! * `cargo xtask font` — rebuilds the CJK font subset in `assets/fonts/`.
//! * `cargo xtask voice [ID…]` — regenerates the voice prompts (espeak-ng).
//! * `cargo xtask ime` — regenerates the pinyin dictionary (jieba + pypinyin).
//! * `cargo xtask udev [--check]` — regenerates the udev rules in `image/`
//!   from the drivers' USB id tables (`--check` fails when they are stale).
//! * `cargo xtask image` — builds the kiosk and backend disk images.
//! * `cargo xtask image-test` — boots both images in QEMU and checks them.

// Indexing here is into serde_json values (which never panics: a missing
// key is Null) and into argument lists whose length was checked.
#![allow(clippy::indexing_slicing)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

mod image;
mod ime;
mod udev;
mod voice;

/// Debian packages every build needs.
const BUILD_PACKAGES: &[&str] = &[
    "pkg-config",
    "gcc",
    "libc6-dev",
    "libudev-dev",
    "libfontconfig1-dev",
    "libusb-1.0-0-dev",
    "libpcsclite-dev",
    // nokhwa's V4L2 bindings are made by bindgen, which loads libclang.
    "libclang1-14",
    "linux-libc-dev",
    // The voice crate plays prompts through ALSA (alsa-sys links libasound).
    "libasound2-dev",
    // Slint's linuxkms backend (the terminal draws on DRM/KMS, input
    // through libinput).
    "libinput-dev",
    "libxkbcommon-dev",
];
/// Debian packages the tests need beyond the build.
const TEST_PACKAGES: &[&str] = &[
    "zbar-tools",
    // Independent QR, PDF417 and Data Matrix encoders for the code reader's tests.
    "qrencode",
    "zint",
    // The document pipeline's legibility check OCRs pages before and after.
    "tesseract-ocr",
    "tesseract-ocr-chi-sim",
    "python3",
    "python3-venv",
    "pcscd",
    "vsmartcard-vpcd",
    "cups",
    "printer-driver-cups-pdf",
    "cups-ipp-utils",
    "poppler-utils",
    // The browser journeys drive it through Playwright (tests/browser).
    "chromium",
];
/// Independent peers from PyPI the tests talk to (in a venv under the
/// target directory, so the system Python is left alone).
const PYTHON_PACKAGES: &[&str] = &[
    "pyserial==3.5",
    "pyfingerprint==1.5",
    "python-escpos==3.1",
    // Reference TOTP codes for the auth crate; API fuzzing of the backend.
    "pyotp==2.12.0",
    "schemathesis==4.32.5",
];
/// Debian packages the demo needs to show a real window when a display exists.
/// The card reader of the demo farm is pcscd's virtual reader.
const DEMO_PACKAGES: &[&str] = &["libxkbcommon-x11-0", "pcscd", "vsmartcard-vpcd"];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("demo") => demo(&args[1..]),
        Some("font") => font(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("voice") => voice::voice(&args[1..]),
        Some("ime") => ime::ime(),
        Some("udev") => udev::udev(&args[1..]),
        Some("image") => image::image(&args[1..]),
        Some("image-test") => image::image_test(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <test|demo|fuzz|font|voice|ime|udev|image|image-test>\n  test [-- NEXTEST ARGS]   install test packages and run every check and test\n  demo [--no-kiosk]        run backend + simulators + kiosk with demo data\n  fuzz [--seconds N] [--update-corpus] [TARGET…]\n                           run every device-bytes fuzz target (default 60 s each)\n  font                     rebuild the CJK font subset\n  voice [ID…]              regenerate the voice prompts with espeak-ng\n  ime                      regenerate the pinyin dictionary (jieba + pypinyin)\n  udev [--check]           regenerate image/udev rules from the drivers' USB id tables\n  image                    build the kiosk and backend disk images (target/image/)\n  image-test               boot both images in QEMU and run the boot checks"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: $ {cmd:?}");
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

/// Installs the Debian packages that are missing (apt-get as root).
fn ensure_packages(pkgs: &[&str]) -> Result<()> {
    if Command::new("dpkg-query")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "xtask: not a Debian system; make sure these are installed: {}",
            pkgs.join(" ")
        );
        return Ok(());
    }
    let missing: Vec<&str> = pkgs.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0"))
        .unwrap_or(false);
    let sudo: &[&str] = if is_root { &[] } else { &["sudo"] };
    eprintln!("xtask: installing Debian packages: {}", missing.join(" "));
    let apt = |args: &[&str]| {
        let mut all: Vec<&str> = sudo.to_vec();
        all.push("apt-get");
        all.extend_from_slice(args);
        let mut c = Command::new(all[0]);
        c.args(&all[1..]).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut apt(&["update", "-qq"]))?;
    let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
    install.args(&missing);
    run(&mut install)
}

/// Makes `target/pyenv` with the Python peers installed; returns its
/// interpreter.
fn python_env() -> Result<PathBuf> {
    let venv = target_dir().join("pyenv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let stamp = venv.join("installed.txt");
    let want = PYTHON_PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str()) {
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PYTHON_PACKAGES))?;
        std::fs::write(&stamp, &want).context("writing the venv stamp")?;
    }
    Ok(python)
}

/// Installs the browser tests' npm packages (pinned by the committed
/// lock file) in `dir`; Node.js and npm come from Debian when missing.
fn node_modules(dir: &Path) -> Result<()> {
    let has = |tool: &str| Command::new(tool).arg("--version").output().is_ok();
    if !has("node") {
        ensure_packages(&["nodejs", "npm"])?;
    }
    if !has("node") || !has("npm") {
        eprintln!("xtask: node or npm missing; the browser tests will be skipped");
        return Ok(());
    }
    run(Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir))
}

fn has_nextest() -> bool {
    cargo()
        .args(["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn test(extra: &[String]) -> Result<()> {
    let mut pkgs = BUILD_PACKAGES.to_vec();
    pkgs.extend_from_slice(TEST_PACKAGES);
    ensure_packages(&pkgs)?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The end-to-end tests start the real binaries.
    run(cargo().args(["build", "--workspace", "--bins"]))?;
    let python = python_env()?;
    let browser = root().join("tests/browser");
    node_modules(&browser)?;
    // The unified-identity login test runs a local OIDC provider (tests/oidc).
    node_modules(&root().join("tests/oidc"))?;
    let extra: Vec<&String> = extra.iter().skip_while(|a| *a == "--").collect();
    let mut tests = cargo();
    if has_nextest() {
        tests.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
    } else {
        eprintln!("xtask: cargo-nextest not found, using cargo test");
        tests.args(["test", "--workspace", "--no-fail-fast"]);
    }
    run(tests
        .env("KIOSK_TEST_PYTHON", &python)
        .env("AUTH_PYTHON", &python)
        .env("TEST_PYTHON", &python)
        .env("BROWSER_NODE_DIR", &browser)
        .args(&extra))?;
    run(cargo().args(["test", "--workspace", "--doc"]))?;
    Ok(())
}

/// A child process whose stdout lines arrive on a channel.
struct Service {
    name: &'static str,
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Service {
    fn start(name: &'static str, cmd: &mut Command) -> Result<Service> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("[{name}] {line}");
                if tx.send(line).is_err() {
                    // Keep draining so the child never blocks on a full pipe.
                }
            }
        });
        Ok(Service {
            name,
            child,
            lines: rx,
        })
    }

    /// Waits for a stdout line for which `pick` returns a value.
    fn wait_for<T>(
        &mut self,
        timeout: Duration,
        mut pick: impl FnMut(&str) -> Option<T>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(v) = pick(&line) {
                        return Ok(v);
                    }
                }
                Err(_) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        bail!("{} exited with {status} before it was ready", self.name);
                    }
                    bail!("{} was not ready within {timeout:?}", self.name);
                }
            }
        }
    }

    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn demo(args: &[String]) -> Result<()> {
    let with_kiosk = !args.iter().any(|a| a == "--no-kiosk");
    let mut pkgs = BUILD_PACKAGES.to_vec();
    pkgs.extend_from_slice(DEMO_PACKAGES);
    ensure_packages(&pkgs)?;
    run(cargo().args([
        "build", "-p", "backend", "-p", "sim", "-p", "kiosk", "-p", "kioskctl", "--bins",
    ]))?;
    ensure_pcscd();

    let stop = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&stop);
    ctrlc::set_handler(move || s.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;

    let base = root();
    let data = base.join(".demo");
    std::fs::create_dir_all(&data)?;
    let bin = target_dir().join("debug");
    let mut services: Vec<Service> = Vec::new();
    let result = (|| -> Result<()> {
        let mut backend = Service::start(
            "backend",
            Command::new(bin.join("backend"))
                .args(["serve", "--listen", "127.0.0.1:8080", "--db"])
                .arg(data.join("backend.db")),
        )?;
        let backend_url = backend.wait_for(Duration::from_secs(30), |l| {
            l.split_once("listening on ")
                .map(|(_, url)| url.trim().to_string())
        })?;
        services.push(backend);

        let mut sim = Service::start(
            "sim",
            Command::new(bin.join("sim"))
                .args(["run", "--dir"])
                .arg(data.join("sim")),
        )?;
        let mut selectors = Vec::new();
        let control = sim.wait_for(Duration::from_secs(30), |l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            if let (Some(d), Some(s)) = (v["device"].as_str(), v["selector"].as_str()) {
                selectors.push((d.to_string(), s.to_string()));
            }
            v["control"].as_str().map(str::to_string)
        })?;
        services.push(sim);

        let mut remote = None;
        if with_kiosk {
            let config = data.join("kiosk.toml");
            let mut devices = String::new();
            for (name, sel) in &selectors {
                devices.push_str(&format!("{name} = \"{sel}\"\n"));
            }
            std::fs::write(
                &config,
                format!(
                    "kiosk_name = \"卫东区政务服务中心 自助终端 01\"\nlocation = \"卫东区政务服务中心一楼大厅\"\nbackend_url = \"{backend_url}\"\nenrolment_code = \"WD-DEMO-ENROL\"\ndata_dir = \"{}\"\nmaintenance_pin = \"246810\"\ninactivity_seconds = 60\n\n[devices]\n{devices}",
                    data.join("kiosk").display()
                ),
            )?;
            let headless = std::env::var_os("DISPLAY").is_none()
                && std::env::var_os("WAYLAND_DISPLAY").is_none();
            let mut cmd = Command::new(bin.join("kiosk"));
            cmd.arg("--config").arg(&config);
            if headless {
                cmd.args(["--headless", "--remote-view", "127.0.0.1:8090"]);
            }
            let mut kiosk = Service::start("kiosk", &mut cmd)?;
            let mut view = None;
            kiosk.wait_for(Duration::from_secs(60), |l| {
                if let Some((_, url)) = l.split_once("remote view at ") {
                    view = Some(url.trim().to_string());
                }
                l.contains("kiosk ready").then_some(())
            })?;
            remote = view;
            services.push(kiosk);
        }

        println!();
        println!("  门户 Portal:              {backend_url}/");
        println!("  窗口 Clerk:               {backend_url}/clerk");
        println!("  模拟器 Simulator control: {control}/");
        if let Some(v) = &remote {
            println!("  终端远程画面 Kiosk view:  {v}");
        }
        println!("  (演示维护密码 maintenance PIN: 246810; Ctrl-C 停止 stops everything)");
        println!("  演示账号 Demo logins (password Weidong@2026demo):");
        println!("    居民 resident 张伟 13837512345 · 企业 company 13937500001");
        println!(
            "    窗口 clerk gaoj → 审查 liuy → 审批 zhaom (公安); supervisor lind; admin dengk"
        );
        println!("    动态口令 TOTP code: target/debug/backend demo-code");
        println!();

        while !stop.load(Ordering::SeqCst) {
            for s in &mut services {
                if let Ok(Some(status)) = s.child.try_wait() {
                    bail!("{} stopped unexpectedly ({status})", s.name);
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(())
    })();
    eprintln!("xtask: stopping…");
    for s in services.iter_mut().rev() {
        s.stop();
    }
    result
}

/// Starts pcscd (the demo's card reader is its vsmartcard virtual
/// reader) unless it runs; a demo without it only lacks the card reader.
fn ensure_pcscd() {
    let running = std::fs::read_dir("/proc").is_ok_and(|d| {
        d.filter_map(Result::ok).any(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "pcscd")
        })
    });
    if !running && Command::new("pcscd").status().is_err() {
        eprintln!("xtask: pcscd could not be started; the demo runs without the card reader");
    }
}

/// The workspace's version and the commit, e.g. `0.1.0+57c85b7`.
fn workspace_version() -> String {
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    format!("{}+{commit}", env!("CARGO_PKG_VERSION"))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The fuzz targets, from the `[[bin]]` entries of fuzz/Cargo.toml.
fn fuzz_targets() -> Result<Vec<String>> {
    let manifest = std::fs::read_to_string(root().join("fuzz/Cargo.toml"))
        .context("reading fuzz/Cargo.toml")?;
    Ok(manifest
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .filter(|n| *n != "kiosk-fuzz")
        .map(str::to_string)
        .collect())
}

/// `cargo xtask fuzz`: each target runs for the given time from the
/// corpus kept in `fuzz/corpus/TARGET` (read only; new finds go to a
/// scratch directory, or are merged into the corpus with
/// `--update-corpus`). Prints a table of runs per target; a crash stops
/// with the reproducer under `fuzz/artifacts/`.
fn fuzz(args: &[String]) -> Result<()> {
    let mut seconds = 60u64;
    let mut update = false;
    let mut chosen = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .context("--seconds needs a number")?
                    .parse()
                    .context("--seconds needs a number")?;
            }
            "--update-corpus" => update = true,
            t => chosen.push(t.to_string()),
        }
    }
    let has_fuzz = cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_fuzz {
        run(cargo().args(["install", "cargo-fuzz", "--locked", "--version", "0.13.2"]))?;
    }
    let targets = if chosen.is_empty() {
        fuzz_targets()?
    } else {
        chosen
    };
    let scratch = target_dir().join("fuzz-scratch");
    let mut table = Vec::new();
    for t in &targets {
        let corpus = root().join("fuzz/corpus").join(t);
        std::fs::create_dir_all(&corpus)?;
        let work = scratch.join(t);
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)?;
        let mut cmd = cargo();
        // libFuzzer and the sanitizer need unstable flags; the machine has
        // only the stable toolchain.
        cmd.env("RUSTC_BOOTSTRAP", "1")
            .args(["fuzz", "run", t.as_str()])
            .arg(&work)
            .arg(&corpus)
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-print_final_stats=1",
            ])
            .stderr(Stdio::piped());
        eprintln!("xtask: $ {cmd:?}");
        let out = cmd
            .output()
            .with_context(|| format!("running fuzz target {t}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let runs = log
            .lines()
            .find_map(|l| {
                l.strip_prefix("Done ")
                    .and_then(|r| r.split_whitespace().next())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "?".into());
        if !out.status.success() {
            eprintln!("{log}");
            bail!(
                "fuzz target {t} failed after {runs} runs; the reproducer is under fuzz/artifacts/{t}/"
            );
        }
        if update {
            run(cargo()
                .env("RUSTC_BOOTSTRAP", "1")
                .args(["fuzz", "run", t.as_str()])
                .arg(&corpus)
                .arg(&work)
                .args(["--", "-merge=1"]))?;
        }
        table.push((t.clone(), runs));
    }
    println!("\nfuzz target            runs without a crash ({seconds} s each)");
    for (t, runs) in table {
        println!("{t:<22} {runs}");
    }
    Ok(())
}

fn font() -> Result<()> {
    ensure_packages(&["fonts-noto-cjk", "fonttools"])?;
    let chars = root().join("assets/fonts/subset-chars.txt");
    if !chars.exists() {
        bail!("{} is missing", chars.display());
    }
    for (weight, file) in [
        ("Regular", "NotoSansSC-Regular.otf"),
        ("Bold", "NotoSansSC-Bold.otf"),
    ] {
        run(Command::new("pyftsubset")
            .arg(format!(
                "/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc"
            ))
            .args([
                "--font-number=2",
                "--no-hinting",
                "--layout-features=",
                "--name-IDs=*",
            ])
            .arg(format!("--text-file={}", chars.display()))
            .arg(format!(
                "--output-file={}",
                root().join("assets/fonts").join(file).display()
            )))?;
    }
    Ok(())
}
