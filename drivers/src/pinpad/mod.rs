//! PIN pads over serial (being written, issue 3).
