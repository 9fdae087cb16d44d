//! # imaging: image work for the kiosk
//!
//! Pure processing, no devices: the document pipeline ([`doc`]), code
//! reading from camera frames ([`qr`]), frame decoding and previews
//! ([`frame`]), and the encrypted store that holds
//! residents' images until they are submitted ([`store`]).

pub mod doc;
pub mod frame;
pub mod qr;
pub mod store;
