//! `GuideAdapter`: 办事指南 (every guide), and the first step of 我要办
//! (only what this kiosk accepts). Browsing by 个人/法人, theme or
//! department; search through the on-screen keyboard (Chinese through
//! pinyin, or initials such as `hkqy`); one guide with a QR code that opens
//! the same guide on a phone.

use std::sync::Arc;
use std::time::SystemTime;

use proto::{Audience, MaterialForm, Matter};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use crate::app::Shared;
use crate::catalogue::{Browse, Filter};
use crate::controllers::{apply, keyboard};
use crate::ui::{
    AppAdapter, Facet, GuideAdapter, GuideDetail, GuideMaterial, MainWindow, MatterRow, Page, Theme,
};

/// What the guide screens show now.
#[derive(Debug, Clone, Default)]
pub(crate) struct GuideState {
    pub filter: Filter,
    pub browse: Browse,
    pub page: usize,
}

/// Matters per page: fewer, bigger lines in 关怀模式.
fn page_size(ui: &MainWindow) -> usize {
    if ui.global::<Theme>().get_elderly() {
        5
    } else {
        7
    }
}

pub(crate) fn install(ui: &MainWindow, shared: &Arc<Shared>) {
    let g = ui.global::<GuideAdapter>();
    let on = |f: fn(&MainWindow, &Arc<Shared>)| {
        let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
        move || {
            if let Some(ui) = weak.upgrade() {
                f(&ui, &sh);
            }
        }
    };
    let with = |f: fn(&MainWindow, &Arc<Shared>, &str)| {
        let (weak, sh) = (ui.as_weak(), Arc::clone(shared));
        move |s: SharedString| {
            if let Some(ui) = weak.upgrade() {
                f(&ui, &sh, s.as_str());
            }
        }
    };
    g.on_set_audience(with(|ui, sh, key| {
        {
            let mut st = sh.guide();
            st.filter.audience = Some(audience(key));
            st.filter.facet = None;
            st.page = 0;
        }
        refresh(ui, sh);
    }));
    g.on_set_browse(with(|ui, sh, key| {
        {
            let mut st = sh.guide();
            st.browse = if key == "department" {
                Browse::Department
            } else {
                Browse::Theme
            };
            st.filter.facet = None;
            st.page = 0;
        }
        refresh(ui, sh);
    }));
    g.on_pick_facet(with(|ui, sh, key| {
        {
            let mut st = sh.guide();
            let browse = st.browse;
            st.filter.facet = match &st.filter.facet {
                Some((_, k)) if k == key => None,
                _ => Some((browse, key.to_owned())),
            };
            st.page = 0;
        }
        refresh(ui, sh);
    }));
    g.on_search(on(|ui, sh| {
        let current = sh.guide().filter.query.clone();
        keyboard::open(ui, sh, keyboard::Target::Search, &current);
    }));
    g.on_clear_search(on(|ui, sh| set_query(ui, sh, "")));
    g.on_open_matter(with(open_matter));
    g.on_close_detail(on(|ui, _| {
        ui.global::<GuideAdapter>().set_showing_detail(false);
    }));
    g.on_previous_page(on(|ui, sh| {
        {
            let mut st = sh.guide();
            st.page = st.page.saturating_sub(1);
        }
        refresh(ui, sh);
    }));
    g.on_next_page(on(|ui, sh| {
        {
            let mut st = sh.guide();
            st.page += 1;
        }
        refresh(ui, sh);
    }));
    g.on_apply(with(apply::start));
    g.on_back(on(|ui, sh| {
        crate::controllers::app::go_home(ui, sh, crate::controllers::app::HomeReason::Back);
    }));
}

fn audience(key: &str) -> Audience {
    if key == "entity" {
        Audience::LegalEntity
    } else {
        Audience::Person
    }
}

/// Opens the catalogue: 办事指南 (`apply_only` false) or 我要办.
pub(crate) fn start(ui: &MainWindow, shared: &Arc<Shared>, apply_only: bool) {
    crate::controllers::app::go_home(
        ui,
        shared,
        crate::controllers::app::HomeReason::JourneyStart,
    );
    {
        let mut st = shared.guide();
        *st = GuideState::default();
        st.filter.audience = Some(Audience::Person);
        st.filter.kiosk_only = apply_only;
    }
    let g = ui.global::<GuideAdapter>();
    g.set_apply_only(apply_only);
    g.set_showing_detail(false);
    refresh(ui, shared);
    ui.global::<AppAdapter>().set_page(Page::Guide);
    shared.say(if apply_only {
        "choose-matter"
    } else {
        "read-guide"
    });
    // A catalogue older than a few minutes is fetched again now.
    crate::controllers::app::refresh_catalogue(shared, ui.as_weak(), false);
}

/// Sets the search text (from the keyboard) and lists what it finds.
pub(crate) fn set_query(ui: &MainWindow, shared: &Arc<Shared>, query: &str) {
    {
        let mut st = shared.guide();
        st.filter.query = query.to_owned();
        st.page = 0;
    }
    refresh(ui, shared);
}

