//! Running a query: terms, the ways a term can match, ranking and paging.

use std::cmp::Ordering;
use std::collections::HashMap;

use memchr::memmem::Finder;
use rusqlite::types::Type;
use rusqlite::{Connection, Row};

use crate::{Hit, MatchKind, SearchError, Synonyms, py};

/// The longest query accepted, in characters (leading and trailing whitespace not counted).
pub const MAX_QUERY_CHARS: usize = 64;

/// Column weights for bm25 over (name, keywords, department, theme, text).
const BM25: &str = "bm25(search_fts, 10.0, 6.0, 2.0, 2.0, 1.0)";

/// Match classes, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// The name (or the code) is the term.
    Exact,
    /// The name starts with the term.
    NamePrefix,
    /// The name contains the term.
    NameContains,
    /// A keyword contains the term, a synonym of the term matched the name or a keyword, or the
    /// code contains the term.
    Keyword,
    /// Pinyin or initials of the name or a keyword.
    Pinyin,
    /// Only department, theme or guide text.
    Text,
}

impl Class {
    /// The integer part of [`Hit::score`]: 5 for `Exact` down to 0 for `Text`.
    fn base(self) -> f64 {
        match self {
            Class::Exact => 5.0,
            Class::NamePrefix => 4.0,
            Class::NameContains => 3.0,
            Class::Keyword => 2.0,
            Class::Pinyin => 1.0,
            Class::Text => 0.0,
        }
    }
}

/// How one query term matched one matter.
#[derive(Debug, Clone, Copy)]
struct TermMatch {
    class: Class,
    /// Order within the class, in `[0, 1)`, higher is better.
    within: f64,
    kind: MatchKind,
}

impl TermMatch {
    fn beats(&self, other: &TermMatch) -> bool {
        match self.class.cmp(&other.class) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => self.within > other.within,
        }
    }
}

/// The matches of one term, by `search_doc.id`, plus what ranking needs of each matter.
#[derive(Default)]
struct TermHits {
    matches: HashMap<i64, TermMatch>,
    docs: DocInfo,
}

impl TermHits {
    fn record(&mut self, id: i64, code: &str, popularity: i64, m: TermMatch) {
        let better = self.matches.get(&id).is_none_or(|old| m.beats(old));
        if better {
            self.matches.insert(id, m);
        }
        self.docs
            .entry(id)
            .or_insert_with(|| (code.to_owned(), u64::try_from(popularity).unwrap_or(0)));
    }
}

/// A matter's standing over all terms of the query.
struct Combined {
    class: Class,
    kind: MatchKind,
    within_sum: f64,
    terms: u32,
}

impl Combined {
    fn new(m: TermMatch) -> Self {
        Self {
            class: m.class,
            kind: m.kind,
            within_sum: m.within,
            terms: 1,
        }
    }

    /// A matter is only as good as its weakest term.
    fn add(&mut self, m: TermMatch) {
        if m.class > self.class {
            self.class = m.class;
            self.kind = m.kind;
        }
        self.within_sum += m.within;
        self.terms += 1;
    }

    fn score(&self) -> f64 {
        self.class.base() + self.within_sum / f64::from(self.terms.max(1))
    }
}

/// Searches the index. Every whitespace-separated term must match (AND); see the crate docs
/// for how a term matches. Returns one page of hits (`limit` hits after skipping `offset`),
/// best first, and the total number of matching matters.
///
/// Fails with [`SearchError::EmptyQuery`] for an empty or blank query and
/// [`SearchError::QueryTooLong`] past [`MAX_QUERY_CHARS`]; any other text (FTS5 syntax, `%`,
/// quotes, control characters) is searched for literally.
pub fn search(
    conn: &Connection,
    syn: &Synonyms,
    q: &str,
    limit: usize,
    offset: usize,
) -> Result<(Vec<Hit>, u64), SearchError> {
    let terms = parse_query(q)?;
    let (combined, docs) = match_all_terms(conn, syn, &terms)?;
    let ranked = rank(combined, &docs);
    let total = u64::try_from(ranked.len()).unwrap_or(u64::MAX);
    let page = ranked.into_iter().skip(offset).take(limit).collect();
    Ok((page, total))
}

