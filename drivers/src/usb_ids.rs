//! The USB devices the drivers support, as one typed table, and the udev
//! rules of the kiosk image rendered from it
//! (`image/udev/70-kiosk-devices.rules`, written by `cargo xtask udev`,
//! printed by `kioskctl udev-rules`).
//!
//! In the manner of libfprint's generated autosuspend rules, the rules
//! are never edited by hand: a device is added here, with the source of
//! its ids, and the file is regenerated. A test in `kioskctl` fails when
//! the committed file is stale.
//!
//! Every matched device gets `/dev/kiosk/<role>` (so the kiosk
//! configuration can say `serial:/dev/kiosk/idcard`), group
//! [`GROUP`] with mode [`MODE`] (so the unprivileged `kiosk` user opens
//! exactly these devices), `TAG+="systemd"` (so a unit can depend on
//! `dev-kiosk-idcard.device`) and `ID_KIOSK_ROLE=<role>`.
//!
//! ## Why USB-serial bridges need a serial string
//!
//! The ID card reader, the fingerprint module, a serial receipt printer,
//! a serial code scanner and the PIN pad all reach the PC through the same
//! few USB-UART bridge chips. The chip's vendor and product ids say
//! nothing about what is behind it, so a bridge alone never gets a role:
//! the terminal integrator programs the bridge's USB serial string
//! (FTDI and Silicon Labs chips have an EEPROM for it) to
//! `KIOSK-IDCARD-0`, `KIOSK-FINGER-0`, … ([`Role::serial_prefix`]), and
//! the rules match that prefix. WCH CH340/CH341 and Prolific PL2303
//! bridges report no serial string and cannot carry a role; the rules
//! list them as comments only.
//!
//! Dedicated devices are matched by what they are: a USB printer-class
//! interface (class 07), a UVC camera (class 0e, the product string tells
//! the document camera from the face camera), a CCID card reader
//! (class 0b), and the few receipt printers and code scanners whose ids
//! were checked against `usb.ids` and public driver code (see each
//! entry's `source`). An id that could not be checked is left out: a
//! wrong id is worse than none.

use std::fmt::Write as _;

use hal::DeviceKind;

/// The group of every device node the kiosk opens.
///
/// One group rather than the stock `dialout`, `video` and `input`: those
/// grant every modem, every camera and every keyboard on the machine,
/// while `kiosk-dev` grants only what these rules name, and the kiosk
/// unit needs a single `SupplementaryGroups=kiosk-dev`.
pub const GROUP: &str = "kiosk-dev";

/// Mode of the device nodes: owner root and group [`GROUP`] read/write.
pub const MODE: &str = "0660";

/// File name of the generated rules (70: after the stock 50-60 rules that
/// import the USB properties, before 73-seat-late and 99-systemd).
pub const RULES_FILE: &str = "70-kiosk-devices.rules";

/// Directory of the role symlinks under `/dev`.
pub const SYMLINK_DIR: &str = "kiosk";

/// What a device is for at the kiosk: the name of its `/dev/kiosk/` link
/// and of its key in the kiosk configuration's `[devices]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// PC/SC card reader (social-security and bank cards).
    CardReader,
    /// Document camera (高拍仪).
    DocCamera,
    /// Face camera.
    FaceCamera,
    /// Fingerprint module (`EF 01` over serial).
    Fingerprint,
    /// Resident ID card reader (GA 467 over serial).
    IdCard,
    /// PIN pad (serial).
    PinPad,
    /// ESC/POS receipt printer.
    ReceiptPrinter,
    /// Barcode/QR code scanner.
    Scanner,
}

impl Role {
    /// Every role, in the order of their names.
    pub const ALL: [Role; 8] = [
        Role::CardReader,
        Role::DocCamera,
        Role::FaceCamera,
        Role::Fingerprint,
        Role::IdCard,
        Role::PinPad,
        Role::ReceiptPrinter,
        Role::Scanner,
    ];

