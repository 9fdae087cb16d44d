//! Simulated smart cards behind a virtual PC/SC reader (vsmartcard vpcd) (being written, issue 3).