/// Code and popularity of each matter seen, by `search_doc.id`.
type DocInfo = HashMap<i64, (String, u64)>;

/// The matters every term matches, with their standing over all terms.
fn match_all_terms(
    conn: &Connection,
    syn: &Synonyms,
    terms: &[String],
) -> Result<(HashMap<i64, Combined>, DocInfo), SearchError> {
    let mut combined: HashMap<i64, Combined> = HashMap::new();
    let mut docs = DocInfo::new();
    for (i, term) in terms.iter().enumerate() {
        let hits = match_term(conn, syn, term)?;
        if i == 0 {
            combined = hits
                .matches
                .into_iter()
                .map(|(id, m)| (id, Combined::new(m)))
                .collect();
            docs = hits.docs;
        } else {
            combined.retain(|id, _| hits.matches.contains_key(id));
            for (id, c) in combined.iter_mut() {
                if let Some(m) = hits.matches.get(id) {
                    c.add(*m);
                }
            }
        }
        if combined.is_empty() {
            break;
        }
    }
    Ok((combined, docs))
}

/// Hits best first: by score, then popularity (descending), then code, so that the order is
/// stable from one page to the next.
fn rank(combined: HashMap<i64, Combined>, docs: &DocInfo) -> Vec<Hit> {
    let mut ranked: Vec<(Hit, u64)> = combined
        .into_iter()
        .filter_map(|(id, c)| {
            let (code, popularity) = docs.get(&id)?.clone();
            Some((
                Hit {
                    code,
                    score: c.score(),
                    matched: c.kind,
                },
                popularity,
            ))
        })
        .collect();
    ranked.sort_by(|(a, pa), (b, pb)| {
        b.score
            .total_cmp(&a.score)
            .then(pb.cmp(pa))
            .then_with(|| a.code.cmp(&b.code))
    });
    ranked.into_iter().map(|(hit, _)| hit).collect()
}

/// Splits the query into lowercase terms. Control characters (NUL included) count as spaces.
fn parse_query(q: &str) -> Result<Vec<String>, SearchError> {
    let cleaned: String = q
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return Err(SearchError::EmptyQuery);
    }
    if trimmed.chars().count() > MAX_QUERY_CHARS {
        return Err(SearchError::QueryTooLong);
    }
    let mut terms: Vec<String> = Vec::new();
    for term in trimmed.split_whitespace().map(str::to_lowercase) {
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    Ok(terms)
}

/// One way of writing a query term: the term as typed or one of its synonyms.
struct Alt {
    /// Lowercase text.
    text: String,
    /// From the synonym list rather than typed.
    synonym: bool,
    /// Compare ignoring ASCII case (the text has ASCII letters).
    ascii_fold: bool,
    /// 3+ characters: the trigram index can find it.
    fts: bool,
    /// The text as letters to match against pinyin, if it is made of ASCII letters
    /// (apostrophes between syllables, as in `xi'an`, are dropped).
    letters: Option<String>,
    /// Could be (part of) a matter code: ASCII letters, digits and `-`, with a digit.
    code_like: bool,
    /// Substring searcher for `text`, built once for every row scanned.
    finder: Finder<'static>,
}

impl Alt {
    fn new(text: String, synonym: bool) -> Self {
        let letters: String = text.chars().filter(|&c| c != '\'').collect();
        let letters = (!letters.is_empty() && letters.bytes().all(|b| b.is_ascii_lowercase()))
            .then_some(letters);
        let code_like = text.bytes().any(|b| b.is_ascii_digit())
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        Self {
            ascii_fold: text.bytes().any(|b| b.is_ascii_alphabetic()),
            fts: text.chars().count() >= 3,
            letters,
            code_like,
            synonym,
            finder: Finder::new(text.as_bytes()).into_owned(),
            text,
        }
    }

