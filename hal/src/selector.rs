//! Device selectors: how configuration names one device.
//!
//! | form | meaning |
//! | --- | --- |
//! | `serial:/dev/ttyUSB0?baud=115200` | a serial port or pseudo-terminal |
//! | `tcp:127.0.0.1:9100` | a TCP socket (network receipt printer) |
//! | `usb:0483:5740` or `usb:0483:5740:SERIAL` | a USB device by vendor and product id |
//! | `ipp://host:631/printers/queue` | an IPP printer |
//! | `pcsc:` or `pcsc:NAME-PART` | a PC/SC reader: the first one, or the first whose name contains NAME-PART |
//! | `input:/dev/input/event3` or `input:name=SUBSTRING` | a Linux input device (HID keyboard-mode code scanner), by path or by a part of its name |
//! | `http://127.0.0.1:8091/` | a network camera speaking Axis VAPIX-style HTTP (`/axis-cgi/…` under the URL's path) |
//! | `v4l:/dev/video0` or `v4l:name=SUBSTRING` | a V4L2 (UVC) camera, by device node or by a part of its name; `usb:VID:PID` finds one by its USB ids |
//! | `none` | the device is not fitted |

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::error::{DeviceError, ErrorKind};

/// A parsed selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Serial {
        path: String,
        options: BTreeMap<String, String>,
    },
    Tcp {
        host: String,
        port: u16,
        options: BTreeMap<String, String>,
    },
    Usb {
        vendor: u16,
        product: u16,
        serial: Option<String>,
    },
    Ipp {
        uri: String,
    },
    /// A Linux input device: `path` when given as `input:/dev/input/eventN`,
    /// otherwise found by the `name` option (`input:name=SUBSTRING`).
    Input {
        path: Option<String>,
        options: BTreeMap<String, String>,
    },
    /// A PC/SC reader through pcscd: the first reader, or the first whose
    /// name contains `reader`.
    Pcsc {
        reader: Option<String>,
    },
    /// An HTTP device (network camera): the base URL as written,
    /// `http://HOST[:PORT]/[PATH]`.
    Http {
        url: String,
    },
    /// A V4L2 camera: `path` when given as `v4l:/dev/videoN`, otherwise
    /// found by the `name` option (`v4l:name=SUBSTRING`).
    V4l {
        path: Option<String>,
        options: BTreeMap<String, String>,
    },
    None,
}

impl Selector {
    /// An option value (`baud` in `serial:/dev/x?baud=9600`).
    pub fn option(&self, key: &str) -> Option<&str> {
        match self {
            Selector::Serial { options, .. }
            | Selector::Tcp { options, .. }
            | Selector::Input { options, .. }
            | Selector::V4l { options, .. } => options.get(key).map(String::as_str),
            _ => None,
        }
    }

    /// A numeric option, or `default` when absent.
    pub fn option_u32(&self, key: &str, default: u32) -> Result<u32, DeviceError> {
        match self.option(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                DeviceError::new(
                    ErrorKind::Config,
                    format!("option {key}={v} is not a number"),
                )
            }),
        }
    }
}

fn parse_options(s: &str) -> Result<BTreeMap<String, String>, DeviceError> {
    let mut map = BTreeMap::new();
    for pair in s.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(|| {
            DeviceError::new(ErrorKind::Config, format!("option {pair:?} lacks '='"))
        })?;
        map.insert(k.to_string(), v.to_string());
    }
    Ok(map)
}

fn split_query(s: &str) -> Result<(&str, BTreeMap<String, String>), DeviceError> {
    match s.split_once('?') {
        Some((a, q)) => Ok((a, parse_options(q)?)),
        None => Ok((s, BTreeMap::new())),
    }
}

fn hex16(s: &str) -> Result<u16, DeviceError> {
    u16::from_str_radix(s, 16)
        .map_err(|_| DeviceError::new(ErrorKind::Config, format!("{s:?} is not a 4-digit hex id")))
}

