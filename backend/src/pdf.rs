//! A small PDF writer for printable forms and e-invoices in Chinese. Text is set in
//! STSong-Light, one of the standard CJK fonts every PDF reader supplies (Adobe-GB1), with the
//! `UniGB-UCS2-H` encoding, so no font is embedded and a page stays a few kilobytes. Only
//! what our documents need: text lines, rules and boxes on A4 pages.

use std::fmt::Write;

/// A4 in points.
pub const WIDTH: f32 = 595.0;
pub const HEIGHT: f32 = 842.0;

#[derive(Default)]
pub struct Page {
    ops: String,
}

/// UCS-2 big-endian hex of the text (characters outside the BMP become `?`).
fn ucs2_hex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 4);
    for c in text.chars() {
        let u = u32::from(c);
        let u = if u > 0xFFFF || (0xD800..0xE000).contains(&u) { u32::from('?') } else { u };
        let _ = write!(out, "{u:04X}");
    }
    out
}

impl Page {
    /// Text with its baseline starting at (x, y) from the bottom left, in points.
    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) -> &mut Self {
        let _ = writeln!(self.ops, "BT /F1 {size} Tf {x:.1} {y:.1} Td <{}> Tj ET", ucs2_hex(text));
        self
    }

    /// A line from (x1, y1) to (x2, y2).
    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32) -> &mut Self {
        let _ = writeln!(self.ops, "{x1:.1} {y1:.1} m {x2:.1} {y2:.1} l S");
        self
    }

    /// A rectangle's outline.
    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32) -> &mut Self {
        let _ = writeln!(self.ops, "{x:.1} {y:.1} {w:.1} {h:.1} re S");
        self
    }

    /// A two-column table of labels and values, one row per pair, top edge at `top`;
    /// returns the y below it.
    pub fn table(&mut self, top: f32, rows: &[(&str, String)]) -> f32 {
        let (left, split, right, h) = (50.0, 200.0, WIDTH - 50.0, 26.0);
        let mut y = top;
        for (label, value) in rows {
            self.rect(left, y - h, right - left, h).line(split, y, split, y - h);
            self.text(left + 8.0, y - 17.0, 11.0, label);
            self.text(split + 8.0, y - 17.0, 11.0, value);
            y -= h;
        }
        y
    }
}

/// Writes a PDF of `pages`; `title` goes into the document information.
pub fn document(title: &str, pages: &[Page]) -> Vec<u8> {
    let mut objects: Vec<String> = Vec::new();
    // 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, 6 info, then page + content pairs.
    let first_page = 7;
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", first_page + 2 * i)).collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".into());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()));
    objects.push(
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>"
            .into(),
    );
    objects.push(
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 5 0 R /DW 1000 >>"
            .into(),
    );
    objects.push(
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] \
         /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
            .into(),
    );
    objects.push(format!("<< /Title <FEFF{}> /Producer (CertDesk) >>", ucs2_hex(title)));
    for (i, page) in pages.iter().enumerate() {
        let content = first_page + 2 * i + 1;
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Resources << /Font << /F1 3 0 R >> >> /Contents {content} 0 R >>"
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{}endstream", page.ops.len(), page.ops));
    }
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for off in offsets {
        let _ = writeln!(tail, "{off:010} 00000 n ");
    }
    let _ =
        write!(tail, "trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    out.extend_from_slice(tail.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_ucs2_and_the_xref_points_at_each_object() {
        assert_eq!(ucs2_hex("A证"), "00418BC1");
        assert_eq!(ucs2_hex("😀"), "003F");
        let mut p = Page::default();
        p.text(50.0, 800.0, 16.0, "数字证书申请表");
        let pdf = document("申请表", &[p]);
        assert!(pdf.starts_with(b"%PDF-1.7") && pdf.ends_with(b"%%EOF\n"));
        let find = |needle: &[u8]| pdf.windows(needle.len()).rposition(|w| w == needle).unwrap();
        let after = find(b"startxref\n") + b"startxref\n".len();
        let start: usize = std::str::from_utf8(&pdf[after..]).unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[start..].starts_with(b"xref"));
        let table = std::str::from_utf8(&pdf[start..]).unwrap();
        for (n, line) in table.lines().skip(3).take(8).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(format!("{} 0 obj", n + 1).as_bytes()), "object {}", n + 1);
        }
    }
}
