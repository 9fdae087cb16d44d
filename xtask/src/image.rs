//! `cargo xtask image` and `cargo xtask image-test`: the terminal's and the
//! platform's disk images, built from Debian packages without loop
//! devices, and booted in QEMU.
//!
//! Build (as root, because `mmdebstrap --mode=root` chroots):
//! 1. release binaries of `kiosk`, `kioskctl` and `backend`;
//! 2. a root file system per image with `mmdebstrap` (Debian bookworm,
//!    the package lists in `image/packages/`, versions held to the
//!    recorded `*.lock` files), the files under `image/rootfs/` and the
//!    hooks in `image/hooks/`;
//! 3. the partitions as plain files (`mkfs.ext4 -d`, `mkfs.vfat` +
//!    `mtools`), a GPT written by `sfdisk` into a sparse file and the
//!    partitions copied in at their offsets; GRUB as a standalone EFI
//!    binary (`grub-mkstandalone`) with the A/B selection script;
//! 4. `qemu-img convert` to qcow2, and for the kiosk a signed RAUC bundle
//!    of the root file system.
//!
//! Output in `target/image/`: `kiosk.raw`, `kiosk.qcow2`,
//! `kiosk-<version>.raucb`, `backend.raw`, `backend.qcow2`, the package
//! manifests and `build.json` (durations and sizes).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{cargo, ensure_packages, root, run, target_dir};

mod test;

pub use test::image_test;

/// Debian packages the image build needs on the build machine.
const IMAGE_PACKAGES: &[&str] = &[
    "mmdebstrap",
    "e2fsprogs",
    "dosfstools",
    "mtools",
    "fdisk",
    "grub-efi-amd64-bin",
    "grub-common",
    "qemu-utils",
    "rauc",
    "squashfs-tools",
    "openssl",
];

/// The Debian release and mirror the images come from.
const SUITE: &str = "bookworm";
const MIRROR: &str = "http://deb.debian.org/debian";
const SECURITY_MIRROR: &str = "http://deb.debian.org/debian-security";

/// Kernel command line (besides the root and slot GRUB adds): the serial
/// console only (nothing is printed on the touch screen), read-only root,
/// reboot 10 s after a panic.
const CMDLINE: &str = "ro console=ttyS0,115200n8 quiet loglevel=4 consoleblank=0 \
                       vt.global_cursor_default=0 panic=10 systemd.show_status=false";

/// Label of the EFI system partition's FAT file system (GRUB finds it by
/// this label).
const ESP_LABEL: &str = "WEIDONG-ESP";

/// One image.
#[derive(Clone, Copy)]
pub(crate) struct Spec {
    pub name: &'static str,
    /// Size of the whole disk in MiB.
    disk_mib: u64,
    /// Size of each root slot in MiB.
    root_mib: u64,
    /// Two root slots (A/B) and a data partition (the kiosk), or one root
    /// (the backend, whose data is on its own virtual disk).
    ab: bool,
}

pub(crate) const KIOSK: Spec = Spec {
    name: "kiosk",
    disk_mib: 4096,
    root_mib: 1280,
    ab: true,
};
pub(crate) const BACKEND: Spec = Spec {
    name: "backend",
    disk_mib: 1536,
    root_mib: 1280,
    ab: false,
};

/// Where an image's files go.
pub(crate) fn out_dir() -> PathBuf {
    target_dir().join("image")
}

struct Options {
    refresh_lock: bool,
    allow_drift: bool,
    skip_build: bool,
    only: Option<String>,
}

fn parse(args: &[String]) -> Result<Options> {
    let mut o = Options {
        refresh_lock: false,
        allow_drift: false,
        skip_build: false,
        only: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--refresh-lock" => o.refresh_lock = true,
            "--allow-drift" => o.allow_drift = true,
            "--skip-build" => o.skip_build = true,
            "--only" => o.only = Some(it.next().context("--only needs kiosk or backend")?.clone()),
            other => bail!(
                "unknown argument {other}\nusage: cargo xtask image [--refresh-lock | --allow-drift] [--skip-build] [--only kiosk|backend]"
            ),
        }
    }
    Ok(o)
}

