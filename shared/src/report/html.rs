//! The dashboard: one self-contained HTML page (inline CSS, SVG and a small script,
//! works offline). Every piece of ticket text goes through maud's escaping, and a
//! Content-Security-Policy admits only the page's own script, by hash.

use base64::Engine as _;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use sha2::{Digest, Sha256};

use super::{Report, TicketRow};
use crate::domain::clock_time;
use crate::domain::{Priority, RiskLevel, SentimentLabel, Team};
use crate::incident::Incident;
use crate::sla::SlaState;

const STYLE: &str = r#"
:root{--bg:#f6f7f9;--card:#fff;--ink:#101828;--muted:#667085;--line:#e4e7ec;--p0:#b42318;--p1:#dc6803;--p2:#1570ef;--p3:#667085;--ok:#067647;--warn:#b54708}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;background:var(--bg);color:var(--ink)}
header{background:#0b1f33;color:#fff;padding:20px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c7d2de}
main{padding:24px 32px;max-width:1500px;margin:0 auto}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin:0 0 20px}
section h2{margin:0 0 12px;font-size:17px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px;margin-bottom:20px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.kpi .v{font-size:28px;font-weight:700}.kpi .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}.kpi .s{color:var(--muted);font-size:12px}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:20px}.grid2 section{margin:0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.03em;white-space:nowrap}
#tickets th{cursor:pointer;user-select:none}#tickets th[aria-sort=ascending]::after{content:" ▲"}#tickets th[aria-sort=descending]::after{content:" ▼"}
.badge{display:inline-block;border-radius:999px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.P0{background:var(--p0)}.P1{background:var(--p1)}.P2{background:var(--p2)}.P3{background:var(--p3)}
.chip{display:inline-block;border:1px solid var(--line);border-radius:6px;padding:0 6px;margin:1px 2px 1px 0;font-size:12px;background:#f9fafb}
.risk{font-weight:700}.risk.critical{color:var(--p0)}.risk.high{color:var(--p1)}.risk.medium{color:var(--warn)}.risk.low{color:var(--muted)}
.muted{color:var(--muted)}.small{font-size:12px}ul.tight,ol.tight{margin:4px 0;padding-left:18px}
.alert-card{border:1px solid var(--line);border-left:4px solid var(--p0);border-radius:8px;padding:10px 14px;margin:0 0 10px}
.alert-card.high{border-left-color:var(--p1)}.alert-card h3{margin:0 0 4px;font-size:15px}
.filters{display:flex;gap:10px;flex-wrap:wrap;margin-bottom:10px}.filters input,.filters select{padding:6px 8px;border:1px solid var(--line);border-radius:6px;font:inherit}
.filters input{min-width:260px}details summary{cursor:pointer;color:var(--p2)}
.cm td,.cm th{text-align:center}.cm td.hit{background:#ecfdf3;font-weight:700}
.status-within{color:var(--ok)}.status-below,.status-above{color:var(--warn)}
.review-card{border:1px solid var(--line);border-left:4px solid var(--warn);border-radius:8px;padding:8px 14px;margin:0 0 8px}.review-card.fire{border-left-color:var(--p0)}
.flag{color:var(--warn);font-weight:700}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px 0 30px}
.sla{font-size:12px;font-weight:600;white-space:nowrap}.sla.on_time,.sla.met{color:var(--ok)}.sla.at_risk{color:var(--warn)}.sla.breached{color:var(--p0)}
.incident{border:1px solid var(--line);border-left:4px solid var(--p0);border-radius:8px;padding:10px 14px;margin:0 0 12px}.incident h3{margin:0 0 4px;font-size:15px}
.timeline{width:100%;height:64px;display:block}.timeline .dot{fill:var(--p1)}.timeline .dot.declared{fill:var(--p0)}.timeline .axis{stroke:var(--line)}.timeline text{font-size:10px;fill:var(--muted)}
"#;

const SCRIPT: &str = r#"(function(){
var table=document.getElementById('tickets');if(!table){return;}
var tbody=table.tBodies[0],rows=Array.prototype.slice.call(tbody.rows);
var q=document.getElementById('filter-text'),fp=document.getElementById('filter-priority'),ft=document.getElementById('filter-team'),ff=document.getElementById('filter-flag'),shown=document.getElementById('shown');
function apply(){var text=q.value.toLowerCase(),n=0;rows.forEach(function(r){var ok=(!text||r.textContent.toLowerCase().indexOf(text)>=0)&&(!fp.value||r.getAttribute('data-priority')===fp.value)&&(!ft.value||r.getAttribute('data-team')===ft.value)&&(!ff.value||r.getAttribute('data-'+ff.value)==='1');r.hidden=!ok;if(ok){n++;}});shown.textContent=String(n);}
[q,fp,ft,ff].forEach(function(el){el.addEventListener('input',apply);el.addEventListener('change',apply);});
var heads=table.tHead.rows[0].cells;
Array.prototype.forEach.call(heads,function(th,i){th.addEventListener('click',function(){var dir=th.getAttribute('aria-sort')==='ascending'?-1:1;Array.prototype.forEach.call(heads,function(c){c.removeAttribute('aria-sort');});th.setAttribute('aria-sort',dir===1?'ascending':'descending');var num=th.getAttribute('data-type')==='num';rows.sort(function(a,b){var x=a.cells[i].getAttribute('data-sort'),y=b.cells[i].getAttribute('data-sort');if(x===null){x=a.cells[i].textContent;}if(y===null){y=b.cells[i].textContent;}if(num){return ((parseFloat(x)||0)-(parseFloat(y)||0))*dir;}return x.localeCompare(y)*dir;});rows.forEach(function(r){tbody.appendChild(r);});});});
apply();document.body.setAttribute('data-ready','1');
})();"#;

