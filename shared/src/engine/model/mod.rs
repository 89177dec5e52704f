//! The learned model: linear heads over hashed features (see [`features`]) for
//! priority (P0-P3) and team (softmax), churn and revenue opportunity (logistic), with
//! probabilities calibrated on held-out folds when it was trained (`triage learn`).
//!
//! The model is data: one file under `data/model/`, read once when the engine is
//! built. Layout (little-endian): the magic `TRIAGEM1`, a `u32` header length, the
//! header as JSON ([`Header`]), then `2^bits x 9` weights as `i16` (bucket-major; a
//! weight is the integer times its output's scale), then a bitset of the word buckets
//! seen in training, then the SHA-256 of everything before it.

pub mod features;

use std::borrow::Cow;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use features::{FeatureConfig, Features, Source};

use crate::text::Prepared;

/// The model shipped with the product.
const EMBEDDED: &[u8] = include_bytes!("../../../../data/model/triage-model.bin");

const MAGIC: &[u8; 8] = b"TRIAGEM1";
const FORMAT: u32 = 1;

/// Named features that are context, left out of explanations.
const CONTEXT: &[&str] = &["language ", "channel ", "mrr ", "rules team "];

/// Outputs: P0..P3, the three teams (in `Team::ALL` order), churn, opportunity.
pub const OUTPUTS: usize = 9;
pub const PRIORITY: std::ops::Range<usize> = 0..4;
pub const TEAM: std::ops::Range<usize> = 4..7;
pub const CHURN: usize = 7;
pub const OPPORTUNITY: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read model file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("model file {origin} is not valid: {problem}")]
    Invalid { origin: String, problem: String },
}

/// How raw scores become probabilities: a temperature for each softmax head, and
/// `sigmoid(a * score + b)` for each binary head. Fitted on out-of-fold scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calibration {
    pub priority_temperature: f32,
    pub team_temperature: f32,
    pub churn: [f32; 2],
    pub opportunity: [f32; 2],
}

impl Default for Calibration {
    fn default() -> Self {
        Self {
            priority_temperature: 1.0,
            team_temperature: 1.0,
            churn: [1.0, 0.0],
            opportunity: [1.0, 0.0],
        }
    }
}

/// What the model was trained on, for `triage learn` and the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingInfo {
    pub tickets: u32,
    /// Tickets per priority label, P0..P3.
    pub by_priority: [u32; 4],
    /// SHA-256 of the training rows (ids, texts and labels, in order).
    pub corpus_sha256: String,
    pub seed: u64,
    pub folds: u32,
    /// L2 penalty of each head: priority, team, churn, opportunity.
    pub l2: [f32; 4],
    /// Features used by fewer tickets than this were left out.
    #[serde(default)]
    pub min_df: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: u32,
    pub features: FeatureConfig,
    pub bias: [f32; OUTPUTS],
    /// A weight is its stored integer times its output's scale.
    pub scale: [f32; OUTPUTS],
    pub calibration: Calibration,
    pub training: TrainingInfo,
}

/// A loaded model.
#[derive(Debug, Clone)]
pub struct Model {
    pub header: Header,
    /// The weights as stored (`i16` little-endian, bucket-major).
    weights: Cow<'static, [u8]>,
    /// One bit per bucket: a word of the training corpus hashed there.
    known: Vec<u64>,
}

/// The model's view of one ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub scores: [f32; OUTPUTS],
    /// Calibrated probabilities of P0..P3.
    pub priority: [f64; 4],
    /// Calibrated probabilities of each team, in `Team::ALL` order.
    pub team: [f64; 3],
    pub churn: f64,
    pub opportunity: f64,
    /// Share of the ticket's words the model saw in training (1 when it has none).
    pub coverage: f64,
}

