//! A4 printers through IPP (RFC 8010 encoding, RFC 8011 model), with the
//! `ipp` crate's blocking client (ureq over plain HTTP).
//!
//! Operations: Print-Job (`document-format` `application/pdf`),
//! Get-Job-Attributes (`job-state`, `job-state-reasons`), Cancel-Job and
//! Get-Printer-Attributes (`printer-state`, `printer-state-reasons`,
//! `printer-is-accepting-jobs`, `marker-names` / `marker-levels` /
//! `marker-types`, `queued-job-count`, `printer-state-message`).
//!
//! Every request gets the time left to its deadline as ureq's global
//! timeout (connect, send and receive together), so no call blocks past
//! its deadline.
//!
//! Health from the printer's reasons ([`health_of`]), worst first:
//!
//! | reasons / state | health | code |
//! | --- | --- | --- |
//! | unreachable (refused, reset, no route) | Offline | `DISCONNECTED` |
//! | `offline-report`, `shutdown` | Offline | `OFFLINE` |
//! | `media-empty`, `media-needed` | Fault | `PAPER_OUT` (缺纸) |
//! | `media-jam` | Fault | `MEDIA_JAM` |
//! | `toner-empty`, `marker-supply-empty` | Fault | `TONER_EMPTY` |
//! | `cover-open`, `door-open`, `interlock-open` | Fault | `COVER_OPEN` |
//! | not accepting jobs | Fault | `NOT_ACCEPTING` |
//! | `printer-state` stopped | Fault | `STOPPED` |
//! | any other `-error` reason | Fault | `DEVICE_FAULT` |
//! | `toner-low`, `marker-supply-low` | Degraded | `TONER_LOW` |
//! | `media-low` | Degraded | `PAPER_LOW` |
//!
//! [`IppPrinter::submit`] asks the printer's state first and refuses,
//! before a byte of the document is sent, a printer that is out of paper
//! (`PaperOut`), has its cover open (`CoverOpen`), toner empty, a jam, is
//! offline or does not accept jobs (`DeviceFault`). A printer that is only
//! stopped (paused) takes the job and holds it; [`DocumentPrinter::wait_job`]
//! then runs into its deadline.
//!
//! Selector: `ipp://HOST[:PORT]/printers/QUEUE` (CUPS) or
//! `ipp://HOST[:PORT]/ipp/print` (IPP Everywhere); port 631 unless given.
//! `ipps://` is refused with a configuration error: this build has no TLS
//! in its IPP client.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::{Duration, Instant, SystemTime};

use ipp::prelude::{
    IppAttribute, IppClient, IppError, IppOperationBuilder, IppPayload, IppRequestResponse,
    IppValue, StatusCode, Uri,
};

use hal::docprinter::{
    DocumentPrinter, DocumentPrinterStatus, JobState, JobStatus, PrintDocument, PrinterState,
    Supply,
};
use hal::{Device, DeviceError, DeviceEvent, DeviceKind, ErrorKind, Health, HealthState, Selector};

/// How long `open` may take to reach the printer.
const OPEN_TIMEOUT: Duration = Duration::from_secs(3);

/// How often the actor asks the printer's state while idle.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

/// `requesting-user-name` of every request (CUPS makes it the job owner;
/// only the owner may cancel).
pub const USER: &str = "kiosk";

/// The printer attributes the driver asks for.
const STATUS_ATTRIBUTES: [&str; 9] = [
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "queued-job-count",
    "marker-names",
    "marker-levels",
    "marker-types",
    "printer-name",
];

/// An IPP printer queue.
pub struct IppPrinter {
    uri: Uri,
    health: Health,
    last: Option<DocumentPrinterStatus>,
}