/// Shows the list, facets and catalogue age for the current state.
pub(crate) fn refresh(ui: &MainWindow, shared: &Shared) {
    let g = ui.global::<GuideAdapter>();
    let per_page = page_size(ui);
    let mut st = shared.guide();
    let catalogue = shared.catalogue();
    let Some(cat) = catalogue.as_ref() else {
        g.set_empty(true);
        g.set_matters(ModelRc::default());
        g.set_facets(ModelRc::default());
        g.set_total(0);
        g.set_pages(1);
        g.set_page(0);
        g.set_age_minutes(-1);
        return;
    };
    g.set_empty(false);
    let matters = cat.list(&st.filter);
    let pages = matters.len().div_ceil(per_page).max(1);
    st.page = st.page.min(pages - 1);
    let rows: Vec<MatterRow> = matters
        .iter()
        .skip(st.page * per_page)
        .take(per_page)
        .map(|m| matter_row(m))
        .collect();
    let facets: Vec<Facet> = cat
        .facets(st.filter.audience, st.browse, st.filter.kiosk_only)
        .into_iter()
        .map(|(key, count)| Facet {
            label: key.clone().into(),
            key: key.into(),
            count: i32::try_from(count).unwrap_or(i32::MAX),
        })
        .collect();
    g.set_total(i32::try_from(matters.len()).unwrap_or(i32::MAX));
    g.set_pages(i32::try_from(pages).unwrap_or(1));
    g.set_page(i32::try_from(st.page).unwrap_or(0));
    g.set_matters(ModelRc::new(VecModel::from(rows)));
    g.set_facets(ModelRc::new(VecModel::from(facets)));
    g.set_audience(
        if st.filter.audience == Some(Audience::LegalEntity) {
            "entity"
        } else {
            "person"
        }
        .into(),
    );
    g.set_browse(
        match st.browse {
            Browse::Theme => "theme",
            Browse::Department => "department",
        }
        .into(),
    );
    g.set_facet(
        st.filter
            .facet
            .as_ref()
            .map(|(_, k)| k.as_str())
            .unwrap_or_default()
            .into(),
    );
    g.set_query(st.filter.query.as_str().into());
    g.set_age_minutes(i32::try_from(cat.age_minutes(SystemTime::now())).unwrap_or(i32::MAX));
}

fn matter_row(m: &Matter) -> MatterRow {
    MatterRow {
        code: m.code.as_str().into(),
        name: m.name.as_str().into(),
        department: m.department.as_str().into(),
        promised_days: i32::try_from(m.promised_days).unwrap_or(0),
        fee: m.fee.charged,
        kiosk: m.kiosk_available,
    }
}

/// How the guide names a material's form.
pub(crate) fn form_text(form: MaterialForm) -> &'static str {
    match form {
        MaterialForm::Original => "原件",
        MaterialForm::Copy => "复印件",
        MaterialForm::OriginalAndCopy => "原件及复印件",
    }
}

/// Opens one guide.
fn open_matter(ui: &MainWindow, shared: &Arc<Shared>, code: &str) {
    let catalogue = shared.catalogue();
    let Some(cat) = catalogue.as_ref() else {
        return;
    };
    let Some(m) = cat.get(code) else { return };
    let g = ui.global::<GuideAdapter>();
    // Empty: the page says 不收费 in the resident's language.
    let fee = if m.fee.charged {
        m.fee.items.join("；")
    } else {
        String::new()
    };
    g.set_detail(GuideDetail {
        code: m.code.as_str().into(),
        name: m.name.as_str().into(),
        department: m.department.as_str().into(),
        matter_type: m.matter_type.as_str().into(),
        promised_days: i32::try_from(m.promised_days).unwrap_or(0),
        legal_days: i32::try_from(m.legal_days).unwrap_or(0),
        fee_text: fee.into(),
        conditions: m
            .conditions
            .iter()
            .map(|c| format!("· {c}"))
            .collect::<Vec<_>>()
            .join("\n")
            .into(),
        window: m.windows.as_str().into(),
        address: m.address.as_str().into(),
        hours: m.hours.as_str().into(),
        phone: m.phone.as_str().into(),
        result_name: m.result_name.as_str().into(),
        kiosk: m.kiosk_available,
        fingerprint: m.kiosk_fingerprint,
    });
    let materials: Vec<GuideMaterial> = m
        .materials
        .iter()
        .map(|x| GuideMaterial {
            name: x.name.as_str().into(),
            note: x.note.as_str().into(),
            copies: i32::try_from(x.copies).unwrap_or(1),
            required: x.required,
            form: form_text(x.form).into(),
        })
        .collect();
    g.set_materials(ModelRc::new(VecModel::from(materials)));
    let process: Vec<SharedString> = m.process.iter().map(|p| p.as_str().into()).collect();
    g.set_process(ModelRc::new(VecModel::from(process)));
    g.set_qr(qr_image(&cat.guide_url(&m.code)));
    g.set_showing_detail(true);
    shared.say("read-guide");
}

/// A QR code as a Slint image (black modules on white, 4-module quiet zone).
pub(crate) fn qr_image(data: &str) -> slint::Image {
    let Ok(code) = qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M) else {
        return slint::Image::default();
    };
    let width = code.width();
    let colors = code.to_colors();
    let scale = 6usize;
    let quiet = 4usize;
    let side = (width + 2 * quiet) * scale;
    let Ok(side32) = u32::try_from(side) else {
        return slint::Image::default();
    };
    let mut buffer = slint::SharedPixelBuffer::<slint::Rgb8Pixel>::new(side32, side32);
    let pixels = buffer.make_mut_slice();
    for (i, px) in pixels.iter_mut().enumerate() {
        let (x, y) = (i % side / scale, i / side / scale);
        let dark = x >= quiet
            && y >= quiet
            && colors
                .get((y - quiet) * width + (x - quiet))
                .is_some_and(|c| *c == qrcode::Color::Dark)
            && x - quiet < width
            && y - quiet < width;
        let v = if dark { 0 } else { 255 };
        *px = slint::Rgb8Pixel { r: v, g: v, b: v };
    }
    slint::Image::from_rgb8(buffer)
}
