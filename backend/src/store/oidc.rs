//! OpenID Connect logins: pending authorization requests and the links
//! from a provider's identities (issuer + subject) to portal accounts.

use rusqlite::{OptionalExtension, params};

use super::{ReadTx, StoreError, WriteTx};

/// A login begun at the provider and not yet come back.
#[derive(Clone, PartialEq, Eq)]
pub struct OidcPendingRow {
    /// The `state` parameter (random, single use).
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub verifier: String,
    /// SM3 (hex) of the browser-binding cookie set with the redirect.
    pub browser_sm3: String,
    /// Local path to return to after the login.
    pub next_path: String,
    /// When it was begun (Unix seconds).
    pub created_unix: i64,
}

impl std::fmt::Debug for OidcPendingRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The state, nonce and verifier are secrets of a login in flight.
        f.debug_struct("OidcPendingRow")
            .field("next_path", &self.next_path)
            .field("created_unix", &self.created_unix)
            .finish_non_exhaustive()
    }
}

impl ReadTx<'_> {
    /// The account an identity of a provider is linked to.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn identity_account(&self, issuer: &str, subject: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT account_id FROM account_identity WHERE issuer = ?1 AND subject = ?2",
                params![issuer, subject],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The person account whose bound identity number is `id_number`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn person_by_id_number(&self, id_number: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id FROM account WHERE id_number = ?1 AND kind = 'person'",
                params![id_number],
                |r| r.get(0),
            )
            .optional()?)
    }
}

impl WriteTx<'_> {
    /// Records a login begun at the provider.
    ///
    /// # Errors
    /// When SQLite fails (a repeated state included).
    pub fn insert_oidc_pending(&self, p: &OidcPendingRow) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO oidc_pending (state, nonce, verifier, browser_sm3, next_path, created_unix) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                p.state,
                p.nonce,
                p.verifier,
                p.browser_sm3,
                p.next_path,
                p.created_unix
            ],
        )?;
        Ok(())
    }

    /// Drops the pending logins begun before `before_unix`; returns how many.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn purge_oidc_pending(&self, before_unix: i64) -> Result<usize, StoreError> {
        Ok(self.conn().execute(
            "DELETE FROM oidc_pending WHERE created_unix < ?1",
            params![before_unix],
        )?)
    }

    /// Takes (reads and deletes) the pending login of `state`, so a state
    /// is good for one callback only.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn take_oidc_pending(&self, state: &str) -> Result<Option<OidcPendingRow>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT state, nonce, verifier, browser_sm3, next_path, created_unix \
                 FROM oidc_pending WHERE state = ?1",
                params![state],
                |r| {
                    Ok(OidcPendingRow {
                        state: r.get(0)?,
                        nonce: r.get(1)?,
                        verifier: r.get(2)?,
                        browser_sm3: r.get(3)?,
                        next_path: r.get(4)?,
                        created_unix: r.get(5)?,
                    })
                },
            )
            .optional()?;
        if row.is_some() {
            self.conn()
                .execute("DELETE FROM oidc_pending WHERE state = ?1", params![state])?;
        }
        Ok(row)
    }

    /// Links an identity of a provider to an account (or moves the link).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn link_identity(
        &self,
        issuer: &str,
        subject: &str,
        account_id: i64,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO account_identity (issuer, subject, account_id, linked_at, last_login_at) \
             VALUES (?1, ?2, ?3, ?4, ?4) \
             ON CONFLICT (issuer, subject) DO UPDATE SET account_id = excluded.account_id, \
                 linked_at = excluded.linked_at, last_login_at = excluded.last_login_at",
            params![issuer, subject, account_id, at],
        )?;
        Ok(())
    }

    /// Records a login through a linked identity.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn touch_identity(&self, issuer: &str, subject: &str, at: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE account_identity SET last_login_at = ?3 WHERE issuer = ?1 AND subject = ?2",
            params![issuer, subject, at],
        )?;
        Ok(())
    }
}
