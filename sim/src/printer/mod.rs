//! ESC/POS printer simulator (being written).
