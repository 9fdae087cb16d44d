-- 0001: the catalogue, kiosks and their health, cases with step history,
-- the working-day calendar and the audit trail.
-- Times are RFC 3339 text; dates are YYYY-MM-DD text (China Standard Time).

-- The matter catalogue. The full guide is kept as JSON (the proto `Matter`);
-- the columns beside it are what listing and search need.
CREATE TABLE matter (
    code            TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    matter_type     TEXT NOT NULL,
    department      TEXT NOT NULL,
    theme           TEXT NOT NULL,
    audience        TEXT NOT NULL,
    service_level   TEXT NOT NULL,
    kiosk_available INTEGER NOT NULL CHECK (kiosk_available IN (0, 1)),
    fee_charged     INTEGER NOT NULL CHECK (fee_charged IN (0, 1)),
    promised_days   INTEGER NOT NULL CHECK (promised_days >= 0),
    version         INTEGER NOT NULL CHECK (version >= 1),
    sort_order      INTEGER NOT NULL,
    guide_json      TEXT NOT NULL
) STRICT;

CREATE INDEX matter_by_sort_order ON matter (sort_order, code);

-- Enrolled kiosks. Only the SM3 hash of the bearer token is stored.
CREATE TABLE kiosk (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    location         TEXT NOT NULL,
    token_sm3        TEXT NOT NULL UNIQUE,
    enrolled_at      TEXT NOT NULL,
    last_seen_at     TEXT,
    software_version TEXT
) STRICT;

-- One-time enrolment codes that have been used (by SM3 hash of the code).
CREATE TABLE enrolment_code_use (
    code_sm3 TEXT PRIMARY KEY,
    kiosk_id TEXT NOT NULL REFERENCES kiosk (id),
    used_at  TEXT NOT NULL
) STRICT;

-- Latest health of each device of each kiosk.
CREATE TABLE device_health (
    kiosk_id       TEXT NOT NULL REFERENCES kiosk (id),
    device         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    state          TEXT NOT NULL,
    fault_code     TEXT,
    text_zh        TEXT NOT NULL,
    text_en        TEXT NOT NULL,
    counters_json  TEXT NOT NULL,
    last_self_test TEXT,
    sent_at        TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    PRIMARY KEY (kiosk_id, device)
) STRICT;

-- One row each time a device's state changes (and for its first report).
CREATE TABLE device_health_history (
    id          INTEGER PRIMARY KEY,
    kiosk_id    TEXT NOT NULL REFERENCES kiosk (id),
    device      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    state_from  TEXT,
    state_to    TEXT NOT NULL,
    fault_code  TEXT,
    text_zh     TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    received_at TEXT NOT NULL
) STRICT;

CREATE INDEX device_health_history_by_kiosk ON device_health_history (kiosk_id, device, id);

-- Case number sequence, one counter per calendar day.
CREATE TABLE case_sequence (
    day      TEXT PRIMARY KEY,
    last_seq INTEGER NOT NULL CHECK (last_seq BETWEEN 1 AND 999999)
) STRICT;

-- Public holidays (is_workday = 0) and the weekend days made working days
-- in exchange (调休, is_workday = 1). May be empty.
CREATE TABLE holiday (
    day        TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    is_workday INTEGER NOT NULL DEFAULT 0 CHECK (is_workday IN (0, 1))
) STRICT;

-- Cases (办件).
CREATE TABLE case_record (
    id                  INTEGER PRIMARY KEY,
    case_number         TEXT NOT NULL UNIQUE,
    matter_code         TEXT NOT NULL REFERENCES matter (code),
    matter_version      INTEGER NOT NULL,
    matter_name         TEXT NOT NULL,
    department          TEXT NOT NULL,
    applicant_name      TEXT NOT NULL,
    applicant_id_type   TEXT NOT NULL,
    applicant_id_number TEXT NOT NULL,
    applicant_phone     TEXT,
    applicant_address   TEXT,
    form_json           TEXT NOT NULL,
    channel             TEXT NOT NULL CHECK (channel IN ('kiosk', 'window', 'web')),
    kiosk_id            TEXT REFERENCES kiosk (id),
    idempotency_key     TEXT,
    submission_sm3      TEXT,
    created_reply_json  TEXT,
    status              TEXT NOT NULL,
    submitted_at        TEXT NOT NULL,
    deadline            TEXT,
    UNIQUE (kiosk_id, idempotency_key)
) STRICT;

CREATE INDEX case_record_by_applicant ON case_record (applicant_id_number, submitted_at);
CREATE INDEX case_record_by_submitted ON case_record (submitted_at);

-- Step history of each case (办理环节).
CREATE TABLE case_step (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES case_record (id),
    seq        INTEGER NOT NULL,
    status     TEXT NOT NULL,
    step_name  TEXT NOT NULL,
    handler    TEXT NOT NULL,
    department TEXT NOT NULL,
    opinion    TEXT NOT NULL,
    at         TEXT NOT NULL,
    UNIQUE (case_id, seq)
) STRICT;

-- Audit trail: every state-changing action. Detail never holds personal data.
CREATE TABLE audit_event (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL
) STRICT;

CREATE INDEX audit_event_by_object ON audit_event (object, id);

-- The audit trail is append-only for the application.
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;

CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN
    SELECT RAISE(ABORT, 'audit_event is append-only');
END;
