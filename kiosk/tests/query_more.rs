//! 我要查 beyond the ID card, end to end inside one process: a seeded
//! backend on 127.0.0.1:0, the ID card reader simulator on a
//! pseudo-terminal, the face and document camera simulators over HTTP,
//! all behind the real drivers and actors.
//!
//! * A case submitted earlier through the kiosk API opens from its
//!   receipt's QR code shown to the face camera; a code carrying anything
//!   else is refused while the scan goes on.
//! * 张伟's seeded case opens from its number and the last six typed on
//!   the page's keypad; a wrong last six (with the X key) is 未找到该办件
//!   and 重试 keeps the number. The timeline in English and in 关怀模式.
//! * From the card's list, touching a case opens the same timeline.
//! * 李秀英's seeded 待补正 case: 张伟's card is refused, hers is taken,
//!   the material comes from the document camera, the correction goes
//!   through the outbox; the backend's case is resubmitted with the
//!   material stored.
//! * The backend down: a message with 重试 and 返回首页.
//!
//! One `#[test]` per binary: the Slint platform is set once per process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use kiosk::ui::{AppAdapter, MainWindow, Page, QueryAdapter, QueryError, QueryStage};
use proto::{CaseCreated, CaseList, CaseProgress, CaseStatus};
use sim::camera::{CameraModel, CameraSim, DocKind, SceneRequest};
use sim::idcard::{IdCardSim, demo_person};
use slint::{ComponentHandle, Model};

const ZHANG_WEI_ID: &str = "410403198503150013";
const LI_XIUYING_ID: &str = "410403196207080023";

fn camera(selector: &str) -> hal::camera::CameraHandle {
    let selector: hal::Selector = selector.parse().unwrap();
    hal::actor::spawn("face_camera", hal::DeviceKind::Camera, move || {
        drivers::registry::open_camera(&selector)
    })
    .unwrap()
}

/// The backend as the enrolled kiosk sees it (bearer token of the app).
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    fn post<T: serde::de::DeserializeOwned>(
        &self,
        rt: &tokio::runtime::Runtime,
        path: &str,
        body: &impl serde::Serialize,
    ) -> (u16, Option<T>) {
        rt.block_on(async {
            let r = self
                .http
                .post(format!("{}/api/v1{path}", self.base))
                .bearer_auth(&self.token)
                .json(body)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<T>().await.ok())
        })
    }

    fn cases_of(&self, rt: &tokio::runtime::Runtime, id_number: &str) -> CaseList {
        let (status, list) = self.post::<CaseList>(
            rt,
            "/cases/lookup",
            &proto::CaseLookup {
                id_number: id_number.into(),
            },
        );
        assert_eq!(status, 200);
        list.unwrap()
    }
}

