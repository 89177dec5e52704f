//! Team rules: each team signal (platforms, webhooks, tracking, payments, …) votes for
//! the team the policy maps it to. Overlapping phrases count once (the longest wins:
//! "tracking number" is fulfilment, not analytics); the subject weighs more; repeated
//! mentions add a little.

use std::collections::BTreeMap;

use super::found::{Found, round2};
use super::lexicon::longest_non_overlapping;
use super::signals::{Family, Signal};
use crate::domain::Team;
use crate::policy::Policy;
use crate::text::Prepared;

#[derive(Debug, Clone)]
pub struct TeamOutcome {
    pub team: Team,
    pub scores: BTreeMap<Team, f64>,
    pub confidence: f64,
    pub reason: String,
}

pub fn assess(found: &Found, text: &Prepared, policy: &Policy) -> TeamOutcome {
    let tp = &policy.team;
    let hits: Vec<_> = found.in_family(Family::Team).copied().collect();
    let kept = longest_non_overlapping(&hits);

    // (signal) → (mentions, in subject, first words)
    let mut mentions: BTreeMap<Signal, (u32, bool, String)> = BTreeMap::new();
    for h in &kept {
        let e = mentions
            .entry(h.signal)
            .or_insert_with(|| (0, false, text.span_text(h.start, h.end)));
        e.0 += 1;
        e.1 |= text.in_subject(h.start);
    }
    let mut scores: BTreeMap<Team, f64> = Team::ALL.iter().map(|t| (*t, 0.0)).collect();
    let mut why: BTreeMap<Team, Vec<(f64, String)>> = BTreeMap::new();
    for (signal, (n, subject, words)) in &mentions {
        let Some(ts) = policy.team_signal(*signal) else {
            continue;
        };
        let n = (*n).min(tp.max_mentions);
        let mut w = ts.weight * (1.0 + tp.repeat_factor * (n.saturating_sub(1)) as f64);
        if *subject {
            w *= tp.subject_weight;
        }
        *scores.entry(ts.team).or_default() += w;
        why.entry(ts.team).or_default().push((
            w,
            format!(
                "{} '{}'{}{}",
                signal.name(),
                words,
                if n > 1 {
                    format!(" x{n}")
                } else {
                    String::new()
                },
                if *subject { " (subject)" } else { "" }
            ),
        ));
    }
    let mut ranked: Vec<(Team, f64)> = scores.iter().map(|(t, s)| (*t, *s)).collect();
    // Highest score first; ties keep the order of Team::ALL.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, top) = ranked[0];
    let second = ranked[1];
    let (team, confidence, reason) = if top <= 0.0 {
        (
            tp.fallback,
            0.3,
            format!("team {} (fallback: no team signal)", tp.fallback),
        )
    } else {
        let mut parts = why.remove(&best).unwrap_or_default();
        parts.sort_by(|a, b| b.0.total_cmp(&a.0));
        let list: Vec<String> = parts.into_iter().take(4).map(|(_, s)| s).collect();
        (
            best,
            round2((0.5 + (top - second.1) / (2.0 * top)).min(1.0)),
            format!(
                "team {best} ({top:.1} vs {} {:.1}): {}",
                second.0,
                second.1,
                list.join(", ")
            ),
        )
    };
    TeamOutcome {
        team,
        scores,
        confidence,
        reason,
    }
}
