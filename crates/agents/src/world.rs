//! The grid: tile positions and the distance the perception and movement rules use.
//!
//! Positions are tiles `(x, y)`, `x` the column (0..width) and `y` the row (0..height), as
//! Generative Agents' maze stores them. Distance is Chebyshev (`max(|dx|, |dy|)`): Generative
//! Agents perceives the square of tiles within `vision_r` of the agent
//! (`maze.get_nearby_tiles`), and a move of one tile, straight or diagonal, is distance 1.

use serde::{Deserialize, Serialize};

/// A tile.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Pos {
    /// Column.
    pub x: u16,
    /// Row.
    pub y: u16,
}

impl Pos {
    /// The tile `(x, y)`.
    pub const fn new(x: u16, y: u16) -> Self {
        Self { x, y }
    }

    /// Chebyshev distance in tiles.
    #[inline]
    pub fn dist(self, other: Pos) -> u32 {
        let dx = (i32::from(self.x) - i32::from(other.x)).unsigned_abs();
        let dy = (i32::from(self.y) - i32::from(other.y)).unsigned_abs();
        dx.max(dy)
    }
}

/// SmallVille's size in tiles (Generative Agents' `maze_meta_info.json`).
pub const SMALLVILLE_WIDTH: u16 = 140;
/// SmallVille's height in tiles.
pub const SMALLVILLE_HEIGHT: u16 = 100;
/// Seconds of world time per step (Generative Agents' `sec_per_step`).
pub const STEP_SECS: f64 = 10.0;
/// Steps per simulated day.
pub const STEPS_PER_DAY: u32 = 8_640;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chebyshev_distance() {
        assert_eq!(Pos::new(3, 4).dist(Pos::new(3, 4)), 0);
        assert_eq!(Pos::new(0, 0).dist(Pos::new(3, 1)), 3);
        assert_eq!(Pos::new(5, 9).dist(Pos::new(6, 1)), 8);
        assert_eq!(STEPS_PER_DAY as f64 * STEP_SECS, 86_400.0);
    }
}
