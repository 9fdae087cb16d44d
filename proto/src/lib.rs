//! Wire types of the kiosk ↔ backend API, `/api/v1` (see `docs/API.md`).
//!
//! This is the only crate in the workspace with serde derives for the wire.
//! Every type here is plain data: the backend and the kiosk convert to and
//! from their own domain types at the boundary. JSON field names are
//! snake_case and match `docs/API.md` exactly; the OpenAPI document served by
//! the backend is generated from the `utoipa::ToSchema` derives below.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The path prefix every JSON route of this API version lives under.
pub const API_PREFIX: &str = "/api/v1";

/// The body of every 4xx/5xx reply: a stable machine code that clients
/// translate, and a human message in Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiErrorBody {
    /// Stable machine code, e.g. `MATTER_NOT_FOUND`.
    pub code: String,
    /// Message for a person, in Chinese.
    pub message_zh: String,
    /// Message for a person, in English.
    pub message_en: String,
}

/// Reply of `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `"ok"` when the service and its database answer.
    pub status: String,
    /// Backend software version.
    pub version: String,
    /// `"ok"` when the database answered a query, otherwise `"error"`.
    pub db: String,
}

/// Query parameters of `GET /api/v1/matters`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MatterQuery {
    /// Text to look for in the matter's name, department, theme, type or code
    /// (one character or more).
    pub q: Option<String>,
    /// Page size (default 50, at most 200).
    pub limit: Option<u32>,
    /// Number of matches to skip (default 0).
    pub offset: Option<u32>,
}

/// Who a matter serves (服务对象).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Audience {
    /// 个人: natural persons.
    #[serde(rename = "个人")]
    Person,
    /// 法人: legal entities (enterprises, institutions, individual businesses).
    #[serde(rename = "法人")]
    LegalEntity,
}

/// The administrative level that handles a matter (办理层级).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum ServiceLevel {
    /// 区级: handled by a district department.
    #[serde(rename = "区级")]
    District,
    /// 街道级: handled by a street office.
    #[serde(rename = "街道级")]
    Street,
}

/// Whether a matter is concluded on the spot or within a promised time (办件类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum CaseType {
    /// 即办件: concluded on the spot when the materials are complete.
    #[serde(rename = "即办件")]
    Immediate,
    /// 承诺件: concluded within the promised number of working days.
    #[serde(rename = "承诺件")]
    Promised,
}

/// The form in which a material is handed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum MaterialForm {
    /// 原件: the original, shown or handed in.
    #[serde(rename = "原件")]
    Original,
    /// 复印件: a photocopy.
    #[serde(rename = "复印件")]
    Copy,
    /// 原件及复印件: the original to be checked and a photocopy to keep.
    #[serde(rename = "原件及复印件")]
    OriginalAndCopy,
}

/// One line of the matter catalogue, as listed by `GET /api/v1/matters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MatterSummary {
    /// Implementation code of the matter (unique).
    pub code: String,
    /// Matter name in Chinese.
    pub name: String,
    /// Department that handles it.
    pub department: String,
    /// Theme (主题分类), e.g. 社会保障.
    pub theme: String,
    /// Who it serves.
    pub audience: Audience,
    /// Administrative level.
    pub service_level: ServiceLevel,
    /// Whether the self-service kiosk offers it.
    pub kiosk_available: bool,
    /// Whether a fee is charged.
    pub fee: bool,
    /// Promised time limit in working days (0 = on the spot).
    pub promised_days: u32,
}

/// A page of the matter catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MatterList {
    /// The matters on this page, in catalogue order.
    pub items: Vec<MatterSummary>,
    /// Number of matters that match the query, over all pages.
    pub total: u64,
}

/// One material an applicant hands in (申请材料).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Material {
    /// Material name.
    pub name: String,
    /// Original, copy, or both.
    pub form: MaterialForm,
    /// Number of copies.
    pub copies: u32,
    /// Whether it is always required (false: only in the case the note describes).
    pub required: bool,
    /// Notes: when it is needed, which e-certificate can stand in for it.
    pub note: String,
    /// Name of the e-certificate (电子证照) type that can stand in for it,
    /// e.g. `居民户口簿`; none when only paper or an upload will do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e_certificate: Option<String>,
    /// Whether an electronic copy (upload, kiosk capture) is accepted.
    #[serde(default = "yes")]
    pub electronic: bool,
}