/// What a status means for the kiosk: state, code, Chinese, English.
pub type Verdict = (HealthState, Option<&'static str>, String, String);

fn any(s: &DocumentPrinterStatus, keywords: &[&str]) -> bool {
    keywords.iter().any(|k| s.has_reason(k))
}

/// Supplies that are low, as `name level%` for the health text.
fn low_supplies(s: &DocumentPrinterStatus) -> String {
    let parts: Vec<String> = s
        .supplies
        .iter()
        .filter(|x| x.level.is_some_and(|l| l <= 20))
        .map(|x| match x.level {
            Some(l) => format!("{} {l}%", x.name),
            None => x.name.clone(),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("（{}）", parts.join("，"))
    }
}

/// The health a printer status implies (table in the module docs).
pub fn health_of(s: &DocumentPrinterStatus) -> Verdict {
    let k = |kind: ErrorKind| {
        (
            HealthState::Fault,
            Some(kind.code()),
            kind.message_zh().to_string(),
            kind.message_en().to_string(),
        )
    };
    let t = |state, code, zh: &str, en: &str| (state, Some(code), zh.to_string(), en.to_string());
    if any(s, &["offline", "shutdown"]) {
        return t(
            HealthState::Offline,
            "OFFLINE",
            "A4打印机离线",
            "A4 printer offline",
        );
    }
    if any(s, &["media-empty", "media-needed"]) {
        return k(ErrorKind::PaperOut);
    }
    if any(s, &["media-jam"]) {
        return t(HealthState::Fault, "MEDIA_JAM", "打印机卡纸", "paper jam");
    }
    if any(s, &["toner-empty", "marker-supply-empty"]) {
        return t(
            HealthState::Fault,
            "TONER_EMPTY",
            &format!("墨粉已用尽，请更换硒鼓{}", low_supplies(s)),
            "toner empty",
        );
    }
    if any(s, &["cover-open", "door-open", "interlock-open"]) {
        return k(ErrorKind::CoverOpen);
    }
    if !s.accepting_jobs {
        return t(
            HealthState::Fault,
            "NOT_ACCEPTING",
            "A4打印机暂不接受打印作业",
            "A4 printer is not accepting jobs",
        );
    }
    if s.state == PrinterState::Stopped {
        return t(
            HealthState::Fault,
            "STOPPED",
            "A4打印机已暂停",
            "A4 printer stopped",
        );
    }
    if s.reasons.iter().any(|r| r.ends_with("-error")) {
        return k(ErrorKind::DeviceFault);
    }
    if any(s, &["toner-low", "marker-supply-low"]) {
        return t(
            HealthState::Degraded,
            "TONER_LOW",
            &format!("墨粉不足，请及时更换{}", low_supplies(s)),
            "toner low",
        );
    }
    if any(s, &["media-low"]) {
        return t(
            HealthState::Degraded,
            "PAPER_LOW",
            "打印纸将用尽，请及时补充",
            "paper is running low",
        );
    }
    (HealthState::Ok, None, "正常".into(), "OK".into())
}

/// Why a printer in this status must not be sent a job, if it must not.
pub fn refusal(s: &DocumentPrinterStatus) -> Option<ErrorKind> {
    if any(s, &["media-empty", "media-needed"]) {
        Some(ErrorKind::PaperOut)
    } else if any(s, &["cover-open", "door-open", "interlock-open"]) {
        Some(ErrorKind::CoverOpen)
    } else if any(
        s,
        &[
            "toner-empty",
            "marker-supply-empty",
            "media-jam",
            "offline",
            "shutdown",
        ],
    ) || !s.accepting_jobs
    {
        Some(ErrorKind::DeviceFault)
    } else {
        None
    }
}

fn ureq_error(e: &ureq::Error, what: &str) -> DeviceError {
    use ureq::Error as U;
    let kind = match e {
        U::Timeout(_) => ErrorKind::Timeout,
        U::HostNotFound => ErrorKind::NotFound,
        U::ConnectionFailed => ErrorKind::Disconnected,
        U::Io(io) => {
            DeviceError::from_io(std::io::Error::new(io.kind(), io.to_string()), what).kind()
        }
        U::StatusCode(401 | 403) => ErrorKind::PermissionDenied,
        U::StatusCode(404) => ErrorKind::NotFound,
        U::StatusCode(503) => ErrorKind::Busy,
        U::BadUri(_) => ErrorKind::Config,
        _ => ErrorKind::Protocol,
    };
    // An I/O error whose kind says nothing specific (EPIPE mid-body is
    // mapped above) is still a vanished peer, not a protocol breach.
    let kind = if kind == ErrorKind::Protocol && matches!(e, U::Io(_)) {
        ErrorKind::Disconnected
    } else {
        kind
    };
    DeviceError::new(kind, format!("{what}: {e}"))
}

fn ipp_error(e: IppError, what: &str) -> DeviceError {
    match e {
        IppError::ClientError(ref u) => ureq_error(u, what).with_source(e),
        IppError::IoError(io) => DeviceError::from_io(io, what),
        IppError::RequestError(code) => {
            let kind = match code {
                401 | 403 => ErrorKind::PermissionDenied,
                404 => ErrorKind::NotFound,
                _ => ErrorKind::Protocol,
            };
            DeviceError::new(kind, format!("{what}: HTTP {code}"))
        }
        IppError::StatusError(s) => status_error(s as u16, what),
        IppError::InvalidUri(_) | IppError::HttpError(_) => {
            DeviceError::new(ErrorKind::Config, format!("{what}: {e}")).with_source(e)
        }
        other => {
            DeviceError::new(ErrorKind::Protocol, format!("{what}: {other}")).with_source(other)
        }
    }
}

/// The kind for an IPP status code that is not a success.
pub fn status_error(code: u16, what: &str) -> DeviceError {
    let kind = match code {
        0x0401..=0x0403 => ErrorKind::PermissionDenied,
        0x0404 | 0x040A | 0x040B | 0x0501 | 0x0503 => ErrorKind::Unsupported,
        0x0405 => ErrorKind::Timeout,
        0x0406 | 0x0407 => ErrorKind::NotFound,
        0x0502 | 0x0507 => ErrorKind::Busy,
        0x0500 | 0x0506 | 0x0509 => ErrorKind::DeviceFault,
        _ => ErrorKind::Protocol,
    };
    DeviceError::new(
        kind,
        format!("{what}: IPP status 0x{code:04x} ({})", status_name(code)),
    )
    .with_device_code(u32::from(code))
}

fn status_name(code: u16) -> &'static str {
    match code {
        0x0400 => "client-error-bad-request",
        0x0401 => "client-error-forbidden",
        0x0402 => "client-error-not-authenticated",
        0x0403 => "client-error-not-authorized",
        0x0404 => "client-error-not-possible",
        0x0405 => "client-error-timeout",
        0x0406 => "client-error-not-found",
        0x0407 => "client-error-gone",
        0x040A => "client-error-document-format-not-supported",
        0x040B => "client-error-attributes-or-values-not-supported",
        0x0500 => "server-error-internal-error",
        0x0501 => "server-error-operation-not-supported",
        0x0502 => "server-error-service-unavailable",
        0x0503 => "server-error-version-not-supported",
        0x0506 => "server-error-not-accepting-jobs",
        0x0507 => "server-error-busy",
        0x0509 => "server-error-multiple-document-jobs-not-supported",
        _ => "unknown",
    }
}

fn remaining(deadline: Instant) -> Result<Duration, DeviceError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(DeviceError::timeout("deadline passed before the request"))
    } else {
        Ok(left)
    }
}

