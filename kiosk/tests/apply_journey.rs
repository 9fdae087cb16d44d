//! 我要办 end to end inside one process: a seeded backend on 127.0.0.1:0,
//! the ID card reader and fingerprint module simulators on pseudo-terminals,
//! the document camera simulator over HTTP and the receipt printer
//! simulator over TCP, all behind the real drivers and actors.
//!
//! 张伟 applies for 高龄津贴申领 (a matter that asks for 人证核验): card,
//! finger, the form through the on-screen keyboard (the bank's name typed
//! in pinyin), three materials from the document camera (the first taken
//! automatically when the page lies still, the others with 拍摄, one
//! retaken), the optional one skipped, review, submit. The case arrives at
//! the backend with its materials, its identity check and the track code;
//! the receipt prints with the case number and a QR that opens the track
//! page; back home nothing personal is left. Then an agent applies for
//! him without a fingerprint (the non-biometric way), and a failed finger
//! match offers the way out. Screens go to `target/screens/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use kiosk::ui::{AppAdapter, ApplyAdapter, ApplyStage, GuideAdapter, KeyboardAdapter, Page};
use sim::camera::{CameraModel, CameraSim, DocKind, SceneRequest};
use sim::fingerprint::{FingerState, FingerprintSim};
use sim::idcard::{IdCardSim, demo_person};
use sim::printer::PrinterSim;
use slint::{ComponentHandle, Model};

const ZHANG_WEI_ID: &str = "410403198503150013";

/// Opens the matter's guide from 我要办 through search.
fn open_matter(ui: &kiosk::ui::MainWindow, name: &str, keys: &str) {
    let g = ui.global::<GuideAdapter>();
    open_tile(ui, "我要办", Page::Guide);
    wait_until("the catalogue", Duration::from_secs(60), || {
        g.get_total() > 0
    });
    assert!(g.get_apply_only());
    assert!(
        g.get_matters().iter().all(|m| m.kiosk),
        "only kiosk matters"
    );
    touch(ui, "搜索事项");
    type_keys(ui, keys);
    touch(ui, "完成");
    touch(ui, name);
    assert!(g.get_showing_detail());
    touch(ui, "在本机申请");
    assert_eq!(ui.global::<AppAdapter>().get_page(), Page::Apply);
}

fn stage(ui: &kiosk::ui::MainWindow) -> ApplyStage {
    ui.global::<ApplyAdapter>().get_stage()
}

fn wait_stage(ui: &kiosk::ui::MainWindow, want: ApplyStage, what: &str) {
    let a = ui.global::<ApplyAdapter>();
    wait_until(what, Duration::from_secs(40), || {
        stage(ui) == want || stage(ui) == ApplyStage::Error
    });
    assert_eq!(
        stage(ui),
        want,
        "{what}: error {} {}",
        a.get_error_kind(),
        a.get_error_detail()
    );
}

fn pages_of(ui: &kiosk::ui::MainWindow, i: usize) -> i32 {
    ui.global::<ApplyAdapter>()
        .get_materials()
        .row_data(i)
        .map_or(0, |m| m.pages)
}

