//! Draft replies for P2/P3 tickets: the best knowledge-base article, wrapped in a reply
//! in the ticket's language, with a confidence and the auto-send rule applied.

use super::agents::Agent;
use super::found::round2;
use super::kb::{KnowledgeBase, Words};
use super::language::{Detected, Lang};
use crate::domain::{DraftReply, Priority, Sentiment, Team, Ticket};
use crate::policy::Policy;
use crate::text::{Prepared, truncate_words};

pub struct DraftInput<'a> {
    pub ticket: &'a Ticket,
    pub text: &'a Prepared,
    pub priority: Priority,
    pub team: Team,
    pub language: &'a Detected,
    pub sentiment: &'a Sentiment,
    pub guardian_alert: bool,
    pub opportunity: bool,
    pub agent: Option<&'a Agent>,
    pub kb: &'a KnowledgeBase,
    pub words: &'a Words<'a>,
    pub policy: &'a Policy,
}

pub struct DraftOutcome {
    pub draft: Option<DraftReply>,
    pub reason: String,
}

struct Template {
    greeting: &'static str,
    question: &'static str,
    issue: &'static str,
    closing: &'static str,
    sign_off: &'static str,
    colleague: &'static str,
}

fn template(lang: Lang) -> Template {
    match lang {
        Lang::En => Template {
            greeting: "Hello {customer} team,",
            question: "Thank you for your question about \"{subject}\".",
            issue: "Thank you for reporting \"{subject}\". Our {team} team is looking into it; in the meantime, this should help:",
            closing: "If this does not solve it, just reply to this message and {agent} will follow up.",
            sign_off: "Best regards,\n{team} team",
            colleague: "a specialist",
        },
        Lang::Fr => Template {
            greeting: "Bonjour l'équipe {customer},",
            question: "Merci pour votre question concernant « {subject} ».",
            issue: "Merci de nous avoir signalé « {subject} ». Notre équipe {team} s'en occupe ; en attendant, ceci devrait vous aider :",
            closing: "Si cela ne résout pas le problème, répondez simplement à ce message et {agent} reviendra vers vous.",
            sign_off: "Cordialement,\nL'équipe {team}",
            colleague: "un spécialiste",
        },
        Lang::De => Template {
            greeting: "Hallo {customer}-Team,",
            question: "vielen Dank für Ihre Frage zu „{subject}“.",
            issue: "vielen Dank für Ihre Meldung zu „{subject}“. Unser Team {team} kümmert sich darum; bis dahin sollte Folgendes helfen:",
            closing: "Falls das nicht weiterhilft, antworten Sie einfach auf diese Nachricht; {agent} meldet sich dann bei Ihnen.",
            sign_off: "Freundliche Grüße\nIhr Team {team}",
            colleague: "ein Spezialist",
        },
        Lang::Es => Template {
            greeting: "Hola, equipo de {customer}:",
            question: "Gracias por su pregunta sobre «{subject}».",
            issue: "Gracias por informarnos sobre «{subject}». Nuestro equipo de {team} lo está revisando; mientras tanto, esto debería ayudarle:",
            closing: "Si esto no lo resuelve, responda a este mensaje y {agent} le hará seguimiento.",
            sign_off: "Saludos cordiales,\nEquipo de {team}",
            colleague: "un especialista",
        },
    }
}

