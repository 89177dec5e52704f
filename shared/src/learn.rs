//! Training the model (`triage learn`): L2-regularised multinomial logistic regression
//! for priority and team, logistic regression for churn and opportunity, over the
//! hashed features of [`crate::engine::model::features`]; probabilities calibrated on
//! out-of-fold scores (temperature for the softmax heads, Platt scaling for the
//! binary ones).
//!
//! The optimiser is argmin's L-BFGS with a More-Thuente line search; the loss and its
//! gradient are computed here over sparse rows, because the general-purpose crates
//! (linfa, smartcore) fit dense matrices only, and 2,500 tickets by 2^17 hashed
//! features is far too large dense. Everything is deterministic: the folds come from a
//! seeded shuffle, the sums run in a fixed order, and the same data gives the same
//! model bytes.

use argmin::core::{CostFunction, Error as ArgminError, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;

use crate::domain::{Priority, Team};
use crate::engine::model::features::FeatureConfig;
use crate::engine::model::{
    CHURN, Calibration, Header, Model, OPPORTUNITY, OUTPUTS, PRIORITY, TEAM, TrainingInfo,
};

/// One labelled ticket, as features.
#[derive(Debug, Clone, Default)]
pub struct Example {
    /// Sorted by index, duplicates summed.
    pub features: Vec<(u32, f32)>,
    pub word_buckets: Vec<u32>,
    pub priority: Option<Priority>,
    pub team: Option<Team>,
    pub churn: Option<bool>,
    pub opportunity: Option<bool>,
}

impl Example {
    /// Merges a ticket's feature occurrences into one sparse row.
    pub fn new(items: impl IntoIterator<Item = (u32, f32)>, word_buckets: Vec<u32>) -> Self {
        let mut features: Vec<(u32, f32)> = items.into_iter().collect();
        features.sort_by_key(|f| f.0);
        let mut merged: Vec<(u32, f32)> = Vec::with_capacity(features.len());
        for (i, v) in features {
            match merged.last_mut() {
                Some(last) if last.0 == i => last.1 += v,
                _ => merged.push((i, v)),
            }
        }
        Self {
            features: merged,
            word_buckets,
            ..Self::default()
        }
    }

    /// The label of `head` as a class index, when labelled.
    fn class(&self, head: Head) -> Option<usize> {
        match head {
            Head::Priority => self.priority.map(Priority::index),
            Head::Team => self
                .team
                .map(|t| Team::ALL.iter().position(|x| *x == t).expect("a team")),
            Head::Churn => self.churn.map(usize::from),
            Head::Opportunity => self.opportunity.map(usize::from),
        }
    }
}

/// The four heads of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    Priority,
    Team,
    Churn,
    Opportunity,
}

impl Head {
    pub const ALL: [Head; 4] = [Head::Priority, Head::Team, Head::Churn, Head::Opportunity];

    /// Number of model outputs (a binary head has one score).
    fn outputs(self) -> usize {
        match self {
            Head::Priority => 4,
            Head::Team => 3,
            Head::Churn | Head::Opportunity => 1,
        }
    }