#[test]
fn apply_with_card_fingerprint_form_materials_and_receipt() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("apply");
    let (backend_url, stop_backend) = start_backend(&rt, &dir);
    let reader_sim = IdCardSim::start(&dir.join("dev"), "idcard").unwrap();
    let finger_sim = FingerprintSim::start(&dir.join("dev"), "fingerprint").unwrap();
    let printer_sim = PrinterSim::start("127.0.0.1:0".parse().unwrap(), &dir.join("jobs")).unwrap();
    let doc = CameraSim::start("127.0.0.1:0".parse().unwrap(), CameraModel::Document).unwrap();
    doc.set_scene(SceneRequest::Document {
        doc: DocKind::Form,
        seed: 4,
    })
    .unwrap();
    let idcard = format!("serial:{}?baud=115200", reader_sim.path().display());
    let fp = format!("serial:{}?baud=57600", finger_sim.path().display());
    let receipt_printer = format!("tcp:{}", printer_sim.addr());
    let data = dir.join("data");
    let config = config(
        &backend_url,
        &data,
        &[
            ("idcard", idcard.clone()),
            ("fingerprint", fp.clone()),
            ("receipt_printer", receipt_printer.clone()),
            ("doc_camera", doc.url()),
        ],
    );
    let devices = kiosk::Devices {
        idcard: Some(reader(&idcard)),
        fingerprint: Some(fingerprint(&fp)),
        receipt_printer: Some(printer(&receipt_printer)),
        document_camera: Some(document_camera(&doc.url())),
        ..Default::default()
    };
    let app = kiosk::App::new(config, devices, rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<ApplyAdapter>();
    let k = ui.global::<KeyboardAdapter>();
    wait_until("enrolment", Duration::from_secs(30), || {
        app.backend().is_enrolled()
    });

    // 高龄津贴申领 asks for 人证核验.
    let matter = demo_matter("高龄津贴申领");
    assert!(matter.kiosk_fingerprint && matter.kiosk_available);
    open_matter(ui, &matter.name, "gljt");
    assert_eq!(stage(ui), ApplyStage::WaitCard);
    assert!(a.get_fingerprint_required());
    screenshot(ui, "apply-1-card.png");

    // Card, then the finger.
    reader_sim.lay_card(demo_person("zhangwei").unwrap());
    wait_stage(ui, ApplyStage::Fingerprint, "the fingerprint prompt");
    assert_eq!(a.get_masked_id(), "410403********0013");
    assert!(!shows(ui, ZHANG_WEI_ID));
    screenshot(ui, "apply-2-fingerprint.png");
    finger_sim.set_finger(FingerState::Finger("zhangwei".into()));
    wait_stage(ui, ApplyStage::Form, "the form after the finger matched");
    finger_sim.set_finger(FingerState::None);
    reader_sim.remove_card();

    // The form: bank typed in pinyin, the choice touched.
    let fields: Vec<_> = a.get_fields().iter().collect();
    assert_eq!(fields.len(), matter.form.len());
    screenshot(ui, "apply-3-form-empty.png");
    touch(ui, "下一步：提交材料");
    assert_eq!(stage(ui), ApplyStage::Form, "required fields stop the way");
    assert!(a.get_fields().iter().any(|f| f.error == "请填写此项"));
    touch(ui, "收款开户银行");
    assert!(k.get_open());
    type_keys(ui, "zhongguo");
    touch(ui, "中国");
    type_keys(ui, "yinhang");
    touch(ui, "银行");
    assert_eq!(k.get_text(), "中国银行");
    screenshot(ui, "apply-3b-keyboard.png");
    touch(ui, "完成");
    touch(ui, "本人");
    // A wrong agent phone number is caught as it is typed in.
    touch(ui, "代办人联系电话");
    assert_eq!(k.get_mode(), "digits");
    type_keys(ui, "1383751234");
    touch(ui, "完成");
    assert!(a.get_fields().iter().any(|f| f.error.contains("11位")));
    touch(ui, "代办人联系电话");
    touch(ui, "清空");
    touch(ui, "完成");
    assert!(a.get_fields().iter().all(|f| f.error.is_empty()));
    screenshot(ui, "apply-4-form-filled.png");
    // The same form in English and in 关怀模式.
    touch(ui, "中文/English");
    assert!(shows(ui, "Next: materials"));
    screenshot(ui, "apply-4-form-filled-en.png");
    touch(ui, "中文/English");
    touch(ui, "关怀模式");
    screenshot(ui, "apply-4-form-filled-elderly.png");
    touch(ui, "标准模式");
    touch(ui, "下一步：提交材料");
    assert_eq!(stage(ui), ApplyStage::Materials);

    // The first material is taken by itself once the page lies still.
    wait_until("the automatic capture", Duration::from_secs(40), || {
        pages_of(ui, 0) == 1
    });
    screenshot(ui, "apply-5-materials-auto.png");
    // Retake, then take it again by hand.
    touch(ui, "重拍");
    assert_eq!(pages_of(ui, 0), 0);
    touch(ui, "拍摄");
    wait_until("the capture", Duration::from_secs(40), || {
        pages_of(ui, 0) == 1
    });
    touch(ui, "本份材料拍完了");
    // Two more required materials, black and white for the second.
    touch(ui, "彩色/黑白");
    assert!(!a.get_colour());
    touch(ui, "拍摄");
    wait_until("the second material", Duration::from_secs(40), || {
        pages_of(ui, 1) == 1
    });
    touch(ui, "本份材料拍完了");
    touch(ui, "拍摄");
    wait_until("the third material", Duration::from_secs(40), || {
        pages_of(ui, 2) == 1
    });
    screenshot(ui, "apply-6-materials.png");
    touch(ui, "中文/English");
    screenshot(ui, "apply-6-materials-en.png");
    touch(ui, "中文/English");
    touch(ui, "关怀模式");
    screenshot(ui, "apply-6-materials-elderly.png");
    touch(ui, "标准模式");
    touch(ui, "本份材料拍完了");
    // The optional 代办人居民身份证 is skipped.
    touch(ui, "没有此材料");
    assert_eq!(stage(ui), ApplyStage::Review);
    assert!(shows(ui, "中国银行"));
    screenshot(ui, "apply-7-review.png");

    // Submit: stored first, then delivered, then the receipt.
    touch(ui, "确认提交");
    wait_stage(ui, ApplyStage::Done, "the submission");
    assert!(!a.get_queued(), "the backend was there");
    let case_number = a.get_case_number().to_string();
    assert_eq!(case_number.len(), 20, "{case_number}");
    wait_until("the receipt", Duration::from_secs(30), || {
        a.get_print_state() != "printing"
    });
    assert_eq!(a.get_print_state(), "printed", "{}", a.get_print_message());
    screenshot(ui, "apply-8-done.png");
    let jobs = printer_sim.wait_for_jobs(1, Duration::from_secs(10));
    let job = &jobs[0];
    assert!(job.text.contains("申请回执"), "{}", job.text);
    assert!(job.text.contains(&case_number), "{}", job.text);
    assert!(job.text.contains("高龄津贴申领"));
    assert!(job.text.contains("410403********0013") && !job.text.contains(ZHANG_WEI_ID));
    assert!(job.text.contains("已收材料：共 3 份"), "{}", job.text);
    let qr = job.qr_codes.first().expect("a QR to track the case");
    assert!(
        qr.contains(&format!("/track?case={case_number}&code=")),
        "{qr}"
    );

    // The backend holds the case once, with three materials and the check.
    let db = rusqlite::Connection::open(dir.join("backend.db")).unwrap();
    let n: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM case_record WHERE case_number = ?1",
            [&case_number],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("case table: {e}"));
    assert_eq!(n, 1);
    let (materials, identity): (i64, String) = db
        .query_row(
            "SELECT (SELECT COUNT(*) FROM case_material m WHERE m.case_id = c.id), \
             COALESCE(c.identity_check, '') FROM case_record c WHERE c.case_number = ?1",
            [&case_number],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(materials, 3, "three pages, one per material");
    assert!(
        identity.contains("指纹"),
        "identity check recorded: {identity}"
    );

    // Back home: nothing personal left.
    touch(ui, "完成");
    assert_eq!(ui.global::<AppAdapter>().get_page(), Page::Home);
    pump();
    assert!(!app.holds_personal_data());
    for needle in ["张伟", ZHANG_WEI_ID, "中国银行", &case_number] {
        assert!(
            !all_strings(ui).iter().any(|s| s.contains(needle)),
            "{needle} still on screen"
        );
    }
    let sealed = std::fs::read_dir(data.join("sealed")).map_or(0, |d| d.count());
    assert_eq!(sealed, 0, "no sealed page left");

    // Maintenance: the delivered entry, without personal data, and a
    // reprint labelled 补打.
    for _ in 0..5 {
        touch(ui, "终端维护入口");
    }
    for d in "246810".chars() {
        touch(ui, &d.to_string());
    }
    touch(ui, "确认");
    let m = ui.global::<kiosk::ui::MaintenanceAdapter>();
    touch(ui, "提交队列");
    wait_until("the outbox list", Duration::from_secs(10), || {
        m.get_outbox().row_count() == 1
    });
    let entry = m.get_outbox().row_data(0).unwrap();
    assert_eq!(entry.state, "delivered");
    assert_eq!(entry.case_number, case_number.as_str());
    assert_eq!(entry.applicant, "张* / 410403********0013");
    assert_eq!(entry.prints, 1);
    assert!(!all_strings(ui).iter().any(|s| s.contains(ZHANG_WEI_ID)));
    screenshot(ui, "maintenance-outbox.png");
    touch(ui, &format!("补打回执 #{}", entry.seq));
    let jobs = printer_sim.wait_for_jobs(2, Duration::from_secs(20));
    assert_eq!(jobs.len(), 2);
    assert!(
        jobs[1].text.contains("申请回执（补打）"),
        "{}",
        jobs[1].text
    );
    assert!(jobs[1].text.contains(&case_number));
    assert!(!jobs[1].text.contains(ZHANG_WEI_ID));
    wait_until("the reprint counted", Duration::from_secs(10), || {
        m.get_outbox().row_data(0).is_some_and(|e| e.prints == 2)
    });
    touch(ui, "退出");

    // A finger that does not match offers the way out; declining goes on.
    open_matter(ui, &matter.name, "gljt");
    reader_sim.lay_card(demo_person("zhangwei").unwrap());
    wait_stage(ui, ApplyStage::Fingerprint, "the fingerprint prompt");
    finger_sim.set_finger(FingerState::Unknown);
    wait_until("no match", Duration::from_secs(30), || {
        a.get_finger_state() == "no-match"
    });
    finger_sim.set_finger(FingerState::None);
    screenshot(ui, "apply-2b-no-match.png");
    touch(ui, "不使用指纹，由窗口核验");
    assert_eq!(stage(ui), ApplyStage::Form);
    touch(ui, "返回首页");
    assert!(!app.holds_personal_data());
    reader_sim.remove_card();

    // 代办: 李秀英 applies for 张伟 (无犯罪记录证明 asks for no finger);
    // both identities are recorded.
    let matter = demo_matter("无犯罪记录证明");
    assert!(!matter.kiosk_fingerprint);
    open_matter(ui, &matter.name, "wfzjlzm");
    touch(ui, "我是代办人");
    assert!(a.get_agent_mode());
    assert!(shows(ui, "请先放置申请人（被代办人）的身份证"));
    reader_sim.lay_card(demo_person("zhangwei").unwrap());
    wait_stage(ui, ApplyStage::AgentCard, "the agent's card prompt");
    screenshot(ui, "apply-2c-agent-card.png");
    reader_sim.remove_card();
    reader_sim.lay_card(demo_person("lixiuying").unwrap());
    wait_stage(ui, ApplyStage::Form, "the form for the agent");
    reader_sim.remove_card();
    assert_eq!(a.get_holder_name(), "张伟");
    assert_eq!(a.get_agent_name(), "李秀英");
    for f in &matter.form {
        if f.kind == proto::FieldKind::Choice {
            touch(ui, &f.choices[0]);
        } else if f.required {
            touch(ui, &f.label);
            type_keys(ui, "weidong");
            touch(ui, "卫东");
            touch(ui, "完成");
        }
    }
    touch(ui, "下一步：提交材料");
    let required = matter.materials.iter().filter(|m| m.required).count();
    for (i, m) in matter.materials.iter().enumerate() {
        if m.required {
            if pages_of(ui, i) == 0 {
                touch(ui, "拍摄");
            }
            wait_until("a page", Duration::from_secs(40), || pages_of(ui, i) >= 1);
            touch(ui, "本份材料拍完了");
        } else {
            touch(ui, "没有此材料");
        }
    }
    assert_eq!(stage(ui), ApplyStage::Review);
    touch(ui, "确认提交");
    wait_stage(ui, ApplyStage::Done, "the agent's submission");
    let agent_case = a.get_case_number().to_string();
    let (agent_name, materials): (String, i64) = db
        .query_row(
            "SELECT COALESCE(c.agent_name, ''), \
             (SELECT COUNT(*) FROM case_material m WHERE m.case_id = c.id) \
             FROM case_record c WHERE c.case_number = ?1",
            [&agent_case],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(agent_name, "李秀英", "the agent is recorded");
    assert_eq!(usize::try_from(materials).unwrap(), required);
    touch(ui, "完成");
    assert!(!app.holds_personal_data());

    drop(app);
    let _ = stop_backend.send(());
    let _ = std::fs::remove_dir_all(dir);
}
