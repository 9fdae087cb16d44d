//! `kiosk`: the composition root of the self-service terminal.
//!
//! ```text
//! kiosk --config FILE [--headless] [--remote-view ADDR]
//! ```
//!
//! Reads the config, opens every configured device through
//! `drivers::registry` into a `hal` actor, chooses the Slint platform
//! and runs the app. This is the only file of the crate that names
//! `drivers`.
//!
//! # The Slint platform
//!
//! * `--headless`, or neither `DISPLAY`, `WAYLAND_DISPLAY` nor
//!   `SLINT_BACKEND` set: the kiosk's own off-screen platform with a
//!   browser remote view (`kiosk::headless`); prints
//!   `kiosk remote view at http://ADDR/`.
//! * Otherwise the kiosk forces nothing: Slint's backend selector picks the
//!   platform and honours `SLINT_BACKEND`. On the kiosk image the unit sets
//!   `SLINT_BACKEND=linuxkms-software`: Slint draws straight on DRM/KMS with
//!   the software renderer and reads touch and keys through libinput
//!   (the `backend-linuxkms-noseat` feature: no seat daemon, so the
//!   service's user needs the `video` and `input` groups). With a desktop
//!   session (`DISPLAY`/`WAYLAND_DISPLAY`) and no `SLINT_BACKEND`, Slint
//!   opens a winit window.
//!
//! # systemd
//!
//! Under `kiosk.service` (`Type=notify`, `WatchdogSec=`) systemd sets
//! `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID`; they are read
//! first thing ([`kiosk::sdnotify::Notifier::from_env`]) and removed from
//! the environment, so no child process inherits them. Once the home
//! screen is up the kiosk prints `kiosk ready` on stdout, logs
//! `kiosk ready, version X.Y.Z` and sends `READY=1`; `WATCHDOG=1` follows
//! from a timer on the UI event loop at half `WATCHDOG_USEC` (a hung event
//! loop stops the pings); SIGTERM ends the event loop and sends
//! `STOPPING=1`. Logs go to stderr.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use hal::DeviceKind;
use kiosk::{Config, Devices};

/// Where the remote view listens when `--remote-view` is not given.
const DEFAULT_REMOTE_VIEW: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8090);

#[derive(Parser)]
#[command(
    name = "kiosk",
    version,
    about = "卫东区政务服务自助终端 / Weidong District self-service kiosk"
)]
struct Cli {
    /// The kiosk's TOML configuration (see kiosk.example.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Render off-screen and serve the screen to a browser (implied when
    /// neither DISPLAY nor WAYLAND_DISPLAY is set).
    #[arg(long)]
    headless: bool,
    /// Address of the headless remote view (default 127.0.0.1:8090; port 0
    /// picks a free one).
    #[arg(long, value_name = "ADDR")]
    remote_view: Option<SocketAddr>,
}

fn main() -> ExitCode {
    // Lines go to stderr and, masked, to the maintenance screen's log.
    tracing_subscriber::fmt()
        .with_writer(kiosk::logbuf::TeeWriter)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let notifier = systemd_notifier();
    match run(Cli::parse(), notifier) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// systemd's notification socket, if the kiosk runs as a `Type=notify`
/// service; the variables are then removed from the environment.
///
/// Must run before any other thread exists (changing the environment
/// while another thread may read it is undefined behaviour).
fn systemd_notifier() -> Option<kiosk::sdnotify::Notifier> {
    use kiosk::sdnotify::{NOTIFY_SOCKET, Notifier, WATCHDOG_PID, WATCHDOG_USEC};
    let notifier = Notifier::from_env();
    if let Some(n) = &notifier {
        tracing::info!(target = ?n.target(), "notifying systemd");
    }
    for var in [NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID] {
        #[allow(
            unsafe_code,
            reason = "std::env::remove_var is unsafe since edition 2024"
        )]
        // SAFETY: called from `main` before the runtime, the devices and
        // the platform start their threads: no other thread can read the
        // environment at the same time.
        unsafe {
            std::env::remove_var(var);
        }
    }
    notifier
}

fn has_env(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|s| !s.is_empty())
}