    /// The role's name: the symlink `/dev/kiosk/<name>`, the udev property
    /// `ID_KIOSK_ROLE` and the configuration key.
    pub fn name(self) -> &'static str {
        match self {
            Role::CardReader => "card_reader",
            Role::DocCamera => "doc_camera",
            Role::FaceCamera => "face_camera",
            Role::Fingerprint => "fingerprint",
            Role::IdCard => "idcard",
            Role::PinPad => "pin_pad",
            Role::ReceiptPrinter => "receipt_printer",
            Role::Scanner => "scanner",
        }
    }

    /// The symlink relative to `/dev`, e.g. `kiosk/idcard`.
    pub fn symlink(self) -> String {
        format!("{SYMLINK_DIR}/{}", self.name())
    }

    /// The device class the drivers open for this role.
    pub fn kind(self) -> DeviceKind {
        match self {
            Role::CardReader => DeviceKind::CardReader,
            Role::DocCamera => DeviceKind::DocumentCamera,
            Role::FaceCamera => DeviceKind::Camera,
            Role::Fingerprint => DeviceKind::FingerprintScanner,
            Role::IdCard => DeviceKind::IdCardReader,
            Role::PinPad => DeviceKind::PinPad,
            Role::ReceiptPrinter => DeviceKind::ReceiptPrinter,
            Role::Scanner => DeviceKind::BarcodeScanner,
        }
    }

    /// The USB serial string prefix the integrator programs into the
    /// bridge of a device of this role that talks over serial
    /// (`KIOSK-IDCARD-0`, …); `None` for roles that never use a bridge.
    pub fn serial_prefix(self) -> Option<&'static str> {
        match self {
            Role::IdCard => Some("KIOSK-IDCARD"),
            Role::Fingerprint => Some("KIOSK-FINGER"),
            Role::ReceiptPrinter => Some("KIOSK-PRINTER"),
            Role::Scanner => Some("KIOSK-SCANNER"),
            Role::PinPad => Some("KIOSK-PINPAD"),
            Role::CardReader | Role::DocCamera | Role::FaceCamera => None,
        }
    }

    /// Who opens the device node.
    pub fn access(self) -> Access {
        match self {
            // pcscd (root) opens CCID readers through libusb; the kiosk talks
            // to pcscd. libccid's own rules handle the node.
            Role::CardReader => Access::Service("pcscd"),
            _ => Access::Kiosk,
        }
    }
}

/// Who opens a device node, and so which permissions the rules set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The kiosk opens it: group [`GROUP`], mode [`MODE`].
    Kiosk,
    /// A system service opens it (named here); the rules leave the
    /// node's owner and mode to that service's package.
    Service(&'static str),
}

/// The kernel subsystem of the device node a driver opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subsystem {
    /// A serial port: `/dev/ttyUSB*` (bridges) or `/dev/ttyACM*` (CDC ACM).
    Tty,
    /// The whole USB device, `/dev/bus/usb/BBB/DDD`, opened through libusb.
    Usb,
    /// A V4L2 capture node, `/dev/video*`.
    Video4Linux,
    /// An evdev node, `/dev/input/event*` (HID keyboard-mode scanners).
    Input,
}

impl Subsystem {
    /// The udev subsystem name.
    pub fn name(self) -> &'static str {
        match self {
            Subsystem::Tty => "tty",
            Subsystem::Usb => "usb",
            Subsystem::Video4Linux => "video4linux",
            Subsystem::Input => "input",
        }
    }

    /// The match keys that select the right node of the subsystem.
    fn base_keys(self) -> Vec<String> {
        let subsystem = format!("SUBSYSTEM==\"{}\"", self.name());
        match self {
            Subsystem::Tty => vec![subsystem],
            Subsystem::Usb => vec![subsystem, "ENV{DEVTYPE}==\"usb_device\"".into()],
            // A UVC camera has a capture node (index 0) and a metadata node.
            Subsystem::Video4Linux => vec![subsystem, "ATTR{index}==\"0\"".into()],
            // The keyboard node of the scanner (input_id sets ID_INPUT_KEYBOARD).
            Subsystem::Input => vec![
                subsystem,
                "KERNEL==\"event*\"".into(),
                "ENV{ID_INPUT_KEYBOARD}==\"1\"".into(),
            ],
        }
    }

    /// The sysfs attributes of the USB device are the node's own (`ATTR`)
    /// for a usb_device, a parent's (`ATTRS`) otherwise.
    fn attr_key(self) -> &'static str {
        match self {
            Subsystem::Usb => "ATTR",
            _ => "ATTRS",
        }
    }
}

/// A USB interface class, with optional subclass and protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InterfaceClass {
    /// `bInterfaceClass`.
    pub class: u8,
    /// `bInterfaceSubClass`, any when `None`.
    pub subclass: Option<u8>,
    /// `bInterfaceProtocol`, any when `None`.
    pub protocol: Option<u8>,
}

impl InterfaceClass {
    /// Pattern over udev's `ID_USB_INTERFACES` (`:070102:0e0100:` …).
    fn pattern(self) -> String {
        let part = |v: Option<u8>| v.map_or_else(|| "??".to_string(), |v| format!("{v:02x}"));
        format!(
            "*:{:02x}{}{}:*",
            self.class,
            part(self.subclass),
            part(self.protocol)
        )
    }

    fn matches(self, (class, subclass, protocol): (u8, u8, u8)) -> bool {
        self.class == class
            && self.subclass.is_none_or(|s| s == subclass)
            && self.protocol.is_none_or(|p| p == protocol)
    }
}

