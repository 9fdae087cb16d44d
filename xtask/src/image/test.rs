//! `cargo xtask image-test`: boots the images in QEMU (KVM when
//! `/dev/kvm` can be opened, software emulation otherwise) and checks
//! them from the outside, as a technician would:
//!
//! 1. the kiosk image, with a virtio GPU at 1920x1080, a USB tablet for
//!    touches, and the simulator's ID-card reader (a pseudo-terminal) and
//!    receipt printer (TCP) as two USB serial adapters whose serial strings
//!    the image's udev rules turn into `/dev/kiosk/idcard` and
//!    `/dev/kiosk/receipt_printer`; the backend runs on the host and is
//!    reached through QEMU's user network at 10.0.2.2;
//! 2. wait for `kiosk ready` on the serial console (time from power-on
//!    recorded), screenshot through QMP, check it is the home screen;
//! 3. touch 我要查, lay 张伟's card through the simulator, see the journey
//!    advance (screen and the kiosk's log);
//! 4. cut the power (SIGKILL QEMU) while the kiosk is writing, boot again:
//!    the kiosk comes up with its store intact and the same enrolment;
//! 5. the backend image with blank data and backup disks: `/api/v1/health`
//!    answers through a forwarded port, and the backup timer's first run
//!    leaves a checked copy on the backup disk.
//!
//! Everything lands in `target/image-test/` (console logs, screenshots,
//! `report.json`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{BACKEND, KIOSK, out_dir, partitions};
use crate::{cargo, ensure_packages, run, target_dir};

/// Screen size of the virtual terminal.
const WIDTH: u32 = 1920;
const HEIGHT: u32 = 1080;

/// Boots the images in QEMU and checks them.
pub fn image_test(args: &[String]) -> Result<()> {
    let skip_backend = args.iter().any(|a| a == "--kiosk-only");
    let skip_kiosk = args.iter().any(|a| a == "--backend-only");
    ensure_qemu()?;
    let images = out_dir();
    if std::env::var_os("IMAGE_TEST_NO_BUILD").is_none()
        && (!images.join("kiosk.raw").exists() || !images.join("backend.qcow2").exists())
    {
        eprintln!("xtask: no images yet: building them first");
        super::image(&[])?;
    }
    run(cargo().args(["build", "-p", "backend", "-p", "sim", "--bins"]))?;
    let work = target_dir().join("image-test");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let accel = if kvm_usable() { "kvm" } else { "tcg" };
    eprintln!("xtask: QEMU acceleration: {accel}");
    let mut report = serde_json::Map::new();
    report.insert("accel".into(), json!(accel));

    if !skip_kiosk {
        kiosk_test(&work, accel, &mut report)?;
    }
    if !skip_backend {
        backend_test(&work, accel, &mut report)?;
    }
    let text = serde_json::to_string_pretty(&Value::Object(report))?;
    std::fs::write(work.join("report.json"), &text)?;
    eprintln!("xtask: image test passed\n{text}");
    Ok(())
}

