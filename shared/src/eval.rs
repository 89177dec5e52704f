//! Agreement between decisions and human labels: priority (exact, within one level,
//! confusion matrix, per-class precision/recall/F1, P0 recall, P0+P1 recall and
//! dangerous misses), team accuracy, churn and opportunity precision/recall/F1, the
//! same per language, and how well confidence is calibrated (expected calibration
//! error and a reliability table).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::{Decision, Priority, Team};
use crate::input::Labels;

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct BinaryCounts {
    pub true_positive: u32,
    pub false_positive: u32,
    pub false_negative: u32,
    pub true_negative: u32,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Scores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: u32,
}

impl BinaryCounts {
    pub fn add(&mut self, predicted: bool, actual: bool) {
        match (predicted, actual) {
            (true, true) => self.true_positive += 1,
            (true, false) => self.false_positive += 1,
            (false, true) => self.false_negative += 1,
            (false, false) => self.true_negative += 1,
        }
    }

    pub fn total(&self) -> u32 {
        self.true_positive + self.false_positive + self.false_negative + self.true_negative
    }

    pub fn scores(&self) -> Scores {
        let tp = f64::from(self.true_positive);
        let precision = ratio(tp, tp + f64::from(self.false_positive));
        let recall = ratio(tp, tp + f64::from(self.false_negative));
        let f1 = ratio(2.0 * precision * recall, precision + recall);
        Scores {
            precision: round3(precision),
            recall: round3(recall),
            f1: round3(f1),
            support: self.true_positive + self.false_negative,
        }
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Accumulates agreement over a run.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// confusion[actual][predicted]
    pub confusion: [[u32; 4]; 4],
    pub team_total: u32,
    pub team_correct: u32,
    pub team_confusion: BTreeMap<(Team, Team), u32>,
    pub churn: BinaryCounts,
    pub opportunity: BinaryCounts,
    /// Tickets whose decision disagrees with a label, with what differed.
    pub misses: Vec<Miss>,
    /// Priority confidence against correctness, in ten bins of confidence.
    pub reliability: [ReliabilityCounts; RELIABILITY_BINS],
    /// Per labelled language: (tickets, exact priority, team labelled, team right).
    pub by_language: BTreeMap<String, [u32; 4]>,
    /// Decisions flagged for review; of the wrong ones and the dangerous ones, how
    /// many were flagged.
    pub review: ReviewCounts,
}

pub const RELIABILITY_BINS: usize = 10;

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct ReliabilityCounts {
    pub tickets: u32,
    pub correct: u32,
    pub confidence_sum: f64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct ReviewCounts {
    pub flagged: u32,
    pub wrong_priority: u32,
    pub wrong_priority_flagged: u32,
    pub dangerous: u32,
    pub dangerous_flagged: u32,
}

/// One bin of the reliability table: the mean confidence of the decisions in it and
/// how often they were right.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReliabilityBin {
    pub from: f64,
    pub to: f64,
    pub tickets: u32,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LanguageReport {
    pub labelled: u32,
    pub priority_exact: f64,
    pub team_accuracy: Option<f64>,
}

/// A P0 or P1 ticket decided two or more levels lower.
pub fn is_dangerous_miss(actual: Priority, decided: Priority) -> bool {
    actual <= Priority::P1 && decided.index() >= actual.index() + 2
}

#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub ticket_id: String,
    pub field: &'static str,
    pub expected: String,
    pub decided: String,
}

/// The evaluation as a JSON report (`triage eval --json`, `metrics_summary.json`).
#[derive(Debug, Clone, Serialize)]
pub struct EvaluationReport {
    pub labelled: u32,
    pub priority_exact: f64,
    pub priority_within_one: f64,
    /// Rows are the labels, columns the decisions, in P0..P3 order.
    pub confusion_matrix: [[u32; 4]; 4],
    pub per_priority: BTreeMap<Priority, Scores>,
    pub team: Option<TeamReport>,
    pub churn: Option<BinaryReport>,
    pub opportunity: Option<BinaryReport>,
    /// Share of P0 tickets decided P0, and of P0/P1 tickets decided P0 or P1.
    pub p0_recall: f64,
    pub p0_p1_recall: f64,
    /// P0 tickets decided P2 or P3.
    pub p0_decided_p2_or_lower: u32,
    /// P0 or P1 tickets decided two or more levels lower.
    pub dangerous_misses: u32,
    /// Mean |confidence - accuracy| over the bins, weighted by tickets.
    pub expected_calibration_error: f64,
    pub reliability: Vec<ReliabilityBin>,
    pub by_language: BTreeMap<String, LanguageReport>,
    pub review: ReviewCounts,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamReport {
    pub labelled: u32,
    pub accuracy: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BinaryReport {
    pub labelled: u32,
    #[serde(flatten)]
    pub scores: Scores,
    #[serde(flatten)]
    pub counts: BinaryCounts,
}

impl Evaluation {
    pub fn add(&mut self, decision: &Decision, labels: &Labels) {
        let id = decision.ticket_id.to_string();
        if decision.needs_review {
            self.review.flagged += 1;
        }
        if let Some(actual) = labels.priority {
            self.confusion[actual.index()][decision.priority.index()] += 1;
            let right = actual == decision.priority;
            let c = decision.confidence.priority.clamp(0.0, 1.0);
            let bin = ((c * RELIABILITY_BINS as f64) as usize).min(RELIABILITY_BINS - 1);
            let r = &mut self.reliability[bin];
            r.tickets += 1;
            r.correct += u32::from(right);
            r.confidence_sum += c;
            if !right {
                self.review.wrong_priority += 1;
                self.review.wrong_priority_flagged += u32::from(decision.needs_review);
            }
            if is_dangerous_miss(actual, decision.priority) {
                self.review.dangerous += 1;
                self.review.dangerous_flagged += u32::from(decision.needs_review);
            }
            if let Some(lang) = &labels.language {
                let l = self.by_language.entry(lang.clone()).or_default();
                l[0] += 1;
                l[1] += u32::from(right);
                if let Some(team) = labels.team {
                    l[2] += 1;
                    l[3] += u32::from(team == decision.team);
                }
            }
            if actual != decision.priority {
                self.misses.push(Miss {
                    ticket_id: id.clone(),
                    field: "priority",
                    expected: actual.to_string(),
                    decided: decision.priority.to_string(),
                });
            }
        }
        if let Some(actual) = labels.team {
            self.team_total += 1;
            *self
                .team_confusion
                .entry((actual, decision.team))
                .or_default() += 1;
            if actual == decision.team {
                self.team_correct += 1;
            } else {
                self.misses.push(Miss {
                    ticket_id: id.clone(),
                    field: "team",
                    expected: actual.to_string(),
                    decided: decision.team.to_string(),
                });
            }
        }
        for (label, predicted, counts, field) in [
            (
                labels.churn,
                decision.guardian.alert,
                &mut self.churn,
                "churn",
            ),
            (
                labels.opportunity,
                decision.opportunity.detected,
                &mut self.opportunity,
                "opportunity",
            ),
        ] {
            if let Some(actual) = label {
                counts.add(predicted, actual);
                if predicted != actual {
                    self.misses.push(Miss {
                        ticket_id: id.clone(),
                        field,
                        expected: actual.to_string(),
                        decided: predicted.to_string(),
                    });
                }
            }
        }
    }

    pub fn labelled(&self) -> u32 {
        self.confusion.iter().flatten().sum()
    }

    pub fn report(&self) -> EvaluationReport {
        let n = self.labelled();
        let exact: u32 = (0..4).map(|i| self.confusion[i][i]).sum();
        let within: u32 = (0..4)
            .flat_map(|a: usize| (0..4usize).map(move |p| (a, p)))
            .filter(|(a, p)| a.abs_diff(*p) <= 1)
            .map(|(a, p)| self.confusion[a][p])
            .sum();
        let mut per_priority = BTreeMap::new();
        for p in Priority::ALL {
            let i = p.index();
            let mut c = BinaryCounts::default();
            for a in 0..4 {
                for d in 0..4 {
                    let v = self.confusion[a][d];
                    match (a == i, d == i) {
                        (true, true) => c.true_positive += v,
                        (false, true) => c.false_positive += v,
                        (true, false) => c.false_negative += v,
                        (false, false) => c.true_negative += v,
                    }
                }
            }
            per_priority.insert(*p, c.scores());
        }
        let binary = |c: &BinaryCounts| {
            (c.total() > 0).then(|| BinaryReport {
                labelled: c.total(),
                scores: c.scores(),
                counts: *c,
            })
        };
        let c = &self.confusion;
        let p0 = c[0].iter().sum::<u32>();
        let p01 = c[0].iter().chain(&c[1]).sum::<u32>();
        let p01_right = c[0][0] + c[0][1] + c[1][0] + c[1][1];
        let binned: u32 = self.reliability.iter().map(|b| b.tickets).sum();
        let ece = self
            .reliability
            .iter()
            .filter(|b| b.tickets > 0)
            .map(|b| {
                let t = f64::from(b.tickets);
                (b.confidence_sum / t - f64::from(b.correct) / t).abs() * t
            })
            .sum::<f64>()
            / f64::from(binned.max(1));
        let reliability = self
            .reliability
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let t = f64::from(b.tickets);
                ReliabilityBin {
                    from: i as f64 / RELIABILITY_BINS as f64,
                    to: (i + 1) as f64 / RELIABILITY_BINS as f64,
                    tickets: b.tickets,
                    mean_confidence: round3(ratio(b.confidence_sum, t)),
                    accuracy: round3(ratio(f64::from(b.correct), t)),
                }
            })
            .collect();
        let by_language = self
            .by_language
            .iter()
            .map(|(lang, [n, exact, team_n, team_right])| {
                (
                    lang.clone(),
                    LanguageReport {
                        labelled: *n,
                        priority_exact: round3(ratio(f64::from(*exact), f64::from(*n))),
                        team_accuracy: (*team_n > 0)
                            .then(|| round3(ratio(f64::from(*team_right), f64::from(*team_n)))),
                    },
                )
            })
            .collect();
        EvaluationReport {
            labelled: n,
            priority_exact: round3(ratio(f64::from(exact), f64::from(n))),
            priority_within_one: round3(ratio(f64::from(within), f64::from(n))),
            confusion_matrix: self.confusion,
            per_priority,
            team: (self.team_total > 0).then(|| TeamReport {
                labelled: self.team_total,
                accuracy: round3(ratio(
                    f64::from(self.team_correct),
                    f64::from(self.team_total),
                )),
            }),
            churn: binary(&self.churn),
            opportunity: binary(&self.opportunity),
            p0_recall: round3(ratio(f64::from(c[0][0]), f64::from(p0))),
            p0_p1_recall: round3(ratio(f64::from(p01_right), f64::from(p01))),
            p0_decided_p2_or_lower: c[0][2] + c[0][3],
            dangerous_misses: c[0][2] + c[0][3] + c[1][3],
            expected_calibration_error: round3(ece),
            reliability,
            by_language,
            review: self.review,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_scores_follow_the_definitions() {
        let mut c = BinaryCounts::default();
        for (p, a) in [
            (true, true),
            (true, true),
            (true, false),
            (false, true),
            (false, false),
        ] {
            c.add(p, a);
        }
        let s = c.scores();
        assert_eq!(s.precision, 0.667);
        assert_eq!(s.recall, 0.667);
        assert_eq!(s.f1, 0.667);
        assert_eq!(s.support, 3);
        assert_eq!(BinaryCounts::default().scores().f1, 0.0);
    }

    #[test]
    fn dangerous_misses_are_two_levels_under_a_p0_or_p1() {
        use Priority::*;
        assert!(is_dangerous_miss(P0, P2) && is_dangerous_miss(P0, P3));
        assert!(is_dangerous_miss(P1, P3));
        assert!(!is_dangerous_miss(P0, P1) && !is_dangerous_miss(P1, P2));
        assert!(!is_dangerous_miss(P2, P0) && !is_dangerous_miss(P3, P1));
    }
}