fn yes() -> bool {
    true
}

/// Staff roles (岗位角色). A step of a workflow names the role that acts on it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 窗口受理人员: receives, pre-reviews and accepts applications.
    WindowClerk,
    /// 审查人员: reviews accepted cases.
    Reviewer,
    /// 审批人员: decides (approves or denies).
    Approver,
    /// 督查人员: sees every department's cases, voids, suspends, watches deadlines.
    Supervisor,
    /// 事项管理员: maintains the matter catalogue.
    CatalogueAdmin,
    /// 系统管理员: staff accounts, departments, holidays.
    SystemAdmin,
    /// 审计管理员: reads (never edits) the audit trail.
    AuditAdmin,
    /// 运维人员: kiosk fleet and device health.
    Maintenance,
}

impl Role {
    /// Every role.
    pub const ALL: [Self; 8] = [
        Self::WindowClerk,
        Self::Reviewer,
        Self::Approver,
        Self::Supervisor,
        Self::CatalogueAdmin,
        Self::SystemAdmin,
        Self::AuditAdmin,
        Self::Maintenance,
    ];

    /// The machine code, e.g. `window_clerk`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::WindowClerk => "window_clerk",
            Self::Reviewer => "reviewer",
            Self::Approver => "approver",
            Self::Supervisor => "supervisor",
            Self::CatalogueAdmin => "catalogue_admin",
            Self::SystemAdmin => "system_admin",
            Self::AuditAdmin => "audit_admin",
            Self::Maintenance => "maintenance",
        }
    }

    /// Parses a machine code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == code)
    }

    /// The role's name in Chinese.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Self::WindowClerk => "窗口受理",
            Self::Reviewer => "审查",
            Self::Approver => "审批",
            Self::Supervisor => "督查",
            Self::CatalogueAdmin => "事项管理",
            Self::SystemAdmin => "系统管理",
            Self::AuditAdmin => "审计管理",
            Self::Maintenance => "运维",
        }
    }

    /// The role's name in English.
    #[must_use]
    pub const fn en(self) -> &'static str {
        match self {
            Self::WindowClerk => "Window clerk",
            Self::Reviewer => "Reviewer",
            Self::Approver => "Approver",
            Self::Supervisor => "Supervisor",
            Self::CatalogueAdmin => "Catalogue administrator",
            Self::SystemAdmin => "System administrator",
            Self::AuditAdmin => "Audit administrator",
            Self::Maintenance => "Maintenance",
        }
    }
}

/// How a matter's cases flow between departments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowKind {
    /// 一般审批: one department from acceptance to conclusion.
    #[default]
    General,
    /// 并联审批: the lead department accepts, co-departments work sub-cases,
    /// the lead concludes when all are done.
    Parallel,
    /// 联动审批: a street office accepts (or an agent submits) and reports
    /// up; a district department decides; the result flows back.
    Linked,
}

/// One step of a workflow (办理环节).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StepDef {
    /// Machine key, e.g. `accept`, `review`, `decide`.
    pub key: String,
    /// Step name in Chinese, e.g. 受理, 审查, 决定.
    pub name: String,
    /// The role that acts on this step.
    pub role: Role,
    /// The department that acts on it; none: the department that accepted
    /// the case. Linked flows name the deciding district department here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Time limit of the step in working days.
    pub days: u32,
}

/// A co-department of a parallel matter and its sub-case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CoDepartment {
    /// The department.
    pub department: String,
    /// What it decides, e.g. 食品经营许可.
    pub name: String,
    /// Time limit of its sub-case in working days.
    pub days: u32,
    /// Names of the case's materials it needs.
    #[serde(default)]
    pub materials: Vec<String>,
    /// Fee items it charges (for the joint fee notice), e.g. `工本费 ￥0`.
    #[serde(default)]
    pub fee_items: Vec<String>,
}

