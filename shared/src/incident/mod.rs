//! Incidents across accounts: tickets from different accounts that describe the same
//! failure within a sliding window are one incident. "The same failure" is decided by
//! the Jaccard similarity of their words (other languages' words read as English ones)
//! and the engine's concepts ([`Sketch`]): a higher one to declare an incident, a lower
//! one to join it once it is established, when both tickets were routed to the same
//! team. The look-up is pure: given the
//! new ticket's [`Sighting`], the recent sightings and the open incidents, [`assess`]
//! says whether the ticket joins an incident, declares one, or stands alone. The
//! pipeline records sightings and incidents through the
//! [`IncidentStore`](crate::ports::IncidentStore) port, whose conditional write decides
//! which of two concurrent deliveries opens an incident.

pub mod score;
pub mod sketch;

use serde::{Deserialize, Serialize};

pub use crate::domain::IncidentRef;
use crate::domain::{Decision, Priority, Team, Ticket, TicketId};
use crate::policy::IncidentPolicy;
use crate::text::SameWords;
pub use sketch::Sketch;

/// A decided ticket as the incident look-up sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    pub ticket_id: TicketId,
    /// The account ([`Ticket::customer_key`]).
    pub account: String,
    pub customer_name: String,
    /// When the ticket was written (epoch seconds).
    pub at: i64,
    pub team: Team,
    /// The priority decided for the ticket alone, before any incident raised it.
    pub priority: Priority,
    pub mrr: Option<f64>,
    pub subject: String,
    pub sketch: Sketch,
}

impl Sighting {
    /// `concepts`: the engine's for the ticket
    /// ([`crate::engine::Engine::decide_with_concepts`]); `same`: the engine's
    /// [`SameWords`].
    pub fn of(
        ticket: &Ticket,
        decision: &Decision,
        at: i64,
        concepts: &[&str],
        same: &SameWords,
    ) -> Sighting {
        Sighting {
            ticket_id: ticket.id.clone(),
            account: ticket.customer_key(),
            customer_name: ticket.customer_name.clone(),
            at,
            team: decision.team,
            priority: decision.priority,
            mrr: ticket.mrr,
            subject: ticket.subject.clone(),
            sketch: Sketch::of(&ticket.subject, &ticket.description, concepts, same),
        }
    }

    pub fn member(&self) -> Member {
        Member {
            ticket_id: self.ticket_id.clone(),
            account: self.account.clone(),
            customer_name: self.customer_name.clone(),
            at: self.at,
            priority: self.priority,
            subject: self.subject.clone(),
        }
    }
}

/// A ticket in an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub ticket_id: TicketId,
    pub account: String,
    pub customer_name: String,
    pub at: i64,
    /// The priority decided for the ticket alone.
    pub priority: Priority,
    pub subject: String,
}

/// Members kept in the incident's record (a DynamoDB item holds 400 KB); later ones
/// are counted in [`Incident::more`] and link themselves in their own update.
pub const MAX_MEMBERS: usize = 250;

/// Sketches kept with an incident to recognise later members by (the first members';
/// 40 sketches are at most 15 KB of the incident's item).
const REPRESENTATIVES: usize = 40;

/// An incident: its members, the priority they are raised to, and its Zendesk problem
/// ticket once created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// `INC-<first member's ticket id>`: every delivery that sees the same tickets
    /// names the incident alike, so that a conditional write can decide who opens it.
    pub id: String,
    /// The first member's subject.
    pub title: String,
    pub team: Team,
    /// The first member's time.
    pub first_at: i64,
    /// When the incident was declared (the declaring ticket's time).
    pub declared_at: i64,
    /// The latest member's time.
    pub last_at: i64,
    /// The latest time a member read like the tickets that declared the incident (see
    /// [`Incident::remember`]); the incident takes members until `idle_minutes` after.
    /// Zero in incidents stored before it was kept: `last_at` stands in.
    #[serde(default)]
    pub recognised_at: i64,
    /// The ticket whose arrival declared it.
    pub declared_by: TicketId,
    /// Members are raised to at least this priority.
    pub level: Priority,
    /// The Zendesk problem ticket.
    pub problem_id: Option<u64>,
    /// In order of arrival (the first [`MAX_MEMBERS`]).
    pub members: Vec<Member>,
    /// Members beyond [`MAX_MEMBERS`].
    #[serde(default)]
    pub more: u64,
    /// Sketches of the first members that read closely alike ([`Incident::remember`]),
    /// to recognise later ones by.
    pub sketches: Vec<Sketch>,
}

