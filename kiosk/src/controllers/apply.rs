//! `ApplyAdapter`: 我要办 after the guide.
//!
//! Identity: the applicant's ID card (and, for 代办, the agent's own card
//! after it); where the matter asks for 人证核验, the finger of the person
//! at the kiosk is compared 1:1 with their card's own fingerprint features
//! (never stored), with 不使用指纹 always offered. Then the form, prefilled
//! from the card, other fields through the on-screen keyboard; the
//! materials one by one from the document camera (live preview, automatic
//! capture when the page is still, colour or black-and-white, retake, page
//! count), each page sealed in the journey's image store; review; submit.
//!
//! Submit commits the submission to the outbox (SQLite, `synchronous=FULL`)
//! before the screen says anything, then asks the delivery loop to send it
//! now and waits a few seconds for the backend's case number. Without one
//! the resident is told the application is saved and will be delivered
//! automatically. The receipt prints either way and is never shown as
//! printed when it was not.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hal::camera::VideoMode;
use hal::fingerprint::FingerprintHandle;
use hal::fingerprint::{CardMatch, FingerGuidance};
use hal::idcard::{CardRead, Validity, mask_id_number};
use hal::{DeviceError, ErrorKind};
use imaging::store::{ImageId, ImageKind};
use proto::{
    Applicant, CaseSubmission, FieldKind, FormField, IdType, IdentityCheck, IdentityMethod,
    MaterialUpload, Matter,
};
use slint::{ComponentHandle, ModelRc, Rgb8Pixel, SharedPixelBuffer, VecModel, Weak};

use crate::app::{Shared, scrub};
use crate::controllers::app::{HomeReason, go_home};
use crate::controllers::{frames, keyboard, query};
use crate::ui::{AppAdapter, ApplyAdapter, ApplyStage, FormRow, MainWindow, MaterialSlot, Page};

/// The document camera's preview mode.
const DOC_MODE: VideoMode = VideoMode {
    width: 1600,
    height: 1200,
    fps: 30,
};
/// How long a page must lie still before it is taken by itself.
const STILL_FOR: Duration = Duration::from_millis(1200);
/// How long the submit waits for the backend before saying "queued".
const DELIVERY_WAIT: Duration = Duration::from_secs(8);

/// One page of a material, sealed in the image store.
#[derive(Debug, Clone)]
pub(crate) struct Page_ {
    pub id: ImageId,
    pub mime: &'static str,
    pub bytes: usize,
}

/// The personal state of one application, wiped with the session.
#[derive(Debug, Default)]
pub(crate) struct ApplyJourney {
    pub matter: Option<Matter>,
    pub agent_mode: bool,
    /// The agent's own card (代办).
    pub agent: Option<CardRead>,
    pub identity: Option<IdentityCheck>,
    /// One value per form field.
    pub values: Vec<String>,
    pub errors: Vec<String>,
    pub prefilled: Vec<bool>,
    /// Pages per material.
    pub pages: Vec<Vec<Page_>>,
    pub skipped: Vec<bool>,
    pub current: usize,
    /// A capture is running.
    pub capturing: bool,
    /// The outbox entry of the submission.
    pub queued: Option<outbox::Queued>,
    /// What the receipt says, once submitted.
    pub receipt: Option<crate::receipt::ApplicationReceipt>,
}

impl ApplyJourney {
    /// Zeroes what the journey holds.
    pub fn wipe(&mut self) {
        if let Some(mut a) = self.agent.take() {
            a.wipe();
        }
        for v in &mut self.values {
            scrub(v);
        }
        self.values.clear();
        if let Some(mut r) = self.receipt.take() {
            r.wipe();
        }
        *self = ApplyJourney::default();
    }
}

pub(crate) fn install(ui: &MainWindow, shared: &Arc<Shared>) {
    let a = ui.global::<ApplyAdapter>();
    let on = |f: fn(&MainWindow, &Arc<Shared>)| {
        let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
        move || {
            if let Some(ui) = weak.upgrade() {
                f(&ui, &sh);
            }
        }
    };
    a.on_back(on(|ui, sh| go_home(ui, sh, HomeReason::Back)));
    a.on_countdown_expired(on(|ui, sh| go_home(ui, sh, HomeReason::Timeout)));
    a.on_done(on(|ui, sh| go_home(ui, sh, HomeReason::Finished)));
    a.on_toggle_agent(on(|ui, sh| {
        let a = ui.global::<ApplyAdapter>();
        let next = !a.get_agent_mode();
        a.set_agent_mode(next);
        if let Some(j) = sh.session().apply.as_mut() {
            j.agent_mode = next;
        }
        a.set_seconds_left(seconds(sh.timeouts.card_wait));
    }));
    a.on_decline_fingerprint(on(|ui, sh| {
        set_identity(sh, IdentityMethod::IdCard, None, true);
        show_form(ui, sh);
    }));
    a.on_retry_fingerprint(on(fingerprint));
    a.on_edit_field(edit_field(ui, shared));
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    a.on_pick_choice(move |i, value| {
        if let Some(ui) = weak.upgrade() {
            set_field(&ui, &sh, usize::try_from(i).unwrap_or(0), value.as_str());
        }
    });
    a.on_to_materials(on(to_materials));
    a.on_capture(on(|ui, sh| capture(ui, sh, false)));
    a.on_retake(on(retake));
    a.on_next_material(on(|ui, sh| next_material(ui, sh, false)));
    a.on_skip_material(on(|ui, sh| next_material(ui, sh, true)));
    a.on_previous(on(|ui, sh| {
        let has_materials = sh
            .session()
            .apply
            .as_ref()
            .and_then(|j| j.matter.as_ref())
            .is_some_and(|m| !m.materials.is_empty());
        if has_materials {
            show_materials(ui, sh);
        } else {
            show_form(ui, sh);
        }
    }));
    a.on_to_review(on(show_review));
    a.on_submit(on(submit));
    a.on_reprint(on(print_receipt));
    a.on_retry(on(|ui, sh| {
        let code = ui.global::<ApplyAdapter>().get_matter_code();
        start(ui, sh, code.as_str());
    }));
}

