//! Simulated `EF 01` fingerprint module on a pseudo-terminal (being written, issue 3).