/// The workflow of a matter (办理流程定义). Step 0 is always acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkflowDef {
    /// General, parallel or linked.
    #[serde(default)]
    pub kind: FlowKind,
    /// The steps in order; the first is acceptance, the last the decision.
    pub steps: Vec<StepDef>,
    /// Parallel flows: the co-departments and their sub-cases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub co_departments: Vec<CoDepartment>,
}

/// Kind of an application form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// Several lines of text.
    Textarea,
    /// A whole number.
    Number,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// A phone number.
    Phone,
    /// An identity card number (GB 11643 check character).
    IdNumber,
    /// A unified social credit code (GB 32100 check character).
    Uscc,
    /// One of `choices`.
    Choice,
}

/// One field of a matter's application form (表单定义).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FormField {
    /// Machine key in the submitted form data, e.g. `reason`.
    pub key: String,
    /// Label in Chinese.
    pub label: String,
    /// Label in English.
    pub label_en: String,
    /// Kind of value.
    pub kind: FieldKind,
    /// Whether it must be filled in.
    pub required: bool,
    /// Longest text accepted, in characters (text kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u32>,
    /// The allowed values of a `choice` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// A frequently asked question of a guide (常见问题).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Faq {
    /// Question.
    pub q: String,
    /// Answer.
    pub a: String,
}

/// Fees of a matter (收费).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Fee {
    /// Whether anything is charged.
    pub charged: bool,
    /// Fee items with amounts, e.g. `居民身份证工本费 ￥20/证`.
    pub items: Vec<String>,
    /// Legal basis of the fee, or why nothing is charged.
    pub basis: String,
}

/// The full service guide of one matter (办事指南).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Matter {
    /// Implementation code of the matter (unique).
    pub code: String,
    /// Matter name in Chinese.
    pub name: String,
    /// Matter type, e.g. 行政许可, 行政确认, 行政给付, 公共服务.
    pub matter_type: String,
    /// Department that handles it (承办机构).
    pub department: String,
    /// Body that holds the power (实施主体).
    pub implementing_body: String,
    /// Theme (主题分类).
    pub theme: String,
    /// Who it serves.
    pub audience: Audience,
    /// Administrative level.
    pub service_level: ServiceLevel,
    /// Legal basis (设定依据).
    pub legal_basis: String,
    /// Conditions for acceptance (受理条件).
    pub conditions: Vec<String>,
    /// Materials to hand in (申请材料).
    pub materials: Vec<Material>,
    /// Process steps (办理流程).
    pub process: Vec<String>,
    /// Legal time limit in working days (法定时限).
    pub legal_days: u32,
    /// Promised time limit in working days (承诺时限; 0 = on the spot).
    pub promised_days: u32,
    /// 即办件 or 承诺件.
    pub case_type: CaseType,
    /// Fees.
    pub fee: Fee,
    /// Windows where it is handled.
    pub windows: String,
    /// Postal address of the place where it is handled.
    pub address: String,
    /// Opening hours.
    pub hours: String,
    /// Consultation phone.
    pub phone: String,
    /// Supervision (complaint) phone.
    pub supervision_phone: String,
    /// Online depth (网办深度), e.g. 全程网办, 一次办, 跑一次.
    pub online_depth: String,
    /// Whether the self-service kiosk offers it.
    pub kiosk_available: bool,
    /// Name of the result (结果名称), e.g. the certificate issued.
    pub result_name: String,
    /// Guide version; every published change increments it.
    pub version: u32,
    /// Whether the result can be sent by post (是否支持物流).
    #[serde(default)]
    pub logistics: bool,
    /// The application form.
    #[serde(default)]
    pub form: Vec<FormField>,
    /// The workflow; a default three-step one when absent.
    #[serde(default = "WorkflowDef::standard")]
    pub workflow: WorkflowDef,
    /// Other names residents search by (俗称), e.g. 低保 for 最低生活保障.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Frequently asked questions.
    #[serde(default)]
    pub faq: Vec<Faq>,
    /// Whether the kiosk asks for a fingerprint compared with the ID card's
    /// own features (人证核验) before applying. A non-biometric way is always
    /// offered beside it.
    #[serde(default)]
    pub kiosk_fingerprint: bool,
}