fn softmax<const N: usize>(scores: &[f32], temperature: f32) -> [f64; N] {
    let t = f64::from(temperature.max(1e-3));
    let max = scores.iter().copied().fold(f32::MIN, f32::max);
    let mut out = [0.0; N];
    let mut sum = 0.0;
    for (o, s) in out.iter_mut().zip(scores) {
        *o = (f64::from(s - max) / t).exp();
        sum += *o;
    }
    for o in &mut out {
        *o /= sum;
    }
    out
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Model {
    /// The shipped model (`data/model/triage-model.bin`).
    pub fn embedded() -> Result<Self, ModelError> {
        Self::parse(
            Cow::Borrowed(EMBEDDED),
            "data/model/triage-model.bin",
            false,
        )
    }

    /// A model file written by `triage learn`, checked against its digest.
    pub fn load(path: &Path) -> Result<Self, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(Cow::Owned(bytes), &path.display().to_string(), true)
    }

    /// Reads a model from its bytes. The shipped model's digest is checked by a test
    /// instead of at every start (it is 2 MB of hashing on a cold start).
    pub fn parse(
        bytes: Cow<'static, [u8]>,
        origin: &str,
        verify: bool,
    ) -> Result<Self, ModelError> {
        let bad = |problem: String| ModelError::Invalid {
            origin: origin.to_string(),
            problem,
        };
        if bytes.len() < 12 + 32 || &bytes[..8] != MAGIC {
            return Err(bad("not a triage model (wrong magic)".into()));
        }
        let body = bytes.len() - 32;
        if verify && Sha256::digest(&bytes[..body]).as_slice() != &bytes[body..] {
            return Err(bad("digest mismatch: the file is damaged".into()));
        }
        let header_len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
        let header_end = 12usize
            .checked_add(header_len)
            .filter(|&e| e <= body)
            .ok_or_else(|| bad("header runs past the end".into()))?;
        let header: Header = serde_json::from_slice(&bytes[12..header_end])
            .map_err(|e| bad(format!("header: {e}")))?;
        if header.format != FORMAT {
            return Err(bad(format!(
                "format {} (this build reads {FORMAT})",
                header.format
            )));
        }
        let f = header.features;
        if !(10..=22).contains(&f.bits) || f.char_min < 2 || f.char_min > f.char_max {
            return Err(bad("feature configuration out of range".into()));
        }
        let buckets = 1usize << f.bits;
        let weights_len = buckets * OUTPUTS * 2;
        let known_len = buckets.div_ceil(64) * 8;
        if body != header_end + weights_len + known_len {
            return Err(bad(format!(
                "expected {} bytes of weights and word bits, found {}",
                weights_len + known_len,
                body - header_end
            )));
        }
        let known = bytes[header_end + weights_len..body]
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        let weights = match bytes {
            Cow::Borrowed(b) => Cow::Borrowed(&b[header_end..header_end + weights_len]),
            Cow::Owned(b) => Cow::Owned(b[header_end..header_end + weights_len].to_vec()),
        };
        Ok(Self {
            header,
            weights,
            known,
        })
    }

    /// Builds a model from trained parts (used by `triage learn`).
    pub fn from_parts(header: Header, weights: &[i16], known: Vec<u64>) -> Self {
        let mut bytes = Vec::with_capacity(weights.len() * 2);
        for w in weights {
            bytes.extend_from_slice(&w.to_le_bytes());
        }
        Self {
            header,
            weights: Cow::Owned(bytes),
            known,
        }
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("the header serialises");
        let mut out = Vec::with_capacity(12 + header.len() + self.weights.len() + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.weights);
        for k in &self.known {
            out.extend_from_slice(&k.to_le_bytes());
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    pub fn features(&self) -> &FeatureConfig {
        &self.header.features
    }

    #[inline]
    fn weight(&self, index: u32, output: usize) -> f32 {
        let at = (index as usize * OUTPUTS + output) * 2;
        f32::from(i16::from_le_bytes([self.weights[at], self.weights[at + 1]]))
    }

    /// Raw scores (before calibration).
    pub fn scores(&self, features: &Features) -> [f32; OUTPUTS] {
        let mut acc = [0f32; OUTPUTS];
        for f in &features.items {
            let row = f.index as usize * OUTPUTS * 2;
            let w = &self.weights[row..row + OUTPUTS * 2];
            for (o, a) in acc.iter_mut().enumerate() {
                *a += f.value * f32::from(i16::from_le_bytes([w[2 * o], w[2 * o + 1]]));
            }
        }
        let h = &self.header;
        std::array::from_fn(|o| h.bias[o] + acc[o] * h.scale[o])
    }

    /// Calibrated probabilities from raw scores.
    pub fn calibrate(&self, scores: &[f32; OUTPUTS], coverage: f64) -> Prediction {
        let c = &self.header.calibration;
        let binary = |[a, b]: [f32; 2], s: f32| sigmoid(f64::from(a) * f64::from(s) + f64::from(b));
        Prediction {
            scores: *scores,
            priority: softmax(&scores[PRIORITY], c.priority_temperature),
            team: softmax(&scores[TEAM], c.team_temperature),
            churn: binary(c.churn, scores[CHURN]),
            opportunity: binary(c.opportunity, scores[OPPORTUNITY]),
            coverage,
        }
    }

    pub fn predict(&self, features: &Features) -> Prediction {
        let scores = self.scores(features);
        self.calibrate(&scores, self.coverage(&features.word_buckets))
    }

    /// Share of a ticket's word buckets seen in training (1 when it has no words).
    pub fn coverage(&self, word_buckets: &[u32]) -> f64 {
        if word_buckets.is_empty() {
            return 1.0;
        }
        let seen = word_buckets
            .iter()
            .filter(|&&b| self.known[b as usize / 64] >> (b % 64) & 1 == 1)
            .count();
        seen as f64 / word_buckets.len() as f64
    }

    /// For each of `outputs`, the words and named features that pushed it up the most,
    /// strongest first, with neighbouring words joined into phrases: `'conversion'
    /// 'zero' 'losing every sale'`. One pass over the features serves every output.
    pub fn explain<const N: usize>(
        &self,
        features: &Features,
        text: &Prepared,
        outputs: [usize; N],
        limit: usize,
    ) -> [Vec<String>; N] {
        let scales = outputs.map(|o| self.header.scale[o]);
        let mut by_token: [Vec<f32>; N] = std::array::from_fn(|_| vec![0.0; text.len()]);
        let mut named: [Vec<(f32, &str)>; N] = std::array::from_fn(|_| Vec::new());
        for f in &features.items {
            for k in 0..N {
                let c = f.value * self.weight(f.index, outputs[k]) * scales[k];
                match f.source {
                    Source::Token(i) => by_token[k][i as usize] += c,
                    Source::Named(i) => named[k].push((c, &features.names[i as usize])),
                }
            }
        }
        let mut named = named.into_iter();
        by_token.map(|by_token| {
            let named = named.next().expect("one list per output");
            Self::phrases(&by_token, named, text, limit)
        })
    }

    /// The strongest phrases and named features of one output's contributions.
    fn phrases(
        by_token: &[f32],
        named: Vec<(f32, &str)>,
        text: &Prepared,
        limit: usize,
    ) -> Vec<String> {
        // Positive runs of neighbouring tokens within a sentence form phrases.
        let total: f32 = by_token.iter().filter(|c| **c > 0.0).sum::<f32>()
            + named.iter().map(|n| n.0.max(0.0)).sum::<f32>();
        let floor = total * 0.04;
        let mut phrases: Vec<(f32, String)> = Vec::new();
        let mut i = 0;
        while i < by_token.len() {
            if by_token[i] <= floor {
                i += 1;
                continue;
            }
            let start = i;
            let mut sum = 0.0;
            while i < by_token.len()
                && by_token[i] > floor
                && text.sentence_of(i) == text.sentence_of(start)
                && i - start < 4
            {
                sum += by_token[i];
                i += 1;
            }
            let words = text.span_text(start, i);
            match phrases.iter_mut().find(|p| p.1 == words) {
                Some(p) => p.0 += sum,
                None => phrases.push((sum, words)),
            }
        }
        // Context (language, channel, MRR band) shapes the scores but explains nothing.
        // A signal found twice is one feature, listed once.
        let mut signals: Vec<(f32, &str)> = Vec::new();
        for (c, n) in named {
            match signals.iter_mut().find(|s| s.1 == n) {
                Some(s) => s.0 += c,
                None => signals.push((c, n)),
            }
        }
        phrases.extend(
            signals
                .into_iter()
                .filter(|n| n.0 > floor && !CONTEXT.iter().any(|c| n.1.starts_with(c)))
                .map(|(c, n)| (c, n.to_string())),
        );
        phrases.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        phrases
            .into_iter()
            .take(limit)
            .map(|(_, p)| format!("'{p}'"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_is_intact() {
        let m = Model::embedded().unwrap();
        let bytes = m.to_bytes();
        assert_eq!(bytes, EMBEDDED, "to_bytes gives back the file");
        Model::parse(Cow::Owned(bytes), "copy", true).unwrap();
    }

    #[test]
    fn a_damaged_file_is_refused() {
        let mut bytes = EMBEDDED.to_vec();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        let err = Model::parse(Cow::Owned(bytes), "damaged.bin", true).unwrap_err();
        assert!(err.to_string().contains("digest mismatch"), "{err}");
        let err =
            Model::parse(Cow::Borrowed(b"not a model at all, clearly not"), "x", true).unwrap_err();
        assert!(err.to_string().contains("magic"), "{err}");
    }

    #[test]
    fn probabilities_are_distributions() {
        let m = Model::embedded().unwrap();
        let text = Prepared::new("Checkout", "Nobody can pay since 9am", 1000);
        let f = m.features().extract(&text, []);
        let p = m.predict(&f);
        assert!((p.priority.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((p.team.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!((0.0..=1.0).contains(&p.churn) && (0.0..=1.0).contains(&p.coverage));
    }
}
