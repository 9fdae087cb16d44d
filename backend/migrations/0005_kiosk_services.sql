-- 0005: what the kiosk's apply / track / guide / call-staff screens need:
-- a random track code per case (the receipt's QR), the identity check made
-- at a kiosk, kiosk alerts (呼叫工作人员, maintenance entries, print
-- failures), idempotent kiosk requests other than submissions, failed
-- progress queries of the public track page (its lockout), and the
-- notices (公告) of the kiosk's idle screen.

-- Random code (10 characters, unambiguous alphabet) printed in the
-- receipt's QR code beside the case number; opens the progress without the
-- ID number. Existing rows are filled by the migration's Rust step.
ALTER TABLE case_record ADD COLUMN track_code TEXT;
CREATE UNIQUE INDEX case_record_by_track_code ON case_record (track_code);

-- How the applicant (or agent) proved who they are at a kiosk, as the
-- clerk reads it (e.g. 身份证+指纹核验（比对分 87）); NULL for other channels.
ALTER TABLE case_record ADD COLUMN identity_check TEXT;

-- Alerts a kiosk raised. `detail` never holds personal data.
CREATE TABLE kiosk_alert (
    id              INTEGER PRIMARY KEY,
    kiosk_id        TEXT NOT NULL REFERENCES kiosk (id),
    kind            TEXT NOT NULL CHECK (kind IN ('call_staff', 'maintenance_entry', 'print_failed')),
    screen          TEXT NOT NULL,
    detail          TEXT NOT NULL,
    at              TEXT NOT NULL,
    acknowledged_by TEXT,
    acknowledged_at TEXT
) STRICT;

CREATE INDEX kiosk_alert_by_kiosk ON kiosk_alert (kiosk_id, at);
CREATE INDEX kiosk_alert_open ON kiosk_alert (acknowledged_at, at);

-- Idempotent kiosk requests other than case submissions (those keep their
-- key on the case): the SM3 of the request and the reply it got.
CREATE TABLE kiosk_request (
    kiosk_id        TEXT NOT NULL REFERENCES kiosk (id),
    kind            TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_sm3     TEXT NOT NULL,
    reply_json      TEXT NOT NULL,
    at              TEXT NOT NULL,
    PRIMARY KEY (kiosk_id, kind, idempotency_key)
) STRICT;

-- Failed progress queries of the public track page, per case number asked
-- (existing or not, so the lockout tells nothing). Old rows are pruned.
CREATE TABLE track_failure (
    id          INTEGER PRIMARY KEY,
    case_number TEXT NOT NULL,
    at          TEXT NOT NULL
) STRICT;

CREATE INDEX track_failure_by_case ON track_failure (case_number, at);

-- Notices (公告) for the kiosk's idle screen. Shown from `published_at`
-- through the day `until` (inclusive; NULL: until withdrawn).
CREATE TABLE bulletin (
    id           INTEGER PRIMARY KEY,
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    published_at TEXT NOT NULL,
    until        TEXT,
    created_by   TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawn_by TEXT
) STRICT;