fn build_error(e: impl std::fmt::Display, what: &str) -> DeviceError {
    DeviceError::new(
        ErrorKind::Config,
        format!("{what}: request cannot be built: {e}"),
    )
}

/// Every attribute of the response, first value group wins, by name.
fn attributes(resp: &IppRequestResponse) -> BTreeMap<String, IppValue> {
    let mut map = BTreeMap::new();
    for group in resp.attributes().groups() {
        for attr in group.attributes() {
            map.entry(attr.name().to_string())
                .or_insert_with(|| attr.value().clone());
        }
    }
    map
}

fn integer(v: &IppValue) -> Option<i32> {
    match v {
        IppValue::Integer(i) | IppValue::Enum(i) => Some(*i),
        _ => None,
    }
}

fn strings(v: Option<&IppValue>) -> Vec<String> {
    let Some(v) = v else { return Vec::new() };
    v.into_iter()
        .filter_map(|x| match x {
            IppValue::Keyword(s) | IppValue::NameWithoutLanguage(s) => Some(s.to_string()),
            IppValue::TextWithoutLanguage(t) => Some(t.to_string()),
            IppValue::TextWithLanguage { text, .. } => Some(text.to_string()),
            IppValue::NameWithLanguage { name, .. } => Some(name.to_string()),
            IppValue::NoValue => None,
            other => Some(other.to_string()),
        })
        .collect()
}

