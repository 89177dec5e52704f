//! `triage run` and `triage eval`: the pipeline over a CSV with local adapters.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use triage_shared::accounts::AccountDirectory;
use triage_shared::adapters::channels::{EmailProvider, alert_channels};
use triage_shared::adapters::http::anthropic::{AnthropicClassifier, AnthropicConfig};
use triage_shared::adapters::http::sendgrid::SendGridNotifier;
use triage_shared::adapters::http::slack::SlackNotifier;
use triage_shared::adapters::http::zendesk::{HttpZendesk, ZendeskConfig};
use triage_shared::adapters::local::{
    JsonArrayWriter, LocalAlertSink, MboxNotifier, MemoryIncidentStore, MemoryTicketStore,
    RecordingZendesk,
};
use triage_shared::domain::Priority;
use triage_shared::engine::catalogue::Catalogue;
use triage_shared::engine::{Engine, Sources};
use triage_shared::eval::EvaluationReport;
use triage_shared::input::{InputIssue, InputRow, Item, Severity, TicketReader};
use triage_shared::llm::{self, LlmAdvisor, LlmMode};
use triage_shared::pipeline::{Pipeline, PipelineSettings, Processed};
use triage_shared::policy::Policy;
use triage_shared::ports::Notifier;
use triage_shared::report::{Caps, Report, ReportBuilder, html};
use triage_shared::settings::{DEFAULT_ALERT_FROM, Env, process_env};
use triage_shared::sla::Progress;

use crate::{EngineArgs, EvalArgs, RunArgs};

/// Issues printed to the terminal before the rest are only counted.
const PRINTED_ISSUES: usize = 50;

pub struct Loaded {
    pub engine: Engine,
    pub accounts: AccountDirectory,
}

pub fn load(args: &EngineArgs) -> anyhow::Result<Loaded> {
    let dir_policy = args
        .policy_dir
        .as_ref()
        .map(|d| d.join("policy.toml"))
        .filter(|p| p.is_file());
    let policy = match args.policy.as_ref().or(dir_policy.as_ref()) {
        Some(path) => Policy::load(path)?,
        None => Policy::default_policy(),
    };
    let catalogue = match &args.policy_dir {
        Some(dir) => {
            let phrases = dir.join("phrases");
            if !dir.is_dir() {
                bail!("--policy-dir {}: no such directory", dir.display());
            }
            if phrases.is_dir() {
                Catalogue::with_dir(&phrases)?
            } else {
                Catalogue::embedded()?
            }
        }
        None => Catalogue::embedded()?,
    };
    let engine = Engine::from_parts(
        policy,
        catalogue,
        &Sources {
            knowledge_base: args.knowledge_base.as_deref(),
            agents: args.agents.as_deref(),
            model: args.model.as_deref(),
        },
    )?;
    let accounts = match &args.accounts {
        Some(path) => AccountDirectory::parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        )?,
        None => AccountDirectory::embedded()?,
    };
    Ok(Loaded { engine, accounts })
}

