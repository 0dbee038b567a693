//! A QR code drawn in the page (SVG), for an address to open on a phone.

/// The SVG of a QR code of `text`; empty when it cannot be one (too long).
pub fn qr_svg(text: &str) -> String {
    qrcode::QrCode::new(text.as_bytes())
        .map(|c| c.render::<qrcode::render::svg::Color>().min_dimensions(160, 160).build())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_address_draws_as_svg() {
        let svg = super::qr_svg("https://ca.example/m/download");
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    }
}