fn integers(v: Option<&IppValue>) -> Vec<i32> {
    v.map(|v| v.into_iter().filter_map(integer).collect())
        .unwrap_or_default()
}

/// Reads a printer status from Get-Printer-Attributes attributes.
pub fn parse_status(
    attrs: &BTreeMap<String, IppValue>,
) -> Result<DocumentPrinterStatus, DeviceError> {
    let raw = attrs
        .get("printer-state")
        .and_then(integer)
        .ok_or_else(|| DeviceError::protocol("answer lacks printer-state"))?;
    let state = PrinterState::from_ipp(raw)
        .ok_or_else(|| DeviceError::protocol(format!("printer-state {raw} is not 3, 4 or 5")))?;
    let reasons: Vec<String> = strings(attrs.get("printer-state-reasons"))
        .into_iter()
        .filter(|r| r != "none")
        .collect();
    let accepting_jobs = match attrs.get("printer-is-accepting-jobs") {
        Some(IppValue::Boolean(b)) => *b,
        Some(other) => {
            return Err(DeviceError::protocol(format!(
                "printer-is-accepting-jobs is not a boolean: {other}"
            )));
        }
        None => true,
    };
    let names = strings(attrs.get("marker-names"));
    let levels = integers(attrs.get("marker-levels"));
    let types = strings(attrs.get("marker-types"));
    let supplies = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| Supply {
            name,
            level: levels
                .get(i)
                .and_then(|l| u8::try_from(*l).ok())
                .filter(|l| *l <= 100),
            kind: types.get(i).cloned(),
        })
        .collect();
    let queued_jobs = attrs
        .get("queued-job-count")
        .and_then(integer)
        .and_then(|n| u32::try_from(n).ok());
    let message = strings(attrs.get("printer-state-message"))
        .into_iter()
        .next()
        .filter(|m| !m.is_empty());
    Ok(DocumentPrinterStatus {
        state,
        accepting_jobs,
        reasons,
        supplies,
        queued_jobs,
        message,
    })
}

fn job_id_of(attrs: &BTreeMap<String, IppValue>) -> Result<u32, DeviceError> {
    attrs
        .get("job-id")
        .and_then(integer)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| DeviceError::protocol("answer lacks a valid job-id"))
}

fn printer_uri(selector: &Selector) -> Result<Uri, DeviceError> {
    let Selector::Ipp { uri } = selector else {
        return Err(DeviceError::new(
            ErrorKind::Config,
            format!("an IPP printer needs an ipp:// selector, not {selector}"),
        ));
    };
    if uri.starts_with("ipps://") {
        return Err(DeviceError::new(
            ErrorKind::Config,
            format!("{uri}: ipps (IPP over TLS) is not built in; use ipp://"),
        ));
    }
    let parsed: Uri = uri
        .parse()
        .map_err(|e| DeviceError::new(ErrorKind::Config, format!("bad printer URI {uri}: {e}")))?;
    if parsed.scheme_str() != Some("ipp") || parsed.host().is_none_or(str::is_empty) {
        return Err(DeviceError::new(
            ErrorKind::Config,
            format!("printer URI {uri} must be ipp://HOST[:PORT]/PATH"),
        ));
    }
    if parsed.path().len() <= 1 {
        return Err(DeviceError::new(
            ErrorKind::Config,
            format!("printer URI {uri} lacks the queue path (/printers/QUEUE or /ipp/print)"),
        ));
    }
    Ok(parsed)
}

impl IppPrinter {
    /// Opens the queue named by `ipp://HOST[:PORT]/printers/QUEUE` and asks
    /// its state once, so an unreachable printer fails here.
    pub fn open(selector: &Selector) -> Result<IppPrinter, DeviceError> {
        let mut p = IppPrinter::new(selector)?;
        DocumentPrinter::status(&mut p, Instant::now() + OPEN_TIMEOUT)?;
        tracing::debug!(uri = %p.uri, "IPP printer reached");
        Ok(p)
    }

