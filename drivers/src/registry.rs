//! Opens a driver for a device class from its selector.
//!
//! This is the one table of which driver serves which selector scheme,
//! in the manner of probe-rs's probe factories. The kiosk's composition
//! root calls it; nothing else names a concrete driver.

use hal::idcard::IdCardReader;
use hal::receipt::ReceiptPrinter;
use hal::{DeviceError, ErrorKind, Selector};

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

fn unsupported(class: &str, selector: &Selector) -> DeviceError {
    DeviceError::new(
        ErrorKind::Config,
        format!("no {class} driver for selector {selector}"),
    )
}
