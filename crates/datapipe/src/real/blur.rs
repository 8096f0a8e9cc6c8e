//! `gaussian_blur`: torchvision's `GaussianBlur(kernel_size=11, sigma=(0.1, 2.0))`.
//!
//! Sigma is drawn uniform in `[0.1, 2.0]` per sample; the kernel is `exp(-x^2 / (2 sigma^2))`
//! for `x = -5..=5`, normalised to sum 1, applied separably (rows, then columns) with
//! reflect padding (`-1 -> 1`), computed in `f32` and converted back to the pixel type.

use simcore::StreamRng;

use super::data::{Data, Image, Pixel};
use super::error::RealError;
use super::image_ops::map_image;
use super::op::RealOp;

/// Kernel side (cedar: `kernel_size=(11, 11)`).
pub const KERNEL: usize = 11;
/// Range of sigma.
pub const SIGMA: (f64, f64) = (0.1, 2.0);

/// The normalised 1-D kernel for `sigma`.
pub fn kernel(sigma: f32) -> [f32; KERNEL] {
    let mut k = [0.0f32; KERNEL];
    let half = (KERNEL / 2) as f32;
    for (i, w) in k.iter_mut().enumerate() {
        let x = i as f32 - half;
        *w = (-(x * x) / (2.0 * sigma * sigma)).exp();
    }
    let sum: f32 = k.iter().sum();
    k.iter_mut().for_each(|w| *w /= sum);
    k
}

/// Reflect-padded index of `i` (may be negative or past the end) in `0..n`.
#[inline]
fn reflect(mut i: isize, n: usize) -> usize {
    let n = n as isize;
    if n == 1 {
        return 0;
    }
    // Reflection has period 2(n-1); fold into it, then mirror the upper half.
    let period = 2 * (n - 1);
    i = i.rem_euclid(period);
    (if i >= n { period - i } else { i }) as usize
}

/// The operator.
pub fn gaussian_blur(data: Data, rng: &mut StreamRng) -> Result<Data, RealError> {
    let sigma = (SIGMA.0 + (SIGMA.1 - SIGMA.0) * rng.next_f64()) as f32;
    let k = kernel(sigma);
    map_image!(RealOp::GaussianBlur, data, |im| blur(im, &k))
}

fn blur<T: Pixel>(im: Image<T>, k: &[f32; KERNEL]) -> Image<T> {
    let (w, h, c) = (im.width, im.height, im.channels);
    if w == 0 || h == 0 || c == 0 {
        return im;
    }
    let half = (KERNEL / 2) as isize;
    let row = w * c;
    // Horizontal pass through a padded copy of each row.
    let mut tmp = vec![0.0f32; h * row];
    let mut padded = vec![0.0f32; (w + KERNEL - 1) * c];
    for y in 0..h {
        let src = &im.data[y * row..(y + 1) * row];
        for (px, chunk) in padded.chunks_exact_mut(c).enumerate() {
            let x = reflect(px as isize - half, w);
            for (ch, v) in chunk.iter_mut().enumerate() {
                *v = src[x * c + ch].to_f32();
            }
        }
        let dst = &mut tmp[y * row..(y + 1) * row];
        for (i, d) in dst.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for (t, kw) in k.iter().enumerate() {
                acc += kw * padded[i + t * c];
            }
            *d = acc;
        }
    }
    // Vertical pass: each output row is a weighted sum of eleven (reflected) rows.
    let mut out = Vec::with_capacity(h * row);
    let mut acc = vec![0.0f32; row];
    for y in 0..h {
        acc.iter_mut().for_each(|a| *a = 0.0);
        for (t, kw) in k.iter().enumerate() {
            let r = reflect(y as isize + t as isize - half, h);
            for (a, v) in acc.iter_mut().zip(&tmp[r * row..(r + 1) * row]) {
                *a += kw * v;
            }
        }
        out.extend(acc.iter().map(|&v| T::from_f32(v)));
    }
    Image { width: w, height: h, channels: c, data: out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_mirrors_without_repeating_the_edge() {
        assert_eq!(reflect(-1, 5), 1);
        assert_eq!(reflect(-2, 5), 2);
        assert_eq!(reflect(5, 5), 3);
        assert_eq!(reflect(6, 5), 2);
        assert_eq!(reflect(3, 1), 0);
        assert_eq!(reflect(-7, 3), 1);
    }

    #[test]
    fn kernel_sums_to_one_and_is_symmetric() {
        let k = kernel(1.3);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert_eq!(k[0], k[10]);
        assert!(k[5] > k[4]);
    }
}
