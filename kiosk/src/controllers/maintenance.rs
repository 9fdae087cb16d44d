//! `MaintenanceAdapter`: the hidden gesture's PIN prompt, then every
//! configured device's health, the backend link, the version, 自检 and 退出.

use std::sync::Arc;
use std::time::SystemTime;

use hal::{DeviceKind, Health};
use slint::{ComponentHandle, ModelRc, VecModel};

use crate::app::{Shared, scrub};
use crate::backend_client::BackendStatus;
use crate::controllers::app::{HomeReason, go_home};
use crate::ui::{
    AppAdapter, DeviceRow, HistoryRow, MainWindow, MaintenanceAdapter, OutboxRow, Page,
};

/// Health changes kept for the maintenance screen.
const HISTORY: usize = 200;
/// Log lines the maintenance screen shows.
const LOG_LINES: usize = 120;

/// One change of a device's health.
#[derive(Debug, Clone)]
pub struct HealthChange {
    pub at: SystemTime,
    pub device: String,
    pub state: &'static str,
    pub text: String,
}

/// Wrong PINs before the prompt gives up and goes home.
pub const PIN_ATTEMPTS: u32 = 3;

pub(crate) fn install(ui: &MainWindow, shared: &Arc<Shared>) {
    let m = ui.global::<MaintenanceAdapter>();
    m.set_version(env!("CARGO_PKG_VERSION").into());
    m.set_backend_url(shared.backend.base_url().into());
    refresh_devices(ui, shared);

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_open(move || {
        let Some(ui) = weak.upgrade() else { return };
        go_home(&ui, &sh, HomeReason::Back);
        ui.global::<AppAdapter>().set_page(Page::MaintenancePin);
    });

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_pin_key(move |key| {
        let Some(ui) = weak.upgrade() else { return };
        let mut s = sh.session();
        match key.as_str() {
            "clear" => scrub(&mut s.pin),
            "back" => {
                s.pin.pop();
            }
            digit
                if digit.len() == 1
                    && digit.bytes().all(|b| b.is_ascii_digit())
                    && s.pin.len() < 12 =>
            {
                s.pin.push_str(digit);
            }
            _ => {}
        }
        let m = ui.global::<MaintenanceAdapter>();
        m.set_pin_length(i32::try_from(s.pin.len()).unwrap_or(0));
    });

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_submit_pin(move || {
        let Some(ui) = weak.upgrade() else { return };
        let (right, failures) = {
            let mut s = sh.session();
            let right = pin_matches(&s.pin, &sh.config.maintenance_pin);
            scrub(&mut s.pin);
            if !right {
                s.pin_failures += 1;
            }
            (right, s.pin_failures)
        };
        let m = ui.global::<MaintenanceAdapter>();
        m.set_pin_length(0);
        if right {
            tracing::info!("maintenance screen opened");
            sh.alert(proto::AlertKind::MaintenanceEntry, "maintenance", "pin");
            m.set_pin_wrong(false);
            m.set_self_test_result("".into());
            refresh_devices(&ui, &sh);
            ui.global::<AppAdapter>().set_page(Page::Maintenance);
        } else if failures >= PIN_ATTEMPTS {
            tracing::warn!("maintenance PIN wrong {failures} times; back home");
            go_home(&ui, &sh, HomeReason::Back);
            ui.global::<AppAdapter>().invoke_notify("pin-locked".into());
        } else {
            tracing::warn!("maintenance PIN wrong");
            m.set_pin_wrong(true);
            m.set_attempts_left(i32::try_from(PIN_ATTEMPTS - failures).unwrap_or(0));
        }
    });

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_cancel(move || {
        if let Some(ui) = weak.upgrade() {
            go_home(&ui, &sh, HomeReason::Back);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_exit(move || {
        if let Some(ui) = weak.upgrade() {
            go_home(&ui, &sh, HomeReason::Back);
        }
    });

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_show_tab(move |tab| {
        let Some(ui) = weak.upgrade() else { return };
        ui.global::<MaintenanceAdapter>().set_tab(tab.clone());
        match tab.as_str() {
            "outbox" => refresh_outbox(&ui, &sh),
            "log" => refresh_log(&ui, &sh),
            _ => refresh_devices(&ui, &sh),
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_sync_now(move || {
        if let Some(outbox) = &sh.outbox
            && let Err(e) = outbox.sync_now()
        {
            tracing::warn!("sync now: {e}");
        }
        if let Some(ui) = weak.upgrade() {
            refresh_outbox(&ui, &sh);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_discard(move |seq| {
        if let Some(outbox) = &sh.outbox {
            match outbox.discard(i64::from(seq)) {
                Ok(()) => tracing::info!(seq, "rejected entry discarded by maintenance"),
                Err(e) => tracing::warn!(seq, "discard: {e}"),
            }
        }
        if let Some(ui) = weak.upgrade() {
            refresh_outbox(&ui, &sh);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_reprint(move |seq| {
        let Some(ui) = weak.upgrade() else { return };
        reprint(&ui, &sh, i64::from(seq));
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_print_report(move || {
        let Some(ui) = weak.upgrade() else { return };
        print_report(&ui, &sh);
    });

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    m.on_self_test(move || {
        let Some(ui) = weak.upgrade() else { return };
        let m = ui.global::<MaintenanceAdapter>();
        m.set_self_test_running(true);
        m.set_self_test_result("".into());
        let (weak, shared) = (ui.as_weak(), Arc::clone(&sh));
        sh.rt.spawn(async move {
            let summary = self_test_all(&shared).await;
            let _ = weak.upgrade_in_event_loop(move |ui| {
                let m = ui.global::<MaintenanceAdapter>();
                m.set_self_test_running(false);
                m.set_self_test_result(summary.into());
                refresh_devices(&ui, &shared);
            });
        });
    });
}

/// Compares without stopping at the first difference.
fn pin_matches(typed: &str, pin: &str) -> bool {
    let (a, b) = (typed.as_bytes(), pin.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xFF);
    }
    diff == 0
}

async fn self_test_all(shared: &Shared) -> String {
    let timeout = shared.timeouts.self_test;
    let mut lines = Vec::new();
    for h in shared.devices.each() {
        lines.push(self_test_line(
            h.name(),
            h.kind(),
            h.self_test(timeout).await,
        ));
    }
    if lines.is_empty() {
        lines.push("未配置设备（no devices configured）".into());
    }
    lines.join("\n")
}

fn self_test_line(
    name: &str,
    kind: DeviceKind,
    result: Result<Health, hal::DeviceError>,
) -> String {
    match result {
        Ok(h) => format!(
            "{}（{name}）：{}（{}）",
            kind.name_zh(),
            h.text_zh,
            h.text_en
        ),
        Err(e) => format!(
            "{}（{name}）：自检失败 self-test failed — {} · {}",
            kind.name_zh(),
            e.user_message(),
            e.kind().code()
        ),
    }
}

/// Counters as `key=value, …`.
fn counters_text(h: &Health) -> String {
    h.counters
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn local_time(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Local>::from(t)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn device_row(name: &str, kind: DeviceKind, h: &Health) -> DeviceRow {
    DeviceRow {
        name: name.into(),
        kind_zh: kind.name_zh().into(),
        kind_en: kind.name_en().into(),
        state: h.state.as_str().into(),
        fault_code: h.fault_code.clone().unwrap_or_default().into(),
        text_zh: h.text_zh.as_str().into(),
        text_en: h.text_en.as_str().into(),
        counters: counters_text(h).into(),
        last_self_test: h.last_self_test.map(local_time).unwrap_or_default().into(),
    }
}

/// Every configured device: from its actor's health, or "not started"
/// when it is configured but no actor runs.
pub(crate) fn device_rows(shared: &Shared) -> Vec<DeviceRow> {
    let mut rows = Vec::new();
    let mut running = Vec::new();
    for h in shared.devices.each() {
        rows.push(device_row(h.name(), h.kind(), &h.health()));
        running.push(h.name().to_string());
    }
    for entry in shared.config.device_entries().unwrap_or_default() {
        if entry.selector == hal::Selector::None || running.contains(&entry.name) {
            continue;
        }
        rows.push(DeviceRow {
            name: entry.name.as_str().into(),
            kind_zh: entry.kind.name_zh().into(),
            kind_en: entry.kind.name_en().into(),
            state: "not-started".into(),
            fault_code: "".into(),
            text_zh: "未启动".into(),
            text_en: "not started".into(),
            counters: "".into(),
            last_self_test: "".into(),
        });
    }
    rows
}

pub(crate) fn refresh_devices(ui: &MainWindow, shared: &Shared) {
    ui.global::<MaintenanceAdapter>()
        .set_devices(ModelRc::new(VecModel::from(device_rows(shared))));
}

fn show_backend(ui: &MainWindow, status: &BackendStatus) {
    let m = ui.global::<MaintenanceAdapter>();
    m.set_backend_known(status.reachable.is_some());
    m.set_backend_reachable(status.reachable == Some(true));
    m.set_kiosk_id(status.kiosk_id.clone().unwrap_or_default().into());
    let detail = match (&status.last_error, &status.last_contact) {
        (Some(e), _) => e.clone(),
        (None, Some(t)) => format!("最近通信 last contact：{t}"),
        (None, None) => String::new(),
    };
    m.set_backend_detail(detail.into());
}

/// The clock check's verdict (R8): state, local time and skew.
pub(crate) fn show_clock(ui: &MainWindow, state: &crate::clock::ClockState) {
    let m = ui.global::<MaintenanceAdapter>();
    m.set_clock_state(state.code().into());
    m.set_clock_skew(
        state
            .skew()
            .map(crate::clock::format_skew)
            .unwrap_or_default()
            .into(),
    );
    m.set_clock_local(
        chrono::Local::now()
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
            .into(),
    );
    m.set_clock_max_minutes(i32::try_from(crate::clock::MAX_SKEW.num_minutes()).unwrap_or(0));
    m.set_clock_year_floor(crate::clock::YEAR_FLOOR);
}

/// Follows the backend link into the maintenance screen.
pub(crate) fn watch_backend(ui: &MainWindow, shared: &Arc<Shared>) -> tokio::task::AbortHandle {
    let mut rx = shared.backend.status();
    show_backend(ui, &rx.borrow_and_update());
    let weak = ui.as_weak();
    shared
        .rt
        .spawn(async move {
            while rx.changed().await.is_ok() {
                let status = rx.borrow_and_update().clone();
                if weak
                    .upgrade_in_event_loop(move |ui| show_backend(&ui, &status))
                    .is_err()
                {
                    break;
                }
            }
        })
        .abort_handle()
}

/// Records every device's health changes (state or fault) with the time.
pub(crate) fn watch_health_history(shared: &Arc<Shared>) -> Vec<tokio::task::AbortHandle> {
    shared
        .devices
        .each()
        .into_iter()
        .map(|h| {
            let name = h.name().to_string();
            let mut rx = h.watch_health();
            let sh = Arc::clone(shared);
            sh.rt
                .clone()
                .spawn(async move {
                    let mut last: Option<(hal::HealthState, Option<String>)> = None;
                    loop {
                        let health = rx.borrow_and_update().clone();
                        let key = (health.state, health.fault_code.clone());
                        if last.as_ref() != Some(&key) {
                            last = Some(key);
                            let mut hist = match sh.health_history.lock() {
                                Ok(g) => g,
                                Err(p) => p.into_inner(),
                            };
                            if hist.len() >= HISTORY {
                                hist.pop_front();
                            }
                            hist.push_back(HealthChange {
                                at: SystemTime::now(),
                                device: name.clone(),
                                state: health.state.as_str(),
                                text: format!(
                                    "{} / {}{}",
                                    health.text_zh,
                                    health.text_en,
                                    health
                                        .fault_code
                                        .as_ref()
                                        .map(|c| format!(" [{c}]"))
                                        .unwrap_or_default()
                                ),
                            });
                        }
                        if rx.changed().await.is_err() {
                            break;
                        }
                    }
                })
                .abort_handle()
        })
        .collect()
}

/// Follows the outbox's delivery status into the maintenance screen.
pub(crate) fn watch_outbox(
    ui: &MainWindow,
    shared: &Arc<Shared>,
) -> Option<tokio::task::AbortHandle> {
    let outbox = shared.outbox.clone()?;
    let mut rx = outbox.status();
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    Some(
        shared
            .rt
            .spawn(async move {
                loop {
                    let status = rx.borrow_and_update().clone();
                    let sh2 = Arc::clone(&sh);
                    let posted = weak.upgrade_in_event_loop(move |ui| {
                        ui.global::<MaintenanceAdapter>()
                            .set_outbox_status(status_line(&status).into());
                        if ui.global::<AppAdapter>().get_page() == Page::Maintenance
                            && ui.global::<MaintenanceAdapter>().get_tab() == "outbox"
                        {
                            refresh_outbox(&ui, &sh2);
                        }
                    });
                    if posted.is_err() || rx.changed().await.is_err() {
                        break;
                    }
                }
            })
            .abort_handle(),
    )
}

fn utc_local(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono::Local)
        .format("%m-%d %H:%M:%S")
        .to_string()
}

/// The delivery status in one line (both languages).
fn status_line(s: &outbox::Status) -> String {
    let mut parts = Vec::new();
    if s.delivering {
        parts.push("正在发送 delivering".to_owned());
    }
    if let Some(t) = s.last_success_at {
        parts.push(format!("最近送达 last delivered {}", utc_local(t)));
    }
    if let Some(e) = &s.last_error {
        parts.push(format!("最近错误 last error: {e}"));
    }
    if let Some(t) = s.next_attempt_at {
        parts.push(format!("下次尝试 next attempt {}", utc_local(t)));
    }
    parts.join(" · ")
}

fn state_code(state: outbox::State) -> &'static str {
    match state {
        outbox::State::Pending => "pending",
        outbox::State::Delivered => "delivered",
        outbox::State::Rejected => "rejected",
        outbox::State::Discarded => "discarded",
    }
}

fn outbox_row(e: &outbox::Entry) -> OutboxRow {
    OutboxRow {
        seq: i32::try_from(e.seq).unwrap_or(i32::MAX),
        kind: match e.kind {
            outbox::ItemKind::Submission => "submission",
            outbox::ItemKind::Correction => "correction",
        }
        .into(),
        matter: e.label.matter.as_str().into(),
        applicant: e.label.applicant.as_str().into(),
        state: state_code(e.state).into(),
        attempts: i32::try_from(e.attempts).unwrap_or(i32::MAX),
        last_error: e
            .rejection
            .as_ref()
            .map(|r| format!("{} · {}", r.message, r.code))
            .or_else(|| e.last_error.clone())
            .unwrap_or_default()
            .into(),
        case_number: e
            .reply
            .as_ref()
            .map(|r| r.case_number.clone())
            .unwrap_or_default()
            .into(),
        queued_at: utc_local(e.queued_at).into(),
        prints: i32::try_from(e.prints).unwrap_or(i32::MAX),
        has_receipt: e.receipt.is_some(),
    }
}

/// Reads the outbox (off the UI thread) and shows it.
pub(crate) fn refresh_outbox(ui: &MainWindow, shared: &Arc<Shared>) {
    let Some(outbox) = shared.outbox.clone() else {
        ui.global::<MaintenanceAdapter>()
            .set_outbox_status("提交队列不可用 the outbox is unavailable".into());
        return;
    };
    let weak = ui.as_weak();
    shared.rt.spawn(async move {
        let read = tokio::task::spawn_blocking(move || {
            Ok::<_, outbox::OutboxError>((outbox.recent(50)?, outbox.counts()?))
        })
        .await;
        let Ok(Ok((entries, counts))) = read else {
            return;
        };
        let rows: Vec<OutboxRow> = entries.iter().map(outbox_row).collect();
        let _ = weak.upgrade_in_event_loop(move |ui| {
            let m = ui.global::<MaintenanceAdapter>();
            let n = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
            m.set_outbox_pending(n(counts.pending));
            m.set_outbox_delivered(n(counts.delivered));
            m.set_outbox_rejected(n(counts.rejected));
            m.set_outbox_unprinted(n(counts.unprinted));
            m.set_outbox(ModelRc::new(VecModel::from(rows)));
        });
    });
}

/// Shows the health history and the newest log lines.
pub(crate) fn refresh_log(ui: &MainWindow, shared: &Shared) {
    let history: Vec<HistoryRow> = {
        let hist = match shared.health_history.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        hist.iter()
            .rev()
            .take(40)
            .map(|h| HistoryRow {
                at: local_time(h.at).into(),
                device: h.device.as_str().into(),
                state: h.state.into(),
                text: h.text.as_str().into(),
            })
            .collect()
    };
    let lines: Vec<slint::SharedString> = crate::logbuf::LogBuffer::global()
        .tail(LOG_LINES)
        .into_iter()
        .rev()
        .map(Into::into)
        .collect();
    let m = ui.global::<MaintenanceAdapter>();
    m.set_history(ModelRc::new(VecModel::from(history)));
    m.set_log_lines(ModelRc::new(VecModel::from(lines)));
}

/// 补打回执: prints an outbox entry's receipt again, labelled 补打.
fn reprint(ui: &MainWindow, shared: &Arc<Shared>, seq: i64) {
    let (Some(outbox), Some(printer)) = (
        shared.outbox.clone(),
        shared.devices.receipt_printer.clone(),
    ) else {
        set_report(ui, "failed", "本机未配备凭条打印机 no receipt printer");
        return;
    };
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    let timeout = shared.timeouts.print;
    shared.rt.spawn(async move {
        let ob = Arc::clone(&outbox);
        let entry = tokio::task::spawn_blocking(move || ob.get(seq))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let receipt = entry
            .and_then(|e| e.receipt)
            .and_then(|facts| crate::receipt::ApplicationReceipt::from_facts(&facts))
            .map(|mut r| {
                r.reprint = true;
                crate::receipt::application_receipt(&r)
            });
        let outcome = match receipt {
            None => Err("没有可补打的回执 nothing to reprint".to_owned()),
            Some(doc) => printer
                .print(doc, timeout)
                .await
                .map(|_| ())
                .map_err(|e| format!("{} · {}", e.user_message(), e.kind().code())),
        };
        if outcome.is_ok() {
            tracing::info!(seq, "receipt reprinted (补打) from maintenance");
            let ob = Arc::clone(&outbox);
            let _ = tokio::task::spawn_blocking(move || ob.mark_printed(seq)).await;
        }
        let _ = weak.upgrade_in_event_loop(move |ui| {
            match outcome {
                Ok(()) => set_report(&ui, "printed", ""),
                Err(e) => set_report(&ui, "failed", &e),
            }
            refresh_outbox(&ui, &sh);
        });
    });
}

fn set_report(ui: &MainWindow, state: &str, detail: &str) {
    let m = ui.global::<MaintenanceAdapter>();
    m.set_report_state(state.into());
    m.set_report_detail(detail.into());
}

/// The self-test report on paper: every device's self-test, the platform
/// link, the outbox and the kiosk's identity.
fn print_report(ui: &MainWindow, shared: &Arc<Shared>) {
    let Some(printer) = shared.devices.receipt_printer.clone() else {
        set_report(ui, "failed", "本机未配备凭条打印机 no receipt printer");
        return;
    };
    set_report(ui, "printing", "");
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    let timeout = shared.timeouts.print;
    shared.rt.spawn(async move {
        let tests = self_test_all(&sh).await;
        let counts = match sh.outbox.clone() {
            Some(ob) => tokio::task::spawn_blocking(move || ob.counts())
                .await
                .ok()
                .and_then(Result::ok),
            None => None,
        };
        let status = sh.backend.status().borrow().clone();
        let doc = self_test_report(&ReportFacts {
            kiosk_name: &sh.config.kiosk_name,
            kiosk_id: status.kiosk_id.as_deref().unwrap_or("未注册"),
            version: env!("CARGO_PKG_VERSION"),
            backend: sh.backend.base_url(),
            reachable: status.reachable,
            tests: &tests,
            counts,
            at: chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        });
        let outcome = printer.print(doc, timeout).await;
        let _ = weak.upgrade_in_event_loop(move |ui| {
            match outcome {
                Ok(_) => set_report(&ui, "printed", ""),
                Err(e) => set_report(
                    &ui,
                    "failed",
                    &format!("{} · {}", e.user_message(), e.kind().code()),
                ),
            }
            refresh_devices(&ui, &sh);
        });
    });
}

/// What the self-test report says.
pub struct ReportFacts<'a> {
    pub kiosk_name: &'a str,
    pub kiosk_id: &'a str,
    pub version: &'a str,
    pub backend: &'a str,
    pub reachable: Option<bool>,
    /// One line per device.
    pub tests: &'a str,
    pub counts: Option<outbox::Counts>,
    pub at: String,
}

/// The 终端自检报告 as a receipt (pure).
pub fn self_test_report(f: &ReportFacts<'_>) -> hal::receipt::Receipt {
    use hal::receipt::{Align, PaperWidth, Receipt, TextSize};
    let width = PaperWidth::Mm80;
    let columns = width.columns();
    let mut r = Receipt::new(width)
        .title("终端自检报告")
        .styled(f.kiosk_name, Align::Centre, TextSize::NORMAL, true)
        .rule()
        .line(format!("终端编号：{}", f.kiosk_id))
        .line(format!("软件版本：{}", f.version))
        .line(format!("自检时间：{}", f.at))
        .rule()
        .styled("设备", Align::Left, TextSize::NORMAL, true);
    for line in f.tests.lines() {
        for l in crate::receipt::wrap_labelled("· ", line, columns) {
            r = r.line(l);
        }
    }
    r = r
        .rule()
        .styled("政务服务平台", Align::Left, TextSize::NORMAL, true);
    for l in crate::receipt::wrap_labelled("地址：", f.backend, columns) {
        r = r.line(l);
    }
    r = r.line(format!(
        "连接：{}",
        match f.reachable {
            Some(true) => "正常",
            Some(false) => "中断",
            None => "未知",
        }
    ));
    if let Some(c) = f.counts {
        r = r.rule().line(format!(
            "提交队列：待发送 {} · 已送达 {} · 被拒收 {} · 回执未打印 {}",
            c.pending, c.delivered, c.rejected, c.unprinted
        ));
    }
    r.feed(2).cut()
}
pub(crate) fn clear(ui: &MainWindow) {
    let m = ui.global::<MaintenanceAdapter>();
    m.set_pin_length(0);
    m.set_pin_wrong(false);
    m.set_attempts_left(i32::try_from(PIN_ATTEMPTS).unwrap_or(3));
    m.set_self_test_running(false);
    m.set_self_test_result("".into());
    m.set_tab("devices".into());
    m.set_report_state("".into());
    m.set_report_detail("".into());
    m.set_outbox(ModelRc::default());
    m.set_log_lines(ModelRc::default());
    m.set_history(ModelRc::default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_compare_whole() {
        assert!(pin_matches("246810", "246810"));
        assert!(!pin_matches("24681", "246810"));
        assert!(!pin_matches("2468100", "246810"));
        assert!(!pin_matches("246811", "246810"));
        assert!(!pin_matches("", "246810"));
    }

    #[test]
    fn rows_show_health() {
        let mut h = Health::ok();
        h.bump("reads");
        h.bump("reads");
        let row = device_row("idcard", DeviceKind::IdCardReader, &h);
        assert_eq!(row.kind_zh, "身份证阅读器");
        assert_eq!(row.state, "ok");
        assert_eq!(row.counters, "reads=2");
        assert_eq!(row.last_self_test, "");
    }
}
