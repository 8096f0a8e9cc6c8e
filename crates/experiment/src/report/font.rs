//! The bundled font (DejaVu Sans, Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`),
//! registered with plotters at first use so SVG and PNG render on machines with no system
//! fonts or font libraries.

use std::sync::Once;

use plotters::style::FontStyle;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// The family name plots use.
pub const FAMILY: &str = "sans-serif";

/// Registers the font for every style (idempotent).
pub fn ensure_registered() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic, FontStyle::Oblique] {
            // The bundled file is a valid TrueType font (checked by the report tests).
            let _ = plotters::style::register_font(FAMILY, style, FONT);
        }
    });
}