    fn first_output(self) -> usize {
        match self {
            Head::Priority => PRIORITY.start,
            Head::Team => TEAM.start,
            Head::Churn => CHURN,
            Head::Opportunity => OPPORTUNITY,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LearnConfig {
    pub features: FeatureConfig,
    /// L2 penalty per head (priority, team, churn, opportunity).
    pub l2: [f64; 4],
    pub folds: u32,
    pub seed: u64,
    pub max_iters: u64,
    /// A feature counts when at least this many training tickets use it.
    pub min_df: usize,
    /// Worker threads for the folds and heads.
    pub threads: usize,
}

impl Default for LearnConfig {
    fn default() -> Self {
        Self {
            features: FeatureConfig::default(),
            l2: [1e-3, 1e-3, 1e-3, 1e-3],
            folds: 5,
            seed: 7,
            max_iters: 200,
            min_df: 2,
            threads: 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("no labelled tickets to learn from")]
    Empty,
    #[error("{0}")]
    Optimiser(String),
}

/// The result of `learn`: the model, and each example's out-of-fold scores (what a
/// model trained without that ticket's fold gave it), for calibration and for the
/// cross-validated figures.
pub struct Learned {
    pub model: Model,
    pub out_of_fold: Vec<[f32; OUTPUTS]>,
    /// The fold of each example.
    pub fold_of: Vec<u32>,
}

/// Sparse rows over a compact feature space (only the buckets the data uses).
struct Rows {
    /// Compact id → bucket.
    buckets: Vec<u32>,
    starts: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f64>,
}

impl Rows {
    /// Rows over the buckets that at least `min_df` examples use: a feature seen in
    /// one ticket only can memorise it, never generalise.
    fn new(examples: &[&Example], min_df: usize) -> Self {
        let mut all: Vec<u32> = examples
            .iter()
            .flat_map(|e| e.features.iter().map(|f| f.0))
            .collect();
        all.sort_unstable();
        let mut buckets = Vec::with_capacity(all.len() / 4);
        for run in all.chunk_by(|a, b| a == b) {
            if run.len() >= min_df {
                buckets.push(run[0]);
            }
        }
        let mut starts = vec![0];
        let mut cols = Vec::new();
        let mut vals = Vec::new();
        for e in examples {
            for (b, v) in &e.features {
                if let Ok(c) = buckets.binary_search(b) {
                    cols.push(c as u32);
                    vals.push(f64::from(*v));
                }
            }
            starts.push(cols.len());
        }
        Self {
            buckets,
            starts,
            cols,
            vals,
        }
    }

    fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.starts[i]..self.starts[i + 1];
        self.cols[r.clone()]
            .iter()
            .zip(&self.vals[r])
            .map(|(c, v)| (*c as usize, *v))
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }
}

/// Parameters with their loss and gradient.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// The penalised log loss of one head over labelled rows; parameters are the weights
/// (`features x k`, row-major) followed by `k` biases.
struct Problem<'a> {
    rows: &'a Rows,
    labels: &'a [usize],
    /// Classes (softmax) or 1 (logistic).
    k: usize,
    l2: f64,
    /// The line search asks for the cost and then the gradient at the same point: one
    /// pass computes both, and the second call reads them from here.
    last: std::sync::Mutex<Option<Evaluated>>,
}

impl Problem<'_> {
    fn width(&self) -> usize {
        self.rows.buckets.len() * self.k
    }

    fn scores(&self, p: &[f64], i: usize, out: &mut [f64]) {
        let bias = &p[self.width()..];
        out.copy_from_slice(bias);
        for (c, v) in self.rows.row(i) {
            let w = &p[c * self.k..(c + 1) * self.k];
            for (o, wk) in out.iter_mut().zip(w) {
                *o += v * wk;
            }
        }
    }

    /// Loss and, when asked, its gradient.
    fn evaluate(&self, p: &[f64], mut grad: Option<&mut Vec<f64>>) -> f64 {
        let n = self.rows.len() as f64;
        let k = self.k;
        let width = self.width();
        if let Some(g) = grad.as_deref_mut() {
            g.clear();
            g.resize(p.len(), 0.0);
            for (gi, pi) in g[..width].iter_mut().zip(&p[..width]) {
                *gi = self.l2 * pi;
            }
        }
        let mut loss = 0.5 * self.l2 * p[..width].iter().map(|w| w * w).sum::<f64>();
        let mut z = vec![0.0; k];
        let mut d = vec![0.0; k];
        for i in 0..self.rows.len() {
            self.scores(p, i, &mut z);
            let y = self.labels[i];
            if k == 1 {
                // log(1 + exp(-s z)), s = +1 for yes, -1 for no.
                let s = if y == 1 { 1.0 } else { -1.0 };
                let m = -s * z[0];
                loss += if m > 0.0 {
                    m + (-m).exp().ln_1p()
                } else {
                    m.exp().ln_1p()
                } / n;
                d[0] = (1.0 / (1.0 + (-z[0]).exp()) - if y == 1 { 1.0 } else { 0.0 }) / n;
            } else {
                let max = z.iter().copied().fold(f64::MIN, f64::max);
                let sum: f64 = z.iter().map(|x| (x - max).exp()).sum();
                loss += (max + sum.ln() - z[y]) / n;
                for c in 0..k {
                    d[c] = ((z[c] - max).exp() / sum - if c == y { 1.0 } else { 0.0 }) / n;
                }
            }
            if let Some(g) = grad.as_deref_mut() {
                for (c, v) in self.rows.row(i) {
                    let gw = &mut g[c * k..(c + 1) * k];
                    for (gk, dk) in gw.iter_mut().zip(&d) {
                        *gk += v * dk;
                    }
                }
                for (gb, dk) in g[width..].iter_mut().zip(&d) {
                    *gb += dk;
                }
            }
        }
        loss
    }
}

impl Problem<'_> {
    fn both(&self, p: &[f64]) -> (f64, Vec<f64>) {
        let mut last = self.last.lock().expect("not poisoned");
        if let Some((at, cost, grad)) = last.as_ref()
            && at.as_slice() == p
        {
            return (*cost, grad.clone());
        }
        let mut grad = Vec::new();
        let cost = self.evaluate(p, Some(&mut grad));
        *last = Some((p.to_vec(), cost, grad.clone()));
        (cost, grad)
    }
}

