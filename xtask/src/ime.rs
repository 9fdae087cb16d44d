//! `cargo xtask ime` — rebuilds the pinyin input method's dictionary
//! `assets/ime/pinyin.tsv` (used by the `ime` crate).
//!
//! Makes a Python venv under the target directory with pypinyin and jieba
//! (both MIT-licensed, pinned below), then runs the script in [`SCRIPT`]:
//! jieba's word list with frequencies (its `dict.txt`) gives the words,
//! pypinyin (phrase-aware, `Style.NORMAL`) gives their readings. The most
//! frequent [`MAX_WORDS`] words that pypinyin can read with syllables of
//! `assets/ime/syllables.txt` are kept, plus every single character read in
//! them and every GB 2312 character pypinyin knows, plus the hand-written
//! local lexicon `assets/ime/local.tsv`. The output is sorted, so the same
//! inputs always give the same file.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{ensure_packages, root, run, target_dir};

/// The pinned PyPI packages the generator uses (MIT licence both).
const PACKAGES: &[&str] = &["pypinyin==0.55.0", "jieba==0.42.1"];
/// How many multi-character words of jieba's list are kept.
const MAX_WORDS: usize = 80_000;
/// The generated file must stay small enough to embed in the kiosk binary.
const MAX_BYTES: u64 = 3 * 1024 * 1024;

/// The generator. Arguments: syllables.txt, local.tsv, output, max words.
const SCRIPT: &str = r##"
import os, re, sys
import jieba, pypinyin
from pypinyin import lazy_pinyin, pinyin, Style
from pypinyin.pinyin_dict import pinyin_dict

syllables_path, local_path, out_path, max_words = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if jieba.__version__ != "0.42.1" or pypinyin.__version__ != "0.55.0":
    sys.exit("unexpected versions: jieba %s, pypinyin %s" % (jieba.__version__, pypinyin.__version__))

def data_lines(path):
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.strip() and not line.startswith("#"):
                yield number, line

SYLLABLES = set()
for _, line in data_lines(syllables_path):
    SYLLABLES.update(line.split())

HAN = re.compile(r"^[\u4e00-\u9fff]+$")

def reading(word):
    tokens = lazy_pinyin(word, style=Style.NORMAL, errors="ignore")
    if len(tokens) != len(word) or any(t not in SYLLABLES for t in tokens):
        return None
    return tuple(tokens)

# jieba's dict.txt: "word frequency tag" per line.
freq = {}
with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
    for line in f:
        parts = line.split()
        if len(parts) >= 2 and HAN.match(parts[0]) and parts[1].isdigit():
            freq[parts[0]] = max(freq.get(parts[0], 0), int(parts[1]))

entries = {}  # (word, syllables) -> frequency
kept = 0
for word, f in sorted(((w, f) for w, f in freq.items() if len(w) > 1), key=lambda x: (-x[1], x[0])):
    if kept >= max_words:
        break
    syl = reading(word)
    if syl is None or f <= 0:
        continue
    entries[(word, syl)] = f
    kept += 1

local = 0
for number, line in data_lines(local_path):
    fields = line.split("\t")
    if len(fields) != 3:
        sys.exit("local.tsv line %d: expected 3 tab-separated fields" % number)
    word, syl, f = fields[0], tuple(fields[1].split()), int(fields[2])
    if not HAN.match(word) or len(syl) != len(word) or f <= 0 or any(s not in SYLLABLES for s in syl):
        sys.exit("local.tsv line %d: malformed: %r" % (number, line))
    entries[(word, syl)] = max(entries.get((word, syl), 0), f)
    local += 1

# Single characters: every character read in a kept word, and every GB 2312
# character pypinyin knows. The first (most common) reading gets jieba's
# frequency of the character; another reading gets the summed frequency of
# the kept words that read the character so (at most the character's own),
# or 1 when no word does (pypinyin lists many archaic readings).
observed = {}
attested = {}
for (word, syl), f in entries.items():
    for ch, s in zip(word, syl):
        observed.setdefault(ch, set()).add(s)
        attested[(ch, s)] = attested.get((ch, s), 0) + f
chars = set(observed)
for cp in pinyin_dict:
    ch = chr(cp)
    if HAN.match(ch):
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        chars.add(ch)
single = 0
for ch in sorted(chars):
    readings = []
    for r in pinyin(ch, style=Style.NORMAL, heteronym=True)[0] + sorted(observed.get(ch, ())):
        if r in SYLLABLES and r not in readings:
            readings.append(r)
    base = max(freq.get(ch, 1), 1)
    for i, r in enumerate(readings):
        f = base if i == 0 else max(1, min(base, attested.get((ch, r), 0)))
        key = (ch, (r,))
        entries[key] = max(entries.get(key, 0), f)
        single += 1

rows = sorted(entries.items(), key=lambda e: (" ".join(e[0][1]), e[0][0]))
with open(out_path, "w", encoding="utf-8", newline="\n") as out:
    out.write("# 拼音输入法词库 Pinyin input method dictionary of the kiosk's on-screen keyboard.\n")
    out.write("# Generated by `cargo xtask ime` (xtask/src/ime.rs); do not edit by hand: edit\n")
    out.write("# assets/ime/local.tsv and regenerate. Sources and licences (see README.md here):\n")
    out.write("#   words and frequencies: jieba 0.42.1 dict.txt (MIT licence),\n")
    out.write("#   readings: pypinyin 0.55.0 (MIT licence), Style.NORMAL, phrase-aware,\n")
    out.write("#   local terms: assets/ime/local.tsv (this project).\n")
    out.write("# %d words of jieba, %d local lines, %d character readings; sorted by reading.\n" % (kept, local, single))
    out.write("# Format: word<TAB>syllables separated by spaces (ü as v)<TAB>frequency\n")
    for (word, syl), f in rows:
        out.write("%s\t%s\t%d\n" % (word, " ".join(syl), f))
print("%d lines" % len(rows))
"##;

/// `cargo xtask ime`.
pub fn ime() -> Result<()> {
    let python = venv()?;
    let dir = target_dir().join("ime-pyenv");
    let script = dir.join("make_pinyin_dict.py");
    std::fs::write(&script, SCRIPT).context("writing the generator script")?;
    let assets = root().join("assets/ime");
    let out = assets.join("pinyin.tsv");
    run(Command::new(&python)
        .arg(&script)
        .arg(assets.join("syllables.txt"))
        .arg(assets.join("local.tsv"))
        .arg(&out)
        .arg(MAX_WORDS.to_string()))?;
    let size = std::fs::metadata(&out)
        .with_context(|| format!("reading {}", out.display()))?
        .len();
    if size > MAX_BYTES {
        bail!(
            "{} is {size} bytes, more than {MAX_BYTES}; lower MAX_WORDS",
            out.display()
        );
    }
    eprintln!("xtask: wrote {} ({size} bytes)", out.display());
    Ok(())
}

/// Makes `target/ime-pyenv` with [`PACKAGES`]; returns its interpreter.
fn venv() -> Result<PathBuf> {
    let dir = target_dir().join("ime-pyenv");
    let python = dir.join("bin").join("python");
    if !python.exists() {
        let has_venv = Command::new("python3")
            .args(["-m", "venv", "--help"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_venv {
            ensure_packages(&["python3", "python3-venv"])?;
        }
        run(Command::new("python3").args(["-m", "venv"]).arg(&dir))?;
    }
    let stamp = dir.join("installed.txt");
    let want = PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(want.as_str()) {
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PACKAGES))?;
        std::fs::write(&stamp, &want).context("writing the venv stamp")?;
    }
    Ok(python)
}