    /// Like [`IppPrinter::open`] without contacting the printer: health is
    /// offline until the first answer.
    pub fn new(selector: &Selector) -> Result<IppPrinter, DeviceError> {
        let uri = printer_uri(selector)?;
        let mut health = Health::offline(ErrorKind::NotFound);
        for c in ["prints", "print_errors", "refused", "cancelled"] {
            health.counters.insert(c.to_string(), 0);
        }
        Ok(IppPrinter {
            uri,
            health,
            last: None,
        })
    }

    /// The printer URI.
    pub fn uri(&self) -> String {
        self.uri.to_string()
    }

    /// The status seen last, if any.
    pub fn last_status(&self) -> Option<&DocumentPrinterStatus> {
        self.last.as_ref()
    }

    fn send(
        &mut self,
        op: impl Into<IppRequestResponse>,
        deadline: Instant,
        what: &str,
    ) -> Result<BTreeMap<String, IppValue>, DeviceError> {
        let timeout = remaining(deadline)?;
        let client = IppClient::builder(self.uri.clone())
            .request_timeout(timeout)
            .build();
        let result = client.send(op);
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                let err = ipp_error(e, what);
                self.went_offline(&err);
                return Err(err);
            }
        };
        let code = resp.header().operation_or_status;
        let status = resp.header().status_code();
        if !status.is_success() || status == StatusCode::UnknownStatusCode {
            let code = u16::try_from(code).unwrap_or(0xFFFF);
            if code < 0x0100 {
                // A success code the crate does not name (0x0000-0x00FF).
                return Ok(attributes(&resp));
            }
            return Err(status_error(code, what));
        }
        Ok(attributes(&resp))
    }

    fn went_offline(&mut self, e: &DeviceError) {
        if matches!(
            e.kind(),
            ErrorKind::Disconnected | ErrorKind::NotFound | ErrorKind::Timeout
        ) {
            self.health.set(
                HealthState::Offline,
                Some(e.kind().code()),
                e.kind().message_zh(),
                e.kind().message_en(),
            );
            self.last = None;
        }
    }

    fn observe(&mut self, s: &DocumentPrinterStatus) -> Vec<DeviceEvent> {
        let mut events = Vec::new();
        let paper = |x: &DocumentPrinterStatus| {
            if any(x, &["media-empty", "media-needed"]) {
                2
            } else if x.has_reason("media-low") {
                1
            } else {
                0
            }
        };
        let cover = |x: &DocumentPrinterStatus| any(x, &["cover-open", "door-open"]);
        let before = self.last.as_ref();
        let (p0, c0) = (before.map(paper), before.map(cover));
        let p1 = paper(s);
        if p0 != Some(p1) {
            match p1 {
                2 => events.push(DeviceEvent::PaperOut),
                1 => events.push(DeviceEvent::PaperLow),
                _ if p0.is_some() => events.push(DeviceEvent::PaperOk),
                _ => {}
            }
        }
        let c1 = cover(s);
        if c0 != Some(c1) && (c0.is_some() || c1) {
            events.push(if c1 {
                DeviceEvent::CoverOpened
            } else {
                DeviceEvent::CoverClosed
            });
        }
        let (state, code, zh, en) = health_of(s);
        self.health.set(state, code, &zh, &en);
        self.health
            .counters
            .retain(|k, _| !k.starts_with("supply:"));
        for x in &s.supplies {
            if let Some(l) = x.level {
                self.health
                    .counters
                    .insert(format!("supply:{}", x.name), u64::from(l));
            }
        }
        self.last = Some(s.clone());
        events
    }

    /// Status with the events it caused (paper and cover changes).
    pub fn status_with_events(
        &mut self,
        deadline: Instant,
    ) -> Result<(DocumentPrinterStatus, Vec<DeviceEvent>), DeviceError> {
        let op = IppOperationBuilder::get_printer_attributes(self.uri.clone())
            .attributes(STATUS_ATTRIBUTES)
            .build()
            .map_err(|e| build_error(e, "Get-Printer-Attributes"))?;
        let attrs = self.send(op, deadline, "Get-Printer-Attributes")?;
        let status = parse_status(&attrs)?;
        let events = self.observe(&status);
        Ok((status, events))
    }
}