fn edit_field(ui: &MainWindow, shared: &Arc<Shared>) -> impl Fn(i32) + 'static {
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    move |i| {
        let Some(ui) = weak.upgrade() else { return };
        let Ok(i) = usize::try_from(i) else { return };
        let (field, value) = {
            let s = sh.session();
            let Some(j) = s.apply.as_ref() else { return };
            let Some(f) = j.matter.as_ref().and_then(|m| m.form.get(i)) else {
                return;
            };
            (f.clone(), j.values.get(i).cloned().unwrap_or_default())
        };
        keyboard::open_field(&ui, &sh, i, &field, &value);
    }
}

fn seconds(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

/// Clears the page.
pub(crate) fn clear(ui: &MainWindow) {
    let a = ui.global::<ApplyAdapter>();
    a.set_stage(ApplyStage::WaitCard);
    a.set_agent_mode(false);
    a.set_holder_name("".into());
    a.set_masked_id("".into());
    a.set_agent_name("".into());
    a.set_agent_masked_id("".into());
    a.set_finger_state("waiting".into());
    a.set_finger_attempts(0);
    a.set_fields(ModelRc::default());
    a.set_materials(ModelRc::default());
    a.set_current(0);
    a.set_preview(slint::Image::default());
    a.set_last_page(slint::Image::default());
    a.set_stillness(0);
    a.set_colour(true);
    a.set_capturing(false);
    a.set_capture_message("".into());
    a.set_case_number("".into());
    a.set_deadline("".into());
    a.set_queued(false);
    a.set_print_state("none".into());
    a.set_print_message("".into());
    a.set_error_kind("".into());
    a.set_error_detail("".into());
    a.set_can_retry(true);
}

/// Starts an application for `code` (from the guide).
pub(crate) fn start(ui: &MainWindow, shared: &Arc<Shared>, code: &str) {
    // The receipt carries dates: not while the clock is off (R8).
    if !shared.clock_ok() {
        ui.global::<AppAdapter>()
            .invoke_notify("clock-off-apply".into());
        return;
    }
    let matter = shared
        .catalogue()
        .as_ref()
        .and_then(|c| c.get(code).cloned());
    go_home(ui, shared, HomeReason::JourneyStart);
    let a = ui.global::<ApplyAdapter>();
    ui.global::<AppAdapter>().set_page(Page::Apply);
    let Some(matter) = matter.filter(|m| m.kiosk_available) else {
        a.set_matter_code(code.into());
        show_error(ui, "matter-unavailable", String::new(), false);
        return;
    };
    a.set_matter_code(matter.code.as_str().into());
    a.set_matter_name(matter.name.as_str().into());
    a.set_department(matter.department.as_str().into());
    a.set_promised_days(i32::try_from(matter.promised_days).unwrap_or(0));
    a.set_fingerprint_required(matter.kiosk_fingerprint);
    {
        let mut s = shared.session();
        let n = matter.form.len();
        let m = matter.materials.len();
        s.apply = Some(ApplyJourney {
            values: vec![String::new(); n],
            errors: vec![String::new(); n],
            prefilled: vec![false; n],
            pages: vec![Vec::new(); m],
            skipped: vec![false; m],
            matter: Some(matter),
            ..ApplyJourney::default()
        });
    }
    wait_for_cards(ui, shared);
}

fn show_error(ui: &MainWindow, kind: &str, detail: String, can_retry: bool) {
    let a = ui.global::<ApplyAdapter>();
    a.set_error_kind(kind.into());
    a.set_error_detail(detail.into());
    a.set_can_retry(can_retry);
    a.set_stage(ApplyStage::Error);
    ui.global::<AppAdapter>().set_busy(false);
}

/// Runs `f` on the UI thread if the journey is still the same.
fn on_ui(
    shared: &Arc<Shared>,
    weak: &Weak<MainWindow>,
    generation: u64,
    f: impl FnOnce(&MainWindow) + Send + 'static,
) {
    let shared = Arc::clone(shared);
    let _ = weak.upgrade_in_event_loop(move |ui| {
        if shared.generation() == generation {
            f(&ui);
        }
    });
}

/// Identity: the card(s), then 人证核验 or the form.
fn wait_for_cards(ui: &MainWindow, shared: &Arc<Shared>) {
    let generation = shared.generation();
    let a = ui.global::<ApplyAdapter>();
    a.set_stage(ApplyStage::WaitCard);
    a.set_seconds_left(seconds(shared.timeouts.card_wait));
    shared.say("id-card-place");
    let Some(reader) = shared.devices.idcard.clone() else {
        show_error(ui, "reader-not-fitted", String::new(), false);
        return;
    };
    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    shared.spawn_for(generation, async move {
        let card = match read_card(&sh, &weak, generation, &reader).await {
            Ok(card) => card,
            Err((kind, detail)) => {
                on_ui(&sh, &weak, generation, move |ui| {
                    show_error(ui, kind, detail, true)
                });
                return;
            }
        };
        let name = card.identity.name.clone();
        let masked = mask_id_number(&card.identity.id_number);
        let agent_mode = {
            let mut s = sh.session();
            if s.generation != generation {
                return;
            }
            s.card = Some(card);
            s.apply.as_ref().is_some_and(|j| j.agent_mode)
        };
        sh.say("id-card-read-ok");
        on_ui(&sh, &weak, generation, move |ui| {
            let a = ui.global::<ApplyAdapter>();
            a.set_holder_name(name.into());
            a.set_masked_id(masked.into());
            if agent_mode {
                a.set_stage(ApplyStage::AgentCard);
            }
        });
        if agent_mode {
            // The applicant's card must leave the reader first: until it
            // does, the card on the reader is the applicant's again.
            let applicant_id = sh
                .session()
                .card
                .as_ref()
                .map(|c| c.identity.id_number.clone())
                .unwrap_or_default();
            let agent = loop {
                wait_removed(&reader, sh.timeouts.card_wait).await;
                let card = match read_card(&sh, &weak, generation, &reader).await {
                    Ok(card) => card,
                    Err((kind, detail)) => {
                        on_ui(&sh, &weak, generation, move |ui| {
                            show_error(ui, kind, detail, true)
                        });
                        return;
                    }
                };
                if card.identity.id_number != applicant_id {
                    break card;
                }
                let mut card = card;
                card.wipe();
                on_ui(&sh, &weak, generation, |ui| {
                    ui.global::<ApplyAdapter>().set_stage(ApplyStage::AgentCard);
                });
            };
            let name = agent.identity.name.clone();
            let masked = mask_id_number(&agent.identity.id_number);
            {
                let mut s = sh.session();
                if s.generation != generation {
                    return;
                }
                if let Some(j) = s.apply.as_mut() {
                    j.agent = Some(agent);
                }
            }
            on_ui(&sh, &weak, generation, move |ui| {
                let a = ui.global::<ApplyAdapter>();
                a.set_agent_name(name.into());
                a.set_agent_masked_id(masked.into());
            });
        }
        let weak2 = weak.clone();
        let sh2 = Arc::clone(&sh);
        on_ui(&sh, &weak, generation, move |ui| {
            let _ = weak2;
            after_identity(ui, &sh2);
        });
    });
}

/// Waits (at most `limit`) until no card lies on the reader.
async fn wait_removed(reader: &hal::actor::IdCardHandle, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        match reader
            .call(Duration::from_secs(2), |d, deadline| d.find_card(deadline))
            .await
        {
            Ok(hal::idcard::CardPresence::Present) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            _ => return,
        }
    }
}