/// Whether Slint's own backend selection can show the window: a desktop
/// session, or a backend named in `SLINT_BACKEND` (e.g. `linuxkms-software`
/// on the kiosk image, which needs no display server).
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY", "SLINT_BACKEND"]
        .iter()
        .any(|v| has_env(v))
}

/// A concrete address for the remote view: port 0 becomes a free port,
/// so the address printed is the one a browser can open.
fn resolve_port(addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    let probe = std::net::TcpListener::bind(addr)
        .with_context(|| format!("no free port on {}", addr.ip()))?;
    Ok(probe.local_addr()?)
}

fn open_devices(config: &Config) -> anyhow::Result<Devices> {
    let mut devices = Devices::default();
    if let Some(selector) = config.device("idcard")? {
        tracing::info!(%selector, "ID card reader");
        devices.idcard = Some(hal::actor::spawn(
            "idcard",
            DeviceKind::IdCardReader,
            move || drivers::registry::open_id_card_reader(&selector),
        )?);
    }
    if let Some(selector) = config.device("receipt_printer")? {
        tracing::info!(%selector, "receipt printer");
        devices.receipt_printer = Some(hal::actor::spawn(
            "receipt_printer",
            DeviceKind::ReceiptPrinter,
            move || drivers::registry::open_receipt_printer(&selector),
        )?);
    }
    if let Some(selector) = config.device("face_camera")? {
        tracing::info!(%selector, "face camera");
        devices.camera = Some(hal::actor::spawn(
            "face_camera",
            DeviceKind::Camera,
            move || drivers::registry::open_camera(&selector),
        )?);
    }
    if let Some(selector) = config.device("doc_camera")? {
        tracing::info!(%selector, "document camera");
        devices.document_camera = Some(hal::actor::spawn(
            "doc_camera",
            DeviceKind::DocumentCamera,
            move || drivers::registry::open_document_camera(&selector),
        )?);
    }
    if let Some(selector) = config.device("fingerprint")? {
        tracing::info!(%selector, "fingerprint scanner");
        devices.fingerprint = Some(hal::actor::spawn(
            "fingerprint",
            DeviceKind::FingerprintScanner,
            move || drivers::registry::open_fingerprint_scanner(&selector),
        )?);
    }
    // Every other configured device runs in its own actor for health,
    // heartbeat, self-test and hot-plug.
    for entry in config.device_entries()? {
        if matches!(
            entry.name.as_str(),
            "idcard" | "receipt_printer" | "face_camera" | "doc_camera" | "fingerprint"
        ) || entry.selector == hal::Selector::None
        {
            continue;
        }
        let kind = entry.kind;
        tracing::info!(device = %entry.name, selector = %entry.selector, "device");
        let selector = entry.selector.clone();
        devices
            .others
            .push(hal::actor::spawn(&entry.name, kind, move || {
                drivers::registry::open_device(kind, &selector)
            })?);
    }
    Ok(devices)
}

fn run(cli: Cli, notifier: Option<kiosk::sdnotify::Notifier>) -> anyhow::Result<()> {
    let config = Config::from_file(&cli.config)?;
    tracing::info!(?config, "configuration read");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kiosk-rt")
        .enable_all()
        .build()
        .context("starting the async runtime")?;

    let devices = open_devices(&config)?;

    // Held for the life of the process: dropping it would stop the view.
    // Otherwise nothing is forced: Slint's selector honours SLINT_BACKEND.
    let _remote_view = if cli.headless || !has_display() {
        let addr = resolve_port(cli.remote_view.unwrap_or(DEFAULT_REMOTE_VIEW))?;
        let view = kiosk::headless::install(addr, config.remote_view_token.clone())?;
        println!("kiosk remote view at http://{}/", view.local_addr());
        Some(view)
    } else {
        if let Some(backend) = std::env::var_os("SLINT_BACKEND") {
            tracing::info!(backend = %backend.to_string_lossy(), "Slint backend from SLINT_BACKEND");
        }
        None
    };

    // SIGTERM and Ctrl-C end the event loop; the app then wipes and exits.
    rt.spawn(async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot watch SIGTERM: {e}");
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stopping");
        let _ = slint::quit_event_loop();
    });

    let result = kiosk::run(config, devices, rt.handle().clone(), notifier);
    rt.shutdown_timeout(Duration::from_secs(2));
    result
}