fn script_hash() -> String {
    let digest = Sha256::digest(SCRIPT.as_bytes());
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn priority_badge(p: Priority) -> Markup {
    html! { span class={"badge " (p.as_str())} title=(p.label()) { (p.as_str()) } }
}

fn risk_class(level: RiskLevel) -> &'static str {
    level.as_str()
}

fn money(mrr: Option<f64>) -> String {
    mrr.map_or("—".to_string(), |m| format!("${m:.0}"))
}

fn priority_chart(report: &Report) -> Markup {
    let m = &report.metrics;
    let total = m.tickets;
    let max = Priority::ALL
        .iter()
        .map(|p| {
            let actual = pct(m.priority.get(p).copied().unwrap_or(0), total);
            let hi = m.calibration.get(p).map_or(0.0, |c| c.target_pct[1]);
            actual.max(hi)
        })
        .fold(10.0f64, f64::max)
        .ceil();
    let (w, h, left, bottom, top) = (520.0, 230.0, 40.0, 30.0, 14.0);
    let plot_h = h - bottom - top;
    let slot = (w - left) / 4.0;
    let y = |v: f64| top + plot_h * (1.0 - v / max);
    html! {
        svg viewBox={"0 0 " (w) " " (h)} width="100%" role="img" aria-label="Priority mix against calibration targets" {
            @for t in [0.0, max / 2.0, max] {
                line x1=(left) x2=(w) y1=(y(t)) y2=(y(t)) stroke="#e4e7ec" {}
                text x=(left - 6.0) y=(y(t) + 4.0) text-anchor="end" font-size="11" fill="#667085" { (format!("{t:.0}%")) }
            }
            @for (i, p) in Priority::ALL.iter().enumerate() {
                @let x = left + slot * i as f64 + slot * 0.2;
                @let bw = slot * 0.6;
                @let count = m.priority.get(p).copied().unwrap_or(0);
                @let actual = pct(count, total);
                @if let Some(c) = m.calibration.get(p) {
                    rect class="target" x=(x - 6.0) width=(bw + 12.0) y=(y(c.target_pct[1])) height=((y(c.target_pct[0]) - y(c.target_pct[1])).max(2.0)) fill="#d1e9ff" opacity="0.8" {
                        title { (format!("{} target {:.0}–{:.0}%", p.as_str(), c.target_pct[0], c.target_pct[1])) }
                    }
                }
                rect class={"bar " (p.as_str())} x=(x + bw * 0.2) width=(bw * 0.6) y=(y(actual)) height=((h - bottom - y(actual)).max(0.0)) fill={"var(--" (p.as_str().to_ascii_lowercase()) ")"} {
                    title { (format!("{}: {count} tickets ({actual:.1}%)", p.as_str())) }
                }
                text x=(x + bw / 2.0) y=(y(actual) - 4.0) text-anchor="middle" font-size="12" font-weight="600" { (format!("{actual:.0}%")) }
                text x=(x + bw / 2.0) y=(h - 10.0) text-anchor="middle" font-size="12" { (p.as_str()) " " (p.label()) }
            }
        }
        p class="small muted" { "Bars: share of tickets. Blue bands: calibration targets from the policy." }
    }
}

