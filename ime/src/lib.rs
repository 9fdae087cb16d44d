//! 拼音输入法 — the pinyin input method behind the kiosk's on-screen
//! keyboard: the resident types pinyin letters, the candidate bar offers
//! Chinese words, a tap (or space) puts the chosen word into the field.
//!
//! * [`Dictionary`] holds about 90 000 words with readings and frequencies
//!   (bundled from `assets/ime/pinyin.tsv`, made by `cargo xtask ime`) and
//!   finds [`Candidate`]s for typed letters: full syllables with every
//!   ambiguous split (`xian` → 先 and 西安), abbreviations (`hkqy` →
//!   户口迁移, `weid` → 卫东), an unfinished last syllable (`weido` → 卫东),
//!   words covering only the start of the input, and a phrase of several
//!   words for long input (`banlishebao` → 办理社保).
//! * [`Composer`] is the keyboard's state machine: pinyin, Latin and digit
//!   [`Mode`]s, the pinyin buffer (at most [`MAX_BUFFER`] bytes), paging
//!   through candidates, and partial commit (choosing 卫东 for `weidongqu`
//!   leaves `qu` to choose next). Each [`Key`] returns the [`Edit`] to apply
//!   to the text field.
//!
//! Pure Rust, no UI: the Slint keyboard draws [`Composer::preedit`],
//! [`Composer::page`] and the page buttons, and sends keys.
//!
//! ```
//! use ime::{Composer, Dictionary, Edit, Key};
//!
//! let mut keyboard = Composer::new(Dictionary::builtin());
//! for c in "weidongqu".chars() {
//!     assert_eq!(keyboard.press(Key::Letter(c)), None);
//! }
//! assert_eq!(keyboard.preedit(), "wei'dong'qu");
//! assert_eq!(keyboard.page()[0].text, "卫东区");
//!
//! // Choose the word covering only `weidong`; `qu` stays in the buffer.
//! let pick = keyboard.page().iter().position(|c| c.text == "卫东").unwrap();
//! assert_eq!(keyboard.press(Key::Pick(pick)), Some(Edit::Insert("卫东".into())));
//! assert_eq!(keyboard.buffer(), "qu");
//!
//! // Space takes the first candidate of the page.
//! let first = keyboard.page()[0].text.clone();
//! assert_eq!(keyboard.press(Key::Space), Some(Edit::Insert(first)));
//! assert_eq!(keyboard.buffer(), "");
//!
//! // With the buffer empty, backspace deletes in the field.
//! assert_eq!(keyboard.press(Key::Backspace), Some(Edit::DeleteBack));
//! ```

mod composer;
mod dict;
mod error;
mod syllable;

pub use composer::{Composer, DEFAULT_PAGE_SIZE, DIGIT_KEYS, Edit, Key, MAX_BUFFER, Mode};
pub use dict::{Candidate, Dictionary, MAX_WORD_SYLLABLES};
pub use error::{ImeError, LineProblem};
pub use syllable::{is_syllable, with_separators};
