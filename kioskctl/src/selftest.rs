//! `kioskctl selftest`: every device in the kiosk's configuration, one
//! after another: open, run the device's own self-test, and report.
//!
//! ```text
//! kioskctl selftest --config /etc/kiosk/kiosk.toml [--json] [--print] [--state FILE] [--timeout-ms N]
//! ```
//!
//! Prints a pass/fail table (Chinese, then English), or one JSON object
//! with `--json`. The time of each device's last test is kept in a state
//! file (default `data_dir/selftest.json` from the configuration) and
//! shown beside the new result. `--print` also prints the report on the
//! configured receipt printer, for the maintenance log book.
//!
//! Exit codes: 0 every device passed; 6 a device failed; 2 the
//! configuration cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use drivers::registry::{kind_for_key, open_device, open_receipt_printer};
use hal::receipt::{Align, PaperWidth, Receipt, TextSize};
use hal::{Health, HealthState, Selector};
use serde_json::{Value, json};

/// One device's outcome.
struct Outcome {
    key: String,
    kind_zh: &'static str,
    kind_en: &'static str,
    selector: String,
    health: Health,
    passed: bool,
    took: Duration,
    previous: Option<u64>,
}

/// Beijing time (UTC+8) of a Unix time, `YYYY-MM-DD HH:MM:SS`.
pub fn beijing(secs: u64) -> String {
    let t = secs + 8 * 3600;
    let days = i64::try_from(t / 86_400).unwrap_or(0);
    let rem = t % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn fail_config(msg: &str) -> ExitCode {
    eprintln!("配置文件无法读取（configuration cannot be read）: {msg}");
    ExitCode::from(2)
}

/// What the self-test needs of a kiosk configuration.
struct KioskConfig {
    /// The `[devices]` table: key and selector, sorted by key.
    devices: Vec<(String, String)>,
    data_dir: Option<PathBuf>,
}

fn read_config(path: &Path) -> Result<KioskConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut devices = Vec::new();
    if let Some(table) = value.get("devices").and_then(toml::Value::as_table) {
        for (k, v) in table {
            let sel = v
                .as_str()
                .ok_or_else(|| format!("devices.{k} is not a selector string"))?;
            devices.push((k.clone(), sel.to_string()));
        }
    }
    let data_dir = value
        .get("data_dir")
        .and_then(toml::Value::as_str)
        .map(PathBuf::from);
    Ok(KioskConfig { devices, data_dir })
}

fn read_state(path: &Path) -> serde_json::Map<String, Value> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

fn test_one(key: &str, selector: &str, deadline: Instant, previous: Option<u64>) -> Outcome {
    let started = Instant::now();
    let kind = kind_for_key(key);
    let (kind_zh, kind_en) = kind
        .map(|k| (k.name_zh(), k.name_en()))
        .unwrap_or(("未知设备", "unknown device"));
    let health = match (kind, selector.parse::<Selector>()) {
        (None, _) => {
            let mut h = Health::offline(hal::ErrorKind::Config);
            h.text_zh = format!("配置项 {key} 不是已知的设备类别");
            h.text_en = format!("{key} is not a known device class");
            h
        }
        (Some(_), Err(e)) => Health::from_kind(HealthState::Fault, e.kind()),
        (Some(kind), Ok(sel)) => match open_device(kind, &sel) {
            Ok(mut dev) => match dev.self_test(deadline) {
                Ok(h) => h,
                Err(e) => {
                    let mut h = dev.health();
                    if h.usable() {
                        h = Health::from_kind(HealthState::Fault, e.kind());
                    }
                    h
                }
            },
            Err(e) => Health::offline(e.kind()),
        },
    };
    Outcome {
        key: key.to_string(),
        kind_zh,
        kind_en,
        selector: selector.to_string(),
        passed: health.usable(),
        health,
        took: started.elapsed(),
        previous,
    }
}

fn state_zh(s: HealthState) -> &'static str {
    match s {
        HealthState::Ok => "正常",
        HealthState::Degraded => "需关注",
        HealthState::Fault => "故障",
        HealthState::Offline => "离线",
    }
}

fn report_receipt(outcomes: &[Outcome], tested_at: u64, width: PaperWidth) -> Receipt {
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let mut r = Receipt::new(width)
        .title("设备自检报告")
        .styled(
            "Device self-test report",
            Align::Centre,
            TextSize::NORMAL,
            false,
        )
        .rule()
        .line(format!("自检时间：{}", beijing(tested_at)))
        .line(format!("结果：{passed}/{} 台设备通过", outcomes.len()))
        .rule();
    for o in outcomes {
        let mark = if o.passed { "通过" } else { "未通过" };
        r = r.styled(
            format!("{} [{}]", o.kind_zh, mark),
            Align::Left,
            TextSize::NORMAL,
            true,
        );
        if o.health.text_zh == state_zh(o.health.state) {
            r = r.line(format!("  状态：{}", o.health.text_zh));
        } else {
            r = r.line(format!(
                "  {}：{}",
                state_zh(o.health.state),
                o.health.text_zh
            ));
        }
        if let Some(p) = o.previous {
            r = r.line(format!("  上次自检：{}", beijing(p)));
        }
    }
    r.rule().line("维护人员签字：").feed(2).cut()
}

