//! `kioskctl`: device diagnostics for maintenance staff, at the device.
//!
//! ```text
//! kioskctl idcard read --port PATH [--baud N] [--timeout-ms N]
//! kioskctl printer status --addr HOST:PORT [--timeout-ms N]
//! kioskctl printer test --addr HOST:PORT [--timeout-ms N]
//! kioskctl selftest --config FILE [--json] [--print] [--state FILE]
//! ```
//!
//! Output is JSON on stdout; errors are one line, Chinese then English,
//! on stderr, with an exit code per kind (see each subcommand).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod idcard;
mod printer;
mod selftest;

#[derive(Parser)]
#[command(
    name = "kioskctl",
    version,
    about = "自助终端设备诊断 / kiosk device diagnostics"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 设备自检 / self-test of every configured device: a pass/fail table,
    /// optionally printed on the receipt printer. Exit 0 all passed, 6 a
    /// device failed, 2 configuration unreadable.
    Selftest {
        /// The kiosk configuration file (its `[devices]` table).
        #[arg(long)]
        config: std::path::PathBuf,
        /// One JSON object instead of the table.
        #[arg(long)]
        json: bool,
        /// Also print the report on the receipt printer.
        #[arg(long)]
        print: bool,
        /// Where the time of each device's last test is kept
        /// (default: data_dir/selftest.json).
        #[arg(long)]
        state: Option<std::path::PathBuf>,
        #[arg(long, default_value_t = 5_000)]
        timeout_ms: u64,
    },
    /// 身份证阅读器 / ID card reader (GA 467 over serial).
    Idcard {
        #[command(subcommand)]
        action: IdcardAction,
    },
    /// 凭条打印机 / receipt printer (ESC/POS over TCP).
    Printer {
        #[command(subcommand)]
        action: PrinterAction,
    },
}

#[derive(Subcommand)]
enum IdcardAction {
    /// Reads the card on the reader and prints it as one JSON object.
    /// Exit 0 read; 3 no card; 4 timeout; 5 protocol or card error; 2 cannot open.
    Read {
        #[arg(long)]
        port: String,
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        #[arg(long, default_value_t = 5_000)]
        timeout_ms: u64,
    },
}

#[derive(Subcommand)]
enum PrinterAction {
    /// Prints the printer's real-time status as JSON.
    Status {
        #[arg(long)]
        addr: String,
        #[arg(long, default_value_t = 3_000)]
        timeout_ms: u64,
    },
    /// Prints a self-test receipt.
    Test {
        #[arg(long)]
        addr: String,
        #[arg(long, default_value_t = 10_000)]
        timeout_ms: u64,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Selftest {
            config,
            json,
            print,
            state,
            timeout_ms,
        } => selftest::run(&config, json, print, state, timeout_ms),
        Command::Idcard {
            action:
                IdcardAction::Read {
                    port,
                    baud,
                    timeout_ms,
                },
        } => idcard::read(&port, baud, timeout_ms),
        Command::Printer {
            action: PrinterAction::Status { addr, timeout_ms },
        } => printer::status(&addr, timeout_ms),
        Command::Printer {
            action: PrinterAction::Test { addr, timeout_ms },
        } => printer::test(&addr, timeout_ms),
    }
}
