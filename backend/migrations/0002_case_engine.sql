-- 0002: the case engine (workflow position, sub-cases, agents, materials,
-- clock pauses, the outbound event feed), people and sessions, matter
-- versions with their review trail, and the hash-chained audit log.

-- Departments (部门). Cases, staff and matter steps name them by `name`.
CREATE TABLE department (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    level      TEXT NOT NULL CHECK (level IN ('district', 'street')),
    phone      TEXT NOT NULL DEFAULT '',
    sort_order INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Staff accounts. `roles` is a comma-separated list of role codes.
-- The TOTP secret is required before any staff session is granted.
CREATE TABLE staff (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    department      TEXT NOT NULL REFERENCES department (name),
    roles           TEXT NOT NULL,
    password_phc    TEXT NOT NULL,
    totp_secret     TEXT NOT NULL,
    totp_last_step  INTEGER,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at TEXT,
    locked_until    TEXT,
    created_at      TEXT NOT NULL
) STRICT;

-- Resident and legal-person accounts of the portal. A person binds their
-- real name and identity number (实名认证); a legal person gives the unified
-- social credit code.
CREATE TABLE account (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('person', 'entity')),
    phone           TEXT NOT NULL UNIQUE,
    password_phc    TEXT NOT NULL,
    real_name       TEXT,
    id_number       TEXT UNIQUE,
    entity_name     TEXT,
    uscc            TEXT UNIQUE,
    active          INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failures        INTEGER NOT NULL DEFAULT 0,
    last_failure_at TEXT,
    locked_until    TEXT,
    created_at      TEXT NOT NULL
) STRICT;

-- Agents (经办人/代办员) a legal-person account has authorised.
CREATE TABLE entity_agent (
    entity_id  INTEGER NOT NULL REFERENCES account (id),
    agent_id   INTEGER NOT NULL REFERENCES account (id),
    granted_at TEXT NOT NULL,
    PRIMARY KEY (entity_id, agent_id)
) STRICT;

-- Sessions. Only the SM3 of the token is stored. `stage` is 'password'
-- while a staff member still owes the TOTP code, 'full' after.
CREATE TABLE web_session (
    token_sm3    TEXT PRIMARY KEY,
    principal    TEXT NOT NULL,
    stage        TEXT NOT NULL CHECK (stage IN ('password', 'full')),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) STRICT;

CREATE INDEX web_session_by_principal ON web_session (principal);

-- Where a case stands in its workflow, and who it belongs to.
ALTER TABLE case_record ADD COLUMN step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_record ADD COLUMN resume_to TEXT;
ALTER TABLE case_record ADD COLUMN workflow_json TEXT;
ALTER TABLE case_record ADD COLUMN parent_id INTEGER REFERENCES case_record (id);
ALTER TABLE case_record ADD COLUMN co_index INTEGER;
ALTER TABLE case_record ADD COLUMN applicant_kind TEXT NOT NULL DEFAULT 'person';
ALTER TABLE case_record ADD COLUMN entity_name TEXT;
ALTER TABLE case_record ADD COLUMN entity_uscc TEXT;
ALTER TABLE case_record ADD COLUMN agent_name TEXT;
ALTER TABLE case_record ADD COLUMN agent_id_number TEXT;
ALTER TABLE case_record ADD COLUMN account_id INTEGER REFERENCES account (id);
ALTER TABLE case_record ADD COLUMN accepted_on TEXT;
ALTER TABLE case_record ADD COLUMN limit_days INTEGER;
ALTER TABLE case_record ADD COLUMN legal_days INTEGER;
ALTER TABLE case_record ADD COLUMN concluded_at TEXT;
ALTER TABLE case_record ADD COLUMN query_code TEXT;
-- Who acts next: the department and role of the current step (NULL when
-- the applicant owes something or the case is concluded).
ALTER TABLE case_record ADD COLUMN current_department TEXT;
ALTER TABLE case_record ADD COLUMN current_role TEXT;

CREATE INDEX case_record_by_department ON case_record (department, status);
CREATE INDEX case_record_by_current ON case_record (current_department, current_role);
CREATE INDEX case_record_by_parent ON case_record (parent_id);
CREATE INDEX case_record_by_account ON case_record (account_id, submitted_at);

-- Which steps of a case a staff member acted on (for the 已办 inbox).
ALTER TABLE case_step ADD COLUMN actor_staff_id INTEGER REFERENCES staff (id);
ALTER TABLE case_step ADD COLUMN action TEXT;

-- Periods the deadline clock was stopped (补正, 特别程序). `to_day` is NULL
-- while it still stands.
CREATE TABLE case_pause (
    id       INTEGER PRIMARY KEY,
    case_id  INTEGER NOT NULL REFERENCES case_record (id),
    from_day TEXT NOT NULL,
    to_day   TEXT,
    reason   TEXT NOT NULL
) STRICT;

CREATE INDEX case_pause_by_case ON case_pause (case_id);

-- Materials of a case: uploads and captures (bytes kept here), or
-- references to e-certificates. `round` 0 is the application, 1.. each
-- correction.
CREATE TABLE case_material (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES case_record (id),
    name        TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('upload', 'capture', 'e_certificate')),
    filename    TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sm3         TEXT NOT NULL,
    content     BLOB,
    ecert_ref   TEXT,
    round       INTEGER NOT NULL DEFAULT 0,
    added_at    TEXT NOT NULL
) STRICT;

CREATE INDEX case_material_by_case ON case_material (case_id, round, id);

-- What a correction notice (补正告知) asked for.
CREATE TABLE case_correction (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES case_record (id),
    items_json   TEXT NOT NULL,
    note         TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    resolved_at  TEXT
) STRICT;

-- Outbound feed of case events for the city platform (办件信息汇聚). The
-- id is the cursor; rows are never changed.
CREATE TABLE case_event (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_number TEXT NOT NULL,
    event       TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          TEXT NOT NULL,
    payload     TEXT NOT NULL
) STRICT;

-- Catalogue: publication state of the current version, and every version
-- ever registered with its review trail.
ALTER TABLE matter ADD COLUMN state TEXT NOT NULL DEFAULT 'published';
ALTER TABLE matter ADD COLUMN popularity INTEGER NOT NULL DEFAULT 0;

CREATE TABLE matter_version (
    code        TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version >= 1),
    change_kind TEXT NOT NULL,
    stage       TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('seed', 'provincial', 'local')),
    guide_json  TEXT NOT NULL,
    guide_sm3   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (code, version)
) STRICT;

CREATE TABLE matter_review (
    id       INTEGER PRIMARY KEY,
    code     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    stage    TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('register', 'pass', 'reject', 'publish')),
    actor    TEXT NOT NULL,
    role     TEXT NOT NULL,
    opinion  TEXT NOT NULL,
    at       TEXT NOT NULL,
    FOREIGN KEY (code, version) REFERENCES matter_version (code, version)
) STRICT;

-- The audit log, hash-chained: `hash` = SM3 over the previous row's hash and
-- this row's fields (see service::audit). The head row keeps the count and
-- last hash so a deleted tail is noticed too.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    before    TEXT NOT NULL,
    after     TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;

CREATE INDEX audit_log_by_object ON audit_log (object, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE audit_head (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    count INTEGER NOT NULL,
    hash  TEXT NOT NULL
) STRICT;