fn team_chart(report: &Report) -> Markup {
    let m = &report.metrics;
    let total = m.tickets;
    let colors = ["#1570ef", "#7a5af8", "#0e9384"];
    html! {
        svg viewBox="0 0 560 150" width="100%" role="img" aria-label="Team split" {
            @for (i, t) in Team::ALL.iter().enumerate() {
                @let count = m.teams.get(t).copied().unwrap_or(0);
                @let share = pct(count, total);
                @let y = 12.0 + i as f64 * 44.0;
                text x="0" y=(y + 13.0) font-size="12" { (t.display_name()) }
                rect x="170" y=(y) width="300" height="20" fill="#f2f4f7" rx="4" {}
                rect class="team-bar" x="170" y=(y) width=(3.0 * share) height="20" fill=(colors[i]) rx="4" {
                    title { (format!("{}: {count} tickets ({share:.1}%)", t.display_name())) }
                }
                text x="478" y=(y + 14.0) font-size="12" font-weight="600" { (format!("{count} · {share:.0}%")) }
            }
        }
    }
}

/// Reliability plot: for each bin of priority confidence, how often the decisions in
/// it were right; a calibrated engine follows the diagonal.
fn reliability_chart(a: &crate::eval::EvaluationReport) -> Markup {
    let (x0, y0, w, h) = (40.0, 10.0, 260.0, 200.0);
    let max = a
        .reliability
        .iter()
        .map(|b| b.tickets)
        .max()
        .unwrap_or(0)
        .max(1);
    html! {
        h3 class="small" { "Reliability of the priority confidence · expected calibration error " strong { (format!("{:.3}", a.expected_calibration_error)) } }
        svg viewBox="0 0 320 250" width="340" role="img" aria-label="Reliability plot" {
            rect x=(x0) y=(y0) width=(w) height=(h) fill="#f9fafb" stroke="#e4e7ec" {}
            line x1=(x0) y1=(y0 + h) x2=(x0 + w) y2=(y0) stroke="#98a2b3" stroke-dasharray="4 3" {}
            @for b in &a.reliability {
                @if b.tickets > 0 {
                    @let bx = x0 + b.from * w;
                    @let bh = b.accuracy * h;
                    rect class="reliability-bar" x=(bx + 2.0) y=(y0 + h - bh) width=(w / 10.0 - 4.0) height=(bh) fill="#1570ef" fill-opacity=(0.35 + 0.65 * f64::from(b.tickets) / f64::from(max)) {
                        title { (format!("confidence {:.1}-{:.1}: {} tickets, mean confidence {:.2}, right {:.0}%", b.from, b.to, b.tickets, b.mean_confidence, b.accuracy * 100.0)) }
                    }
                    circle cx=(x0 + b.mean_confidence * w) cy=(y0 + h - b.accuracy * h) r="3" fill="#101828" {}
                }
            }
            text x=(x0) y="232" font-size="11" { "0" }
            text x=(x0 + w - 8.0) y="232" font-size="11" { "1" }
            text x=(x0 + w / 2.0 - 40.0) y="246" font-size="11" { "confidence" }
            text x="2" y=(y0 + 10.0) font-size="11" { "right" }
        }
    }
}