impl Incident {
    /// Distinct accounts among the members.
    pub fn accounts(&self) -> usize {
        let mut a: Vec<&str> = self.members.iter().map(|m| m.account.as_str()).collect();
        a.sort_unstable();
        a.dedup();
        a.len()
    }

    /// Whether members are only counted now ([`MAX_MEMBERS`] reached).
    pub fn is_full(&self) -> bool {
        self.members.len() >= MAX_MEMBERS
    }

    pub fn has(&self, id: &TicketId) -> bool {
        self.members.iter().any(|m| &m.ticket_id == id)
    }

    /// Adds a member (once) and raises the level when the policy says so.
    pub fn add(&mut self, member: Member, policy: &IncidentPolicy) {
        if self.has(&member.ticket_id) {
            return;
        }
        self.last_at = self.last_at.max(member.at);
        if self.is_full() {
            self.more += 1;
            return;
        }
        let at = self
            .members
            .partition_point(|m| (m.at, &m.ticket_id) <= (member.at, &member.ticket_id));
        self.members.insert(at, member);
        self.level = self.level.min(policy.level_for(self.accounts()));
    }

    /// Keeps a member's sketch to recognise later members by, up to a limit, when it
    /// reads like a member already kept as closely as the tickets that declared the
    /// incident did. A member that joined on a looser likeness does not recognise
    /// others: the incident would drift, one loose likeness after another, into
    /// everything its team hears.
    ///
    /// A member kept, written at `at`, also keeps the incident open.
    pub fn remember(&mut self, sketch: &Sketch, at: i64, policy: &IncidentPolicy) {
        if !self
            .sketches
            .iter()
            .any(|s| s.similarity(sketch) >= policy.similarity)
        {
            return;
        }
        self.recognised_at = self.recognised_at.max(at);
        if self.sketches.len() < REPRESENTATIVES {
            self.sketches.push(sketch.clone());
        }
    }

    /// Whether a new ticket written at `at` may still join.
    pub fn is_open(&self, at: i64, policy: &IncidentPolicy) -> bool {
        let recognised = if self.recognised_at == 0 {
            self.last_at
        } else {
            self.recognised_at
        };
        at - recognised <= policy.idle_minutes * 60 && at >= self.first_at
    }
}

/// What the look-up found for a new ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// No incident: the ticket stands alone.
    Alone,
    /// The ticket describes the failure of this open incident.
    Join(String),
    /// The ticket and these recent tickets like it, in no incident yet, describe the
    /// failure of this open incident (they would have declared a new one while it is
    /// under way, or they are earlier reports the ticket's words recognise).
    Merge(String, Vec<Member>),
    /// With the recent tickets it forms a new incident.
    Declare(Box<Incident>),
}

/// Whether a ticket decided at `priority` describes a failure the incident look-up
/// considers (questions and how-tos, decided lower, do not).
pub fn eligible(policy: &IncidentPolicy, priority: Priority) -> bool {
    policy.enabled && priority <= policy.max_priority
}