impl WorkflowDef {
    /// 受理 (window clerk, 1 day) → 审查 (reviewer) → 决定 (approver, 1 day).
    #[must_use]
    pub fn standard() -> Self {
        let step = |key: &str, name: &str, role, days| StepDef {
            key: key.to_owned(),
            name: name.to_owned(),
            role,
            department: None,
            days,
        };
        Self {
            kind: FlowKind::General,
            steps: vec![
                step("accept", "受理", Role::WindowClerk, 1),
                step("review", "审查", Role::Reviewer, 3),
                step("decide", "决定", Role::Approver, 1),
            ],
            co_departments: Vec::new(),
        }
    }
}

/// Body of `POST /api/v1/kiosks/enrol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrolRequest {
    /// One-time enrolment code handed to the installer.
    pub enrolment_code: String,
    /// Human name of the kiosk, e.g. `卫东区政务服务中心大厅1号机`.
    pub kiosk_name: String,
    /// Where it stands.
    pub location: String,
}

/// Reply of `POST /api/v1/kiosks/enrol`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EnrolResponse {
    /// Identifier the backend assigned to the kiosk.
    pub kiosk_id: String,
    /// Bearer token for every later kiosk call (64 hex characters); shown only once.
    pub token: String,
}

/// Kind of a kiosk device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// Second-generation ID card reader.
    IdCardReader,
    /// Fingerprint scanner.
    FingerprintScanner,
    /// Barcode and QR code scanner.
    BarcodeScanner,
    /// Face camera.
    Camera,
    /// Document camera (高拍仪).
    DocumentCamera,
    /// Thermal receipt printer.
    ReceiptPrinter,
    /// A4 document printer.
    DocumentPrinter,
    /// Social security / bank card reader.
    CardReader,
    /// Encrypting PIN pad.
    PinPad,
}

impl DeviceKind {
    /// The wire name, e.g. `id_card_reader`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::IdCardReader => "id_card_reader",
            Self::FingerprintScanner => "fingerprint_scanner",
            Self::BarcodeScanner => "barcode_scanner",
            Self::Camera => "camera",
            Self::DocumentCamera => "document_camera",
            Self::ReceiptPrinter => "receipt_printer",
            Self::DocumentPrinter => "document_printer",
            Self::CardReader => "card_reader",
            Self::PinPad => "pin_pad",
        }
    }
}

/// Health state of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Working.
    Ok,
    /// Working with a warning (e.g. paper low).
    Degraded,
    /// Not working (e.g. paper out, cover open).
    Fault,
    /// Not reachable (unplugged, powered off).
    Offline,
}

impl DeviceState {
    /// The wire name, e.g. `degraded`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Degraded => "degraded",
            Self::Fault => "fault",
            Self::Offline => "offline",
        }
    }
}

/// Health of one kiosk device (模块部件运行状态).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeviceHealth {
    /// Device name in the kiosk config, e.g. `idcard`.
    pub device: String,
    /// Device kind.
    pub kind: DeviceKind,
    /// Health state.
    pub state: DeviceState,
    /// Driver fault code, when there is one.
    pub fault_code: Option<String>,
    /// State in words, Chinese.
    pub text_zh: String,
    /// State in words, English.
    pub text_en: String,
    /// Counters such as prints made or cards read.
    pub counters: BTreeMap<String, u64>,
    /// Time of the last self test (RFC 3339), if any.
    pub last_self_test: Option<String>,
}

/// Body of `POST /api/v1/kiosks/heartbeat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Heartbeat {
    /// Kiosk software version.
    pub software_version: String,
    /// Kiosk's clock when it sent this (RFC 3339).
    pub sent_at: String,
    /// Health of every configured device.
    pub devices: Vec<DeviceHealth>,
}

/// Reply of `POST /api/v1/kiosks/heartbeat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeartbeatAck {
    /// Backend's clock (RFC 3339), so the kiosk can measure its skew.
    pub server_time: String,
}