impl CostFunction for Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> Result<f64, ArgminError> {
        Ok(self.both(p).0)
    }
}

impl Gradient for Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Self::Param) -> Result<Vec<f64>, ArgminError> {
        Ok(self.both(p).1)
    }
}

/// A fitted head over a compact feature space.
struct Fitted {
    buckets: Vec<u32>,
    k: usize,
    /// `buckets.len() x k`, then `k` biases.
    params: Vec<f64>,
}

impl Fitted {
    fn scores(&self, e: &Example, out: &mut [f32]) {
        let width = self.buckets.len() * self.k;
        for (o, b) in out.iter_mut().zip(&self.params[width..]) {
            *o = *b as f32;
        }
        for (b, v) in &e.features {
            if let Ok(c) = self.buckets.binary_search(b) {
                for (o, w) in out
                    .iter_mut()
                    .zip(&self.params[c * self.k..(c + 1) * self.k])
                {
                    *o += (f64::from(*v) * w) as f32;
                }
            }
        }
    }
}

fn fit(
    examples: &[&Example],
    head: Head,
    l2: f64,
    max_iters: u64,
    min_df: usize,
) -> Result<Option<Fitted>, LearnError> {
    let labelled: Vec<&Example> = examples
        .iter()
        .copied()
        .filter(|e| e.class(head).is_some())
        .collect();
    if labelled.is_empty() {
        return Ok(None);
    }
    let labels: Vec<usize> = labelled
        .iter()
        .map(|e| e.class(head).expect("filtered"))
        .collect();
    let rows = Rows::new(&labelled, min_df);
    let k = head.outputs();
    let problem = Problem {
        rows: &rows,
        labels: &labels,
        k,
        l2,
        last: std::sync::Mutex::new(None),
    };
    let init = vec![0.0; problem.width() + k];
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(1e-7)
        .and_then(|s| s.with_tolerance_cost(1e-10))
        .map_err(|e| LearnError::Optimiser(e.to_string()))?;
    let result = Executor::new(problem, solver)
        .configure(|s| s.param(init).max_iters(max_iters))
        .run()
        .map_err(|e| LearnError::Optimiser(format!("{head:?}: {e}")))?;
    tracing::debug!(
        ?head,
        iterations = result.state().get_iter(),
        cost = result.state().get_best_cost(),
        features = rows.buckets.len(),
        nonzeros = rows.cols.len(),
        "head fitted"
    );
    let params = result
        .state()
        .get_best_param()
        .cloned()
        .ok_or_else(|| LearnError::Optimiser(format!("{head:?}: no solution")))?;
    Ok(Some(Fitted {
        buckets: rows.buckets,
        k,
        params,
    }))
}

