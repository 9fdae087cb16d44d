//! # drivers: the real wire protocols behind the `hal` traits
//!
//! A driver never knows whether the far end is hardware or the simulator:
//! it opens whatever its [`hal::Selector`] names (a serial path, which may
//! be a pseudo-terminal; a TCP address, which may be loopback).
//!
//! | module | device | transport |
//! | --- | --- | --- |
//! | [`ga467`] | second-generation ID card reader (GA 467 SAM protocol) | serial |
//! | [`receipt_printer`] | ESC/POS thermal receipt printer | TCP (port 9100) |
//! | [`registry`] | opens a device of a class from a selector string | — |

pub mod camera;
pub mod fingerprint;
pub mod ga467;
pub mod ipp_printer;
pub mod pinpad;
pub mod receipt_printer;
pub mod registry;
pub mod scanner;
mod serial;
pub mod smartcard;
pub mod usb_ids;
