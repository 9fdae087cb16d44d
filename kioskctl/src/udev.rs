//! `kioskctl udev-rules`: prints the udev rules of the kiosk image, the
//! same text as `image/udev/70-kiosk-devices.rules`, rendered from the
//! drivers' USB id table ([`drivers::usb_ids`]).
//!
//! ```text
//! kioskctl udev-rules > /etc/udev/rules.d/70-kiosk-devices.rules
//! ```
//!
//! A technician compares it with the installed file when a device gets
//! no `/dev/kiosk/<role>` link; `cargo xtask udev` writes the committed
//! copy from it. Exit codes: 0 printed; 2 stdout could not be written.

use std::io::Write;
use std::process::ExitCode;

/// Prints the rules on stdout.
pub fn print() -> ExitCode {
    let rules = drivers::usb_ids::udev_rules();
    let mut out = std::io::stdout().lock();
    match out.write_all(rules.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("无法输出 udev 规则 / cannot write the udev rules: {e}");
            ExitCode::from(2)
        }
    }
}
