//! `kioskctl scanner listen`: prints each code a serial-mode scanner reads.
//!
//! One JSON object per scan on stdout: `{"text", "hex", "symbology"}`
//! (`text` null when the bytes are neither UTF-8 nor GB18030, `symbology`
//! null without `--aim`). Exit codes: 0 after `--count` scans; 2 cannot
//! open or bad options; 4 no scan before `--timeout-ms` (or fewer than
//! `--count`); 5 the port failed.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Subcommand;
use drivers::scanner::SerialScanner;
use hal::scanner::{ScannedCode, Symbology};
use hal::{DeviceError, ErrorKind, Selector};
use serde_json::json;

#[derive(Subcommand)]
pub enum Action {
    /// Listens for scans and prints one JSON object per code.
    /// Exit 0 after --count scans; 2 cannot open; 4 timeout; 5 port failed.
    Listen {
        #[arg(long)]
        port: String,
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        /// cr, crlf, lf or none.
        #[arg(long, default_value = "cr")]
        suffix: String,
        /// Text the scanner sends before each code.
        #[arg(long)]
        prefix: Option<String>,
        /// The scanner sends AIM identifiers.
        #[arg(long)]
        aim: bool,
        #[arg(long, default_value_t = 1)]
        count: u32,
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
        /// Accepted for symmetry with other commands; output is always JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(action: Action) -> ExitCode {
    let Action::Listen {
        port,
        baud,
        suffix,
        prefix,
        aim,
        count,
        timeout_ms,
        json: _,
    } = action;
    let mut sel = format!(
        "serial:{port}?baud={baud}&suffix={suffix}&aim={}",
        u8::from(aim)
    );
    if let Some(p) = prefix {
        // Keep '&' and '%' in the prefix literal.
        let escaped: String = p
            .bytes()
            .map(|b| match b {
                b'&' | b'%' | b'=' | b'?' => format!("%{b:02X}"),
                _ => char::from(b).to_string(),
            })
            .collect();
        sel.push_str(&format!("&prefix={escaped}"));
    }
    let selector = match sel.parse::<Selector>() {
        Ok(s) => s,
        Err(e) => return fail(&e, 2),
    };
    let mut scanner = match SerialScanner::open(&selector) {
        Ok(s) => s,
        Err(e) => return fail(&e, 2),
    };
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    for _ in 0..count {
        match scanner.read_code(deadline) {
            Ok(code) => {
                println!("{}", to_json(&code));
                let _ = std::io::stdout().flush();
            }
            Err(e) => {
                let code = match e.kind() {
                    ErrorKind::Timeout => 4,
                    ErrorKind::Config
                    | ErrorKind::NotFound
                    | ErrorKind::PermissionDenied
                    | ErrorKind::Busy => 2,
                    _ => 5,
                };
                return fail(&e, code);
            }
        }
    }
    ExitCode::SUCCESS
}

fn to_json(code: &ScannedCode) -> serde_json::Value {
    let hex: String = code.data.iter().map(|b| format!("{b:02x}")).collect();
    json!({
        "text": code.text,
        "hex": hex,
        "symbology": code.symbology.map(Symbology::as_str),
    })
}

fn fail(err: &DeviceError, code: u8) -> ExitCode {
    eprintln!("{}: {}", err.user_message(), err.detail());
    ExitCode::from(code)
}