fn ticket_row(r: &TicketRow) -> Markup {
    html! {
        tr data-priority=(r.priority.as_str()) data-team=(r.team.as_str()) data-sla=(if matches!(r.sla, Some(SlaState::AtRisk | SlaState::Breached)) {"1"} else {"0"}) data-incident=(if r.incident.is_some() {"1"} else {"0"}) data-guardian=(if r.guardian_alert {"1"} else {"0"}) data-opportunity=(if r.opportunity {"1"} else {"0"}) data-autosend=(if r.auto_send {"1"} else {"0"}) data-review=(if r.needs_review {"1"} else {"0"}) {
            td { (r.ticket_id) }
            td { (r.customer) }
            td class="subject" { (r.subject) }
            td data-sort=(r.priority.index()) { (priority_badge(r.priority)) }
            td data-sort=(r.confidence) { (format!("{:.0}%", r.confidence * 100.0)) @if r.needs_review { " " span class="flag" title="needs review" { "?" } } }
            td data-sort=(r.team.as_str()) { (r.team.display_name()) }
            td { (r.agent_id.as_deref().unwrap_or("—")) }
            td { (r.language) }
            td data-sort=(r.sentiment_score) { (r.sentiment.as_str()) }
            td data-sort=(r.risk_score) { span class={"risk " @if r.guardian_alert {"critical"} @else {"low"}} { (r.risk_score) } @if r.guardian_alert { " ⚑" } }
            td { @for i in &r.intents { span class="chip" { (i.as_str()) } } }
            td data-sort=(r.draft_confidence.unwrap_or(-1.0)) {
                @if let Some(a) = &r.draft_article { (a) " " span class="muted" { (format!("{:.2}", r.draft_confidence.unwrap_or(0.0))) } @if r.auto_send { " " span class="chip" { "auto-send" } } }
                @else { span class="muted" { "—" } }
            }
            @if let Some(a) = r.actual_priority { td data-sort=(a.index()) { (a.as_str()) @if a != r.priority { " ≠" } } } @else { td class="muted" { "—" } }
            @if let Some(state) = r.sla { td data-sort=(sla_rank(state)) { span class={"sla " (sla_class(state))} { (state.label()) } } } @else { td class="muted" data-sort="-1" { "—" } }
            td { @if let Some(i) = &r.incident { span class="chip" { (i) } } }
            td { details { summary { "why" } ul class="tight small" { @for reason in &r.reasons { li { (reason) } } } } }
        }
    }
}

fn sla_class(state: SlaState) -> &'static str {
    match state {
        SlaState::Met => "met",
        SlaState::OnTime => "on_time",
        SlaState::AtRisk => "at_risk",
        SlaState::Breached => "breached",
    }
}

fn sla_rank(state: SlaState) -> u8 {
    match state {
        SlaState::Met => 0,
        SlaState::OnTime => 1,
        SlaState::AtRisk => 2,
        SlaState::Breached => 3,
    }
}

