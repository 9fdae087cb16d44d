//! `kioskctl doccam process`: runs the document pipeline on photos from
//! the document camera (高拍仪), as the kiosk does, and stores the result.
//!
//! ```text
//! kioskctl doccam process IN... --mode colour|grey|bw --paper a4|a5|a6|auto --out OUT
//!     [--dpi N] [--px-per-mm F] [--no-cap] [--json]
//! ```
//!
//! The output format follows the extension of `--out` (`.jpg`, `.png`,
//! `.bmp`, `.tif`, `.pdf`); several inputs make one multi-page PDF and
//! need a `.pdf` output. Prints one line per page (or, with `--json`, one
//! JSON object with a report per page: size, resolution, bytes, quality,
//! the cap and whether it forced a lower resolution, milliseconds per
//! step). Exit codes: 0 stored; 2 cannot read an input, bad arguments or
//! cannot write the output; 5 no page found (or the page runs off the
//! photo), or the size cap cannot be met.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use hal::camera::PaperSize;
use imaging::doc::{self, DocError, Format, Mode, Options, Report};
use serde_json::json;

#[derive(Subcommand)]
pub enum Action {
    /// Finds the page in each photo, straightens it, evens the light and
    /// stores it. Exit 0 stored; 2 unreadable input, bad arguments or
    /// unwritable output; 5 no page found or cap cannot be met.
    Process {
        /// Photos (JPEG, PNG, BMP, TIFF); several only with a .pdf output.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ModeArg::Colour)]
        mode: ModeArg,
        #[arg(long, value_enum, default_value_t = PaperArg::A4)]
        paper: PaperArg,
        /// Output file; its extension picks the format.
        #[arg(long)]
        out: PathBuf,
        /// Raster resolution.
        #[arg(long, default_value_t = 150)]
        dpi: u32,
        /// The camera's scale on the desk (pixels per mm), so `--paper
        /// auto` can tell A4 from A5 and A6.
        #[arg(long)]
        px_per_mm: Option<f64>,
        /// Store without the tender's size caps (diagnostics, exports).
        #[arg(long)]
        no_cap: bool,
        /// One JSON object on stdout instead of a line per page.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ModeArg {
    #[value(alias = "color")]
    Colour,
    #[value(alias = "gray")]
    Grey,
    Bw,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PaperArg {
    A4,
    A5,
    A6,
    Auto,
}

pub fn run(action: Action) -> ExitCode {
    let Action::Process {
        inputs,
        mode,
        paper,
        out,
        dpi,
        px_per_mm,
        no_cap,
        json,
    } = action;
    let format = match Format::from_path(&out) {
        Ok(f) => f,
        Err(e) => return fail(&e.to_string(), 2),
    };
    if inputs.len() > 1 && format != Format::Pdf {
        return fail(
            "多张照片只能保存为一个 PDF / several inputs need a .pdf output",
            2,
        );
    }
    let mut opts = Options {
        dpi,
        px_per_mm,
        ..Options::new(
            match mode {
                ModeArg::Colour => Mode::Colour,
                ModeArg::Grey => Mode::Grey,
                ModeArg::Bw => Mode::Bw,
            },
            match paper {
                PaperArg::A4 => PaperSize::A4,
                PaperArg::A5 => PaperSize::A5,
                PaperArg::A6 => PaperSize::A6,
                PaperArg::Auto => PaperSize::Auto,
            },
        )
    };
    if no_cap {
        opts.colour_cap = None;
        opts.bw_cap = None;
    }
    let mut pages = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let bytes = match std::fs::read(input) {
            Ok(b) => b,
            Err(e) => {
                return fail(
                    &format!("无法读取输入 / cannot read {}: {e}", input.display()),
                    2,
                );
            }
        };
        let processed = doc::decode(&bytes).and_then(|img| doc::process(&img, &opts));
        match processed {
            Ok(p) => pages.push(p),
            Err(e) => return fail(&format!("{}: {e}", input.display()), code(&e)),
        }
    }
    let (bytes, reports) = if format == Format::Pdf {
        match doc::pdf_with_reports(&pages) {
            Ok(r) => r,
            Err(e) => return fail(&e.to_string(), code(&e)),
        }
    } else {
        let Some(page) = pages.first() else {
            return fail(&DocError::NoPages.to_string(), 2);
        };
        match doc::encode(page, format) {
            Ok(e) => (e.bytes, vec![e.report]),
            Err(e) => return fail(&e.to_string(), code(&e)),
        }
    };
    if let Err(e) = std::fs::write(&out, &bytes) {
        return fail(
            &format!("无法写入输出 / cannot write {}: {e}", out.display()),
            2,
        );
    }
    if json {
        println!("{}", to_json(&out, format, bytes.len(), &inputs, &reports));
    } else {
        for (input, r) in inputs.iter().zip(&reports) {
            println!("{}", line(input, r));
        }
        println!("{}: {} bytes", out.display(), bytes.len());
    }
    ExitCode::SUCCESS
}

/// Exit code for a pipeline error.
fn code(e: &DocError) -> u8 {
    match e {
        DocError::NoPage | DocError::PageCut | DocError::CapUnmet { .. } | DocError::Encode(_) => 5,
        DocError::Unreadable(_) | DocError::UnsupportedFormat(_) | DocError::NoPages => 2,
    }
}

fn line(input: &Path, r: &Report) -> String {
    let quality = r
        .quality
        .map(|q| format!(", quality {q}"))
        .unwrap_or_default();
    let reduced = if r.reduced {
        ", resolution lowered to meet the cap"
    } else {
        ""
    };
    let total: f64 = r.steps.iter().map(|s| s.ms).sum();
    format!(
        "{}: {} {} {}x{} at {} dpi, {} bytes{quality}{reduced}, {total:.0} ms",
        input.display(),
        r.paper.name(),
        r.mode.as_str(),
        r.width,
        r.height,
        r.dpi,
        r.bytes
    )
}

fn report_json(input: &Path, r: &Report) -> serde_json::Value {
    let steps: serde_json::Map<String, serde_json::Value> = r
        .steps
        .iter()
        .map(|s| (s.name.to_owned(), json!((s.ms * 10.0).round() / 10.0)))
        .collect();
    json!({
        "input": input.display().to_string(),
        "paper": r.paper.name(),
        "mode": r.mode.as_str(),
        "format": r.format.as_str(),
        "width": r.width,
        "height": r.height,
        "dpi": r.dpi,
        "bytes": r.bytes,
        "quality": r.quality,
        "cap": r.cap,
        "reduced": r.reduced,
        "ms": steps,
    })
}

fn to_json(
    out: &Path,
    format: Format,
    bytes: usize,
    inputs: &[PathBuf],
    reports: &[Report],
) -> serde_json::Value {
    json!({
        "out": out.display().to_string(),
        "format": format.as_str(),
        "bytes": bytes,
        "pages": inputs.iter().zip(reports).map(|(i, r)| report_json(i, r)).collect::<Vec<_>>(),
    })
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(code)
}
