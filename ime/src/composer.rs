//! The on-screen keyboard's state machine.

use crate::dict::{Candidate, Dictionary};
use crate::syllable::with_separators;

/// The most bytes (letters and `'` separators) the pinyin buffer holds;
/// further letters are ignored until a candidate is chosen or the buffer
/// is cleared. Long enough for a phrase, short enough for the candidate
/// bar's composition line.
pub const MAX_BUFFER: usize = 32;

/// Candidates per page unless [`Composer::set_page_size`] says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 8;

/// The keys of the digit pad, which [`Key::Digit`] accepts in every mode:
/// 0–9, `-` `.` `@` for phone numbers, dates and e-mail addresses, and `X`,
/// the check character of a resident ID number (身份证号).
pub const DIGIT_KEYS: &[char] = &[
    '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '.', '@', 'X',
];

/// What the letter keys type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// 拼音: letters go to the pinyin buffer and choose Chinese words.
    #[default]
    Pinyin,
    /// 英文: letters are typed as they are, with shift and caps lock.
    Latin,
    /// 数字: the digit pad ([`DIGIT_KEYS`]); letter keys do nothing.
    Digits,
}

/// A key press on the on-screen keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    /// A letter key, `a`–`z` (either case; anything else is ignored).
    Letter(char),
    /// A key of [`DIGIT_KEYS`] (anything else is ignored). In pinyin mode
    /// it first commits the buffer's letters as typed.
    Digit(char),
    /// The syllable separator `'` (pinyin mode; typed as is in Latin mode).
    Separator,
    /// 删除: removes the buffer's last letter, or the field's last
    /// character when the buffer is empty.
    Backspace,
    /// 空格: chooses the first candidate on the page, or types a space.
    Space,
    /// 确定/回车: commits the buffer's letters as typed, or is passed on.
    Enter,
    /// Chooses the candidate at this index of the current page.
    Pick(usize),
    /// Shows the next page of candidates.
    NextPage,
    /// Shows the previous page of candidates.
    PrevPage,
    /// Switches mode (the buffer's letters are committed as typed first).
    Mode(Mode),
    /// Latin mode: the next letter is upper case (press again to cancel).
    Shift,
    /// Latin mode: letters are upper case until pressed again.
    CapsLock,
    /// 清空: empties the pinyin buffer (the field is left alone).
    Clear,
}

/// What a key press does to the text field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Insert this text at the cursor.
    Insert(String),
    /// Delete the character before the cursor.
    DeleteBack,
    /// Enter with nothing to commit: the field decides (next field, submit).
    Enter,
}

/// The keyboard's state: mode, pinyin buffer, candidates and their page.
///
/// Feed it [`Key`]s with [`Composer::press`], apply the returned [`Edit`]
/// to the text field, and draw the composition line, candidate bar and
/// shift state from the getters.
#[derive(Debug)]
pub struct Composer<'d> {
    dict: &'d Dictionary,
    mode: Mode,
    buffer: String,
    candidates: Vec<Candidate>,
    page: usize,
    page_size: usize,
    shift: bool,
    caps_lock: bool,
}

impl Default for Composer<'static> {
    /// A pinyin keyboard on the bundled dictionary.
    fn default() -> Self {
        Composer::new(Dictionary::builtin())
    }
}

impl<'d> Composer<'d> {
    /// A keyboard in pinyin mode with an empty buffer and
    /// [`DEFAULT_PAGE_SIZE`] candidates per page.
    pub fn new(dict: &'d Dictionary) -> Self {
        Composer {
            dict,
            mode: Mode::Pinyin,
            buffer: String::new(),
            candidates: Vec::new(),
            page: 0,
            page_size: DEFAULT_PAGE_SIZE,
            shift: false,
            caps_lock: false,
        }
    }

    /// Sets how many candidates a page shows (e.g. 5 in elderly mode with
    /// larger keys; at least 1) and goes back to the first page.
    pub fn set_page_size(&mut self, size: usize) {
        self.page_size = size.max(1);
        self.page = 0;
    }

    /// Candidates per page.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The typed pinyin not yet turned into Chinese (lower case, with any
    /// `'` the resident typed), at most [`MAX_BUFFER`] bytes.
    pub fn buffer(&self) -> &str {
        &self.buffer
    }

    /// The buffer as the composition line shows it, split into syllables:
    /// `wei'dong`.
    pub fn preedit(&self) -> String {
        with_separators(&self.buffer)
    }

    /// Whether the buffer is full ([`MAX_BUFFER`]): letter keys do nothing.
    pub fn is_full(&self) -> bool {
        self.buffer.len() >= MAX_BUFFER
    }

    /// The candidates of the current page (empty when the buffer is).
    pub fn page(&self) -> &[Candidate] {
        let start = self.page * self.page_size;
        let end = (start + self.page_size).min(self.candidates.len());
        self.candidates.get(start..end).unwrap_or_default()
    }

