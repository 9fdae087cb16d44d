//! Synthetic camera scenes: what the simulated cameras see.
//!
//! Every scene is made by the project from drawn shapes and the
//! project's font; there are no images of real people or real documents.

pub mod document;
pub mod face;
pub mod ops;
pub mod qr;
