//! `sim`: the simulated device farm and its control commands.
//!
//! ```text
//! sim run [--config FILE] [--dir DIR] [--control ADDR]
//! sim ctl [--control URL] devices
//! sim ctl lay-card [--device idcard] (--person KEY | --json CARD_JSON)
//! sim ctl remove-card | pull-card | fault KIND       [--device idcard]
//! sim ctl paper ok|near-end|out | cover open|closed   [--device receipt_printer]
//! sim ctl scene DEVICE face|document|qr_phone|qr_paper|file|empty [--doc form] [--seed N] [--payload TEXT] [--path FILE]
//! sim ctl unplug DEVICE | replug DEVICE
//! sim ctl jobs [--json]
//! ```
//!
//! `sim run` prints one JSON line per device
//! (`{"device":"idcard","kind":"id_card_reader","address":"…","selector":"…"}`),
//! then `{"control":"http://127.0.0.1:8070"}`, and serves until Ctrl-C.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use sim::farm::{Farm, FarmConfig};

#[derive(Parser)]
#[command(name = "sim", version, about = "设备模拟器 / simulated kiosk devices")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Starts the device farm and its control API.
    Run {
        /// Farm configuration (TOML); without it, the demo farm.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Working directory for pseudo-terminal links and print jobs.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Control API address (overrides the configuration).
        #[arg(long)]
        control: Option<SocketAddr>,
    },
    /// Changes a running farm through its control API.
    Ctl {
        /// Control API base URL.
        #[arg(long, env = "SIM_CONTROL", default_value = "http://127.0.0.1:8070")]
        control: String,
        #[command(subcommand)]
        action: Ctl,
    },
}

#[derive(Subcommand)]
enum Ctl {
    /// Lists devices and their state.
    Devices,
    /// Lays a card on the reader: a demo person or a card as JSON.
    LayCard {
        #[arg(long, default_value = "idcard")]
        device: String,
        #[arg(long, conflicts_with = "json")]
        person: Option<String>,
        #[arg(long)]
        json: Option<String>,
    },
    /// Takes the card away.
    RemoveCard {
        #[arg(long, default_value = "idcard")]
        device: String,
    },
    /// The card is pulled during the next read.
    PullCard {
        #[arg(long, default_value = "idcard")]
        device: String,
    },
    /// Injects a one-shot fault (ID card: bad_checksum, garbage_before_frame, split_writes, read_failure, sam_failure, silence; fingerprint: bad_checksum, garbage, silence; scanner: split_writes, noise; PIN pad: bad_checksum, silence).
    Fault {
        kind: String,
        #[arg(long, default_value = "idcard")]
        device: String,
    },
    /// Sets the paper sensor: ok, near-end, out (A4 printer: ok, out).
    Paper {
        level: String,
        #[arg(long, default_value = "receipt_printer")]
        device: String,
        /// Receipt printer: the paper runs out after this many lines of the next job.
        #[arg(long)]
        runs_out_after: Option<u32>,
    },
    /// Puts a finger on the fingerprint sensor: a demo person's key, unknown, poor or none.
    Finger {
        finger: String,
        #[arg(long, default_value = "fingerprint")]
        device: String,
    },
    /// Scans a code with the code scanner.
    Scan {
        text: String,
        /// qr, data_matrix, pdf417, code128, ean13, …
        #[arg(long)]
        symbology: Option<String>,
        /// utf8 or gb18030
        #[arg(long)]
        encoding: Option<String>,
        #[arg(long, default_value = "scanner")]
        device: String,
    },
    /// Presses keys on the PIN pad (digits; c clear, x cancel, e enter).
    Keys {
        keys: String,
        #[arg(long, default_value = "pin_pad")]
        device: String,
    },
    /// Sets the A4 printer's toner level in percent.
    Toner {
        level: u8,
        #[arg(long, default_value = "a4_printer")]
        device: String,
    },
    /// Opens or closes the printer cover.
    Cover {
        state: String,
        #[arg(long, default_value = "receipt_printer")]
        device: String,
    },
    /// Sets what a camera sees: face, document (--doc form|certificate|household|dense),
    /// qr_phone / qr_paper (--payload TEXT), file (--path PNG/JPEG), empty.
    Scene {
        device: String,
        scene: String,
        #[arg(long)]
        doc: Option<String>,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        payload: Option<String>,
        #[arg(long)]
        path: Option<PathBuf>,
    },
    /// Unplugs a device.
    Unplug { device: String },
    /// Plugs a device back in.
    Replug { device: String },
    /// Lists received print jobs.
    Jobs {
        /// One JSON object per job.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            config,
            dir,
            control,
        } => run(config, dir, control),
        Command::Ctl { control, action } => ctl(&control, action),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    config: Option<PathBuf>,
    dir: Option<PathBuf>,
    control: Option<SocketAddr>,
) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut cfg = match config {
        Some(path) => FarmConfig::load(&path)?,
        None => FarmConfig::demo(),
    };
    if let Some(c) = control {
        cfg.control = c;
    }
    let dir = dir
        .unwrap_or_else(|| std::env::temp_dir().join(format!("kiosk-sim-{}", std::process::id())));
    let farm = Arc::new(Farm::start(&cfg, &dir)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(cfg.control)
            .await
            .with_context(|| format!("binding the control API on {}", cfg.control))?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout().lock();
        for line in farm.announce() {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{}", json!({ "control": format!("http://{addr}") }))?;
        out.flush()?;
        drop(out);
        let app = sim::control::router(Arc::clone(&farm));
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        anyhow::Ok(())
    })?;
    farm.stop();
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}

