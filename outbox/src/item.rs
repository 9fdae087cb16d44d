//! What goes into the outbox: items (personal bodies) and their labels
//! (non-personal, for screens), and the masking helpers.

use serde::{Deserialize, Serialize};

/// One thing the kiosk must deliver to the backend. The body is personal
/// data: it lives in the outbox only until delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A new application: `POST /api/v1/cases`.
    Submission(proto::CaseSubmission),
    /// Missing materials for a case in 待补正: `POST /api/v1/cases/correction`.
    Correction(proto::KioskCorrection),
}

/// The kind of an item, without its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// [`Item::Submission`].
    Submission,
    /// [`Item::Correction`].
    Correction,
}

impl ItemKind {
    /// Machine code stored in the database: `submission` or `correction`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Submission => "submission",
            Self::Correction => "correction",
        }
    }

    /// Parses a machine code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "submission" => Some(Self::Submission),
            "correction" => Some(Self::Correction),
            _ => None,
        }
    }

    /// Name for the maintenance screen, Chinese.
    #[must_use]
    pub const fn zh(self) -> &'static str {
        match self {
            Self::Submission => "申请",
            Self::Correction => "补正材料",
        }
    }

    /// Name for the maintenance screen, English.
    #[must_use]
    pub const fn en(self) -> &'static str {
        match self {
            Self::Submission => "Application",
            Self::Correction => "Correction materials",
        }
    }
}

impl Item {
    /// Its kind.
    #[must_use]
    pub const fn kind(&self) -> ItemKind {
        match self {
            Self::Submission(_) => ItemKind::Submission,
            Self::Correction(_) => ItemKind::Correction,
        }
    }

    /// The idempotency key (empty until [`crate::Outbox::enqueue`] assigns one).
    #[must_use]
    pub fn idempotency_key(&self) -> &str {
        match self {
            Self::Submission(s) => &s.idempotency_key,
            Self::Correction(c) => &c.idempotency_key,
        }
    }

    pub(crate) fn set_idempotency_key(&mut self, key: String) {
        match self {
            Self::Submission(s) => s.idempotency_key = key,
            Self::Correction(c) => c.idempotency_key = key,
        }
    }

    /// Every identity document number in the body (applicant, agent), so
    /// labels and receipts can be checked for leaks.
    #[must_use]
    pub fn id_numbers(&self) -> Vec<&str> {
        let mut out = Vec::new();
        match self {
            Self::Submission(s) => {
                out.push(s.applicant.id_number.as_str());
                if let Some(agent) = &s.agent {
                    out.push(agent.id_number.as_str());
                }
            }
            Self::Correction(c) => out.push(c.id_number.as_str()),
        }
        out.retain(|id| id.trim().chars().count() >= 8);
        out
    }

    /// The body as stored: the wire JSON of the submission or correction.
    pub(crate) fn body_json(&self) -> serde_json::Result<String> {
        match self {
            Self::Submission(s) => serde_json::to_string(s),
            Self::Correction(c) => serde_json::to_string(c),
        }
    }

    /// Reads a stored body back.
    pub(crate) fn from_body(kind: ItemKind, body: &str) -> serde_json::Result<Self> {
        Ok(match kind {
            ItemKind::Submission => Self::Submission(serde_json::from_str(body)?),
            ItemKind::Correction => Self::Correction(serde_json::from_str(body)?),
        })
    }
}

/// What screens show of an item: no personal data. Both strings are taken
/// **as given**: the caller masks them, with [`mask_name`] and [`mask_id`]
/// or [`Label::masked`]. [`crate::Outbox::enqueue`] refuses a label that
/// contains a full identity number of the item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Matter name, e.g. 无犯罪记录证明.
    pub matter: String,
    /// Masked applicant, e.g. `张* / 410403********0013`.
    pub applicant: String,
}

impl Label {
    /// A label from a matter name and the applicant's **full** name and
    /// identity number, which are masked here.
    #[must_use]
    pub fn masked(matter: &str, name: &str, id_number: &str) -> Self {
        Self {
            matter: matter.to_owned(),
            applicant: format!("{} / {}", mask_name(name), mask_id(id_number)),
        }
    }
}

/// Masks an identity number: the first six and last four characters stay
/// (`410403********0013`); ten characters or fewer become all `*`.
#[must_use]
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n <= 10 {
        return "*".repeat(n.max(4));
    }
    let head: String = chars.iter().take(6).collect();
    let tail: String = chars.iter().skip(n - 4).collect();
    format!("{head}********{tail}")
}

/// Masks a name: the first character stays, every other one becomes `*`
/// (`张伟` → `张*`, `李秀英` → `李**`, `张` → `张*`).
#[must_use]
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn masks_keep_only_what_a_receipt_may_show() {
        assert_eq!(mask_id("410403198503150013"), "410403********0013");
        assert_eq!(mask_id("12345"), "*****");
        assert_eq!(mask_name("张伟"), "张*");
        assert_eq!(mask_name("李秀英"), "李**");
        assert_eq!(mask_name("张"), "张*");
        assert_eq!(mask_name("  "), "");
        let l = Label::masked("无犯罪记录证明", "张伟", "410403198503150013");
        assert_eq!(l.applicant, "张* / 410403********0013");
    }
}
