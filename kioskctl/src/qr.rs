//! `kioskctl qr decode FILE...`: reads the codes in image files (a photo
//! of a receipt, a frame saved by `kioskctl camera snap`) with the
//! kiosk's own decoder.
//!
//! Prints the text of every code found, one per line, and nothing else,
//! so the output can be piped. Exit codes: 0 at least one code found; 1
//! none in any file; 2 a file could not be read or is not an image (one
//! line on stderr, Chinese then English; the other files are still read).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum Action {
    /// Prints the text of each code in the files, one per line.
    /// Exit 0 found; 1 none found; 2 unreadable file.
    Decode {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run(action: Action) -> ExitCode {
    let Action::Decode { files } = action;
    let mut found = 0usize;
    let mut unreadable = false;
    let mut out = std::io::stdout().lock();
    for file in &files {
        match imaging::qr::decode_file(file) {
            Ok(codes) => {
                for code in codes {
                    found += 1;
                    // A closed pipe (`| head -1`) is not an error of ours.
                    let _ = writeln!(out, "{}", code.text);
                }
            }
            Err(e) => {
                unreadable = true;
                eprintln!("{e}");
            }
        }
    }
    let _ = out.flush();
    if unreadable {
        ExitCode::from(2)
    } else if found == 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
