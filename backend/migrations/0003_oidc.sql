-- 0003: login through the provincial unified identity (统一身份认证) as an
-- OpenID Connect relying party.

-- Logins begun at /login/oidc and not yet come back: single use, dropped
-- after 10 minutes. The PKCE verifier is kept as is (it must be sent to the
-- token endpoint); the browser-binding cookie only as its SM3.
CREATE TABLE oidc_pending (
    state        TEXT PRIMARY KEY,
    nonce        TEXT NOT NULL,
    verifier     TEXT NOT NULL,
    browser_sm3  TEXT NOT NULL,
    next_path    TEXT NOT NULL,
    created_unix INTEGER NOT NULL
) STRICT;

CREATE INDEX oidc_pending_by_created ON oidc_pending (created_unix);

-- Which portal account an identity of a provider (issuer + subject) logs in to.
CREATE TABLE account_identity (
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    account_id    INTEGER NOT NULL REFERENCES account (id),
    linked_at     TEXT NOT NULL,
    last_login_at TEXT NOT NULL,
    PRIMARY KEY (issuer, subject)
) STRICT;

CREATE INDEX account_identity_by_account ON account_identity (account_id);
