//! The real operators and the two built-in pipelines they form, with the constraints cedar
//! declares for the operators they stand for (`data/datapipe/cedar_simclrv2_ops.tsv`,
//! `cedar_wikitext103_ops.tsv`).

use simcore::{RandomStreams, StreamRng};

use super::context::RealContext;
use super::data::Data;
use super::error::RealError;
use super::{blur, color, crop, embedding, image_ops, text_ops, tokenize};

/// A built-in real pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RealPipeline {
    /// cedar's `simclrv2` chain: read, decode, to float, random resized crop 244x244,
    /// horizontal flip, colour jitter, grayscale, Gaussian blur, normalise.
    Image,
    /// cedar's `wikitext103` chain: read a line, GPT-2 BPE tokenise, truncate to 254, add
    /// BOS and EOS, to tensor, embedding lookup.
    Text,
}

const IMAGE_OPS: [RealOp; 9] = [
    RealOp::Read,
    RealOp::Decode,
    RealOp::ToFloat,
    RealOp::RandomResizedCrop,
    RealOp::HorizontalFlip,
    RealOp::ColorJitter,
    RealOp::Grayscale,
    RealOp::GaussianBlur,
    RealOp::Normalize,
];

const TEXT_OPS: [RealOp; 7] = [
    RealOp::ReadLine,
    RealOp::Tokenize,
    RealOp::Truncate,
    RealOp::AddBos,
    RealOp::AddEos,
    RealOp::ToTensor,
    RealOp::Embedding,
];

impl RealPipeline {
    /// Both pipelines.
    pub const ALL: [RealPipeline; 2] = [RealPipeline::Image, RealPipeline::Text];

    /// `image` or `text`.
    pub fn name(self) -> &'static str {
        match self {
            RealPipeline::Image => "image",
            RealPipeline::Text => "text",
        }
    }

    /// The pipeline named `name` (`image` or `text`).
    pub fn parse(name: &str) -> Result<RealPipeline, RealError> {
        RealPipeline::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| RealError::UnknownPipeline(name.to_string()))
    }

    /// The cedar pipeline whose chain this one reproduces.
    pub fn cedar_pipeline(self) -> &'static str {
        match self {
            RealPipeline::Image => "simclrv2",
            RealPipeline::Text => "wikitext103",
        }
    }

    /// The operators in cedar's order.
    pub fn ops(self) -> &'static [RealOp] {
        match self {
            RealPipeline::Image => &IMAGE_OPS,
            RealPipeline::Text => &TEXT_OPS,
        }
    }

    /// The operator names in cedar's order.
    pub fn default_order(self) -> Vec<String> {
        self.ops().iter().map(|op| op.name().to_string()).collect()
    }

    /// The operator names, comma-separated (for error messages).
    pub fn valid_names(self) -> String {
        self.default_order().join(", ")
    }

    /// The operator of this pipeline named `name`; the error lists the valid names.
    pub fn op(self, name: &str) -> Result<RealOp, RealError> {
        self.ops().iter().copied().find(|op| op.name() == name).ok_or_else(|| {
            RealError::UnknownOperator {
                name: name.to_string(),
                pipeline: self.name().to_string(),
                valid: self.valid_names(),
            }
        })
    }

    /// Checks that `order` is a legal order of this pipeline: every operator exactly once,
    /// fixed operators at their place in cedar's order, and every operator after the
    /// operators whose tags it depends on.
    pub fn check_order(self, order: &[RealOp]) -> Result<(), RealError> {
        let all = self.ops();
        for (i, op) in order.iter().enumerate() {
            if !all.contains(op) {
                return Err(RealError::UnknownOperator {
                    name: op.name().to_string(),
                    pipeline: self.name().to_string(),
                    valid: self.valid_names(),
                });
            }
            if order[..i].contains(op) {
                return Err(RealError::Order(format!(
                    "operator `{}` appears more than once",
                    op.name()
                )));
            }
        }
        let missing: Vec<&str> =
            all.iter().filter(|op| !order.contains(op)).map(|op| op.name()).collect();
        if !missing.is_empty() {
            return Err(RealError::Order(format!(
                "every operator of the {} pipeline must appear once; missing: {}",
                self.name(),
                missing.join(", ")
            )));
        }
        for (i, op) in order.iter().enumerate() {
            let info = op.info();
            let home = all.iter().position(|o| o == op).unwrap_or(i);
            if info.fixed && home != i {
                return Err(RealError::Order(format!(
                    "`{}` is fixed (cedar may not move it): it must be operator {} of {}, not {}",
                    op.name(),
                    home + 1,
                    all.len(),
                    i + 1
                )));
            }
            for dep in info.depends_on {
                let tagged = order.iter().position(|o| o.info().tag == Some(dep));
                if let Some(t) = tagged
                    && t > i
                {
                    return Err(RealError::Order(format!(
                        "`{}` depends on tag `{dep}` and must come after `{}`",
                        op.name(),
                        order[t].name()
                    )));
                }
            }
        }
        Ok(())
    }
}

