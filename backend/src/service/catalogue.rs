//! The matter catalogue: listing, search and the full guide.

use proto::{Matter, MatterList};

use crate::error::ApiError;
use crate::store::Store;

/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 200;
/// Longest search text accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 50;

/// The synonym groups shipped in `assets/search/synonyms.txt`, parsed once.
pub fn synonyms() -> &'static search::Synonyms {
    static SYN: std::sync::OnceLock<search::Synonyms> = std::sync::OnceLock::new();
    SYN.get_or_init(search::Synonyms::shipped)
}

/// Normalises a search text: trimmed, `None` when empty.
fn normalise_query(q: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::InvalidField {
            field: "q",
            reason_zh: "检索词过长",
            reason_en: "search text too long",
        });
    }
    if q.chars().any(char::is_control) {
        return Err(ApiError::InvalidField {
            field: "q",
            reason_zh: "检索词含有控制字符",
            reason_en: "search text contains control characters",
        });
    }
    Ok(Some(q.to_owned()))
}

/// One page of matters matching `q` (every matter when `q` is empty).
///
/// # Errors
/// `INVALID_FIELD` for an unacceptable query, or a storage failure.
pub async fn list(
    store: &Store,
    q: Option<&str>,
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<MatterList, ApiError> {
    let q = normalise_query(q)?;
    let limit = limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let offset = offset.unwrap_or(0);
    store
        .read(move |tx| {
            let (items, total) = match q.as_deref() {
                Some(q) => tx.search_catalogue(synonyms(), q, limit, offset)?,
                None => tx.list_published(limit, offset)?,
            };
            Ok(MatterList { items, total })
        })
        .await
}

/// The full guide of one matter.
///
/// # Errors
/// `MATTER_NOT_FOUND`, or a storage failure.
pub async fn get(store: &Store, code: &str) -> Result<Matter, ApiError> {
    if code.is_empty() || code.len() > 128 {
        return Err(ApiError::MatterNotFound);
    }
    let code = code.to_owned();
    store
        .read(move |tx| tx.matter(&code)?.ok_or(ApiError::MatterNotFound))
        .await
}
