//! ESC/POS over USB: a printer-class interface (class 7) with a bulk OUT
//! endpoint for the job and a bulk IN endpoint for the `DLE EOT` answers,
//! through `rusb` (libusb).
//!
//! The layer is thin on purpose: finding the device by vendor, product
//! and optional serial number, choosing the interface and endpoints
//! ([`choose`], a pure function of the descriptors so it is tested
//! without a device), detaching the kernel's `usblp` driver, claiming the
//! interface, and bulk transfers with the time left to the deadline.

use std::time::{Duration, Instant};

use hal::{DeviceError, ErrorKind};
use rusb::{Direction, TransferType, UsbContext};

use super::transport::{Transport, remaining};

/// USB interface class of printers.
pub const CLASS_PRINTER: u8 = 7;

/// One endpoint as the descriptor gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointDesc {
    /// Address with the direction bit (0x80 = IN).
    pub address: u8,
    /// Bulk endpoint (the others are of no use for ESC/POS).
    pub bulk: bool,
}

/// One alternate setting of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceDesc {
    pub number: u8,
    pub alt_setting: u8,
    pub class: u8,
    pub subclass: u8,
    /// 1 unidirectional, 2 bidirectional, 3 IEEE 1284.4.
    pub protocol: u8,
    pub endpoints: Vec<EndpointDesc>,
}

/// What the driver claims and talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub interface: u8,
    pub alt_setting: u8,
    pub bulk_out: u8,
    /// `None` on a unidirectional printer: it cannot answer status.
    pub bulk_in: Option<u8>,
}

/// Picks the printer interface: class 7, with a bulk OUT endpoint;
/// among those, a bidirectional one (with a bulk IN for status) wins,
/// and then the lowest interface and alternate setting. Vendor-specific
/// interfaces (class 255) are taken only when there is no class-7 one,
/// as many Chinese printers announce themselves so.
pub fn choose(interfaces: &[InterfaceDesc]) -> Option<Endpoints> {
    let pick = |class: u8| {
        interfaces
            .iter()
            .filter(|i| i.class == class)
            .filter_map(|i| {
                let out = i
                    .endpoints
                    .iter()
                    .find(|e| e.bulk && e.address & 0x80 == 0)?;
                let inn = i.endpoints.iter().find(|e| e.bulk && e.address & 0x80 != 0);
                Some(Endpoints {
                    interface: i.number,
                    alt_setting: i.alt_setting,
                    bulk_out: out.address,
                    bulk_in: inn.map(|e| e.address),
                })
            })
            .min_by_key(|e| (e.bulk_in.is_none(), e.interface, e.alt_setting))
    };
    pick(CLASS_PRINTER).or_else(|| pick(0xFF))
}

fn usb_error(e: rusb::Error, what: &str) -> DeviceError {
    let kind = match e {
        rusb::Error::Timeout => ErrorKind::Timeout,
        rusb::Error::NoDevice | rusb::Error::Io | rusb::Error::Pipe | rusb::Error::Interrupted => {
            ErrorKind::Disconnected
        }
        rusb::Error::NotFound => ErrorKind::NotFound,
        rusb::Error::Access => ErrorKind::PermissionDenied,
        rusb::Error::Busy => ErrorKind::Busy,
        rusb::Error::InvalidParam => ErrorKind::Config,
        rusb::Error::NotSupported => ErrorKind::Unsupported,
        rusb::Error::Overflow
        | rusb::Error::BadDescriptor
        | rusb::Error::NoMem
        | rusb::Error::Other => ErrorKind::Protocol,
    };
    DeviceError::new(kind, format!("{what}: {e}")).with_source(e)
}

/// A printer on USB, `usb:VID:PID[:SERIAL]`.
pub(crate) struct UsbTransport {
    vendor: u16,
    product: u16,
    serial: Option<String>,
    open: Option<(rusb::DeviceHandle<rusb::Context>, Endpoints)>,
}

impl UsbTransport {
    pub(crate) fn new(vendor: u16, product: u16, serial: Option<String>) -> Self {
        UsbTransport {
            vendor,
            product,
            serial,
            open: None,
        }
    }