/// `kioskctl selftest`.
pub fn run(
    config: &Path,
    json: bool,
    print: bool,
    state: Option<PathBuf>,
    timeout_ms: u64,
) -> ExitCode {
    let KioskConfig { devices, data_dir } = match read_config(config) {
        Ok(c) => c,
        Err(e) => return fail_config(&e),
    };
    let state_path = state.or_else(|| data_dir.map(|d| d.join("selftest.json")));
    let previous = state_path.as_deref().map(read_state).unwrap_or_default();
    let tested_at = now_secs();
    let mut outcomes = Vec::new();
    for (key, selector) in &devices {
        if selector.trim() == "none" {
            continue;
        }
        let prev = previous
            .get(key)
            .and_then(|v| v.get("tested_at"))
            .and_then(Value::as_u64);
        let deadline = Instant::now() + Duration::from_millis(timeout_ms);
        outcomes.push(test_one(key, selector, deadline, prev));
    }
    if let Some(path) = &state_path {
        let mut next = previous.clone();
        for o in &outcomes {
            next.insert(
                o.key.clone(),
                json!({ "tested_at": tested_at, "state": o.health.state.as_str() }),
            );
        }
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Err(e) = std::fs::write(path, Value::Object(next).to_string()) {
            eprintln!(
                "自检记录无法保存（cannot keep the self-test record）: {}: {e}",
                path.display()
            );
        }
    }
    let all_passed = outcomes.iter().all(|o| o.passed);

    let mut printed = None;
    if print {
        let printer = devices
            .iter()
            .find(|(k, _)| k == "receipt_printer")
            .map(|(_, s)| s.clone());
        printed = Some(match printer.as_deref().map(str::parse::<Selector>) {
            Some(Ok(sel)) => match open_receipt_printer(&sel) {
                Ok(mut p) => {
                    let width = if sel.option("width") == Some("58") {
                        PaperWidth::Mm58
                    } else {
                        PaperWidth::Mm80
                    };
                    let receipt = report_receipt(&outcomes, tested_at, width);
                    p.print(&receipt, Instant::now() + Duration::from_millis(timeout_ms))
                        .map(|_| ())
                        .map_err(|e| e.user_message())
                }
                Err(e) => Err(e.user_message()),
            },
            Some(Err(e)) => Err(e.user_message()),
            None => Err("未配置凭条打印机（no receipt printer configured）".to_string()),
        });
    }

    if json {
        let list: Vec<Value> = outcomes
            .iter()
            .map(|o| {
                json!({
                    "device": o.key,
                    "kind": kind_for_key(&o.key).map(|k| k.as_str()),
                    "name_zh": o.kind_zh,
                    "name_en": o.kind_en,
                    "selector": o.selector,
                    "passed": o.passed,
                    "state": o.health.state.as_str(),
                    "fault_code": o.health.fault_code,
                    "text_zh": o.health.text_zh,
                    "text_en": o.health.text_en,
                    "ms": o.took.as_millis() as u64,
                    "last_tested_at": o.previous,
                })
            })
            .collect();
        let mut v = json!({ "tested_at": tested_at, "passed": all_passed, "devices": list });
        if let (Some(p), Value::Object(m)) = (&printed, &mut v) {
            m.insert("report_printed".into(), json!(p.is_ok()));
            if let Err(e) = p {
                m.insert("report_error".into(), json!(e));
            }
        }
        println!("{v}");
    } else {
        println!(
            "设备自检 Device self-test · {}（北京时间）",
            beijing(tested_at)
        );
        println!(
            "{:<8} {:<18} {:<8} {:<24} 上次自检 last test",
            "结果", "设备 device", "状态", "说明 detail"
        );
        for o in &outcomes {
            let mark = if o.passed {
                "通过 PASS"
            } else {
                "失败 FAIL"
            };
            let prev = o.previous.map(beijing).unwrap_or_else(|| "—".into());
            println!(
                "{mark:<8} {:<18} {:<8} {:<24} {prev}",
                format!("{} {}", o.kind_zh, o.key),
                format!("{} {}", state_zh(o.health.state), o.health.state.as_str()),
                format!("{}（{}）", o.health.text_zh, o.health.text_en),
            );
        }
        match &printed {
            Some(Ok(())) => println!("自检报告已打印 report printed"),
            Some(Err(e)) => println!("自检报告未打印 report not printed: {e}"),
            None => {}
        }
    }
    if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_of_known_instants() {
        assert_eq!(beijing(0), "1970-01-01 08:00:00");
        // 2026-11-28 16:00:00 UTC is midnight in Beijing.
        assert_eq!(beijing(1_795_881_600), "2026-11-29 00:00:00");
        assert_eq!(beijing(951_782_400 - 8 * 3600), "2000-02-29 00:00:00");
    }
}
