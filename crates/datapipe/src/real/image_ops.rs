//! The simple image operators: read the file, decode it, convert to float, flip, normalise.
//! The geometric and colour ones live in `crop.rs`, `color.rs` and `blur.rs`.

use image::ImageFormat;

use super::context::{ImageSource, RealContext};
use super::data::{Data, Image, Pixel};
use super::error::RealError;
use super::op::RealOp;

/// torchvision `Normalize` mean of cedar's pipeline (MNIST's, applied to every channel).
pub const NORMALIZE_MEAN: f32 = 0.1307;
/// torchvision `Normalize` standard deviation of cedar's pipeline.
pub const NORMALIZE_STD: f32 = 0.3081;

/// Applies `f` to an 8-bit or a float image, keeping its pixel type; an image whose data
/// does not match its shape is an error.
macro_rules! map_image {
    ($op:expr, $data:expr, |$im:ident| $body:expr) => {
        match $data {
            Data::ImageU8(ref im) if !im.is_consistent() => Err($op.inconsistent()),
            Data::ImageF32(ref im) if !im.is_consistent() => Err($op.inconsistent()),
            Data::ImageU8($im) => Ok(Data::ImageU8($body)),
            Data::ImageF32($im) => Ok(Data::ImageF32($body)),
            other => Err($op.wrong("an image", &other)),
        }
    };
}
pub(crate) use map_image;

/// `read`: the sample's encoded bytes (a copy of the in-memory file, or the file's contents).
pub fn read(ctx: &RealContext, sample: u64, data: Data) -> Result<Data, RealError> {
    let Data::Index(i) = data else {
        return Err(RealOp::Read.wrong("a sample index", &data));
    };
    let source =
        ctx.images.as_ref().filter(|s| !s.is_empty()).ok_or_else(|| RealError::Operator {
            op: "read".into(),
            sample,
            message: "this context has no images (build it with RealContext::image)".into(),
        })?;
    let k = (i % source.len() as u64) as usize;
    match source {
        ImageSource::Memory(files) => Ok(Data::Encoded(files[k].clone())),
        ImageSource::Files(paths) => std::fs::read(&paths[k])
            .map(Data::Encoded)
            .map_err(|source| RealError::Io { path: paths[k].clone(), source }),
    }
}

/// `decode`: JPEG bytes to an 8-bit RGB image.
pub fn decode(sample: u64, data: Data) -> Result<Data, RealError> {
    let Data::Encoded(bytes) = data else {
        return Err(RealOp::Decode.wrong("encoded JPEG bytes", &data));
    };
    let img = image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg)
        .map_err(|e| RealError::Operator { op: "decode".into(), sample, message: e.to_string() })?;
    let rgb = img.into_rgb8();
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    Ok(Data::ImageU8(Image { width: w, height: h, channels: 3, data: rgb.into_raw() }))
}

/// `to_float`: 8-bit to float, divided by 255 (torchvision's `ConvertImageDtype(float)`).
pub fn to_float(data: Data) -> Result<Data, RealError> {
    let Data::ImageU8(im) = data else {
        return Err(RealOp::ToFloat.wrong("an 8-bit image", &data));
    };
    if !im.is_consistent() {
        return Err(RealOp::ToFloat.inconsistent());
    }
    let data = im.data.iter().map(|&v| f32::from(v) * (1.0 / 255.0)).collect();
    Ok(Data::ImageF32(Image { width: im.width, height: im.height, channels: im.channels, data }))
}

/// `horizontal_flip`: mirror left-right with probability 0.5.
pub fn horizontal_flip(data: Data, rng: &mut simcore::StreamRng) -> Result<Data, RealError> {
    let flip = rng.next_f64() < 0.5;
    map_image!(RealOp::HorizontalFlip, data, |im| if flip { flipped(im) } else { im })
}

fn flipped<T: Pixel>(mut im: Image<T>) -> Image<T> {
    let (w, c) = (im.width, im.channels);
    if w == 0 || c == 0 {
        return im;
    }
    for row in im.data.chunks_exact_mut(w * c) {
        for x in 0..w / 2 {
            let (a, b) = (x * c, (w - 1 - x) * c);
            for k in 0..c {
                row.swap(a + k, b + k);
            }
        }
    }
    im
}

/// `normalize`: `(x - 0.1307) / 0.3081` on every component of a float image.
pub fn normalize(data: Data) -> Result<Data, RealError> {
    let Data::ImageF32(mut im) = data else {
        return Err(RealOp::Normalize.wrong("a float image (run to_float first)", &data));
    };
    if !im.is_consistent() {
        return Err(RealOp::Normalize.inconsistent());
    }
    let inv = 1.0 / NORMALIZE_STD;
    im.data.iter_mut().for_each(|v| *v = (*v - NORMALIZE_MEAN) * inv);
    Ok(Data::ImageF32(im))
}
