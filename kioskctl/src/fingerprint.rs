//! `kioskctl fingerprint …`: diagnostics of an `EF 01` fingerprint module.
//!
//! ```text
//! kioskctl fingerprint status      --port PATH [--baud N] [--password HEX] [--json]
//! kioskctl fingerprint capture     --port PATH [--baud N] [--password HEX] [--json]
//! kioskctl fingerprint search      --port PATH [--baud N] [--password HEX] [--json]
//! kioskctl fingerprint match-card  --port PATH --features FILE [--json]
//! ```
//!
//! With `--json` the result is one JSON object on stdout; without it, a
//! few lines in Chinese and English. Template bytes are never printed.
//!
//! Exit codes: 0 done (captured, found, matched); 1 compared but no match
//! / not found in the library; 2 cannot open or configuration (bad port,
//! not found, busy, unplugged, wrong password, unreadable features file);
//! 3 no finger or an image the person must retake; 4 timeout; 5 protocol
//! or module fault.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use drivers::fingerprint::FingerprintModule;
use hal::fingerprint::{Capture, CardMatch, CharBuffer, FingerGuidance, FingerprintScanner};
use hal::{DeviceError, ErrorKind, Selector};
use serde_json::{Value, json};

/// `kioskctl fingerprint` subcommands.
#[derive(clap::Subcommand)]
pub enum Action {
    /// Library size, templates stored, security level (ReadSysPara,
    /// TemplateNum).
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// Waits for a finger and captures it. Exit 3 no finger or a poor image.
    Capture {
        #[command(flatten)]
        target: Target,
    },
    /// Captures a finger and searches the module's library. Exit 1 not found.
    Search {
        #[command(flatten)]
        target: Target,
    },
    /// 人证核验: compares a finger with ID card features (raw bytes, 512 or
    /// 1024). Exit 1 no match.
    MatchCard {
        /// File with the card's fingerprint features.
        #[arg(long)]
        features: String,
        #[command(flatten)]
        target: Target,
    },
}

/// Runs one subcommand.
pub fn run(action: Action) -> ExitCode {
    match action {
        Action::Status { target } => status(&target),
        Action::Capture { target } => capture(&target),
        Action::Search { target } => search(&target),
        Action::MatchCard { features, target } => match_card(&target, &features),
    }
}

/// Where and how to reach the module.
#[derive(clap::Args)]
pub struct Target {
    /// Serial port (or the simulator's symlink).
    #[arg(long)]
    pub port: String,
    #[arg(long, default_value_t = 57_600)]
    pub baud: u32,
    /// Module password, hex.
    #[arg(long, default_value = "0")]
    pub password: String,
    #[arg(long, default_value_t = 5_000)]
    pub timeout_ms: u64,
    /// One JSON object on stdout instead of text.
    #[arg(long)]
    pub json: bool,
}

impl Target {
    fn open(&self) -> Result<(FingerprintModule, Instant), ExitCode> {
        let deadline = Instant::now() + Duration::from_millis(self.timeout_ms);
        let selector = format!(
            "serial:{}?baud={}&password={}",
            self.port, self.baud, self.password
        )
        .parse::<Selector>()
        .map_err(|e| fail(&e, 2))?;
        let module = FingerprintModule::open(&selector).map_err(|e| fail(&e, 2))?;
        Ok((module, deadline))
    }

    fn print(&self, value: &Value, human: &[String]) {
        if self.json {
            println!("{value}");
        } else {
            for line in human {
                println!("{line}");
            }
        }
    }
}

