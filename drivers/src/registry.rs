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

/// Opens a receipt printer: ESC/POS over `tcp:HOST:PORT`,
/// `serial:PATH[?baud=N]` or `usb:VID:PID[:SERIAL]` (`?width=58` for 58 mm paper).
pub fn open_receipt_printer(selector: &Selector) -> Result<Box<dyn ReceiptPrinter>, DeviceError> {
    match selector {
        Selector::Tcp { .. } | Selector::Serial { .. } | Selector::Usb { .. } => {
            Ok(Box::new(EscPosPrinter::open(selector)?))
        }
        other => Err(unsupported("receipt printer", other)),
    }
}

/// The device class a configuration key names (`[devices]` of the kiosk
/// configuration): `idcard`, `receipt_printer`, `fingerprint`, `scanner`,
/// `card_reader`, `pin_pad`, `a4_printer`, `face_camera`, `doc_camera` (or
/// the class's wire name).
pub fn kind_for_key(key: &str) -> Option<DeviceKind> {
    Some(match key {
        "idcard" | "id_card_reader" => DeviceKind::IdCardReader,
        "receipt_printer" => DeviceKind::ReceiptPrinter,
        "fingerprint" | "fingerprint_scanner" => DeviceKind::FingerprintScanner,
        "scanner" | "barcode_scanner" | "code_scanner" => DeviceKind::BarcodeScanner,
        "card_reader" => DeviceKind::CardReader,
        "pin_pad" | "pinpad" => DeviceKind::PinPad,
        "a4_printer" | "document_printer" => DeviceKind::DocumentPrinter,
        "camera" | "face_camera" => DeviceKind::Camera,
        "document_camera" | "doc_camera" => DeviceKind::DocumentCamera,
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
            Selector::Tcp { .. } | Selector::Serial { .. } | Selector::Usb { .. } => {
                Ok(Box::new(EscPosPrinter::open(selector)?))
            }
            other => Err(unsupported("receipt printer", other)),
        },
        DeviceKind::FingerprintScanner => match selector {
            Selector::Serial { .. } => Ok(Box::new(crate::fingerprint::FingerprintModule::open(
                selector,
            )?)),
            other => Err(unsupported("fingerprint scanner", other)),
        },
        DeviceKind::BarcodeScanner => match selector {
            Selector::Serial { .. } => Ok(Box::new(crate::scanner::SerialScanner::open(selector)?)),
            Selector::Input { .. } => Ok(Box::new(crate::scanner::HidScanner::open(selector)?)),
            other => Err(unsupported("code scanner", other)),
        },
        DeviceKind::PinPad => match selector {
            Selector::Serial { .. } => Ok(Box::new(crate::pinpad::SerialPinPad::open(
                selector,
                std::time::Instant::now() + std::time::Duration::from_secs(3),
            )?)),
            other => Err(unsupported("PIN pad", other)),
        },
        DeviceKind::CardReader => match selector {
            Selector::Pcsc { .. } => Ok(Box::new(crate::smartcard::PcscReader::open(selector)?)),
            other => Err(unsupported("card reader", other)),
        },
        DeviceKind::DocumentPrinter => match selector {
            Selector::Ipp { .. } => Ok(Box::new(crate::ipp_printer::IppPrinter::open(selector)?)),
            other => Err(unsupported("A4 printer", other)),
        },
        DeviceKind::Camera => Ok(open_camera(selector)?),
        DeviceKind::DocumentCamera => Ok(open_document_camera(selector)?),
    }
}

/// Opens a fingerprint scanner: `serial:PATH[?baud=57600&address=…&password=…]`
/// speaks the `EF 01` module protocol.
pub fn open_fingerprint_scanner(
    selector: &Selector,
) -> Result<Box<dyn hal::fingerprint::FingerprintScanner>, DeviceError> {
    match selector {
        Selector::Serial { .. } => Ok(Box::new(crate::fingerprint::FingerprintModule::open(
            selector,
        )?)),
        other => Err(unsupported("fingerprint scanner", other)),
    }
}

/// Opens a code scanner: `serial:PATH[?…]` (USB-CDC mode) or
/// `input:/dev/input/eventN` / `input:name=…` (HID keyboard mode).
pub fn open_barcode_scanner(
    selector: &Selector,
) -> Result<Box<dyn hal::scanner::BarcodeScanner>, DeviceError> {
    match selector {
        Selector::Serial { .. } => Ok(Box::new(crate::scanner::SerialScanner::open(selector)?)),
        Selector::Input { .. } => Ok(Box::new(crate::scanner::HidScanner::open(selector)?)),
        other => Err(unsupported("code scanner", other)),
    }
}

/// Opens an A4 printer: `ipp://HOST[:PORT]/PATH` speaks IPP.
pub fn open_document_printer(
    selector: &Selector,
) -> Result<Box<dyn hal::docprinter::DocumentPrinter>, DeviceError> {
    match selector {
        Selector::Ipp { .. } => Ok(Box::new(crate::ipp_printer::IppPrinter::open(selector)?)),
        other => Err(unsupported("A4 printer", other)),
    }
}

/// Opens a face camera: `http://HOST:PORT/` (VAPIX-style network
/// camera, also the simulator's), `v4l:/dev/videoN`, `v4l:name=…` or
/// `usb:VID:PID[:SERIAL]` (UVC through V4L2).
pub fn open_camera(selector: &Selector) -> Result<Box<dyn hal::camera::Camera>, DeviceError> {
    Ok(open_any_camera(selector, DeviceKind::Camera)?)
}

/// Opens a document camera (高拍仪), with the same selectors as
/// [`open_camera`].
pub fn open_document_camera(
    selector: &Selector,
) -> Result<Box<dyn hal::camera::DocumentCamera>, DeviceError> {
    open_any_camera(selector, DeviceKind::DocumentCamera)
}

fn open_any_camera(
    selector: &Selector,
    kind: DeviceKind,
) -> Result<Box<dyn hal::camera::DocumentCamera>, DeviceError> {
    match selector {
        Selector::Http { .. } => Ok(Box::new(crate::camera::NetworkCamera::open(
            selector, kind,
        )?)),
        Selector::V4l { .. } | Selector::Usb { .. } => {
            Ok(Box::new(crate::camera::V4lCamera::open(selector, kind)?))
        }
        other => Err(unsupported(kind.name_en(), other)),
    }
}

fn unsupported(class: &str, selector: &Selector) -> DeviceError {
    DeviceError::new(
        ErrorKind::Config,
        format!("no {class} driver for selector {selector}"),
    )
}