impl Device for IppPrinter {
    fn kind(&self) -> DeviceKind {
        DeviceKind::DocumentPrinter
    }

    fn health(&self) -> Health {
        self.health.clone()
    }

    fn poll(&mut self, deadline: Instant) -> Vec<DeviceEvent> {
        match self.status_with_events(deadline) {
            Ok((_, events)) => events,
            Err(e) => {
                tracing::debug!(uri = %self.uri, kind = e.kind().code(), detail = e.detail(), "IPP status poll failed");
                Vec::new()
            }
        }
    }

    fn poll_interval(&self) -> Duration {
        POLL_INTERVAL
    }

    /// Asks the printer's state; prints nothing (no paper is wasted).
    fn self_test(&mut self, deadline: Instant) -> Result<Health, DeviceError> {
        DocumentPrinter::status(self, deadline)?;
        self.health.last_self_test = Some(SystemTime::now());
        Ok(self.health.clone())
    }
}

/// A job title safe to hand to the printer: no control characters, at
/// most 100 characters.
fn title(doc: &PrintDocument) -> String {
    let t: String = doc
        .title
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    if t.trim().is_empty() {
        "kiosk document".into()
    } else {
        t
    }
}

impl DocumentPrinter for IppPrinter {
    fn submit(&mut self, doc: &PrintDocument, deadline: Instant) -> Result<u32, DeviceError> {
        if doc.data.is_empty() {
            return Err(DeviceError::new(ErrorKind::Config, "empty document"));
        }
        let status = DocumentPrinter::status(self, deadline)?;
        if let Some(kind) = refusal(&status) {
            self.health.bump("refused");
            return Err(DeviceError::new(
                kind,
                format!(
                    "A4 printer cannot print now ({}); nothing was sent",
                    status.reasons.join(",")
                ),
            ));
        }
        let mut extra: Vec<IppAttribute> = Vec::new();
        if doc.copies > 1 {
            let n = i32::try_from(doc.copies)
                .map_err(|_| DeviceError::new(ErrorKind::Config, "too many copies"))?;
            extra.push(
                IppAttribute::with_name("copies", IppValue::Integer(n))
                    .map_err(|e| build_error(e, "copies"))?,
            );
        }
        if doc.duplex {
            let v = IppValue::new_keyword("two-sided-long-edge")
                .map_err(|e| build_error(e, "sides"))?;
            extra.push(IppAttribute::with_name("sides", v).map_err(|e| build_error(e, "sides"))?);
        }
        let payload = IppPayload::new(Cursor::new(doc.data.clone()));
        let op = IppOperationBuilder::print_job(self.uri.clone(), payload)
            .user_name(USER)
            .job_title(title(doc))
            .document_format(&doc.format)
            .attributes(extra)
            .build()
            .map_err(|e| build_error(e, "Print-Job"))?;
        match self
            .send(op, deadline, "Print-Job")
            .and_then(|a| job_id_of(&a))
        {
            Ok(id) => {
                self.health.bump("prints");
                Ok(id)
            }
            Err(e) => {
                self.health.bump("print_errors");
                Err(e)
            }
        }
    }

    fn job(&mut self, job_id: u32, deadline: Instant) -> Result<JobStatus, DeviceError> {
        let id = i32::try_from(job_id)
            .map_err(|_| DeviceError::new(ErrorKind::Config, "job id out of range"))?;
        let op = IppOperationBuilder::get_job_attributes(self.uri.clone(), id)
            .user_name(USER)
            .build()
            .map_err(|e| build_error(e, "Get-Job-Attributes"))?;
        let attrs = self.send(op, deadline, "Get-Job-Attributes")?;
        let raw = attrs
            .get("job-state")
            .and_then(integer)
            .ok_or_else(|| DeviceError::protocol("answer lacks job-state"))?;
        let state = JobState::from_ipp(raw)
            .ok_or_else(|| DeviceError::protocol(format!("job-state {raw} is not 3..9")))?;
        let reasons = strings(attrs.get("job-state-reasons"))
            .into_iter()
            .filter(|r| r != "none")
            .collect();
        Ok(JobStatus {
            id: job_id,
            state,
            reasons,
        })
    }