/// A test on the USB product string, as udev's `ID_MODEL` gives it
/// (spaces become `_`), by shell glob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProductName {
    /// The product string matches the glob.
    Matches(&'static str),
    /// The product string does not match the glob (or is absent).
    Excludes(&'static str),
}

/// What identifies a device on the USB bus. Every present field must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UsbMatch {
    /// `idVendor`.
    pub vendor: Option<u16>,
    /// `idProduct`.
    pub product: Option<u16>,
    /// The device has an interface of this class.
    pub interface: Option<InterfaceClass>,
    /// The device has no interface of this class.
    pub not_interface: Option<InterfaceClass>,
    /// The USB serial string starts with this.
    pub serial_prefix: Option<&'static str>,
    /// The USB product string.
    pub product_name: Option<ProductName>,
}

impl UsbMatch {
    /// Matches everything: the base for struct-update syntax.
    pub const ANY: UsbMatch = UsbMatch {
        vendor: None,
        product: None,
        interface: None,
        not_interface: None,
        serial_prefix: None,
        product_name: None,
    };

    /// Whether a device with these facts satisfies the match (a model of
    /// what the rendered udev rule tests).
    pub fn matches(&self, facts: &DeviceFacts<'_>) -> bool {
        let model = facts.product_name.map(|p| p.replace(' ', "_"));
        self.vendor.is_none_or(|v| v == facts.vendor)
            && self.product.is_none_or(|p| p == facts.product)
            && self
                .interface
                .is_none_or(|i| facts.interfaces.iter().any(|&f| i.matches(f)))
            && self
                .not_interface
                .is_none_or(|i| !facts.interfaces.iter().any(|&f| i.matches(f)))
            && self
                .serial_prefix
                .is_none_or(|p| facts.serial.is_some_and(|s| s.starts_with(p)))
            && match self.product_name {
                None => true,
                Some(ProductName::Matches(g)) => model.as_deref().is_some_and(|m| glob(g, m)),
                Some(ProductName::Excludes(g)) => !model.as_deref().is_some_and(|m| glob(g, m)),
            }
    }
}

/// What the system knows about one device node, for [`roles_for`].
#[derive(Debug, Clone, Copy)]
pub struct DeviceFacts<'a> {
    /// The node's subsystem.
    pub subsystem: Subsystem,
    /// `idVendor` of the USB device.
    pub vendor: u16,
    /// `idProduct` of the USB device.
    pub product: u16,
    /// The USB serial string, if the device has one.
    pub serial: Option<&'a str>,
    /// The USB product string, if the device has one.
    pub product_name: Option<&'a str>,
    /// Class, subclass and protocol of each interface.
    pub interfaces: &'a [(u8, u8, u8)],
}

/// One row of the table: a device (or kind of device) a driver supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsbId {
    /// What it is for at the kiosk.
    pub role: Role,
    /// How it is recognised.
    pub usb: UsbMatch,
    /// Which of its nodes the driver opens.
    pub subsystem: Subsystem,
    /// Human name of the device.
    pub name: &'static str,
    /// Where the ids were checked, or why the entry exists.
    pub source: &'static str,
}

impl UsbId {
    /// Whether this row applies to a device node with these facts.
    pub fn matches(&self, facts: &DeviceFacts<'_>) -> bool {
        self.subsystem == facts.subsystem && self.usb.matches(facts)
    }

    /// The row as one udev rule line (without comment).
    pub fn udev_rule(&self) -> String {
        let attr = self.subsystem.attr_key();
        let mut keys = self.subsystem.base_keys();
        let m = &self.usb;
        if let Some(v) = m.vendor {
            keys.push(format!("{attr}{{idVendor}}==\"{v:04x}\""));
        }
        if let Some(p) = m.product {
            keys.push(format!("{attr}{{idProduct}}==\"{p:04x}\""));
        }
        if let Some(s) = m.serial_prefix {
            keys.push(format!("{attr}{{serial}}==\"{s}*\""));
        }
        if let Some(i) = m.interface {
            keys.push(format!("ENV{{ID_USB_INTERFACES}}==\"{}\"", i.pattern()));
        }
        if let Some(i) = m.not_interface {
            keys.push(format!("ENV{{ID_USB_INTERFACES}}!=\"{}\"", i.pattern()));
        }
        match m.product_name {
            Some(ProductName::Matches(g)) => keys.push(format!("ENV{{ID_MODEL}}==\"{g}\"")),
            Some(ProductName::Excludes(g)) => keys.push(format!("ENV{{ID_MODEL}}!=\"{g}\"")),
            None => {}
        }
        keys.push(format!("SYMLINK+=\"{}\"", self.role.symlink()));
        if self.role.access() == Access::Kiosk {
            keys.push(format!("GROUP=\"{GROUP}\""));
            keys.push(format!("MODE=\"{MODE}\""));
        }
        if self.subsystem == Subsystem::Tty {
            // ModemManager must not probe a reader with AT commands.
            keys.push("ENV{ID_MM_DEVICE_IGNORE}=\"1\"".into());
        }
        keys.push("TAG+=\"systemd\"".into());
        keys.push(format!("ENV{{ID_KIOSK_ROLE}}=\"{}\"", self.role.name()));
        keys.join(", ")
    }

