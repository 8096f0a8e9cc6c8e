//! Colour operators: `color_jitter` (torchvision's `ColorJitter(0.1, 0.1, 0.1, 0.1)`) and
//! `grayscale` (torchvision's `Grayscale(num_output_channels=1)`).
//!
//! Jitter draws a random order of its four adjustments and, for each, a factor: brightness,
//! contrast and saturation uniform in `[0.9, 1.1]`, hue shift uniform in `[-0.1, 0.1]` of a
//! turn. Brightness scales every component; contrast blends with the image's mean grey;
//! saturation blends each pixel with its own grey; hue rotates H in HSV. Each step clamps
//! to the pixel type's range (`[0, 255]` or `[0, 1]`), as torchvision does. On a one-channel
//! image saturation and hue leave it unchanged (torchvision does the same).

use simcore::StreamRng;

use super::data::{Data, Image, Pixel};
use super::error::RealError;
use super::image_ops::map_image;
use super::op::RealOp;

/// ITU-R BT.601 luma weights, as torchvision's `rgb_to_grayscale`.
pub const LUMA: [f32; 3] = [0.2989, 0.587, 0.114];
/// Strength of each jitter (cedar: `ColorJitter(0.1, 0.1, 0.1, 0.1)`).
pub const JITTER: f32 = 0.1;

/// The operator.
pub fn color_jitter(data: Data, rng: &mut StreamRng) -> Result<Data, RealError> {
    let mut order = [0usize, 1, 2, 3];
    rng.shuffle(&mut order);
    let mut factor = |lo: f32, hi: f32| lo + (hi - lo) * rng.next_f64() as f32;
    let b = factor(1.0 - JITTER, 1.0 + JITTER);
    let c = factor(1.0 - JITTER, 1.0 + JITTER);
    let s = factor(1.0 - JITTER, 1.0 + JITTER);
    let h = factor(-JITTER, JITTER);
    map_image!(RealOp::ColorJitter, data, |im| jitter(im, order, [b, c, s, h]))
}

fn jitter<T: Pixel>(im: Image<T>, order: [usize; 4], f: [f32; 4]) -> Image<T> {
    let (width, height, channels) = (im.width, im.height, im.channels);
    let max = T::MAX;
    let mut v: Vec<f32> = im.data.iter().map(|p| p.to_f32()).collect();
    for step in order {
        match step {
            0 => v.iter_mut().for_each(|x| *x = (*x * f[0]).clamp(0.0, max)),
            1 => {
                let mean = mean_grey(&v, channels);
                let k = (1.0 - f[1]) * mean;
                v.iter_mut().for_each(|x| *x = (f[1] * *x + k).clamp(0.0, max));
            }
            2 if channels == 3 => {
                for px in v.chunks_exact_mut(3) {
                    let g = (1.0 - f[2]) * luma(px);
                    px.iter_mut().for_each(|x| *x = (f[2] * *x + g).clamp(0.0, max));
                }
            }
            3 if channels == 3 => {
                for px in v.chunks_exact_mut(3) {
                    let (hh, s, val) = rgb_to_hsv(px[0] / max, px[1] / max, px[2] / max);
                    let (r, g, b) = hsv_to_rgb((hh + f[3]).rem_euclid(1.0), s, val);
                    px[0] = (r * max).clamp(0.0, max);
                    px[1] = (g * max).clamp(0.0, max);
                    px[2] = (b * max).clamp(0.0, max);
                }
            }
            _ => {}
        }
    }
    Image { width, height, channels, data: v.into_iter().map(T::from_f32).collect() }
}

#[inline]
fn luma(px: &[f32]) -> f32 {
    LUMA[0] * px[0] + LUMA[1] * px[1] + LUMA[2] * px[2]
}

fn mean_grey(v: &[f32], channels: usize) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    if channels == 3 {
        let sum: f64 = v.chunks_exact(3).map(|px| f64::from(luma(px))).sum();
        (sum / (v.len() / 3) as f64) as f32
    } else {
        (v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64) as f32
    }
}

/// RGB in `[0, 1]` to (hue in turns, saturation, value).
pub fn rgb_to_hsv(r: f32, g: f32, b: f32) -> (f32, f32, f32) {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let delta = max - min;
    let s = if max > 0.0 { delta / max } else { 0.0 };
    let h = if delta <= 0.0 {
        0.0
    } else if max == r {
        ((g - b) / delta).rem_euclid(6.0)
    } else if max == g {
        (b - r) / delta + 2.0
    } else {
        (r - g) / delta + 4.0
    };
    ((h / 6.0).rem_euclid(1.0), s, max)
}

/// (hue in turns, saturation, value) to RGB in `[0, 1]`.
pub fn hsv_to_rgb(h: f32, s: f32, v: f32) -> (f32, f32, f32) {
    let h6 = h * 6.0;
    let i = h6.floor();
    let f = h6 - i;
    let p = v * (1.0 - s);
    let q = v * (1.0 - s * f);
    let t = v * (1.0 - s * (1.0 - f));
    match (i as i64).rem_euclid(6) {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    }
}

/// The operator: three channels to one grey channel; a grey image is returned unchanged.
pub fn grayscale(data: Data) -> Result<Data, RealError> {
    map_image!(RealOp::Grayscale, data, |im| grey(im))
}

fn grey<T: Pixel>(im: Image<T>) -> Image<T> {
    if im.channels != 3 {
        return im;
    }
    let data = im
        .data
        .chunks_exact(3)
        .map(|px| {
            T::from_f32(
                LUMA[0] * px[0].to_f32() + LUMA[1] * px[1].to_f32() + LUMA[2] * px[2].to_f32(),
            )
        })
        .collect();
    Image { width: im.width, height: im.height, channels: 1, data }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsv_round_trips() {
        for (r, g, b) in [(0.2, 0.5, 0.9), (1.0, 0.0, 0.0), (0.3, 0.3, 0.3), (0.9, 0.8, 0.1)] {
            let (h, s, v) = rgb_to_hsv(r, g, b);
            let (r2, g2, b2) = hsv_to_rgb(h, s, v);
            assert!((r - r2).abs() < 1e-5 && (g - g2).abs() < 1e-5 && (b - b2).abs() < 1e-5);
        }
    }

    #[test]
    fn grayscale_uses_the_luma_weights() {
        let im = Image { width: 1, height: 1, channels: 3, data: vec![255u8, 0, 0] };
        let Ok(Data::ImageU8(g)) = grayscale(Data::ImageU8(im)) else { panic!() };
        assert_eq!(g.data, vec![76]); // 0.2989 x 255 = 76.2
    }
}
