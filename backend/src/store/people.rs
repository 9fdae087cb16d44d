//! Departments, staff, portal accounts and web sessions.

use rusqlite::{OptionalExtension, params};

use super::{ReadTx, StoreError, WriteTx};

/// A department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRow {
    /// Code.
    pub code: String,
    /// Name (unique).
    pub name: String,
    /// `district` or `street`.
    pub level: String,
    /// Phone.
    pub phone: String,
}

/// A staff account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Name shown on steps.
    pub display_name: String,
    /// Department name.
    pub department: String,
    /// Role codes, comma-separated.
    pub roles: String,
    /// Argon2 PHC string.
    pub password_phc: String,
    /// TOTP secret (base32).
    pub totp_secret: String,
    /// Last TOTP step used (replay guard).
    pub totp_last_step: Option<i64>,
    /// Whether the account may log in.
    pub active: bool,
    /// Failed logins since the last success.
    pub failures: u32,
    /// Last failure (RFC 3339).
    pub last_failure_at: Option<String>,
    /// Locked until (RFC 3339).
    pub locked_until: Option<String>,
}

/// A portal account (person or legal entity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    /// Row id.
    pub id: i64,
    /// `person` or `entity`.
    pub kind: String,
    /// Mobile phone (login name).
    pub phone: String,
    /// Argon2 PHC string.
    pub password_phc: String,
    /// Real name once bound.
    pub real_name: Option<String>,
    /// Identity number once bound.
    pub id_number: Option<String>,
    /// Legal entity name.
    pub entity_name: Option<String>,
    /// Unified social credit code.
    pub uscc: Option<String>,
    /// Whether the account may log in.
    pub active: bool,
    /// Failed logins since the last success.
    pub failures: u32,
    /// Last failure (RFC 3339).
    pub last_failure_at: Option<String>,
    /// Locked until (RFC 3339).
    pub locked_until: Option<String>,
}

/// A web session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// `staff:<id>` or `account:<id>`.
    pub principal: String,
    /// `password` (TOTP still owed) or `full`.
    pub stage: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last request (RFC 3339).
    pub last_seen_at: String,
}

const STAFF_COLUMNS: &str = "id, username, display_name, department, roles, password_phc, \
     totp_secret, totp_last_step, active, failures, last_failure_at, locked_until";

fn staff_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok(StaffRow {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        department: r.get(3)?,
        roles: r.get(4)?,
        password_phc: r.get(5)?,
        totp_secret: r.get(6)?,
        totp_last_step: r.get(7)?,
        active: r.get(8)?,
        failures: r.get(9)?,
        last_failure_at: r.get(10)?,
        locked_until: r.get(11)?,
    })
}

const ACCOUNT_COLUMNS: &str = "id, kind, phone, password_phc, real_name, id_number, entity_name, \
     uscc, active, failures, last_failure_at, locked_until";

fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccountRow> {
    Ok(AccountRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        phone: r.get(2)?,
        password_phc: r.get(3)?,
        real_name: r.get(4)?,
        id_number: r.get(5)?,
        entity_name: r.get(6)?,
        uscc: r.get(7)?,
        active: r.get(8)?,
        failures: r.get(9)?,
        last_failure_at: r.get(10)?,
        locked_until: r.get(11)?,
    })
}

