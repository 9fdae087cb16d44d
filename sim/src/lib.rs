//! # sim: the simulated device farm
//!
//! Each simulated device is a protocol peer with a state that a control
//! API changes. It speaks the same wire protocol as the hardware, over a
//! pseudo-terminal or a loopback socket, so a driver cannot tell the
//! difference. Nothing here shares code with `drivers`: the protocol is
//! written a second time, from the device's side.

pub mod camera;
pub mod control;
pub mod farm;
pub mod fingerprint;
pub mod idcard;
pub mod ipp;
mod net;
pub mod pinpad;
pub mod printer;
pub mod pty;
pub mod scanner;
pub mod scene;
pub mod vpcd;
