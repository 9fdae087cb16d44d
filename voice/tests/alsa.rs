//! Playback through real ALSA without a sound card: alsa-lib's `file`
//! PCM plugin writes every frame played to a file, with the `null` PCM as
//! its slave. The system alsa.conf defines `pcm.file` with arguments, so
//! `file:FILE=/path,FORMAT=raw` works in-process; a named PCM from an
//! asoundrc given by ALSA_CONFIG_PATH is tested in a child process (alsa-lib
//! reads that variable once per process).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use voice::{Lang, Prompts, SAMPLE_RATE, Voice, encode_wav};

/// A fresh scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("voice-alsa-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

/// A PCM that writes raw S16_LE frames to `path`.
fn file_pcm(path: &Path) -> String {
    format!("file:FILE={},FORMAT=raw", path.display())
}

fn raw_samples(path: &Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect()
}

/// A distinct, non-silent test signal of `ms` milliseconds.
fn tone(ms: u32, step: i32) -> Vec<i16> {
    (0..(SAMPLE_RATE * ms / 1000) as i32)
        .map(|i| ((i * step) % 20_000 - 10_000) as i16)
        .collect()
}

/// Prompts `long` (2 s) and `short` (0.5 s) with synthetic audio in `dir`.
fn synthetic(dir: &Path) -> Prompts {
    let manifest = "[[prompt]]\nid = \"long\"\nzh = \"长\"\nen = \"long\"\n\
                    [[prompt]]\nid = \"short\"\nzh = \"短\"\nen = \"short\"\n";
    for lang in Lang::ALL {
        std::fs::create_dir_all(dir.join(lang.code())).unwrap();
        std::fs::write(
            dir.join(lang.code()).join("long.wav"),
            encode_wav(&tone(2000, 7)),
        )
        .unwrap();
        std::fs::write(
            dir.join(lang.code()).join("short.wav"),
            encode_wav(&tone(500, 13)),
        )
        .unwrap();
    }
    Prompts::from_manifest(manifest, dir).unwrap()
}

#[test]
fn plays_a_real_prompt_sample_for_sample() {
    let dir = scratch("real");
    let out = dir.join("out.raw");
    let prompts = Prompts::builtin();
    // A short prompt keeps the test quick (playback runs in real time).
    let id = "fingerprint-matched";
    let expected = prompts.samples(id, Lang::En).unwrap();
    let voice = Voice::new(&file_pcm(&out), prompts, false);
    assert!(voice.status().ok, "{:?}", voice.status());
    let start = Instant::now();
    voice.say(id, Lang::En);
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "say() returns at once"
    );
    assert!(voice.wait_idle(Duration::from_secs(10)));
    let elapsed = start.elapsed().as_secs_f64();
    let seconds = expected.len() as f64 / f64::from(SAMPLE_RATE);
    assert!(
        elapsed >= seconds - 0.2,
        "played in real time: {elapsed:.2} s for {seconds:.2} s"
    );
    let status = voice.status();
    assert_eq!(status.played_count, 1);
    assert_eq!(status.playing, None);
    assert!(status.ok && status.last_error.is_none(), "{status:?}");
    drop(voice);
    let captured = raw_samples(&out);
    assert_eq!(captured.len(), expected.len());
    assert!(
        captured == *expected,
        "captured samples differ from the WAV"
    );
}

#[test]
fn a_newer_prompt_interrupts_the_one_playing() {
    let dir = scratch("interrupt");
    let out = dir.join("out.raw");
    let voice = Voice::new(&file_pcm(&out), synthetic(&dir), false);
    let long = tone(2000, 7);
    let short = tone(500, 13);
    voice.say("long", Lang::Zh);
    std::thread::sleep(Duration::from_millis(500));
    voice.say("short", Lang::Zh);
    assert!(voice.wait_idle(Duration::from_secs(10)));
    assert_eq!(voice.status().played_count, 2);
    drop(voice);
    let captured = raw_samples(&out);
    assert!(
        captured.len() < long.len() + short.len() - 8000,
        "{} samples: the first prompt was not cut short",
        captured.len()
    );
    // The newer prompt is heard whole, after a prefix of the first.
    let (head, tail) = captured.split_at(captured.len() - short.len());
    assert!(tail == short.as_slice(), "the second prompt is whole");
    assert!(
        head == &long[..head.len()],
        "the first prompt's start, unchanged"
    );
}

#[test]
fn stop_cuts_the_prompt_short() {
    let dir = scratch("stop");
    let out = dir.join("out.raw");
    let voice = Voice::new(&file_pcm(&out), synthetic(&dir), false);
    let start = Instant::now();
    voice.say("long", Lang::En);
    std::thread::sleep(Duration::from_millis(300));
    voice.stop();
    assert!(voice.wait_idle(Duration::from_secs(5)));
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "stopped quickly"
    );
    assert_eq!(voice.status().playing, None);
    drop(voice);
    let captured = raw_samples(&out);
    assert!(
        captured.len() < tone(2000, 7).len() / 2,
        "{} samples",
        captured.len()
    );
}