/// One real operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RealOp {
    /// Image source: the encoded JPEG bytes of the sample (copied from memory or read from
    /// disk).
    Read,
    /// JPEG to an 8-bit RGB image.
    Decode,
    /// 8-bit to float in `[0, 1]` (divide by 255).
    ToFloat,
    /// torchvision's `RandomResizedCrop(244, scale=(0.08, 1), ratio=(3/4, 4/3))`, bilinear
    /// with antialiasing.
    RandomResizedCrop,
    /// Mirror left-right with probability 0.5.
    HorizontalFlip,
    /// torchvision's `ColorJitter(0.1, 0.1, 0.1, 0.1)`: brightness, contrast, saturation
    /// and hue in a random order.
    ColorJitter,
    /// RGB to one grey channel (ITU-R 601 luma weights, as torchvision).
    Grayscale,
    /// `GaussianBlur(kernel_size=11, sigma=(0.1, 2.0))`, reflect padding.
    GaussianBlur,
    /// `(x - 0.1307) / 0.3081` on every channel (float images only).
    Normalize,
    /// Text source: the sample's line.
    ReadLine,
    /// GPT-2 byte-level BPE (`r50k_base`) to token ids.
    Tokenize,
    /// Keep the first 254 tokens.
    Truncate,
    /// Prepend token 0 (cedar's `AddToken(token=0, begin=True)`).
    AddBos,
    /// Append token 2 (cedar's `AddToken(token=2, begin=False)`).
    AddEos,
    /// Token ids to a 64-bit integer tensor.
    ToTensor,
    /// Look every token up in a `50257 x dim` float table (dim 764 by default).
    Embedding,
}

/// What an operator is, as a profile declares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpInfo {
    /// Name in plans and profiles.
    pub name: &'static str,
    /// The pipe of cedar's chain it stands for.
    pub cedar_pipe: &'static str,
    /// May not be moved by a reordering (cedar's `.fix()`, or a source).
    pub fixed: bool,
    /// Tag other operators may depend on.
    pub tag: Option<&'static str>,
    /// Tags it must stay downstream of.
    pub depends_on: &'static [&'static str],
    /// Its output differs from epoch to epoch (nothing after it may be cached).
    pub random: bool,
}

const fn info(
    name: &'static str,
    cedar_pipe: &'static str,
    fixed: bool,
    tag: Option<&'static str>,
    depends_on: &'static [&'static str],
    random: bool,
) -> OpInfo {
    OpInfo { name, cedar_pipe, fixed, tag, depends_on, random }
}

