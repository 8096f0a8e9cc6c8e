//! What travels between real operators: one sample in one of its forms, from the sample index
//! the source starts with to the embedded token sequence or normalised image at the end.

/// A pixel component type: 8-bit (`u8`, 0-255) or float (`f32`, nominally 0-1).
pub trait Pixel: Copy + Send + Sync + PartialEq + std::fmt::Debug + 'static {
    /// The largest value of the nominal range (255 for `u8`, 1 for `f32`): colour operators
    /// clamp to `[0, MAX]` as torchvision does.
    const MAX: f32;
    /// The value as `f32`, unscaled.
    fn to_f32(self) -> f32;
    /// A value from `f32`: `u8` rounds and saturates to 0-255, `f32` is unchanged.
    fn from_f32(v: f32) -> Self;
}

impl Pixel for u8 {
    const MAX: f32 = 255.0;
    #[inline]
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    #[inline]
    fn from_f32(v: f32) -> Self {
        // `as` saturates (and maps NaN to 0).
        v.round() as u8
    }
}

impl Pixel for f32 {
    const MAX: f32 = 1.0;
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline]
    fn from_f32(v: f32) -> Self {
        v
    }
}

/// An image in row-major, channel-interleaved (HWC) layout.
#[derive(Clone, Debug, PartialEq)]
pub struct Image<T> {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Channels per pixel: 3 (RGB) or 1 (grey).
    pub channels: usize,
    /// `height * width * channels` components.
    pub data: Vec<T>,
}

impl<T: Pixel> Image<T> {
    /// An image filled with `value`.
    pub fn filled(width: usize, height: usize, channels: usize, value: T) -> Self {
        Image { width, height, channels, data: vec![value; width * height * channels] }
    }

    /// `(height, width, channels)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.height, self.width, self.channels)
    }

    /// Whether `data` holds exactly `height x width x channels` values and `channels` is 1
    /// or 3 (operators refuse other images rather than index out of bounds).
    pub fn is_consistent(&self) -> bool {
        matches!(self.channels, 1 | 3)
            && self
                .width
                .checked_mul(self.height)
                .and_then(|n| n.checked_mul(self.channels))
                .is_some_and(|n| n == self.data.len())
    }
}

/// One sample between two operators.
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    /// The sample index the source starts from (the analogue of cedar's file path).
    Index(u64),
    /// An encoded image file (JPEG bytes).
    Encoded(Vec<u8>),
    /// A decoded 8-bit image.
    ImageU8(Image<u8>),
    /// A float image.
    ImageF32(Image<f32>),
    /// A line of text.
    Text(String),
    /// BPE token ids.
    Tokens(Vec<u32>),
    /// Token ids as a 64-bit integer tensor (PyTorch's `LongTensor`).
    TokenTensor(Vec<i64>),
    /// An embedded sequence: `rows x dim` floats, row-major.
    Embedded {
        /// Tokens.
        rows: usize,
        /// Embedding dimension.
        dim: usize,
        /// `rows * dim` values.
        data: Vec<f32>,
    },
}

impl Data {
    /// The kind, as errors name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Data::Index(_) => "a sample index",
            Data::Encoded(_) => "encoded bytes",
            Data::ImageU8(_) => "an 8-bit image",
            Data::ImageF32(_) => "a float image",
            Data::Text(_) => "a text line",
            Data::Tokens(_) => "token ids",
            Data::TokenTensor(_) => "a token tensor",
            Data::Embedded { .. } => "an embedded sequence",
        }
    }

    /// Payload bytes: what the sample weighs in memory, without container overhead (8 for an
    /// index, 1 per encoded byte, per 8-bit component or per text byte, 4 per token id, float
    /// component or embedding value, 8 per tensor element). The profiler reports these as
    /// `in_bytes` / `out_bytes`.
    pub fn bytes(&self) -> usize {
        match self {
            Data::Index(_) => 8,
            Data::Encoded(b) => b.len(),
            Data::ImageU8(im) => im.data.len(),
            Data::ImageF32(im) => im.data.len() * 4,
            Data::Text(s) => s.len(),
            Data::Tokens(t) => t.len() * 4,
            Data::TokenTensor(t) => t.len() * 8,
            Data::Embedded { data, .. } => data.len() * 4,
        }
    }

    /// Appends the sample's payload to a batch buffer (one copy, as collation stacks
    /// tensors): float payloads to `floats`, integer ones to `ints`, bytes to `bytes`.
    pub fn collate_into(&self, floats: &mut Vec<f32>, ints: &mut Vec<i64>, bytes: &mut Vec<u8>) {
        match self {
            Data::Index(i) => ints.push(*i as i64),
            Data::Encoded(b) => bytes.extend_from_slice(b),
            Data::ImageU8(im) => bytes.extend_from_slice(&im.data),
            Data::ImageF32(im) => floats.extend_from_slice(&im.data),
            Data::Text(s) => bytes.extend_from_slice(s.as_bytes()),
            Data::Tokens(t) => ints.extend(t.iter().map(|&x| i64::from(x))),
            Data::TokenTensor(t) => ints.extend_from_slice(t),
            Data::Embedded { data, .. } => floats.extend_from_slice(data),
        }
    }

    /// The shape: `[h, w, c]` for images, `[len]` for bytes, text, tokens and tensors,
    /// `[rows, dim]` for an embedded sequence, `[]` for an index.
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Data::Index(_) => vec![],
            Data::Encoded(b) => vec![b.len()],
            Data::ImageU8(im) => vec![im.height, im.width, im.channels],
            Data::ImageF32(im) => vec![im.height, im.width, im.channels],
            Data::Text(s) => vec![s.len()],
            Data::Tokens(t) => vec![t.len()],
            Data::TokenTensor(t) => vec![t.len()],
            Data::Embedded { rows, dim, .. } => vec![*rows, *dim],
        }
    }

    /// A 64-bit FNV-1a digest of the kind, shape and exact contents (floats by their bits):
    /// equal digests mean byte-identical samples, for reproducibility checks.
    pub fn digest(&self) -> u64 {
        let mut h = Fnv(0xcbf2_9ce4_8422_2325);
        h.write(self.kind().as_bytes());
        for d in self.shape() {
            h.write(&(d as u64).to_le_bytes());
        }
        match self {
            Data::Index(i) => h.write(&i.to_le_bytes()),
            Data::Encoded(b) => h.write(b),
            Data::ImageU8(im) => h.write(&im.data),
            Data::ImageF32(im) => im.data.iter().for_each(|v| h.write(&v.to_bits().to_le_bytes())),
            Data::Text(s) => h.write(s.as_bytes()),
            Data::Tokens(t) => t.iter().for_each(|v| h.write(&v.to_le_bytes())),
            Data::TokenTensor(t) => t.iter().for_each(|v| h.write(&v.to_le_bytes())),
            Data::Embedded { data, .. } => {
                data.iter().for_each(|v| h.write(&v.to_bits().to_le_bytes()))
            }
        }
        h.0
    }
}

struct Fnv(u64);

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}
