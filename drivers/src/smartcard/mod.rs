//! Contact and contactless card readers through PC/SC (being written, issue 3).