    fn cancel(&mut self, job_id: u32, deadline: Instant) -> Result<(), DeviceError> {
        let id = i32::try_from(job_id)
            .map_err(|_| DeviceError::new(ErrorKind::Config, "job id out of range"))?;
        let op = IppOperationBuilder::cancel_job(self.uri.clone(), id)
            .user_name(USER)
            .build()
            .map_err(|e| build_error(e, "Cancel-Job"))?;
        self.send(op, deadline, "Cancel-Job")?;
        self.health.bump("cancelled");
        Ok(())
    }

    fn status(&mut self, deadline: Instant) -> Result<DocumentPrinterStatus, DeviceError> {
        self.status_with_events(deadline).map(|(s, _)| s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn status(state: PrinterState, reasons: &[&str], accepting: bool) -> DocumentPrinterStatus {
        DocumentPrinterStatus {
            state,
            accepting_jobs: accepting,
            reasons: reasons.iter().map(|s| s.to_string()).collect(),
            supplies: vec![Supply {
                name: "Black Toner".into(),
                level: Some(8),
                kind: Some("toner".into()),
            }],
            queued_jobs: None,
            message: None,
        }
    }

    #[test]
    fn reasons_map_to_health_worst_first() {
        use PrinterState::*;
        let h = |s| health_of(&s).0;
        assert_eq!(h(status(Idle, &[], true)), HealthState::Ok);
        assert_eq!(
            h(status(Idle, &["toner-low-warning"], true)),
            HealthState::Degraded
        );
        let (st, code, zh, _) = health_of(&status(Idle, &["toner-low-warning"], true));
        assert_eq!((st, code), (HealthState::Degraded, Some("TONER_LOW")));
        assert!(zh.contains("Black Toner 8%"), "{zh}");
        let (st, code, zh, _) = health_of(&status(
            Stopped,
            &["media-empty-error", "toner-low-warning"],
            true,
        ));
        assert_eq!((st, code), (HealthState::Fault, Some("PAPER_OUT")));
        assert_eq!(zh, "打印机缺纸");
        assert_eq!(
            health_of(&status(Stopped, &["toner-empty-error"], true)).1,
            Some("TONER_EMPTY")
        );
        assert_eq!(
            health_of(&status(Stopped, &["paused"], true)).1,
            Some("STOPPED")
        );
        assert_eq!(
            health_of(&status(Idle, &[], false)).1,
            Some("NOT_ACCEPTING")
        );
        assert_eq!(
            h(status(Stopped, &["offline-report"], true)),
            HealthState::Offline
        );
    }

    #[test]
    fn only_printers_that_cannot_print_refuse_jobs() {
        use PrinterState::*;
        assert_eq!(refusal(&status(Idle, &["toner-low-warning"], true)), None);
        assert_eq!(refusal(&status(Stopped, &["paused"], true)), None);
        assert_eq!(
            refusal(&status(Stopped, &["media-empty-error"], true)),
            Some(ErrorKind::PaperOut)
        );
        assert_eq!(
            refusal(&status(Stopped, &["cover-open-error"], true)),
            Some(ErrorKind::CoverOpen)
        );
        assert_eq!(
            refusal(&status(Idle, &[], false)),
            Some(ErrorKind::DeviceFault)
        );
    }

    #[test]
    fn selectors_other_than_ipp_are_config_errors() {
        for s in [
            "tcp:127.0.0.1:9100",
            "ipps://127.0.0.1/printers/x",
            "ipp://127.0.0.1",
            "ipp:///printers/x",
        ] {
            let sel: Selector = s.parse().unwrap();
            assert_eq!(
                IppPrinter::new(&sel).err().unwrap().kind(),
                ErrorKind::Config,
                "{s}"
            );
        }
        let sel: Selector = "ipp://127.0.0.1:631/printers/q".parse().unwrap();
        assert!(IppPrinter::new(&sel).is_ok());
    }
}