    /// Byte offset of the first occurrence in `hay`.
    fn find(&self, hay: &[u8]) -> Option<usize> {
        if self.ascii_fold {
            find_ascii_fold(hay, self.text.as_bytes())
        } else {
            self.finder.find(hay)
        }
    }

    /// The class of a literal match in the name or keywords (`None`: in neither). A synonym's
    /// match counts as a keyword at best.
    fn classify(&self, name: &str, keywords: &str) -> Option<Class> {
        let class = match self.find(name.as_bytes()) {
            Some(0) if name.len() == self.text.len() => Class::Exact,
            Some(0) => Class::NamePrefix,
            Some(_) => Class::NameContains,
            None if self.find(keywords.as_bytes()).is_some() => Class::Keyword,
            None => return None,
        };
        Some(if self.synonym {
            class.max(Class::Keyword)
        } else {
            class
        })
    }
}

/// Everything one term matches: the term and its synonyms, literally, as pinyin and as a code.
fn match_term(conn: &Connection, syn: &Synonyms, term: &str) -> Result<TermHits, SearchError> {
    let alts: Vec<Alt> = std::iter::once(Alt::new(term.to_owned(), false))
        .chain(syn.expand(term).into_iter().map(|alt| Alt::new(alt, true)))
        .collect();
    let mut hits = TermHits::default();
    for alt in alts.iter().filter(|a| a.fts) {
        fts(conn, alt, &mut hits)?;
    }
    let scanned: Vec<&Alt> = alts
        .iter()
        .filter(|a| !a.fts || a.letters.is_some() || a.code_like)
        .collect();
    if !scanned.is_empty() {
        scan(conn, &scanned, &mut hits)?;
    }
    Ok(hits)
}

/// A 3+ character alternative through the FTS5 trigram index, ordered by bm25 within a class.
fn fts(conn: &Connection, alt: &Alt, hits: &mut TermHits) -> Result<(), SearchError> {
    let sql = format!(
        "SELECT d.id, d.code, d.name, d.keywords, d.popularity, {BM25} FROM search_fts \
         JOIN search_doc d ON d.id = search_fts.rowid WHERE search_fts MATCH ?1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([fts_phrase(&alt.text)])?;
    while let Some(row) = rows.next()? {
        let relevance = (-row.get::<_, f64>(5)?).max(0.0);
        let class = alt.classify(borrowed_text(row, 2)?, borrowed_text(row, 3)?);
        let class = class.unwrap_or(Class::Text);
        let m = TermMatch {
            class,
            within: relevance / (1.0 + relevance),
            kind: kind_of(class),
        };
        hits.record(row.get(0)?, borrowed_text(row, 1)?, row.get(4)?, m);
    }
    Ok(())
}

/// One pass over every matter for what the trigram index cannot serve: 1–2 character text
/// (trigrams match nothing that short), pinyin and codes. Substrings are found in Rust, which
/// is several times faster than SQLite's `instr()` or `LIKE` over the guide texts.
fn scan(conn: &Connection, alts: &[&Alt], hits: &mut TermHits) -> Result<(), SearchError> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.code, d.name, d.keywords, d.popularity, d.name_syllables, \
         d.keywords_syllables, d.department, d.theme, d.text FROM search_doc d",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let mut scanned = ScanRow::new(row)?;
        for alt in alts {
            for m in scanned.matches(alt)?.into_iter().flatten() {
                hits.record(row.get(0)?, scanned.code, row.get(4)?, m);
            }
        }
    }
    Ok(())
}

