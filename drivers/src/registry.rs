//! Opens a driver for a device class from its selector.
//!
//! This is the one table of which driver serves which selector scheme,
//! in the manner of probe-rs's probe factories. The kiosk's composition
//! root calls it; nothing else names a concrete driver.

use hal::idcard::IdCardReader;
use hal::receipt::ReceiptPrinter;
use hal::{Device, DeviceError, DeviceKind, ErrorKind, Selector};

use crate::ga467::Ga467Reader;
use crate::receipt_printer::EscPosPrinter;

/// Opens an ID card reader: `serial:PATH[?baud=N]` speaks GA 467.
pub fn open_id_card_reader(selector: &Selector) -> Result<Box<dyn IdCardReader>, DeviceError> {
    match selector {
        Selector::Serial { .. } => Ok(Box::new(Ga467Reader::open(selector)?)),
        other => Err(unsupported("ID card reader", other)),
    }
}

/// Opens a receipt printer: `tcp:HOST:PORT` speaks ESC/POS over TCP.
pub fn open_receipt_printer(selector: &Selector) -> Result<Box<dyn ReceiptPrinter>, DeviceError> {
    match selector {
        Selector::Tcp { .. } => Ok(Box::new(EscPosPrinter::open(selector)?)),
        other => Err(unsupported("receipt printer", other)),
    }
}

/// The device class a configuration key names (`[devices]` of the kiosk
/// configuration): `idcard`, `receipt_printer`, `fingerprint`, `scanner`,
/// `card_reader`, `pin_pad`, `a4_printer` (or the class's wire name).
pub fn kind_for_key(key: &str) -> Option<DeviceKind> {
    Some(match key {
        "idcard" | "id_card_reader" => DeviceKind::IdCardReader,
        "receipt_printer" => DeviceKind::ReceiptPrinter,
        "fingerprint" | "fingerprint_scanner" => DeviceKind::FingerprintScanner,
        "scanner" | "barcode_scanner" | "code_scanner" => DeviceKind::BarcodeScanner,
        "card_reader" => DeviceKind::CardReader,
        "pin_pad" | "pinpad" => DeviceKind::PinPad,
        "a4_printer" | "document_printer" => DeviceKind::DocumentPrinter,
        "camera" => DeviceKind::Camera,
        "document_camera" => DeviceKind::DocumentCamera,
        _ => return None,
    })
}

/// Opens a device of any class as a plain [`Device`] (health, self-test,
/// poll), for diagnostics that treat every device alike.
pub fn open_device(kind: DeviceKind, selector: &Selector) -> Result<Box<dyn Device>, DeviceError> {
    match kind {
        DeviceKind::IdCardReader => match selector {
            Selector::Serial { .. } => Ok(Box::new(Ga467Reader::open(selector)?)),
            other => Err(unsupported("ID card reader", other)),
        },
        DeviceKind::ReceiptPrinter => match selector {
            Selector::Tcp { .. } => Ok(Box::new(EscPosPrinter::open(selector)?)),
            other => Err(unsupported("receipt printer", other)),
        },
        other => Err(DeviceError::new(
            ErrorKind::Unsupported,
            format!("no driver for {} yet", other.name_en()),
        )),
    }
}

fn unsupported(class: &str, selector: &Selector) -> DeviceError {
    DeviceError::new(
        ErrorKind::Config,
        format!("no {class} driver for selector {selector}"),
    )
}