/// Builds the kiosk and backend disk images.
pub fn image(args: &[String]) -> Result<()> {
    let opts = parse(args)?;
    if !is_root() {
        bail!(
            "the image build runs mmdebstrap in root mode (it chroots into the new system): run it as root"
        );
    }
    ensure_packages(IMAGE_PACKAGES)?;
    let started = Instant::now();
    let mut report = BTreeMap::new();
    if !opts.skip_build {
        let t = Instant::now();
        run(cargo().args([
            "build",
            "--release",
            "-p",
            "kiosk",
            "-p",
            "kioskctl",
            "-p",
            "backend",
            "--bins",
        ]))?;
        report.insert("release_build_s".to_string(), t.elapsed().as_secs_f64());
    }
    let out = out_dir();
    std::fs::create_dir_all(&out)?;
    let keys = update_keys(&out)?;
    for spec in [KIOSK, BACKEND] {
        if opts.only.as_deref().is_some_and(|o| o != spec.name) {
            continue;
        }
        let t = Instant::now();
        let drift = build_one(spec, &out, &keys, &opts)?;
        if !drift.is_empty() {
            report.insert(format!("{}_lock_drift", spec.name), drift.len() as f64);
        }
        report.insert(format!("{}_s", spec.name), t.elapsed().as_secs_f64());
        for ext in ["raw", "qcow2"] {
            let p = out.join(format!("{}.{ext}", spec.name));
            report.insert(
                format!("{}_{ext}_allocated_mib", spec.name),
                allocated_mib(&p),
            );
        }
    }
    report.insert("total_s".to_string(), started.elapsed().as_secs_f64());
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(out.join("build.json"), &json)?;
    eprintln!("xtask: images in {}\n{json}", out.display());
    Ok(())
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn allocated_mib(p: &Path) -> f64 {
    Command::new("du")
        .args(["-k", "--"])
        .arg(p)
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .next()
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |k| (k / 1024.0 * 10.0).round() / 10.0)
}

/// Paths of the update signing key and certificate.
pub(crate) struct Keys {
    key: PathBuf,
    cert: PathBuf,
}

/// The RAUC signing key. A development key is made once under
/// `target/image/keys/`; a release build points `KIOSK_UPDATE_KEY` and
/// `KIOSK_UPDATE_CERT` at the district's own (kept off the build machine
/// in production, e.g. behind PKCS#11).
fn update_keys(out: &Path) -> Result<Keys> {
    if let (Some(key), Some(cert)) = (
        std::env::var_os("KIOSK_UPDATE_KEY"),
        std::env::var_os("KIOSK_UPDATE_CERT"),
    ) {
        return Ok(Keys {
            key: key.into(),
            cert: cert.into(),
        });
    }
    let dir = out.join("keys");
    std::fs::create_dir_all(&dir)?;
    let (key, cert) = (dir.join("dev.key.pem"), dir.join("dev.cert.pem"));
    if !key.exists() || !cert.exists() {
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:3072",
                "-nodes",
                "-days",
                "3650",
                "-subj",
                "/O=Weidong District/CN=kiosk update signing (development)",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert))?;
    }
    Ok(Keys { key, cert })
}

/// Reads a package list: one name per line, `#` comments.
fn read_list(path: &Path) -> Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// `name=version` lines of a lock file.
fn read_lock(path: &Path) -> Result<BTreeMap<String, String>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(BTreeMap::new());
    };
    Ok(text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_once('='))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect())
}

/// An apt preferences file that holds every locked package to its version.
fn pin_file(lock: &BTreeMap<String, String>) -> String {
    let mut s = String::from("# Generated from the image's lock file.\n\n");
    for (name, version) in lock {
        let _ = write!(
            s,
            "Package: {name}\nPin: version {version}\nPin-Priority: 1001\n\n"
        );
    }
    s
}