/// One row of [`scan`]: each text column is read (and checked as UTF-8) at most once, the
/// long ones only when a short term was not found in the name or keywords.
struct ScanRow<'r, 's> {
    row: &'r Row<'s>,
    code: &'r str,
    name: &'r str,
    keywords: &'r str,
    /// [`shorter_is_better`] of the name.
    shorter: f64,
    /// Department, theme and guide text, once read (as bytes: checking a long text as UTF-8
    /// costs more than searching it).
    long: Option<[&'r [u8]; 3]>,
}

impl<'r, 's> ScanRow<'r, 's> {
    fn new(row: &'r Row<'s>) -> rusqlite::Result<Self> {
        let name = borrowed_text(row, 2)?;
        Ok(Self {
            row,
            code: borrowed_text(row, 1)?,
            name,
            keywords: borrowed_text(row, 3)?,
            shorter: shorter_is_better(name),
            long: None,
        })
    }

    /// How `alt` matches this row: as text, as pinyin, as a code.
    fn matches(&mut self, alt: &Alt) -> rusqlite::Result<[Option<TermMatch>; 3]> {
        let literal = if alt.fts { None } else { self.literal(alt)? };
        let pinyin = match &alt.letters {
            Some(letters) => {
                let syllables = (borrowed_text(self.row, 5)?, borrowed_text(self.row, 6)?);
                pinyin_match(syllables, letters, self.shorter)
            }
            None => None,
        };
        let code = if alt.code_like {
            self.code_match(alt)
        } else {
            None
        };
        Ok([literal, pinyin, code])
    }

    fn literal(&mut self, alt: &Alt) -> rusqlite::Result<Option<TermMatch>> {
        let class = match alt.classify(self.name, self.keywords) {
            Some(class) => Some(class),
            None => self
                .long()?
                .iter()
                .any(|c| alt.find(c).is_some())
                .then_some(Class::Text),
        };
        Ok(class.map(|class| TermMatch {
            class,
            within: self.shorter,
            kind: kind_of(class),
        }))
    }

    fn long(&mut self) -> rusqlite::Result<[&'r [u8]; 3]> {
        if let Some(long) = self.long {
            return Ok(long);
        }
        let row = self.row;
        let long = [
            borrowed_bytes(row, 7)?,
            borrowed_bytes(row, 8)?,
            borrowed_bytes(row, 9)?,
        ];
        self.long = Some(long);
        Ok(long)
    }

