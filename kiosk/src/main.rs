//! `kiosk`: the composition root of the self-service terminal.
//!
//! ```text
//! kiosk --config FILE [--headless] [--remote-view ADDR]
//! ```
//!
//! Reads the config, opens every configured device through
//! `drivers::registry` into a `hal` actor, chooses the Slint platform
//! (the off-screen platform with a browser remote view when `--headless`
//! is given or there is no display, otherwise a window), and runs the app.
//! Prints `kiosk remote view at http://ADDR/` (headless) and
//! `kiosk ready` on stdout; logs go to stderr. This is the only file of
//! the crate that names `drivers`.

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
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiosk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
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

fn run(cli: Cli) -> anyhow::Result<()> {
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
    let _remote_view = if cli.headless || !has_display() {
        let addr = resolve_port(cli.remote_view.unwrap_or(DEFAULT_REMOTE_VIEW))?;
        let view = kiosk::headless::install(addr, config.remote_view_token.clone())?;
        println!("kiosk remote view at http://{}/", view.local_addr());
        Some(view)
    } else {
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

    let result = kiosk::run(config, devices, rt.handle().clone());
    rt.shutdown_timeout(Duration::from_secs(2));
    result
}
