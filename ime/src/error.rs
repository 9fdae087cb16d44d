//! Errors of the input method.

/// Why a dictionary could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImeError {
    /// A line of the dictionary text is malformed.
    #[error("词库第 {line} 行有误：{problem} (dictionary line {line} is malformed)")]
    BadLine {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        problem: LineProblem,
    },
}

/// What is wrong with a dictionary line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineProblem {
    /// Not exactly three tab-separated fields.
    #[error(
        "应为“词、拼音、词频”三列，以制表符分隔 / expected word, syllables and frequency separated by tabs"
    )]
    Fields,
    /// The word is empty or contains white space.
    #[error("词为空或含空白 / the word is empty or contains white space")]
    Word,
    /// The frequency is not a positive integer.
    #[error("词频“{0}”不是正整数 / frequency {0:?} is not a positive integer")]
    Frequency(String),
    /// A syllable is not in the syllable table.
    #[error("未知音节“{0}” / unknown syllable {0:?}")]
    Syllable(String),
    /// The number of syllables differs from the number of characters.
    #[error("{syllables} 个音节对应 {chars} 个字 / {syllables} syllables for {chars} characters")]
    Count {
        /// Syllables on the line.
        syllables: usize,
        /// Characters of the word.
        chars: usize,
    },
    /// The word has more syllables than a word may have.
    #[error("词太长 / the word is too long")]
    TooLong,
    /// The dictionary is larger than the engine can index (4 GiB).
    #[error("词库过大 / the dictionary is too large")]
    TooBig,
}