/// Waits for a card and reads it; an error is (kind, detail).
async fn read_card(
    shared: &Arc<Shared>,
    weak: &Weak<MainWindow>,
    generation: u64,
    reader: &hal::actor::IdCardHandle,
) -> Result<CardRead, (&'static str, String)> {
    let mut events = reader.events();
    let mut health = reader.watch_health();
    if !health.borrow().usable() {
        let _ = tokio::time::timeout(
            shared.timeouts.card_presence,
            health.wait_for(hal::Health::usable),
        )
        .await;
    }
    let now = health.borrow().clone();
    if !now.usable() {
        let kind = if now.state == hal::HealthState::Fault {
            "reader-fault"
        } else {
            "reader-offline"
        };
        return Err((kind, query::health_detail(&now)));
    }
    let guard = shared.timeouts.card_wait + Duration::from_secs(5);
    match tokio::time::timeout(
        guard,
        query::card_laid(reader, &mut events, shared.timeouts.card_presence),
    )
    .await
    {
        Err(_) => return Err(("card-read-failed", "TIMEOUT".into())),
        Ok(Err(e)) => return Err((reader_kind(&e), query::device_detail(&e))),
        Ok(Ok(())) => {}
    }
    on_ui(shared, weak, generation, |ui| {
        ui.global::<ApplyAdapter>().set_stage(ApplyStage::Reading);
        ui.global::<AppAdapter>().set_busy(true);
    });
    let card = reader
        .read(true, shared.timeouts.card_read)
        .await
        .map_err(|e| (reader_kind(&e), query::device_detail(&e)));
    on_ui(shared, weak, generation, |ui| {
        ui.global::<AppAdapter>().set_busy(false);
    });
    let mut card = card?;
    if !card.identity.id_number_valid {
        card.wipe();
        return Err((
            "card-invalid",
            "证件号码校验未通过（the ID number fails its check digit） · ID_NUMBER_INVALID".into(),
        ));
    }
    if expired(&card.identity.valid_to, chrono::Local::now().date_naive()) {
        card.wipe();
        return Err(("card-expired", "CARD_EXPIRED".into()));
    }
    Ok(card)
}

fn reader_kind(e: &DeviceError) -> &'static str {
    match e.kind() {
        ErrorKind::NotFound | ErrorKind::Disconnected => "reader-offline",
        ErrorKind::Timeout | ErrorKind::Protocol | ErrorKind::NoCard | ErrorKind::CardRead => {
            "card-read-failed"
        }
        _ => "reader-fault",
    }
}

/// Whether a card's validity ended before `today`.
pub(crate) fn expired(valid_to: &Validity, today: chrono::NaiveDate) -> bool {
    match valid_to {
        Validity::LongTerm => false,
        Validity::Until(d) => {
            chrono::NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                .is_some_and(|end| end < today)
        }
    }
}

/// After the card(s): 人证核验 when asked for, else the form.
fn after_identity(ui: &MainWindow, shared: &Arc<Shared>) {
    let required = ui.global::<ApplyAdapter>().get_fingerprint_required();
    if required {
        fingerprint(ui, shared);
    } else {
        set_identity(shared, IdentityMethod::IdCard, None, false);
        show_form(ui, shared);
    }
}

fn set_identity(shared: &Shared, method: IdentityMethod, score: Option<u32>, declined: bool) {
    if let Some(j) = shared.session().apply.as_mut() {
        j.identity = Some(IdentityCheck {
            method,
            fingerprint_score: score,
            biometric_declined: declined,
        });
    }
}

/// The fingerprint scanner, if one is fitted.
fn scanner(shared: &Shared) -> Option<FingerprintHandle> {
    shared.devices.fingerprint.clone()
}

/// 人证核验: the finger of whoever is at the kiosk (the agent in 代办)
/// against their own card's features.
fn fingerprint(ui: &MainWindow, shared: &Arc<Shared>) {
    let a = ui.global::<ApplyAdapter>();
    a.set_stage(ApplyStage::Fingerprint);
    a.set_finger_state("waiting".into());
    let generation = shared.generation();
    let features = {
        let s = shared.session();
        let agent = s.apply.as_ref().and_then(|j| j.agent.as_ref());
        agent
            .or(s.card.as_ref())
            .and_then(|c| c.fingerprint.clone())
    };
    let (Some(scanner), Some(features)) = (scanner(shared), features) else {
        // No scanner, or a card without fingerprint features: the
        // non-biometric way.
        a.set_finger_state("unavailable".into());
        return;
    };
    if !scanner.health().usable() {
        a.set_finger_state("unavailable".into());
        return;
    }
    shared.say("fingerprint-press");
    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    shared.spawn_for(generation, async move {
        let features = zeroize_on_drop(features);
        let outcome = scanner
            .match_card_features(&features.0, Duration::from_secs(20))
            .await;
        on_ui(&sh, &weak, generation, {
            let sh = Arc::clone(&sh);
            move |ui| {
                let a = ui.global::<ApplyAdapter>();
                a.set_finger_attempts(a.get_finger_attempts() + 1);
                match outcome {
                    Ok(CardMatch::Matched { score }) => {
                        sh.say("fingerprint-matched");
                        set_identity(
                            &sh,
                            IdentityMethod::IdCardFingerprint,
                            Some(u32::from(score)),
                            false,
                        );
                        show_form(ui, &sh);
                    }
                    Ok(CardMatch::NoMatch) => {
                        sh.say("fingerprint-not-matched");
                        a.set_finger_state("no-match".into());
                    }
                    Ok(CardMatch::Retry(g)) => {
                        a.set_finger_state(
                            match g {
                                FingerGuidance::PlaceFinger => "timeout",
                                FingerGuidance::LiftAndPlaceAgain => "lift",
                                _ => "press-harder",
                            }
                            .into(),
                        );
                    }
                    Err(e) => {
                        tracing::warn!(kind = e.kind().code(), "fingerprint compare failed");
                        a.set_finger_state(
                            if e.kind() == ErrorKind::Timeout {
                                "timeout"
                            } else {
                                "unavailable"
                            }
                            .into(),
                        );
                    }
                }
            }
        });
    });
}