    fn code_match(&self, alt: &Alt) -> Option<TermMatch> {
        let class = match alt.find(self.code.as_bytes())? {
            0 if self.code.len() == alt.text.len() => Class::Exact,
            _ => Class::Keyword,
        };
        Some(TermMatch {
            class,
            within: self.shorter,
            kind: MatchKind::Keyword,
        })
    }
}

/// Typed pinyin against the name's and the keywords' syllables. A single letter only counts at
/// the start of a name or keyword: it would match almost everything somewhere.
fn pinyin_match((name, keywords): (&str, &str), letters: &str, shorter: f64) -> Option<TermMatch> {
    let counts = |hit: &py::PyHit| letters.len() > 1 || hit.start == 0;
    let (hit, bonus) = match py::match_syllables(name, letters).filter(counts) {
        Some(hit) => (hit, if hit.start == 0 { 0.5 } else { 0.25 }),
        None => (
            keywords
                .lines()
                .filter_map(|k| py::match_syllables(k, letters))
                .find(counts)?,
            0.0,
        ),
    };
    let kind = match hit.how {
        py::PyMatch::Full => MatchKind::Pinyin,
        py::PyMatch::Initials => MatchKind::Initials,
    };
    Some(TermMatch {
        class: Class::Pinyin,
        within: bonus + shorter / 2.0,
        kind,
    })
}

/// What a resident is told matched, for a class.
fn kind_of(class: Class) -> MatchKind {
    match class {
        Class::Exact | Class::NamePrefix | Class::NameContains => MatchKind::Name,
        Class::Keyword => MatchKind::Keyword,
        Class::Pinyin | Class::Text => MatchKind::Text,
    }
}

/// Byte offset of `needle` in `hay`, ignoring ASCII case.
fn find_ascii_fold(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let mut from = 0;
    while let Some(skip) = hay
        .get(from..)?
        .iter()
        .position(|&b| b == lower || b == upper)
    {
        let at = from + skip;
        if hay
            .get(at + 1..at + 1 + rest.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(rest))
        {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// A text column's bytes without copying or checking them.
fn borrowed_bytes<'a>(row: &'a Row<'_>, idx: usize) -> rusqlite::Result<&'a [u8]> {
    row.get_ref(idx)?
        .as_bytes()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// A text column without copying it.
fn borrowed_text<'a>(row: &'a Row<'_>, idx: usize) -> rusqlite::Result<&'a str> {
    row.get_ref(idx)?
        .as_str()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e)))
}

/// An FTS5 query that matches `text` literally: one quoted phrase, inner quotes doubled.
fn fts_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Within-class order for hits without bm25: shorter names first, in `(0, 0.5]`.
fn shorter_is_better(name: &str) -> f64 {
    let chars = u32::try_from(name.chars().count()).unwrap_or(u32::MAX);
    1.0 / (2.0 + f64::from(chars))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn query_terms_are_lowercase_deduplicated_and_control_free() {
        assert_eq!(
            parse_query("  低保\u{3000}HKQY 低保 ").unwrap(),
            vec!["低保", "hkqy"]
        );
        assert_eq!(parse_query("a\0b").unwrap(), vec!["a", "b"]);
        assert!(matches!(
            parse_query(" \t\u{3000}"),
            Err(SearchError::EmptyQuery)
        ));
        assert!(matches!(parse_query("\0"), Err(SearchError::EmptyQuery)));
        let long = "户".repeat(MAX_QUERY_CHARS + 1);
        assert!(matches!(parse_query(&long), Err(SearchError::QueryTooLong)));
        assert!(parse_query(&"户".repeat(MAX_QUERY_CHARS)).is_ok());
    }

    #[test]
    fn alternatives_know_how_they_can_match() {
        assert_eq!(fts_phrase("a\"b"), "\"a\"\"b\"");
        let alt = |t: &str| Alt::new(t.to_owned(), false);
        assert_eq!(alt("xi'an").letters.as_deref(), Some("xian"));
        assert_eq!(alt("db1").letters, None);
        assert!(alt("410403").code_like && !alt("hkqy").code_like);
        assert!(alt("身份证").fts && !alt("低保").fts);
        assert_eq!(alt("icp").find("网站ICP备案".as_bytes()), Some(6));
        assert_eq!(alt("%").find(b"100%"), Some(3));
        assert_eq!(alt("_").find(b"a%b"), None);
        assert_eq!(alt("证明").find("无犯罪记录证明".as_bytes()), Some(15));
    }

    #[test]
    fn classes_follow_where_the_text_is() {
        let alt = |t: &str, synonym| Alt::new(t.to_owned(), synonym);
        assert_eq!(
            alt("临时救助", false).classify("临时救助", ""),
            Some(Class::Exact)
        );
        assert_eq!(
            alt("户口", false).classify("户口迁移", ""),
            Some(Class::NamePrefix)
        );
        assert_eq!(
            alt("迁移", false).classify("户口迁移", ""),
            Some(Class::NameContains)
        );
        assert_eq!(
            alt("落户", false).classify("户口迁移", "落户"),
            Some(Class::Keyword)
        );
        assert_eq!(
            alt("户口迁移", true).classify("户口迁移", ""),
            Some(Class::Keyword)
        );
        assert_eq!(alt("张伟", false).classify("户口迁移", "落户"), None);
        assert_eq!(
            alt("icp", false).classify("ICP备案", ""),
            Some(Class::NamePrefix)
        );
    }
}