#[test]
fn muted_plays_nothing_until_unmuted() {
    let dir = scratch("mute");
    let out = dir.join("out.raw");
    let voice = Voice::new(&file_pcm(&out), synthetic(&dir), true);
    assert!(voice.is_muted() && voice.status().muted);
    voice.say("short", Lang::Zh);
    assert!(voice.wait_idle(Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(voice.status().played_count, 0);
    voice.set_muted(false);
    assert!(!voice.is_muted());
    voice.say("short", Lang::Zh);
    assert!(voice.wait_idle(Duration::from_secs(5)));
    assert_eq!(voice.status().played_count, 1);
    // Muting stops the prompt playing.
    voice.say("long", Lang::Zh);
    std::thread::sleep(Duration::from_millis(200));
    voice.set_muted(true);
    assert!(voice.wait_idle(Duration::from_secs(5)));
    drop(voice);
    let captured = raw_samples(&out);
    let short = tone(500, 13);
    assert_eq!(
        captured.get(..short.len()),
        Some(short.as_slice()),
        "only the unmuted prompt"
    );
    assert!(captured.len() < short.len() + tone(2000, 7).len() / 2);
}

#[test]
fn missing_device_is_silent_with_status() {
    let dir = scratch("nodev");
    let voice = Voice::new("wd_no_such_pcm", synthetic(&dir), false);
    let status = voice.status();
    assert!(!status.ok);
    assert_eq!(status.device, "wd_no_such_pcm");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("wd_no_such_pcm")),
        "{status:?}"
    );
    voice.say("short", Lang::Zh);
    voice.say("no-such-prompt", Lang::Zh);
    // A name ALSA cannot take (NUL byte) is an error too, not a panic.
    let odd = Voice::new("bad\0name", synthetic(&dir), false);
    assert!(!odd.status().ok && odd.status().last_error.is_some());
    voice.stop();
    assert!(voice.wait_idle(Duration::from_secs(5)));
    assert_eq!(voice.status().played_count, 0);
}

#[test]
fn missing_audio_file_is_silence() {
    let dir = scratch("nofile");
    let out = dir.join("out.raw");
    let prompts = synthetic(&dir);
    std::fs::remove_file(dir.join("en/short.wav")).unwrap();
    // Reload after removing the file.
    let manifest = "[[prompt]]\nid = \"short\"\nzh = \"短\"\nen = \"short\"\n";
    drop(prompts);
    let prompts = Prompts::from_manifest(manifest, &dir).unwrap();
    assert_eq!(prompts.missing(), vec![("short", Lang::En)]);
    let voice = Voice::new(&file_pcm(&out), prompts, false);
    voice.say("short", Lang::En);
    assert!(voice.wait_idle(Duration::from_secs(5)));
    assert_eq!(voice.status().played_count, 0);
    assert!(voice.status().ok);
    voice.say("short", Lang::Zh);
    assert!(voice.wait_idle(Duration::from_secs(5)));
    drop(voice);
    assert_eq!(raw_samples(&out), tone(500, 13));
}

/// The asoundrc the kiosk's tests (and a kiosk without speakers) can use:
/// the system configuration first, then a named PCM of type `file`.
fn asoundrc(out: &Path) -> String {
    format!(
        "</usr/share/alsa/alsa.conf>\n\
         pcm.wdtest {{\n    type file\n    slave.pcm \"null\"\n    file \"{}\"\n    format \"raw\"\n}}\n",
        out.display()
    )
}

#[test]
fn named_pcm_from_alsa_config_path() {
    let dir = scratch("confpath");
    let out = dir.join("out.raw");
    let conf = dir.join("asoundrc");
    std::fs::write(&conf, asoundrc(&out)).unwrap();
    synthetic(&dir);
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_plays_on_wdtest",
            "--nocapture",
        ])
        .env("ALSA_CONFIG_PATH", &conf)
        .env("VOICE_TEST_DIR", &*dir)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success(),
        "{log}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
    assert!(log.contains("1 passed"), "the child ran the test: {log}");
    assert_eq!(raw_samples(&out), tone(500, 13));
}

/// Run by `named_pcm_from_alsa_config_path` with ALSA_CONFIG_PATH set.
#[test]
#[ignore = "run in a child process by named_pcm_from_alsa_config_path"]
fn child_plays_on_wdtest() {
    let dir = PathBuf::from(std::env::var_os("VOICE_TEST_DIR").expect("VOICE_TEST_DIR"));
    let voice = Voice::new("wdtest", synthetic(&dir), false);
    assert!(voice.status().ok, "{:?}", voice.status());
    voice.say("short", Lang::Zh);
    assert!(voice.wait_idle(Duration::from_secs(5)));
    assert_eq!(voice.status().played_count, 1);
}
