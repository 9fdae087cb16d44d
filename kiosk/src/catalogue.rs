//! The matter catalogue as the kiosk holds it: every published guide, the
//! notices of the idle screen and the portal's address, fetched from the
//! backend (`GET /api/v1/kiosks/catalogue`, with an ETag) and cached in the
//! kiosk's store so 办事指南 and 我要办 work while the backend is away.
//!
//! Search runs here, offline too, through the same `search` crate the
//! backend uses (Chinese text, pinyin, initials such as `hkqy`, synonyms),
//! over an in-memory SQLite index rebuilt whenever the catalogue changes.

use std::collections::BTreeMap;
use std::time::SystemTime;

use proto::{Audience, Matter};

pub use proto::{Bulletin, KioskCatalogue};

/// How the list is narrowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub audience: Option<Audience>,
    /// `("theme", 户籍办理)` or `("department", 卫东区公安分局)`.
    pub facet: Option<(Browse, String)>,
    /// Only what this kiosk accepts (我要办).
    pub kiosk_only: bool,
    /// Search text; empty when browsing.
    pub query: String,
}

/// How the catalogue is browsed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Browse {
    #[default]
    Theme,
    Department,
}

/// The catalogue with its search index.
pub struct Catalogue {
    data: KioskCatalogue,
    fetched_at: SystemTime,
    index: rusqlite::Connection,
    synonyms: search::Synonyms,
}

impl std::fmt::Debug for Catalogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalogue")
            .field("matters", &self.data.matters.len())
            .field("etag", &self.data.etag)
            .finish_non_exhaustive()
    }
}

/// The search index could not be built.
#[derive(Debug, thiserror::Error)]
#[error("事项目录索引失败 / the catalogue could not be indexed: {0}")]
pub struct IndexError(#[from] search::SearchError);

impl From<rusqlite::Error> for IndexError {
    fn from(e: rusqlite::Error) -> Self {
        IndexError(search::SearchError::Db(e))
    }
}

impl Catalogue {
    /// Indexes `data`, fetched at `fetched_at`.
    ///
    /// # Errors
    /// When the in-memory index cannot be built.
    pub fn new(data: KioskCatalogue, fetched_at: SystemTime) -> Result<Self, IndexError> {
        let index = rusqlite::Connection::open_in_memory()?;
        search::create_schema(&index)?;
        for m in &data.matters {
            search::upsert(&index, &doc(m))?;
        }
        Ok(Catalogue {
            data,
            fetched_at,
            index,
            synonyms: search::Synonyms::shipped(),
        })
    }

    /// What was fetched.
    pub fn data(&self) -> &KioskCatalogue {
        &self.data
    }

    /// When it was fetched.
    pub fn fetched_at(&self) -> SystemTime {
        self.fetched_at
    }

    /// Marks the cached catalogue as confirmed fresh (a 304 from the backend).
    pub fn touch(&mut self, at: SystemTime) {
        self.fetched_at = at;
    }

    /// Whole minutes since it was fetched.
    pub fn age_minutes(&self, now: SystemTime) -> i64 {
        now.duration_since(self.fetched_at)
            .map_or(0, |d| i64::try_from(d.as_secs() / 60).unwrap_or(i64::MAX))
    }

    /// One matter by code.
    pub fn get(&self, code: &str) -> Option<&Matter> {
        self.data.matters.iter().find(|m| m.code == code)
    }

    /// The matters the filter lets through, best first when searching,
    /// otherwise in catalogue order.
    pub fn list(&self, filter: &Filter) -> Vec<&Matter> {
        let keep = |m: &&Matter| {
            filter.audience.is_none_or(|a| m.audience == a)
                && (!filter.kiosk_only || m.kiosk_available)
                && filter.facet.as_ref().is_none_or(|(b, key)| match b {
                    Browse::Theme => &m.theme == key,
                    Browse::Department => &m.department == key,
                })
        };
        let query = filter.query.trim();
        if query.is_empty() {
            return self.data.matters.iter().filter(keep).collect();
        }
        let hits = match search::search(
            &self.index,
            &self.synonyms,
            query,
            self.data.matters.len().max(1),
            0,
        ) {
            Ok((hits, _)) => hits,
            Err(e) => {
                tracing::debug!("search {:?}: {e}", query.chars().count());
                Vec::new()
            }
        };
        hits.iter()
            .filter_map(|h| self.get(&h.code))
            .filter(keep)
            .collect()
    }

    /// Themes or departments with how many matters each has, for the
    /// audience (and the kiosk's own matters when `kiosk_only`).
    pub fn facets(
        &self,
        audience: Option<Audience>,
        browse: Browse,
        kiosk_only: bool,
    ) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut order: Vec<&str> = Vec::new();
        for m in &self.data.matters {
            if audience.is_some_and(|a| m.audience != a) || (kiosk_only && !m.kiosk_available) {
                continue;
            }
            let key = match browse {
                Browse::Theme => m.theme.as_str(),
                Browse::Department => m.department.as_str(),
            };
            let n = counts.entry(key).or_insert(0);
            if *n == 0 {
                order.push(key);
            }
            *n += 1;
        }
        order
            .into_iter()
            .map(|k| (k.to_owned(), counts.get(k).copied().unwrap_or(0)))
            .collect()
    }

    /// The portal address of a matter's guide, for the QR code.
    pub fn guide_url(&self, code: &str) -> String {
        format!(
            "{}/matters/{}",
            self.data.public_url.trim_end_matches('/'),
            code
        )
    }

    /// The portal address that opens a case's progress (the receipt's QR).
    pub fn track_url(&self, case_number: &str, track_code: &str) -> String {
        format!(
            "{}/track?case={case_number}&code={track_code}",
            self.data.public_url.trim_end_matches('/')
        )
    }
}