fn ctl(base: &str, action: Ctl) -> anyhow::Result<()> {
    let (method, path, body): (&str, String, Option<Value>) = match &action {
        Ctl::Devices => ("GET", "/api/devices".into(), None),
        Ctl::LayCard {
            device,
            person,
            json: card,
        } => {
            let body = match (person, card) {
                (Some(p), None) => json!({ "person": p }),
                (None, Some(j)) => {
                    json!({ "card": serde_json::from_str::<Value>(j).context("--json is not JSON")? })
                }
                _ => bail!("give --person KEY or --json CARD"),
            };
            ("POST", format!("/api/devices/{device}/card"), Some(body))
        }
        Ctl::RemoveCard { device } => ("DELETE", format!("/api/devices/{device}/card"), None),
        Ctl::PullCard { device } => ("POST", format!("/api/devices/{device}/pull"), None),
        Ctl::Fault { kind, device } => (
            "POST",
            format!("/api/devices/{device}/fault"),
            Some(json!({ "fault": kind })),
        ),
        Ctl::Paper {
            level,
            device,
            runs_out_after,
        } => (
            "POST",
            format!("/api/devices/{device}/paper"),
            Some(json!({ "paper": level.replace('-', "_"), "runs_out_after": runs_out_after })),
        ),
        Ctl::Finger { finger, device } => {
            let body = match finger.as_str() {
                "none" | "unknown" | "poor" => json!(finger),
                key => json!({ "finger": key }),
            };
            ("POST", format!("/api/devices/{device}/finger"), Some(body))
        }
        Ctl::Scan {
            text,
            symbology,
            encoding,
            device,
        } => {
            let mut body = json!({ "text": text });
            if let (Some(s), Value::Object(m)) = (symbology, &mut body) {
                m.insert("symbology".into(), json!(s));
            }
            if let (Some(e), Value::Object(m)) = (encoding, &mut body) {
                m.insert("encoding".into(), json!(e));
            }
            ("POST", format!("/api/devices/{device}/scan"), Some(body))
        }
        Ctl::Keys { keys, device } => (
            "POST",
            format!("/api/devices/{device}/keys"),
            Some(json!({ "keys": keys })),
        ),
        Ctl::Toner { level, device } => (
            "POST",
            format!("/api/devices/{device}/toner"),
            Some(json!({ "level": level })),
        ),
        Ctl::Cover { state, device } => {
            let open = match state.as_str() {
                "open" => true,
                "closed" | "close" => false,
                other => bail!("cover state must be open or closed, not {other:?}"),
            };
            (
                "POST",
                format!("/api/devices/{device}/cover"),
                Some(json!({ "open": open })),
            )
        }
        Ctl::Scene {
            device,
            scene,
            doc,
            seed,
            payload,
            path,
        } => {
            let mut body = json!({ "scene": scene });
            if let Value::Object(m) = &mut body {
                if let Some(d) = doc {
                    m.insert("doc".into(), json!(d));
                }
                if let Some(s) = seed {
                    m.insert("seed".into(), json!(s));
                }
                if let Some(p) = payload {
                    m.insert("payload".into(), json!(p));
                }
                if let Some(p) = path {
                    let p = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                    m.insert("path".into(), json!(p));
                }
            }
            ("POST", format!("/api/devices/{device}/scene"), Some(body))
        }
        Ctl::Unplug { device } => ("POST", format!("/api/devices/{device}/unplug"), None),
        Ctl::Replug { device } => ("POST", format!("/api/devices/{device}/replug"), None),
        Ctl::Jobs { .. } => ("GET", "/api/jobs".into(), None),
    };
    let (status, reply) = http(base, method, &path, body.as_ref())?;
    if !(200..300).contains(&status) {
        let msg = reply
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("request failed");
        bail!("{status}: {msg}");
    }
    match action {
        Ctl::Jobs { json: true } => {
            for job in reply.as_array().into_iter().flatten() {
                println!("{job}");
            }
        }
        Ctl::Jobs { json: false } => {
            for job in reply.as_array().into_iter().flatten() {
                println!(
                    "── #{} {} ──",
                    job["id"],
                    job["device"].as_str().unwrap_or("")
                );
                println!("{}", job["text"].as_str().unwrap_or(""));
            }
        }
        _ => println!("{}", serde_json::to_string_pretty(&reply)?),
    }
    Ok(())
}

/// A small HTTP/1.1 client for the loopback control API.
fn http(
    base: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> anyhow::Result<(u16, Value)> {
    let hostport = base
        .strip_prefix("http://")
        .context("the control URL must start with http://")?
        .trim_end_matches('/');
    let addr = hostport
        .to_socket_addrs()
        .with_context(|| format!("resolving {hostport}"))?
        .next()
        .context("control address resolves to nothing")?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(3))
        .with_context(|| format!("cannot reach the simulator at {base} (is `sim run` running?)"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .context("malformed HTTP reply")?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("malformed HTTP status line")?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    Ok((status, value))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 {
            break;
        }
        let Some(chunk) = rest.get(..n) else { break };
        out.push_str(chunk);
        s = rest.get(n + 2..).unwrap_or("");
    }
    out
}
