//! How well incidents match labelled outages (`actual_incident`): membership precision
//! and recall, incidents declared from normal traffic, and how many of an outage's
//! tickets had arrived before its incident was declared.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Incident;
use crate::domain::TicketId;

/// A ticket labelled as part of an outage.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub ticket_id: TicketId,
    pub outage: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutageScore {
    pub outage: String,
    pub tickets: usize,
    /// Of those, members of an incident that stands for this outage.
    pub found: usize,
    /// The incidents standing for it (more than one: it was split).
    pub incidents: Vec<String>,
    /// Outage tickets that had arrived before the first of those incidents was
    /// declared (the declaring ticket not counted).
    pub before_declared: Option<usize>,
    /// Minutes from the outage's first ticket to the declaration.
    pub minutes_to_declare: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentScore {
    pub outages: usize,
    pub incidents: usize,
    /// Incidents whose members are mostly normal traffic.
    pub false_incidents: usize,
    /// Members that belong to the outage their incident stands for, of all members.
    pub precision: f64,
    /// Outage tickets found in an incident standing for their outage.
    pub recall: f64,
    pub per_outage: Vec<OutageScore>,
}

/// Scores `incidents` against the labelled outage tickets (every other ticket is normal
/// traffic).
pub fn score(incidents: &[Incident], labelled: &[Labelled]) -> IncidentScore {
    let label_of: BTreeMap<&TicketId, &str> = labelled
        .iter()
        .map(|l| (&l.ticket_id, l.outage.as_str()))
        .collect();
    let mut outages: BTreeMap<&str, Vec<&Labelled>> = BTreeMap::new();
    for l in labelled {
        outages.entry(l.outage.as_str()).or_default().push(l);
    }
    let mut members = 0usize;
    let mut right = 0usize;
    let mut false_incidents = 0usize;
    // Which outage each incident stands for: its members' most common label.
    let mut stands_for: Vec<(&Incident, Option<&str>)> = Vec::new();
    for i in incidents {
        let mut counts: BTreeMap<Option<&str>, usize> = BTreeMap::new();
        for m in &i.members {
            *counts
                .entry(label_of.get(&m.ticket_id).copied())
                .or_default() += 1;
        }
        let (label, count) = counts
            .iter()
            .max_by_key(|(label, c)| (**c, label.is_some()))
            .map(|(l, c)| (*l, *c))
            .unwrap_or((None, 0));
        members += i.members.len();
        match label {
            Some(_) => right += count,
            None => false_incidents += 1,
        }
        stands_for.push((i, label));
    }
    let mut per_outage = Vec::new();
    let mut found_all = 0usize;
    for (outage, tickets) in &outages {
        let mine: Vec<&Incident> = stands_for
            .iter()
            .filter(|(_, l)| *l == Some(*outage))
            .map(|(i, _)| *i)
            .collect();
        let found = tickets
            .iter()
            .filter(|t| mine.iter().any(|i| i.has(&t.ticket_id)))
            .count();
        found_all += found;
        let first = mine
            .iter()
            .min_by_key(|i| (i.declared_at, i.declared_by.clone()));
        let before_declared = first.map(|i| {
            tickets
                .iter()
                .filter(|t| (t.at, &t.ticket_id) < (i.declared_at, &i.declared_by))
                .count()
        });
        let start = tickets.iter().map(|t| t.at).min().unwrap_or_default();
        per_outage.push(OutageScore {
            outage: outage.to_string(),
            tickets: tickets.len(),
            found,
            incidents: mine.iter().map(|i| i.id.clone()).collect(),
            before_declared,
            minutes_to_declare: first.map(|i| (i.declared_at - start) / 60),
        });
    }
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    IncidentScore {
        outages: outages.len(),
        incidents: incidents.len(),
        false_incidents,
        precision: ratio(right, members),
        recall: ratio(found_all, labelled.len()),
        per_outage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, Team};
    use crate::incident::Member;

    fn id(s: &str) -> TicketId {
        TicketId::parse(s).unwrap()
    }

    fn incident(name: &str, members: &[(&str, i64)], declared: (&str, i64)) -> Incident {
        Incident {
            id: name.to_string(),
            title: String::new(),
            team: Team::IntegrationsApi,
            first_at: members[0].1,
            declared_at: declared.1,
            last_at: members.last().unwrap().1,
            recognised_at: members.last().unwrap().1,
            declared_by: id(declared.0),
            level: Priority::P1,
            problem_id: None,
            more: 0,
            members: members
                .iter()
                .map(|(t, at)| Member {
                    ticket_id: id(t),
                    account: t.to_string(),
                    customer_name: String::new(),
                    at: *at,
                    priority: Priority::P2,
                    subject: String::new(),
                })
                .collect(),
            sketches: Vec::new(),
        }
    }

    #[test]
    fn precision_recall_false_incidents_and_the_wait_are_counted() {
        let labelled: Vec<Labelled> = [("a", 10), ("b", 20), ("c", 30), ("d", 40)]
            .iter()
            .map(|(t, at)| Labelled {
                ticket_id: id(t),
                outage: "outage-1".into(),
                at: *at,
            })
            .collect();
        let found = incident(
            "INC-a",
            &[("a", 10), ("b", 20), ("c", 30), ("x", 35)],
            ("c", 30),
        );
        let noise = incident("INC-y", &[("y", 50), ("z", 60)], ("z", 60));
        let s = score(&[found, noise], &labelled);
        assert_eq!(s.outages, 1);
        assert_eq!(s.false_incidents, 1);
        assert!((s.precision - 3.0 / 6.0).abs() < 1e-9, "{}", s.precision);
        assert!((s.recall - 0.75).abs() < 1e-9);
        assert_eq!(s.per_outage[0].before_declared, Some(2));
        assert_eq!(s.per_outage[0].incidents, vec!["INC-a".to_string()]);
    }
}