/// What the search index knows of a matter.
fn doc(m: &Matter) -> search::Doc {
    let mut text = String::new();
    for part in [&m.matter_type, &m.implementing_body, &m.result_name] {
        text.push_str(part);
        text.push('\n');
    }
    for c in &m.conditions {
        text.push_str(c);
        text.push('\n');
    }
    for mat in &m.materials {
        text.push_str(&mat.name);
        text.push('\n');
    }
    search::Doc {
        code: m.code.clone(),
        name: m.name.clone(),
        department: m.department.clone(),
        theme: m.theme.clone(),
        text,
        keywords: m.keywords.clone(),
        popularity: 0,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;

    /// The demo catalogue the backend seeds.
    pub(crate) fn demo() -> KioskCatalogue {
        let mut matters: Vec<Matter> = Vec::new();
        for file in ["persons.json", "enterprises.json"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../assets/demo/matters")
                .join(file);
            let text = std::fs::read_to_string(path).unwrap();
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            let list = v.get("matters").cloned().unwrap_or(v);
            matters.extend(serde_json::from_value::<Vec<Matter>>(list).unwrap());
        }
        KioskCatalogue {
            etag: "\"demo\"".into(),
            generated_at: "2026-11-29T10:00:00+08:00".into(),
            public_url: "http://127.0.0.1:8080/".into(),
            matters,
            notices: Vec::new(),
        }
    }

    #[test]
    fn browsing_by_audience_theme_and_kiosk() {
        let c = Catalogue::new(demo(), SystemTime::now()).unwrap();
        let all = c.list(&Filter::default()).len();
        assert_eq!(all, 59);
        let persons = c.list(&Filter {
            audience: Some(Audience::Person),
            ..Filter::default()
        });
        assert_eq!(persons.len(), 36);
        let kiosk = c.list(&Filter {
            kiosk_only: true,
            ..Filter::default()
        });
        assert!(kiosk.iter().all(|m| m.kiosk_available));
        assert!(kiosk.len() < all);
        let themes = c.facets(Some(Audience::Person), Browse::Theme, false);
        assert_eq!(themes.iter().map(|(_, n)| n).sum::<usize>(), 36);
        let (theme, n) = themes[0].clone();
        let in_theme = c.list(&Filter {
            audience: Some(Audience::Person),
            facet: Some((Browse::Theme, theme)),
            ..Filter::default()
        });
        assert_eq!(in_theme.len(), n);
    }

    #[test]
    fn search_finds_chinese_initials_and_short_words() {
        let c = Catalogue::new(demo(), SystemTime::now()).unwrap();
        let by = |q: &str| {
            c.list(&Filter {
                query: q.into(),
                ..Filter::default()
            })
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
        };
        assert!(
            by("户口迁移").iter().any(|n| n.contains("户口迁移")),
            "{:?}",
            by("户口迁移")
        );
        assert!(
            by("hkqy").iter().any(|n| n.contains("户口迁移")),
            "{:?}",
            by("hkqy")
        );
        assert!(!by("低保").is_empty());
        assert!(by("没有这种事项xyz").is_empty());
    }

    #[test]
    fn urls_for_the_qr_codes() {
        let c = Catalogue::new(demo(), SystemTime::now()).unwrap();
        assert_eq!(c.guide_url("X1"), "http://127.0.0.1:8080/matters/X1");
        assert_eq!(
            c.track_url("41040320261129000001", "ABCD234567"),
            "http://127.0.0.1:8080/track?case=41040320261129000001&code=ABCD234567"
        );
    }
}