    /// Whether the rule reads properties of the `usb_id` udev builtin.
    fn needs_usb_id(&self) -> bool {
        self.usb.interface.is_some()
            || self.usb.not_interface.is_some()
            || self.usb.product_name.is_some()
    }

    fn sort_key(&self) -> impl Ord + '_ {
        (
            self.role.name(),
            self.subsystem,
            self.usb.vendor,
            self.usb.product,
            self.usb.serial_prefix,
            self.usb.interface,
            self.usb.product_name,
            self.name,
        )
    }
}

/// A USB-UART bridge chip that readers, fingerprint modules, printers and
/// scanners ship with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bridge {
    /// `idVendor`.
    pub vendor: u16,
    /// `idProduct`.
    pub product: u16,
    /// Chip name.
    pub name: &'static str,
    /// Whether the integrator can program the USB serial string; a bridge
    /// without one cannot be told apart and gets no role.
    pub serial_string: bool,
    /// Where the ids were checked.
    pub source: &'static str,
}

const FTDI_IDS: &str = "Linux drivers/usb/serial/ftdi_sio_ids.h; usb.ids";

/// The USB-UART bridges. Ids checked against Linux's `ftdi_sio_ids.h`,
/// `cp210x.c`, `pl2303.h`, `ch341.c` and Debian's `usb.ids` (2025.07.26).
pub const BRIDGES: &[Bridge] = &[
    Bridge {
        vendor: 0x0403,
        product: 0x6001,
        name: "FTDI FT232R/FT232BM (also QEMU usb-serial)",
        serial_string: true,
        source: FTDI_IDS,
    },
    Bridge {
        vendor: 0x0403,
        product: 0x6010,
        name: "FTDI FT2232 dual UART",
        serial_string: true,
        source: FTDI_IDS,
    },
    Bridge {
        vendor: 0x0403,
        product: 0x6011,
        name: "FTDI FT4232H quad UART",
        serial_string: true,
        source: FTDI_IDS,
    },
    Bridge {
        vendor: 0x0403,
        product: 0x6014,
        name: "FTDI FT232H",
        serial_string: true,
        source: FTDI_IDS,
    },
    Bridge {
        vendor: 0x0403,
        product: 0x6015,
        name: "FTDI FT-X (FT230X/FT231X/FT234XD)",
        serial_string: true,
        source: FTDI_IDS,
    },
    Bridge {
        vendor: 0x10c4,
        product: 0xea60,
        name: "Silicon Labs CP210x (CP2102/CP2102N/CP2104)",
        serial_string: true,
        source: "Linux drivers/usb/serial/cp210x.c (factory default); usb.ids",
    },
    Bridge {
        vendor: 0x10c4,
        product: 0xea70,
        name: "Silicon Labs CP2105 dual UART",
        serial_string: true,
        source: "usb.ids",
    },
    Bridge {
        vendor: 0x10c4,
        product: 0xea71,
        name: "Silicon Labs CP2108 quad UART",
        serial_string: true,
        source: "usb.ids",
    },
    Bridge {
        vendor: 0x067b,
        product: 0x2303,
        name: "Prolific PL2303",
        serial_string: false,
        source: "Linux drivers/usb/serial/pl2303.h; usb.ids",
    },
    Bridge {
        vendor: 0x1a86,
        product: 0x5523,
        name: "WCH CH341 (serial mode)",
        serial_string: false,
        source: "Linux drivers/usb/serial/ch341.c; usb.ids",
    },
    Bridge {
        vendor: 0x1a86,
        product: 0x7523,
        name: "WCH CH340",
        serial_string: false,
        source: "Linux drivers/usb/serial/ch341.c; usb.ids (reports SerialNumber=0)",
    },
];

const UVC: InterfaceClass = InterfaceClass {
    class: 0x0e,
    subclass: Some(0x01),
    protocol: None,
};
const DOCUMENT_CAMERA_NAME: &str = "*[Dd]ocument*";

const fn printer_id(vendor: u16, product: u16, name: &'static str, source: &'static str) -> UsbId {
    UsbId {
        role: Role::ReceiptPrinter,
        usb: UsbMatch {
            vendor: Some(vendor),
            product: Some(product),
            ..UsbMatch::ANY
        },
        subsystem: Subsystem::Usb,
        name,
        source,
    }
}

const fn scanner_vendor(
    vendor: u16,
    subsystem: Subsystem,
    name: &'static str,
    source: &'static str,
) -> UsbId {
    UsbId {
        role: Role::Scanner,
        usb: UsbMatch {
            vendor: Some(vendor),
            ..UsbMatch::ANY
        },
        subsystem,
        name,
        source,
    }
}

const HONEYWELL_CDC: &str =
    "usb.ids: 0c2e Metrologic Instruments (Honeywell), 0c2e:0720 MS7120 bi-directional serial mode";
const HONEYWELL_HID: &str =
    "usb.ids: 0c2e Metrologic Instruments (Honeywell), 0c2e:0204 MS7120 keyboard mode";
