//! The index tables and writing to them.

use rusqlite::{Connection, OptionalExtension, params};

use crate::py::{self, PhraseKeys};
use crate::{Doc, SearchError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS search_doc (
    id                 INTEGER PRIMARY KEY,
    code               TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    keywords           TEXT NOT NULL DEFAULT '',  -- one keyword per line
    popularity         INTEGER NOT NULL DEFAULT 0,
    name_py            TEXT NOT NULL DEFAULT '',  -- hukouqianyi
    name_initials      TEXT NOT NULL DEFAULT '',  -- hkqy
    name_syllables     TEXT NOT NULL DEFAULT '',  -- hu kou qian yi (polyphones: xing/hang)
    keywords_py        TEXT NOT NULL DEFAULT '',  -- one line per keyword
    keywords_initials  TEXT NOT NULL DEFAULT '',
    keywords_syllables TEXT NOT NULL DEFAULT '',
    -- Last, so that scans reading the short columns above skip the long guide text.
    department         TEXT NOT NULL DEFAULT '',
    theme              TEXT NOT NULL DEFAULT '',
    text               TEXT NOT NULL DEFAULT ''
);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(
    name, keywords, department, theme, text,
    tokenize = 'trigram'
);
";

/// Creates the index tables (`search_doc`, `search_fts`) if they do not exist yet.
/// Safe to call on every start.
pub fn create_schema(conn: &Connection) -> Result<(), SearchError> {
    conn.execute_batch(SCHEMA)?;
    Ok(())
}

/// Adds a matter to the index, or replaces the indexed copy with the same code (name, text,
/// keywords, pinyin and popularity are all rewritten; nothing is duplicated).
pub fn upsert(conn: &Connection, doc: &Doc) -> Result<(), SearchError> {
    let keywords = clean_keywords(&doc.keywords);
    let name_keys = py::keys(&doc.name);
    let kw_keys: Vec<PhraseKeys> = keywords.iter().map(|k| py::keys(k)).collect();
    let kw_lines =
        |f: fn(&PhraseKeys) -> &str| kw_keys.iter().map(f).collect::<Vec<_>>().join("\n");
    let keywords = keywords.join("\n");
    in_savepoint(conn, || {
        let id: i64 = conn.query_row(
            "INSERT INTO search_doc (code, name, department, theme, text, keywords, popularity,
                 name_py, name_initials, name_syllables,
                 keywords_py, keywords_initials, keywords_syllables)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
             ON CONFLICT (code) DO UPDATE SET
                 name = excluded.name, department = excluded.department, theme = excluded.theme,
                 text = excluded.text, keywords = excluded.keywords,
                 popularity = excluded.popularity, name_py = excluded.name_py,
                 name_initials = excluded.name_initials, name_syllables = excluded.name_syllables,
                 keywords_py = excluded.keywords_py,
                 keywords_initials = excluded.keywords_initials,
                 keywords_syllables = excluded.keywords_syllables
             RETURNING id",
            params![
                doc.code,
                doc.name,
                doc.department,
                doc.theme,
                doc.text,
                keywords,
                to_sql_int(doc.popularity),
                name_keys.full,
                name_keys.initials,
                name_keys.syllables,
                kw_lines(|k| &k.full),
                kw_lines(|k| &k.initials),
                kw_lines(|k| &k.syllables),
            ],
            |row| row.get(0),
        )?;
        conn.prepare_cached("DELETE FROM search_fts WHERE rowid = ?1")?
            .execute([id])?;
        conn.prepare_cached(
            "INSERT INTO search_fts (rowid, name, keywords, department, theme, text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            id,
            doc.name,
            keywords,
            doc.department,
            doc.theme,
            doc.text
        ])?;
        Ok(())
    })
}

/// Removes a matter from the index. Removing a code that is not indexed does nothing.
pub fn remove(conn: &Connection, code: &str) -> Result<(), SearchError> {
    in_savepoint(conn, || {
        let id: Option<i64> = conn
            .query_row("SELECT id FROM search_doc WHERE code = ?1", [code], |row| {
                row.get(0)
            })
            .optional()?;
        if let Some(id) = id {
            conn.execute("DELETE FROM search_fts WHERE rowid = ?1", [id])?;
            conn.execute("DELETE FROM search_doc WHERE id = ?1", [id])?;
        }
        Ok(())
    })
}

/// Sets how popular a matter is (e.g. its case count); among equally good matches the more
/// popular matter comes first. Fails with [`SearchError::NotFound`] for a code not indexed.
pub fn set_popularity(conn: &Connection, code: &str, popularity: u64) -> Result<(), SearchError> {
    let changed = conn
        .prepare_cached("UPDATE search_doc SET popularity = ?1 WHERE code = ?2")?
        .execute(params![to_sql_int(popularity), code])?;
    if changed == 0 {
        return Err(SearchError::NotFound(code.to_owned()));
    }
    Ok(())
}

/// Keywords trimmed, one line each, without blanks or duplicates.
fn clean_keywords(keywords: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in keywords {
        let k = k.split_whitespace().collect::<Vec<_>>().join(" ");
        if !k.is_empty() && !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

fn to_sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Runs `f` inside a savepoint, so a failed write leaves the index as it was. Savepoints nest,
/// so this works inside a transaction the caller has open.
fn in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce() -> Result<T, SearchError>,
) -> Result<T, SearchError> {
    conn.execute_batch("SAVEPOINT search_write")?;
    match f() {
        Ok(value) => {
            conn.execute_batch("RELEASE search_write")?;
            Ok(value)
        }
        Err(e) => {
            // The original error matters more than a failure to roll back.
            let _ = conn.execute_batch("ROLLBACK TO search_write; RELEASE search_write");
            Err(e)
        }
    }
}
