//! Simulated serial code scanner on a pseudo-terminal (being written, issue 3).
