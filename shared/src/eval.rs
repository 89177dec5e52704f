//! Agreement between decisions and human labels: priority (exact, within one level,
//! confusion matrix, per-class precision/recall/F1), team accuracy, and churn and
//! opportunity precision/recall/F1.

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
        if let Some(actual) = labels.priority {
            self.confusion[actual.index()][decision.priority.index()] += 1;
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
}