/// Builds one image: root file system, partitions, disk, qcow2.
/// Builds one image; returns how its package set differs from the lock
/// (only with `--allow-drift`; otherwise a difference is an error).
fn build_one(spec: Spec, out: &Path, keys: &Keys, opts: &Options) -> Result<Vec<String>> {
    let refresh_lock = opts.refresh_lock;
    let src = root().join("image");
    let work = out.join(spec.name);
    let rootfs = work.join("rootfs");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("removing the old {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;

    let mut packages = read_list(&src.join("packages/common.list"))?;
    packages.extend(read_list(
        &src.join(format!("packages/{}.list", spec.name)),
    )?);
    let lock_path = src.join(format!("packages/{}.lock", spec.name));
    let lock = if refresh_lock {
        BTreeMap::new()
    } else {
        read_lock(&lock_path)?
    };
    let pins = work.join("pins.pref");
    std::fs::write(&pins, pin_file(&lock))?;
    let manifest = work.join("packages.txt");
    let release = target_dir().join("release");

    let mut m = Command::new("mmdebstrap");
    m.args(["--mode=root", "--variant=apt", "--format=directory"])
        .arg(format!("--include={}", packages.join(",")))
        .args([
            "--aptopt=Acquire::Retries \"3\"",
            "--dpkgopt=path-exclude=/usr/share/doc/*",
            "--dpkgopt=path-include=/usr/share/doc/*/copyright",
            "--dpkgopt=path-exclude=/usr/share/man/*",
            "--dpkgopt=path-exclude=/usr/share/info/*",
            "--dpkgopt=path-exclude=/usr/share/locale/*",
            "--dpkgopt=path-include=/usr/share/locale/zh_CN/*",
        ])
        .arg(format!(
            "--setup-hook=mkdir -p \"$1/etc/apt/preferences.d\" && cp {} \"$1/etc/apt/preferences.d/image-lock.pref\"",
            sh_quote(&pins)
        ))
        .arg(format!(
            "--customize-hook=sync-in {} /",
            sh_quote(&src.join("rootfs/common"))
        ))
        .arg(format!(
            "--customize-hook=sync-in {} /",
            sh_quote(&src.join(format!("rootfs/{}", spec.name)))
        ));
    let mut uploads: Vec<(PathBuf, &str)> = Vec::new();
    match spec.name {
        "kiosk" => {
            uploads.push((release.join("kiosk"), "/usr/bin/kiosk"));
            uploads.push((release.join("kioskctl"), "/usr/bin/kioskctl"));
            uploads.push((keys.cert.clone(), "/etc/rauc/keyring.pem"));
            uploads.push((
                src.join("udev/70-kiosk-devices.rules"),
                "/etc/udev/rules.d/70-kiosk-devices.rules",
            ));
            uploads.push((root().join("README.md"), "/usr/share/doc/kiosk/README.md"));
            m.arg("--customize-hook=mkdir -p \"$1/usr/share/kiosk/voice\"");
            m.arg(format!(
                "--customize-hook=sync-in {} /usr/share/kiosk/voice",
                sh_quote(&root().join("assets/voice"))
            ));
        }
        _ => {
            uploads.push((release.join("backend"), "/usr/bin/backend"));
        }
    }
    let bin = work.join("bin");
    std::fs::create_dir_all(&bin)?;
    for (from, to) in &uploads {
        if !from.exists() {
            bail!("{} is missing", from.display());
        }
        // Programs go in without their line tables (a third of the size).
        let from = if to.starts_with("/usr/bin/") {
            let stripped = bin.join(from.file_name().unwrap_or_default());
            run(Command::new("strip")
                .args(["--strip-debug", "-o"])
                .arg(&stripped)
                .arg(from))?;
            stripped
        } else {
            from.clone()
        };
        if let Some(dir) = Path::new(to).parent() {
            m.arg(format!("--customize-hook=mkdir -p \"$1{}\"", dir.display()));
        }
        m.arg(format!("--customize-hook=upload {} {to}", sh_quote(&from)));
    }
    for hook in ["common", spec.name] {
        let h = src.join(format!("hooks/customize-{hook}.sh"));
        m.arg(format!(
            "--customize-hook=upload {} /tmp/customize.sh",
            sh_quote(&h)
        ));
        m.arg(
            "--customize-hook=chroot \"$1\" sh -eu /tmp/customize.sh && rm \"$1/tmp/customize.sh\"",
        );
    }
    m.arg(format!(
        "--customize-hook=chroot \"$1\" dpkg-query -W -f='${{Package}}=${{Version}}\\n' | sort > {}",
        sh_quote(&manifest)
    ));
    // The lock's pins must not stay in the image.
    m.arg("--customize-hook=rm -f \"$1/etc/apt/preferences.d/image-lock.pref\"");
    m.arg(SUITE).arg(&rootfs).arg(format!(
        "deb {MIRROR} {SUITE} main\ndeb {MIRROR} {SUITE}-updates main\ndeb {SECURITY_MIRROR} {SUITE}-security main"
    ));
    m.env("SOURCE_DATE_EPOCH", source_date_epoch());
    run(&mut m)?;

    // mmdebstrap's clean-up removes D-Bus's machine-id link after the
    // hooks ran; on a read-only root systemd-tmpfiles cannot make it later.
    let dbus_id = rootfs.join("var/lib/dbus/machine-id");
    if dbus_id.parent().is_some_and(Path::exists) && !dbus_id.exists() {
        std::os::unix::fs::symlink("/etc/machine-id", &dbus_id)?;
    }
    let drift = check_lock(&manifest, &lock_path, &lock, refresh_lock, opts.allow_drift)?;
    assemble(spec, &work, &rootfs)?;
    if spec.ab {
        bundle(spec, &work, keys)?;
    }
    Ok(drift)
}

/// The commit time of HEAD (stable timestamps inside the image).
fn source_date_epoch() -> String {
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "1764288000".into())
}

fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Compares what was installed with the lock: the same inputs must give
/// the same package set. With `--refresh-lock` (or no lock yet) the lock
/// is written instead. With `--allow-drift` (CI, where a Debian security
/// update must not turn the build red) the differences are printed and
/// returned instead of failing.
fn check_lock(
    manifest: &Path,
    lock_path: &Path,
    lock: &BTreeMap<String, String>,
    refresh: bool,
    allow_drift: bool,
) -> Result<Vec<String>> {
    let got = read_lock(manifest)?;
    if refresh || lock.is_empty() {
        let mut s = String::from(
            "# Debian packages and versions of this image, recorded by\n# `cargo xtask image --refresh-lock`. The build holds them to these\n# versions and fails when the archive no longer has one of them.\n",
        );
        for (n, v) in &got {
            let _ = writeln!(s, "{n}={v}");
        }
        std::fs::write(lock_path, s)?;
        eprintln!("xtask: wrote {}", lock_path.display());
        return Ok(Vec::new());
    }
    let mut diff = Vec::new();
    for (n, v) in &got {
        match lock.get(n) {
            Some(want) if want == v => {}
            Some(want) => diff.push(format!("{n}: locked {want}, installed {v}")),
            None => diff.push(format!("{n}: not in the lock, installed {v}")),
        }
    }
    for n in lock.keys().filter(|n| !got.contains_key(*n)) {
        diff.push(format!("{n}: locked but not installed"));
    }
    if !diff.is_empty() && allow_drift {
        eprintln!(
            "xtask: WARNING: the package set differs from {} (allowed by --allow-drift):\n  {}",
            lock_path.display(),
            diff.join("\n  ")
        );
        return Ok(diff);
    }
    if !diff.is_empty() {
        bail!(
            "the package set differs from {}:\n  {}\n(the archive moved on, e.g. a security update: review and run `cargo xtask image --refresh-lock`)",
            lock_path.display(),
            diff.join("\n  ")
        );
    }
    Ok(Vec::new())
}

/// One partition of the disk.
struct Part {
    name: &'static str,
    type_guid: &'static str,
    size_mib: Option<u64>,
}

const ESP_TYPE: &str = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B";
const ROOT_X86_64_TYPE: &str = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709";
const LINUX_DATA_TYPE: &str = "0FC63DAF-8483-4772-8E79-3D69D8477DE4";

fn layout(spec: Spec) -> Vec<Part> {
    let esp = Part {
        name: "esp",
        type_guid: ESP_TYPE,
        size_mib: Some(64),
    };
    if spec.ab {
        vec![
            esp,
            Part {
                name: "root-a",
                type_guid: ROOT_X86_64_TYPE,
                size_mib: Some(spec.root_mib),
            },
            Part {
                name: "root-b",
                type_guid: ROOT_X86_64_TYPE,
                size_mib: Some(spec.root_mib),
            },
            Part {
                name: "data",
                type_guid: LINUX_DATA_TYPE,
                size_mib: None,
            },
        ]
    } else {
        vec![
            esp,
            Part {
                name: "root-a",
                type_guid: ROOT_X86_64_TYPE,
                size_mib: None,
            },
        ]
    }
}