/// Card features, zeroed when dropped.
struct Features(Vec<u8>);
impl Drop for Features {
    fn drop(&mut self) {
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}
fn zeroize_on_drop(v: Vec<u8>) -> Features {
    Features(v)
}

/// Fills what the card says into the form, once.
fn prefill(j: &mut ApplyJourney, card: Option<&CardRead>) {
    let Some(matter) = j.matter.as_ref() else {
        return;
    };
    for (i, f) in matter.form.iter().enumerate() {
        if j.values.get(i).is_some_and(|v| !v.is_empty()) {
            continue;
        }
        let value = match (f.kind, f.key.as_str()) {
            (FieldKind::IdNumber, k) if k.starts_with("agent") => {
                j.agent.as_ref().map(|a| a.identity.id_number.clone())
            }
            (FieldKind::Text | FieldKind::Textarea, k) if k.contains("address") => {
                card.map(|c| c.identity.address.clone())
            }
            _ => None,
        };
        if let (Some(v), Some(slot)) = (value, j.values.get_mut(i)) {
            *slot = v;
            if let Some(p) = j.prefilled.get_mut(i) {
                *p = true;
            }
        }
    }
}

/// The form stage.
fn show_form(ui: &MainWindow, shared: &Arc<Shared>) {
    {
        let mut s = shared.session();
        let card = s.card.take();
        if let Some(j) = s.apply.as_mut() {
            prefill(j, card.as_ref());
        }
        s.card = card;
    }
    refresh_fields(ui, shared);
    ui.global::<ApplyAdapter>().set_stage(ApplyStage::Form);
    shared.say("fill-form");
}

/// Shows the fields with their values and errors.
pub(crate) fn refresh_fields(ui: &MainWindow, shared: &Shared) {
    let s = shared.session();
    let Some(j) = s.apply.as_ref() else { return };
    let Some(m) = j.matter.as_ref() else { return };
    let en = crate::controllers::app::language(ui) == crate::config::Language::English;
    let rows: Vec<FormRow> = m
        .form
        .iter()
        .enumerate()
        .map(|(i, f)| FormRow {
            key: f.key.as_str().into(),
            label: if en && !f.label_en.is_empty() {
                f.label_en.as_str()
            } else {
                f.label.as_str()
            }
            .into(),
            kind: kind_code(f.kind).into(),
            required: f.required,
            value: j.values.get(i).cloned().unwrap_or_default().into(),
            choices: ModelRc::new(VecModel::from(
                f.choices
                    .iter()
                    .map(|c| slint::SharedString::from(c.as_str()))
                    .collect::<Vec<_>>(),
            )),
            prefilled: j.prefilled.get(i).copied().unwrap_or(false),
            error: j.errors.get(i).cloned().unwrap_or_default().into(),
        })
        .collect();
    ui.global::<ApplyAdapter>()
        .set_fields(ModelRc::new(VecModel::from(rows)));
}

fn kind_code(k: FieldKind) -> &'static str {
    match k {
        FieldKind::Text => "text",
        FieldKind::Textarea => "textarea",
        FieldKind::Number => "number",
        FieldKind::Date => "date",
        FieldKind::Phone => "phone",
        FieldKind::IdNumber => "id_number",
        FieldKind::Uscc => "uscc",
        FieldKind::Choice => "choice",
    }
}

/// What is wrong with a value ("" when fine), in the resident's language.
pub(crate) fn check_value(f: &FormField, value: &str, en: bool) -> String {
    let v = value.trim();
    let msg = |zh: &str, e: &str| if en { e.to_owned() } else { zh.to_owned() };
    if v.is_empty() {
        return if f.required {
            msg("请填写此项", "Please fill this in")
        } else {
            String::new()
        };
    }
    if let Some(max) = f.max_len
        && v.chars().count() > usize::try_from(max).unwrap_or(usize::MAX)
    {
        return if en {
            format!("At most {max} characters")
        } else {
            format!("最多 {max} 个字")
        };
    }
    match f.kind {
        FieldKind::Phone
            if !(v.len() == 11 && v.starts_with('1') && v.bytes().all(|b| b.is_ascii_digit())) =>
        {
            msg("请输入11位手机号码", "Enter an 11-digit mobile number")
        }
        FieldKind::Number if v.parse::<f64>().is_err() => msg("请输入数字", "Enter a number"),
        FieldKind::Date if chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_err() => msg(
            "请按 年-月-日 输入，如 2026-11-29",
            "Enter the date as YYYY-MM-DD, e.g. 2026-11-29",
        ),
        FieldKind::IdNumber if !hal::idcard::id_number_valid(v) => {
            msg("身份证号码有误，请核对", "This ID number is not valid")
        }
        FieldKind::Choice if !f.choices.iter().any(|c| c == v) => {
            msg("请选择一项", "Please choose one")
        }
        _ => String::new(),
    }
}

