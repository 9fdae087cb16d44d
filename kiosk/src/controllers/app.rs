//! `AppAdapter`: the page switch, the clock, the language, the device
//! availability the home tiles show, the clock check (R8: `clock-ok`), and
//! the return home that ends every journey.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use hal::{Health, HealthState};
use slint::ComponentHandle;

use crate::app::Shared;
use crate::config::Language;
use crate::controllers::{apply, guide, keyboard, maintenance, query};
use crate::ui::{Activity, AppAdapter, Availability, GuideAdapter, MainWindow, Page, Theme};

/// Why the kiosk goes home.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HomeReason {
    /// The app starts.
    Start,
    /// 返回 / 返回首页 / 退出.
    Back,
    /// The journey is done (完成, or the countdown after printing).
    Finished,
    /// The countdown of a waiting screen ran out.
    Timeout,
    /// A journey starts from home: whatever an earlier one left is wiped
    /// first.
    JourneyStart,
    /// Nobody touched the screen: the session is over, and the language
    /// and 关怀模式 go back to their defaults for the next person.
    Expired,
}

pub(crate) fn install(ui: &MainWindow, shared: &Arc<Shared>) -> Vec<slint::Timer> {
    let a = ui.global::<AppAdapter>();
    a.set_kiosk_name(shared.config.kiosk_name.as_str().into());
    a.set_hotline(shared.config.hotline.as_str().into());
    a.set_inactivity_seconds(i32::try_from(shared.config.inactivity_seconds).unwrap_or(60));

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    a.on_go_home(move || {
        if let Some(ui) = weak.upgrade() {
            go_home(&ui, &sh, HomeReason::Back);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    a.on_session_expired(move || {
        if let Some(ui) = weak.upgrade() {
            go_home(&ui, &sh, HomeReason::Expired);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    a.on_toggle_language(move || {
        if let Some(ui) = weak.upgrade() {
            let next = match language(&ui) {
                Language::Chinese => Language::English,
                Language::English => Language::Chinese,
            };
            set_language(&ui, next);
            set_voice_language(&sh, next);
            // Texts Rust formats follow the language too.
            if ui.global::<AppAdapter>().get_page() == Page::Apply {
                apply::refresh_fields(&ui, &sh);
            }
        }
    });

    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    a.on_call_staff(move |screen| {
        let Some(ui) = weak.upgrade() else { return };
        tracing::info!(screen = %screen, "staff called");
        sh.alert(proto::AlertKind::CallStaff, screen.as_str(), "");
        let online = sh.backend.status().borrow().reachable != Some(false);
        ui.global::<AppAdapter>().invoke_notify(
            if online {
                "staff-called"
            } else {
                "staff-call-queued"
            }
            .into(),
        );
        sh.say("staff-called");
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    a.on_elderly_changed(move || {
        let Some(ui) = weak.upgrade() else { return };
        let elderly = ui.global::<Theme>().get_elderly();
        tracing::info!(elderly, "关怀模式 switched");
        if elderly {
            sh.say("elderly-mode-on");
        }
        if ui.global::<AppAdapter>().get_page() == Page::Guide {
            guide::refresh(&ui, &sh);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    a.on_toggle_voice(move || {
        let Some(ui) = weak.upgrade() else { return };
        let a = ui.global::<AppAdapter>();
        let on = !a.get_voice_on();
        a.set_voice_on(on);
        if let Some(v) = &sh.voice {
            v.set_muted(!on);
        }
    });

    set_language(ui, shared.config.language);
    let clock = slint::Timer::default();
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    clock.start(
        slint::TimerMode::Repeated,
        std::time::Duration::from_secs(1),
        move || {
            if let Some(ui) = weak.upgrade() {
                update_clock(&ui);
                // A step of the local clock shows within a second.
                refresh_clock_check(&ui, &sh);
            }
        },
    );
    refresh_clock_check(ui, shared);
    vec![clock]
}

/// Ends the journey, wipes everything personal from memory and screen,
/// and shows the home screen.
pub(crate) fn go_home(ui: &MainWindow, shared: &Shared, reason: HomeReason) {
    if reason == HomeReason::JourneyStart {
        tracing::debug!("new journey: session wiped");
    } else {
        tracing::info!(?reason, "back home");
    }
    shared.session().end();
    shared.bump_preview();
    if let Some(v) = &shared.voice {
        v.stop();
    }
    keyboard::close(ui);
    query::clear(ui, shared);
    apply::clear(ui);
    maintenance::clear(ui);
    let a = ui.global::<AppAdapter>();
    a.set_busy(false);
    a.set_page(Page::Home);
    if matches!(reason, HomeReason::Expired | HomeReason::Start) {
        a.set_toast("".into());
        ui.global::<Theme>().set_elderly(false);
        if language(ui) != shared.config.language {
            set_language(ui, shared.config.language);
        }
        set_voice_language(shared, shared.config.language);
        ui.global::<AppAdapter>().set_voice_on(true);
        if let Some(v) = &shared.voice {
            v.set_muted(shared.config.voice_muted);
        }
    }
    ui.global::<Activity>().set_idle_seconds(0);
}

/// The language on screen.
pub(crate) fn language(ui: &MainWindow) -> Language {
    if ui.global::<AppAdapter>().get_language() == "en" {
        Language::English
    } else {
        Language::Chinese
    }
}

/// Switches the bundled translation and the texts Rust formats.
pub(crate) fn set_language(ui: &MainWindow, lang: Language) {
    let bundle = match lang {
        Language::Chinese => "",
        Language::English => "en",
    };
    if let Err(e) = slint::select_bundled_translation(bundle) {
        tracing::warn!("cannot select translation {bundle:?}: {e}");
    }
    ui.global::<AppAdapter>().set_language(lang.code().into());
    update_clock(ui);
}

/// Prompts follow the screen's language.
pub(crate) fn set_voice_language(shared: &Shared, lang: Language) {
    match shared.voice_lang.lock() {
        Ok(mut g) => *g = voice_lang(lang),
        Err(p) => *p.into_inner() = voice_lang(lang),
    }
}

/// The prompts' language for the screen's language.
pub(crate) fn voice_lang(lang: Language) -> voice::Lang {
    match lang {
        Language::Chinese => voice::Lang::Zh,
        Language::English => voice::Lang::En,
    }
}

/// The catalogue cached in the outbox's store, if any.
pub(crate) fn load_cached_catalogue(shared: &Shared) {
    let Some(outbox) = &shared.outbox else { return };
    match outbox.cache_get(CATALOGUE_KEY) {
        Ok(Some(cached)) => match cached.json::<crate::catalogue::KioskCatalogue>() {
            Ok(data) => {
                let fetched = std::time::SystemTime::UNIX_EPOCH
                    + std::time::Duration::from_millis(
                        u64::try_from(cached.fetched_at.timestamp_millis()).unwrap_or(0),
                    );
                match crate::catalogue::Catalogue::new(data, fetched) {
                    Ok(c) => *shared.catalogue() = Some(c),
                    Err(e) => tracing::warn!("cached catalogue: {e}"),
                }
            }
            Err(e) => tracing::warn!("cached catalogue unreadable: {e}"),
        },
        Ok(None) => {}
        Err(e) => tracing::warn!("catalogue cache: {e}"),
    }
}

/// The notices' titles on the home screen (at most three).
pub(crate) fn show_notices(ui: &MainWindow, shared: &Shared) {
    let titles: Vec<slint::SharedString> = shared
        .catalogue()
        .as_ref()
        .map(|c| {
            c.data()
                .notices
                .iter()
                .take(3)
                .map(|n| n.title.as_str().into())
                .collect()
        })
        .unwrap_or_default();
    ui.global::<crate::ui::HomeAdapter>()
        .set_notices(slint::ModelRc::new(slint::VecModel::from(titles)));
}

/// Key of the catalogue in the outbox's cache.
const CATALOGUE_KEY: &str = "catalogue";
/// A catalogue younger than this is not fetched again when a journey opens.
const CATALOGUE_FRESH: std::time::Duration = std::time::Duration::from_secs(300);
/// How often the catalogue is fetched in the background.
pub(crate) const CATALOGUE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// The first wait before fetching again after a failed fetch; it doubles
/// up to [`CATALOGUE_EVERY`].
pub(crate) const CATALOGUE_RETRY: std::time::Duration = std::time::Duration::from_secs(5);

/// A catalogue is held and was fetched (or confirmed unchanged) recently.
pub(crate) fn catalogue_is_fresh(shared: &Shared) -> bool {
    shared.catalogue().as_ref().is_some_and(|c| {
        c.fetched_at()
            .elapsed()
            .is_ok_and(|age| age < CATALOGUE_FRESH)
    })
}

/// Fetches the catalogue (conditionally, with its ETag) unless a recent
/// copy is held (`force` fetches anyway), caches it, and refreshes the
/// guide screens.
pub(crate) fn refresh_catalogue(shared: &Arc<Shared>, weak: slint::Weak<MainWindow>, force: bool) {
    if (catalogue_is_fresh(shared) && !force)
        || shared
            .fetching
            .swap(true, std::sync::atomic::Ordering::SeqCst)
    {
        return;
    }
    let sh = Arc::clone(shared);
    shared.rt.spawn(async move {
        let etag = sh.catalogue().as_ref().map(|c| c.data().etag.clone());
        let result = sh.backend.catalogue(etag.as_deref()).await;
        let now = std::time::SystemTime::now();
        let offline = match result {
            Ok(Some(data)) => {
                if let Some(outbox) = sh.outbox.clone() {
                    let (value, tag) = (data.clone(), data.etag.clone());
                    let _ = tokio::task::spawn_blocking(move || {
                        outbox.cache_put_json(CATALOGUE_KEY, &value, Some(&tag))
                    })
                    .await;
                }
                match crate::catalogue::Catalogue::new(data, now) {
                    Ok(c) => *sh.catalogue() = Some(c),
                    Err(e) => tracing::warn!("catalogue: {e}"),
                }
                false
            }
            Ok(None) => {
                if let Some(c) = sh.catalogue().as_mut() {
                    c.touch(now);
                }
                if let Some(outbox) = sh.outbox.clone() {
                    let _ = tokio::task::spawn_blocking(move || outbox.cache_touch(CATALOGUE_KEY))
                        .await;
                }
                false
            }
            Err(e) => {
                tracing::info!("catalogue not fetched: {}", e.code());
                true
            }
        };
        sh.fetching
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let sh2 = Arc::clone(&sh);
        let _ = weak.upgrade_in_event_loop(move |ui| {
            show_notices(&ui, &sh2);
            ui.global::<GuideAdapter>().set_offline(offline);
            if ui.global::<AppAdapter>().get_page() == Page::Guide {
                guide::refresh(&ui, &sh2);
            }
        });
    });
}

/// Judges the local clock against the platform's newest reading (R8):
/// `clock-ok` pauses 我要办 and the 我要查 receipt, the maintenance screen
/// shows the state and the skew, and a change is logged once.
pub(crate) fn refresh_clock_check(ui: &MainWindow, shared: &Shared) {
    let state = shared.backend.clock_state();
    let skew = state.skew().map(crate::clock::format_skew);
    match shared.clock_transitions().observe(&state) {
        Some(crate::clock::Change::BecameOff) => tracing::warn!(
            state = %state.code(),
            skew = %skew.as_deref().unwrap_or("-"),
            "the kiosk's clock is off: 我要办 paused, no receipts printed"
        ),
        Some(crate::clock::Change::BecameOk) => tracing::info!(
            state = %state.code(),
            skew = %skew.as_deref().unwrap_or("-"),
            "the kiosk's clock is right again"
        ),
        None => {}
    }
    ui.global::<AppAdapter>().set_clock_ok(state.is_ok());
    maintenance::show_clock(ui, &state);
}

/// Runs the clock check again whenever a heartbeat brings a new reading of
/// the platform's time.
pub(crate) fn watch_clock(ui: &MainWindow, shared: &Arc<Shared>) -> tokio::task::AbortHandle {
    let mut rx = shared.backend.server_clock();
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    shared
        .rt
        .spawn(async move {
            while rx.changed().await.is_ok() {
                rx.borrow_and_update();
                let sh = Arc::clone(&sh);
                if weak
                    .upgrade_in_event_loop(move |ui| refresh_clock_check(&ui, &sh))
                    .is_err()
                {
                    break;
                }
            }
        })
        .abort_handle()
}

fn update_clock(ui: &MainWindow) {
    let now = chrono::Local::now();
    let a = ui.global::<AppAdapter>();
    a.set_date_text(date_text(now.date_naive(), language(ui)).into());
    a.set_time_text(now.format("%H:%M").to_string().into());
}

/// The date as the header shows it: `2026年11月28日 星期六` or
/// `Saturday, 28 November 2026`.
pub fn date_text(date: NaiveDate, lang: Language) -> String {
    const WEEKDAYS: [&str; 7] = [
        "星期一",
        "星期二",
        "星期三",
        "星期四",
        "星期五",
        "星期六",
        "星期日",
    ];
    match lang {
        Language::Chinese => {
            let weekday = WEEKDAYS
                .get(date.weekday().num_days_from_monday() as usize)
                .copied()
                .unwrap_or("");
            format!(
                "{}年{}月{}日 {weekday}",
                date.year(),
                date.month(),
                date.day()
            )
        }
        Language::English => date.format("%A, %-d %B %Y").to_string(),
    }
}

/// What a tile needing the device shows.
pub(crate) fn availability(health: Option<&Health>) -> Availability {
    match health.map(|h| h.state) {
        None => Availability::NotFitted,
        Some(HealthState::Ok | HealthState::Degraded) => Availability::Ok,
        Some(HealthState::Fault) => Availability::Fault,
        Some(HealthState::Offline) => Availability::Offline,
    }
}

#[derive(Clone, Copy)]
enum Role {
    IdCard,
    ReceiptPrinter,
    DocCamera,
}

fn set_availability(ui: &MainWindow, role: Role, value: Availability) {
    let a = ui.global::<AppAdapter>();
    match role {
        Role::IdCard => a.set_idcard(value),
        Role::ReceiptPrinter => a.set_receipt_printer(value),
        Role::DocCamera => a.set_doc_camera(value),
    }
}

/// Follows every device's health into the home tiles and the
/// maintenance screen.
pub(crate) fn watch_devices(
    ui: &MainWindow,
    shared: &Arc<Shared>,
) -> Vec<tokio::task::AbortHandle> {
    let devices = &shared.devices;
    set_availability(
        ui,
        Role::IdCard,
        availability(devices.idcard.as_ref().map(|h| h.health()).as_ref()),
    );
    set_availability(
        ui,
        Role::ReceiptPrinter,
        availability(
            devices
                .receipt_printer
                .as_ref()
                .map(|h| h.health())
                .as_ref(),
        ),
    );
    set_availability(
        ui,
        Role::DocCamera,
        availability(
            devices
                .document_camera
                .as_ref()
                .map(|h| h.health())
                .as_ref(),
        ),
    );
    let mut watches = Vec::new();
    if let Some(h) = &devices.document_camera {
        watches.push((Role::DocCamera, h.watch_health()));
    }
    if let Some(h) = &devices.idcard {
        watches.push((Role::IdCard, h.watch_health()));
    }
    if let Some(h) = &devices.receipt_printer {
        watches.push((Role::ReceiptPrinter, h.watch_health()));
    }
    watches
        .into_iter()
        .map(|(role, mut rx)| {
            let weak = ui.as_weak();
            let shared = Arc::clone(shared);
            let task = shared.rt.spawn({
                let shared = Arc::clone(&shared);
                async move {
                    loop {
                        let health = rx.borrow_and_update().clone();
                        let sh = Arc::clone(&shared);
                        let posted = weak.upgrade_in_event_loop(move |ui| {
                            set_availability(&ui, role, availability(Some(&health)));
                            maintenance::refresh_devices(&ui, &sh);
                        });
                        if posted.is_err() || rx.changed().await.is_err() {
                            break;
                        }
                    }
                }
            });
            task.abort_handle()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_in_both_languages() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(date_text(d, Language::Chinese), "2026年11月28日 星期六");
        assert_eq!(
            date_text(d, Language::English),
            "Saturday, 28 November 2026"
        );
    }

    #[test]
    fn availability_follows_health() {
        assert_eq!(availability(None), Availability::NotFitted);
        assert_eq!(availability(Some(&Health::ok())), Availability::Ok);
        assert_eq!(
            availability(Some(&Health::offline(hal::ErrorKind::NotFound))),
            Availability::Offline
        );
        assert_eq!(
            availability(Some(&Health::from_kind(
                HealthState::Fault,
                hal::ErrorKind::PaperOut
            ))),
            Availability::Fault
        );
    }
}