/// A stable UUID for a name (so two builds of the same inputs agree).
fn stable_uuid(seed: &str) -> String {
    // FNV-1a over the seed, twice with different offsets: not
    // cryptographic, only stable.
    let h = |offset: u64| {
        seed.bytes().fold(offset, |acc, b| {
            (acc ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    let (a, b) = (h(0xcbf2_9ce4_8422_2325), h(0x8422_2325_cbf2_9ce4));
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Partitions, file systems, boot loader and qcow2.
fn assemble(spec: Spec, work: &Path, rootfs: &Path) -> Result<()> {
    let raw = work
        .parent()
        .unwrap_or(work)
        .join(format!("{}.raw", spec.name));
    let _ = std::fs::remove_file(&raw);
    let f = std::fs::File::create(&raw)?;
    f.set_len(spec.disk_mib * 1024 * 1024)?;
    drop(f);

    let mut script = format!(
        "label: gpt\nlabel-id: {}\nfirst-lba: 2048\n",
        stable_uuid(&format!("{}-disk", spec.name))
    );
    for p in layout(spec) {
        let size = p
            .size_mib
            .map(|m| format!("size={m}MiB, "))
            .unwrap_or_default();
        let _ = writeln!(
            script,
            "{size}type={}, name=\"{}\", uuid={}",
            p.type_guid,
            p.name,
            stable_uuid(&format!("{}-{}", spec.name, p.name))
        );
    }
    let mut sfdisk = Command::new("sfdisk");
    sfdisk
        .args(["--quiet", "--no-reread", "--no-tell-kernel"])
        .arg(&raw);
    pipe_in(&mut sfdisk, &script)?;
    let table = partitions(&raw)?;

    for p in layout(spec) {
        let (start, sectors) = *table
            .get(p.name)
            .with_context(|| format!("partition {} not in the table", p.name))?;
        let file = work.join(format!("{}.img", p.name));
        let bytes = sectors * 512;
        match p.name {
            "esp" => make_esp(spec, work, &file, bytes)?,
            "root-a" => make_ext4(&file, bytes, "root-a", Some(rootfs), spec.name)?,
            "root-b" => make_ext4(&file, bytes, "root-b", None, spec.name)?,
            "data" => {
                let skel = work.join("data-skel");
                for d in ["config", "system/systemd", "rauc", "kiosk"] {
                    std::fs::create_dir_all(skel.join(d))?;
                }
                make_ext4(&file, bytes, "data", Some(&skel), spec.name)?;
            }
            _ => {}
        }
        run(Command::new("dd")
            .arg(format!("if={}", file.display()))
            .arg(format!("of={}", raw.display()))
            .args([
                "bs=4M",
                &format!("seek={}", start * 512),
                "oflag=seek_bytes",
                "conv=notrunc,sparse",
                "status=none",
            ]))?;
        if p.name != "root-a" || !spec.ab {
            let _ = std::fs::remove_file(&file);
        }
    }
    let qcow = raw.with_extension("qcow2");
    let _ = std::fs::remove_file(&qcow);
    run(Command::new("qemu-img")
        .args(["convert", "-c", "-O", "qcow2"])
        .arg(&raw)
        .arg(&qcow))?;
    Ok(())
}

fn pipe_in(cmd: &mut Command, input: &str) -> Result<()> {
    use std::io::Write as _;
    eprintln!("xtask: $ {cmd:?} <<EOF\n{input}EOF");
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    child
        .stdin
        .take()
        .context("no stdin")?
        .write_all(input.as_bytes())?;
    let status = child.wait()?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// Partition name → (first sector, sectors), from `sfdisk --json`.
pub(crate) fn partitions(raw: &Path) -> Result<BTreeMap<String, (u64, u64)>> {
    let out = Command::new("sfdisk").arg("--json").arg(raw).output()?;
    if !out.status.success() {
        bail!("sfdisk --json {} failed", raw.display());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let mut map = BTreeMap::new();
    for p in v["partitiontable"]["partitions"]
        .as_array()
        .context("no partitions")?
    {
        if let (Some(name), Some(start), Some(size)) =
            (p["name"].as_str(), p["start"].as_u64(), p["size"].as_u64())
        {
            map.insert(name.to_string(), (start, size));
        }
    }
    Ok(map)
}

fn make_ext4(file: &Path, bytes: u64, label: &str, from: Option<&Path>, image: &str) -> Result<()> {
    let _ = std::fs::remove_file(file);
    let mut c = Command::new("mkfs.ext4");
    c.args(["-q", "-F", "-L", label, "-U"])
        .arg(stable_uuid(&format!("{image}-{label}-fs")))
        .args([
            "-E",
            &format!(
                "root_owner=0:0,hash_seed={}",
                stable_uuid(&format!("{image}-{label}-hash"))
            ),
        ])
        // Metadata checksums and a journal: the data partition takes power
        // cuts; the roots are mounted read-only anyway.
        .args(["-O", "metadata_csum,64bit,^resize_inode", "-J", "size=16"]);
    if let Some(d) = from {
        c.arg("-d").arg(d);
    }
    c.arg(file).arg(format!("{}k", bytes / 1024));
    c.env("E2FSPROGS_FAKE_TIME", source_date_epoch());
    run(&mut c)
}

/// The EFI system partition: GRUB (standalone, with the A/B script built
/// in) as the removable-media boot path, and GRUB's environment block
/// with the initial slot state.
fn make_esp(spec: Spec, work: &Path, file: &Path, bytes: u64) -> Result<()> {
    let src = root().join("image/grub/grub.cfg");
    let cfg = std::fs::read_to_string(&src)?
        .replace("@CMDLINE@", CMDLINE)
        .replace("@ESPLABEL@", ESP_LABEL);
    let cfg_path = work.join("grub.cfg");
    std::fs::write(&cfg_path, cfg)?;
    let efi = work.join("BOOTX64.EFI");
    run(Command::new("grub-mkstandalone")
        .args(["-O", "x86_64-efi", "--locales=", "--fonts=", "--themes="])
        .args([
            "--install-modules=part_gpt fat ext2 search search_label search_fs_file loadenv test echo linux normal configfile efi_gop boot",
            "--modules=part_gpt fat ext2",
        ])
        .arg("-o")
        .arg(&efi)
        .arg(format!("boot/grub/grub.cfg={}", cfg_path.display())))?;
    let env = work.join("grubenv");
    let _ = std::fs::remove_file(&env);
    run(Command::new("grub-editenv").arg(&env).arg("create"))?;
    let state: &[&str] = if spec.ab {
        &["ORDER=A B", "A_OK=1", "A_TRY=0", "B_OK=0", "B_TRY=0"]
    } else {
        &["ORDER=A", "A_OK=1", "A_TRY=0"]
    };
    run(Command::new("grub-editenv")
        .arg(&env)
        .arg("set")
        .args(state))?;

    let _ = std::fs::remove_file(file);
    run(Command::new("mkfs.vfat")
        .args(["-F", "32", "-n", ESP_LABEL, "-i", "57454944", "-C"])
        .arg(file)
        .arg((bytes / 1024).to_string()))?;
    let img = file.display().to_string();
    run(Command::new("mmd").args(["-i", &img, "::/EFI", "::/EFI/BOOT"]))?;
    run(Command::new("mcopy")
        .args(["-i", &img])
        .arg(&efi)
        .arg(&env)
        .arg("::/EFI/BOOT/"))?;
    Ok(())
}

/// The kiosk's update: a signed RAUC bundle (verity format) holding the
/// root file system, checked with the keyring the image trusts.
fn bundle(spec: Spec, work: &Path, keys: &Keys) -> Result<()> {
    let version = super::workspace_version();
    let dir = work.join("bundle");
    std::fs::create_dir_all(&dir)?;
    std::fs::rename(work.join("root-a.img"), dir.join("rootfs.ext4"))?;
    std::fs::write(
        dir.join("manifest.raucm"),
        format!(
            "[update]\ncompatible=weidong-kiosk-x86_64\nversion={version}\ndescription=卫东区政务服务自助终端 {version}\n\n[bundle]\nformat=verity\n\n[image.rootfs]\nfilename=rootfs.ext4\n"
        ),
    )?;
    let out = work
        .parent()
        .unwrap_or(work)
        .join(format!("{}-{version}.raucb", spec.name));
    let _ = std::fs::remove_file(&out);
    run(Command::new("rauc")
        .arg("bundle")
        .arg(format!("--cert={}", keys.cert.display()))
        .arg(format!("--key={}", keys.key.display()))
        .arg(&dir)
        .arg(&out))?;
    run(Command::new("rauc")
        .arg("info")
        .arg(format!("--keyring={}", keys.cert.display()))
        .arg(&out))?;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