/// An incident: its members on a timeline (the declaring ticket marked) and listed.
fn incident_card(i: &Incident) -> Markup {
    let span = (i.last_at - i.first_at).max(60) as f64;
    let x = |at: i64| 20.0 + (at - i.first_at) as f64 / span * 960.0;
    html! {
        div class="incident" data-incident=(i.id) {
            h3 { (i.id) " · " (i.title) " " (priority_badge(i.level)) }
            div class="small muted" {
                (i.accounts()) @if i.more > 0 { "+" } " accounts · " (i.members.len() as u64 + i.more) " tickets · " (clock_time(i.first_at)) "–" (clock_time(i.last_at)) " UTC · declared at " (clock_time(i.declared_at)) " by " (i.declared_by)
                @if let Some(p) = i.problem_id { " · problem ticket #" (p) }
                " · " (i.team.display_name())
            }
            svg class="timeline" viewBox="0 0 1000 64" preserveAspectRatio="none" role="img" aria-label={"Timeline of " (i.id)} {
                line class="axis" x1="20" y1="34" x2="980" y2="34" {}
                line x1=(format!("{:.1}", x(i.declared_at))) y1="8" x2=(format!("{:.1}", x(i.declared_at))) y2="58" stroke="#b42318" stroke-dasharray="3 3" {}
                @for m in &i.members {
                    circle class={"dot" @if m.ticket_id == i.declared_by {" declared"}} cx=(format!("{:.1}", x(m.at))) cy="34" r="6" { title { (m.ticket_id) " · " (m.customer_name) " · " (clock_time(m.at)) } }
                }
                text x="20" y="60" { (clock_time(i.first_at)) }
                text x="980" y="60" text-anchor="end" { (clock_time(i.last_at)) }
            }
            details { summary { "members" }
                table class="small" { thead { tr { th { "Time" } th { "Ticket" } th { "Account" } th { "Own priority" } th { "Subject" } } } tbody {
                    @for m in &i.members { tr { td { (clock_time(m.at)) } td { (m.ticket_id) } td { (m.customer_name) } td { (priority_badge(m.priority)) } td { (m.subject) } } }
                } }
            }
        }
    }
}