/// The look-up: `recent` holds the sightings of the last `window_minutes` (the new
/// one may be among them), `open` the incidents that may take members.
pub fn assess(
    policy: &IncidentPolicy,
    new: &Sighting,
    recent: &[Sighting],
    open: &[Incident],
) -> Verdict {
    // An open incident whose representative members read like this ticket takes it
    // (a ticket routed to another team only when it reads closely alike).
    let best = open
        .iter()
        .filter(|i| i.is_open(new.at, policy) || i.has(&new.ticket_id))
        .map(|i| {
            let sim = i
                .sketches
                .iter()
                .map(|s| s.similarity(&new.sketch))
                .fold(0.0, f64::max);
            (i, sim)
        })
        .filter(|(i, sim)| reads_alike(policy, i.team, new.team, *sim) || i.has(&new.ticket_id))
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((incident, _)) = best {
        return joined(policy, incident, new, recent, open);
    }
    // Only a ticket that reads as a failure helps declare one (a question decided P3
    // joins an open incident like it, above, and is raised with it).
    if !eligible(policy, new.priority) {
        return Verdict::Alone;
    }
    let since = new.at - policy.window_minutes * 60;
    let mut similar: Vec<&Sighting> = recent
        .iter()
        .filter(|s| s.ticket_id != new.ticket_id && s.at >= since && s.at <= new.at)
        .filter(|s| eligible(policy, s.priority))
        .filter(|s| joins(policy, s, new))
        .collect();
    // A ticket like a member of an open incident joins it (the failure is the same
    // even when this ticket's words are closer to a later member's than to the first).
    if let Some(incident) = open
        .iter()
        .filter(|i| i.is_open(new.at, policy) && i.team == new.team)
        .find(|i| similar.iter().any(|s| i.has(&s.ticket_id)))
    {
        return joined(policy, incident, new, recent, open);
    }
    similar.retain(|s| s.sketch.similarity(&new.sketch) >= policy.similarity);
    similar.push(new);
    similar.sort_by(|a, b| (a.at, &a.ticket_id).cmp(&(b.at, &b.ticket_id)));
    similar.dedup_by(|a, b| a.ticket_id == b.ticket_id);
    let mut accounts: Vec<&str> = similar.iter().map(|s| s.account.as_str()).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let enterprise = similar
        .iter()
        .any(|s| s.mrr.is_some_and(|m| m >= policy.enterprise_mrr));
    let enough = accounts.len() >= policy.min_accounts
        || (enterprise && accounts.len() >= policy.enterprise_min_accounts);
    if !enough {
        return Verdict::Alone;
    }
    // A team rarely has two failures at once: a new incident while one of the same
    // team is under way (a member within the window) is that one, in other words.
    if let Some(incident) = open
        .iter()
        .filter(|i| i.team == new.team && new.at - i.last_at <= policy.window_minutes * 60)
        .max_by_key(|i| i.last_at)
    {
        if incident.is_full() {
            return Verdict::Join(incident.id.clone());
        }
        let others = similar
            .iter()
            .filter(|s| s.ticket_id != new.ticket_id && !open.iter().any(|i| i.has(&s.ticket_id)))
            .map(|s| s.member())
            .collect();
        return Verdict::Merge(incident.id.clone(), others);
    }
    // Named after the first of the tickets like the declaring one, so that deliveries
    // that see the same tickets name it alike; then the recent tickets like any of
    // them join too (one step: the same failure in other words).
    let first = similar[0];
    let core: Vec<&TicketId> = similar.iter().map(|s| &s.ticket_id).collect();
    let more: Vec<&Sighting> = recent
        .iter()
        .filter(|s| !core.contains(&&s.ticket_id) && s.at >= since && s.at <= new.at)
        .filter(|s| eligible(policy, s.priority))
        .filter(|s| similar.iter().any(|m| joins(policy, s, m)))
        .collect();
    similar.extend(more);
    similar.sort_by(|a, b| (a.at, &a.ticket_id).cmp(&(b.at, &b.ticket_id)));
    let mut incident = Incident {
        id: incident_id(&first.ticket_id),
        title: first.subject.clone(),
        team: new.team,
        first_at: similar[0].at,
        declared_at: new.at,
        last_at: new.at,
        recognised_at: new.at,
        declared_by: new.ticket_id.clone(),
        level: policy.raise_to,
        problem_id: None,
        members: Vec::new(),
        more: 0,
        sketches: similar
            .iter()
            .take(REPRESENTATIVES)
            .map(|s| s.sketch.clone())
            .collect(),
    };
    for s in similar {
        incident.add(s.member(), policy);
    }
    Verdict::Declare(Box::new(incident))
}

