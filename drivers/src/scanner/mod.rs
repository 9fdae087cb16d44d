//! Code scanners: serial (USB-CDC) and HID keyboard mode through evdev (being written, issue 3).