/// Appends `template` to `out` with each `{name}` replaced by its value.
fn fill(out: &mut String, template: &str, values: &[(&str, &str)]) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        match values.iter().find(|(name, _)| tail.starts_with(name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &tail[name.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
}

pub fn compose(input: &DraftInput<'_>) -> DraftOutcome {
    let policy = input.policy;
    let d = &policy.draft;
    if !d.priorities.contains(&input.priority) {
        return DraftOutcome {
            draft: None,
            reason: format!("draft: none for {} (routed to an agent)", input.priority),
        };
    }
    let Some(m) = input
        .kb
        .search(input.words, input.language.lang, d.min_score)
    else {
        return DraftOutcome {
            draft: None,
            reason: format!(
                "draft: no knowledge-base article scores {:.1} or more",
                d.min_score
            ),
        };
    };
    let article = &input.kb.articles[m.article];

    let relevance = 1.0 - (-m.score / d.saturation).exp();
    let margin = if m.score > 0.0 {
        ((m.score - m.runner_up) / m.score).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let base_share = 1.0 - d.margin_share - d.keyword_share;
    let mut confidence =
        relevance * (base_share + d.margin_share * margin + d.keyword_share * m.keyword_coverage);
    let mut penalties = Vec::new();
    let extra_questions = input.text.question_marks.saturating_sub(1);
    if extra_questions > 0 {
        let p = d.penalty_per_extra_question * f64::from(extra_questions.min(4));
        confidence -= p;
        penalties.push(format!("{extra_questions} more question(s) -{p:.2}"));
    }
    if input.sentiment.label.is_negative() {
        confidence -= d.penalty_negative_sentiment;
        penalties.push(format!(
            "{} tone -{:.2}",
            input.sentiment.label, d.penalty_negative_sentiment
        ));
    }
    if input.text.word_count > d.long_ticket_words {
        confidence -= d.penalty_long_ticket;
        penalties.push(format!("long ticket -{:.2}", d.penalty_long_ticket));
    }
    let confidence = round2(confidence.clamp(0.0, 1.0));

    let a = &policy.auto_send;
    let mut blockers = Vec::new();
    if !a.priorities.contains(&input.priority) {
        blockers.push(format!("{} is not auto-sent", input.priority));
    }
    if confidence < a.min_confidence {
        blockers.push(format!("confidence below {:.2}", a.min_confidence));
    }
    if !a.sentiments.contains(&input.sentiment.label) {
        blockers.push(format!("{} tone", input.sentiment.label));
    }
    if input.text.question_marks > a.max_questions {
        blockers.push("more than one question".to_string());
    }
    if input.text.word_count > a.max_words {
        blockers.push(format!("longer than {} words", a.max_words));
    }
    if input.guardian_alert {
        blockers.push("Guardian alert".to_string());
    }
    if input.opportunity {
        blockers.push("Sales opportunity".to_string());
    }
    let auto_send_candidate = blockers.is_empty();

    let t = template(input.language.lang);
    let team_name = input.team.display_name();
    let agent_name = input
        .agent
        .and_then(|a| a.name.split_whitespace().next())
        .unwrap_or(t.colleague);
    let subject = truncate_words(input.ticket.subject.trim(), 80);
    let customer = input.ticket.customer_name.trim();
    let customer = if customer.is_empty() {
        "support"
    } else {
        customer
    };
    let intro = if input.priority == Priority::P3 {
        t.question
    } else {
        t.issue
    };
    let answer = article.answer.trim();
    let values = [
        ("{customer}", customer),
        ("{subject}", subject.as_str()),
        ("{team}", team_name),
        ("{agent}", agent_name),
        ("{answer}", answer),
    ];
    let mut text = String::with_capacity(answer.len() + 400);
    for (i, part) in [t.greeting, intro, "{answer}", t.closing, t.sign_off]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            text.push_str("\n\n");
        }
        fill(&mut text, part, &values);
    }
    let reason = format!(
        "draft {} (confidence {confidence:.2}; BM25 {:.1} vs {:.1}; keywords {:.0}%; terms {}{}){}",
        article.id,
        m.score,
        m.runner_up,
        m.keyword_coverage * 100.0,
        m.matched_terms.join(", "),
        if penalties.is_empty() {
            String::new()
        } else {
            format!("; {}", penalties.join(", "))
        },
        if auto_send_candidate {
            ", auto-send candidate".to_string()
        } else {
            format!(", not auto-sent: {}", blockers.join(", "))
        }
    );
    DraftOutcome {
        draft: Some(DraftReply {
            kb_article_id: Some(article.id.clone()),
            text,
            confidence,
            auto_send_candidate,
        }),
        reason,
    }
}