const ZEBRA_CDC: &str =
    "usb.ids: 05e0 Symbol Technologies (Zebra), 05e0:1701 Bar Code Scanner (CDC)";
const ZEBRA_HID: &str = "usb.ids: 05e0 Symbol Technologies (Zebra), 05e0:1200 Bar Code Scanner";
const NEWLAND_CDC: &str = "usb.ids: 1eab Fujian Newland Computer, 1eab:1d06 FM430 (Serial CDC)";
const NEWLAND_HID: &str = "usb.ids: 1eab Fujian Newland Computer, 1eab:1d03 FM430 (HID keyboard)";

/// Devices recognised by what they are rather than by a bridge's serial
/// string: device classes, and vendors of which every serial or keyboard
/// node is a scanner.
pub const DEDICATED: &[UsbId] = &[
    UsbId {
        role: Role::ReceiptPrinter,
        usb: UsbMatch {
            interface: Some(InterfaceClass {
                class: 0x07,
                subclass: Some(0x01),
                protocol: None,
            }),
            // IPP over USB (protocol 04) is an A4 printer, driven by CUPS.
            not_interface: Some(InterfaceClass {
                class: 0x07,
                subclass: Some(0x01),
                protocol: Some(0x04),
            }),
            ..UsbMatch::ANY
        },
        subsystem: Subsystem::Usb,
        name: "USB printer class without IPP-over-USB (ESC/POS through libusb)",
        source: "USB printer class 07/01; drivers/src/receipt_printer/usb.rs",
    },
    printer_id(
        0x04b8,
        0x0202,
        "Epson UB-U05 interface (TM-T70/TM-T88IV)",
        "usb.ids; python-escpos usage docs (Usb(0x04b8, 0x0202))",
    ),
    printer_id(
        0x04b8,
        0x0e03,
        "Epson TM-T20",
        "usb.ids; python-epson-printer README",
    ),
    printer_id(0x04b8, 0x0e31, "Epson TM-L100", "usb.ids"),
    printer_id(0x1d90, 0x20f0, "Citizen CT-E351", "usb.ids"),
    printer_id(0x0dd4, 0x0237, "Custom K80", "usb.ids"),
    scanner_vendor(
        0x0c2e,
        Subsystem::Tty,
        "Honeywell scanner, USB serial (CDC) mode",
        HONEYWELL_CDC,
    ),
    scanner_vendor(
        0x0c2e,
        Subsystem::Input,
        "Honeywell scanner, HID keyboard mode",
        HONEYWELL_HID,
    ),
    scanner_vendor(
        0x05e0,
        Subsystem::Tty,
        "Zebra/Symbol scanner, USB CDC mode",
        ZEBRA_CDC,
    ),
    scanner_vendor(
        0x05e0,
        Subsystem::Input,
        "Zebra/Symbol scanner, HID keyboard mode",
        ZEBRA_HID,
    ),
    scanner_vendor(
        0x1eab,
        Subsystem::Tty,
        "Newland scanner, USB serial (CDC) mode",
        NEWLAND_CDC,
    ),
    scanner_vendor(
        0x1eab,
        Subsystem::Input,
        "Newland scanner, HID keyboard mode",
        NEWLAND_HID,
    ),
    UsbId {
        role: Role::CardReader,
        usb: UsbMatch {
            interface: Some(InterfaceClass {
                class: 0x0b,
                subclass: None,
                protocol: None,
            }),
            ..UsbMatch::ANY
        },
        subsystem: Subsystem::Usb,
        name: "CCID smart-card reader (pcscd + libccid)",
        source: "USB CCID class 0b; libccid's 92-libccid.rules matches :0b0000:",
    },
    UsbId {
        role: Role::DocCamera,
        usb: UsbMatch {
            interface: Some(UVC),
            product_name: Some(ProductName::Matches(DOCUMENT_CAMERA_NAME)),
            ..UsbMatch::ANY
        },
        subsystem: Subsystem::Video4Linux,
        name: "UVC camera whose product string says Document",
        source: "USB video class 0e/01 (uvcvideo)",
    },
    UsbId {
        role: Role::FaceCamera,
        usb: UsbMatch {
            interface: Some(UVC),
            product_name: Some(ProductName::Excludes(DOCUMENT_CAMERA_NAME)),
            ..UsbMatch::ANY
        },
        subsystem: Subsystem::Video4Linux,
        name: "any other UVC camera",
        source: "USB video class 0e/01 (uvcvideo)",
    },
];

/// The whole table: every role that talks over serial on every bridge
/// with a programmable serial string, then [`DEDICATED`].
pub fn table() -> Vec<UsbId> {
    let mut rows = Vec::new();
    for bridge in BRIDGES.iter().filter(|b| b.serial_string) {
        for role in Role::ALL {
            let Some(prefix) = role.serial_prefix() else {
                continue;
            };
            rows.push(UsbId {
                role,
                usb: UsbMatch {
                    vendor: Some(bridge.vendor),
                    product: Some(bridge.product),
                    serial_prefix: Some(prefix),
                    ..UsbMatch::ANY
                },
                subsystem: Subsystem::Tty,
                name: bridge.name,
                source: bridge.source,
            });
        }
    }
    rows.extend_from_slice(DEDICATED);
    rows.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    rows
}

