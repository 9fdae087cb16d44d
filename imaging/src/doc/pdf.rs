//! A minimal PDF 1.4 writer for a material set: one page per image, the
//! page the paper's size, the image filling it. JPEG pages are embedded
//! as they are (`/DCTDecode`), black-and-white pages as their Group 4 code
//! (`/CCITTFaxDecode`, `/K -1`); nothing is re-encoded.

use std::fmt::Write as _;

/// One page's image, already coded.
#[derive(Debug, Clone)]
pub(crate) struct PdfPage {
    /// Pixels across and down.
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Page size in PDF points (1/72 inch).
    pub(crate) size_pt: (f64, f64),
    pub(crate) image: PdfImage,
}

/// How a page's image is coded.
#[derive(Debug, Clone)]
pub(crate) enum PdfImage {
    /// A JFIF stream; `colour` false for one grey component.
    Jpeg { data: Vec<u8>, colour: bool },
    /// CCITT Group 4 code, black = 1 in the bitmap before coding.
    G4(Vec<u8>),
}

/// The PDF file for `pages`.
pub(crate) fn write(pages: &[PdfPage]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    // Header; the second line marks the file as binary for transfer tools.
    out.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    let mut offsets: Vec<usize> = Vec::new();
    let n = pages.len();
    // Objects: 1 catalog, 2 page tree, then per page: page, content, image.
    let page_obj = |i: usize| 3 + 3 * i;
    let obj = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        let id = offsets.len();
        out.extend_from_slice(format!("{id} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    let mut kids = String::new();
    for i in 0..n {
        let _ = write!(kids, "{} 0 R ", page_obj(i));
    }
    obj(
        &mut out,
        &mut offsets,
        format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.trim_end()).as_bytes(),
    );
    for (i, p) in pages.iter().enumerate() {
        let (pw, ph) = p.size_pt;
        let (page, content, image) = (page_obj(i), page_obj(i) + 1, page_obj(i) + 2);
        obj(
            &mut out,
            &mut offsets,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2} {ph:.2}] \
                 /Resources << /XObject << /Im{page} {image} 0 R >> >> /Contents {content} 0 R >>"
            )
            .as_bytes(),
        );
        let draw = format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im{page} Do Q");
        obj(
            &mut out,
            &mut offsets,
            format!("<< /Length {} >>\nstream\n{draw}\nendstream", draw.len()).as_bytes(),
        );
        let (dict, data) = match &p.image {
            PdfImage::Jpeg { data, colour } => (
                format!(
                    "/ColorSpace /{} /BitsPerComponent 8 /Filter /DCTDecode",
                    if *colour { "DeviceRGB" } else { "DeviceGray" }
                ),
                data,
            ),
            // The decoder yields 0 for black (/BlackIs1 false), which is
            // black in DeviceGray.
            PdfImage::G4(data) => (
                format!(
                    "/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode \
                     /DecodeParms << /K -1 /Columns {} /Rows {} /BlackIs1 false /EncodedByteAlign false >>",
                    p.width, p.height
                ),
                data,
            ),
        };
        let mut body = format!(
            "<< /Type /XObject /Subtype /Image /Width {} /Height {} {dict} /Length {} >>\nstream\n",
            p.width,
            p.height,
            data.len()
        )
        .into_bytes();
        body.extend_from_slice(data);
        body.extend_from_slice(b"\nendstream");
        obj(&mut out, &mut offsets, &body);
    }
    let xref_at = out.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for o in &offsets {
        let _ = writeln!(xref, "{o:010} 00000 n ");
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
        offsets.len() + 1
    );
    out.extend_from_slice(xref.as_bytes());
    out
}
