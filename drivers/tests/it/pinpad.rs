//! The ZT588-style PIN pad driver against the simulated pad over a real
//! pseudo-terminal. The test plays the bank's key-management system: it
//! knows the master key, issues the PIN key encrypted under it and
//! decrypts the PIN block to check it (in production only the host
//! security module can).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use des::TdesEde2;
use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use drivers::pinpad::SerialPinPad;
use hal::pinpad::{PinBlockFormat, PinEntryRequest, PinEntryState, PinKey, PinPad};
use hal::{Device, ErrorKind, HealthState, Selector};
use sim::pinpad::{PadFault, PinPadSim};

const TMK: [u8; 16] = *b"\x11\x22\x33\x44\x55\x66\x77\x88\x99\xAA\xBB\xCC\xDD\xEE\xF0\x01";
const TPK: [u8; 16] = *b"\x01\x23\x45\x67\x89\xAB\xCD\xEF\xFE\xDC\xBA\x98\x76\x54\x32\x10";
const PAN: &str = "6222020200112233445";

fn tdes(key: &[u8], block: &[u8], enc: bool) -> Vec<u8> {
    let c = TdesEde2::new_from_slice(key).unwrap();
    let mut out = block.to_vec();
    for b in out.chunks_mut(8) {
        let b = GenericArray::from_mut_slice(b);
        if enc {
            c.encrypt_block(b)
        } else {
            c.decrypt_block(b)
        }
    }
    out
}

/// The PIN inside a format-0 block (what the host security module does).
fn pin_of(block: &[u8]) -> String {
    let clear = tdes(&TPK, block, false);
    let pan12 = &PAN[PAN.len() - 13..PAN.len() - 1];
    let mut pan_field = [0u8; 8];
    for (i, d) in pan12.bytes().enumerate() {
        pan_field[2 + i / 2] |= if i % 2 == 0 {
            (d - b'0') << 4
        } else {
            d - b'0'
        };
    }
    let field: Vec<u8> = clear.iter().zip(pan_field).map(|(a, b)| a ^ b).collect();
    let nibbles: Vec<u8> = field.iter().flat_map(|b| [b >> 4, b & 0xF]).collect();
    assert_eq!(nibbles[0], 0, "format 0");
    let n = usize::from(nibbles[1]);
    assert!(nibbles[2 + n..].iter().all(|&x| x == 0xF), "F padding");
    nibbles[2..2 + n]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect()
}

