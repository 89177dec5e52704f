//! `triage learn`: trains the model on labelled CSVs, writes the model file, and
//! reports the cross-validated figures of the phrase rules alone, the model alone and
//! the two combined, from the same out-of-fold predictions.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;
use sha2::{Digest, Sha256};
use triage_shared::domain::{AccountContext, Decision, Priority, Team, Ticket};
use triage_shared::engine::Analysis;
use triage_shared::engine::model::Prediction;
use triage_shared::engine::model::features::FeatureConfig;
use triage_shared::eval::{Evaluation, EvaluationReport};
use triage_shared::input::{Item, Labels, TicketReader};
use triage_shared::learn::{Example, LearnConfig, learn};

use crate::EngineArgs;
use crate::run::{load, print_evaluation};

#[derive(Args)]
pub struct LearnArgs {
    /// Labelled CSVs (actual_priority, actual_team, actual_churn, actual_opportunity).
    #[arg(long, value_name = "FILE", required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Where the model is written.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "data/model/triage-model.bin"
    )]
    pub out: PathBuf,
    /// Folds for calibration and the cross-validated figures.
    #[arg(long, default_value_t = 5)]
    pub folds: u32,
    /// Seed of the fold assignment (same data and seed, same model bytes).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Hashed feature buckets: 2^bits (17 keeps the model file near 2.4 MB).
    #[arg(long, default_value_t = 17)]
    pub bits: u8,
    /// Character n-grams from this many letters...
    #[arg(long, default_value_t = 3)]
    pub char_min: u8,
    /// ...to this many.
    #[arg(long, default_value_t = 4)]
    pub char_max: u8,
    /// Iterations of the optimiser per head, at most.
    #[arg(long, default_value_t = 120)]
    pub max_iters: u64,
    /// Features must be used by at least this many training tickets.
    #[arg(long, default_value_t = 2)]
    pub min_df: usize,
    /// L2 penalty of the priority, team, churn and opportunity heads.
    #[arg(long, value_name = "X", num_args = 4, default_values_t = [3e-5, 3e-5, 3e-5, 3e-5])]
    pub l2: Vec<f64>,
    /// Also write the cross-validated figures as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Also write every ticket's out-of-fold prediction as JSON lines (for studying
    /// the policy's costs and thresholds).
    #[arg(long, value_name = "FILE")]
    pub predictions: Option<PathBuf>,
    /// Print the figures only; do not write the model.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// A labelled row with what the engine read in it.
struct Row {
    ticket: Ticket,
    labels: Labels,
    analysis: Analysis,
}

#[derive(Serialize)]
struct CvReport {
    tickets: usize,
    folds: u32,
    rules: EvaluationReport,
    model: EvaluationReport,
    combined: EvaluationReport,
}