/// Type of an identity document (证件类型, GB/T 2261 style codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum IdType {
    /// `111`: resident identity card of the PRC (居民身份证).
    #[serde(rename = "111")]
    ResidentId,
    /// `414`: foreign permanent resident ID card (外国人永久居留身份证).
    #[serde(rename = "414")]
    ForeignPermanentResident,
    /// `516`: residence permit for Hong Kong, Macao and Taiwan residents (港澳台居民居住证).
    #[serde(rename = "516")]
    HkMoTwResidencePermit,
}

impl IdType {
    /// The wire code, e.g. `111`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ResidentId => "111",
            Self::ForeignPermanentResident => "414",
            Self::HkMoTwResidencePermit => "516",
        }
    }
}

/// The person applying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Applicant {
    /// Name as on the identity document.
    pub name: String,
    /// Identity document type.
    pub id_type: IdType,
    /// Identity document number.
    pub id_number: String,
    /// Contact phone, if given.
    pub phone: Option<String>,
    /// Address, if given.
    pub address: Option<String>,
}

/// Body of `POST /api/v1/cases`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseSubmission {
    /// Key chosen by the kiosk (UUIDv7 or kiosk id + sequence); a replay with
    /// the same key returns the original case.
    pub idempotency_key: String,
    /// Matter code from the catalogue.
    pub matter_code: String,
    /// The applicant.
    pub applicant: Applicant,
    /// Matter-specific form fields.
    #[schema(value_type = Object)]
    pub form: serde_json::Map<String, serde_json::Value>,
    /// The agent (代办员) submitting on the applicant's behalf, identified
    /// by their own ID card at the kiosk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Applicant>,
    /// The materials captured at the kiosk.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<MaterialUpload>,
    /// How the applicant (or agent) proved who they are at the kiosk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityCheck>,
}

/// One material captured at the kiosk: the pages of a document from the
/// document camera, as one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MaterialUpload {
    /// The material's name as the guide lists it (申请材料名称).
    pub name: String,
    /// File name, e.g. `户口簿.pdf`.
    pub file_name: String,
    /// `image/jpeg`, `image/png` or `application/pdf`.
    pub mime: String,
    /// Pages captured.
    pub pages: u32,
    /// The file, base64 (standard alphabet, padded).
    pub data_base64: String,
}

/// How a person proved who they are at the kiosk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdentityMethod {
    /// The ID card was read (chip signature checked by the reader's SAM).
    IdCard,
    /// The ID card, and a fingerprint matched 1:1 with the card's own
    /// features (人证核验).
    IdCardFingerprint,
}

/// The identity check made at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IdentityCheck {
    /// What was done.
    pub method: IdentityMethod,
    /// Match score of the fingerprint, when one was compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint_score: Option<u32>,
    /// The matter asked for a fingerprint and the person chose the
    /// non-biometric way instead (a clerk checks the ID at acceptance).
    #[serde(default)]
    pub biometric_declined: bool,
}

/// Status of a case (办件状态).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// 已提交.
    Submitted,
    /// 预审中: a window clerk is checking the submission before accepting it.
    PreReview,
    /// 已补正，待受理: the applicant supplied the missing materials.
    Resubmitted,
    /// 已受理.
    Accepted,
    /// 不予受理.
    NotAccepted,
    /// 待补正.
    CorrectionRequested,
    /// 审查中.
    InReview,
    /// 特别程序 (the deadline clock stops).
    Suspended,
    /// 已退回.
    Returned,
    /// 办结（准予）.
    Approved,
    /// 办结（不予许可）.
    Denied,
    /// 已作废.
    Voided,
    /// 已撤回.
    Withdrawn,
}

impl CaseStatus {
    /// Every status, in workflow order.
    pub const ALL: [Self; 13] = [
        Self::Submitted,
        Self::PreReview,
        Self::Resubmitted,
        Self::Accepted,
        Self::NotAccepted,
        Self::CorrectionRequested,
        Self::InReview,
        Self::Suspended,
        Self::Returned,
        Self::Approved,
        Self::Denied,
        Self::Voided,
        Self::Withdrawn,
    ];