/// A field edited on the keyboard or chosen.
pub(crate) fn set_field(ui: &MainWindow, shared: &Arc<Shared>, i: usize, value: &str) {
    let en = crate::controllers::app::language(ui) == crate::config::Language::English;
    {
        let mut s = shared.session();
        let Some(j) = s.apply.as_mut() else { return };
        let Some(f) = j.matter.as_ref().and_then(|m| m.form.get(i)).cloned() else {
            return;
        };
        let error = check_value(&f, value, en);
        if let Some(slot) = j.values.get_mut(i) {
            scrub(slot);
            value.trim().clone_into(slot);
        }
        if let Some(p) = j.prefilled.get_mut(i) {
            *p = false;
        }
        if let Some(e) = j.errors.get_mut(i) {
            *e = error;
        }
    }
    refresh_fields(ui, shared);
}

/// 下一步: every field checked; then the materials (or the review).
fn to_materials(ui: &MainWindow, shared: &Arc<Shared>) {
    let en = crate::controllers::app::language(ui) == crate::config::Language::English;
    let (ok, has_materials) = {
        let mut s = shared.session();
        let Some(j) = s.apply.as_mut() else { return };
        let Some(m) = j.matter.clone() else { return };
        let mut ok = true;
        for (i, f) in m.form.iter().enumerate() {
            let e = check_value(f, j.values.get(i).map_or("", String::as_str), en);
            ok &= e.is_empty();
            if let Some(slot) = j.errors.get_mut(i) {
                *slot = e;
            }
        }
        (ok, !m.materials.is_empty())
    };
    refresh_fields(ui, shared);
    if !ok {
        return;
    }
    if has_materials {
        show_materials(ui, shared);
    } else {
        show_review(ui, shared);
    }
}

fn human_size(bytes: usize) -> String {
    format!("{} KB", bytes.div_ceil(1024))
}

/// Shows the checklist with pages and states.
fn refresh_materials(ui: &MainWindow, shared: &Shared) {
    let s = shared.session();
    let Some(j) = s.apply.as_ref() else { return };
    let Some(m) = j.matter.as_ref() else { return };
    let slots: Vec<MaterialSlot> = m
        .materials
        .iter()
        .enumerate()
        .map(|(i, mat)| {
            let pages = j.pages.get(i).map_or(&[][..], Vec::as_slice);
            let skipped = j.skipped.get(i).copied().unwrap_or(false);
            let total: usize = pages.iter().map(|p| p.bytes).sum();
            MaterialSlot {
                name: mat.name.as_str().into(),
                note: mat.note.as_str().into(),
                required: mat.required,
                pages: i32::try_from(pages.len()).unwrap_or(0),
                state: if skipped {
                    "skipped"
                } else if !pages.is_empty() && i < j.current {
                    "done"
                } else if !pages.is_empty() && i == j.current {
                    "todo"
                } else if !pages.is_empty() {
                    "done"
                } else {
                    "todo"
                }
                .into(),
                summary: if pages.is_empty() {
                    String::new()
                } else {
                    format!("{} 页 · {}", pages.len(), human_size(total))
                }
                .into(),
            }
        })
        .collect();
    let a = ui.global::<ApplyAdapter>();
    a.set_materials(ModelRc::new(VecModel::from(slots)));
    a.set_current(i32::try_from(j.current).unwrap_or(0));
}

/// The materials stage: checklist, live preview, automatic capture.
fn show_materials(ui: &MainWindow, shared: &Arc<Shared>) {
    let a = ui.global::<ApplyAdapter>();
    {
        let mut s = shared.session();
        if let Some(j) = s.apply.as_mut() {
            let n = j.pages.len();
            if j.current >= n {
                j.current = n.saturating_sub(1);
            }
        }
    }
    refresh_materials(ui, shared);
    a.set_stage(ApplyStage::Materials);
    a.set_capture_message("".into());
    a.set_last_page(slint::Image::default());
    shared.say("document-place");
    let Some(camera) = shared.devices.document_camera.clone() else {
        a.set_camera_ok(false);
        return;
    };
    a.set_camera_ok(true);
    let generation = shared.generation();
    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    let alive = {
        let (sh, weak) = (Arc::clone(&sh), weak.clone());
        move || sh.generation() == generation && weak.upgrade().is_none_or(|_| true)
    };
    let run = shared.bump_preview();
    shared
        .rt
        .spawn(preview_loop(sh, weak, camera, generation, run, alive));
}

/// The document camera's frames to the screen, with stillness detection
/// for the automatic capture.
async fn preview_loop(
    shared: Arc<Shared>,
    weak: Weak<MainWindow>,
    camera: hal::camera::DocumentCameraHandle,
    generation: u64,
    run: u64,
    alive: impl Fn() -> bool + Send + 'static,
) {
    let mut started = false;
    let mut last: Option<Vec<u8>> = None;
    let mut still_since: Option<Instant> = None;
    // After a capture, the page must change before the next automatic one.
    let mut armed = true;
    let mut taken_at_capture = shared.captures();
    while alive() && shared.preview_run() == run {
        let camera_down = || {
            on_ui(&shared, &weak, generation, |ui| {
                ui.global::<ApplyAdapter>().set_camera_ok(false);
            });
        };
        let Some(frame) =
            frames::next_frame(&camera, DOC_MODE, &mut started, "高拍仪", &|ok: bool| {
                if !ok {
                    camera_down();
                }
            })
            .await
        else {
            continue;
        };
        let Ok(Ok((preview, thumb))) = tokio::task::spawn_blocking(move || {
            imaging::frame::rgb(&frame).map(|img| {
                let preview = imaging::frame::preview(&img, 800, 600);
                let thumb = image::imageops::thumbnail(&img, 32, 24);
                let grey: Vec<u8> = thumb
                    .pixels()
                    .map(|p| {
                        let [r, g, b] = p.0;
                        u8::try_from((u16::from(r) + u16::from(g) + u16::from(b)) / 3).unwrap_or(0)
                    })
                    .collect();
                (preview, grey)
            })
        })
        .await
        else {
            continue;
        };
        // Stillness: mean absolute change of a 32x24 grey thumbnail.
        let change = last.as_ref().map_or(255.0, |prev: &Vec<u8>| {
            let sum: u32 = prev
                .iter()
                .zip(&thumb)
                .map(|(a, b)| u32::from(a.abs_diff(*b)))
                .sum();
            f64::from(sum) / thumb.len().max(1) as f64
        });
        last = Some(thumb);
        if shared.captures() != taken_at_capture {
            taken_at_capture = shared.captures();
            armed = false;
            still_since = None;
        }
        if change > 6.0 {
            armed = true;
            still_since = None;
        } else if still_since.is_none() {
            still_since = Some(Instant::now());
        }
        let progress = still_since.map_or(0, |t| {
            (t.elapsed().as_millis() * 100 / STILL_FOR.as_millis()).min(100)
        });
        let fire = armed && progress >= 100;
        let (w, h) = preview.dimensions();
        let buffer = SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(preview.as_raw(), w, h);
        let sh = Arc::clone(&shared);
        on_ui(&shared, &weak, generation, move |ui| {
            let a = ui.global::<ApplyAdapter>();
            a.set_camera_ok(true);
            a.set_preview(slint::Image::from_rgb8(buffer));
            a.set_stillness(if armed {
                i32::try_from(progress).unwrap_or(0)
            } else {
                0
            });
            if fire && a.get_stage() == ApplyStage::Materials && !a.get_capturing() {
                capture(ui, &sh, true);
            }
        });
        if fire {
            armed = false;
            still_since = None;
        }
    }
    frames::stop(&camera, started).await;
}