/// Whether a ticket routed to `team` joins a failure reported to `other` at similarity
/// `sim`: at `join_similarity` in the same team, at `similarity` across teams (the
/// engine routes some reports of a failure elsewhere: a 502 from the API to operations
/// when it mentions orders and stock).
fn reads_alike(policy: &IncidentPolicy, team: Team, other: Team, sim: f64) -> bool {
    sim >= policy.similarity || (team == other && sim >= policy.join_similarity)
}

/// Whether sighting `a` reads like `b` closely enough to join it.
fn joins(policy: &IncidentPolicy, a: &Sighting, b: &Sighting) -> bool {
    reads_alike(policy, a.team, b.team, a.sketch.similarity(&b.sketch))
}

/// The new ticket joins `incident`, and brings the window's tickets like it that are
/// in no incident yet (a failure's first reports, in words the declaring tickets did
/// not use, are recognised through a later member's).
fn joined(
    policy: &IncidentPolicy,
    incident: &Incident,
    new: &Sighting,
    recent: &[Sighting],
    open: &[Incident],
) -> Verdict {
    // Past MAX_MEMBERS the incident no longer knows all its members: a ticket it
    // counted would be brought (and linked) again.
    if incident.is_full() {
        return Verdict::Join(incident.id.clone());
    }
    let since = new.at - policy.window_minutes * 60;
    let others: Vec<Member> = recent
        .iter()
        .filter(|s| s.ticket_id != new.ticket_id && s.at >= since && s.at <= new.at)
        .filter(|s| eligible(policy, s.priority))
        .filter(|s| !open.iter().any(|i| i.has(&s.ticket_id)))
        .filter(|s| joins(policy, s, new))
        .map(Sighting::member)
        .collect();
    if others.is_empty() {
        Verdict::Join(incident.id.clone())
    } else {
        Verdict::Merge(incident.id.clone(), others)
    }
}

/// `INC-` and the ticket id reduced to `[A-Za-z0-9_-]`.
pub fn incident_id(first: &TicketId) -> String {
    let clean: String = first
        .as_str()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("INC-{}", clean.trim_matches('_'))
}