/// Library size, fill and security level (ReadSysPara + TemplateNum).
pub fn status(t: &Target) -> ExitCode {
    let (mut m, deadline) = match t.open() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let result = m
        .system_parameters(deadline)
        .and_then(|p| m.template_count(deadline).map(|n| (p, n)));
    match result {
        Ok((p, n)) => {
            t.print(
                &json!({
                    "template_count": n,
                    "capacity": p.capacity,
                    "security_level": p.security_level,
                    "packet_size": p.packet_size,
                    "baud": p.baud,
                    "address": format!("{:08X}", p.address),
                    "system_id": p.system_id,
                    "status_register": p.status_register,
                }),
                &[
                    format!("指纹模板数（templates）: {n} / {}", p.capacity),
                    format!("安全等级（security level）: {}", p.security_level),
                    format!(
                        "数据包（packet size）: {} 字节（bytes）, 波特率（baud）: {}",
                        p.packet_size, p.baud
                    ),
                    format!("地址（address）: {:08X}", p.address),
                ],
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e, exit_code(e.kind())),
    }
}

/// Waits for a finger, captures it and makes a template in buffer 1.
pub fn capture(t: &Target) -> ExitCode {
    let (mut m, deadline) = match t.open() {
        Ok(x) => x,
        Err(code) => return code,
    };
    match m.capture_template(CharBuffer::One, deadline) {
        Ok(Capture::Captured) => {
            t.print(
                &json!({"captured": true}),
                &["已采集指纹（finger captured）".to_string()],
            );
            ExitCode::SUCCESS
        }
        Ok(Capture::Retry(g)) => retry(t, g, json!({"captured": false})),
        Err(e) => fail(&e, exit_code(e.kind())),
    }
}

/// Captures a finger and searches the whole library for it.
pub fn search(t: &Target) -> ExitCode {
    let (mut m, deadline) = match t.open() {
        Ok(x) => x,
        Err(code) => return code,
    };
    let capacity = match m.system_parameters(deadline) {
        Ok(p) => p.capacity,
        Err(e) => return fail(&e, exit_code(e.kind())),
    };
    match m.capture_template(CharBuffer::One, deadline) {
        Ok(Capture::Captured) => {}
        Ok(Capture::Retry(g)) => return retry(t, g, json!({"found": false})),
        Err(e) => return fail(&e, exit_code(e.kind())),
    }
    match m.search(CharBuffer::One, 0, capacity, deadline) {
        Ok(Some(hit)) => {
            t.print(
                &json!({"found": true, "page": hit.page, "score": hit.score}),
                &[format!(
                    "找到指纹（found）: 第 {} 页（page）, 分数（score）{}",
                    hit.page, hit.score
                )],
            );
            ExitCode::SUCCESS
        }
        Ok(None) => {
            t.print(
                &json!({"found": false}),
                &["指纹库中未找到（not in the library）".to_string()],
            );
            ExitCode::from(1)
        }
        Err(e) => fail(&e, exit_code(e.kind())),
    }
}

/// 人证核验 against card features read from `features_path` (raw bytes).
pub fn match_card(t: &Target, features_path: &str) -> ExitCode {
    let features = match std::fs::read(features_path) {
        Ok(b) => b,
        Err(e) => {
            let err = DeviceError::new(
                ErrorKind::Config,
                format!("cannot read card features from {features_path}"),
            )
            .with_source(e);
            return fail(&err, 2);
        }
    };
    let (mut m, deadline) = match t.open() {
        Ok(x) => x,
        Err(code) => return code,
    };
    match m.match_card_features(&features, deadline) {
        Ok(CardMatch::Matched { score }) => {
            t.print(
                &json!({"matched": true, "score": score}),
                &[format!("人证一致（matched）, 分数（score）{score}")],
            );
            ExitCode::SUCCESS
        }
        Ok(CardMatch::NoMatch) => {
            t.print(
                &json!({"matched": false}),
                &["指纹与证件不一致（no match）".to_string()],
            );
            ExitCode::from(1)
        }
        Ok(CardMatch::Retry(g)) => retry(t, g, json!({"matched": false})),
        Err(e) if e.kind() == ErrorKind::Unsupported => fail(&e, 2),
        Err(e) => fail(&e, exit_code(e.kind())),
    }
}

fn retry(t: &Target, g: FingerGuidance, mut value: Value) -> ExitCode {
    if let Some(obj) = value.as_object_mut() {
        obj.insert("guidance".into(), json!(g.as_str()));
    }
    t.print(&value, &[]);
    eprintln!("{}（{}）", g.message_zh(), g.message_en());
    ExitCode::from(3)
}

fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Timeout => 4,
        ErrorKind::Disconnected
        | ErrorKind::NotFound
        | ErrorKind::PermissionDenied
        | ErrorKind::Busy
        | ErrorKind::Config => 2,
        _ => 5,
    }
}

fn fail(err: &DeviceError, code: u8) -> ExitCode {
    eprintln!("{}: {}", err.user_message(), err.detail());
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_per_kind() {
        assert_eq!(exit_code(ErrorKind::Timeout), 4);
        assert_eq!(exit_code(ErrorKind::Config), 2);
        assert_eq!(exit_code(ErrorKind::Disconnected), 2);
        assert_eq!(exit_code(ErrorKind::Protocol), 5);
        assert_eq!(exit_code(ErrorKind::DeviceFault), 5);
    }
}