/// Takes a full-resolution still of the current material's next page.
fn capture(ui: &MainWindow, shared: &Arc<Shared>, automatic: bool) {
    let a = ui.global::<ApplyAdapter>();
    let Some(camera) = shared.devices.document_camera.clone() else {
        return;
    };
    let colour = a.get_colour();
    let (index, page_no, label) = {
        let mut s = shared.session();
        let Some(j) = s.apply.as_mut() else { return };
        if j.capturing {
            return;
        }
        j.capturing = true;
        let i = j.current;
        let n = j.pages.get(i).map_or(0, Vec::len) + 1;
        let name = j
            .matter
            .as_ref()
            .and_then(|m| m.materials.get(i))
            .map(|m| m.name.clone())
            .unwrap_or_default();
        (i, n, format!("{name} 第{n}页"))
    };
    shared.count_capture();
    a.set_capturing(true);
    a.set_capture_message("".into());
    tracing::info!(
        material = index,
        page = page_no,
        automatic,
        "capturing a page"
    );
    let generation = shared.generation();
    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    shared.rt.spawn(async move {
        let outcome = frames::capture_page(&camera, colour).await;
        let stored = outcome.and_then(|(bytes, mime, preview)| {
            let mut s = sh.session();
            if s.generation != generation {
                return Err(String::new());
            }
            let size = bytes.len();
            let id = s
                .images(&sh.config)?
                .put(ImageKind::Document, &label, bytes)
                .map_err(|e| e.to_string())?;
            if let Some(j) = s.apply.as_mut()
                && let Some(p) = j.pages.get_mut(index)
            {
                p.push(Page_ {
                    id,
                    mime,
                    bytes: size,
                });
            }
            Ok(preview)
        });
        if let Some(j) = sh.session().apply.as_mut() {
            j.capturing = false;
        }
        let sh2 = Arc::clone(&sh);
        on_ui(&sh, &weak, generation, move |ui| {
            let a = ui.global::<ApplyAdapter>();
            a.set_capturing(false);
            match stored {
                Ok(preview) => {
                    let (w, h) = preview.dimensions();
                    let buffer =
                        SharedPixelBuffer::<Rgb8Pixel>::clone_from_slice(preview.as_raw(), w, h);
                    a.set_last_page(slint::Image::from_rgb8(buffer));
                    a.set_capture_message("".into());
                    sh2.say("document-captured");
                }
                Err(message) => {
                    a.set_capture_message(message.into());
                }
            }
            refresh_materials(ui, &sh2);
        });
    });
}

/// 重拍: the last page of the current material is thrown away.
fn retake(ui: &MainWindow, shared: &Arc<Shared>) {
    {
        let mut s = shared.session();
        let last = s
            .apply
            .as_mut()
            .and_then(|j| j.pages.get_mut(j.current).and_then(Vec::pop));
        if let Some(page) = last
            && let Some(store) = s.images.as_mut()
            && let Err(e) = store.remove(page.id)
        {
            tracing::warn!("retake: {e}");
        }
    }
    ui.global::<ApplyAdapter>()
        .set_last_page(slint::Image::default());
    shared.say("document-retake");
    refresh_materials(ui, shared);
}

/// 本份材料拍完了 / 没有此材料: on to the next material or the review.
fn next_material(ui: &MainWindow, shared: &Arc<Shared>, skip: bool) {
    let done = {
        let mut s = shared.session();
        let Some(j) = s.apply.as_mut() else { return };
        let i = j.current;
        let required = j
            .matter
            .as_ref()
            .and_then(|m| m.materials.get(i))
            .is_some_and(|m| m.required);
        let has_pages = j.pages.get(i).is_some_and(|p| !p.is_empty());
        if skip && required || !skip && !has_pages {
            return;
        }
        if let Some(x) = j.skipped.get_mut(i) {
            *x = skip;
        }
        j.current = i + 1;
        j.current >= j.pages.len()
    };
    let a = ui.global::<ApplyAdapter>();
    a.set_last_page(slint::Image::default());
    if done {
        shared.bump_preview();
        show_review(ui, shared);
    } else {
        refresh_materials(ui, shared);
        shared.say("document-place");
    }
}

fn show_review(ui: &MainWindow, shared: &Arc<Shared>) {
    shared.bump_preview();
    {
        let mut s = shared.session();
        if let Some(j) = s.apply.as_mut() {
            j.current = j.pages.len();
        }
    }
    refresh_fields(ui, shared);
    refresh_materials(ui, shared);
    ui.global::<ApplyAdapter>().set_stage(ApplyStage::Review);
    shared.say("review-submit");
}

