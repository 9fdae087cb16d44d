//! A logo for receipts: a PNG (or any picture the `image` crate reads)
//! turned into a 1-bit raster block (`GS v 0`) at a fixed width, greys
//! dithered to dot densities ([`hal::receipt::raster_from_gray`]).

use hal::receipt::{Block, PaperWidth, raster_from_gray};
use hal::{DeviceError, ErrorKind};

/// Default logo width: a third of 58 mm paper, readable on both widths.
pub const LOGO_DOTS: u32 = 192;

/// Decodes `png` and makes a raster block `width_dots` wide (at most the
/// paper's width; rounded up to whole bytes). Transparent pixels print
/// as white paper.
pub fn logo_from_png(png: &[u8], width_dots: u32, paper: PaperWidth) -> Result<Block, DeviceError> {
    let img = image::load_from_memory(png).map_err(|e| {
        DeviceError::new(
            ErrorKind::Config,
            format!("logo is not a readable picture: {e}"),
        )
    })?;
    let rgba = img.to_rgba8();
    let (w, h) = rgba.dimensions();
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > 16_000_000 {
        return Err(DeviceError::new(
            ErrorKind::Config,
            format!("logo of {w}x{h} pixels is empty or too large"),
        ));
    }
    let gray: Vec<u8> = rgba
        .pixels()
        .map(|p| {
            let [r, g, b, a] = p.0;
            let l = (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
            // Blend onto white paper.
            let a = u32::from(a);
            ((l * a + 255 * (255 - a)) / 255) as u8
        })
        .collect();
    let width = width_dots.clamp(8, paper.dots());
    Ok(raster_from_gray(w, h, &gray, width))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_png_becomes_a_raster_of_the_asked_width() {
        // Left half black, right half white, with a transparent corner.
        let mut img = image::RgbaImage::from_pixel(40, 20, image::Rgba([255, 255, 255, 255]));
        for y in 0..20 {
            for x in 0..20 {
                img.put_pixel(x, y, image::Rgba([0, 0, 0, 255]));
            }
        }
        img.put_pixel(39, 0, image::Rgba([0, 0, 0, 0]));
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let Block::Raster {
            width,
            height,
            bits,
        } = logo_from_png(&png, 80, PaperWidth::Mm58).unwrap()
        else {
            panic!("not a raster")
        };
        assert_eq!((width, height), (80, 40));
        let row = &bits[..10];
        assert!(
            row[..5].iter().all(|b| *b == 0xFF),
            "black half is solid: {row:02X?}"
        );
        assert!(
            row[5..].iter().all(|b| *b == 0),
            "white half is blank: {row:02X?}"
        );
        assert_eq!(
            logo_from_png(b"not a png", 80, PaperWidth::Mm80)
                .unwrap_err()
                .kind(),
            ErrorKind::Config
        );
    }
}