/// The roles whose rules a device node with these facts satisfies
/// (sorted, without repeats): at most one for a well-formed table.
pub fn roles_for(facts: &DeviceFacts<'_>) -> Vec<Role> {
    let mut roles: Vec<Role> = table()
        .iter()
        .filter(|row| row.matches(facts))
        .map(|row| row.role)
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

/// The complete rules file, deterministic: the same table always renders
/// the same bytes.
pub fn udev_rules() -> String {
    let rows = table();
    let mut out = String::new();
    header(&mut out);
    out.push_str("ACTION==\"remove\", GOTO=\"kiosk_devices_end\"\n\n");
    let mut imports: Vec<Subsystem> = rows
        .iter()
        .filter(|r| r.needs_usb_id())
        .map(|r| r.subsystem)
        .collect();
    imports.sort();
    imports.dedup();
    if !imports.is_empty() {
        out.push_str(
            "# ID_USB_INTERFACES and ID_MODEL come from the usb_id builtin; the stock rules\n\
             # import it already, importing again keeps this file self-contained.\n",
        );
        for s in imports {
            let _ = writeln!(
                out,
                "SUBSYSTEM==\"{}\", SUBSYSTEMS==\"usb\", ENV{{ID_USB_INTERFACES}}==\"\", IMPORT{{builtin}}=\"usb_id\"",
                s.name()
            );
        }
    }
    let mut current: Option<Role> = None;
    for row in &rows {
        if current != Some(row.role) {
            current = Some(row.role);
            role_heading(&mut out, row.role);
        }
        let _ = writeln!(out, "# {}; source: {}", row.name, row.source);
        let _ = writeln!(out, "{}", row.udev_rule());
    }
    out.push_str(
        "\n# Bridges without a USB serial string cannot be told apart: no role, no access.\n\
         # Replace them, or name the port in a site rule (71-kiosk-site.rules) by ENV{ID_PATH}.\n",
    );
    let mut mute: Vec<&Bridge> = BRIDGES.iter().filter(|b| !b.serial_string).collect();
    mute.sort_by_key(|b| (b.vendor, b.product));
    for b in mute {
        let _ = writeln!(
            out,
            "#   {:04x}:{:04x} {} ({})",
            b.vendor, b.product, b.name, b.source
        );
    }
    out.push_str("\nLABEL=\"kiosk_devices_end\"\n");
    out
}

fn header(out: &mut String) {
    let prefixes: Vec<String> = Role::ALL
        .iter()
        .filter_map(|r| r.serial_prefix().map(|p| format!("{p}-0 ({})", r.name())))
        .collect();
    let _ = write!(
        out,
        "# {RULES_FILE}: stable names and permissions of the kiosk terminal's USB devices.\n\
         # 自助终端 USB 设备的固定名称与权限。\n\
         #\n\
         # Generated by `cargo xtask udev` from drivers/src/usb_ids.rs: do not edit.\n\
         # 由 `cargo xtask udev` 根据 drivers/src/usb_ids.rs 生成，请勿手工修改。\n\
         # `kioskctl udev-rules` prints the same text on a terminal.\n\
         #\n\
         # Each device gets /dev/{SYMLINK_DIR}/<role>, GROUP=\"{GROUP}\" MODE=\"{MODE}\" (the kiosk unit needs only\n\
         # SupplementaryGroups={GROUP}; dialout/video/input would grant every modem, camera and\n\
         # keyboard), TAG+=\"systemd\" (dev-kiosk-<role>.device) and ENV{{ID_KIOSK_ROLE}}=\"<role>\".\n\
         #\n\
         # A USB-serial bridge gets a role only by the USB serial string the integrator programs:\n\
         #   {}\n\
         # 串口转换芯片须由集成商写入 USB 序列号（如 KIOSK-IDCARD-0）后才会获得角色。\n\n",
        prefixes.join(", ")
    );
}

fn role_heading(out: &mut String, role: Role) {
    let kind = role.kind();
    let access = match role.access() {
        Access::Kiosk => String::new(),
        Access::Service(s) => format!("; opened by {s}, which keeps its own permissions"),
    };
    let _ = writeln!(
        out,
        "\n# --- {}: {} / {} -> /dev/{}{access}",
        role.name(),
        kind.name_zh(),
        kind.name_en(),
        role.symlink()
    );
}

/// Shell glob as udev uses it: `*`, `?` and `[…]` (with ranges and `!`).
fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_chars(&p, &t)
}

