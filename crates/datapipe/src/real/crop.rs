//! `random_resized_crop`: torchvision's `RandomResizedCrop(244, scale=(0.08, 1.0),
//! ratio=(3/4, 4/3))`, the crop of cedar's simclrv2 pipeline.
//!
//! The window is drawn as torchvision's `get_params` does: up to ten tries of an area
//! fraction uniform in the scale range and a log-uniform aspect ratio, `w = round(sqrt(A r))`,
//! `h = round(sqrt(A / r))`, accepted if it fits, at a uniform position; otherwise the
//! largest centred window with the ratio clamped into range. The window is resampled to
//! 244x244 with a separable triangle (bilinear) filter whose support widens with the
//! downscaling factor (antialiasing, as torchvision's default for tensors since 0.17).

use simcore::StreamRng;

use super::data::{Data, Image, Pixel};
use super::error::RealError;
use super::image_ops::map_image;
use super::op::RealOp;

/// Output side of the crop (cedar: `size=(244, 244)`).
pub const CROP_SIZE: usize = 244;
/// Range of the area fraction.
pub const SCALE: (f64, f64) = (0.08, 1.0);
/// Range of the aspect ratio (width / height).
pub const RATIO: (f64, f64) = (3.0 / 4.0, 4.0 / 3.0);

/// A crop window: top row, left column, height, width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Top row.
    pub top: usize,
    /// Left column.
    pub left: usize,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
}

/// Draws the window for an image of `width x height` (torchvision's `get_params`).
pub fn window(width: usize, height: usize, rng: &mut StreamRng) -> Window {
    let area = (width * height) as f64;
    let (lr0, lr1) = (RATIO.0.ln(), RATIO.1.ln());
    for _ in 0..10 {
        let target = area * (SCALE.0 + (SCALE.1 - SCALE.0) * rng.next_f64());
        let aspect = (lr0 + (lr1 - lr0) * rng.next_f64()).exp();
        let w = (target * aspect).sqrt().round() as usize;
        let h = (target / aspect).sqrt().round() as usize;
        if w > 0 && w <= width && h > 0 && h <= height {
            let top = rng.below((height - h + 1) as u64) as usize;
            let left = rng.below((width - w + 1) as u64) as usize;
            return Window { top, left, height: h, width: w };
        }
    }
    let in_ratio = width as f64 / height.max(1) as f64;
    let (w, h) = if in_ratio < RATIO.0 {
        (width, ((width as f64 / RATIO.0).round() as usize).clamp(1, height.max(1)))
    } else if in_ratio > RATIO.1 {
        (((height as f64 * RATIO.1).round() as usize).clamp(1, width.max(1)), height)
    } else {
        (width, height)
    };
    Window { top: (height - h) / 2, left: (width - w) / 2, height: h, width: w }
}

/// The operator: a random window resized to 244x244, pixel type and channels kept.
pub fn random_resized_crop(data: Data, rng: &mut StreamRng) -> Result<Data, RealError> {
    if let Data::ImageU8(Image { width: 0, .. } | Image { height: 0, .. })
    | Data::ImageF32(Image { width: 0, .. } | Image { height: 0, .. }) = data
    {
        return Err(RealError::WrongData {
            op: "random_resized_crop".into(),
            expected: "a non-empty image",
            got: "an empty image",
        });
    }
    map_image!(RealOp::RandomResizedCrop, data, |im| {
        let win = window(im.width, im.height, rng);
        resize_window(&im, win, CROP_SIZE, CROP_SIZE)
    })
}

/// Taps of one output sample along one axis: first input index and normalised weights.
struct Taps {
    start: usize,
    weights: Vec<f32>,
}

/// Triangle-filter taps mapping `len` inputs starting at `offset` to `out` outputs.
fn taps(offset: usize, len: usize, out: usize) -> Vec<Taps> {
    let scale = len as f64 / out as f64;
    let support = scale.max(1.0);
    (0..out)
        .map(|o| {
            let centre = (o as f64 + 0.5) * scale;
            let lo = ((centre - support).floor().max(0.0)) as usize;
            let hi = ((centre + support).ceil() as usize).min(len);
            let mut weights: Vec<f32> = (lo..hi)
                .map(|k| {
                    let d = ((k as f64 + 0.5 - centre) / support).abs();
                    (1.0 - d).max(0.0) as f32
                })
                .collect();
            let sum: f32 = weights.iter().sum();
            if sum > 0.0 {
                weights.iter_mut().for_each(|w| *w /= sum);
            } else {
                // Cannot happen for len >= 1 (the nearest input has d < 1); keep it total.
                weights = vec![1.0];
                return Taps { start: offset + lo.min(len - 1), weights };
            }
            Taps { start: offset + lo, weights }
        })
        .collect()
}

/// Resamples the window of `im` to `out_w x out_h`.
pub fn resize_window<T: Pixel>(im: &Image<T>, win: Window, out_w: usize, out_h: usize) -> Image<T> {
    let c = im.channels;
    let xs = taps(win.left, win.width, out_w);
    let ys = taps(win.top, win.height, out_h);
    // Horizontal pass over the window's rows into floats.
    let mut tmp = vec![0.0f32; win.height * out_w * c];
    for r in 0..win.height {
        let src = &im.data[(win.top + r) * im.width * c..(win.top + r + 1) * im.width * c];
        let dst = &mut tmp[r * out_w * c..(r + 1) * out_w * c];
        for (x, t) in xs.iter().enumerate() {
            for k in 0..c {
                let mut acc = 0.0f32;
                for (j, w) in t.weights.iter().enumerate() {
                    acc += w * src[(t.start + j) * c + k].to_f32();
                }
                dst[x * c + k] = acc;
            }
        }
    }
    // Vertical pass.
    let mut out = Vec::with_capacity(out_w * out_h * c);
    let row = out_w * c;
    let mut acc = vec![0.0f32; row];
    for t in &ys {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (j, w) in t.weights.iter().enumerate() {
            let r = t.start - win.top + j;
            for (a, v) in acc.iter_mut().zip(&tmp[r * row..(r + 1) * row]) {
                *a += w * v;
            }
        }
        out.extend(acc.iter().map(|&v| T::from_f32(v)));
    }
    Image { width: out_w, height: out_h, channels: c, data: out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use simcore::RandomStreams;

    #[test]
    fn windows_fit_and_respect_the_ranges() {
        let streams = RandomStreams::new(3);
        for (i, (w, h)) in [(500, 375), (375, 500), (40, 30), (1000, 10), (1, 1)].iter().enumerate()
        {
            for k in 0..200 {
                let mut rng = streams.indexed_stream("t", (i * 1000 + k) as u64);
                let win = window(*w, *h, &mut rng);
                assert!(win.width >= 1 && win.height >= 1);
                assert!(win.left + win.width <= *w && win.top + win.height <= *h, "{win:?}");
            }
        }
        // A very wide image falls back to the centred window of the widest allowed ratio.
        let win = window(1000, 10, &mut streams.stream("wide"));
        assert_eq!(win, Window { top: 0, left: 493, height: 10, width: 13 });
    }

    #[test]
    fn resizing_a_constant_image_keeps_it_constant() {
        let im = Image::filled(50, 40, 3, 0.25f32);
        let win = Window { top: 3, left: 7, height: 30, width: 20 };
        let out = resize_window(&im, win, 64, 64);
        assert_eq!(out.shape(), (64, 64, 3));
        assert!(out.data.iter().all(|v| (v - 0.25).abs() < 1e-6));
    }
}
