//! The OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! attributes and the `proto` schemas. `docs/openapi.json` is a committed
//! copy, checked fresh by a test.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{admin_api, auth_api, case_api, kiosk_api, public_api};

/// Adds the kiosk bearer-token scheme.
struct KioskTokenScheme;

impl Modify for KioskTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "Kiosk token from `POST /api/v1/kiosks/enrol` (64 hex characters); \
             the backend stores only its SM3 hash."
                .to_owned(),
        );
        components.add_security_scheme("kiosk_token", SecurityScheme::Http(http));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Header(
                utoipa::openapi::security::ApiKeyValue::with_description(
                    "X-Session-Token",
                    "Session token from a login (staff: password then TOTP). Browsers use the \
                     HttpOnly cookie `wd_session` instead and must then send `X-CSRF-Token` \
                     with every state-changing request.",
                ),
            )),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "卫东区政务服务自助终端 API (Weidong District self-service kiosk API)",
        version = "1.0.0",
        description = "Kiosk ↔ backend API v1: catalogue, kiosk enrolment and heartbeat, \
                       case submission and lookup; portal and staff logins; online applications, \
                       the case engine's actions, inboxes and the case event feed. Errors are `ApiErrorBody` with a stable `code`.",
        license(name = "GPL-3.0-or-later", identifier = "GPL-3.0-or-later")
    ),
    paths(
        public_api::health,
        public_api::list_matters,
        public_api::get_matter,
        public_api::openapi_json,
        kiosk_api::enrol,
        kiosk_api::heartbeat,
        kiosk_api::submit_case,
        kiosk_api::lookup_cases,
        kiosk_api::case_progress,
        kiosk_api::catalogue,
        kiosk_api::raise_alert,
        kiosk_api::kiosk_correction,
        auth_api::staff_password,
        auth_api::staff_totp,
        auth_api::account_login,
        auth_api::logout,
        auth_api::me,
        auth_api::register,
        auth_api::bind_real_name,
        case_api::apply_online,
        case_api::my_cases,
        case_api::case_view,
        case_api::case_action,
        case_api::correction,
        case_api::material,
        case_api::inbox,
        case_api::feed,
        case_api::window_apply,
        case_api::list_drafts,
        case_api::save_draft,
        admin_api::register_change,
        admin_api::pending_reviews,
        admin_api::versions,
        admin_api::review,
        admin_api::import,
        admin_api::list_staff,
        admin_api::create_staff,
        admin_api::set_active,
        admin_api::import_holidays,
        admin_api::audit,
    ),
    components(schemas(
        proto::ApiErrorBody,
        proto::Health,
        proto::Audience,
        proto::ServiceLevel,
        proto::CaseType,
        proto::MaterialForm,
        proto::MatterSummary,
        proto::MatterList,
        proto::Material,
        proto::Fee,
        proto::Matter,
        proto::EnrolRequest,
        proto::EnrolResponse,
        proto::DeviceKind,
        proto::DeviceState,
        proto::DeviceHealth,
        proto::Heartbeat,
        proto::HeartbeatAck,
        proto::IdType,
        proto::Applicant,
        proto::CaseSubmission,
        proto::CaseStatus,
        proto::CaseCreated,
        proto::CaseLookup,
        proto::CaseSummary,
        proto::CaseList,
        proto::CaseProgressQuery,
        proto::ProgressStep,
        proto::CaseProgress,
        proto::MaterialUpload,
        proto::IdentityMethod,
        proto::IdentityCheck,
        proto::KioskAlert,
        proto::AlertKind,
        proto::AlertAck,
        proto::KioskCorrection,
        kiosk_api::KioskCatalogue,
        kiosk_api::Bulletin,
        proto::Role,
        proto::FlowKind,
        proto::StepDef,
        proto::CoDepartment,
        proto::WorkflowDef,
        proto::FieldKind,
        proto::FormField,
        proto::Faq,
        auth_api::StaffPassword,
        auth_api::PendingToken,
        auth_api::StaffTotp,
        auth_api::SessionInfo,
        auth_api::Me,
        auth_api::AccountLogin,
        auth_api::NewAccount,
        auth_api::AccountCreated,
        auth_api::RealName,
        case_api::WebMaterialUpload,
        case_api::Application,
        case_api::CaseLines,
        case_api::Correction,
        case_api::FeedEvent,
        case_api::FeedPage,
        case_api::WindowApplicationBody,
        case_api::DraftList,
        case_api::DraftBody,
        case_api::DraftSaved,
        crate::service::window::EntityParty,
        crate::service::window::AgentParty,
        crate::service::window::DraftLine,
        crate::service::apply::EcertRef,
        crate::service::apply::Applied,
        crate::service::workflow::ActionRequest,
        crate::service::workflow::ActionOutcome,
        crate::service::workflow::CaseLine,
        crate::service::workflow::CaseView,
        crate::service::workflow::TimelineStep,
        crate::service::workflow::MaterialLine,
        crate::service::workflow::CorrectionNotice,
        crate::service::workflow::AllowedAction,
        crate::service::workflow::FeeLine,
        crate::service::catalogue_admin::ChangeRequest,
        crate::service::catalogue_admin::VersionLine,
        crate::service::catalogue_admin::ReviewLine,
        crate::service::catalogue_admin::ReviewDecision,
        crate::service::catalogue_admin::LibraryFile,
        crate::service::catalogue_admin::ImportReport,
        crate::service::staff_admin::NewStaffRequest,
        crate::service::staff_admin::StaffCreated,
        crate::service::staff_admin::StaffLine,
        admin_api::VersionList,
        admin_api::StaffList,
        admin_api::ActiveFlag,
        admin_api::HolidayFile,
        admin_api::HolidaysLoaded,
        admin_api::AuditLine,
        admin_api::AuditPage,
    )),
    modifiers(&KioskTokenScheme),
    tags(
        (name = "public", description = "No authentication: health and the matter catalogue"),
        (name = "kiosk", description = "Kiosk enrolment and kiosk-authenticated calls"),
        (name = "auth", description = "Staff and portal logins, sessions, accounts"),
        (name = "cases", description = "Applying online, tracking, acting on cases"),
        (name = "clerk", description = "The clerk workbench's inboxes"),
        (name = "feed", description = "Outbound case events for the city platform"),
        (name = "admin", description = "Catalogue review chain and import, staff, holidays, audit log"),
    )
)]
struct ApiDoc;

/// The OpenAPI document.
#[must_use]
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as the committed `docs/openapi.json` holds it: pretty JSON
/// with a final newline.
///
/// # Errors
/// When serialisation fails.
pub fn document_pretty() -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(&document())?;
    s.push('\n');
    Ok(s)
}