    /// The machine code on the wire, e.g. `in_review`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::PreReview => "pre_review",
            Self::Resubmitted => "resubmitted",
            Self::Accepted => "accepted",
            Self::NotAccepted => "not_accepted",
            Self::CorrectionRequested => "correction_requested",
            Self::InReview => "in_review",
            Self::Suspended => "suspended",
            Self::Returned => "returned",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Voided => "voided",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// Parses a machine code; `None` for an unknown one.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == code)
    }

    /// The status as a resident reads it, in Chinese.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Self::Submitted => "已提交",
            Self::PreReview => "预审中",
            Self::Resubmitted => "已补正，待受理",
            Self::Accepted => "已受理",
            Self::NotAccepted => "不予受理",
            Self::CorrectionRequested => "待补正",
            Self::InReview => "审查中",
            Self::Suspended => "特别程序",
            Self::Returned => "已退回",
            Self::Approved => "办结（准予）",
            Self::Denied => "办结（不予许可）",
            Self::Voided => "已作废",
            Self::Withdrawn => "已撤回",
        }
    }

    /// The status in English.
    #[must_use]
    pub const fn en(self) -> &'static str {
        match self {
            Self::Submitted => "Submitted",
            Self::PreReview => "Pre-review",
            Self::Resubmitted => "Corrected, awaiting acceptance",
            Self::Accepted => "Accepted",
            Self::NotAccepted => "Not accepted",
            Self::CorrectionRequested => "Correction requested",
            Self::InReview => "In review",
            Self::Suspended => "Suspended (special procedure)",
            Self::Returned => "Returned",
            Self::Approved => "Concluded: approved",
            Self::Denied => "Concluded: denied",
            Self::Voided => "Voided",
            Self::Withdrawn => "Withdrawn",
        }
    }
}

/// Reply of `POST /api/v1/cases` (201 the first time, 200 with the same body on replay).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseCreated {
    /// Unified case number, `{district 6}{yyyyMMdd}{sequence 6}`.
    pub case_number: String,
    /// Status when the case was created (`submitted`).
    pub status: CaseStatus,
    /// Submission time (RFC 3339, China Standard Time).
    pub submitted_at: String,
    /// Promised conclusion date (YYYY-MM-DD), counted in working days.
    pub deadline: String,
    /// Random code printed in the receipt's QR code (with the case number):
    /// shown to a kiosk's scanner or opened on a phone, it opens the case's
    /// progress without the ID number.
    #[serde(default)]
    pub track_code: String,
}

/// A notice on the kiosk's idle screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Bulletin {
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Publication time (RFC 3339, China Standard Time).
    pub published_at: String,
}

/// Reply of `GET /api/v1/kiosks/catalogue`: everything the kiosk's guide,
/// apply and idle screens show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KioskCatalogue {
    /// The strong entity tag of this content, quoted exactly as the `ETag`
    /// header carries it; send it back in `If-None-Match`.
    pub etag: String,
    /// When the catalogue or the notices last changed (RFC 3339, China
    /// Standard Time).
    pub generated_at: String,
    /// Public base URL of the portal: a receipt's QR carries
    /// `{public_url}/track?case=N&code=C`.
    pub public_url: String,
    /// Every published matter's full guide, in catalogue order.
    pub matters: Vec<Matter>,
    /// Notices in force, newest first.
    #[serde(default)]
    pub notices: Vec<Bulletin>,
}

/// Body of `POST /api/v1/kiosks/alerts`: something a person at the kiosk
/// or the kiosk itself wants staff to know now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KioskAlert {
    /// What happened.
    pub kind: AlertKind,
    /// The screen the kiosk showed (e.g. `apply/materials`), no personal data.
    pub screen: String,
    /// Free text without personal data (device, error code, …).
    #[serde(default)]
    pub detail: String,
}

/// Kinds of kiosk alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// 呼叫工作人员: a resident touched "call staff".
    CallStaff,
    /// Maintenance mode was entered (PIN or card).
    MaintenanceEntry,
    /// A receipt or document did not print (paper out, cover open, …).
    PrintFailed,
}

