//! Generated photograph-like JPEG inputs, so the image pipeline runs with no download.
//!
//! Each picture is a smooth colour gradient between four random corner colours, a few soft
//! ellipses of random colour and opacity, a faint low- and high-frequency texture, grain
//! shared by the channels and a little per-channel noise, then
//! JPEG-encoded with the `image` crate at quality 90. This gives files and
//! decode costs of the order of ImageNet's (ImageNet's training images are about 400x350 on
//! average, ~110 KB; at the default 500x375 the files here are 65-90 KB, 79 KB on average). Image `i` is a
//! function of (seed, i) only.

use image::ExtendedColorType;
use image::codecs::jpeg::JpegEncoder;
use simcore::{RandomStreams, StreamRng};

use super::error::RealError;

/// How many images to generate and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageInputs {
    /// Distinct images (sample `i` uses image `i mod images`).
    pub images: usize,
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// JPEG quality, 1-100.
    pub quality: u8,
}

impl Default for ImageInputs {
    /// 64 images of 500x375 (a typical ImageNet landscape photograph) at quality 90.
    fn default() -> Self {
        ImageInputs { images: 64, width: 500, height: 375, quality: 90 }
    }
}

impl ImageInputs {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), RealError> {
        if self.images == 0 {
            return Err(RealError::Input("images must be at least 1".into()));
        }
        if !(8..=8192).contains(&self.width) || !(8..=8192).contains(&self.height) {
            return Err(RealError::Input(format!(
                "image size {}x{} must be between 8x8 and 8192x8192",
                self.width, self.height
            )));
        }
        if !(1..=100).contains(&self.quality) {
            return Err(RealError::Input(format!("JPEG quality {} must be 1-100", self.quality)));
        }
        Ok(())
    }
}

/// The encoded JPEG files, deterministic from `seed`.
pub fn generate_jpegs(inputs: &ImageInputs, seed: u64) -> Result<Vec<Vec<u8>>, RealError> {
    inputs.validate()?;
    let streams = RandomStreams::new(seed);
    (0..inputs.images)
        .map(|i| {
            let mut rng = streams.indexed_stream("real/images", i as u64);
            let rgb = picture(inputs.width, inputs.height, &mut rng);
            let mut out = Vec::new();
            JpegEncoder::new_with_quality(&mut out, inputs.quality)
                .encode(&rgb, inputs.width as u32, inputs.height as u32, ExtendedColorType::Rgb8)
                .map_err(|e| RealError::Input(format!("JPEG encoding failed: {e}")))?;
            Ok(out)
        })
        .collect()
}

struct Blob {
    cx: f32,
    cy: f32,
    rx: f32,
    ry: f32,
    colour: [f32; 3],
    alpha: f32,
}

fn uniform(rng: &mut StreamRng, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * rng.next_f64() as f32
}

fn colour(rng: &mut StreamRng) -> [f32; 3] {
    [uniform(rng, 0.0, 255.0), uniform(rng, 0.0, 255.0), uniform(rng, 0.0, 255.0)]
}

/// One RGB8 picture, row-major.
fn picture(w: usize, h: usize, rng: &mut StreamRng) -> Vec<u8> {
    let corners = [colour(rng), colour(rng), colour(rng), colour(rng)];
    let blobs: Vec<Blob> = (0..3 + rng.below(6))
        .map(|_| Blob {
            cx: uniform(rng, 0.0, w as f32),
            cy: uniform(rng, 0.0, h as f32),
            rx: uniform(rng, 0.05, 0.4) * w as f32,
            ry: uniform(rng, 0.05, 0.4) * h as f32,
            colour: colour(rng),
            alpha: uniform(rng, 0.4, 0.9),
        })
        .collect();
    let (fx, fy) = (uniform(rng, 0.01, 0.08), uniform(rng, 0.01, 0.08));
    let texture = uniform(rng, 2.0, 10.0);
    // Fine detail (foliage, fabric): a high-frequency pattern and grain shared by the channels.
    let (gx, gy) = (uniform(rng, 0.3, 0.9), uniform(rng, 0.3, 0.9));
    let detail = uniform(rng, 4.0, 12.0);
    let grain = uniform(rng, 10.0, 20.0);
    let mut out = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let v = y as f32 / (h.max(2) - 1) as f32;
        for x in 0..w {
            let u = x as f32 / (w.max(2) - 1) as f32;
            let mut px = [0.0f32; 3];
            for (c, p) in px.iter_mut().enumerate() {
                let top = corners[0][c] * (1.0 - u) + corners[1][c] * u;
                let bottom = corners[2][c] * (1.0 - u) + corners[3][c] * u;
                *p = top * (1.0 - v) + bottom * v;
            }
            for b in &blobs {
                let dx = (x as f32 - b.cx) / b.rx;
                let dy = (y as f32 - b.cy) / b.ry;
                let d = dx * dx + dy * dy;
                if d < 1.2 {
                    // Soft edge: full inside 0.8, fading to nothing at 1.2.
                    let t = ((1.2 - d) / 0.4).clamp(0.0, 1.0);
                    let a = b.alpha * t * t * (3.0 - 2.0 * t);
                    for (c, p) in px.iter_mut().enumerate() {
                        *p = *p * (1.0 - a) + b.colour[c] * a;
                    }
                }
            }
            let wave = texture * ((x as f32 * fx).sin() * (y as f32 * fy).cos())
                + detail * ((x as f32 * gx).sin() * (y as f32 * gy).sin())
                + uniform(rng, -grain, grain);
            for p in px {
                let noise = uniform(rng, -5.0, 5.0);
                out.push((p + wave + noise).round().clamp(0.0, 255.0) as u8);
            }
        }
    }
    out
}
