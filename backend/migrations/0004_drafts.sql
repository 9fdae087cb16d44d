-- 0004: drafts of window applications (草稿), kept per clerk until filed
-- or discarded. They hold what the clerk typed, personal data included,
-- and are deleted when filed.
CREATE TABLE case_draft (
    id          INTEGER PRIMARY KEY,
    staff_id    INTEGER NOT NULL REFERENCES staff (id),
    matter_code TEXT NOT NULL,
    body_json   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE INDEX case_draft_by_staff ON case_draft (staff_id, updated_at);
