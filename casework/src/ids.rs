//! Identifiers: the unified social credit code (统一社会信用代码) of
//! enterprises and institutions, and case number templates (办件编号).
//!
//! # Case number templates
//!
//! A template is literal text with placeholders:
//!
//! | placeholder | becomes |
//! | --- | --- |
//! | `{district}` | the district code given, e.g. `410403` |
//! | `{yyyy}` | the year, 4 digits |
//! | `{yyyyMMdd}` | the date, 8 digits |
//! | `{MM}` | the month, 2 digits |
//! | `{dd}` | the day, 2 digits |
//! | `{seq:N}` | the day's sequence number, zero-padded to N digits (1–20) |
//!
//! A template needs at least one `{seq:N}`; an unknown placeholder or an
//! unmatched brace is an error. The default,
//! [`CaseNumberFormat::DEFAULT_TEMPLATE`] = `{district}{yyyyMMdd}{seq:6}`,
//! gives `41040320261128000001` (no national format exists; provinces
//! configure their own).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

/// The 31 characters of GB 32100-2015 in value order (no I, O, S, V, Z).
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the first 17 characters.
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn uscc_value(c: u8) -> Option<u32> {
    USCC_ALPHABET
        .iter()
        .position(|a| *a == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// The check character (18th) of a unified social credit code from its
/// first 17 characters; `None` if they are not 17 characters of the code's
/// alphabet (upper case).
#[must_use]
pub fn uscc_check_char(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in bytes.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    USCC_ALPHABET
        .get(usize::try_from(check).ok()?)
        .map(|b| char::from(*b))
}

/// Whether `code` is a well-formed unified social credit code (GB
/// 32100-2015): 18 characters of `0-9A-HJ-NPQRTUWXY` (upper case) whose last
/// is the check character of the first 17.
#[must_use]
pub fn uscc_valid(code: &str) -> bool {
    let Some((first17, last)) = code.split_at_checked(17) else {
        return false;
    };
    last.len() == 1 && uscc_check_char(first17).is_some_and(|c| last.starts_with(c))
}

/// Why a case number template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseNumberError {
    /// A placeholder this module does not know.
    #[error(
        "办件编号模板中有未知占位符“{{{token}}}” / unknown placeholder {{{token}}} in the case number template"
    )]
    UnknownToken {
        /// The placeholder's text between the braces.
        token: String,
    },
    /// A `{` without its `}` or a `}` without its `{`.
    #[error(
        "办件编号模板第{at}个字符处括号不配对 / unmatched brace at character {at} of the case number template"
    )]
    UnmatchedBrace {
        /// Character position (1-based).
        at: usize,
    },
    /// `{seq:N}` with N not a number from 1 to 20.
    #[error(
        "办件编号流水号位数“{width}”无效（应为1到20） / sequence width \"{width}\" is invalid (1 to 20)"
    )]
    BadWidth {
        /// The text after `seq:`.
        width: String,
    },
    /// No `{seq:N}`: numbers would repeat.
    #[error("办件编号模板缺少流水号 {{seq:N}} / the case number template has no {{seq:N}}")]
    NoSequence,
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(Cow<'static, str>),
    District,
    Year,
    Date,
    Month,
    Day,
    Seq(usize),
}

/// A parsed case number template (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseNumberFormat {
    parts: Cow<'static, [Part]>,
}

impl CaseNumberFormat {
    /// The default template: district, date, 6-digit sequence.
    pub const DEFAULT_TEMPLATE: &'static str = "{district}{yyyyMMdd}{seq:6}";

    /// [`Self::DEFAULT_TEMPLATE`] parsed: `41040320261128000001`.
    pub const DEFAULT: Self = Self {
        parts: Cow::Borrowed(&[Part::District, Part::Date, Part::Seq(6)]),
    };

    /// Parses a template.
    ///
    /// # Errors
    ///
    /// A [`CaseNumberError`] for an unknown placeholder, an unmatched brace,
    /// a bad sequence width or a missing sequence.
    pub fn parse(template: &str) -> Result<Self, CaseNumberError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = template.chars().enumerate();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' => {
                    let mut token = String::new();
                    let closed = chars.by_ref().any(|(_, t)| {
                        if t == '}' {
                            return true;
                        }
                        token.push(t);
                        false
                    });
                    if !closed || token.contains('{') {
                        return Err(CaseNumberError::UnmatchedBrace { at: at + 1 });
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(Cow::Owned(std::mem::take(&mut literal))));
                    }
                    parts.push(placeholder(&token)?);
                }
                '}' => return Err(CaseNumberError::UnmatchedBrace { at: at + 1 }),
                _ => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(Cow::Owned(literal)));
        }
        if !parts.iter().any(|p| matches!(p, Part::Seq(_))) {
            return Err(CaseNumberError::NoSequence);
        }
        Ok(Self {
            parts: Cow::Owned(parts),
        })
    }

    /// The case number of the `seq`-th case of `date` in `district`. A
    /// sequence wider than `{seq:N}` is written in full, never cut (see
    /// [`Self::max_seq`]).
    #[must_use]
    pub fn format(&self, district: &str, date: NaiveDate, seq: u32) -> String {
        let mut out = String::new();
        for part in self.parts.iter() {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::District => out.push_str(district),
                Part::Year => out.push_str(&date.format("%Y").to_string()),
                Part::Date => out.push_str(&date.format("%Y%m%d").to_string()),
                Part::Month => out.push_str(&date.format("%m").to_string()),
                Part::Day => out.push_str(&date.format("%d").to_string()),
                Part::Seq(width) => out.push_str(&format!("{seq:0width$}")),
            }
        }
        out
    }

    /// The largest sequence number that fits the narrowest `{seq:N}`.
    #[must_use]
    pub fn max_seq(&self) -> u32 {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Seq(width) => u32::try_from(*width).ok(),
                _ => None,
            })
            .map(|w| {
                10u64
                    .checked_pow(w)
                    .map_or(u32::MAX, |p| u32::try_from(p - 1).unwrap_or(u32::MAX))
            })
            .min()
            .unwrap_or(u32::MAX)
    }

    /// The template text this format was parsed from (normalised).
    #[must_use]
    pub fn template(&self) -> String {
        self.to_string()
    }
}

fn placeholder(token: &str) -> Result<Part, CaseNumberError> {
    Ok(match token {
        "district" => Part::District,
        "yyyy" => Part::Year,
        "yyyyMMdd" => Part::Date,
        "MM" => Part::Month,
        "dd" => Part::Day,
        _ => {
            let Some(width) = token.strip_prefix("seq:") else {
                return Err(CaseNumberError::UnknownToken {
                    token: token.to_owned(),
                });
            };
            match width.parse::<usize>() {
                Ok(n) if (1..=20).contains(&n) => Part::Seq(n),
                _ => {
                    return Err(CaseNumberError::BadWidth {
                        width: width.to_owned(),
                    });
                }
            }
        }
    })
}

impl Default for CaseNumberFormat {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FromStr for CaseNumberFormat {
    type Err = CaseNumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for CaseNumberFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in self.parts.iter() {
            match part {
                Part::Literal(text) => f.write_str(text)?,
                Part::District => f.write_str("{district}")?,
                Part::Year => f.write_str("{yyyy}")?,
                Part::Date => f.write_str("{yyyyMMdd}")?,
                Part::Month => f.write_str("{MM}")?,
                Part::Day => f.write_str("{dd}")?,
                Part::Seq(width) => write!(f, "{{seq:{width}}}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
