//! The last few hundred log lines, kept in memory for the maintenance
//! screen (运行日志). The kiosk never logs personal data in clear; as a
//! second line of defence every run of 15 to 18 ID-number characters
//! (digits, with an `X` check character) is masked here before it is
//! kept, the same way receipts mask (`410403********0013`).

use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Lines kept.
pub const CAPACITY: usize = 400;

/// The shared ring of log lines.
#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: Mutex<VecDeque<String>>,
}

impl LogBuffer {
    /// The process-wide buffer.
    pub fn global() -> Arc<LogBuffer> {
        static BUF: OnceLock<Arc<LogBuffer>> = OnceLock::new();
        Arc::clone(BUF.get_or_init(|| Arc::new(LogBuffer::default())))
    }

    /// Keeps one line (masked), dropping the oldest past [`CAPACITY`].
    pub fn push(&self, line: &str) {
        let line = mask_id_numbers(line.trim_end());
        if line.is_empty() {
            return;
        }
        let mut lines = match self.lines.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if lines.len() >= CAPACITY {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// The newest `n` lines, newest last.
    pub fn tail(&self, n: usize) -> Vec<String> {
        let lines = match self.lines.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        lines
            .iter()
            .skip(lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }
}

/// Masks every run of 15–18 ID characters (digits, `X`/`x` last): the
/// first six and last four stay.
pub fn mask_id_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len()
            && (chars.get(i).is_some_and(char::is_ascii_digit)
                || (i > start && matches!(chars.get(i), Some('X' | 'x'))))
        {
            i += 1;
        }
        let run = i - start;
        if (15..=18).contains(&run) {
            for (k, c) in chars.iter().enumerate().take(i).skip(start) {
                out.push(if k < start + 6 || k >= i - 4 { *c } else { '*' });
            }
        } else {
            out.extend(chars.iter().take(i).skip(start));
        }
        if i < chars.len() {
            if let Some(c) = chars.get(i) {
                out.push(*c);
            }
            i += 1;
        }
    }
    out
}

/// A `tracing_subscriber` writer that copies every line to stderr and
/// into [`LogBuffer::global`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TeeWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for TeeWriter {
    type Writer = TeeLine;
    fn make_writer(&'a self) -> Self::Writer {
        TeeLine(Vec::new())
    }
}

/// One log event's bytes, written out when dropped.
#[derive(Debug)]
pub struct TeeLine(Vec<u8>);

impl Write for TeeLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for TeeLine {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.0);
        let masked = mask_id_numbers(&text);
        let _ = std::io::stderr().write_all(masked.as_bytes());
        let buf = LogBuffer::global();
        for line in masked.lines() {
            buf.push(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_masked_other_numbers_stay() {
        assert_eq!(
            mask_id_numbers("read 410403198503150013 ok"),
            "read 410403********0013 ok"
        );
        assert_eq!(
            mask_id_numbers("id=41040319850315001X."),
            "id=410403********001X."
        );
        assert_eq!(
            mask_id_numbers("case 41040320261129000001 at 12:00"),
            "case 41040320261129000001 at 12:00",
            "20-digit case numbers are not ID numbers"
        );
        assert_eq!(mask_id_numbers("seq=42 port 8080"), "seq=42 port 8080");
        assert_eq!(
            mask_id_numbers("张伟：410403198503150013"),
            "张伟：410403********0013"
        );
    }

    #[test]
    fn the_ring_keeps_the_newest() {
        let b = LogBuffer::default();
        for i in 0..(CAPACITY + 5) {
            b.push(&format!("line {i}"));
        }
        let tail = b.tail(2);
        assert_eq!(
            tail,
            vec![
                format!("line {}", CAPACITY + 3),
                format!("line {}", CAPACITY + 4)
            ]
        );
        assert_eq!(b.tail(10_000).len(), CAPACITY);
    }
}
