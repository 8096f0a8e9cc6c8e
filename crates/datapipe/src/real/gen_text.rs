//! Generated English-like text lines, so the text pipeline runs with no download.
//!
//! Lines are sentences of 6-24 words drawn from a built-in list of common English words,
//! skewed towards the front of the list (a rough Zipf law), with capitals, commas, numbers
//! and full stops. Line lengths are uniform in `[mean/2, 3 mean/2]` bytes; WikiText-103's
//! lines average about 600 bytes (cedar's profile: 605 bytes into the tokenizer), the
//! default mean here. Line `i` is a function of (seed, i) only.

use simcore::{RandomStreams, StreamRng};

use super::error::RealError;

/// How many lines to generate and how long, and the embedding dimension of the text pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextInputs {
    /// Distinct lines (sample `i` uses line `i mod lines`).
    pub lines: usize,
    /// Mean bytes per line.
    pub mean_bytes: usize,
    /// Embedding dimension of the `50257 x dim` table (cedar: 764; 4 bytes x 50257 x 764 =
    /// 154 MB, built once).
    pub embed_dim: usize,
}

impl Default for TextInputs {
    /// 1000 lines of 600 bytes on average, embedding dimension 764.
    fn default() -> Self {
        TextInputs { lines: 1000, mean_bytes: 600, embed_dim: super::embedding::DEFAULT_DIM }
    }
}

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "in",
    "to",
    "a",
    "was",
    "is",
    "for",
    "on",
    "as",
    "with",
    "by",
    "he",
    "that",
    "at",
    "from",
    "his",
    "it",
    "an",
    "were",
    "which",
    "are",
    "this",
    "also",
    "be",
    "had",
    "first",
    "or",
    "one",
    "their",
    "its",
    "new",
    "after",
    "but",
    "who",
    "not",
    "they",
    "have",
    "her",
    "she",
    "two",
    "been",
    "other",
    "when",
    "there",
    "all",
    "during",
    "into",
    "school",
    "time",
    "may",
    "years",
    "more",
    "most",
    "only",
    "over",
    "city",
    "some",
    "world",
    "would",
    "where",
    "later",
    "up",
    "such",
    "used",
    "many",
    "can",
    "state",
    "about",
    "national",
    "out",
    "known",
    "university",
    "united",
    "then",
    "made",
    "team",
    "between",
    "under",
    "season",
    "film",
    "game",
    "series",
    "war",
    "album",
    "song",
    "church",
    "river",
    "north",
    "south",
    "county",
    "house",
    "century",
    "government",
    "early",
    "music",
    "held",
    "part",
    "second",
    "named",
    "following",
    "three",
    "several",
    "label",
    "released",
    "record",
    "station",
    "line",
    "built",
    "became",
    "began",
    "although",
    "included",
    "played",
    "local",
    "army",
    "island",
    "british",
    "american",
    "french",
    "german",
    "english",
    "historical",
    "original",
    "common",
    "battle",
    "ship",
    "company",
    "general",
    "family",
    "work",
    "life",
    "death",
    "group",
    "area",
    "population",
    "village",
    "district",
    "building",
    "temple",
    "bridge",
    "road",
    "route",
    "highway",
    "storm",
    "hurricane",
    "tropical",
    "winds",
    "coast",
    "damage",
    "species",
    "bird",
    "forest",
    "mountain",
    "lake",
    "water",
    "park",
    "garden",
    "museum",
    "library",
    "college",
    "student",
    "teacher",
    "player",
    "coach",
    "league",
    "championship",
    "victory",
    "defeat",
    "match",
    "goal",
    "points",
    "career",
    "award",
    "prize",
    "critics",
    "review",
    "reception",
    "character",
    "episode",
    "television",
    "novel",
    "author",
    "book",
    "poem",
    "story",
    "writer",
    "director",
    "producer",
    "studio",
    "production",
    "performance",
    "concert",
    "tour",
    "band",
    "singer",
    "guitar",
    "chart",
    "single",
    "version",
    "edition",
    "design",
    "engine",
    "aircraft",
    "railway",
    "train",
    "service",
    "system",
    "power",
    "energy",
    "research",
    "science",
    "theory",
    "history",
    "period",
    "empire",
    "king",
    "queen",
    "prince",
    "emperor",
    "council",
    "election",
    "party",
    "minister",
    "president",
    "court",
    "law",
    "act",
    "treaty",
    "force",
    "attack",
    "troops",
    "officer",
    "captain",
    "soldiers",
    "command",
    "division",
    "regiment",
    "fleet",
    "however",
    "because",
    "before",
    "while",
    "since",
    "until",
    "against",
    "through",
    "without",
    "within",
    "around",
    "near",
    "across",
    "along",
    "large",
    "small",
    "major",
    "final",
    "great",
    "high",
    "long",
    "young",
    "old",
    "public",
    "private",
    "main",
    "central",
    "western",
    "eastern",
    "described",
    "considered",
    "reported",
    "returned",
    "remained",
    "continued",
    "moved",
    "established",
    "founded",
    "designed",
    "produced",
    "recorded",
    "published",
    "written",
    "completed",
    "replaced",
    "opened",
    "closed",
    "destroyed",
    "damaged",
    "increased",
    "reduced",
];

impl TextInputs {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), RealError> {
        if self.lines == 0 {
            return Err(RealError::Input("lines must be at least 1".into()));
        }
        if !(10..=1_000_000).contains(&self.mean_bytes) {
            return Err(RealError::Input(format!(
                "mean line length {} bytes must be between 10 and 1000000",
                self.mean_bytes
            )));
        }
        if !(1..=4096).contains(&self.embed_dim) {
            return Err(RealError::Input(format!(
                "embedding dimension {} must be between 1 and 4096",
                self.embed_dim
            )));
        }
        Ok(())
    }
}

/// The lines, deterministic from `seed`.
pub fn generate_lines(inputs: &TextInputs, seed: u64) -> Result<Vec<String>, RealError> {
    inputs.validate()?;
    let streams = RandomStreams::new(seed);
    Ok((0..inputs.lines)
        .map(|i| line(inputs.mean_bytes, &mut streams.indexed_stream("real/lines", i as u64)))
        .collect())
}

fn word(rng: &mut StreamRng) -> &'static str {
    let u = rng.next_f64();
    WORDS[((u * u * WORDS.len() as f64) as usize).min(WORDS.len() - 1)]
}

fn line(mean: usize, rng: &mut StreamRng) -> String {
    let target = mean / 2 + rng.below(mean as u64 + 1) as usize;
    let mut s = String::with_capacity(target + 32);
    while s.len() < target {
        let words = 6 + rng.below(19);
        for k in 0..words {
            if !s.is_empty() {
                s.push(' ');
            }
            let draw = rng.next_f64();
            if draw < 0.04 {
                s.push_str(&(1 + rng.below(2025)).to_string());
            } else {
                let w = word(rng);
                if k == 0 {
                    let mut chars = w.chars();
                    if let Some(c) = chars.next() {
                        s.extend(c.to_uppercase());
                        s.push_str(chars.as_str());
                    }
                } else {
                    s.push_str(w);
                }
            }
            if k + 1 < words && rng.next_f64() < 0.08 {
                s.push(',');
            }
        }
        s.push('.');
    }
    s
}