/// The submission as the backend wants it, from the journey.
fn build_submission(shared: &Shared) -> Result<(CaseSubmission, outbox::Label), String> {
    let mut s = shared.session();
    let card = s.card.as_ref().ok_or("身份证信息已清除 / identity gone")?;
    let applicant = Applicant {
        name: card.identity.name.clone(),
        id_type: IdType::ResidentId,
        id_number: card.identity.id_number.clone(),
        phone: None,
        address: Some(card.identity.address.clone()).filter(|a| !a.is_empty()),
    };
    let j = s.apply.as_ref().ok_or("no journey")?;
    let m = j.matter.as_ref().ok_or("no matter")?;
    let mut form = serde_json::Map::new();
    let mut phone = None;
    for (f, v) in m.form.iter().zip(&j.values) {
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        let value = match f.kind {
            FieldKind::Number => v
                .parse::<i64>()
                .map(serde_json::Value::from)
                .or_else(|_| v.parse::<f64>().map(serde_json::Value::from))
                .unwrap_or_else(|_| serde_json::Value::from(v)),
            FieldKind::Phone => {
                if phone.is_none() && !f.key.starts_with("agent") {
                    phone = Some(v.to_owned());
                }
                serde_json::Value::from(v)
            }
            _ => serde_json::Value::from(v),
        };
        form.insert(f.key.clone(), value);
    }
    let agent = j.agent.as_ref().map(|a| Applicant {
        name: a.identity.name.clone(),
        id_type: IdType::ResidentId,
        id_number: a.identity.id_number.clone(),
        phone: None,
        address: None,
    });
    let label = outbox::Label::masked(&m.name, &applicant.name, &applicant.id_number);
    let matter_code = m.code.clone();
    let identity = j.identity.clone();
    let mut plan = Vec::new();
    for (i, mat) in m.materials.iter().enumerate() {
        for (n, page) in j
            .pages
            .get(i)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .enumerate()
        {
            plan.push((mat.name.clone(), n + 1, page.clone()));
        }
    }
    let mut materials = Vec::new();
    let store = s.images.as_mut().ok_or("no images")?;
    for (name, n, page) in plan {
        let bytes = store.get(page.id).map_err(|e| e.to_string())?;
        let ext = if page.mime == "image/png" {
            "png"
        } else {
            "jpg"
        };
        materials.push(MaterialUpload {
            file_name: format!("{name}-{n}.{ext}"),
            name,
            mime: page.mime.to_owned(),
            pages: 1,
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes.as_slice()),
        });
    }
    let applicant = Applicant { phone, ..applicant };
    Ok((
        CaseSubmission {
            idempotency_key: String::new(),
            matter_code,
            applicant,
            form,
            agent,
            materials,
            identity,
        },
        label,
    ))
}

/// 确认提交: into the outbox first, then the backend.
fn submit(ui: &MainWindow, shared: &Arc<Shared>) {
    let a = ui.global::<ApplyAdapter>();
    if a.get_stage() != ApplyStage::Review {
        return;
    }
    a.set_stage(ApplyStage::Submitting);
    ui.global::<AppAdapter>().set_busy(true);
    let generation = shared.generation();
    let Some(outbox) = shared.outbox.clone() else {
        show_error(ui, "store-failed", "OUTBOX_UNAVAILABLE".into(), false);
        return;
    };
    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    shared.spawn_for(generation, async move {
        let built = build_submission(&sh);
        let (submission, label) = match built {
            Ok(x) => x,
            Err(e) => {
                on_ui(&sh, &weak, generation, move |ui| {
                    show_error(ui, "store-failed", e, false)
                });
                return;
            }
        };
        let mut status = outbox.status();
        let ob = Arc::clone(&outbox);
        let queued = tokio::task::spawn_blocking(move || {
            ob.enqueue(outbox::Item::Submission(submission), label)
        })
        .await;
        let queued = match queued {
            Ok(Ok(q)) => q,
            Ok(Err(e)) => {
                tracing::error!("the outbox refused a submission: {e}");
                let d = format!("{e} · OUTBOX_WRITE");
                on_ui(&sh, &weak, generation, move |ui| {
                    show_error(ui, "store-failed", d, false)
                });
                return;
            }
            Err(e) => {
                let d = format!("{e} · OUTBOX_TASK");
                on_ui(&sh, &weak, generation, move |ui| {
                    show_error(ui, "store-failed", d, false)
                });
                return;
            }
        };
        tracing::info!(seq = queued.seq, "application saved in the outbox");
        // From here on the application is safe: the screen may say so.
        if let Some(j) = sh.session().apply.as_mut() {
            j.queued = Some(queued.clone());
        }
        let _ = outbox.sync_now();
        let seq = queued.seq;
        let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
        let reply = loop {
            let ob = Arc::clone(&outbox);
            let entry = tokio::task::spawn_blocking(move || ob.get(seq))
                .await
                .ok()
                .and_then(Result::ok)
                .flatten();
            match entry {
                Some(e) if e.reply.is_some() => break e.reply,
                Some(e) if e.state == outbox::State::Rejected => {
                    let d = e
                        .rejection
                        .map(|r| format!("{} · {}", r.message, r.code))
                        .unwrap_or_default();
                    on_ui(&sh, &weak, generation, move |ui| {
                        show_error(ui, "rejected", d, false)
                    });
                    return;
                }
                _ => {}
            }
            if tokio::time::timeout_at(deadline, status.changed())
                .await
                .is_err()
            {
                break None;
            }
        };
        let sh2 = Arc::clone(&sh);
        on_ui(&sh, &weak, generation, move |ui| {
            submitted(ui, &sh2, &queued, reply.as_ref());
        });
    });
}