/// A deterministic shuffle (splitmix64 driving Fisher-Yates).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

/// Runs `jobs` on `threads` workers and returns their results in job order.
fn parallel<T: Send, R: Send>(
    jobs: Vec<T>,
    threads: usize,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let n = jobs.len();
    let queue = std::sync::Mutex::new(jobs.into_iter().enumerate().collect::<Vec<_>>());
    let results = std::sync::Mutex::new((0..n).map(|_| None).collect::<Vec<Option<R>>>());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let job = queue.lock().expect("queue").pop();
                    let Some((i, job)) = job else { break };
                    let r = work(job);
                    results.lock().expect("results")[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every job ran"))
        .collect()
}

/// Trains the model on `examples`: `folds` models on the other folds give every
/// example an out-of-fold score (calibration, cross-validated figures), then one
/// model on everything is kept.
pub fn learn(
    examples: &[Example],
    config: &LearnConfig,
    corpus_sha256: String,
) -> Result<Learned, LearnError> {
    if examples.is_empty() {
        return Err(LearnError::Empty);
    }
    let folds = config.folds.max(2) as usize;
    let order = shuffled(examples.len(), config.seed);
    let mut fold_of = vec![0u32; examples.len()];
    for (rank, &i) in order.iter().enumerate() {
        fold_of[i] = (rank % folds) as u32;
    }
    // Jobs: (fold or None for the final model, head).
    let mut jobs = Vec::new();
    for fold in (0..folds).map(Some).chain([None]) {
        for head in Head::ALL {
            jobs.push((fold, head));
        }
    }
    let fitted = parallel(jobs.clone(), config.threads, |(fold, head)| {
        let train: Vec<&Example> = examples
            .iter()
            .zip(&fold_of)
            .filter(|(_, f)| fold.is_none_or(|k| **f as usize != k))
            .map(|(e, _)| e)
            .collect();
        let l2 = config.l2[Head::ALL.iter().position(|h| *h == head).expect("a head")];
        fit(&train, head, l2, config.max_iters, config.min_df)
    });
    let mut out_of_fold = vec![[0f32; OUTPUTS]; examples.len()];
    let mut final_heads: Vec<(Head, Option<Fitted>)> = Vec::new();
    for ((fold, head), result) in jobs.into_iter().zip(fitted) {
        let result = result?;
        match fold {
            Some(k) => {
                if let Some(f) = &result {
                    for (e, scores) in examples
                        .iter()
                        .zip(out_of_fold.iter_mut())
                        .zip(&fold_of)
                        .filter(|(_, f)| **f as usize == k)
                        .map(|(x, _)| x)
                    {
                        let first = head.first_output();
                        f.scores(e, &mut scores[first..first + head.outputs()]);
                    }
                }
            }
            None => final_heads.push((head, result)),
        }
    }
    let calibration = fit_calibration(examples, &out_of_fold);
    let model = assemble(examples, config, &final_heads, calibration, corpus_sha256);
    Ok(Learned {
        model,
        out_of_fold,
        fold_of,
    })
}

/// Quantises the final heads into the model file's dense `i16` table.
fn assemble(
    examples: &[Example],
    config: &LearnConfig,
    heads: &[(Head, Option<Fitted>)],
    calibration: Calibration,
    corpus_sha256: String,
) -> Model {
    let buckets = 1usize << config.features.bits;
    let mut dense = vec![0f64; buckets * OUTPUTS];
    let mut bias = [0f32; OUTPUTS];
    for (head, fitted) in heads {
        let Some(f) = fitted else { continue };
        let first = head.first_output();
        let width = f.buckets.len() * f.k;
        for (c, &b) in f.buckets.iter().enumerate() {
            for o in 0..f.k {
                dense[b as usize * OUTPUTS + first + o] = f.params[c * f.k + o];
            }
        }
        for o in 0..f.k {
            bias[first + o] = f.params[width + o] as f32;
        }
    }
    let mut scale = [0f32; OUTPUTS];
    for (o, s) in scale.iter_mut().enumerate() {
        let max = (0..buckets)
            .map(|b| dense[b * OUTPUTS + o].abs())
            .fold(0.0, f64::max);
        *s = if max > 0.0 {
            (max / 32767.0) as f32
        } else {
            1.0
        };
    }
    let weights: Vec<i16> = dense
        .iter()
        .enumerate()
        .map(|(i, w)| (w / f64::from(scale[i % OUTPUTS])).round() as i16)
        .collect();
    // A word bucket counts as known when two tickets or more used it.
    let mut seen = vec![0u8; buckets];
    for e in examples {
        let mut mine = e.word_buckets.clone();
        mine.sort_unstable();
        mine.dedup();
        for b in mine {
            seen[b as usize] = seen[b as usize].saturating_add(1);
        }
    }
    let mut known = vec![0u64; buckets.div_ceil(64)];
    for (b, n) in seen.iter().enumerate() {
        if *n >= 2 {
            known[b / 64] |= 1 << (b % 64);
        }
    }
    let mut by_priority = [0u32; 4];
    for e in examples {
        if let Some(p) = e.priority {
            by_priority[p.index()] += 1;
        }
    }
    let header = Header {
        format: 1,
        features: config.features,
        bias,
        scale,
        calibration,
        training: TrainingInfo {
            tickets: examples.len() as u32,
            by_priority,
            corpus_sha256,
            seed: config.seed,
            folds: config.folds,
            l2: config.l2.map(|x| x as f32),
            min_df: config.min_df as u32,
        },
    };
    Model::from_parts(header, &weights, known)
}

/// Negative log-likelihood of labelled softmax scores at a temperature.
fn softmax_nll(scores: &[(Vec<f32>, usize)], t: f64) -> f64 {
    scores
        .iter()
        .map(|(z, y)| {
            let max = z.iter().copied().fold(f32::MIN, f32::max);
            let sum: f64 = z.iter().map(|x| (f64::from(x - max) / t).exp()).sum();
            sum.ln() - f64::from(z[*y] - max) / t
        })
        .sum()
}

/// The temperature minimising the out-of-fold log loss (golden-section search on a
/// log scale between 0.05 and 20).
fn fit_temperature(scores: &[(Vec<f32>, usize)]) -> f32 {
    if scores.is_empty() {
        return 1.0;
    }
    let (mut a, mut b) = ((0.05f64).ln(), 20f64.ln());
    let r = (5f64.sqrt() - 1.0) / 2.0;
    for _ in 0..80 {
        let c = b - r * (b - a);
        let d = a + r * (b - a);
        if softmax_nll(scores, c.exp()) < softmax_nll(scores, d.exp()) {
            b = d;
        } else {
            a = c;
        }
    }
    ((a + b) / 2.0).exp() as f32
}

/// Platt scaling: `sigmoid(a s + b)` fitted by Newton's method on the out-of-fold
/// scores, with Platt's smoothed targets.
fn fit_platt(scores: &[(f32, bool)]) -> [f32; 2] {
    let pos = scores.iter().filter(|s| s.1).count() as f64;
    let neg = scores.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return [1.0, 0.0];
    }
    let hi = (pos + 1.0) / (pos + 2.0);
    let lo = 1.0 / (neg + 2.0);
    let (mut a, mut b) = (1.0f64, 0.0f64);
    for _ in 0..100 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-9, 0.0, 1e-9);
        for (s, y) in scores {
            let s = f64::from(*s);
            let t = if *y { hi } else { lo };
            let p = 1.0 / (1.0 + (-(a * s + b)).exp());
            let w = p * (1.0 - p);
            ga += (p - t) * s;
            gb += p - t;
            haa += w * s * s;
            hab += w * s;
            hbb += w;
        }
        let det = haa * hbb - hab * hab;
        if det.abs() < 1e-12 {
            break;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a -= da;
        b -= db;
        if da.abs() + db.abs() < 1e-9 {
            break;
        }
    }
    [a as f32, b as f32]
}