/// A small PNG page, as a kiosk would upload it.
fn png_page() -> String {
    let img = image::RgbImage::from_pixel(120, 160, image::Rgb([235, 235, 228]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// 张伟 applies for 退役军人优待证申领 at "a kiosk": the case with its
/// track code.
fn submit_case(rt: &tokio::runtime::Runtime, api: &Api) -> CaseCreated {
    let matter = demo_matter("退役军人优待证申领");
    let mut form = serde_json::Map::new();
    for f in matter.form.iter().filter(|f| f.required) {
        let value = f.choices.first().cloned().unwrap_or_else(|| "是".into());
        form.insert(f.key.clone(), serde_json::Value::from(value));
    }
    let materials = matter
        .materials
        .iter()
        .filter(|m| m.required && m.electronic)
        .map(|m| proto::MaterialUpload {
            name: m.name.clone(),
            file_name: format!("{}.png", m.name),
            mime: "image/png".into(),
            pages: 1,
            data_base64: png_page(),
        })
        .collect();
    let submission = proto::CaseSubmission {
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        matter_code: matter.code.clone(),
        applicant: proto::Applicant {
            name: "张伟".into(),
            id_type: proto::IdType::ResidentId,
            id_number: ZHANG_WEI_ID.into(),
            phone: Some("13837512345".into()),
            address: None,
        },
        form,
        agent: None,
        materials,
        identity: Some(proto::IdentityCheck {
            method: proto::IdentityMethod::IdCard,
            fingerprint_score: None,
            biometric_declined: false,
        }),
    };
    let (status, created) = api.post::<CaseCreated>(rt, "/cases", &submission);
    assert_eq!(status, 201, "the test submission was refused");
    let created = created.unwrap();
    assert_eq!(created.track_code.len(), 10);
    created
}

fn stage(ui: &MainWindow) -> QueryStage {
    ui.global::<QueryAdapter>().get_stage()
}

/// Waits for `want` (or an error, which fails with its detail).
fn wait_stage(ui: &MainWindow, want: QueryStage, what: &str) {
    let q = ui.global::<QueryAdapter>();
    wait_until(what, Duration::from_secs(40), || {
        stage(ui) == want || stage(ui) == QueryStage::Error
    });
    assert_eq!(
        stage(ui),
        want,
        "{what}: error {:?} {}",
        q.get_error(),
        q.get_error_detail()
    );
}

fn wait_error(ui: &MainWindow, want: QueryError, what: &str) {
    let q = ui.global::<QueryAdapter>();
    wait_until(what, Duration::from_secs(40), || {
        stage(ui) == QueryStage::Error
    });
    assert_eq!(q.get_error(), want, "{what}: {}", q.get_error_detail());
}

/// The step names of the timeline on screen (the anonymous struct's
/// fields come in alphabetical order: at, department, name, …).
fn step_names(ui: &MainWindow) -> Vec<String> {
    ui.global::<QueryAdapter>()
        .get_steps()
        .iter()
        .map(|s| s.2.to_string())
        .collect()
}

/// 我要查 → 输入办件编号 → the number and the last six typed.
fn type_entry(ui: &MainWindow, number: &str, last6: &str) {
    let q = ui.global::<QueryAdapter>();
    touch(ui, "我要查");
    touch(ui, "输入办件编号");
    assert_eq!(stage(ui), QueryStage::EnterNumber);
    type_keys(ui, number);
    assert_eq!(q.get_entry_number(), number);
    assert_eq!(q.get_entry_field(), "last6", "a full number moves on");
    type_keys(ui, last6);
    assert_eq!(q.get_entry_last6(), last6);
}

#[test]
fn query_by_receipt_qr_by_number_and_correction_at_the_kiosk() {
    init_platform();
    let rt = runtime();
    let dir = temp_dir("query-more");
    let (backend_url, stop_backend) = start_backend(&rt, &dir);
    let reader_sim = IdCardSim::start(&dir.join("dev"), "idcard").unwrap();
    let face = CameraSim::start("127.0.0.1:0".parse().unwrap(), CameraModel::Face).unwrap();
    let doc = CameraSim::start("127.0.0.1:0".parse().unwrap(), CameraModel::Document).unwrap();
    doc.set_scene(SceneRequest::Document {
        doc: DocKind::Form,
        seed: 4,
    })
    .unwrap();
    face.set_scene(SceneRequest::Empty).unwrap();
    let idcard = format!("serial:{}?baud=115200", reader_sim.path().display());
    let config = config(
        &backend_url,
        &dir.join("data"),
        &[
            ("idcard", idcard.clone()),
            ("face_camera", face.url()),
            ("doc_camera", doc.url()),
        ],
    );
    let devices = kiosk::Devices {
        idcard: Some(reader(&idcard)),
        camera: Some(camera(&face.url())),
        document_camera: Some(document_camera(&doc.url())),
        ..Default::default()
    };
    let app = kiosk::App::new(config, devices, rt.handle().clone()).unwrap();
    show(&app);
    let ui = app.window();
    let a = ui.global::<AppAdapter>();
    let q = ui.global::<QueryAdapter>();
    wait_until("enrolment", Duration::from_secs(30), || {
        app.backend().is_enrolled()
    });
    let api = Api {
        base: backend_url.clone(),
        token: app.backend().token().unwrap(),
        http: reqwest::Client::new(),
    };

    // What the seeded backend holds, and a case submitted earlier
    // through the kiosk API.
    let created = submit_case(&rt, &api);
    let zhang_seeded = api
        .cases_of(&rt, ZHANG_WEI_ID)
        .items
        .into_iter()
        .find(|c| c.status == CaseStatus::InReview)
        .expect("张伟's seeded case in review");
    let li_correction = api
        .cases_of(&rt, LI_XIUYING_ID)
        .items
        .into_iter()
        .find(|c| c.status == CaseStatus::CorrectionRequested)
        .expect("李秀英's seeded case in 待补正");

    // --- 扫回执二维码 --------------------------------------------------
    touch(ui, "我要查");
    assert_eq!(a.get_page(), Page::Query);
    assert_eq!(stage(ui), QueryStage::WaitCard, "the card prompt first");
    assert_eq!(
        button(ui, "扫回执二维码").accessible_enabled(),
        Some(true),
        "a face camera is fitted"
    );
    // A track address carrying one parameter more is refused; the scan
    // goes on.
    let track_url = format!(
        "{backend_url}/track?case={}&code={}",
        created.case_number, created.track_code
    );
    face.set_scene(SceneRequest::QrPaper {
        payload: format!("{track_url}&next=https://evil.example/"),
        seed: 2,
    })
    .unwrap();
    touch(ui, "扫回执二维码");
    assert_eq!(stage(ui), QueryStage::ScanQr);
    assert!(shows(ui, "请将回执上的二维码对准摄像头"));
    wait_until("the refusal", Duration::from_secs(30), || {
        q.get_scan_problem() == "bad-content" && q.get_scan_preview().size().width > 0
    });
    assert_eq!(stage(ui), QueryStage::ScanQr, "still scanning");
    assert!(shows(ui, "二维码内容不符合要求"));
    screenshot(ui, "query-qr.png");

    // The receipt's own code opens the case, without any ID number.
    face.set_scene(SceneRequest::QrPaper {
        payload: track_url.clone(),
        seed: 2,
    })
    .unwrap();
    wait_stage(ui, QueryStage::Timeline, "the case from its receipt QR");
    assert_eq!(q.get_opened().case_number, created.case_number.as_str());
    assert_eq!(q.get_opened().status_code, "submitted");
    assert_eq!(q.get_opened().matter_name, "退役军人优待证申领");
    assert!(!q.get_from_list());
    assert!(!step_names(ui).is_empty(), "the steps show");
    assert!(shows(ui, &created.case_number));
    assert!(shows(ui, "办理过程"));
    assert!(shows(ui, "正在等待窗口受理"), "what comes next");
    assert!(!shows(ui, ZHANG_WEI_ID));
    screenshot(ui, "query-qr-timeline.png");
    face.set_scene(SceneRequest::Empty).unwrap();
    touch(ui, "返回首页");
    assert_eq!(a.get_page(), Page::Home);

    // --- 输入办件编号 --------------------------------------------------
    // A wrong last six, ending in X (the X key works only there).
    type_entry(ui, &zhang_seeded.case_number, "00001");
    assert!(q.get_x_allowed());
    touch(ui, "X");
    assert_eq!(q.get_entry_last6(), "00001X");
    assert!(q.get_entry_complete());
    screenshot(ui, "query-number.png");
    touch(ui, "查询进度");
    wait_error(ui, QueryError::CaseNotFound, "the wrong last six");
    assert!(shows(ui, "未找到该办件，请核对后重试"));
    button(ui, "重试");
    button(ui, "返回首页");
    screenshot(ui, "query-not-found.png");
    // 重试: the number stays, the last six is typed again.
    touch(ui, "重试");
    assert_eq!(stage(ui), QueryStage::EnterNumber);
    assert_eq!(q.get_entry_number(), zhang_seeded.case_number.as_str());
    touch(ui, "证件号码后六位");
    touch(ui, "清除");
    assert_eq!(q.get_entry_last6(), "");
    type_keys(ui, "150013");
    touch(ui, "查询进度");
    wait_stage(ui, QueryStage::Timeline, "the case from its number");
    assert_eq!(
        q.get_opened().case_number,
        zhang_seeded.case_number.as_str()
    );
    assert_eq!(q.get_opened().status_code, "in_review");
    let names = step_names(ui);
    assert!(names.len() >= 3, "{names:?}");
    assert!(names.iter().any(|n| n == "受理"), "{names:?}");
    screenshot(ui, "query-timeline.png");
    for n in &names {
        assert!(shows(ui, n), "step {n} on screen");
    }
    assert!(q.get_opened().deadline.len() == 10, "a deadline");
    assert!(
        shows(ui, "个工作日") || shows(ui, "办理时限"),
        "the working days left"
    );
    assert!(shows(ui, "正在审查"), "what comes next");
    touch(ui, "中文/English");
    assert!(shows(ui, "Progress so far"), "the timeline in English");
    assert!(shows(ui, "In review"));
    screenshot(ui, "query-timeline-en.png");
    touch(ui, "中文/English");
    touch(ui, "关怀模式");
    screenshot(ui, "query-timeline-elderly.png");
    touch(ui, "标准模式");
    touch(ui, "返回首页");

    // --- 刷身份证: the list, then one case ------------------------------
    touch(ui, "我要查");
    reader_sim.lay_card(demo_person("zhangwei").unwrap());
    wait_stage(ui, QueryStage::Results, "张伟's cases");
    assert!(q.get_cases().row_count() >= 3, "two seeded and one new");
    touch(ui, &zhang_seeded.case_number);
    wait_stage(ui, QueryStage::Timeline, "a case from the list");
    assert!(q.get_from_list());
    assert_eq!(
        q.get_opened().case_number,
        zhang_seeded.case_number.as_str()
    );
    touch(ui, "返回办件列表");
    assert_eq!(stage(ui), QueryStage::Results);
    reader_sim.remove_card();
    touch(ui, "返回首页");
    assert!(!app.holds_personal_data());

    // --- 补正 at the kiosk ---------------------------------------------
    type_entry(ui, &li_correction.case_number, "080023");
    touch(ui, "查询进度");
    wait_stage(ui, QueryStage::Timeline, "李秀英's case in 待补正");
    assert_eq!(q.get_opened().status_code, "correction_requested");
    let items: Vec<String> = q
        .get_correction_items()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(!items.is_empty(), "what the notice asks for");
    assert!(shows(ui, "需补正的材料"));
    for i in &items {
        assert!(shows(ui, i), "{i} listed");
    }
    touch(ui, "在本机补正材料");
    assert_eq!(stage(ui), QueryStage::CorrectionCard, "the card first");
    assert!(q.get_correcting());

    // Zhang Wei's card is not the applicant's.
    reader_sim.lay_card(demo_person("zhangwei").unwrap());
    wait_error(ui, QueryError::CardMismatch, "another person's card");
    assert!(shows(ui, "身份证与该办件的申请人不一致"));
    reader_sim.remove_card();
    touch(ui, "重试");
    assert_eq!(stage(ui), QueryStage::CorrectionCard);
    reader_sim.lay_card(demo_person("lixiuying").unwrap());
    wait_stage(ui, QueryStage::Correction, "the capture");
    wait_until(
        "the document camera preview",
        Duration::from_secs(20),
        || q.get_doc_camera_ok() && q.get_doc_preview().size().width > 0,
    );
    for _ in 0..items.len() {
        touch(ui, "拍摄");
        let current = usize::try_from(q.get_correction_current()).unwrap();
        wait_until("the page captured", Duration::from_secs(30), || {
            !q.get_capturing()
                && q.get_correction_slots()
                    .row_data(current)
                    .is_some_and(|s| s.1 == 1)
        });
        assert_eq!(q.get_capture_message(), "");
        if current + 1 < items.len() {
            touch(ui, "下一份材料");
        }
    }
    assert!(q.get_correction_ready());
    screenshot(ui, "query-correction.png");
    touch(ui, "提交补正");
    wait_stage(ui, QueryStage::Corrected, "the correction delivered");
    assert!(!q.get_corrected_queued(), "delivered, not only kept");
    assert!(shows(ui, "补正材料已提交"));
    screenshot(ui, "query-correction-done.png");

    // The backend: resubmitted, with the material stored.
    let (status, progress) = api.post::<CaseProgress>(
        &rt,
        "/cases/progress",
        &proto::CaseProgressQuery {
            case_number: li_correction.case_number.clone(),
            id_last6: "080023".into(),
            track_code: None,
        },
    );
    assert_eq!(status, 200);
    let progress = progress.unwrap();
    assert_eq!(progress.case.status, CaseStatus::Resubmitted);
    assert!(progress.correction_items.is_empty());
    {
        let db = rusqlite::Connection::open_with_flags(
            dir.join("backend.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        for item in &items {
            let (n, size): (i64, i64) = db
                .query_row(
                    "SELECT count(*), coalesce(min(m.size), 0) FROM case_material m \
                     JOIN case_record c ON c.id = m.case_id \
                     WHERE c.case_number = ?1 AND m.name = ?2 AND m.media_type = 'image/jpeg'",
                    rusqlite::params![li_correction.case_number, item],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(n, 1, "{item} stored once");
            assert!(size > 1000, "{item}: a real page ({size} bytes)");
        }
    }
    touch(ui, "完成");
    assert_eq!(a.get_page(), Page::Home);
    pump();
    assert!(!app.holds_personal_data(), "wiped on the way home");
    for needle in [
        "李秀英",
        LI_XIUYING_ID,
        "080023",
        li_correction.case_number.as_str(),
        created.case_number.as_str(),
    ] {
        assert!(!shows(ui, needle), "{needle:?} still on screen");
    }
    assert_eq!(q.get_entry_number(), "");
    assert_eq!(q.get_steps().row_count(), 0);
    reader_sim.remove_card();

    // --- The backend down: a message, 重试 and 返回首页 -------------------
    let _ = stop_backend.send(());
    type_entry(ui, &zhang_seeded.case_number, "150013");
    touch(ui, "查询进度");
    wait_error(ui, QueryError::BackendUnreachable, "the dead backend");
    assert!(shows(ui, "暂时无法连接政务服务平台"));
    button(ui, "重试");
    touch(ui, "返回首页");
    assert_eq!(a.get_page(), Page::Home);

    drop(app);
    drop(reader_sim);
    drop(face);
    drop(doc);
    let _ = std::fs::remove_dir_all(dir);
}
