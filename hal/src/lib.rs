//! # hal: the device contract of the self-service terminal
//!
//! One module per device class, each with one trait, its plain data types
//! and the outcomes a person can fix. Every device also reports one
//! [`Health`] and fails with one typed [`DeviceError`] whose [`ErrorKind`]
//! stays distinct ("unplugged" is never flattened into "timeout").
//!
//! ## Shape
//!
//! * Drivers implement the traits here as **blocking** objects that own
//!   their port. They never know whether the far end is hardware or the
//!   simulator.
//! * [`actor::spawn`] runs one opened device on its own thread and returns
//!   a cheap, cloneable async [`actor::Handle`]: commands go over a channel
//!   with a reply, person-caused events (card laid, code scanned, paper
//!   out) arrive on a broadcast stream with attach/detach in the same
//!   stream, and the latest [`Health`] sits on a watch channel.
//! * Every blocking method takes a `deadline`; a driver must return
//!   [`ErrorKind::Timeout`] rather than wait past it. Dropping the future
//!   of a handle call cancels the wait for the reply; the device finishes
//!   the operation in progress (so a frame is never cut in half on the
//!   wire) and the result is discarded.
//! * Devices are chosen by [`Selector`] strings in configuration
//!   (`serial:/dev/ttyUSB0?baud=115200`, `tcp:127.0.0.1:9100`,
//!   `usb:0483:5740`, `ipp://host/printers/q`); the simulator is just
//!   another selector, never a code fork.
//!
//! This crate does no I/O of its own.

pub mod actor;
pub mod camera;
pub mod card;
pub mod docprinter;
pub mod error;
pub mod fingerprint;
pub mod health;
pub mod idcard;
pub mod pinpad;
pub mod receipt;
pub mod scanner;
pub mod selector;

pub use actor::{DeviceEvent, Handle};
pub use error::{DeviceError, ErrorKind};
pub use health::{Health, HealthState};
pub use selector::Selector;

/// What every opened device can do, whatever its class.
///
/// The actor calls [`Device::poll`] whenever no command is waiting, at
/// most every [`Device::poll_interval`]; that is where a driver notices a
/// card laid on the reader, a scanned code or a printer running out of
/// paper and turns it into [`DeviceEvent`]s.
pub trait Device: Send + 'static {
    /// Device class, fixed for the life of the object.
    fn kind(&self) -> DeviceKind;

    /// Latest health as last observed; cheap, never touches the wire.
    fn health(&self) -> Health;

    /// Looks at the device once (status query, find card, read pending
    /// bytes) and returns what a person caused since the last poll. The
    /// default does nothing. Must return within `deadline`.
    fn poll(&mut self, _deadline: std::time::Instant) -> Vec<DeviceEvent> {
        Vec::new()
    }

    /// How often the actor polls while idle.
    fn poll_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(300)
    }

    /// Runs the device's own self-test and returns the resulting health,
    /// with [`Health::last_self_test`] set.
    fn self_test(&mut self, deadline: std::time::Instant) -> Result<Health, DeviceError>;
}

impl<T: Device + ?Sized> Device for Box<T> {
    fn kind(&self) -> DeviceKind {
        (**self).kind()
    }
    fn health(&self) -> Health {
        (**self).health()
    }
    fn poll(&mut self, deadline: std::time::Instant) -> Vec<DeviceEvent> {
        (**self).poll(deadline)
    }
    fn poll_interval(&self) -> std::time::Duration {
        (**self).poll_interval()
    }
    fn self_test(&mut self, deadline: std::time::Instant) -> Result<Health, DeviceError> {
        (**self).self_test(deadline)
    }
}

/// The device classes of the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeviceKind {
    IdCardReader,
    FingerprintScanner,
    BarcodeScanner,
    Camera,
    DocumentCamera,
    ReceiptPrinter,
    DocumentPrinter,
    CardReader,
    PinPad,
}

impl DeviceKind {
    /// Stable machine name used on the wire and in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::IdCardReader => "id_card_reader",
            DeviceKind::FingerprintScanner => "fingerprint_scanner",
            DeviceKind::BarcodeScanner => "barcode_scanner",
            DeviceKind::Camera => "camera",
            DeviceKind::DocumentCamera => "document_camera",
            DeviceKind::ReceiptPrinter => "receipt_printer",
            DeviceKind::DocumentPrinter => "document_printer",
            DeviceKind::CardReader => "card_reader",
            DeviceKind::PinPad => "pin_pad",
        }
    }

    /// Name a resident or maintainer reads, in Chinese.
    pub fn name_zh(self) -> &'static str {
        match self {
            DeviceKind::IdCardReader => "身份证阅读器",
            DeviceKind::FingerprintScanner => "指纹仪",
            DeviceKind::BarcodeScanner => "扫码器",
            DeviceKind::Camera => "摄像头",
            DeviceKind::DocumentCamera => "高拍仪",
            DeviceKind::ReceiptPrinter => "凭条打印机",
            DeviceKind::DocumentPrinter => "A4打印机",
            DeviceKind::CardReader => "读卡器",
            DeviceKind::PinPad => "密码键盘",
        }
    }

    /// Name in English.
    pub fn name_en(self) -> &'static str {
        match self {
            DeviceKind::IdCardReader => "ID card reader",
            DeviceKind::FingerprintScanner => "fingerprint scanner",
            DeviceKind::BarcodeScanner => "code scanner",
            DeviceKind::Camera => "camera",
            DeviceKind::DocumentCamera => "document camera",
            DeviceKind::ReceiptPrinter => "receipt printer",
            DeviceKind::DocumentPrinter => "A4 printer",
            DeviceKind::CardReader => "card reader",
            DeviceKind::PinPad => "PIN pad",
        }
    }
}
