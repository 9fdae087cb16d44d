//! Drivers against the simulators, over their real transports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod camera;
mod cups;
mod fingerprint;
mod idcard;
mod ipp;
mod pinpad;
mod printer;
mod scanner;
mod smartcard;
