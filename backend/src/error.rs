//! The one error type of the HTTP API and the one place that maps errors to
//! HTTP. A client gets a stable machine code and a short message in Chinese
//! and English; the internal detail goes to the log only.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use proto::ApiErrorBody;

use crate::store::StoreError;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: bad JSON, a missing field, a bad query.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A field is well-formed JSON but not an acceptable value.
    #[error("invalid field {field}: {reason_en}")]
    InvalidField {
        /// The field, e.g. `applicant.id_number`.
        field: &'static str,
        /// Why, in Chinese.
        reason_zh: &'static str,
        /// Why, in English.
        reason_en: &'static str,
    },
    /// No valid kiosk bearer token.
    #[error("unauthenticated")]
    Unauthenticated,
    /// The enrolment code is unknown or already used.
    #[error("enrolment code invalid")]
    EnrolmentCodeInvalid,
    /// `GET /matters/{code}` for a code not in the catalogue.
    #[error("matter not found")]
    MatterNotFound,
    /// A submission names a matter not in the catalogue.
    #[error("submission names an unknown matter")]
    UnknownMatterInSubmission,
    /// A submission names a matter the kiosk does not offer.
    #[error("matter not offered at kiosks")]
    MatterNotAtKiosk,
    /// The idempotency key was used before for a different submission.
    #[error("idempotency key reused for a different submission")]
    IdempotencyKeyReused,
    /// No such route or object.
    #[error("not found")]
    NotFound,
    /// The body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body is not declared as JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// No session, or it expired: log in.
    #[error("not logged in")]
    NotLoggedIn,
    /// A login failed (wrong name, password or code, or a locked account:
    /// one answer for all, so accounts cannot be enumerated).
    #[error("login failed")]
    LoginFailed,
    /// Logged in, but the role or department does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// A state-changing form or request lacks the session's CSRF token.
    #[error("csrf token missing or wrong")]
    CsrfRejected,
    /// The password is too weak.
    #[error("weak password: {en}")]
    WeakPassword {
        /// Why, in Chinese.
        zh: String,
        /// Why, in English.
        en: String,
    },
    /// The phone, identity number or USCC is already registered.
    #[error("account exists")]
    AccountExists,
    /// The case engine refused an action in the case's current state.
    #[error("case action refused: {code}")]
    CaseRefused {
        /// Machine code, e.g. `CASE_WRONG_STATE`.
        code: &'static str,
        /// Why, in Chinese.
        zh: &'static str,
        /// Why, in English.
        en: &'static str,
    },
    /// A form field does not fit the matter's form definition.
    #[error("form field {key}: {en}")]
    FormField {
        /// The field's key.
        key: String,
        /// Why, in Chinese.
        zh: String,
        /// Why, in English.
        en: String,
    },
    /// A required material was not handed in.
    #[error("material missing: {name}")]
    MaterialMissing {
        /// The material's name.
        name: String,
    },
    /// A person must bind their real name before applying online.
    #[error("real name required")]
    RealNameRequired,
    /// A holiday file does not parse or validate.
    #[error("holiday file: {en}")]
    HolidayFile {
        /// Why, in Chinese (with the line).
        zh: String,
        /// Why, in English.
        en: String,
    },
    /// Too many requests in a short time (kiosk alerts), or too many wrong
    /// answers for one case number (the public track page).
    #[error("rate limited")]
    RateLimited,
    /// The matter asks for 人证核验 at the kiosk and the identity check
    /// sent is the ID card alone, without the person declining biometrics.
    #[error("fingerprint check required")]
    FingerprintRequired,
    /// The database does not answer.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the detail is logged, never returned.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl ApiError {
    /// The stable machine code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::InvalidField { .. } => "INVALID_FIELD",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::EnrolmentCodeInvalid => "ENROLMENT_CODE_INVALID",
            Self::MatterNotFound | Self::UnknownMatterInSubmission => "MATTER_NOT_FOUND",
            Self::MatterNotAtKiosk => "MATTER_NOT_AT_KIOSK",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::NotFound => "NOT_FOUND",
            Self::LoginFailed => "LOGIN_FAILED",
            Self::HolidayFile { .. } => "HOLIDAY_FILE_INVALID",
            Self::NotLoggedIn => "NOT_LOGGED_IN",
            Self::FormField { .. } => "FORM_FIELD",
            Self::MaterialMissing { .. } => "MATERIAL_MISSING",
            Self::RealNameRequired => "REAL_NAME_REQUIRED",
            Self::Forbidden => "FORBIDDEN",
            Self::CsrfRejected => "CSRF_REJECTED",
            Self::WeakPassword { .. } => "WEAK_PASSWORD",
            Self::AccountExists => "ACCOUNT_EXISTS",
            Self::CaseRefused { code, .. } => code,
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::RateLimited => "RATE_LIMITED",
            Self::FingerprintRequired => "FINGERPRINT_REQUIRED",
            Self::Unavailable(_) => "SERVICE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status.
    #[must_use]
    pub const fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::InvalidField { .. }
            | Self::UnknownMatterInSubmission
            | Self::MatterNotAtKiosk => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::EnrolmentCodeInvalid => StatusCode::FORBIDDEN,
            Self::MatterNotFound | Self::NotFound => StatusCode::NOT_FOUND,
            Self::LoginFailed | Self::NotLoggedIn => StatusCode::UNAUTHORIZED,
            Self::FormField { .. } | Self::MaterialMissing { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::RealNameRequired => StatusCode::FORBIDDEN,
            Self::Forbidden | Self::CsrfRejected => StatusCode::FORBIDDEN,
            Self::WeakPassword { .. } | Self::HolidayFile { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::AccountExists | Self::CaseRefused { .. } => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::FingerprintRequired => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a person reads, Chinese then English.
    #[must_use]
    pub fn messages(&self) -> (String, String) {
        let (zh, en): (&str, &str) = match self {
            Self::BadRequest(detail) => {
                return (
                    "请求格式不正确".to_owned(),
                    format!("Malformed request: {detail}"),
                );
            }
            Self::InvalidField {
                field,
                reason_zh,
                reason_en,
            } => {
                return (
                    format!("字段 {field} 不正确：{reason_zh}"),
                    format!("Invalid field {field}: {reason_en}"),
                );
            }
            Self::Unauthenticated => (
                "终端未认证，请重新注册终端",
                "Kiosk not authenticated: a valid bearer token is required",
            ),
            Self::EnrolmentCodeInvalid => (
                "注册码无效或已被使用",
                "The enrolment code is unknown or has already been used",
            ),
            Self::MatterNotFound | Self::UnknownMatterInSubmission => {
                ("未找到该事项", "No such matter in the catalogue")
            }
            Self::MatterNotAtKiosk => (
                "该事项暂不支持自助终端办理，请到窗口办理",
                "This matter is not offered at self-service kiosks; please apply at a window",
            ),
            Self::IdempotencyKeyReused => (
                "提交编号已被另一份申请使用",
                "The idempotency key was already used for a different submission",
            ),
            Self::NotFound => ("未找到", "Not found"),
            Self::LoginFailed => (
                "用户名、密码或动态口令不正确；连续失败5次将锁定15分钟",
                "Wrong user name, password or code; 5 failures in a row lock the account for 15 minutes",
            ),
            Self::Forbidden => ("无权进行此操作", "You are not allowed to do this"),
            Self::NotLoggedIn => (
                "请先登录，或登录已超时",
                "Please log in (or your session has expired)",
            ),
            Self::FormField { key, zh, en } => {
                return (
                    format!("表单项 {key}：{zh}"),
                    format!("Form field {key}: {en}"),
                );
            }
            Self::MaterialMissing { name } => {
                return (
                    format!("缺少材料：{name}"),
                    format!("Missing material: {name}"),
                );
            }
            Self::HolidayFile { zh, en } => {
                return (
                    format!("节假日文件有误：{zh}"),
                    format!("Holiday file invalid: {en}"),
                );
            }
            Self::RealNameRequired => (
                "请先完成实名认证（绑定姓名和身份证号码）",
                "Please bind your real name and ID number first",
            ),
            Self::CsrfRejected => (
                "页面已过期，请刷新后重试",
                "The page has expired; reload it and try again",
            ),
            Self::WeakPassword { zh, en } => {
                return (
                    format!("密码强度不足：{zh}"),
                    format!("Weak password: {en}"),
                );
            }
            Self::AccountExists => (
                "该手机号、证件号码或信用代码已注册",
                "This phone, ID number or credit code is already registered",
            ),
            Self::CaseRefused { zh, en, .. } => (*zh, *en),
            Self::PayloadTooLarge => ("提交内容过大", "Request body too large"),
            Self::UnsupportedMediaType => (
                "请求内容类型应为 application/json",
                "Content-Type must be application/json",
            ),
            Self::RateLimited => (
                "操作过于频繁，请稍后再试",
                "Too many requests; please try again later",
            ),
            Self::FingerprintRequired => (
                "该事项须进行人证核验：请按指纹，或选择不使用指纹（由窗口工作人员核验身份）",
                "This matter needs the fingerprint check against the ID card, or the choice \
                 not to use it (a clerk then checks the ID)",
            ),
            Self::Unavailable(_) => (
                "服务暂时不可用，请稍后再试",
                "Service temporarily unavailable; please try again later",
            ),
            Self::Internal(_) => (
                "系统内部错误，请稍后再试",
                "Internal error; please try again later",
            ),
        };
        (zh.to_owned(), en.to_owned())
    }

    /// The body sent to the client.
    #[must_use]
    pub fn body(&self) -> ApiErrorBody {
        let (message_zh, message_en) = self.messages();
        ApiErrorBody {
            code: self.code().to_owned(),
            message_zh,
            message_en,
        }
    }

    /// Logs the error at a level that fits it: internals as errors with
    /// their detail, client mistakes as debug.
    pub fn log(&self) {
        match self {
            Self::Internal(detail) => {
                tracing::error!(code = self.code(), detail = %detail, "request failed");
            }
            Self::Unavailable(detail) => {
                tracing::warn!(code = self.code(), detail = %detail, "request failed");
            }
            // The detail of a client error may echo what was sent (a serde
            // message can quote a value, an ID number included): log the
            // code only.
            other => tracing::debug!(code = other.code(), "request refused"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let mut resp = (self.status(), Json(self.body())).into_response();
        if matches!(self, Self::Unauthenticated) {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(self, Self::RateLimited) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        resp
    }
}
