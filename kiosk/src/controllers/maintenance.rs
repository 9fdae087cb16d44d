//! `MaintenanceAdapter`: the hidden gesture's PIN prompt, then every
//! configured device's health, the backend link, the version, 自检 and 退出.

use std::sync::Arc;
use std::time::SystemTime;

use hal::{DeviceKind, Health};
use slint::{ComponentHandle, ModelRc, VecModel};

use crate::app::{Shared, scrub};
use crate::backend_client::BackendStatus;
use crate::controllers::app::{HomeReason, go_home};
use crate::ui::{AppAdapter, DeviceRow, MainWindow, MaintenanceAdapter, Page};

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

/// Clears the PIN prompt's state.
pub(crate) fn clear(ui: &MainWindow) {
    let m = ui.global::<MaintenanceAdapter>();
    m.set_pin_length(0);
    m.set_pin_wrong(false);
    m.set_attempts_left(i32::try_from(PIN_ATTEMPTS).unwrap_or(3));
    m.set_self_test_running(false);
    m.set_self_test_result("".into());
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