/// Reads every row and runs the pipeline on each usable one, in input order.
async fn drive(
    input: &Path,
    reader: TicketReader<std::fs::File>,
    pipeline: &Pipeline<'_>,
    mut each: impl FnMut(&InputRow, Processed, Duration) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<InputIssue>> {
    let size = std::fs::metadata(input).map(|m| m.len()).unwrap_or(0);
    let progress = (std::io::stderr().is_terminal() && size > 512 * 1024).then(|| {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut issues = Vec::new();
    let mut reader = reader;
    let mut rows = 0u64;
    while let Some(item) = reader.next() {
        match item {
            Item::Issue(issue) => {
                if issues.len() < PRINTED_ISSUES {
                    let line = format!("{}: {issue}", input.display());
                    match &progress {
                        Some(bar) => bar.println(line),
                        None => eprintln!("{line}"),
                    }
                }
                issues.push(issue);
            }
            Item::Row(row) => {
                let started = Instant::now();
                let processed = match pipeline.triage(&row.ticket, "run").await {
                    Ok(p) => p,
                    Err(e) => {
                        // One ticket a service refuses (a Zendesk 404, a bad token)
                        // is reported; the run goes on with the others.
                        let issue = InputIssue {
                            line: row.line,
                            ticket_id: Some(row.ticket.id.to_string()),
                            severity: Severity::Failed,
                            message: e.to_string(),
                        };
                        let line = format!("{}: {issue}", input.display());
                        match &progress {
                            Some(bar) => bar.println(line),
                            None => eprintln!("{line}"),
                        }
                        issues.push(issue);
                        continue;
                    }
                };
                each(&row, processed, started.elapsed())?;
                rows += 1;
                if let Some(bar) = &progress
                    && rows.is_multiple_of(1000)
                {
                    bar.set_position(reader.byte_offset());
                    bar.set_message(format!("{rows} tickets"));
                }
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if issues.len() > PRINTED_ISSUES {
        eprintln!(
            "{}: {} more problems (all listed in metrics_summary.json)",
            input.display(),
            issues.len() - PRINTED_ISSUES
        );
    }
    Ok(issues)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

struct OutputFiles {
    results: PathBuf,
    zendesk: PathBuf,
    guardian: PathBuf,
    opportunity: PathBuf,
    incidents: PathBuf,
    metrics: PathBuf,
    report: PathBuf,
    emails: PathBuf,
}

impl OutputFiles {
    fn new(out: &Path) -> Self {
        Self {
            results: out.join("triage_results.json"),
            zendesk: out.join("zendesk_api_calls.json"),
            guardian: out.join("guardian_alerts_log.json"),
            opportunity: out.join("opportunity_alerts_log.json"),
            incidents: out.join("incident_alerts_log.json"),
            metrics: out.join("metrics_summary.json"),
            report: out.join("triage_report.html"),
            emails: out.join("emails"),
        }
    }
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let loaded = load(&args.engine)?;
    let settings = PipelineSettings::from_env(&process_env())?;
    let reader = TicketReader::open(
        &args.input,
        loaded.engine.policy.limits.max_description_chars,
    )?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let files = OutputFiles::new(&args.out);

    let env = process_env();
    let live = Integrations::from_env(&env, args.demo_mode)?;
    let results = JsonArrayWriter::create(&files.results)?;
    let zendesk_log = JsonArrayWriter::create(&files.zendesk)?;
    let zendesk = match live.zendesk {
        Some(z) => RecordingZendesk::forwarding(zendesk_log, Box::new(z)),
        None => RecordingZendesk::new(zendesk_log),
    };
    let from = env
        .get("ALERT_FROM_EMAIL")
        .unwrap_or_else(|| DEFAULT_ALERT_FROM.to_string());
    let mailbox = std::sync::Arc::new(MboxNotifier::create(&files.emails, from)?);
    let mut notifiers = live.notifiers;
    let mut channels = live.channels;
    if !live.email {
        // No mail provider (or demo mode): the e-mails go to the mailbox file.
        notifiers.push(Box::new(mailbox.clone()));
        channels.push("mailbox file");
    }
    let alerts = LocalAlertSink::new(
        JsonArrayWriter::create(&files.guardian)?,
        JsonArrayWriter::create(&files.opportunity)?,
        JsonArrayWriter::create(&files.incidents)?,
        notifiers,
    );
    let advisor = live.classifier.as_ref().map(|c| LlmAdvisor {
        classifier: c,
        mode: live.mode,
        system: llm::system_prompt(&loaded.engine),
    });
    let store = MemoryTicketStore::for_run();
    let incidents = MemoryIncidentStore::new();
    let pipeline = Pipeline {
        engine: &loaded.engine,
        store: &store,
        zendesk: &zendesk,
        alerts: &alerts,
        accounts: &loaded.accounts,
        settings: &settings,
        llm: advisor.as_ref(),
        incidents: Some(&incidents),
    };
    let mut builder = ReportBuilder::new(&loaded.engine.policy, Caps::default());
    let issues = drive(&args.input, reader, &pipeline, |row, processed, elapsed| {
        builder.add(
            &row.ticket,
            &processed.decision,
            Some(&row.labels),
            Some(elapsed),
            &Progress::default(),
        );
        if let Some(usage) = &processed.llm {
            builder.add_llm(usage);
        }
        results.push(processed.decision)?;
        Ok(())
    })
    .await?;
    results.finish()?;
    builder.incidents(incidents.all());
    let calls = zendesk.finish()?;
    let failed_sends = alerts.finish()?;
    mailbox.finish()?;

    let report = builder.finish(&issues, now_rfc3339(), args.input.display().to_string());
    write_json(&files.metrics, &report.metrics)?;
    std::fs::write(&files.report, html::render(&report))
        .with_context(|| format!("cannot write {}", files.report.display()))?;
    if report.metrics.tickets == 0 {
        bail!(
            "no usable ticket in {} ({} rows skipped); see the messages above",
            args.input.display(),
            report.metrics.input_rejected
        );
    }
    if !args.quiet {
        print_summary(
            &report,
            &files,
            Sent {
                calls,
                zendesk_live: zendesk.is_live(),
                channels: &channels.join(" + "),
                failed_sends,
            },
            args.demo_mode,
            started.elapsed(),
        );
    }
    Ok(())
}

/// The live integrations the environment configures; none in demo mode.
struct Integrations {
    zendesk: Option<HttpZendesk>,
    notifiers: Vec<Box<dyn Notifier>>,
    channels: Vec<&'static str>,
    /// An e-mail provider is among the notifiers.
    email: bool,
    classifier: Option<AnthropicClassifier>,
    mode: LlmMode,
}

impl Integrations {
    fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>, demo: bool) -> anyhow::Result<Self> {
        let mode = LlmMode::from_env(env)?;
        let classifier = match mode {
            LlmMode::Off => None,
            _ => AnthropicConfig::from_env(env)?.map(AnthropicClassifier::new),
        };
        let mut live = Self {
            zendesk: None,
            notifiers: Vec::new(),
            channels: Vec::new(),
            email: false,
            classifier,
            mode,
        };
        if demo {
            return Ok(live);
        }
        live.zendesk = ZendeskConfig::from_env(env)?.map(|mut c| {
            // On one machine a 429 is waited out (Lambda hands the message back instead).
            c.wait_on_throttle = Some(Duration::from_secs(120));
            HttpZendesk::new(c)
        });
        let channels = alert_channels(env)?;
        match channels.email {
            Some(EmailProvider::SendGrid(c)) => {
                live.notifiers.push(Box::new(SendGridNotifier::new(c)));
                live.channels.push("SendGrid");
                live.email = true;
            }
            Some(EmailProvider::Ses { .. }) => {
                bail!(
                    "EMAIL_PROVIDER=ses sends through Amazon SES from the AWS deployment; use SENDGRID_API_KEY here"
                )
            }
            None => {}
        }
        if let Some(url) = channels.slack_webhook_url {
            live.notifiers.push(Box::new(SlackNotifier::new(url)));
            live.channels.push("Slack");
        }
        Ok(live)
    }
}

/// What went out during the run.
struct Sent<'a> {
    calls: usize,
    zendesk_live: bool,
    channels: &'a str,
    failed_sends: u32,
}

fn print_summary(
    report: &Report,
    files: &OutputFiles,
    sent: Sent<'_>,
    demo: bool,
    elapsed: Duration,
) {
    let Sent {
        calls,
        zendesk_live,
        channels,
        failed_sends,
    } = sent;
    let m = &report.metrics;
    let n = m.tickets.max(1) as f64;
    let share = |c: u64| c as f64 * 100.0 / n;
    println!(
        "Triaged {} tickets from {} in {:.0} ms ({} rows skipped, {} warnings, {} not triaged){}",
        m.tickets,
        m.source,
        elapsed.as_secs_f64() * 1000.0,
        m.input_rejected,
        m.input_warnings,
        m.not_triaged,
        if demo {
            " [demo mode: Zendesk calls and alerts recorded, not sent]"
        } else {
            ""
        }
    );
    let prio: Vec<String> = Priority::ALL
        .iter()
        .map(|p| {
            let c = m.priority.get(p).copied().unwrap_or(0);
            let status = m.calibration.get(p).map_or("", |c| c.status);
            format!("{p} {c} ({:.0}%, {status})", share(c))
        })
        .collect();
    println!("  Priority     {}", prio.join(" · "));
    let teams: Vec<String> = m
        .teams
        .iter()
        .map(|(t, c)| format!("{} {c}", t.display_name()))
        .collect();
    println!("  Teams        {}", teams.join(" · "));
    println!(
        "  Guardian     {} alerts ({:.0}%) → {}",
        m.guardian_alerts,
        share(m.guardian_alerts),
        files.guardian.display()
    );
    println!(
        "  Opportunity  {} signals ({:.0}%) → {}",
        m.opportunity_signals,
        share(m.opportunity_signals),
        files.opportunity.display()
    );
    println!(
        "  Drafts       {} for P2/P3; {} ready to resolve ({:.0}% auto-resolution), {} auto-send candidates",
        m.drafts,
        m.auto_resolvable,
        m.auto_resolution_rate * 100.0,
        m.auto_send_candidates
    );
    println!(
        "  Zendesk      {calls} calls {} → {}",
        if zendesk_live { "sent" } else { "recorded" },
        files.zendesk.display()
    );
    println!(
        "  Alerts       via {channels}{}{}",
        if channels.contains("mailbox") {
            format!(" → {}", files.emails.join("alerts.mbox").display())
        } else {
            String::new()
        },
        if failed_sends > 0 {
            format!(" ({failed_sends} sends failed)")
        } else {
            String::new()
        }
    );
    if let Some(l) = &m.llm {
        println!(
            "  Model        asked for {} tickets ({:.0}%), {} answers used, {} fell back; {} tokens in, {} out, ${:.4}{}",
            l.consulted,
            l.consulted_share * 100.0,
            l.used,
            l.fallbacks,
            l.input_tokens + l.cache_read_input_tokens + l.cache_creation_input_tokens,
            l.output_tokens,
            l.cost_usd,
            if l.unpriced_calls > 0 {
                format!(
                    " (+ {} calls to a model without a known price)",
                    l.unpriced_calls
                )
            } else {
                String::new()
            }
        );
    }
    if let Some(a) = &m.agreement {
        println!(
            "  Agreement    priority exact {:.0}%, within one {:.0}% ({} labelled)",
            a.priority_exact * 100.0,
            a.priority_within_one * 100.0,
            a.labelled
        );
    }
    println!(
        "  Speed        {:.2} ms per ticket on average (p95 {} µs)",
        m.processing.avg_ms_per_ticket, m.processing.p95_us
    );
    println!("  Report       {}", files.report.display());
    println!("  Decisions    {}", files.results.display());
}

pub async fn eval(args: EvalArgs) -> anyhow::Result<()> {
    let loaded = load(&args.engine)?;
    let settings = PipelineSettings::default();
    let reader = TicketReader::open(
        &args.input,
        loaded.engine.policy.limits.max_description_chars,
    )?;
    if !reader.has_labels() {
        bail!(
            "{} has no actual_priority column: nothing to evaluate against",
            args.input.display()
        );
    }
    let sink = || JsonArrayWriter::new(Box::new(std::io::sink()));
    let zendesk = RecordingZendesk::new(sink());
    let alerts = LocalAlertSink::new(sink(), sink(), sink(), Vec::new());
    let store = MemoryTicketStore::for_run();
    // The engine is scored ticket by ticket: no incidents across tickets.
    let pipeline = Pipeline {
        engine: &loaded.engine,
        store: &store,
        zendesk: &zendesk,
        alerts: &alerts,
        accounts: &loaded.accounts,
        settings: &settings,
        llm: None,
        incidents: None,
    };
    let mut builder = ReportBuilder::new(&loaded.engine.policy, Caps::default());
    let issues = drive(&args.input, reader, &pipeline, |row, processed, _| {
        builder.add(
            &row.ticket,
            &processed.decision,
            Some(&row.labels),
            None,
            &Progress::default(),
        );
        Ok(())
    })
    .await?;
    let evaluation = builder.evaluation().clone();
    let report = evaluation.report();
    if report.labelled == 0 {
        bail!("no labelled ticket in {}", args.input.display());
    }
    if args.json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            input: String,
            #[serde(flatten)]
            report: &'a EvaluationReport,
            input_issues: &'a [InputIssue],
            #[serde(skip_serializing_if = "Option::is_none")]
            misses: Option<&'a [triage_shared::eval::Miss]>,
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&Out {
                input: args.input.display().to_string(),
                report: &report,
                input_issues: &issues,
                misses: args.misses.then_some(evaluation.misses.as_slice()),
            })?
        );
        return Ok(());
    }
    let rejected = issues
        .iter()
        .filter(|i| i.severity == Severity::Rejected)
        .count();
    println!(
        "Evaluated {} labelled tickets from {} ({rejected} rows skipped)",
        report.labelled,
        args.input.display()
    );
    print_evaluation(&report);
    if args.misses {
        println!("\nDisagreements:");
        for m in &evaluation.misses {
            println!(
                "  {:<10} {:<12} label {:<22} decided {}",
                m.ticket_id, m.field, m.expected, m.decided
            );
        }
    }
    Ok(())
}

/// Prints an evaluation for a person (`triage eval`, `triage learn`).
pub fn print_evaluation(r: &EvaluationReport) {
    println!(
        "Priority     exact {:.1}%   within one level {:.1}%",
        r.priority_exact * 100.0,
        r.priority_within_one * 100.0
    );
    println!(
        "Fires        P0 recall {:.2}   P0+P1 recall {:.2}   P0 decided P2/P3: {}   dangerous misses (P0/P1 decided 2+ levels lower): {}",
        r.p0_recall, r.p0_p1_recall, r.p0_decided_p2_or_lower, r.dangerous_misses
    );
    println!("  label\\decided   P0    P1    P2    P3   recall  precision  F1");
    for p in Priority::ALL {
        let row = r.confusion_matrix[p.index()];
        let s = r.per_priority.get(p).copied().unwrap_or_default();
        println!(
            "  {:<14} {:>4}  {:>4}  {:>4}  {:>4}   {:.2}    {:.2}       {:.2}",
            p.as_str(),
            row[0],
            row[1],
            row[2],
            row[3],
            s.recall,
            s.precision,
            s.f1
        );
    }
    if let Some(t) = &r.team {
        println!(
            "Team         accuracy {:.1}% ({} labelled)",
            t.accuracy * 100.0,
            t.labelled
        );
    }
    for (name, b) in [("Churn", &r.churn), ("Opportunity", &r.opportunity)] {
        if let Some(b) = b {
            println!(
                "{name:<12} precision {:.2}  recall {:.2}  F1 {:.2}  (TP {} FP {} FN {} TN {})",
                b.scores.precision,
                b.scores.recall,
                b.scores.f1,
                b.counts.true_positive,
                b.counts.false_positive,
                b.counts.false_negative,
                b.counts.true_negative
            );
        }
    }
    let v = &r.review;
    println!(
        "Confidence   expected calibration error {:.3}; {} flagged for review ({} of {} wrong priorities, {} of {} dangerous misses)",
        r.expected_calibration_error,
        v.flagged,
        v.wrong_priority_flagged,
        v.wrong_priority,
        v.dangerous_flagged,
        v.dangerous
    );
    if r.by_language.len() > 1 {
        let parts: Vec<String> = r
            .by_language
            .iter()
            .map(|(lang, l)| {
                format!(
                    "{lang} {} exact {:.1}%{}",
                    l.labelled,
                    l.priority_exact * 100.0,
                    l.team_accuracy
                        .map(|t| format!(" team {:.1}%", t * 100.0))
                        .unwrap_or_default()
                )
            })
            .collect();
        println!("Languages    {}", parts.join(" | "));
    }
}
