//! `cargo xtask udev`: the udev rules of the kiosk image, generated from
//! the drivers' USB id tables.
//!
//! The text comes from `kioskctl udev-rules` (which renders
//! `drivers::usb_ids`), so xtask needs no dependency on the drivers:
//!
//! * `cargo xtask udev` writes `image/udev/70-kiosk-devices.rules`;
//! * `cargo xtask udev --check` fails when the committed file differs.

use std::process::Stdio;

use anyhow::{Context, Result, bail};

/// The committed rules, relative to the workspace root.
const RULES: &str = "image/udev/70-kiosk-devices.rules";

/// Regenerates (or with `--check` verifies) `image/udev/*.rules`.
pub fn udev(args: &[String]) -> Result<()> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => bail!("usage: cargo xtask udev [--check]"),
    };
    let rules = generate()?;
    let path = crate::root().join(RULES);
    if check {
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != rules {
            bail!("{RULES} is stale: run cargo xtask udev");
        }
        eprintln!("xtask: {RULES} is up to date");
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if std::fs::read(&path).ok().as_deref() == Some(rules.as_slice()) {
        eprintln!("xtask: {RULES} unchanged");
    } else {
        std::fs::write(&path, &rules).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("xtask: wrote {RULES} ({} bytes)", rules.len());
    }
    Ok(())
}

/// The rules as `kioskctl udev-rules` prints them.
fn generate() -> Result<Vec<u8>> {
    let mut cmd = crate::cargo();
    cmd.args(["run", "-q", "-p", "kioskctl", "--", "udev-rules"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    eprintln!("xtask: $ {cmd:?}");
    let out = cmd.output().with_context(|| format!("starting {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed with {}", out.status);
    }
    if out.stdout.is_empty() {
        bail!("kioskctl udev-rules printed nothing");
    }
    Ok(out.stdout)
}