fn glob_chars(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| t.get(i..).is_some_and(|t| glob_chars(rest, t))),
        Some(('?', rest)) => t.split_first().is_some_and(|(_, t)| glob_chars(rest, t)),
        Some(('[', rest)) => match rest.iter().skip(1).position(|&c| c == ']') {
            Some(i) => {
                let (set, after) = rest.split_at(i + 1);
                let after = after.get(1..).unwrap_or_default();
                let (negate, set) = match set.split_first() {
                    Some(('!' | '^', s)) => (true, s),
                    _ => (false, set),
                };
                t.split_first()
                    .is_some_and(|(&c, t)| in_set(set, c) != negate && glob_chars(after, t))
            }
            None => t
                .split_first()
                .is_some_and(|(&c, t)| c == '[' && glob_chars(rest, t)),
        },
        Some((&c, rest)) => t
            .split_first()
            .is_some_and(|(&d, t)| c == d && glob_chars(rest, t)),
    }
}

fn in_set(set: &[char], c: char) -> bool {
    let mut rest = set;
    while let Some((&first, tail)) = rest.split_first() {
        if let ['-', last, tail2 @ ..] = tail {
            if (first..=*last).contains(&c) {
                return true;
            }
            rest = tail2;
        } else {
            if first == c {
                return true;
            }
            rest = tail;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::collections::HashMap;

    fn tty<'a>(vendor: u16, product: u16, serial: Option<&'a str>) -> DeviceFacts<'a> {
        DeviceFacts {
            subsystem: Subsystem::Tty,
            vendor,
            product,
            serial,
            product_name: None,
            interfaces: &[(0xff, 0xff, 0xff)],
        }
    }

    #[test]
    fn the_qemu_idcard_and_printer_bridges_get_their_roles() {
        // What the QEMU harness plugs in: usb-serial (FTDI 0403:6001) with
        // the serial property set.
        assert_eq!(
            roles_for(&tty(0x0403, 0x6001, Some("KIOSK-IDCARD-0"))),
            [Role::IdCard]
        );
        assert_eq!(
            roles_for(&tty(0x0403, 0x6001, Some("KIOSK-PRINTER-0"))),
            [Role::ReceiptPrinter]
        );
        let rules = udev_rules();
        assert!(rules.contains(
            "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"0403\", ATTRS{idProduct}==\"6001\", \
             ATTRS{serial}==\"KIOSK-IDCARD*\", SYMLINK+=\"kiosk/idcard\", GROUP=\"kiosk-dev\", MODE=\"0660\""
        ));
        assert!(
            rules.contains("ATTRS{serial}==\"KIOSK-PRINTER*\", SYMLINK+=\"kiosk/receipt_printer\"")
        );
    }

    #[test]
    fn a_bridge_without_the_kiosk_serial_string_gets_no_role() {
        for b in BRIDGES {
            for serial in [None, Some("A50285BI"), Some("0001"), Some("kiosk-idcard-0")] {
                let facts = tty(b.vendor, b.product, serial);
                assert!(roles_for(&facts).is_empty(), "{} {serial:?}", b.name);
            }
        }
        // CH340 and PL2303 carry no serial string: even the right text
        // would not reach them, so they have no rules at all.
        for b in BRIDGES.iter().filter(|b| !b.serial_string) {
            let ids = format!(
                "ATTRS{{idVendor}}==\"{:04x}\", ATTRS{{idProduct}}==\"{:04x}\"",
                b.vendor, b.product
            );
            assert!(!udev_rules().contains(&ids), "{}", b.name);
            assert!(roles_for(&tty(b.vendor, b.product, Some("KIOSK-IDCARD-0"))).is_empty());
        }
    }

    #[test]
    fn generic_bridges_never_match_without_a_serial_prefix() {
        for row in table() {
            let is_bridge = BRIDGES.iter().any(|b| {
                Some(b.vendor) == row.usb.vendor
                    && (row.usb.product.is_none() || Some(b.product) == row.usb.product)
            });
            if is_bridge {
                assert!(row.usb.serial_prefix.is_some(), "{row:?}");
                assert!(row.udev_rule().contains("{serial}==\"KIOSK-"), "{row:?}");
            }
            // Nothing matches every device of a subsystem.
            assert_ne!(row.usb, UsbMatch::ANY, "{row:?}");
        }
    }

    #[test]
    fn no_two_roles_share_one_match() {
        let mut seen: HashMap<(Subsystem, UsbMatch), Role> = HashMap::new();
        let mut ids: HashMap<(u16, Option<u16>, Option<&str>), Role> = HashMap::new();
        for row in table() {
            if let Some(other) = seen.insert((row.subsystem, row.usb), row.role) {
                assert_eq!(other, row.role, "{row:?}");
            }
            if let Some(v) = row.usb.vendor
                && let Some(other) =
                    ids.insert((v, row.usb.product, row.usb.serial_prefix), row.role)
            {
                assert_eq!(other, row.role, "{row:?}");
            }
        }
    }

    #[test]
    fn serial_prefixes_cannot_be_confused() {
        let prefixes: Vec<&str> = Role::ALL.iter().filter_map(|r| r.serial_prefix()).collect();
        for a in &prefixes {
            assert!(a.starts_with("KIOSK-") && a.is_ascii(), "{a}");
            // FT232R serial strings hold 15 characters: prefix + "-NN".
            assert!(a.len() + 3 <= 16, "{a}");
            for b in &prefixes {
                assert!(a == b || !b.starts_with(a), "{a} is a prefix of {b}");
            }
        }
    }

    #[test]
    fn every_role_has_a_symlink_name_and_a_configuration_key() {
        for role in Role::ALL {
            let name = role.name();
            assert!(
                !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
            assert_eq!(role.symlink(), format!("kiosk/{name}"));
            assert_eq!(
                crate::registry::kind_for_key(name),
                Some(role.kind()),
                "{name}"
            );
            assert!(table().iter().any(|r| r.role == role), "{name} has no rule");
        }
    }

    #[test]
    fn dedicated_devices_get_exactly_one_role() {
        let usb = |interfaces: &'static [(u8, u8, u8)], name: Option<&'static str>| DeviceFacts {
            subsystem: Subsystem::Usb,
            vendor: 0x1234,
            product: 0x5678,
            serial: None,
            product_name: name,
            interfaces,
        };
        let cam = |name| DeviceFacts {
            subsystem: Subsystem::Video4Linux,
            interfaces: &[(0x0e, 0x01, 0x00), (0x0e, 0x02, 0x00)],
            ..usb(&[], Some(name))
        };
        assert_eq!(
            roles_for(&usb(&[(0x07, 0x01, 0x02)], Some("POS-80"))),
            [Role::ReceiptPrinter]
        );
        // An A4 printer speaking IPP over USB belongs to CUPS.
        assert!(roles_for(&usb(&[(0x07, 0x01, 0x02), (0x07, 0x01, 0x04)], None)).is_empty());
        assert_eq!(
            roles_for(&usb(&[(0x0b, 0x00, 0x00)], None)),
            [Role::CardReader]
        );
        assert_eq!(roles_for(&cam("USB Document Camera")), [Role::DocCamera]);
        assert_eq!(roles_for(&cam("HD Webcam")), [Role::FaceCamera]);
        // Keyboards, mass storage, a vendor-class gadget: nothing.
        assert!(roles_for(&usb(&[(0x03, 0x01, 0x01)], Some("Keyboard"))).is_empty());
        assert!(roles_for(&usb(&[(0x08, 0x06, 0x50)], None)).is_empty());
        let epson = DeviceFacts {
            vendor: 0x04b8,
            product: 0x0e03,
            ..usb(&[(0xff, 0x00, 0x00)], None)
        };
        assert_eq!(roles_for(&epson), [Role::ReceiptPrinter]);
        let newland = DeviceFacts {
            subsystem: Subsystem::Input,
            vendor: 0x1eab,
            product: 0x1d03,
            ..usb(&[(0x03, 0x01, 0x01)], None)
        };
        assert_eq!(roles_for(&newland), [Role::Scanner]);
    }

    #[test]
    fn the_card_reader_is_left_to_pcscd_and_the_rest_to_kiosk_dev() {
        for row in table() {
            let rule = row.udev_rule();
            let has_group = rule.contains("GROUP=\"kiosk-dev\", MODE=\"0660\"");
            assert_eq!(has_group, row.role != Role::CardReader, "{rule}");
            assert!(rule.contains("TAG+=\"systemd\""), "{rule}");
            assert!(
                rule.ends_with(&format!("ENV{{ID_KIOSK_ROLE}}=\"{}\"", row.role.name())),
                "{rule}"
            );
        }
    }

    #[test]
    fn the_rules_are_deterministic_sorted_and_say_they_are_generated() {
        let a = udev_rules();
        assert_eq!(a, udev_rules());
        assert!(a.starts_with("# 70-kiosk-devices.rules"));
        assert!(
            a.contains("Generated by `cargo xtask udev` from drivers/src/usb_ids.rs: do not edit.")
        );
        assert!(a.trim_end().ends_with("LABEL=\"kiosk_devices_end\""));
        let roles: Vec<&str> = a
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split("ENV{ID_KIOSK_ROLE}=\"").nth(1))
            .collect();
        let mut sorted = roles.clone();
        sorted.sort();
        assert_eq!(roles, sorted);
        assert_eq!(roles.len(), table().len());
    }

    #[test]
    fn globs_behave_like_udev() {
        assert!(glob("*[Dd]ocument*", "USB_Document_Camera"));
        assert!(glob("*[Dd]ocument*", "document"));
        assert!(!glob("*[Dd]ocument*", "HD_Webcam"));
        assert!(glob("KIOSK-IDCARD*", "KIOSK-IDCARD-0"));
        assert!(glob("a?c", "abc") && !glob("a?c", "ac"));
        assert!(glob("[0-9]x", "7x") && !glob("[!0-9]x", "7x"));
    }
}