/// Renders the dashboard.
pub fn render(report: &Report) -> String {
    let m = &report.metrics;
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '{}'",
        script_hash()
    );
    let p2p3 = m.priority.get(&Priority::P2).copied().unwrap_or(0)
        + m.priority.get(&Priority::P3).copied().unwrap_or(0);
    let negative = m
        .sentiment
        .get(&SentimentLabel::Frustrated)
        .copied()
        .unwrap_or(0)
        + m.sentiment
            .get(&SentimentLabel::Aggressive)
            .copied()
            .unwrap_or(0);
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp);
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Support triage dashboard" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    h1 { "Support triage dashboard" }
                    p { (m.tickets) " tickets from " (m.source) " · generated " (m.generated_at) }
                }
                main {
                    div class="kpis" id="kpis" {
                        div class="kpi" { div class="l" { "Tickets" } div class="v" { (m.tickets) } div class="s" { (m.priority.get(&Priority::P0).copied().unwrap_or(0)) " P0 · " (m.priority.get(&Priority::P1).copied().unwrap_or(0)) " P1" } }
                        div class="kpi" { div class="l" { "Auto-resolution rate" } div class="v" { (format!("{:.0}%", m.auto_resolution_rate * 100.0)) } div class="s" { (m.auto_resolvable) " of " (p2p3) " P2/P3 drafts ready · " (m.auto_send_candidates) " auto-send candidates" } }
                        div class="kpi" { div class="l" { "Guardian alerts" } div class="v" { (m.guardian_alerts) } div class="s" { (format!("{:.0}%", m.guardian_alert_rate * 100.0)) " of tickets · " (negative) " negative in tone" } }
                        div class="kpi" { div class="l" { "Opportunity signals" } div class="v" { (m.opportunity_signals) } div class="s" { (format!("{:.0}%", m.opportunity_rate * 100.0)) " of tickets" } }
                        div class="kpi" id="kpi-incidents" { div class="l" { "Incidents" } div class="v" { (m.incidents.declared) } div class="s" { (m.incidents.members) " tickets linked to a problem ticket" } }
                        div class="kpi" id="kpi-sla" { div class="l" { "SLA at risk / breached" } div class="v" { (m.sla.at_risk) " / " (m.sla.breached) } div class="s" { (m.sla.on_time) " on time · " (m.sla.met) " met" @if let Some(t) = &m.sla.as_of { " · as of " (t) } } }
                        div class="kpi" { div class="l" { "Needs review" } div class="v" { (m.needs_review) } div class="s" { (format!("{:.0}%", m.needs_review_rate * 100.0)) " of tickets · never auto-sent" } }
                        div class="kpi" { div class="l" { "Avg processing time" }
                            @if m.processing.measured > 0 {
                                div class="v" { (format!("{:.2} ms", m.processing.avg_ms_per_ticket)) } div class="s" { "p95 " (m.processing.p95_us) " µs per ticket" }
                            } @else {
                                div class="v" { "—" } div class="s" { "not measured for stored decisions" }
                            }
                        }
                    }
                    div class="grid2" {
                        section id="priority-mix" { h2 { "Priority mix vs calibration targets" } (priority_chart(report))
                            table class="small" { thead { tr { th { "Priority" } th { "Tickets" } th { "Share" } th { "Target" } th { "" } } } tbody {
                                @for (p, c) in &m.calibration { tr { td { (priority_badge(*p)) } td { (m.priority.get(p).copied().unwrap_or(0)) } td { (format!("{:.1}%", c.actual_pct)) } td { (format!("{:.0}–{:.0}%", c.target_pct[0], c.target_pct[1])) } td class={"status-" (c.status)} { (c.status) } } }
                            } }
                        }
                        section id="team-split" { h2 { "Team split" } (team_chart(report))
                            p class="small muted" { "Languages: " @for (l, n) in &m.languages { span class="chip" { (l) " " (n) } } }
                            p class="small muted" { "Sentiment: " @for (s, n) in &m.sentiment { span class="chip" { (s.as_str()) " " (n) } } }
                        }
                    }
                    section id="needs-review" {
                        h2 { "Needs review (" (m.needs_review) ")" }
                        @if report.review.is_empty() { p class="muted" { "Every decision was made with enough confidence." } }
                        @else { p class="small muted" { "Tagged " code { "triage_needs_review" } " in Zendesk and never auto-sent: the engine is unsure, or a ticket may be a P0 that was decided lower. Possible fires first, then the least confident." } }
                        @for r in &report.review {
                            div class={"review-card" @if r.possible_fire {" fire"}} {
                                strong { (r.ticket_id) } " · " (r.customer) " · " (priority_badge(r.priority)) " · " (r.team.display_name()) " · confidence " (format!("{:.0}%", r.confidence * 100.0))
                                div class="small" { (r.subject) }
                                div class="small muted" { (r.why) }
                            }
                        }
                        @if report.review_omitted > 0 { p class="muted small" { (report.review_omitted) " more are flagged in triage_results.json (needs_review)." } }
                    }
                    @if !report.incidents.is_empty() || m.incidents.score.is_some() {
                        section id="incidents" {
                            h2 { "Incidents across accounts (" (report.incidents.len()) ")" }
                            p class="small muted" { "Tickets from different accounts describing the same failure within the policy's window. Each incident has one problem ticket in Zendesk; its members are linked to it and raised to its priority, and on-call was alerted once." }
                            @if let Some(sc) = &m.incidents.score {
                                p class="small" id="incident-score" { "Against the labelled outages: membership precision " strong { (format!("{:.2}", sc.precision)) } " · recall " strong { (format!("{:.2}", sc.recall)) } " · incidents from normal traffic: " strong { (sc.false_incidents) }
                                    @for o in &sc.per_outage { " · " (o.outage) ": " (o.found) "/" (o.tickets) " found" @if let Some(b) = o.before_declared { ", declared after " (b) " tickets" } }
                                }
                            }
                            @for i in &report.incidents { (incident_card(i)) }
                        }
                    }
                    section id="guardian" {
                        h2 { "Guardian alerts (" (m.guardian_alerts) ")" }
                        @if report.guardian.is_empty() { p class="muted" { "No account crossed the alert threshold." } }
                        @for g in &report.guardian {
                            div class={"alert-card " (risk_class(g.level))} {
                                h3 { span class={"risk " (risk_class(g.level))} { (g.risk_score) "/100" } " · " (g.customer) " · " (g.ticket_id) " " (priority_badge(g.priority)) }
                                div class="small muted" { (g.subject) " · MRR " (money(g.mrr)) " · " (g.level.as_str()) " risk" }
                                div class="grid2" {
                                    div { strong class="small" { "Why" } ul class="tight small" { @for r in &g.reasons { li { (r) } } } }
                                    div { strong class="small" { "Recommended actions" } ol class="tight small" { @for a in &g.actions { li { (a) } } } }
                                }
                            }
                        }
                        @if report.guardian_omitted > 0 { p class="muted small" { (report.guardian_omitted) " lower-risk alerts are not listed here; all are in guardian_alerts_log.json." } }
                    }
                    section id="opportunities" {
                        h2 { "Opportunity signals (" (m.opportunity_signals) ")" }
                        @if report.opportunities.is_empty() { p class="muted" { "No revenue intent detected." } }
                        @else {
                            table { thead { tr { th { "Ticket" } th { "Customer" } th { "MRR" } th { "Intents" } th { "Confidence" } th { "What they wrote" } th { "Why" } } } tbody {
                                @for o in &report.opportunities { tr {
                                    td { (o.ticket_id) } td { (o.customer) } td { (money(o.mrr)) }
                                    td { @for i in &o.intents { span class="chip" { (i.as_str()) } } }
                                    td { (format!("{:.0}%", o.confidence * 100.0)) }
                                    td class="small" { strong { (o.subject) } br; (o.snippet) }
                                    td class="small" { ul class="tight" { @for r in &o.reasons { li { (r) } } } }
                                } }
                            } }
                        }
                        @if report.opportunities_omitted > 0 { p class="muted small" { (report.opportunities_omitted) " more are in opportunity_alerts_log.json." } }
                    }
                    @if let Some(l) = &m.llm {
                        section id="llm" {
                            h2 { "Language model" }
                            div class="kpis" {
                                div class="kpi" { div class="l" { "Tickets asked" } div class="v" { (l.consulted) } div class="s" { (format!("{:.0}%", l.consulted_share * 100.0)) " of tickets" } }
                                div class="kpi" { div class="l" { "Answers used" } div class="v" { (l.used) } div class="s" { (l.fallbacks) " fell back to the built-in decision" } }
                                div class="kpi" { div class="l" { "Cost" } div class="v" { (format!("${:.4}", l.cost_usd)) } div class="s" { (format!("${:.5}", l.cost_per_consulted_ticket_usd)) " per ticket asked" @if l.unpriced_calls > 0 { " · " (l.unpriced_calls) " calls to a model without a known price are not counted" } } }
                                div class="kpi" { div class="l" { "Tokens" } div class="v" { (l.input_tokens + l.cache_read_input_tokens + l.cache_creation_input_tokens) } div class="s" { (l.output_tokens) " out · " (l.cache_read_input_tokens) " from cache" } }
                                div class="kpi" { div class="l" { "Redacted before sending" } div class="v" { (l.redactions.total()) } div class="s" { (l.redactions.emails) " e-mails · " (l.redactions.phones) " phones · " (l.redactions.cards) " cards · " (l.redactions.ibans) " IBANs · " (l.redactions.secrets) " keys" } }
                            }
                        }
                    }
                    @if let Some(a) = &m.agreement {
                        section id="agreement" {
                            h2 { "Agreement with labels (" (a.labelled) " labelled tickets)" }
                            div class="kpis" {
                                div class="kpi" { div class="l" { "Priority exact" } div class="v" { (format!("{:.0}%", a.priority_exact * 100.0)) } }
                                div class="kpi" { div class="l" { "Within one level" } div class="v" { (format!("{:.0}%", a.priority_within_one * 100.0)) } }
                                @if let Some(t) = &a.team { div class="kpi" { div class="l" { "Team accuracy" } div class="v" { (format!("{:.0}%", t.accuracy * 100.0)) } } }
                                @if let Some(c) = &a.churn { div class="kpi" { div class="l" { "Churn F1" } div class="v" { (format!("{:.2}", c.scores.f1)) } } }
                                @if let Some(o) = &a.opportunity { div class="kpi" { div class="l" { "Opportunity F1" } div class="v" { (format!("{:.2}", o.scores.f1)) } } }
                            }
                            p class="small" id="fires" { "P0 recall " strong { (format!("{:.2}", a.p0_recall)) } " · P0+P1 recall " (format!("{:.2}", a.p0_p1_recall)) " · P0 decided P2/P3: " strong { (a.p0_decided_p2_or_lower) } " · dangerous misses (P0/P1 decided two or more levels lower): " strong { (a.dangerous_misses) } " · " (a.review.dangerous_flagged) " of them flagged for review" }
                            div class="grid2" { div {
                            table class="cm" id="confusion" { thead { tr { th { "label \\ decided" } @for p in Priority::ALL { th { (p.as_str()) } } th { "recall" } } } tbody {
                                @for (i, p) in Priority::ALL.iter().enumerate() { tr { th { (p.as_str()) } @for j in 0..4 { td class=(if i == j {"hit"} else {""}) { (a.confusion_matrix[i][j]) } } td { (format!("{:.2}", a.per_priority.get(p).map_or(0.0, |s| s.recall))) } } }
                                tr { th { "precision" } @for p in Priority::ALL { td { (format!("{:.2}", a.per_priority.get(p).map_or(0.0, |s| s.precision))) } } td {} }
                            } }
                            }
                            div id="reliability" { (reliability_chart(a)) }
                            }
                        }
                    }
                    section id="ticket-table" {
                        h2 { "Tickets" }
                        div class="filters" {
                            input id="filter-text" type="search" placeholder="Filter by any text (customer, subject, reason)…" aria-label="Filter tickets";
                            select id="filter-priority" aria-label="Priority" { option value="" { "All priorities" } @for p in Priority::ALL { option value=(p.as_str()) { (p.as_str()) } } }
                            select id="filter-team" aria-label="Team" { option value="" { "All teams" } @for t in Team::ALL { option value=(t.as_str()) { (t.display_name()) } } }
                            select id="filter-flag" aria-label="Flag" { option value="" { "All tickets" } option value="guardian" { "Guardian alerts" } option value="opportunity" { "Opportunities" } option value="autosend" { "Auto-send candidates" } option value="review" { "Needs review" } option value="sla" { "SLA at risk or breached" } option value="incident" { "In an incident" } }
                            span class="muted small" { "showing " span id="shown" { (report.rows.len()) } " of " (report.rows.len()) }
                        }
                        table id="tickets" {
                            thead { tr {
                                th { "Ticket" } th { "Customer" } th { "Subject" } th data-type="num" { "Priority" } th data-type="num" { "Conf." } th { "Team" } th { "Agent" } th { "Lang" }
                                th data-type="num" { "Sentiment" } th data-type="num" { "Risk" } th { "Intents" } th data-type="num" { "Draft" } th data-type="num" { "Label" } th data-type="num" { "SLA" } th { "Incident" } th { "Reasons" }
                            } }
                            tbody { @for r in &report.rows { (ticket_row(r)) } }
                        }
                        @if report.rows_omitted > 0 { p class="muted small" id="rows-omitted" { "The table lists the first " (report.rows.len()) " tickets; " (report.rows_omitted) " more are in triage_results.json." } }
                    }
                    @if !m.input_issues.is_empty() {
                        section id="input-issues" {
                            h2 { "Input problems (" (m.input_rejected) " rows skipped, " (m.input_warnings) " warnings, " (m.not_triaged) " not triaged)" }
                            ul class="small" { @for i in &m.input_issues { li { (i.to_string()) } } }
                        }
                    }
                }
                footer { "Built-in engine decisions are deterministic; every decision lists its reasons. Policy: data/policy.toml." }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    };
    page.into_string()
}