    fn find(&self) -> Result<(rusb::DeviceHandle<rusb::Context>, Endpoints), DeviceError> {
        let ctx = rusb::Context::new().map_err(|e| usb_error(e, "starting libusb"))?;
        let devices = ctx
            .devices()
            .map_err(|e| usb_error(e, "listing USB devices"))?;
        for dev in devices.iter() {
            let Ok(desc) = dev.device_descriptor() else {
                continue;
            };
            if desc.vendor_id() != self.vendor || desc.product_id() != self.product {
                continue;
            }
            let handle = dev
                .open()
                .map_err(|e| usb_error(e, "opening the printer"))?;
            if let Some(want) = &self.serial {
                let got = handle
                    .read_serial_number_string_ascii(&desc)
                    .unwrap_or_default();
                if &got != want {
                    continue;
                }
            }
            let config = dev
                .active_config_descriptor()
                .map_err(|e| usb_error(e, "reading the configuration"))?;
            let mut interfaces = Vec::new();
            for iface in config.interfaces() {
                for alt in iface.descriptors() {
                    interfaces.push(InterfaceDesc {
                        number: alt.interface_number(),
                        alt_setting: alt.setting_number(),
                        class: alt.class_code(),
                        subclass: alt.sub_class_code(),
                        protocol: alt.protocol_code(),
                        endpoints: alt
                            .endpoint_descriptors()
                            .map(|e| EndpointDesc {
                                address: e.address()
                                    | if e.direction() == Direction::In {
                                        0x80
                                    } else {
                                        0
                                    },
                                bulk: e.transfer_type() == TransferType::Bulk,
                            })
                            .collect(),
                    });
                }
            }
            let eps = choose(&interfaces).ok_or_else(|| {
                DeviceError::new(
                    ErrorKind::Unsupported,
                    format!(
                        "USB device {:04x}:{:04x} has no printer interface with a bulk OUT endpoint",
                        self.vendor, self.product
                    ),
                )
            })?;
            // The kernel's usblp holds the interface; take it over.
            let _ = handle.set_auto_detach_kernel_driver(true);
            handle
                .claim_interface(eps.interface)
                .map_err(|e| usb_error(e, "claiming the printer interface"))?;
            if eps.alt_setting != 0 {
                handle
                    .set_alternate_setting(eps.interface, eps.alt_setting)
                    .map_err(|e| usb_error(e, "selecting the alternate setting"))?;
            }
            return Ok((handle, eps));
        }
        Err(DeviceError::new(
            ErrorKind::NotFound,
            format!(
                "no USB device {:04x}:{:04x}{}",
                self.vendor,
                self.product,
                if self.serial.is_some() {
                    " with that serial number"
                } else {
                    ""
                }
            ),
        ))
    }
}

impl Transport for UsbTransport {
    fn describe(&self) -> String {
        format!("usb:{:04x}:{:04x}", self.vendor, self.product)
    }

    fn is_open(&self) -> bool {
        self.open.is_some()
    }

    fn open(&mut self, _deadline: Instant) -> Result<(), DeviceError> {
        if self.open.is_none() {
            self.open = Some(self.find()?);
        }
        Ok(())
    }

    fn close(&mut self) {
        if let Some((h, eps)) = self.open.take() {
            let _ = h.release_interface(eps.interface);
        }
    }

