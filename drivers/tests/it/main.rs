//! Drivers against the simulators, over their real transports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod idcard;
mod printer;
