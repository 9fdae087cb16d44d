//! `kioskctl pinpad info`: opens a ZT588-style PIN pad and prints its
//! model and health as JSON. Never starts a PIN entry.
//!
//! Exit codes: 0 answered; 2 cannot open; 4 timeout; 5 protocol or
//! secure-module error.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Subcommand;
use drivers::pinpad::SerialPinPad;
use hal::{Device, ErrorKind, Selector};
use serde_json::json;

#[derive(Subcommand)]
pub enum Action {
    /// Prints the pad's model and health.
    Info {
        #[arg(long)]
        port: String,
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        #[arg(long, default_value_t = 3_000)]
        timeout_ms: u64,
    },
}

pub fn run(action: Action) -> ExitCode {
    let Action::Info {
        port,
        baud,
        timeout_ms,
    } = action;
    let deadline = Instant::now() + Duration::from_millis(timeout_ms);
    let result = format!("serial:{port}?baud={baud}")
        .parse::<Selector>()
        .and_then(|s| SerialPinPad::open(&s, deadline));
    match result {
        Ok(pad) => {
            let h = pad.health();
            println!(
                "{}",
                json!({"model": pad.model(), "state": h.state.as_str(), "text_zh": h.text_zh, "text_en": h.text_en})
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {}", e.user_message(), e.detail());
            ExitCode::from(match e.kind() {
                ErrorKind::Timeout => 4,
                ErrorKind::Protocol | ErrorKind::SecureModule | ErrorKind::DeviceFault => 5,
                _ => 2,
            })
        }
    }
}