/// The done stage, and the receipt.
fn submitted(
    ui: &MainWindow,
    shared: &Arc<Shared>,
    queued: &outbox::Queued,
    reply: Option<&outbox::Reply>,
) {
    let a = ui.global::<ApplyAdapter>();
    ui.global::<AppAdapter>().set_busy(false);
    a.set_queued(reply.is_none());
    a.set_case_number(
        reply
            .map(|r| r.case_number.clone())
            .unwrap_or_default()
            .into(),
    );
    a.set_deadline(
        reply
            .and_then(|r| r.deadline.clone())
            .unwrap_or_default()
            .into(),
    );
    a.set_stage(ApplyStage::Done);
    shared.say(if reply.is_some() {
        "submitted"
    } else {
        "submitted-queued"
    });
    let receipt = {
        let s = shared.session();
        let catalogue = shared.catalogue();
        let (Some(j), Some(card)) = (s.apply.as_ref(), s.card.as_ref()) else {
            return;
        };
        let Some(m) = j.matter.as_ref() else { return };
        let materials: Vec<(String, usize)> = m
            .materials
            .iter()
            .enumerate()
            .filter_map(|(i, mat)| {
                let n = j.pages.get(i).map_or(0, Vec::len);
                (n > 0).then(|| (mat.name.clone(), n))
            })
            .collect();
        let track_url = match (reply, catalogue.as_ref()) {
            (Some(r), Some(c)) => r
                .track_code
                .as_ref()
                .map(|code| c.track_url(&r.case_number, code)),
            _ => None,
        };
        crate::receipt::ApplicationReceipt {
            case_number: reply.map(|r| r.case_number.clone()),
            reference: queued.idempotency_key.clone(),
            matter: m.name.clone(),
            department: m.department.clone(),
            applicant_name: card.identity.name.clone(),
            id_number: card.identity.id_number.clone(),
            agent_name: j.agent.as_ref().map(|a| a.identity.name.clone()),
            submitted_at: chrono::Local::now().fixed_offset(),
            deadline: reply.and_then(|r| r.deadline.clone()),
            promised_days: m.promised_days,
            materials,
            track_url,
            window: m.windows.clone(),
            phone: m.phone.clone(),
            kiosk_name: shared.config.kiosk_name.clone(),
            reprint: false,
        }
    };
    if let Some(outbox) = shared.outbox.clone() {
        let facts = receipt.facts();
        let seq = queued.seq;
        shared.rt.spawn_blocking(move || {
            if let Err(e) = outbox.set_receipt(seq, &facts) {
                tracing::warn!("receipt facts not kept: {e}");
            }
        });
    }
    if let Some(j) = shared.session().apply.as_mut() {
        j.receipt = Some(receipt);
    }
    print_receipt(ui, shared);
}

/// Prints (or prints again) the receipt; never says printed when it was not.
fn print_receipt(ui: &MainWindow, shared: &Arc<Shared>) {
    let a = ui.global::<ApplyAdapter>();
    let Some(printer) = shared.devices.receipt_printer.clone() else {
        a.set_print_state("failed".into());
        a.set_print_message(print_problem(None).into());
        return;
    };
    let (doc, seq) = {
        let s = shared.session();
        let Some(j) = s.apply.as_ref() else { return };
        let Some(r) = j.receipt.as_ref() else { return };
        (
            crate::receipt::application_receipt(r),
            j.queued.as_ref().map(|q| q.seq),
        )
    };
    a.set_print_state("printing".into());
    ui.global::<AppAdapter>().set_busy(true);
    let generation = shared.generation();
    let (sh, weak) = (Arc::clone(shared), ui.as_weak());
    let timeout = shared.timeouts.print;
    shared.spawn_for(generation, async move {
        let outcome = printer.print(doc, timeout).await;
        if outcome.is_ok()
            && let (Some(seq), Some(outbox)) = (seq, sh.outbox.clone())
        {
            let _ = tokio::task::spawn_blocking(move || outbox.mark_printed(seq)).await;
        }
        if let Err(e) = &outcome {
            tracing::warn!(kind = e.kind().code(), "application receipt not printed");
            sh.alert(proto::AlertKind::PrintFailed, "apply/done", e.kind().code());
        }
        let sh2 = Arc::clone(&sh);
        on_ui(&sh, &weak, generation, move |ui| {
            let a = ui.global::<ApplyAdapter>();
            ui.global::<AppAdapter>().set_busy(false);
            match outcome {
                Ok(_) => {
                    a.set_print_state("printed".into());
                    sh2.say("receipt-take");
                }
                Err(e) => {
                    a.set_print_state("failed".into());
                    a.set_print_message(print_problem(Some(e.kind())).into());
                    sh2.say("printer-failed");
                }
            }
        });
    });
}

/// Why the receipt did not print, in Chinese (with the code for staff).
fn print_problem(kind: Option<ErrorKind>) -> String {
    match kind {
        None => "本机未配备凭条打印机".into(),
        Some(ErrorKind::PaperOut) => "打印机缺纸 · PAPER_OUT".into(),
        Some(ErrorKind::CoverOpen) => "打印机盖未关闭 · COVER_OPEN".into(),
        Some(k) => format!("打印机暂时无法使用 · {}", k.code()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn field(kind: FieldKind, required: bool) -> FormField {
        FormField {
            key: "k".into(),
            label: "字段".into(),
            label_en: "Field".into(),
            kind,
            required,
            max_len: (kind == FieldKind::Text).then_some(10),
            choices: vec!["是".into(), "否".into()],
        }
    }

    #[test]
    fn values_are_checked_as_the_resident_types_them() {
        assert_eq!(
            check_value(&field(FieldKind::Text, true), "", false),
            "请填写此项"
        );
        assert_eq!(check_value(&field(FieldKind::Text, false), "", false), "");
        assert_eq!(
            check_value(
                &field(FieldKind::Text, true),
                "一二三四五六七八九十十",
                false
            ),
            "最多 10 个字"
        );
        assert!(check_value(&field(FieldKind::Phone, true), "1383751234", false).contains("11位"));
        assert_eq!(
            check_value(&field(FieldKind::Phone, true), "13837512345", false),
            ""
        );
        assert!(!check_value(&field(FieldKind::Date, true), "2026-13-01", true).is_empty());
        assert_eq!(
            check_value(&field(FieldKind::Date, true), "2026-11-29", true),
            ""
        );
        assert!(
            !check_value(
                &field(FieldKind::IdNumber, true),
                "410403198503150014",
                false
            )
            .is_empty()
        );
        assert_eq!(
            check_value(
                &field(FieldKind::IdNumber, true),
                "410403198503150013",
                false
            ),
            ""
        );
        assert!(!check_value(&field(FieldKind::Choice, true), "也许", false).is_empty());
        assert!(!check_value(&field(FieldKind::Number, true), "三", false).is_empty());
    }

    #[test]
    fn cards_past_their_validity_are_refused() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let until = |y, m, d| {
            Validity::Until(hal::idcard::CardDate {
                year: y,
                month: m,
                day: d,
            })
        };
        assert!(expired(&until(2026, 11, 28), today));
        assert!(!expired(&until(2026, 11, 29), today));
        assert!(!expired(&Validity::LongTerm, today));
    }
}