/// Reply of `POST /api/v1/kiosks/alerts` (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AlertAck {
    /// Alert id on the backend.
    pub id: i64,
    /// When the backend recorded it (RFC 3339, China Standard Time).
    pub at: String,
}

/// Body of `POST /api/v1/cases/correction` (kiosk): the missing materials
/// of a case in 待补正, supplied at the kiosk by the applicant, who laid
/// their ID card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KioskCorrection {
    /// Key chosen by the kiosk; a replay returns the same reply.
    pub idempotency_key: String,
    /// Unified case number.
    pub case_number: String,
    /// The applicant's identity number, read from the card; must match the case.
    pub id_number: String,
    /// The materials supplied.
    pub materials: Vec<MaterialUpload>,
    /// Note to the clerk (optional).
    #[serde(default)]
    pub note: String,
}

/// Body of `POST /api/v1/cases/lookup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseLookup {
    /// Identity document number of the applicant.
    pub id_number: String,
}

/// One case as a resident sees it when tracking progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseSummary {
    /// Unified case number.
    pub case_number: String,
    /// Matter code.
    pub matter_code: String,
    /// Matter name.
    pub matter_name: String,
    /// Department handling the case.
    pub department: String,
    /// Status machine code.
    pub status: CaseStatus,
    /// Status in Chinese.
    pub status_zh: String,
    /// Status in English.
    pub status_en: String,
    /// Submission time (RFC 3339).
    pub submitted_at: String,
    /// Promised conclusion date (YYYY-MM-DD), or null when none applies.
    pub deadline: Option<String>,
    /// Channel the case came in by: `kiosk`, `window` or `web`.
    pub channel: String,
}

/// Reply of `POST /api/v1/cases/lookup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseList {
    /// The applicant's cases, newest first.
    pub items: Vec<CaseSummary>,
}

/// Body of `POST /api/v1/cases/progress`: a case number and the last six
/// characters of the applicant's identity number (as printed on receipts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseProgressQuery {
    /// Unified case number.
    pub case_number: String,
    /// Last six characters of the applicant's identity number (empty when
    /// `track_code` is given).
    #[serde(default)]
    pub id_last6: String,
    /// The receipt QR's track code, instead of `id_last6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_code: Option<String>,
}

/// One step of a case's progress, as a resident reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProgressStep {
    /// Step name, e.g. 受理.
    pub step_name: String,
    /// Status reached.
    pub status: CaseStatus,
    /// Status in Chinese.
    pub status_zh: String,
    /// Department that acted.
    pub department: String,
    /// Opinion.
    pub opinion: String,
    /// When, `YYYY-MM-DD HH:MM`.
    pub at: String,
}

/// Reply of `POST /api/v1/cases/progress`: the case, its steps and what a
/// correction notice asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseProgress {
    /// The case.
    pub case: CaseSummary,
    /// Steps, oldest first.
    pub steps: Vec<ProgressStep>,
    /// Working days left until the promised date (negative: overdue).
    pub remaining_days: Option<i64>,
    /// `normal`, `yellow`, `red`, `stopped`, `done`, or `none` before acceptance.
    pub warning: String,
    /// Materials an open correction notice asks for (empty when none).
    pub correction_items: Vec<String>,
    /// The clerk's note on the open correction notice.
    pub correction_note: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn enums_use_the_wire_names_of_the_api_document() {
        assert_eq!(
            serde_json::to_string(&Audience::Person).unwrap(),
            "\"个人\""
        );
        assert_eq!(
            serde_json::to_string(&IdType::ResidentId).unwrap(),
            "\"111\""
        );
        assert_eq!(
            serde_json::to_string(&DeviceKind::IdCardReader).unwrap(),
            "\"id_card_reader\""
        );
        for s in CaseStatus::ALL {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(CaseStatus::from_code(s.as_str()), Some(s));
        }
        assert_eq!(CaseStatus::CorrectionRequested.zh(), "待补正");
    }
}