impl ReadTx<'_> {
    /// Every department, in display order.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn departments(&self) -> Result<Vec<DepartmentRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT code, name, level, phone FROM department ORDER BY sort_order, code",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DepartmentRow {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    level: r.get(2)?,
                    phone: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// A staff account by login name.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn staff_by_username(&self, username: &str) -> Result<Option<StaffRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE username = ?1"),
                params![username],
                staff_row,
            )
            .optional()?)
    }

    /// A staff account by id.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn staff_by_id(&self, id: i64) -> Result<Option<StaffRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = ?1"),
                params![id],
                staff_row,
            )
            .optional()?)
    }

    /// Every staff account, by department then name.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn staff_list(&self) -> Result<Vec<StaffRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {STAFF_COLUMNS} FROM staff ORDER BY department, username"
        ))?;
        let rows = stmt
            .query_map([], staff_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// A portal account by phone.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn account_by_phone(&self, phone: &str) -> Result<Option<AccountRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE phone = ?1"),
                params![phone],
                account_row,
            )
            .optional()?)
    }

    /// A portal account by id.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn account_by_id(&self, id: i64) -> Result<Option<AccountRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE id = ?1"),
                params![id],
                account_row,
            )
            .optional()?)
    }

    /// Whether `agent_id` may act for the legal entity `entity_id`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn is_agent_of(&self, agent_id: i64, entity_id: i64) -> Result<bool, StoreError> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM entity_agent WHERE entity_id = ?1 AND agent_id = ?2)",
            params![entity_id, agent_id],
            |r| r.get(0),
        )?)
    }

    /// The legal entities an account is an agent of.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn entities_of_agent(&self, agent_id: i64) -> Result<Vec<AccountRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM account WHERE id IN \
             (SELECT entity_id FROM entity_agent WHERE agent_id = ?1) ORDER BY id"
        ))?;
        let rows = stmt
            .query_map(params![agent_id], account_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// A session by the SM3 of its token.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn session(&self, token_sm3: &str) -> Result<Option<SessionRow>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT principal, stage, created_at, last_seen_at FROM web_session \
                 WHERE token_sm3 = ?1",
                params![token_sm3],
                |r| {
                    Ok(SessionRow {
                        principal: r.get(0)?,
                        stage: r.get(1)?,
                        created_at: r.get(2)?,
                        last_seen_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }
}

/// A staff account to create.
#[derive(Debug, Clone)]
pub struct NewStaff<'a> {
    /// Login name.
    pub username: &'a str,
    /// Display name.
    pub display_name: &'a str,
    /// Department name.
    pub department: &'a str,
    /// Role codes, comma-separated.
    pub roles: &'a str,
    /// Argon2 PHC.
    pub password_phc: &'a str,
    /// TOTP secret, base32.
    pub totp_secret: &'a str,
    /// When.
    pub at: &'a str,
}

impl WriteTx<'_> {
    /// Adds or renames a department.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn put_department(&self, d: &DepartmentRow, order: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO department (code, name, level, phone, sort_order) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, \
                 phone = excluded.phone, sort_order = excluded.sort_order",
            params![d.code, d.name, d.level, d.phone, order],
        )?;
        Ok(())
    }

    /// Creates a staff account; returns its id.
    ///
    /// # Errors
    /// When SQLite fails (a duplicate user name included).
    pub fn insert_staff(&self, s: &NewStaff<'_>) -> Result<i64, StoreError> {
        self.conn().execute(
            "INSERT INTO staff (username, display_name, department, roles, password_phc, \
                 totp_secret, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                s.username,
                s.display_name,
                s.department,
                s.roles,
                s.password_phc,
                s.totp_secret,
                s.at
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Enables or disables a staff account; disabling ends its sessions.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_staff_active(&self, id: i64, active: bool) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE staff SET active = ?2 WHERE id = ?1",
            params![id, active],
        )?;
        if !active {
            self.end_sessions_of(&format!("staff:{id}"))?;
        }
        Ok(())
    }

    /// Records the login-failure state of a staff account.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_staff_failures(
        &self,
        id: i64,
        failures: u32,
        last_failure_at: Option<&str>,
        locked_until: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE staff SET failures = ?2, last_failure_at = ?3, locked_until = ?4 WHERE id = ?1",
            params![id, failures, last_failure_at, locked_until],
        )?;
        Ok(())
    }

    /// Records the last TOTP step used by a staff account.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_totp_step(&self, id: i64, step: i64) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE staff SET totp_last_step = ?2 WHERE id = ?1",
            params![id, step],
        )?;
        Ok(())
    }

    /// Creates a portal account; returns its id, or `None` when the phone
    /// (or identity number, or USCC) is already registered.
    ///
    /// # Errors
    /// When SQLite fails otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn insert_account(
        &self,
        kind: &str,
        phone: &str,
        password_phc: &str,
        real_name: Option<&str>,
        id_number: Option<&str>,
        entity: Option<(&str, &str)>,
        at: &str,
    ) -> Result<Option<i64>, StoreError> {
        let done = self.conn().execute(
            "INSERT INTO account (kind, phone, password_phc, real_name, id_number, entity_name, \
                 uscc, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT DO NOTHING",
            params![
                kind,
                phone,
                password_phc,
                real_name,
                id_number,
                entity.map(|e| e.0),
                entity.map(|e| e.1),
                at
            ],
        )?;
        Ok((done == 1).then(|| self.conn().last_insert_rowid()))
    }

    /// Binds a real name and identity number to a person's account.
    /// Returns `false` when the number is bound to another account.
    ///
    /// # Errors
    /// When SQLite fails otherwise.
    pub fn bind_real_name(
        &self,
        id: i64,
        real_name: &str,
        id_number: &str,
    ) -> Result<bool, StoreError> {
        let taken: bool = self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM account WHERE id_number = ?1 AND id <> ?2)",
            params![id_number, id],
            |r| r.get(0),
        )?;
        if taken {
            return Ok(false);
        }
        self.conn().execute(
            "UPDATE account SET real_name = ?2, id_number = ?3 WHERE id = ?1",
            params![id, real_name, id_number],
        )?;
        Ok(true)
    }

    /// Records the login-failure state of a portal account.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_account_failures(
        &self,
        id: i64,
        failures: u32,
        last_failure_at: Option<&str>,
        locked_until: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE account SET failures = ?2, last_failure_at = ?3, locked_until = ?4 \
             WHERE id = ?1",
            params![id, failures, last_failure_at, locked_until],
        )?;
        Ok(())
    }

    /// Authorises an agent for a legal entity.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_agent(&self, entity_id: i64, agent_id: i64, at: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO entity_agent (entity_id, agent_id, granted_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
            params![entity_id, agent_id, at],
        )?;
        Ok(())
    }

    /// Starts a session.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn insert_session(
        &self,
        token_sm3: &str,
        principal: &str,
        stage: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "INSERT INTO web_session (token_sm3, principal, stage, created_at, last_seen_at) \
             VALUES (?1, ?2, ?3, ?4, ?4)",
            params![token_sm3, principal, stage, at],
        )?;
        Ok(())
    }

    /// Marks a session as used now, and its stage.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn touch_session(&self, token_sm3: &str, stage: &str, at: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE web_session SET last_seen_at = ?3, stage = ?2 WHERE token_sm3 = ?1",
            params![token_sm3, stage, at],
        )?;
        Ok(())
    }

    /// Ends one session.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn end_session(&self, token_sm3: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM web_session WHERE token_sm3 = ?1",
            params![token_sm3],
        )?;
        Ok(())
    }

    /// Ends every session of a principal.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn end_sessions_of(&self, principal: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM web_session WHERE principal = ?1",
            params![principal],
        )?;
        Ok(())
    }
}

impl WriteTx<'_> {
    /// Replaces one year's holiday entries: `(YYYY-MM-DD, name, is_workday)`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn replace_holidays(
        &self,
        year: i32,
        entries: &[(String, String, bool)],
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM holiday WHERE substr(day, 1, 4) = ?1",
            params![year.to_string()],
        )?;
        for (day, name, workday) in entries {
            self.conn().execute(
                "INSERT INTO holiday (day, name, is_workday) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (day) DO UPDATE SET name = excluded.name, is_workday = excluded.is_workday",
                params![day, name, workday],
            )?;
        }
        Ok(())
    }
}
