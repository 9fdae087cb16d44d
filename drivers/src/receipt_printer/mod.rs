//! ESC/POS receipt printer driver (being written).