    fn write_all(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), DeviceError> {
        let (h, eps) = self
            .open
            .as_ref()
            .ok_or_else(|| DeviceError::disconnected("USB printer not open"))?;
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = h
                .write_bulk(eps.bulk_out, rest, remaining(deadline)?)
                .map_err(|e| usb_error(e, "sending"))?;
            rest = rest.get(n..).unwrap_or_default();
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, DeviceError> {
        let (h, eps) = self
            .open
            .as_ref()
            .ok_or_else(|| DeviceError::disconnected("USB printer not open"))?;
        let Some(inn) = eps.bulk_in else {
            return Err(DeviceError::new(
                ErrorKind::Unsupported,
                "USB printer is unidirectional: it cannot answer status",
            ));
        };
        loop {
            // A zero-length packet is not an answer: read again.
            let n = h
                .read_bulk(inn, buf, remaining(deadline)?)
                .map_err(|e| usb_error(e, "reading"))?;
            if n > 0 {
                return Ok(n);
            }
        }
    }

    fn discard_input(&mut self) -> Result<(), DeviceError> {
        let Some((h, eps)) = self.open.as_ref() else {
            return Err(DeviceError::disconnected("USB printer not open"));
        };
        let Some(inn) = eps.bulk_in else {
            return Ok(());
        };
        let mut junk = [0u8; 64];
        for _ in 0..16 {
            match h.read_bulk(inn, &mut junk, Duration::from_millis(1)) {
                Ok(_) => continue,
                Err(rusb::Error::Timeout) => return Ok(()),
                Err(e) => return Err(usb_error(e, "draining")),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ep(address: u8) -> EndpointDesc {
        EndpointDesc {
            address,
            bulk: true,
        }
    }

    fn iface(number: u8, class: u8, protocol: u8, endpoints: Vec<EndpointDesc>) -> InterfaceDesc {
        InterfaceDesc {
            number,
            alt_setting: 0,
            class,
            subclass: 1,
            protocol,
            endpoints,
        }
    }

    #[test]
    fn a_bidirectional_printer_interface_gives_bulk_out_and_in() {
        // A composite device: HID on 0, printer on 1 (OUT 0x02, IN 0x81).
        let d = vec![
            iface(
                0,
                3,
                0,
                vec![EndpointDesc {
                    address: 0x83,
                    bulk: false,
                }],
            ),
            iface(1, 7, 2, vec![ep(0x02), ep(0x81)]),
        ];
        assert_eq!(
            choose(&d),
            Some(Endpoints {
                interface: 1,
                alt_setting: 0,
                bulk_out: 0x02,
                bulk_in: Some(0x81)
            })
        );
    }

    #[test]
    fn bidirectional_wins_over_unidirectional_and_interrupt_is_ignored() {
        let mut uni = iface(0, 7, 1, vec![ep(0x01)]);
        uni.alt_setting = 0;
        let mut bi = iface(0, 7, 2, vec![ep(0x01), ep(0x82)]);
        bi.alt_setting = 1;
        let e = choose(&[uni.clone(), bi]).unwrap();
        assert_eq!((e.alt_setting, e.bulk_in), (1, Some(0x82)));
        let only = choose(&[uni]).unwrap();
        assert_eq!(only.bulk_in, None);
        let interrupt_only = iface(
            0,
            7,
            2,
            vec![
                EndpointDesc {
                    address: 0x01,
                    bulk: false,
                },
                ep(0x81),
            ],
        );
        assert_eq!(choose(&[interrupt_only]), None, "no bulk OUT: not usable");
    }

    #[test]
    fn a_vendor_specific_interface_is_the_fallback() {
        let d = vec![iface(0, 0xFF, 0, vec![ep(0x03), ep(0x84)])];
        assert_eq!(choose(&d).unwrap().bulk_out, 0x03);
        let d = vec![
            iface(0, 0xFF, 0, vec![ep(0x03), ep(0x84)]),
            iface(1, 7, 2, vec![ep(0x05), ep(0x86)]),
        ];
        assert_eq!(choose(&d).unwrap().interface, 1, "class 7 first");
        assert_eq!(choose(&[iface(0, 8, 80, vec![ep(0x01), ep(0x81)])]), None);
    }

    #[test]
    fn usb_errors_map_to_what_a_maintainer_can_act_on() {
        assert_eq!(
            usb_error(rusb::Error::NoDevice, "x").kind(),
            ErrorKind::Disconnected
        );
        assert_eq!(
            usb_error(rusb::Error::Access, "x").kind(),
            ErrorKind::PermissionDenied
        );
        assert_eq!(
            usb_error(rusb::Error::Timeout, "x").kind(),
            ErrorKind::Timeout
        );
        assert_eq!(usb_error(rusb::Error::Busy, "x").kind(), ErrorKind::Busy);
    }

    #[test]
    fn a_usb_printer_that_is_not_there_is_not_found() {
        let mut t = UsbTransport::new(0xFFFE, 0x0001, None);
        let e = t.open(Instant::now() + Duration::from_secs(1)).unwrap_err();
        // No libusb access in some sandboxes: that is a different, honest
        // error, never a success.
        assert!(
            matches!(
                e.kind(),
                ErrorKind::NotFound
                    | ErrorKind::PermissionDenied
                    | ErrorKind::Protocol
                    | ErrorKind::Disconnected
            ),
            "{e}"
        );
    }
}
