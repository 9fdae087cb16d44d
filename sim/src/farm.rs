//! A device farm: the set of simulated devices one `sim run` serves.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::camera::{CameraModel, CameraSim};
use crate::fingerprint::FingerprintSim;
use crate::idcard::{IdCardSim, demo_person};
use crate::ipp::IppSim;
use crate::pinpad::PinPadSim;
use crate::printer::PrinterSim;
use crate::scanner::{ScannerConfig, ScannerSim};
use crate::vpcd::{VPCD_PORT, VirtualCardSim};

/// The PIN pad's terminal master key in the demo farm (a test key, never
/// a production one).
pub const DEMO_PIN_PAD_TMK: [u8; 16] = *b"KIOSK-DEMO-TMK01";

/// The farm's configuration file (TOML).
///
/// ```toml
/// control = "127.0.0.1:8070"
///
/// [[device]]
/// name = "idcard"
/// kind = "idcard"
/// card = "zhangwei"          # optional: a demo person laid at start
///
/// [[device]]
/// name = "receipt_printer"
/// kind = "receipt_printer"
/// address = "127.0.0.1:9100"   # or: serial = true (on a pseudo-terminal)
///
/// [[device]]
/// name = "fingerprint"
/// kind = "fingerprint"
///
/// [[device]]
/// name = "scanner"
/// kind = "scanner"
///
/// [[device]]
/// name = "pin_pad"
/// kind = "pin_pad"
///
/// [[device]]
/// name = "card_reader"
/// kind = "card_reader"          # the card side of pcscd's vpcd reader
/// address = "127.0.0.1:35963"
///
/// [[device]]
/// name = "a4_printer"
/// kind = "a4_printer"
/// address = "127.0.0.1:8631"
///
/// [[device]]
/// name = "face_camera"
/// kind = "camera"                # VAPIX-style network camera, 1920x1080
/// address = "127.0.0.1:8091"
///
/// [[device]]
/// name = "doc_camera"
/// kind = "document_camera"       # 高拍仪, 4000x3000 stills
/// address = "127.0.0.1:8092"
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FarmConfig {
    /// Address of the control API and web page.
    #[serde(default = "default_control")]
    pub control: SocketAddr,
    /// Devices to simulate.
    #[serde(default, rename = "device")]
    pub devices: Vec<DeviceConfig>,
}

fn default_control() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8070))
}

/// One simulated device.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    pub name: String,
    pub kind: DeviceKindConfig,
    /// Listen address for network devices.
    #[serde(default)]
    pub address: Option<SocketAddr>,
    /// ID card reader: a demo person whose card lies on the reader at start.
    #[serde(default)]
    pub card: Option<String>,
    /// Receipt printer: on a pseudo-terminal (serial) instead of TCP.
    #[serde(default)]
    pub serial: bool,
}

/// Kinds of simulated device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKindConfig {
    Idcard,
    ReceiptPrinter,
    Fingerprint,
    Scanner,
    PinPad,
    A4Printer,
    CardReader,
    Camera,
    DocumentCamera,
}

impl FarmConfig {
    /// The default demo farm: the ID card reader, fingerprint scanner,
    /// code scanner and PIN pad on pseudo-terminals, the receipt printer
    /// on 127.0.0.1:9100, the A4 printer (IPP) on 127.0.0.1:8631, the face
    /// camera on 127.0.0.1:8091 and the document camera on 127.0.0.1:8092.
    pub fn demo() -> Self {
        let dev = |name: &str, kind, address: Option<SocketAddr>| DeviceConfig {
            name: name.into(),
            kind,
            address,
            card: None,
            serial: false,
        };
        FarmConfig {
            control: default_control(),
            devices: vec![
                dev("idcard", DeviceKindConfig::Idcard, None),
                dev(
                    "receipt_printer",
                    DeviceKindConfig::ReceiptPrinter,
                    Some(SocketAddr::from(([127, 0, 0, 1], 9100))),
                ),
                dev("fingerprint", DeviceKindConfig::Fingerprint, None),
                dev("scanner", DeviceKindConfig::Scanner, None),
                dev("pin_pad", DeviceKindConfig::PinPad, None),
                dev(
                    "card_reader",
                    DeviceKindConfig::CardReader,
                    Some(SocketAddr::from(([127, 0, 0, 1], VPCD_PORT))),
                ),
                dev(
                    "a4_printer",
                    DeviceKindConfig::A4Printer,
                    Some(SocketAddr::from(([127, 0, 0, 1], 8631))),
                ),
                dev(
                    "face_camera",
                    DeviceKindConfig::Camera,
                    Some(SocketAddr::from(([127, 0, 0, 1], 8091))),
                ),
                dev(
                    "doc_camera",
                    DeviceKindConfig::DocumentCamera,
                    Some(SocketAddr::from(([127, 0, 0, 1], 8092))),
                ),
            ],
        }
    }