struct Rig {
    sim: PinPadSim,
    dir: PathBuf,
    selector: Selector,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        let dir = std::env::temp_dir().join(format!("pinpad-it-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let sim = PinPadSim::start(&dir, "pinpad", &TMK).unwrap();
        let selector = format!("serial:{}?baud=9600", sim.path().display())
            .parse()
            .unwrap();
        Rig { sim, dir, selector }
    }

    fn open(&self) -> SerialPinPad {
        SerialPinPad::open(&self.selector, within(3000)).unwrap()
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.sim.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn within(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

fn request(length: u8) -> PinEntryRequest {
    PinEntryRequest {
        key_set: 0,
        length,
        pan: PAN.into(),
        format: PinBlockFormat::Iso0,
    }
}

/// Polls until the state is not `Entering`, collecting keys.
fn wait_done(p: &mut SerialPinPad) -> (Vec<PinKey>, PinEntryState) {
    let deadline = within(5000);
    let mut keys = Vec::new();
    loop {
        let prog = p.poll_entry(within(200)).unwrap();
        keys.extend(prog.keys);
        if !matches!(prog.state, PinEntryState::Entering { .. }) {
            return (keys, prog.state);
        }
        assert!(Instant::now() < deadline, "entry not done in 5 s");
    }
}

fn load_key(p: &mut SerialPinPad) {
    let kcv = p
        .load_pin_key(0, &tdes(&TMK, &TPK, true), within(2000))
        .unwrap();
    assert_eq!(kcv, tdes(&TPK, &[0; 8], true)[..4].to_vec(), "check value");
}

#[test]
fn pinpad_pin_entry_gives_an_encrypted_iso0_block() {
    let rig = Rig::new("entry");
    let mut p = rig.open();
    assert_eq!(p.model(), "ZT588");
    load_key(&mut p);
    p.start_pin_entry(&request(6), within(2000)).unwrap();
    rig.sim.press_keys("12").unwrap();
    let prog = p.poll_entry(within(500)).unwrap();
    assert_eq!(
        prog.keys,
        vec![PinKey::Digit, PinKey::Digit],
        "digits masked"
    );
    assert_eq!(prog.state, PinEntryState::Entering { entered: 2 });
    // Clear restarts the entry.
    rig.sim.press_keys("c987654").unwrap();
    let (keys, state) = wait_done(&mut p);
    assert_eq!(keys[0], PinKey::Clear);
    assert_eq!(keys.len(), 7);
    assert_eq!(state, PinEntryState::Complete { entered: 6 });
    let block = p.read_pin_block(within(2000)).unwrap();
    assert_eq!(block.pin_length, 6);
    assert_eq!(block.block.len(), 8);
    assert_eq!(pin_of(&block.block), "987654");
    assert!(!format!("{block:?}").contains(&format!("{}", block.block[0])));
    assert_eq!(rig.sim.state().pin_blocks_issued, 1);
    assert_eq!(
        p.poll_entry(within(100)).unwrap().state,
        PinEntryState::Idle
    );
    // A second entry with another length.
    p.start_pin_entry(&request(4), within(2000)).unwrap();
    rig.sim.press_keys("0000").unwrap();
    assert_eq!(wait_done(&mut p).1, PinEntryState::Complete { entered: 4 });
    assert_eq!(
        pin_of(&p.read_pin_block(within(2000)).unwrap().block),
        "0000"
    );
}

#[test]
fn pinpad_cancel_by_the_resident_and_by_the_host() {
    let rig = Rig::new("cancel");
    let mut p = rig.open();
    load_key(&mut p);
    p.start_pin_entry(&request(6), within(2000)).unwrap();
    rig.sim.press_keys("12x").unwrap();
    let (keys, state) = wait_done(&mut p);
    assert_eq!(keys.last(), Some(&PinKey::Cancel));
    assert_eq!(state, PinEntryState::Cancelled);
    assert_eq!(
        p.read_pin_block(within(500)).unwrap_err().kind(),
        ErrorKind::Busy
    );
    p.start_pin_entry(&request(6), within(2000)).unwrap();
    rig.sim.press_keys("123").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    p.cancel(within(2000)).unwrap();
    assert_eq!(rig.sim.state().entering, None, "the pad dropped the entry");
    assert_eq!(
        p.poll_entry(within(100)).unwrap().state,
        PinEntryState::Idle
    );
    rig.sim.press_keys("456").unwrap();
    assert!(
        p.poll_entry(within(200)).unwrap().keys.is_empty(),
        "keypad closed"
    );
}

#[test]
fn pinpad_errors_are_typed() {
    let rig = Rig::new("errors");
    let mut p = rig.open();
    // No PIN key loaded for set 1: the pad refuses.
    let mut r = request(6);
    r.key_set = 1;
    let err = p.start_pin_entry(&r, within(2000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SecureModule);
    assert_eq!(err.device_code(), Some(0xE4));
    // Bad requests never reach the wire.
    let mut r = request(6);
    r.pan = "12345".into();
    assert_eq!(
        p.start_pin_entry(&r, within(500)).unwrap_err().kind(),
        ErrorKind::Config
    );
    assert_eq!(
        p.start_pin_entry(&request(3), within(500))
            .unwrap_err()
            .kind(),
        ErrorKind::Config
    );
    assert_eq!(
        p.load_pin_key(0, &[0; 5], within(500)).unwrap_err().kind(),
        ErrorKind::Config
    );
    assert_eq!(
        p.read_pin_block(within(500)).unwrap_err().kind(),
        ErrorKind::Busy
    );
    let tcp: Selector = "tcp:127.0.0.1:9".parse().unwrap();
    assert_eq!(
        SerialPinPad::open(&tcp, within(500)).err().unwrap().kind(),
        ErrorKind::Config
    );
}

#[test]
fn pinpad_bad_checksum_is_retried_and_silence_times_out() {
    let rig = Rig::new("faults");
    let mut p = rig.open();
    rig.sim.inject(PadFault::BadChecksum);
    load_key(&mut p);
    assert_eq!(p.health().counters["checksum_errors"], 1);
    rig.sim.inject(PadFault::Silence);
    let deadline = within(600);
    let err = p.start_pin_entry(&request(6), deadline).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(Instant::now() < deadline + Duration::from_millis(200));
    p.start_pin_entry(&request(6), within(2000)).unwrap();
}

#[test]
fn pinpad_unplug_goes_offline_and_replug_reopens() {
    let rig = Rig::new("unplug");
    let mut p = rig.open();
    load_key(&mut p);
    p.start_pin_entry(&request(6), within(2000)).unwrap();
    rig.sim.set_unplugged(true).unwrap();
    let err = p.poll_entry(within(1000)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Disconnected);
    assert_eq!(p.health().state, HealthState::Offline);
    drop(p);
    assert_eq!(
        SerialPinPad::open(&rig.selector, within(500))
            .err()
            .unwrap()
            .kind(),
        ErrorKind::NotFound
    );
    rig.sim.set_unplugged(false).unwrap();
    let mut p = rig.open();
    load_key(&mut p);
    p.start_pin_entry(&request(4), within(2000)).unwrap();
    rig.sim.press_keys("2468").unwrap();
    assert_eq!(wait_done(&mut p).1, PinEntryState::Complete { entered: 4 });
    assert_eq!(
        pin_of(&p.read_pin_block(within(2000)).unwrap().block),
        "2468"
    );
}
