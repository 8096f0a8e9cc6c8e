//! How a system looks in the plots of a report: its colour and its marker shape come from its
//! position in the config's `systems`, so a system keeps them in every plot; when other sweep
//! axes split a system into several lines, those lines differ by dash pattern. Markers of
//! lines drawn later are smaller, so lines with identical values stay visible as nested
//! markers of each colour instead of hiding one another.

use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

/// Tableau 10, a palette readable in colour and reasonably in grey.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0xe1, 0x57, 0x59),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xba, 0xb0, 0xac),
];

/// The colour of slot `i` (a system's position in `systems`).
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Dash and gap lengths in pixels of a system's `variant`-th line (0: solid).
pub fn dash(variant: usize) -> Option<(u32, u32)> {
    const DASHES: [(u32, u32); 4] = [(10, 6), (4, 4), (16, 5), (2, 3)];
    if variant == 0 { None } else { Some(DASHES[(variant - 1) % DASHES.len()]) }
}

/// Which of a line's `n` points carry markers: every point of a line of up to 40; on a longer
/// one about 20, shifted by the line's draw order `i` among `lines`, so coinciding lines show
/// each other's markers.
pub fn marked(n: usize, i: usize, lines: usize) -> impl Fn(usize) -> bool {
    let every = n.div_ceil(20).max(1);
    let phase = if n <= 40 { 0 } else { i * every / lines.max(1) };
    move |k| n <= 40 || k % every == phase % every
}

/// Draws the marker of `slot` centred at `(x, y)`: disc, square, triangle, diamond, ring.
fn shape<DB: DrawingBackend>(
    backend: &mut DB,
    (x, y): BackendCoord,
    slot: usize,
    size: i32,
    col: RGBColor,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    let s = size.max(1);
    let fill = col.filled();
    match slot % 5 {
        0 => backend.draw_circle((x, y), s as u32, &fill, true),
        1 => backend.draw_rect((x - s + 1, y - s + 1), (x + s - 1, y + s - 1), &fill, true),
        2 => backend.fill_polygon([(x, y - s - 1), (x + s + 1, y + s), (x - s - 1, y + s)], &fill),
        3 => backend
            .fill_polygon([(x, y - s - 1), (x + s + 1, y), (x, y + s + 1), (x - s - 1, y)], &fill),
        _ => backend.draw_circle((x, y), s as u32, &col.stroke_width(2), false),
    }
}

/// A system's marker at a data point.
pub struct Marker<C> {
    /// Where, in chart coordinates.
    pub at: C,
    /// The system's slot.
    pub slot: usize,
    /// Half-width in pixels.
    pub size: i32,
    /// Its colour.
    pub color: RGBColor,
}

impl<'a, C: 'a> PointCollection<'a, C> for &'a Marker<C> {
    type Point = &'a C;
    type IntoIter = std::iter::Once<&'a C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for Marker<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        match points.next() {
            Some(p) => shape(backend, p, self.slot, self.size, self.color),
            None => Ok(()),
        }
    }
}

/// A legend entry: the line's stroke (solid or dashed) with the system's marker on it.
pub struct LegendMark {
    /// Left end of the entry, in pixels.
    pub at: BackendCoord,
    /// The system's slot.
    pub slot: usize,
    /// The line's variant (dash pattern).
    pub variant: usize,
    /// Its colour.
    pub color: RGBColor,
}

impl<'a> PointCollection<'a, BackendCoord> for &'a LegendMark {
    type Point = &'a BackendCoord;
    type IntoIter = std::iter::Once<&'a BackendCoord>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<DB: DrawingBackend> Drawable<DB> for LegendMark {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = points.next() else { return Ok(()) };
        let stroke = self.color.stroke_width(2);
        const LENGTH: i32 = 22;
        match dash(self.variant) {
            None => backend.draw_line((x, y), (x + LENGTH, y), &stroke)?,
            Some((d, g)) => {
                let mut from = x;
                while from < x + LENGTH {
                    let to = (from + d as i32).min(x + LENGTH);
                    backend.draw_line((from, y), (to, y), &stroke)?;
                    from = to + g as i32;
                }
            }
        }
        shape(backend, (x + LENGTH / 2, y), self.slot, 4, self.color)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_carry_staggered_markers() {
        let all = marked(30, 1, 3);
        assert!((0..30).all(&all));
        // 100 points: every 5th; three lines start at different offsets.
        let starts: Vec<usize> =
            (0..3).map(|i| (0..100).find(|&k| marked(100, i, 3)(k)).unwrap()).collect();
        assert_eq!(starts, vec![0, 1, 3]);
        assert_eq!((0..100).filter(|&k| marked(100, 0, 3)(k)).count(), 20);
        assert_eq!(dash(0), None);
        assert_ne!(dash(1), dash(2));
    }
}
