//! Track codes (the random code in a receipt's QR), the identity check
//! recorded on a kiosk case, and the failed queries of the public track
//! page.

use rand::Rng as _;
use rusqlite::{OptionalExtension, params};

use super::{ReadTx, StoreError, WriteTx};

/// Characters of a track code: digits and capitals without the ones read
/// alike (0/O, 1/I/L).
pub const TRACK_ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Length of a track code (31^10 ≈ 2^49 codes).
pub const TRACK_CODE_LEN: usize = 10;

/// A fresh track code from the thread's CSPRNG (ChaCha, seeded by the OS).
#[must_use]
pub fn new_track_code() -> String {
    let mut rng = rand::rng();
    (0..TRACK_CODE_LEN)
        .map(|_| {
            let i = rng.random_range(0..TRACK_ALPHABET.len());
            TRACK_ALPHABET.get(i).copied().map_or('2', char::from)
        })
        .collect()
}

/// Whether `s` has the shape of a track code (upper case).
#[must_use]
pub fn is_track_code(s: &str) -> bool {
    s.len() == TRACK_CODE_LEN && s.bytes().all(|b| TRACK_ALPHABET.contains(&b))
}

impl ReadTx<'_> {
    /// The track code of a case.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn track_code(&self, case_id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT track_code FROM case_record WHERE id = ?1",
                params![case_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The identity check recorded on a case (kiosk cases), as the clerk
    /// reads it.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn identity_check(&self, case_id: i64) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn()
            .query_row(
                "SELECT identity_check FROM case_record WHERE id = ?1",
                params![case_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Failed public progress queries for `case_number` at or after `since`
    /// (RFC 3339, China time like every stored time).
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn track_failures_since(&self, case_number: &str, since: &str) -> Result<u32, StoreError> {
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM track_failure WHERE case_number = ?1 AND at >= ?2",
            params![case_number, since],
            |r| r.get(0),
        )?)
    }
}

impl WriteTx<'_> {
    /// Sets a case's track code.
    ///
    /// # Errors
    /// When SQLite fails (a duplicate code included).
    pub fn set_track_code(&self, case_id: i64, code: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE case_record SET track_code = ?2 WHERE id = ?1",
            params![case_id, code],
        )?;
        Ok(())
    }

    /// Gives every case without a track code a fresh one (migration 5).
    /// Returns how many were filled.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn fill_missing_track_codes(&self) -> Result<usize, StoreError> {
        let ids: Vec<i64> = self
            .conn()
            .prepare("SELECT id FROM case_record WHERE track_code IS NULL ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in &ids {
            self.set_track_code(*id, &new_track_code())?;
        }
        Ok(ids.len())
    }

    /// Records the identity check made at a kiosk.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn set_identity_check(&self, case_id: i64, text: &str) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE case_record SET identity_check = ?2 WHERE id = ?1",
            params![case_id, text],
        )?;
        Ok(())
    }

    /// Records a failed public progress query, and forgets those older than
    /// `prune_before`.
    ///
    /// # Errors
    /// When SQLite fails.
    pub fn add_track_failure(
        &self,
        case_number: &str,
        at: &str,
        prune_before: &str,
    ) -> Result<(), StoreError> {
        self.conn().execute(
            "DELETE FROM track_failure WHERE at < ?1",
            params![prune_before],
        )?;
        self.conn().execute(
            "INSERT INTO track_failure (case_number, at) VALUES (?1, ?2)",
            params![case_number, at],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_unambiguous_alphabet_and_differ() {
        let a = new_track_code();
        let b = new_track_code();
        assert!(is_track_code(&a), "{a}");
        assert!(is_track_code(&b), "{b}");
        assert_ne!(a, b);
        for c in ["0", "O", "1", "I", "L"] {
            assert!(!a.contains(c) && !b.contains(c));
        }
        assert!(!is_track_code("ABCDEFGH0J"));
        assert!(!is_track_code("abcdefghjk"));
    }
}