/// Raises a decision to the incident's level and says why.
pub fn apply(decision: &mut Decision, incident: &Incident, declared: bool) {
    let accounts = incident.accounts();
    let minutes = (incident.last_at - incident.first_at).max(0) / 60;
    let mut reason = format!(
        "Incident {}: {accounts} accounts reported the same failure within {minutes} minutes",
        incident.id
    );
    if incident.level < decision.priority {
        reason.push_str(&format!(
            "; raised from {} to {}",
            decision.priority, incident.level
        ));
        decision.priority = incident.level;
    }
    decision.reasons.insert(0, reason);
    decision.incident = Some(IncidentRef {
        id: incident.id.clone(),
        declared,
        accounts,
        problem_id: incident.problem_id,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn sighting(id: &str, account: &str, minute: i64, text: &str) -> Sighting {
        Sighting {
            ticket_id: TicketId::parse(id).unwrap(),
            account: format!("name:{account}"),
            customer_name: account.to_string(),
            at: 1_700_000_000 + minute * 60,
            team: Team::IntegrationsApi,
            priority: Priority::P2,
            mrr: Some(500.0),
            subject: text.to_string(),
            sketch: Sketch::of(text, text, &[], &SameWords::default()),
        }
    }

    const SLOW: &str = "Orders slow to sync from Shopify, new orders missing in the app";

    #[test]
    fn three_accounts_in_the_window_declare_an_incident_named_after_the_first() {
        let policy = Policy::default_policy().incidents;
        let a = sighting("F-1", "a", 0, SLOW);
        let b = sighting("F-2", "b", 5, SLOW);
        let b2 = sighting("F-3", "b", 6, SLOW);
        let c = sighting("F-4", "c", 12, SLOW);
        assert_eq!(
            assess(&policy, &b2, &[a.clone(), b.clone()], &[]),
            Verdict::Alone
        );
        let Verdict::Declare(i) = assess(&policy, &c, &[a.clone(), b, b2, c.clone()], &[]) else {
            panic!("expected an incident");
        };
        assert_eq!(i.id, "INC-F-1");
        assert_eq!(i.members.len(), 4);
        assert_eq!(i.accounts(), 3);
        assert_eq!(i.level, Priority::P1);
        // Outside the window, the first ticket no longer counts.
        let late = sighting("F-9", "d", 12 + policy.window_minutes + 1, SLOW);
        let Verdict::Alone = assess(&policy, &late, &[a, c], &[]) else {
            panic!("the window slid past the others");
        };
    }

    #[test]
    fn different_failures_do_not_add_up_and_an_open_incident_takes_its_kind() {
        let policy = Policy::default_policy().incidents;
        let a = sighting("F-1", "a", 0, SLOW);
        let b = sighting(
            "F-2",
            "b",
            1,
            "Invoice for October has the wrong VAT number",
        );
        let c = sighting(
            "F-3",
            "c",
            2,
            "Cannot log in after enabling SSO, the whole team is locked out",
        );
        assert_eq!(assess(&policy, &c, &[a.clone(), b], &[]), Verdict::Alone);
        let d = sighting("F-4", "d", 3, SLOW);
        let e = sighting("F-5", "e", 4, SLOW);
        let Verdict::Declare(i) = assess(&policy, &e, &[a, d], &[]) else {
            panic!("expected an incident");
        };
        let later = sighting("F-6", "f", 4 + policy.idle_minutes - 1, SLOW);
        assert_eq!(
            assess(&policy, &later, &[], &[*i.clone()]),
            Verdict::Join(i.id.clone())
        );
        let idle = sighting("F-7", "g", 4 + policy.idle_minutes + 1, SLOW);
        assert_eq!(assess(&policy, &idle, &[], &[*i]), Verdict::Alone);
    }

    #[test]
    fn an_enterprise_account_and_one_more_are_enough_and_size_raises_to_p0() {
        let policy = Policy::default_policy().incidents;
        let mut big = sighting("F-1", "big", 0, SLOW);
        big.mrr = Some(policy.enterprise_mrr);
        let b = sighting("F-2", "b", 3, SLOW);
        let Verdict::Declare(mut i) = assess(&policy, &b, &[big], &[]) else {
            panic!("expected an incident");
        };
        assert_eq!(i.level, Priority::P1);
        for (n, acc) in ["c", "d", "e", "f", "g"].iter().enumerate() {
            i.add(
                sighting(&format!("F-{}", n + 3), acc, 10, SLOW).member(),
                &policy,
            );
        }
        assert!(i.accounts() >= policy.p0_accounts);
        assert_eq!(i.level, Priority::P0);
    }

    #[test]
    fn a_second_cluster_of_the_same_team_during_an_incident_merges_into_it() {
        let policy = Policy::default_policy().incidents;
        let a = sighting("F-1", "a", 0, SLOW);
        let b = sighting("F-2", "b", 1, SLOW);
        let Verdict::Declare(i) = assess(&policy, &sighting("F-3", "c", 2, SLOW), &[a, b], &[])
        else {
            panic!("expected an incident");
        };
        const OTHER: &str =
            "Webhook deliveries return 502 bad gateway, the connector cannot reach the API";
        let x = sighting("F-4", "x", 5, OTHER);
        let y = sighting("F-5", "y", 6, OTHER);
        let z = sighting("F-6", "z", 7, OTHER);
        assert!(x.sketch.similarity(&i.sketches[0]) < policy.similarity);
        match assess(&policy, &z, &[x, y], &[*i.clone()]) {
            Verdict::Merge(id, others) => {
                assert_eq!(id, i.id);
                let ids: Vec<&str> = others.iter().map(|m| m.ticket_id.as_str()).collect();
                assert_eq!(ids, ["F-4", "F-5"]);
            }
            other => panic!("expected a merge, got {other:?}"),
        }
        // Long after the incident's last member, the same cluster is an incident of
        // its own.
        let late =
            |id: &str, acc: &str, m: i64| sighting(id, acc, 2 + policy.window_minutes + m, OTHER);
        let (x, y, z) = (
            late("F-7", "x", 1),
            late("F-8", "y", 2),
            late("F-9", "z", 3),
        );
        assert!(matches!(
            assess(&policy, &z, &[x, y], &[*i]),
            Verdict::Declare(_)
        ));
    }

    #[test]
    fn a_ticket_decided_low_joins_an_incident_like_it_but_declares_none() {
        let policy = Policy::default_policy().incidents;
        let low = |id: &str, acc: &str, m: i64| Sighting {
            priority: Priority::P3,
            ..sighting(id, acc, m, SLOW)
        };
        let (a, b, c) = (low("F-1", "a", 0), low("F-2", "b", 1), low("F-3", "c", 2));
        assert_eq!(
            assess(&policy, &c, &[a.clone(), b.clone()], &[]),
            Verdict::Alone
        );
        let Verdict::Declare(i) = assess(
            &policy,
            &sighting("F-6", "f", 4, SLOW),
            &[sighting("F-4", "d", 2, SLOW), sighting("F-5", "e", 3, SLOW)],
            &[],
        ) else {
            panic!("expected an incident");
        };
        assert_eq!(
            assess(&policy, &low("F-7", "g", 5), &[], &[*i.clone()]),
            Verdict::Join(i.id)
        );
    }

    fn declared(policy: &IncidentPolicy) -> Incident {
        let (a, b) = (sighting("F-1", "a", 0, SLOW), sighting("F-2", "b", 1, SLOW));
        match assess(policy, &sighting("F-3", "c", 2, SLOW), &[a, b], &[]) {
            Verdict::Declare(i) => *i,
            other => panic!("expected an incident, got {other:?}"),
        }
    }

    #[test]
    fn a_member_that_joined_on_a_loose_likeness_neither_recognises_others_nor_keeps_it_open() {
        let policy = Policy::default_policy().incidents;
        let mut i = declared(&policy);
        // Two of SLOW's seven words and two of its own: 2/9.
        const LOOSE: &str = "Shopify sync stopped overnight";
        let loose = sighting("F-4", "d", 20, LOOSE);
        let sim = loose.sketch.similarity(&i.sketches[0]);
        assert!(
            (policy.join_similarity..policy.similarity).contains(&sim),
            "{sim}"
        );
        assert_eq!(
            assess(&policy, &loose, &[], std::slice::from_ref(&i)),
            Verdict::Join(i.id.clone())
        );
        let kept = i.sketches.len();
        i.add(loose.member(), &policy);
        i.remember(&loose.sketch, loose.at, &policy);
        assert_eq!(
            i.sketches.len(),
            kept,
            "a loose member is no representative"
        );
        assert_eq!(i.recognised_at, sighting("F-3", "c", 2, SLOW).at);
        assert_eq!(i.last_at, loose.at);
        // A ticket like the loose member only is not recognised...
        let like_loose = sighting("F-5", "e", 21, "Shopify stopped overnight, stock stuck");
        assert!(like_loose.sketch.similarity(&loose.sketch) >= policy.similarity);
        assert_eq!(
            assess(&policy, &like_loose, &[], std::slice::from_ref(&i)),
            Verdict::Alone
        );
        // ...and the incident closes `idle_minutes` after its last close likeness, not
        // after the loose member.
        let late = sighting("F-6", "f", 2 + policy.idle_minutes + 1, SLOW);
        assert_eq!(assess(&policy, &late, &[], &[i]), Verdict::Alone);
    }

    #[test]
    fn a_ticket_that_joins_brings_the_earlier_reports_like_it() {
        let policy = Policy::default_policy().incidents;
        let i = declared(&policy);
        const WEBHOOKS: &str = "Webhook deliveries fail with 502 since noon";
        let early = sighting("F-4", "d", 1, WEBHOOKS);
        assert!(early.sketch.similarity(&i.sketches[0]) < policy.join_similarity);
        let both = format!("{SLOW}; webhook deliveries fail with 502");
        let new = sighting("F-5", "e", 6, &both);
        match assess(
            &policy,
            &new,
            &[early.clone(), new.clone()],
            std::slice::from_ref(&i),
        ) {
            Verdict::Merge(id, others) => {
                assert_eq!(id, i.id);
                assert_eq!(others, vec![early.member()]);
            }
            other => panic!("expected the early report brought along, got {other:?}"),
        }
        // A report that is already a member, or outside the window, stays where it is.
        let mut member = i.clone();
        member.add(early.member(), &policy);
        assert_eq!(
            assess(&policy, &new, &[early.clone(), new.clone()], &[member]),
            Verdict::Join(i.id.clone())
        );
        let old = Sighting {
            at: new.at - (policy.window_minutes + 1) * 60,
            ..early.clone()
        };
        assert_eq!(
            assess(&policy, &new, &[old, new.clone()], std::slice::from_ref(&i)),
            Verdict::Join(i.id.clone())
        );
        // An incident that only counts its members any more brings nobody: it could
        // not tell whom it counted.
        let mut full = i.clone();
        for n in 0..MAX_MEMBERS {
            full.add(sighting(&format!("G-{n}"), "g", 3, SLOW).member(), &policy);
        }
        assert!(full.is_full());
        assert_eq!(
            assess(&policy, &new, &[early, new.clone()], &[full]),
            Verdict::Join(i.id)
        );
    }

    #[test]
    fn a_ticket_routed_to_another_team_counts_only_when_it_reads_closely_alike() {
        let policy = Policy::default_policy().incidents;
        let i = declared(&policy);
        let close = Sighting {
            team: Team::DataAnalytics,
            ..sighting("F-4", "d", 5, SLOW)
        };
        assert_eq!(
            assess(&policy, &close, &[], std::slice::from_ref(&i)),
            Verdict::Join(i.id.clone())
        );
        let loose = Sighting {
            team: Team::DataAnalytics,
            ..sighting("F-5", "e", 5, "Shopify sync stopped overnight")
        };
        assert_eq!(assess(&policy, &loose, &[], &[i]), Verdict::Alone);
        // The same holds when the incident is declared: a report routed elsewhere
        // counts when it reads closely alike.
        let elsewhere = Sighting {
            team: Team::ComplianceOperations,
            ..sighting("F-6", "f", 0, SLOW)
        };
        let loose_elsewhere = Sighting {
            team: Team::DataAnalytics,
            ..sighting("F-7", "g", 1, "Shopify sync stopped overnight")
        };
        let (b, c) = (sighting("F-8", "h", 2, SLOW), sighting("F-9", "k", 3, SLOW));
        let Verdict::Declare(d) = assess(
            &policy,
            &c,
            &[elsewhere, loose_elsewhere, b, c.clone()],
            &[],
        ) else {
            panic!("expected an incident");
        };
        let ids: Vec<&str> = d.members.iter().map(|m| m.ticket_id.as_str()).collect();
        assert_eq!(ids, ["F-6", "F-8", "F-9"]);
        assert_eq!(d.team, Team::IntegrationsApi);
    }
}