    /// The current page's number, from 0.
    pub fn page_index(&self) -> usize {
        self.page
    }

    /// How many pages of candidates there are (0 without candidates).
    pub fn page_count(&self) -> usize {
        self.candidates.len().div_ceil(self.page_size)
    }

    /// Whether [`Key::NextPage`] would show more candidates.
    pub fn has_next_page(&self) -> bool {
        self.page + 1 < self.page_count()
    }

    /// Whether [`Key::PrevPage`] would go back.
    pub fn has_prev_page(&self) -> bool {
        self.page > 0
    }

    /// Whether the next letter in Latin mode is upper case (shift or caps
    /// lock).
    pub fn upper_case(&self) -> bool {
        self.shift != self.caps_lock
    }

    /// Whether caps lock is on.
    pub fn caps_lock(&self) -> bool {
        self.caps_lock
    }

    /// Handles one key; returns what to do to the text field, if anything.
    pub fn press(&mut self, key: Key) -> Option<Edit> {
        match key {
            Key::Letter(c) => self.letter(c),
            Key::Digit(c) => self.digit(c),
            Key::Separator => self.separator(),
            Key::Backspace => self.backspace(),
            Key::Space => self.space(),
            Key::Enter => Some(self.commit_raw().map_or(Edit::Enter, Edit::Insert)),
            Key::Pick(i) => self.pick(i),
            Key::NextPage => {
                if self.has_next_page() {
                    self.page += 1;
                }
                None
            }
            Key::PrevPage => {
                self.page = self.page.saturating_sub(1);
                None
            }
            Key::Mode(mode) => {
                let committed = self.commit_raw().map(Edit::Insert);
                self.mode = mode;
                self.shift = false;
                committed
            }
            Key::Shift => {
                if self.mode == Mode::Latin {
                    self.shift = !self.shift;
                }
                None
            }
            Key::CapsLock => {
                if self.mode == Mode::Latin {
                    self.caps_lock = !self.caps_lock;
                    self.shift = false;
                }
                None
            }
            Key::Clear => {
                self.set_buffer(String::new());
                None
            }
        }
    }

    fn letter(&mut self, c: char) -> Option<Edit> {
        if !c.is_ascii_alphabetic() {
            return None;
        }
        match self.mode {
            Mode::Pinyin => {
                if !self.is_full() {
                    let mut buffer = std::mem::take(&mut self.buffer);
                    buffer.push(c.to_ascii_lowercase());
                    self.set_buffer(buffer);
                }
                None
            }
            Mode::Latin => {
                let upper = self.upper_case();
                self.shift = false;
                let c = if upper {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                };
                Some(Edit::Insert(c.to_string()))
            }
            Mode::Digits => None,
        }
    }

    fn digit(&mut self, c: char) -> Option<Edit> {
        if !DIGIT_KEYS.contains(&c) {
            return None;
        }
        let mut text = self.commit_raw().unwrap_or_default();
        text.push(c);
        Some(Edit::Insert(text))
    }

    fn separator(&mut self) -> Option<Edit> {
        match self.mode {
            Mode::Pinyin => {
                let after_letter = self.buffer.ends_with(|c: char| c.is_ascii_lowercase());
                if after_letter && !self.is_full() {
                    let mut buffer = std::mem::take(&mut self.buffer);
                    buffer.push('\'');
                    self.set_buffer(buffer);
                }
                None
            }
            Mode::Latin => Some(Edit::Insert("'".into())),
            Mode::Digits => None,
        }
    }

    fn backspace(&mut self) -> Option<Edit> {
        if self.buffer.is_empty() {
            return Some(Edit::DeleteBack);
        }
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.pop();
        self.set_buffer(buffer);
        None
    }

    fn space(&mut self) -> Option<Edit> {
        if self.buffer.is_empty() {
            return Some(Edit::Insert(" ".into()));
        }
        if self.page().is_empty() {
            return self.commit_raw().map(Edit::Insert);
        }
        self.pick(0)
    }

    /// Chooses a candidate of the current page: its text goes to the field
    /// and the letters it covers leave the buffer.
    fn pick(&mut self, index: usize) -> Option<Edit> {
        let chosen = self.page().get(index)?.clone();
        let rest = self
            .buffer
            .get(chosen.consumed..)
            .unwrap_or_default()
            .trim_start_matches('\'')
            .to_string();
        self.set_buffer(rest);
        Some(Edit::Insert(chosen.text))
    }

    /// Empties the buffer, returning its letters as typed (without
    /// separators) if there were any.
    fn commit_raw(&mut self) -> Option<String> {
        let letters: String = self.buffer.chars().filter(|c| *c != '\'').collect();
        self.set_buffer(String::new());
        (!letters.is_empty()).then_some(letters)
    }

    fn set_buffer(&mut self, buffer: String) {
        self.buffer = buffer;
        self.candidates = if self.buffer.is_empty() {
            Vec::new()
        } else {
            self.dict.candidates(&self.buffer)
        };
        self.page = 0;
    }
}