/// QEMU and the UEFI firmware. Debian 12 machines may carry qemu-utils
/// from bookworm-backports, which the stable qemu-system packages
/// conflict with: then the system emulator comes from backports too.
fn ensure_qemu() -> Result<()> {
    if Path::new("/usr/bin/qemu-system-x86_64").exists()
        && Path::new("/usr/share/OVMF/OVMF_CODE_4M.fd").exists()
    {
        return Ok(());
    }
    if ensure_packages(&["qemu-system-x86", "ovmf"]).is_ok() {
        return Ok(());
    }
    eprintln!("xtask: qemu-system-x86 from bookworm-backports (matching qemu-utils)");
    std::fs::write(
        "/etc/apt/sources.list.d/bookworm-backports.sources",
        "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n",
    )
    .context("adding bookworm-backports (run as root)")?;
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args([
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "-t",
            "bookworm-backports",
            "qemu-system-x86",
            "ovmf",
        ])
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Whether KVM can run our guests here. Opening `/dev/kvm` is not
/// enough: on some nested hosts it opens, and even runs SeaBIOS, but UEFI
/// firmware stops with "KVM internal error". So the firmware the images
/// boot with is started under KVM: it names its boot option on the serial
/// line within a few seconds when KVM works.
fn kvm_usable() -> bool {
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_err()
    {
        return false;
    }
    let dir = std::env::temp_dir().join(format!("kvm-probe-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err()
        || std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", dir.join("vars.fd")).is_err()
    {
        return false;
    }
    let log = dir.join("serial.log");
    let Ok(mut child) = Command::new("qemu-system-x86_64")
        .args(["-machine", "q35,accel=kvm", "-cpu", "host", "-m", "256"])
        .args(["-nodefaults", "-display", "none", "-no-reboot"])
        .args([
            "-drive",
            "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
        ])
        .arg("-drive")
        .arg(format!(
            "if=pflash,format=raw,file={}",
            dir.join("vars.fd").display()
        ))
        .arg("-serial")
        .arg(format!("file:{}", log.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut ok = false;
    while Instant::now() < deadline {
        if std::fs::read(&log).is_ok_and(|t| t.windows(6).any(|w| w == b"BdsDxe")) {
            ok = true;
            break;
        }
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    ok
}

/// A child process killed when dropped.
struct Proc {
    name: String,
    child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("xtask: stopped {}", self.name);
    }
}

/// Starts a host program whose stdout lines are read by `pick` until it
/// returns values for every wanted key (or the deadline passes).
fn start_host(
    name: &str,
    cmd: &mut Command,
    timeout: Duration,
    mut pick: impl FnMut(&str) -> bool,
) -> Result<Proc> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let proc = Proc {
        name: name.to_string(),
        child,
    };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .with_context(|| format!("{name} did not start within {timeout:?}"))?;
        if pick(&line) {
            return Ok(proc);
        }
    }
}

/// The host side: backend and device simulators.
struct Host {
    _backend: Proc,
    _sim: Proc,
    backend_port: u16,
    backend_db: PathBuf,
    control: String,
    idcard_pty: PathBuf,
    printer: String,
}

fn start_host_side(work: &Path) -> Result<Host> {
    let bin = target_dir().join("debug");
    let db = work.join("backend.db");
    let mut url = String::new();
    let backend = start_host(
        "backend",
        Command::new(bin.join("backend"))
            .args(["serve", "--listen", "0.0.0.0:0", "--db"])
            .arg(&db),
        Duration::from_secs(60),
        |l| {
            if let Some((_, u)) = l.split_once("listening on ") {
                url = u.trim().to_string();
                true
            } else {
                false
            }
        },
    )?;
    let backend_port: u16 = url
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .with_context(|| format!("no port in {url}"))?;

    let farm = work.join("farm.toml");
    std::fs::write(
        &farm,
        "control = \"127.0.0.1:0\"\n\n[[device]]\nname = \"idcard\"\nkind = \"idcard\"\n\n[[device]]\nname = \"receipt_printer\"\nkind = \"receipt_printer\"\naddress = \"127.0.0.1:0\"\n",
    )?;
    let (mut control, mut idcard, mut printer) = (String::new(), String::new(), String::new());
    let sim = start_host(
        "sim",
        Command::new(bin.join("sim"))
            .args(["run", "--config"])
            .arg(&farm)
            .arg("--dir")
            .arg(work.join("sim")),
        Duration::from_secs(30),
        |l| {
            let Ok(v) = serde_json::from_str::<Value>(l) else {
                return false;
            };
            match (v["device"].as_str(), v["selector"].as_str()) {
                (Some("idcard"), Some(s)) => idcard = s.to_string(),
                (Some("receipt_printer"), Some(s)) => printer = s.to_string(),
                _ => {}
            }
            if let Some(c) = v["control"].as_str() {
                control = c.to_string();
            }
            !control.is_empty()
        },
    )?;
    // serial:/path?baud=N → /path (QEMU opens the pseudo-terminal itself).
    let pty = idcard
        .strip_prefix("serial:")
        .and_then(|s| s.split('?').next())
        .with_context(|| format!("unexpected ID-card selector {idcard}"))?;
    let printer = printer
        .strip_prefix("tcp:")
        .and_then(|s| s.split('?').next())
        .with_context(|| format!("unexpected printer selector {printer}"))?
        .to_string();
    Ok(Host {
        _backend: backend,
        _sim: sim,
        backend_port,
        backend_db: db,
        control,
        idcard_pty: std::fs::canonicalize(pty)?,
        printer,
    })
}

/// Writes the site configuration onto the data partition of a raw kiosk
/// disk, as the factory's provisioning step does (debugfs works on the
/// partition inside the disk file at its offset; no loop device).
fn provision(raw: &Path, work: &Path, backend_port: u16) -> Result<()> {
    let table = partitions(raw)?;
    let (start, _) = *table.get("data").context("no data partition")?;
    let config = work.join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "kiosk_name = \"卫东区政务服务中心 自助终端 QEMU\"\nlocation = \"虚拟机\"\nbackend_url = \"http://10.0.2.2:{backend_port}\"\nenrolment_code = \"WD-DEMO-ENROL\"\ndata_dir = \"/data/kiosk\"\nmaintenance_pin = \"246810\"\ninactivity_seconds = 60\nlanguage = \"zh\"\nfullscreen = true\naudio_device = \"none\"\nvoice_dir = \"/usr/share/kiosk/voice\"\n\n[devices]\nidcard = \"serial:/dev/kiosk/idcard?baud=115200\"\nreceipt_printer = \"serial:/dev/kiosk/receipt_printer?baud=115200\"\n"
        ),
    )?;
    let target = format!("{}?offset={}", raw.display(), start * 512);
    run(Command::new("debugfs").args([
        "-w",
        "-R",
        &format!("write {} config/kiosk.toml", config.display()),
        &target,
    ]))?;
    Ok(())
}

/// A running VM: QEMU, its serial console file and its QMP socket.
struct Vm {
    proc: Proc,
    console: PathBuf,
    qmp: PathBuf,
    started: Instant,
}

impl Vm {
    /// Waits until the console shows `needle` (after `from` bytes).
    fn wait_console(&mut self, needle: &str, from: usize, timeout: Duration) -> Result<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            let text = std::fs::read(&self.console).unwrap_or_default();
            if let Some(tail) = text.get(from..) {
                let tail = String::from_utf8_lossy(tail);
                if let Some(at) = tail.find(needle) {
                    return Ok(from + at + needle.len());
                }
            }
            if let Ok(Some(status)) = self.proc.child.try_wait() {
                bail!(
                    "QEMU exited with {status} before the console showed {needle:?} (see {})",
                    self.console.display()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the console did not show {needle:?} within {timeout:?} (see {})",
                    self.console.display()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn console_len(&self) -> usize {
        std::fs::metadata(&self.console).map_or(0, |m| m.len() as usize)
    }

    /// One QMP command (a fresh connection each time).
    fn qmp(&self, command: Value) -> Result<Value> {
        let mut s = UnixStream::connect(&self.qmp)?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut r = BufReader::new(s.try_clone()?);
        let mut line = String::new();
        r.read_line(&mut line)?; // greeting
        writeln!(s, "{}", json!({"execute": "qmp_capabilities"}))?;
        loop {
            line.clear();
            r.read_line(&mut line)?;
            if line.contains("\"return\"") {
                break;
            }
        }
        writeln!(s, "{command}")?;
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 {
                bail!("QMP closed");
            }
            let v: Value = serde_json::from_str(&line)?;
            if v.get("event").is_some() {
                continue;
            }
            if let Some(e) = v.get("error") {
                bail!("QMP {command}: {e}");
            }
            return Ok(v);
        }
    }

    /// The guest's screen as RGB (PPM through QMP), also kept as PNG.
    fn screenshot(&self, name: &str) -> Result<Screen> {
        let dir = self.console.parent().unwrap_or(Path::new("."));
        let ppm = dir.join(format!("{name}.ppm"));
        let png = dir.join(format!("{name}.png"));
        self.qmp(json!({"execute": "screendump", "arguments": {"filename": ppm}}))?;
        let _ = self
            .qmp(json!({"execute": "screendump", "arguments": {"filename": png, "format": "png"}}));
        let screen = Screen::read_ppm(&ppm)?;
        let _ = std::fs::remove_file(&ppm);
        Ok(screen)
    }

    /// A tap at screen coordinates through the USB tablet.
    fn tap(&self, x: u32, y: u32) -> Result<()> {
        let (ax, ay) = (x * 0x7fff / WIDTH, y * 0x7fff / HEIGHT);
        let abs = |down: bool| {
            json!({"execute": "input-send-event", "arguments": {"events": [
                {"type": "abs", "data": {"axis": "x", "value": ax}},
                {"type": "abs", "data": {"axis": "y", "value": ay}},
                {"type": "btn", "data": {"down": down, "button": "left"}}
            ]}})
        };
        self.qmp(abs(false))?;
        std::thread::sleep(Duration::from_millis(100));
        self.qmp(abs(true))?;
        std::thread::sleep(Duration::from_millis(120));
        self.qmp(abs(false))?;
        Ok(())
    }

    /// Cuts the power: SIGKILL, no shutdown.
    fn power_cut(mut self) -> Result<()> {
        self.proc.child.kill()?;
        self.proc.child.wait()?;
        Ok(())
    }
}

/// An RGB picture.
struct Screen {
    width: u32,
    height: u32,
    rgb: Vec<u8>,
}

impl Screen {
    fn read_ppm(path: &Path) -> Result<Screen> {
        let mut data = Vec::new();
        std::fs::File::open(path)?.read_to_end(&mut data)?;
        // P6\n<w> <h>\n255\n<data>
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            while data.get(at).is_some_and(u8::is_ascii_whitespace) {
                at += 1;
            }
            let start = at;
            while data.get(at).is_some_and(|b| !b.is_ascii_whitespace()) {
                at += 1;
            }
            fields.push(String::from_utf8_lossy(data.get(start..at).unwrap_or(&[])).to_string());
        }
        at += 1;
        if fields.first().map(String::as_str) != Some("P6") {
            bail!("{} is not a binary PPM", path.display());
        }
        let width: u32 = fields
            .get(1)
            .and_then(|s| s.parse().ok())
            .context("width")?;
        let height: u32 = fields
            .get(2)
            .and_then(|s| s.parse().ok())
            .context("height")?;
        let rgb = data.get(at..).context("no pixels")?.to_vec();
        if rgb.len() < (width * height * 3) as usize {
            bail!("{} is short", path.display());
        }
        Ok(Screen { width, height, rgb })
    }

    fn pixel(&self, x: u32, y: u32) -> (u8, u8, u8) {
        let i = ((y * self.width + x) * 3) as usize;
        match self.rgb.get(i..i + 3) {
            Some([r, g, b]) => (*r, *g, *b),
            _ => (0, 0, 0),
        }
    }

    /// Share of sampled pixels that differ clearly between two screens.
    fn changed_share(&self, other: &Screen) -> f64 {
        let (mut n, mut diff) = (0u32, 0u32);
        for y in (0..self.height.min(other.height)).step_by(8) {
            for x in (0..self.width.min(other.width)).step_by(8) {
                let (a, b) = (self.pixel(x, y), other.pixel(x, y));
                n += 1;
                let d =
                    a.0.abs_diff(b.0) as u32 + a.1.abs_diff(b.1) as u32 + a.2.abs_diff(b.2) as u32;
                if d > 60 {
                    diff += 1;
                }
            }
        }
        f64::from(diff) / f64::from(n.max(1))
    }

    /// The home screen: the header band in the theme's blue across the
    /// top, and the tiles' accent colours below it.
    fn check_home(&self) -> Result<()> {
        if (self.width, self.height) != (WIDTH, HEIGHT) {
            bail!(
                "screen is {}x{}, not {WIDTH}x{HEIGHT}",
                self.width,
                self.height
            );
        }
        let blue = |p: (u8, u8, u8)| {
            p.2 > 80 && p.2 > p.0.saturating_add(40) && p.2 > p.1.saturating_add(20)
        };
        let header: Vec<bool> = (0..20).map(|i| blue(self.pixel(40 + i * 90, 20))).collect();
        let header_share = header.iter().filter(|b| **b).count();
        if header_share < 16 {
            bail!(
                "the top of the screen is not the kiosk's blue header ({header_share}/20 samples)"
            );
        }
        // Accent colours of the tiles (Theme.tile-*), within a tolerance.
        let accents: [(u8, u8, u8); 6] = [
            (0x1f, 0x5f, 0xbf),
            (0x0f, 0x7c, 0x7a),
            (0x4a, 0x4f, 0xb3),
            (0x2c, 0x7a, 0x3f),
            (0xb0, 0x6a, 0x00),
            (0xb0, 0x40, 0x5a),
        ];
        let mut seen = [false; 6];
        for y in (200..self.height).step_by(6) {
            for x in (0..self.width).step_by(6) {
                let p = self.pixel(x, y);
                for (i, a) in accents.iter().enumerate() {
                    let d = p.0.abs_diff(a.0) as u32
                        + p.1.abs_diff(a.1) as u32
                        + p.2.abs_diff(a.2) as u32;
                    if d < 24 {
                        seen[i] = true;
                    }
                }
            }
        }
        let n = seen.iter().filter(|s| **s).count();
        if n < 4 {
            bail!("only {n} of the tiles' accent colours are on the screen: not the home screen");
        }
        Ok(())
    }
}

fn qemu_base(accel: &str, work: &Path, name: &str) -> Result<(Command, PathBuf, PathBuf)> {
    let vars = work.join(format!("{name}-OVMF_VARS.fd"));
    if !vars.exists() {
        std::fs::copy("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars)?;
    }
    let console = work.join(format!("{name}-console.log"));
    let qmp = work.join(format!("{name}.qmp"));
    let _ = std::fs::remove_file(&qmp);
    let mut c = Command::new("qemu-system-x86_64");
    c.args(["-machine", &format!("q35,accel={accel}")])
        .args(["-cpu", if accel == "kvm" { "host" } else { "max" }])
        .args(["-m", "2048", "-smp", "2", "-nodefaults", "-no-user-config"])
        .args([
            "-drive",
            "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
        ])
        .arg("-drive")
        .arg(format!("if=pflash,format=raw,file={}", vars.display()))
        .arg("-serial")
        .arg(format!("file:{}", console.display()))
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", qmp.display()))
        .args(["-display", "none"]);
    Ok((c, console, qmp))
}

fn boot_kiosk(accel: &str, work: &Path, disk: &Path, host: &Host, boot: u32) -> Result<Vm> {
    let (mut c, console, qmp) = qemu_base(accel, work, &format!("kiosk-boot{boot}"))?;
    c.arg("-drive")
        // The disk writes straight through to the file: SIGKILL of QEMU
        // then is a power cut that loses nothing the guest had flushed.
        .arg(format!(
            "file={},format=raw,if=virtio,cache=directsync,discard=unmap",
            disk.display()
        ))
        .args([
            "-device",
            &format!("virtio-gpu-pci,xres={WIDTH},yres={HEIGHT},max_outputs=1"),
        ])
        .args(["-device", "qemu-xhci,id=xhci"])
        .args(["-device", "usb-tablet,bus=xhci.0"])
        .arg("-chardev")
        .arg(format!(
            "serial,id=idcard,path={}",
            host.idcard_pty.display()
        ))
        .args([
            "-device",
            "usb-serial,bus=xhci.0,chardev=idcard,serial=KIOSK-IDCARD-0",
        ])
        .arg("-chardev")
        .arg(format!(
            "socket,id=printer,host={},port={},reconnect=1",
            host.printer
                .rsplit_once(':')
                .map_or("127.0.0.1", |(h, _)| h),
            host.printer.rsplit_once(':').map_or("9100", |(_, p)| p)
        ))
        .args([
            "-device",
            "usb-serial,bus=xhci.0,chardev=printer,serial=KIOSK-PRINTER-0",
        ])
        .args([
            "-netdev",
            "user,id=net0",
            "-device",
            "virtio-net-pci,netdev=net0",
        ]);
    eprintln!("xtask: $ {c:?}");
    let child = c.stdin(Stdio::null()).spawn().context("starting QEMU")?;
    Ok(Vm {
        proc: Proc {
            name: format!("QEMU (kiosk boot {boot})"),
            child,
        },
        console,
        qmp,
        started: Instant::now(),
    })
}

fn kiosk_test(work: &Path, accel: &str, report: &mut serde_json::Map<String, Value>) -> Result<()> {
    let host = start_host_side(work)?;
    let disk = work.join("kiosk.raw");
    run(Command::new("cp")
        .arg("--sparse=always")
        .arg(out_dir().join(format!("{}.raw", KIOSK.name)))
        .arg(&disk))?;
    provision(&disk, work, host.backend_port)?;
    let boot_limit = if accel == "kvm" {
        Duration::from_secs(240)
    } else {
        Duration::from_secs(900)
    };

    // First boot: power-on to home screen.
    let mut vm = boot_kiosk(accel, work, &disk, &host, 1)?;
    vm.wait_console("kiosk ready", 0, boot_limit)?;
    let boot_s = vm.started.elapsed().as_secs_f64();
    eprintln!("xtask: kiosk ready {boot_s:.1} s after power-on");
    report.insert("kiosk_power_on_to_ready_s".into(), json!(round1(boot_s)));
    // The first frame is on screen when READY is sent; give the display a
    // moment to be scanned out.
    let home = retry_screen(&vm, "kiosk-home", |s| s.check_home())?;
    report.insert(
        "kiosk_home_screenshot".into(),
        json!(work.join("kiosk-home.png")),
    );

    // 我要查 → card.
    let mark = vm.console_len();
    vm.tap(TILE_QUERY.0, TILE_QUERY.1)?;
    vm.wait_console("tile=query", mark, Duration::from_secs(30))?;
    let wait_card = retry_screen(&vm, "kiosk-query-card", |s| {
        let share = s.changed_share(&home);
        if share < 0.2 {
            bail!("the screen hardly changed after touching 我要查 ({share:.2})");
        }
        Ok(())
    })?;
    run(Command::new(target_dir().join("debug/sim")).args([
        "ctl",
        "--control",
        &host.control,
        "lay-card",
        "--person",
        "zhangwei",
    ]))?;
    let mark = vm.console_len();
    vm.wait_console("query: card read", mark, Duration::from_secs(60))?;
    retry_screen(&vm, "kiosk-query-result", |s| {
        let share = s.changed_share(&wait_card);
        if share < 0.1 {
            bail!("the screen did not move on after the card ({share:.2})");
        }
        Ok(())
    })?;
    report.insert("kiosk_card_journey".into(), json!("advanced"));

    // 打印回执: the receipt goes out through the guest's /dev/kiosk/
    // receipt_printer (a USB serial adapter) to the simulated printer.
    let jobs_before = printed_jobs(&host.control)?;
    vm.tap(PRINT_BUTTON.0, PRINT_BUTTON.1)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let jobs = loop {
        let n = printed_jobs(&host.control)?;
        if n > jobs_before {
            break n;
        }
        if Instant::now() > deadline {
            bail!("no receipt reached the simulated printer within 60 s of touching 打印回执");
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    retry_screen(&vm, "kiosk-query-printed", |_| Ok(()))?;
    report.insert("kiosk_receipt_jobs".into(), json!(jobs - jobs_before));

    // Power cut while the kiosk writes (its outbox store and catalogue
    // cache are busy right after a journey), then boot again.
    let kiosks_before = count_kiosks(&host.backend_db)?;
    vm.power_cut()?;
    let mut vm = boot_kiosk(accel, work, &disk, &host, 2)?;
    vm.wait_console("kiosk ready", 0, boot_limit)?;
    let reboot_s = vm.started.elapsed().as_secs_f64();
    report.insert(
        "kiosk_reboot_after_power_cut_to_ready_s".into(),
        json!(round1(reboot_s)),
    );
    let console = std::fs::read_to_string(&vm.console).unwrap_or_default();
    if console.contains("moved aside") {
        bail!(
            "the kiosk's store was damaged by the power cut (see {})",
            vm.console.display()
        );
    }
    retry_screen(&vm, "kiosk-home-after-power-cut", |s| s.check_home())?;
    let kiosks_after = count_kiosks(&host.backend_db)?;
    if kiosks_after != kiosks_before {
        bail!(
            "the kiosk enrolled again after the power cut ({kiosks_before} → {kiosks_after} kiosks): its credentials were lost"
        );
    }
    // The slot leaves its trial once the kiosk has been up for 30 s
    // (kiosk-healthy.service → rauc status mark-good): the update health
    // check an update's rollback depends on.
    vm.wait_console("marked slot rootfs.0 as good", 0, Duration::from_secs(180))?;
    report.insert("kiosk_slot_marked_good".into(), json!(true));
    report.insert(
        "kiosk_store_after_power_cut".into(),
        json!("intact, same enrolment"),
    );
    vm.power_cut()?;
    Ok(())
}

/// Where the 我要查 tile is on the 1920x1080 home screen.
const TILE_QUERY: (u32, u32) = (732, 470);
/// Where 打印回执 is on the 1920x1080 list of cases.
const PRINT_BUTTON: (u32, u32) = (1665, 1009);

/// Jobs the simulated receipt printer has received.
fn printed_jobs(control: &str) -> Result<usize> {
    let out = Command::new(target_dir().join("debug/sim"))
        .args(["ctl", "--control", control, "jobs", "--json"])
        .output()?;
    if !out.status.success() {
        bail!("sim ctl jobs: {}", String::from_utf8_lossy(&out.stderr));
    }
    // One JSON object per line, one line per job.
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v.is_object()))
        .count())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Takes screenshots until `check` passes (the display may lag the log by
/// a frame or two), for up to 20 s.
fn retry_screen(vm: &Vm, name: &str, check: impl Fn(&Screen) -> Result<()>) -> Result<Screen> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = vm.screenshot(name)?;
        match check(&s) {
            Ok(()) => return Ok(s),
            Err(e) if Instant::now() > deadline => {
                return Err(e.context(format!("screenshot {name}.png")));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
}

/// Kiosks enrolled in the host backend's database.
fn count_kiosks(db: &Path) -> Result<i64> {
    let out = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from kiosk').fetchone()[0])",
        ])
        .arg(db)
        .output()?;
    if !out.status.success() {
        bail!(
            "reading {}: {}",
            db.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

fn backend_test(
    work: &Path,
    accel: &str,
    report: &mut serde_json::Map<String, Value>,
) -> Result<()> {
    let system = work.join("backend-system.qcow2");
    run(Command::new("qemu-img")
        .args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"])
        .arg(out_dir().join(format!("{}.qcow2", BACKEND.name)))
        .arg(&system))?;
    let (data, backup) = (
        work.join("backend-data.qcow2"),
        work.join("backend-backup.qcow2"),
    );
    for d in [&data, &backup] {
        run(Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2"])
            .arg(d)
            .arg("1G"))?;
    }
    let port = free_port()?;
    let (mut c, console, qmp) = qemu_base(accel, work, "backend")?;
    for d in [&system, &data, &backup] {
        c.arg("-drive")
            .arg(format!("file={},format=qcow2,if=virtio", d.display()));
    }
    c.args([
        "-netdev",
        &format!("user,id=net0,hostfwd=tcp:127.0.0.1:{port}-:8080"),
    ])
    .args(["-device", "virtio-net-pci,netdev=net0"]);
    eprintln!("xtask: $ {c:?}");
    let child = c.stdin(Stdio::null()).spawn().context("starting QEMU")?;
    let vm = Vm {
        proc: Proc {
            name: "QEMU (backend)".into(),
            child,
        },
        console,
        qmp,
        started: Instant::now(),
    };
    let limit = if accel == "kvm" { 240 } else { 900 };
    let deadline = Instant::now() + Duration::from_secs(limit);
    let body = loop {
        if let Ok(body) = http_get(port, "/api/v1/health") {
            break body;
        }
        if Instant::now() > deadline {
            bail!(
                "the backend appliance did not answer /api/v1/health within {limit} s (see {})",
                vm.console.display()
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    };
    let secs = vm.started.elapsed().as_secs_f64();
    eprintln!("xtask: backend appliance healthy {secs:.1} s after power-on: {body}");
    report.insert("backend_power_on_to_healthy_s".into(), json!(round1(secs)));
    report.insert(
        "backend_health".into(),
        serde_json::from_str(&body).unwrap_or(json!(body)),
    );
    // The backup timer's first run (a minute after boot) writes a checked
    // copy to the third disk; its JSON line reaches the serial console.
    let mut vm = vm;
    let at = vm.wait_console("\"integrity\":\"ok\"", 0, Duration::from_secs(limit))?;
    let console = std::fs::read_to_string(&vm.console).unwrap_or_default();
    let line = console
        .get(..at)
        .and_then(|c| c.lines().last())
        .unwrap_or("")
        .to_string();
    eprintln!("xtask: backend backup on the backup disk: {line}");
    report.insert(
        "backend_first_backup_s".into(),
        json!(round1(vm.started.elapsed().as_secs_f64())),
    );
    vm.power_cut()?;
    Ok(())
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// GET on 127.0.0.1:port; the body when the status is 200.
fn http_get(port: u16, path: &str) -> Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: appliance\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").context("no HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("{}", head.lines().next().unwrap_or(""));
    }
    Ok(body.trim().to_string())
}