pub fn learn_command(args: LearnArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut engine = load(&args.engine)?.engine;
    let space = FeatureConfig {
        bits: args.bits,
        char_min: args.char_min,
        char_max: args.char_max,
        ..FeatureConfig::default()
    };
    let mut rows = Vec::new();
    let mut digest = Sha256::new();
    for path in &args.input {
        let mut reader = TicketReader::open(path, engine.policy.limits.max_description_chars)?;
        if !reader.has_labels() {
            bail!("{} has no actual_priority column", path.display());
        }
        for item in &mut reader {
            match item {
                Item::Issue(issue) => eprintln!("{}: {issue}", path.display()),
                Item::Row(row) => {
                    if row.labels.is_empty() {
                        continue;
                    }
                    let l = &row.labels;
                    for part in [
                        row.ticket.id.as_str(),
                        &row.ticket.subject,
                        &row.ticket.description,
                        &row.ticket.channel,
                        &format!(
                            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
                            row.ticket.mrr, l.priority, l.team, l.churn, l.opportunity, l.language
                        ),
                    ] {
                        digest.update(part.as_bytes());
                        digest.update([0]);
                    }
                    let analysis = engine.analyse(&row.ticket, Some(&space));
                    rows.push(Row {
                        ticket: row.ticket,
                        labels: row.labels,
                        analysis,
                    });
                }
            }
        }
    }
    if rows.is_empty() {
        bail!("no labelled tickets in the input");
    }
    let examples: Vec<Example> = rows
        .iter()
        .map(|r| {
            let f = &r.analysis.features;
            let mut e = Example::new(
                f.items.iter().map(|x| (x.index, x.value)),
                f.word_buckets.clone(),
            );
            e.priority = r.labels.priority;
            e.team = r.labels.team;
            e.churn = r.labels.churn;
            e.opportunity = r.labels.opportunity;
            e
        })
        .collect();
    let config = LearnConfig {
        features: space,
        l2: [args.l2[0], args.l2[1], args.l2[2], args.l2[3]],
        folds: args.folds,
        seed: args.seed,
        min_df: args.min_df,
        max_iters: args.max_iters,
        ..LearnConfig::default()
    };
    let corpus = format!("{:x}", digest.finalize());
    let learned = learn(&examples, &config, corpus).context("training failed")?;
    let trained_in = started.elapsed();

    // The cross-validated figures: each ticket decided with its out-of-fold
    // prediction, by the rules alone, by the model alone and by both.
    let model = learned.model.clone();
    engine.model = Some(model.clone());
    let (mut rules, mut alone, mut combined) = (
        Evaluation::default(),
        Evaluation::default(),
        Evaluation::default(),
    );
    let account = AccountContext::default();
    let load = Default::default();
    let mut dump = Vec::new();
    for (row, scores) in rows.iter().zip(&learned.out_of_fold) {
        let words = &row.analysis.features.word_buckets;
        let coverage = model.coverage(words);
        let p = model.calibrate(scores, coverage);
        if args.predictions.is_some() {
            let l = &row.labels;
            dump.push(serde_json::json!({
                "ticket_id": row.ticket.id,
                "labels": {"priority": l.priority, "team": l.team, "churn": l.churn,
                    "opportunity": l.opportunity, "language": l.language},
                "priority": p.priority, "team": p.team, "churn": p.churn,
                "opportunity": p.opportunity, "coverage": p.coverage,
                "language": row.analysis.language.code,
                "rules": {"priority": row.analysis.rules_priority.priority,
                    "score": row.analysis.rules_priority.score,
                    "critical": row.analysis.critical,
                    "churn_threat": row.analysis.churn_threat,
                    "team": row.analysis.rules_team.team},
            }));
        }
        let by_rules = engine.decide_from(&row.ticket, &row.analysis, None, &account, &load);
        let both = engine.decide_from(&row.ticket, &row.analysis, Some(&p), &account, &load);
        rules.add(&by_rules, &row.labels);
        alone.add(&model_alone(&both, &p), &row.labels);
        combined.add(&both, &row.labels);
    }
    let report = CvReport {
        tickets: rows.len(),
        folds: args.folds,
        rules: rules.report(),
        model: alone.report(),
        combined: combined.report(),
    };
    println!(
        "Trained on {} labelled tickets from {} file(s) in {:.1} s ({} folds, seed {}).",
        rows.len(),
        args.input.len(),
        trained_in.as_secs_f64(),
        args.folds,
        args.seed
    );
    println!("\nCross-validated (each ticket decided by models that never saw it):");
    println!(
        "  {:<13} {:>6} {:>8} {:>6} {:>7} {:>9} {:>6} {:>6} {:>6} {:>6}",
        "", "exact", "within1", "P0 rec", "P01 rec", "dangerous", "team", "churn", "opp", "ECE"
    );
    for (name, r) in [
        ("phrase rules", &report.rules),
        ("model alone", &report.model),
        ("combined", &report.combined),
    ] {
        println!(
            "  {:<13} {:>6.3} {:>8.3} {:>6.3} {:>7.3} {:>9} {:>6.3} {:>6.3} {:>6.3} {:>6.3}",
            name,
            r.priority_exact,
            r.priority_within_one,
            r.p0_recall,
            r.p0_p1_recall,
            r.dangerous_misses,
            r.team.as_ref().map_or(0.0, |t| t.accuracy),
            r.churn.as_ref().map_or(0.0, |b| b.scores.f1),
            r.opportunity.as_ref().map_or(0.0, |b| b.scores.f1),
            r.expected_calibration_error
        );
    }
    println!("\nCombined, in detail:");
    print_evaluation(&report.combined);
    if let Some(path) = &args.predictions {
        let lines: Vec<String> = dump.iter().map(|v| v.to_string()).collect();
        std::fs::write(path, lines.join("\n") + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if !args.dry_run {
        if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let bytes = learned.model.to_bytes();
        std::fs::write(&args.out, &bytes)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        println!(
            "\nModel written to {} ({:.2} MB) in {:.1} s in all.",
            args.out.display(),
            bytes.len() as f64 / 1e6,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// The model's own answer, without guardrails or costs: the most probable priority and
/// team, churn and opportunity at one half.
fn model_alone(both: &Decision, p: &Prediction) -> Decision {
    let argmax = |xs: &[f64]| {
        xs.iter().enumerate().fold(
            (0, f64::MIN),
            |b, (i, x)| if *x > b.1 { (i, *x) } else { b },
        )
    };
    let (pi, pp) = argmax(&p.priority);
    let (ti, tp) = argmax(&p.team);
    let mut d = both.clone();
    d.priority = Priority::from_index(pi);
    d.team = Team::ALL[ti];
    d.confidence.priority = pp;
    d.confidence.team = tp;
    d.needs_review = false;
    d.guardian.alert = p.churn >= 0.5;
    d.opportunity.detected = p.opportunity >= 0.5;
    d
}