impl RealOp {
    /// Its declaration. Fixed, tag and depends_on are cedar's; `random` is true for the four
    /// operators that draw random numbers (cedar's cache variant declares crop, flip and
    /// jitter random and leaves the blur, whose sigma is random too, undeclared).
    pub fn info(self) -> OpInfo {
        use RealOp::*;
        match self {
            Read => info("read", "ImageReaderPipe (file read)", true, None, &[], false),
            Decode => info("decode", "ImageReaderPipe (decode)", true, None, &[], false),
            ToFloat => info("to_float", "MapperPipe_to_float", false, Some("float"), &[], false),
            RandomResizedCrop => info(
                "random_resized_crop",
                "MapperPipe_RandomResizedCrop(size=(244, 244))",
                false,
                Some("crop"),
                &[],
                true,
            ),
            HorizontalFlip => info(
                "horizontal_flip",
                "MapperPipe_RandomHorizontalFlip(p=0.5)",
                false,
                None,
                &["crop"],
                true,
            ),
            ColorJitter => info(
                "color_jitter",
                "MapperPipe_ColorJitter(0.1, 0.1, 0.1, 0.1)",
                false,
                Some("jitter"),
                &[],
                true,
            ),
            Grayscale => info(
                "grayscale",
                "MapperPipe_Grayscale(num_output_channels=1)",
                false,
                None,
                &[],
                false,
            ),
            GaussianBlur => info(
                "gaussian_blur",
                "MapperPipe_GaussianBlur(kernel_size=(11, 11), sigma=(0.1, 2.0))",
                false,
                None,
                &[],
                true,
            ),
            Normalize => info(
                "normalize",
                "MapperPipe_Normalize(mean=(0.1307,), std=(0.3081,))",
                false,
                None,
                &["float"],
                false,
            ),
            ReadLine => info("read_line", "LocalLinePipe", true, None, &[], false),
            Tokenize => info(
                "tokenize",
                "MapperPipe_GPT2BPETokenizer() + MapperPipe_VocabTransform",
                true,
                None,
                &[],
                false,
            ),
            Truncate => {
                info("truncate", "MapperPipe_Truncate(max_seq_len=254)", true, None, &[], false)
            }
            AddBos => info("add_bos", "MapperPipe_AddToken(bos=0)", false, None, &[], false),
            AddEos => info("add_eos", "MapperPipe_AddToken(eos=2)", false, None, &[], false),
            ToTensor => {
                info("to_tensor", "MapperPipe_ToTensor()", true, Some("tensor"), &[], false)
            }
            Embedding => {
                info("embedding", "MapperPipe_Embedding(50257, 764)", true, None, &[], false)
            }
        }
    }

    /// Name in plans and profiles.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The pipeline it belongs to.
    pub fn pipeline(self) -> RealPipeline {
        if IMAGE_OPS.contains(&self) { RealPipeline::Image } else { RealPipeline::Text }
    }

    /// Whether it starts a pipeline (takes the sample index).
    pub fn is_source(self) -> bool {
        matches!(self, RealOp::Read | RealOp::ReadLine)
    }

    /// The generator this operator uses for `sample` under run seed `seed`: one stream per
    /// (operator, sample), so results do not depend on which thread ran the sample.
    pub fn rng(self, seed: u64, sample: u64) -> StreamRng {
        RandomStreams::new(seed).indexed_stream(self.name(), sample)
    }

    /// Applies the operator to one sample.
    pub fn apply(
        self,
        ctx: &RealContext,
        seed: u64,
        sample: u64,
        data: Data,
    ) -> Result<Data, RealError> {
        use RealOp::*;
        match self {
            Read => image_ops::read(ctx, sample, data),
            Decode => image_ops::decode(sample, data),
            ToFloat => image_ops::to_float(data),
            RandomResizedCrop => crop::random_resized_crop(data, &mut self.rng(seed, sample)),
            HorizontalFlip => image_ops::horizontal_flip(data, &mut self.rng(seed, sample)),
            ColorJitter => color::color_jitter(data, &mut self.rng(seed, sample)),
            Grayscale => color::grayscale(data),
            GaussianBlur => blur::gaussian_blur(data, &mut self.rng(seed, sample)),
            Normalize => image_ops::normalize(data),
            ReadLine => text_ops::read_line(ctx, sample, data),
            Tokenize => tokenize::tokenize(ctx, data),
            Truncate => text_ops::truncate(data),
            AddBos => text_ops::add_bos(data),
            AddEos => text_ops::add_eos(data),
            ToTensor => text_ops::to_tensor(data),
            Embedding => embedding::embed(ctx, sample, data),
        }
    }

    /// The error for data this operator cannot take.
    pub(crate) fn wrong(self, expected: &'static str, got: &Data) -> RealError {
        RealError::WrongData { op: self.name().to_string(), expected, got: got.kind() }
    }

    /// The error for an image whose data does not match its shape.
    pub(crate) fn inconsistent(self) -> RealError {
        RealError::WrongData {
            op: self.name().to_string(),
            expected: "an image of 1 or 3 channels holding width x height x channels values",
            got: "an image whose data does not match its shape",
        }
    }
}
