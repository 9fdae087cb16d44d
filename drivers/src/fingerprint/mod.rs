//! Fingerprint modules of the `EF 01` UART protocol family (being written, issue 3).
