//! `KeyboardAdapter`: the on-screen keyboard. The input method is the
//! `ime` crate's [`ime::Composer`] (pinyin with a frequency dictionary,
//! candidate paging, Latin and digit modes); this module keeps the text of
//! the field being edited, shows it, and hands it back on 完成 — to the
//! guide's search (live, as the resident types) or to a form field.

use std::sync::Arc;

use ime::{Composer, Edit, Key, Mode};
use proto::{FieldKind, FormField};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::app::{Shared, scrub};
use crate::controllers::{apply, guide};
use crate::ui::{KeyboardAdapter, MainWindow, Theme};

/// What the keyboard edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The catalogue search of 办事指南 / 我要办.
    Search,
    /// Field `i` of the application form.
    Field(usize),
}

/// The edit in progress (personal: a form value), wiped with the session.
#[derive(Debug)]
pub struct Editing {
    pub target: Target,
    /// The text before the keyboard opened (取消 restores it).
    pub original: String,
    pub text: String,
    pub max_chars: usize,
    pub composer: Composer<'static>,
}

impl Editing {
    /// Zeroes the texts.
    pub fn wipe(&mut self) {
        scrub(&mut self.original);
        scrub(&mut self.text);
        let _ = self.composer.press(Key::Clear);
    }
}

/// Longest search text (the search crate's limit).
const SEARCH_MAX: usize = 32;