    /// Reads a TOML configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let cfg: FarmConfig =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let mut names: Vec<&str> = cfg.devices.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() != cfg.devices.len() {
            bail!("device names in {} must be unique", path.display());
        }
        Ok(cfg)
    }
}

/// A running simulated device.
#[derive(Clone)]
pub enum SimDevice {
    IdCard(IdCardSim),
    ReceiptPrinter(PrinterSim),
    Fingerprint(FingerprintSim),
    Scanner(ScannerSim),
    PinPad(PinPadSim),
    A4Printer(IppSim),
    CardReader(VirtualCardSim),
    /// The face camera or the document camera.
    Camera(CameraSim),
}

impl SimDevice {
    /// Machine name of the device class, as the kiosk's `hal` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            SimDevice::IdCard(_) => "id_card_reader",
            SimDevice::ReceiptPrinter(_) => "receipt_printer",
            SimDevice::Fingerprint(_) => "fingerprint_scanner",
            SimDevice::Scanner(_) => "barcode_scanner",
            SimDevice::PinPad(_) => "pin_pad",
            SimDevice::A4Printer(_) => "document_printer",
            SimDevice::CardReader(_) => "card_reader",
            SimDevice::Camera(s) => s.model().kind(),
        }
    }

    /// Where a driver reaches it: a serial path or a TCP address.
    pub fn address(&self) -> String {
        match self {
            SimDevice::IdCard(s) => s.path().display().to_string(),
            SimDevice::ReceiptPrinter(s) => match s.path() {
                Some(p) => p.display().to_string(),
                None => s.addr().to_string(),
            },
            SimDevice::Fingerprint(s) => s.path().display().to_string(),
            SimDevice::Scanner(s) => s.path().display().to_string(),
            SimDevice::PinPad(s) => s.path().display().to_string(),
            SimDevice::A4Printer(s) => s.addr().to_string(),
            SimDevice::CardReader(s) => s.addr().to_string(),
            SimDevice::Camera(s) => s.addr().to_string(),
        }
    }

    /// The selector string a kiosk configuration would use.
    pub fn selector(&self) -> String {
        match self {
            SimDevice::IdCard(s) => format!("serial:{}?baud=115200", s.path().display()),
            SimDevice::ReceiptPrinter(s) => s.selector(),
            SimDevice::Fingerprint(s) => format!("serial:{}?baud=57600", s.path().display()),
            SimDevice::Scanner(s) => format!("serial:{}?baud=9600&suffix=cr", s.path().display()),
            SimDevice::PinPad(s) => format!("serial:{}?baud=9600", s.path().display()),
            SimDevice::A4Printer(s) => s.uri(),
            // The reader is pcscd's virtual one; the simulator is the card.
            SimDevice::CardReader(s) => {
                if s.addr().port() == VPCD_PORT {
                    "pcsc:Virtual PCD 00 00".into()
                } else {
                    "pcsc:Virtual PCD 00 01".into()
                }
            }
            SimDevice::Camera(s) => s.url(),
        }
    }

    /// Current state as JSON.
    pub fn state_json(&self) -> serde_json::Value {
        match self {
            SimDevice::IdCard(s) => serde_json::to_value(s.state()).unwrap_or_default(),
            SimDevice::ReceiptPrinter(s) => serde_json::to_value(s.state()).unwrap_or_default(),
            SimDevice::Fingerprint(s) => serde_json::to_value(s.state()).unwrap_or_default(),
            SimDevice::Scanner(s) => serde_json::to_value(s.state()).unwrap_or_default(),
            SimDevice::PinPad(s) => serde_json::to_value(s.state()).unwrap_or_default(),
            SimDevice::A4Printer(s) => serde_json::to_value(s.state()).unwrap_or_default(),
            SimDevice::CardReader(s) => serde_json::to_value(s.state()).unwrap_or_default(),
            SimDevice::Camera(s) => serde_json::to_value(s.state()).unwrap_or_default(),
        }
    }

    fn stop(&self) {
        match self {
            SimDevice::IdCard(s) => s.stop(),
            SimDevice::ReceiptPrinter(s) => s.stop(),
            SimDevice::Fingerprint(s) => s.stop(),
            SimDevice::Scanner(s) => s.stop(),
            SimDevice::PinPad(s) => s.stop(),
            SimDevice::A4Printer(s) => s.stop(),
            SimDevice::CardReader(s) => s.stop(),
            SimDevice::Camera(s) => s.stop(),
        }
    }
}