impl FromStr for Selector {
    type Err = DeviceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s == "none" {
            return Ok(Selector::None);
        }
        if s.starts_with("ipp://") || s.starts_with("ipps://") {
            return Ok(Selector::Ipp { uri: s.to_string() });
        }
        if let Some(rest) = s.strip_prefix("http://") {
            let host = rest.split(['/', '?']).next().unwrap_or_default();
            if host.is_empty() || host.starts_with(':') {
                return Err(DeviceError::new(
                    ErrorKind::Config,
                    format!("http selector {s:?} lacks a host"),
                ));
            }
            return Ok(Selector::Http { url: s.to_string() });
        }
        let (scheme, rest) = s.split_once(':').ok_or_else(|| {
            DeviceError::new(ErrorKind::Config, format!("selector {s:?} lacks a scheme"))
        })?;
        match scheme {
            "serial" => {
                let (path, options) = split_query(rest)?;
                if path.is_empty() {
                    return Err(DeviceError::new(
                        ErrorKind::Config,
                        "serial selector without a path",
                    ));
                }
                Ok(Selector::Serial {
                    path: path.to_string(),
                    options,
                })
            }
            "tcp" => {
                let (addr, options) = split_query(rest)?;
                let (host, port) = addr.rsplit_once(':').ok_or_else(|| {
                    DeviceError::new(
                        ErrorKind::Config,
                        format!("tcp selector {addr:?} lacks a port"),
                    )
                })?;
                let port = port.parse().map_err(|_| {
                    DeviceError::new(ErrorKind::Config, format!("bad port {port:?}"))
                })?;
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if host.is_empty() {
                    return Err(DeviceError::new(
                        ErrorKind::Config,
                        "tcp selector without a host",
                    ));
                }
                Ok(Selector::Tcp {
                    host: host.to_string(),
                    port,
                    options,
                })
            }
            "usb" => {
                let mut parts = rest.splitn(3, ':');
                let vendor = hex16(parts.next().unwrap_or_default())?;
                let product = hex16(parts.next().unwrap_or_default())?;
                let serial = parts.next().map(str::to_string);
                Ok(Selector::Usb {
                    vendor,
                    product,
                    serial,
                })
            }
            "pcsc" => {
                let name = rest.trim();
                Ok(Selector::Pcsc {
                    reader: (!name.is_empty()).then(|| name.to_string()),
                })
            }
            "input" => {
                let (path, options) = if rest.starts_with('/') {
                    let (path, options) = split_query(rest)?;
                    (Some(path.to_string()), options)
                } else {
                    (None, parse_options(rest)?)
                };
                if path.is_none() && options.get("name").is_none_or(String::is_empty) {
                    return Err(DeviceError::new(
                        ErrorKind::Config,
                        "input selector needs /dev/input/eventN or name=SUBSTRING",
                    ));
                }
                Ok(Selector::Input { path, options })
            }
            "v4l" => {
                let (path, options) = if rest.starts_with('/') {
                    let (path, options) = split_query(rest)?;
                    (Some(path.to_string()), options)
                } else {
                    (None, parse_options(rest)?)
                };
                if path.is_none() && options.get("name").is_none_or(String::is_empty) {
                    return Err(DeviceError::new(
                        ErrorKind::Config,
                        "v4l selector needs /dev/videoN or name=SUBSTRING",
                    ));
                }
                Ok(Selector::V4l { path, options })
            }
            other => Err(DeviceError::new(
                ErrorKind::Config,
                format!("unknown selector scheme {other:?}"),
            )),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opts = |options: &BTreeMap<String, String>| {
            if options.is_empty() {
                String::new()
            } else {
                let q: Vec<String> = options.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("?{}", q.join("&"))
            }
        };
        match self {
            Selector::Serial { path, options } => write!(f, "serial:{path}{}", opts(options)),
            Selector::Tcp {
                host,
                port,
                options,
            } => write!(f, "tcp:{host}:{port}{}", opts(options)),
            Selector::Usb {
                vendor,
                product,
                serial: Some(s),
            } => write!(f, "usb:{vendor:04x}:{product:04x}:{s}"),
            Selector::Usb {
                vendor,
                product,
                serial: None,
            } => write!(f, "usb:{vendor:04x}:{product:04x}"),
            Selector::Ipp { uri } => f.write_str(uri),
            Selector::Input {
                path: Some(path),
                options,
            } => write!(f, "input:{path}{}", opts(options)),
            Selector::Input {
                path: None,
                options,
            } => write!(f, "input:{}", opts(options).trim_start_matches('?')),
            Selector::Pcsc { reader } => write!(f, "pcsc:{}", reader.as_deref().unwrap_or("")),
            Selector::Http { url } => f.write_str(url),
            Selector::V4l {
                path: Some(path),
                options,
            } => write!(f, "v4l:{path}{}", opts(options)),
            Selector::V4l {
                path: None,
                options,
            } => write!(f, "v4l:{}", opts(options).trim_start_matches('?')),
            Selector::None => f.write_str("none"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn check(s: &str, expect: Selector) {
        let got: Selector = s.parse().unwrap();
        assert_eq!(got, expect, "{s}");
        assert_eq!(
            got.to_string().parse::<Selector>().unwrap(),
            expect,
            "round trip of {s}"
        );
    }

    #[test]
    fn parses_every_form() {
        let mut o = BTreeMap::new();
        o.insert("baud".to_string(), "115200".to_string());
        check(
            "serial:/dev/pts/5?baud=115200",
            Selector::Serial {
                path: "/dev/pts/5".into(),
                options: o,
            },
        );
        check(
            "tcp:127.0.0.1:9100",
            Selector::Tcp {
                host: "127.0.0.1".into(),
                port: 9100,
                options: BTreeMap::new(),
            },
        );
        check(
            "usb:0483:5740",
            Selector::Usb {
                vendor: 0x0483,
                product: 0x5740,
                serial: None,
            },
        );
        check(
            "usb:0483:5740:A1",
            Selector::Usb {
                vendor: 0x0483,
                product: 0x5740,
                serial: Some("A1".into()),
            },
        );
        check(
            "ipp://localhost:631/printers/KioskPDF",
            Selector::Ipp {
                uri: "ipp://localhost:631/printers/KioskPDF".into(),
            },
        );
        check("none", Selector::None);
    }

    #[test]
    fn parses_input_devices_by_path_or_name() {
        check(
            "input:/dev/input/event3",
            Selector::Input {
                path: Some("/dev/input/event3".into()),
                options: BTreeMap::new(),
            },
        );
        let mut o = BTreeMap::new();
        o.insert("name".to_string(), "Honeywell Scanner".to_string());
        let by_name = Selector::Input {
            path: None,
            options: o,
        };
        check("input:name=Honeywell Scanner", by_name.clone());
        assert_eq!(by_name.option("name"), Some("Honeywell Scanner"));
        let mut o = BTreeMap::new();
        o.insert("gap_ms".to_string(), "80".to_string());
        check(
            "input:/dev/input/event0?gap_ms=80",
            Selector::Input {
                path: Some("/dev/input/event0".into()),
                options: o,
            },
        );
        for bad in ["input:", "input:name=", "input:event3", "input:name"] {
            let err = bad.parse::<Selector>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
    }

    #[test]
    fn rejects_bad_selectors_with_config_errors() {
        for bad in [
            "",
            "serial:",
            "tcp:localhost",
            "tcp::9100",
            "usb:zz:1",
            "ftp:x",
            "serial:/dev/x?baud",
        ] {
            let err = bad.parse::<Selector>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
        let s: Selector = "serial:/dev/x?baud=fast".parse().unwrap();
        assert_eq!(
            s.option_u32("baud", 115200).unwrap_err().kind(),
            ErrorKind::Config
        );
        let s: Selector = "serial:/dev/x".parse().unwrap();
        assert_eq!(s.option_u32("baud", 115200).unwrap(), 115200);
    }

    #[test]
    fn camera_selectors_http_and_v4l() {
        check(
            "http://127.0.0.1:8091/",
            Selector::Http {
                url: "http://127.0.0.1:8091/".into(),
            },
        );
        check(
            "http://cam.local/vapix",
            Selector::Http {
                url: "http://cam.local/vapix".into(),
            },
        );
        check(
            "v4l:/dev/video0",
            Selector::V4l {
                path: Some("/dev/video0".into()),
                options: BTreeMap::new(),
            },
        );
        let mut o = BTreeMap::new();
        o.insert("name".to_string(), "Document Camera".to_string());
        let by_name = Selector::V4l {
            path: None,
            options: o,
        };
        check("v4l:name=Document Camera", by_name.clone());
        assert_eq!(by_name.option("name"), Some("Document Camera"));
        for bad in ["http://", "http://:80/", "v4l:", "v4l:name=", "v4l:video0"] {
            let err = bad.parse::<Selector>().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{bad}");
        }
    }

    #[test]
    fn pcsc_selectors_name_a_reader_or_the_first() {
        check("pcsc:", Selector::Pcsc { reader: None });
        check(
            "pcsc:Virtual PCD 00 00",
            Selector::Pcsc {
                reader: Some("Virtual PCD 00 00".into()),
            },
        );
    }
}
