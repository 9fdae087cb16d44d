//! A4 printers through IPP (being written, issue 3).
