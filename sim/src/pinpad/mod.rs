//! Simulated PIN pad on a pseudo-terminal (being written, issue 3).
