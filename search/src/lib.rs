//! Chinese full-text search over the matter catalogue (政务服务事项检索).
//!
//! The index lives in the caller's SQLite database, in the crate's own tables:
//!
//! - `search_doc`: one row per matter with its fields, keywords (one per line), popularity and
//!   generated pinyin for the name and each keyword: full (`hukouqianyi`), initials (`hkqy`) and
//!   per-syllable (`hu kou qian yi`; a polyphonic character lists all its readings joined by `/`,
//!   e.g. `xing/hang/heng`).
//! - `search_fts`: an FTS5 table with the `trigram` tokenizer over name, keywords, department,
//!   theme and text (its rowid is `search_doc.id`).
//!
//! A query is split on whitespace; every term must match (AND). Each term is looked up
//! literally (FTS5 `MATCH` on one quoted phrase for 3+ characters; 1–2 characters, which
//! trigrams cannot find, by a substring scan of the plain table), as pinyin or initials when it
//! is made of ASCII letters, against matter codes when it holds a digit, and through its
//! [`Synonyms`]. ASCII letters compare case-insensitively. Text is never interpreted: FTS5
//! syntax, `%`, `_` and quotes in a query are searched for as written.
//!
//! Ranking: exact name (or code), name prefix, name contains, keyword or synonym, pinyin or
//! initials, text only; within a class by bm25 (FTS hits) or shorter name, then popularity
//! (descending), then code. Each write ([`upsert`], [`remove`]) is atomic (a savepoint), also
//! inside a transaction the caller has open. Build [`Synonyms`] once and keep it.
//!
//! ```
//! # fn main() -> Result<(), search::SearchError> {
//! let conn = rusqlite::Connection::open_in_memory()?;
//! search::create_schema(&conn)?;
//! search::upsert(&conn, &search::Doc {
//!     code: "M1".into(),
//!     name: "最低生活保障申请".into(),
//!     keywords: vec!["低保".into()],
//!     ..Default::default()
//! })?;
//! let (hits, total) = search::search(&conn, &search::Synonyms::shipped(), "db", 10, 0)?;
//! assert_eq!(total, 1);
//! assert_eq!(hits.first().map(|h| h.code.as_str()), Some("M1"));
//! # Ok(()) }
//! ```

mod index;
mod py;
mod query;
mod synonyms;

pub use index::{create_schema, remove, set_popularity, upsert};
pub use query::{MAX_QUERY_CHARS, search};
pub use synonyms::Synonyms;

/// One matter as the search index sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    /// Matter code (事项编码), unique in the index.
    pub code: String,
    /// Matter name (事项名称).
    pub name: String,
    /// Implementing department (实施主体 / 承办机构).
    pub department: String,
    /// Theme (主题分类).
    pub theme: String,
    /// Guide text: conditions, materials, process, FAQ… joined.
    pub text: String,
    /// Colloquial names (俗称) such as 低保.
    pub keywords: Vec<String>,
    /// How often the matter is used (e.g. case count); higher ranks first among equals.
    pub popularity: u64,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The matter's code.
    pub code: String,
    /// Relevance, higher is better. The integer part is the match class (5 exact name or code,
    /// 4 name prefix, 3 name contains, 2 keyword/synonym/code, 1 pinyin or initials, 0 text
    /// only); the fraction orders hits within a class (bm25 for FTS hits, shorter name
    /// otherwise). Results are sorted by score, then popularity, then code.
    pub score: f64,
    /// Which part of the matter matched (for a multi-term query: the weakest term's match).
    pub matched: MatchKind,
}

/// Which part of a matter a query matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// The matter name contains the query text.
    Name,
    /// A keyword (俗称), a synonym of the query, or the matter code matched.
    Keyword,
    /// Full pinyin of the name or a keyword matched (e.g. `hukou`).
    Pinyin,
    /// Pinyin initials of the name or a keyword matched (e.g. `hkqy`).
    Initials,
    /// Only the department, theme or guide text matched.
    Text,
}

/// Errors of the search index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query is empty or only whitespace.
    #[error("请输入搜索内容 / Please enter something to search for")]
    EmptyQuery,
    /// The query is longer than [`MAX_QUERY_CHARS`] characters.
    #[error("搜索内容过长，最多 64 个字 / The search text is too long (at most 64 characters)")]
    QueryTooLong,
    /// `set_popularity` named a code that is not in the index.
    #[error("事项 {0} 不在搜索索引中 / Matter {0} is not in the search index")]
    NotFound(String),
    /// SQLite failed (the database is the caller's; this is not about the query text).
    #[error("搜索索引出错 / Search index error: {0}")]
    Db(#[from] rusqlite::Error),
}

impl SearchError {
    /// The message in Chinese, for a resident at the kiosk.
    pub fn zh(&self) -> String {
        match self {
            Self::EmptyQuery => "请输入搜索内容".to_owned(),
            Self::QueryTooLong => format!("搜索内容过长，最多 {MAX_QUERY_CHARS} 个字"),
            Self::NotFound(code) => format!("事项 {code} 不在搜索索引中"),
            Self::Db(_) => "搜索暂时不可用，请稍后再试".to_owned(),
        }
    }

    /// The message in English.
    pub fn en(&self) -> String {
        match self {
            Self::EmptyQuery => "Please enter something to search for".to_owned(),
            Self::QueryTooLong => {
                format!("The search text is too long (at most {MAX_QUERY_CHARS} characters)")
            }
            Self::NotFound(code) => format!("Matter {code} is not in the search index"),
            Self::Db(e) => format!("Search is unavailable for now: {e}"),
        }
    }
}