fn fit_calibration(examples: &[Example], oof: &[[f32; OUTPUTS]]) -> Calibration {
    let softmax_scores = |head: Head, range: std::ops::Range<usize>| -> Vec<(Vec<f32>, usize)> {
        examples
            .iter()
            .zip(oof)
            .filter_map(|(e, s)| e.class(head).map(|y| (s[range.clone()].to_vec(), y)))
            .collect()
    };
    let binary = |head: Head, output: usize| -> Vec<(f32, bool)> {
        examples
            .iter()
            .zip(oof)
            .filter_map(|(e, s)| e.class(head).map(|y| (s[output], y == 1)))
            .collect()
    };
    Calibration {
        priority_temperature: fit_temperature(&softmax_scores(Head::Priority, PRIORITY)),
        team_temperature: fit_temperature(&softmax_scores(Head::Team, TEAM)),
        churn: fit_platt(&binary(Head::Churn, CHURN)),
        opportunity: fit_platt(&binary(Head::Opportunity, OPPORTUNITY)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(words: &[u32], priority: Priority, churn: bool) -> Example {
        let mut e = Example::new(words.iter().map(|w| (*w, 1.0)), words.to_vec());
        e.priority = Some(priority);
        e.team = Some(Team::DataAnalytics);
        e.churn = Some(churn);
        e
    }

    fn corpus() -> Vec<Example> {
        let mut v = Vec::new();
        for i in 0..40u32 {
            v.push(example(&[1, 2, 100 + i], Priority::P0, false));
            v.push(example(&[3, 4, 200 + i], Priority::P3, true));
        }
        v
    }

    #[test]
    fn separable_classes_are_learned_and_calibrated() {
        let config = LearnConfig {
            features: FeatureConfig {
                bits: 10,
                ..FeatureConfig::default()
            },
            ..LearnConfig::default()
        };
        let learned = learn(&corpus(), &config, "x".into()).unwrap();
        let m = &learned.model;
        let row = |words: &[u32]| crate::engine::model::features::Features {
            items: words
                .iter()
                .map(|w| crate::engine::model::features::Feature {
                    index: *w,
                    value: 1.0,
                    source: crate::engine::model::features::Source::Named(0),
                })
                .collect(),
            names: vec![],
            word_buckets: vec![],
        };
        let p0 = m.predict(&row(&[1, 2]));
        let p3 = m.predict(&row(&[3, 4]));
        assert!(p0.priority[0] > 0.9, "{:?}", p0.priority);
        assert!(p3.priority[3] > 0.9, "{:?}", p3.priority);
        assert!(p3.churn > 0.8 && p0.churn < 0.2);
        // Out-of-fold scores exist for every example and point the right way.
        assert!(
            learned
                .out_of_fold
                .iter()
                .zip(corpus())
                .all(|(s, e)| (s[0] > s[3]) == (e.priority == Some(Priority::P0)))
        );
    }

    #[test]
    fn the_same_data_gives_the_same_bytes() {
        let config = LearnConfig {
            features: FeatureConfig {
                bits: 10,
                ..FeatureConfig::default()
            },
            ..LearnConfig::default()
        };
        let a = learn(&corpus(), &config, "x".into())
            .unwrap()
            .model
            .to_bytes();
        let b = learn(&corpus(), &config, "x".into())
            .unwrap()
            .model
            .to_bytes();
        assert_eq!(a, b);
    }

    #[test]
    fn platt_and_temperature_fit_what_they_see() {
        // Scores twice as confident as the truth (3:1 odds written as 9:1): the
        // temperature is near 2.
        let mut scores = Vec::new();
        for i in 0..300 {
            let y = usize::from(i % 4 != 0);
            scores.push((vec![0.0f32, 2.0 * 1.0986], y));
        }
        let t = fit_temperature(&scores);
        assert!((t - 2.0).abs() < 0.2, "{t}");
        let platt: Vec<(f32, bool)> = (0..400)
            .map(|i| (if i % 2 == 0 { 2.0 } else { -2.0 }, i % 2 == 0))
            .collect();
        let [a, _] = fit_platt(&platt);
        assert!(a > 1.0);
    }
}