pub(crate) fn install(ui: &MainWindow, shared: &Arc<Shared>) {
    let k = ui.global::<KeyboardAdapter>();
    let press = |key: fn(&str) -> Option<Key>| {
        let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
        move |s: SharedString| {
            if let Some(ui) = weak.upgrade()
                && let Some(key) = key(s.as_str())
            {
                press_key(&ui, &sh, key);
            }
        }
    };
    let simple = |key: Key| {
        let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
        move || {
            if let Some(ui) = weak.upgrade() {
                press_key(&ui, &sh, key);
            }
        }
    };
    k.on_key(press(key_of));
    k.on_set_mode(press(|m| {
        Some(Key::Mode(match m {
            "latin" => Mode::Latin,
            "digits" => Mode::Digits,
            _ => Mode::Pinyin,
        }))
    }));
    k.on_backspace(simple(Key::Backspace));
    k.on_space(simple(Key::Space));
    k.on_previous_page(simple(Key::PrevPage));
    k.on_next_page(simple(Key::NextPage));
    k.on_toggle_shift(simple(Key::Shift));
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    k.on_pick(move |i| {
        if let (Some(ui), Ok(i)) = (weak.upgrade(), usize::try_from(i)) {
            press_key(&ui, &sh, Key::Pick(i));
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    k.on_clear(move || {
        let Some(ui) = weak.upgrade() else { return };
        {
            let mut s = sh.session();
            let Some(e) = s.keyboard.as_mut() else { return };
            if e.composer.buffer().is_empty() {
                scrub(&mut e.text);
            } else {
                let _ = e.composer.press(Key::Clear);
            }
        }
        show(&ui, &sh);
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    k.on_done(move || {
        if let Some(ui) = weak.upgrade() {
            finish(&ui, &sh, true);
        }
    });
    let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
    k.on_cancel(move || {
        if let Some(ui) = weak.upgrade() {
            finish(&ui, &sh, false);
        }
    });
}

/// A key label → the composer's key.
fn key_of(s: &str) -> Option<Key> {
    let mut chars = s.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    match c {
        '\'' => Some(Key::Separator),
        c if c.is_ascii_alphabetic() && c != 'X' => Some(Key::Letter(c)),
        c if ime::DIGIT_KEYS.contains(&c) => Some(Key::Digit(c)),
        _ => None,
    }
}

/// Opens the keyboard on the search text.
pub(crate) fn open(ui: &MainWindow, shared: &Arc<Shared>, target: Target, current: &str) {
    begin(ui, shared, target, current, "", SEARCH_MAX, false);
}

/// Opens the keyboard on form field `i`.
pub(crate) fn open_field(
    ui: &MainWindow,
    shared: &Arc<Shared>,
    i: usize,
    field: &FormField,
    current: &str,
) {
    let digits = matches!(
        field.kind,
        FieldKind::Number | FieldKind::Phone | FieldKind::Date | FieldKind::IdNumber
    );
    let en = crate::controllers::app::language(ui) == crate::config::Language::English;
    let label = if en && !field.label_en.is_empty() {
        &field.label_en
    } else {
        &field.label
    };
    let max = field
        .max_len
        .and_then(|m| usize::try_from(m).ok())
        .unwrap_or(match field.kind {
            FieldKind::Phone => 11,
            FieldKind::IdNumber | FieldKind::Uscc => 18,
            FieldKind::Date => 10,
            _ => 200,
        });
    begin(ui, shared, Target::Field(i), current, label, max, digits);
}

fn begin(
    ui: &MainWindow,
    shared: &Arc<Shared>,
    target: Target,
    current: &str,
    label: &str,
    max_chars: usize,
    digits_only: bool,
) {
    let mut composer = Composer::default();
    let elderly = ui.global::<Theme>().get_elderly();
    composer.set_page_size(if elderly { 5 } else { 8 });
    if digits_only {
        let _ = composer.press(Key::Mode(Mode::Digits));
    }
    {
        let mut s = shared.session();
        if let Some(mut old) = s.keyboard.take() {
            old.wipe();
        }
        s.keyboard = Some(Editing {
            target,
            original: current.to_owned(),
            text: current.to_owned(),
            max_chars,
            composer,
        });
    }
    let k = ui.global::<KeyboardAdapter>();
    k.set_target_label(label.into());
    k.set_digits_only(digits_only);
    k.set_max_chars(i32::try_from(max_chars).unwrap_or(0));
    k.set_open(true);
    show(ui, shared);
}

/// Feeds one key and applies its edit.
pub(crate) fn press_key(ui: &MainWindow, shared: &Arc<Shared>, key: Key) {
    let (target, text, enter) = {
        let mut s = shared.session();
        let Some(e) = s.keyboard.as_mut() else { return };
        let mut enter = false;
        match e.composer.press(key) {
            Some(Edit::Insert(t)) => {
                let room = e.max_chars.saturating_sub(e.text.chars().count());
                e.text.extend(t.chars().take(room));
            }
            Some(Edit::DeleteBack) => {
                e.text.pop();
            }
            Some(Edit::Enter) => enter = true,
            None => {}
        }
        (e.target, e.text.clone(), enter)
    };
    show(ui, shared);
    if target == Target::Search {
        guide::set_query(ui, shared, &text);
    }
    if enter {
        finish(ui, shared, true);
    }
}

/// Shows the composer's state.
fn show(ui: &MainWindow, shared: &Shared) {
    let s = shared.session();
    let Some(e) = s.keyboard.as_ref() else { return };
    let k = ui.global::<KeyboardAdapter>();
    k.set_text(e.text.as_str().into());
    k.set_mode(
        match e.composer.mode() {
            Mode::Pinyin => "pinyin",
            Mode::Latin => "latin",
            Mode::Digits => "digits",
        }
        .into(),
    );
    k.set_shift(e.composer.upper_case());
    k.set_composition(e.composer.preedit().into());
    let page: Vec<SharedString> = e
        .composer
        .page()
        .iter()
        .map(|c| c.text.as_str().into())
        .collect();
    k.set_candidates(ModelRc::new(VecModel::from(page)));
    k.set_has_previous(e.composer.has_prev_page());
    k.set_has_next(e.composer.has_next_page());
}

/// 完成 (`keep`) or 取消: closes the keyboard and hands the text back.
pub(crate) fn finish(ui: &MainWindow, shared: &Arc<Shared>, keep: bool) {
    let editing = {
        let mut s = shared.session();
        s.keyboard.take()
    };
    close(ui);
    let Some(mut e) = editing else { return };
    if keep {
        // Letters still in the buffer are kept as typed (e.g. hkqy).
        if let Some(Edit::Insert(t)) = e.composer.press(Key::Enter) {
            let room = e.max_chars.saturating_sub(e.text.chars().count());
            e.text.extend(t.chars().take(room));
        }
    }
    let text = if keep { &e.text } else { &e.original };
    match e.target {
        Target::Search => guide::set_query(ui, shared, text),
        Target::Field(i) if keep => apply::set_field(ui, shared, i, text),
        Target::Field(_) => {}
    }
    e.wipe();
}

/// Hides the keyboard and clears what it showed.
pub(crate) fn close(ui: &MainWindow) {
    let k = ui.global::<KeyboardAdapter>();
    k.set_open(false);
    k.set_text("".into());
    k.set_composition("".into());
    k.set_candidates(ModelRc::default());
    k.set_target_label("".into());
}