/// The running farm.
pub struct Farm {
    devices: Vec<(String, SimDevice)>,
    dir: PathBuf,
}

impl Farm {
    /// Starts every device of `config`. Serial devices get stable symlinks
    /// in `dir`; printers keep their received jobs under `dir/jobs/NAME`.
    pub fn start(config: &FarmConfig, dir: &Path) -> anyhow::Result<Farm> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut devices = Vec::new();
        for d in &config.devices {
            let dev = match d.kind {
                DeviceKindConfig::Idcard => {
                    let sim = IdCardSim::start(dir, &d.name)
                        .with_context(|| format!("starting {}", d.name))?;
                    if let Some(key) = &d.card {
                        let card = demo_person(key)
                            .with_context(|| format!("unknown demo person {key:?}"))?;
                        sim.lay_card(card);
                    }
                    SimDevice::IdCard(sim)
                }
                DeviceKindConfig::ReceiptPrinter if d.serial => {
                    let sim = PrinterSim::start_serial(dir, &d.name)
                        .with_context(|| format!("starting {} on a pseudo-terminal", d.name))?;
                    SimDevice::ReceiptPrinter(sim)
                }
                DeviceKindConfig::ReceiptPrinter => {
                    let addr = d
                        .address
                        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9100)));
                    let jobs = dir.join("jobs").join(&d.name);
                    std::fs::create_dir_all(&jobs)?;
                    let sim = PrinterSim::start(addr, &jobs)
                        .with_context(|| format!("starting {} on {addr}", d.name))?;
                    SimDevice::ReceiptPrinter(sim)
                }
                DeviceKindConfig::Fingerprint => SimDevice::Fingerprint(
                    FingerprintSim::start(dir, &d.name)
                        .with_context(|| format!("starting {}", d.name))?,
                ),
                DeviceKindConfig::Scanner => SimDevice::Scanner(
                    ScannerSim::start(dir, &d.name, ScannerConfig::default())
                        .with_context(|| format!("starting {}", d.name))?,
                ),
                DeviceKindConfig::PinPad => SimDevice::PinPad(
                    PinPadSim::start(dir, &d.name, &DEMO_PIN_PAD_TMK)
                        .with_context(|| format!("starting {}", d.name))?,
                ),
                DeviceKindConfig::CardReader => {
                    let addr = d
                        .address
                        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], VPCD_PORT)));
                    SimDevice::CardReader(
                        VirtualCardSim::start(addr)
                            .with_context(|| format!("starting {}", d.name))?,
                    )
                }
                DeviceKindConfig::A4Printer => {
                    let addr = d
                        .address
                        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8631)));
                    let docs = dir.join("a4").join(&d.name);
                    std::fs::create_dir_all(&docs)?;
                    let sim = IppSim::start(addr, &docs)
                        .with_context(|| format!("starting {} on {addr}", d.name))?;
                    SimDevice::A4Printer(sim)
                }
                DeviceKindConfig::Camera | DeviceKindConfig::DocumentCamera => {
                    let (model, port) = if d.kind == DeviceKindConfig::Camera {
                        (CameraModel::Face, 8091)
                    } else {
                        (CameraModel::Document, 8092)
                    };
                    let addr = d
                        .address
                        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], port)));
                    SimDevice::Camera(
                        CameraSim::start(addr, model)
                            .with_context(|| format!("starting {} on {addr}", d.name))?,
                    )
                }
            };
            devices.push((d.name.clone(), dev));
        }
        Ok(Farm {
            devices,
            dir: dir.to_path_buf(),
        })
    }

    /// One JSON object per device: `{"device", "kind", "address", "selector"}`.
    pub fn announce(&self) -> Vec<serde_json::Value> {
        self.devices
            .iter()
            .map(|(name, d)| {
                serde_json::json!({
                    "device": name,
                    "kind": d.kind(),
                    "address": d.address(),
                    "selector": d.selector(),
                })
            })
            .collect()
    }

    /// The device called `name`.
    pub fn get(&self, name: &str) -> Option<&SimDevice> {
        self.devices.iter().find(|(n, _)| n == name).map(|(_, d)| d)
    }

    /// All devices with their names.
    pub fn devices(&self) -> &[(String, SimDevice)] {
        &self.devices
    }

    /// The farm's working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops every device.
    pub fn stop(&self) {
        for (_, d) in &self.devices {
            d.stop();
        }
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        self.stop();
    }
}
