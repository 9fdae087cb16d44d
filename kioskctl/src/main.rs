//! `kioskctl`: device diagnostics for maintenance staff, at the device.
//!
//! ```text
//! kioskctl idcard read --port PATH [--baud N] [--timeout-ms N]
//! kioskctl fingerprint status|capture|search --port PATH [--baud N] [--password HEX] [--json]
//! kioskctl fingerprint match-card --features FILE --port PATH [--json]
//! kioskctl printer status --addr HOST:PORT [--timeout-ms N]
//! kioskctl printer test --addr HOST:PORT [--timeout-ms N]
//! kioskctl printer status --uri ipp://HOST:PORT/printers/Q [--timeout-ms N]
//! kioskctl printer print FILE.pdf --uri ipp://HOST:PORT/printers/Q [--json] [--timeout-ms N]
//! kioskctl card read [--reader NAME] [--timeout-ms N]
//! kioskctl selftest --config FILE [--json] [--print] [--state FILE]
//! kioskctl scanner listen --port PATH [--baud N] [--suffix cr|crlf|lf|none] [--prefix TEXT] [--aim] [--count N] [--timeout-ms N] [--json]
//! kioskctl pinpad info --port PATH [--baud N] [--timeout-ms N]
//! kioskctl doccam process IN... --mode colour|grey|bw --paper a4|a5|a6|auto --out OUT [--json]
//! kioskctl qr decode FILE...
//! kioskctl camera list | info --addr SELECTOR | snap --addr SELECTOR --out FILE.jpg [--still] [--paper a4]
//! kioskctl udev-rules
//! ```
//!
//! Output is JSON on stdout; errors are one line, Chinese then English,
//! on stderr, with an exit code per kind (see each subcommand).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod camera;
mod card;
mod doccam;
mod fingerprint;
mod idcard;
mod pinpad;
mod printer;
mod qr;
mod scanner;
mod selftest;
mod udev;

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
    /// 指纹仪 / fingerprint module (EF 01 over serial).
    /// Exit 0 done; 1 no match / not found; 2 cannot open or config;
    /// 3 no finger or poor image; 4 timeout; 5 protocol or module fault.
    Fingerprint {
        #[command(subcommand)]
        action: fingerprint::Action,
    },
    /// 扫码器 / code scanner (serial mode).
    /// Exit 0 after --count scans; 2 cannot open; 4 no scan in time; 5 port failed.
    Scanner {
        #[command(subcommand)]
        action: scanner::Action,
    },
    /// 摄像头 / face camera and document camera (高拍仪): list, info, snap.
    /// Exit 0 done; 2 cannot open or bad option; 4 timeout; 5 protocol.
    Camera {
        #[command(subcommand)]
        action: camera::Action,
    },
    /// 二维码/条码识别 / read QR codes and barcodes in image files.
    /// Exit 0 found; 1 none found; 2 unreadable file.
    Qr {
        #[command(subcommand)]
        action: qr::Action,
    },
    /// 密码键盘 / PIN pad (ZT588-style serial).
    /// Exit 0 answered; 2 cannot open; 4 timeout; 5 protocol or key error.
    Pinpad {
        #[command(subcommand)]
        action: pinpad::Action,
    },
    /// 高拍仪图像处理 / document pipeline on photos: find the page,
    /// straighten, even the light, store as JPG/PNG/BMP/TIF/PDF.
    /// Exit 0 stored; 2 unreadable input or bad arguments; 5 no page or cap unmet.
    Doccam {
        #[command(subcommand)]
        action: doccam::Action,
    },
    /// 读卡器 / card reader through PC/SC (social-security and bank cards).
    Card {
        #[command(subcommand)]
        action: CardAction,
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
    /// 设备 udev 规则 / prints the udev rules that give the kiosk's USB
    /// devices /dev/kiosk/<role> links and the kiosk-dev group (the text
    /// of image/udev/70-kiosk-devices.rules). Exit 0 printed; 2 stdout failed.
    UdevRules,
}

#[derive(Subcommand)]
enum CardAction {
    /// Reads the card in the reader and prints it as JSON (numbers masked).
    /// Exit 0 read; 2 no reader or pcscd; 3 no card; 4 timeout; 5 protocol,
    /// unknown card or PSAM required.
    Read {
        /// A part of the reader's name (default: the first reader).
        #[arg(long)]
        reader: Option<String>,
        /// Accepted for symmetry with the other commands; output is always JSON.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 5_000)]
        timeout_ms: u64,
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
    /// Prints the printer's status as JSON: the receipt printer with
    /// `--addr HOST:PORT` (or a `serial:PATH?baud=N` / `usb:VID:PID`
    /// selector), the A4 printer with `--uri ipp://HOST:PORT/printers/Q`.
    Status {
        #[arg(long, required_unless_present = "uri", conflicts_with = "uri")]
        addr: Option<String>,
        #[arg(long)]
        uri: Option<String>,
        #[arg(long, default_value_t = 3_000)]
        timeout_ms: u64,
    },
    /// Prints a PDF on the A4 printer (IPP) and waits for the job.
    /// Exit 0 printed; 2 unreachable or bad file; 4 timeout; 5 protocol;
    /// 6 refused, stopped or aborted.
    Print {
        file: std::path::PathBuf,
        #[arg(long)]
        uri: String,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 60_000)]
        timeout_ms: u64,
    },
    /// Prints a self-test receipt (`--addr` as for status).
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
        Command::Card {
            action: CardAction::Read {
                reader, timeout_ms, ..
            },
        } => card::read(reader.as_deref(), timeout_ms),
        Command::Selftest {
            config,
            json,
            print,
            state,
            timeout_ms,
        } => selftest::run(&config, json, print, state, timeout_ms),
        Command::Fingerprint { action } => fingerprint::run(action),
        Command::Scanner { action } => scanner::run(action),
        Command::Pinpad { action } => pinpad::run(action),
        Command::Doccam { action } => doccam::run(action),
        Command::Camera { action } => camera::run(action),
        Command::Qr { action } => qr::run(action),
        Command::UdevRules => udev::print(),
        Command::Idcard {
            action:
                IdcardAction::Read {
                    port,
                    baud,
                    timeout_ms,
                },
        } => idcard::read(&port, baud, timeout_ms),
        Command::Printer {
            action:
                PrinterAction::Status {
                    addr,
                    uri,
                    timeout_ms,
                },
        } => match (addr, uri) {
            (_, Some(uri)) => printer::a4_status(&uri, timeout_ms),
            (Some(addr), None) => printer::status(&addr, timeout_ms),
            (None, None) => ExitCode::from(2),
        },
        Command::Printer {
            action:
                PrinterAction::Print {
                    file,
                    uri,
                    json,
                    timeout_ms,
                },
        } => printer::a4_print(&file, &uri, json, timeout_ms),
        Command::Printer {
            action: PrinterAction::Test { addr, timeout_ms },
        } => printer::test(&addr, timeout_ms),
    }
}
