//! Minimal IPP printer for the demo farm (being written, issue 3).
