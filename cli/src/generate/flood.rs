//! `triage generate --flood`: one day of support traffic with platform outages hidden in
//! it, for measuring incident detection.
//!
//! The day is 3 November 2025 (UTC). A fixed set of accounts writes in, about a tenth of
//! them enterprise accounts; every ticket carries its account's name and MRR. Normal
//! traffic is drawn from the labelled corpus (`data/corpus/train`, never the blind set),
//! keeping each ticket's subject, description, channel and priority, and spread over the
//! day with most of it in business hours. Each outage is one failure family (order sync,
//! API, dashboard, payments, login, shipping labels) reported by 12 to 24 tickets from
//! different accounts over 20 to 90 minutes, most of them early; their text is assembled
//! from openings, symptoms, impact details, tones and closings the way different customers
//! describe the same failure, a few in German or French, and no two are alike. Outage
//! tickets carry their label (`outage-1`, `outage-2`, ... in order of time) in
//! `actual_incident`; normal tickets leave it empty. The same seed always gives the same
//! file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;

use super::{NAME_FIRST, NAME_SECOND, Rng};

/// Tickets in a flood file unless `--count` says otherwise.
pub(super) const DEFAULT_COUNT: u64 = 500;

/// The shape of the day (`--count` and `--seed` are shared with the load-test mode).
#[derive(Args)]
#[command(next_help_heading = "Flood (with --flood)")]
pub struct FloodArgs {
    /// Accounts writing in during the day.
    #[arg(long, value_name = "N", default_value_t = 80, requires = "flood")]
    pub accounts: usize,
    /// Platform outages hidden in the day's traffic.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "flood")]
    pub outages: usize,
    /// Directory of labelled CSVs the normal traffic is drawn from.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "data/corpus/train",
        requires = "flood"
    )]
    pub corpus: PathBuf,
}

/// The day the traffic falls on (UTC).
const DAY: &str = "2025-11-03";
const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
/// Outages start between 07:00 and 19:00, at least two hours apart.
const OUTAGE_FIRST_START: u64 = 7 * HOUR;
const OUTAGE_LAST_START: u64 = 19 * HOUR;
const OUTAGE_GAP: u64 = 2 * HOUR;
/// Tickets an outage produces, and how long they keep arriving.
const OUTAGE_TICKETS: (u64, u64) = (12, 24);
const OUTAGE_MINUTES: (u64, u64) = (20, 90);
/// Enterprise accounts' MRR, and everyone else's.
const ENTERPRISE_MRR: (u64, u64) = (15_000, 40_000);
const SMALL_MRR: (u64, u64) = (150, 8_000);

const HEADER: [&str; 9] = [
    "ticket_id",
    "customer_name",
    "subject",
    "description",
    "actual_priority",
    "channel",
    "timestamp",
    "mrr",
    "actual_incident",
];

/// Writes the flood file and reports it in one line on standard error.
pub(super) fn write(options: &FloodArgs, count: u64, seed: u64, out: &Path) -> anyhow::Result<()> {
    let flood = build(options, count, seed)?;
    std::fs::write(out, &flood.csv).with_context(|| format!("cannot write {}", out.display()))?;
    let outages = match flood.outage_sizes.as_slice() {
        [] => "no outages".to_owned(),
        [one] => format!("1 outage: {one} tickets"),
        sizes => format!(
            "{} outages: {} tickets",
            sizes.len(),
            sizes
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" + ")
        ),
    };
    eprintln!("wrote {count} tickets ({outages}) to {}", out.display());
    Ok(())
}

/// A flood file: the CSV, and how many tickets each outage produced (`outage-1` first).
struct Flood {
    csv: Vec<u8>,
    outage_sizes: Vec<usize>,
}

/// One row of the file before it is sorted and numbered.
struct Row {
    /// Seconds into the day.
    at: u64,
    customer: String,
    subject: String,
    description: String,
    priority: String,
    channel: String,
    mrr: u64,
    incident: String,
}

struct Account {
    name: String,
    mrr: u64,
    enterprise: bool,
    /// Who writes for the account, and their job.
    person: &'static str,
    role: &'static str,
}

/// The day's traffic as it is made: who writes, what the corpus offers, the rows so far
/// and the outage texts already used.
struct Traffic<'a> {
    accounts: &'a [Account],
    corpus: &'a [CorpusTicket],
    rows: Vec<Row>,
    written: HashSet<(String, String)>,
}

/// The corpus fields a normal ticket keeps.
struct CorpusTicket {
    subject: String,
    description: String,
    priority: String,
    channel: String,
}

fn build(options: &FloodArgs, count: u64, seed: u64) -> anyhow::Result<Flood> {
    let names = NAME_FIRST.len() * NAME_SECOND.len();
    if options.accounts == 0 || options.accounts > names {
        bail!("--accounts must be between 1 and {names}");
    }
    if options.outages > FAMILIES.len() {
        bail!(
            "--outages must be at most {} (one per failure family)",
            FAMILIES.len()
        );
    }
    let max_outage = OUTAGE_TICKETS.1;
    if options.outages > 0 && (options.accounts as u64) < max_outage {
        bail!(
            "--accounts must be at least {max_outage} with outages (an outage reaches up to {max_outage} accounts)"
        );
    }
    let needed = options.outages as u64 * max_outage;
    if count < needed {
        bail!(
            "--count must be at least {needed} for {} outages",
            options.outages
        );
    }
    let corpus = read_corpus(&options.corpus)?;

    let mut rng = Rng(scramble(seed));
    let accounts = accounts(&mut rng, options.accounts);
    let mut traffic = Traffic {
        accounts: &accounts,
        corpus: &corpus,
        rows: Vec::with_capacity(count as usize),
        written: HashSet::new(),
    };
    let mut outage_sizes = Vec::with_capacity(options.outages);
    let mut families: Vec<&Family> = FAMILIES.iter().collect();
    rng.shuffle(&mut families);
    for (i, (start, family)) in outage_starts(&mut rng, options.outages)
        .into_iter()
        .zip(families)
        .enumerate()
    {
        let label = format!("outage-{}", i + 1);
        let before = traffic.rows.len();
        outage(&mut rng, &mut traffic, family, start, &label)?;
        outage_sizes.push(traffic.rows.len() - before);
    }
    let normal = count - traffic.rows.len() as u64;
    normal_traffic(&mut rng, &mut traffic, normal);

    let mut rows = traffic.rows;
    // Stable: tickets written in the same second keep the order they were made in.
    rows.sort_by_key(|r| r.at);
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER)?;
    for (i, row) in rows.into_iter().enumerate() {
        out.write_record([
            format!("F-{:04}", i + 1),
            row.customer,
            row.subject,
            row.description,
            row.priority,
            row.channel,
            timestamp(row.at),
            row.mrr.to_string(),
            row.incident,
        ])?;
    }
    let csv = out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Flood { csv, outage_sizes })
}

/// splitmix64, so that neighbouring seeds start the generator far apart.
fn scramble(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).max(1)
}

/// RFC 3339, UTC: `2025-11-03T09:14:27Z`.
fn timestamp(at: u64) -> String {
    format!(
        "{DAY}T{:02}:{:02}:{:02}Z",
        at / HOUR,
        at / MINUTE % 60,
        at % MINUTE
    )
}

/// The labelled corpus's tickets, every `*.csv` in `dir` in name order.
fn read_corpus(dir: &Path) -> anyhow::Result<Vec<CorpusTicket>> {
    let resolved = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    if resolved.components().any(|c| c.as_os_str() == "blind") {
        bail!(
            "{} is a blind set: it is measured once and never used to make tickets",
            dir.display()
        );
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "csv") {
            files.push(path);
        }
    }
    files.sort();
    let mut tickets = Vec::new();
    for file in &files {
        let mut reader = csv::Reader::from_path(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let headers = reader.headers()?.clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .with_context(|| format!("{} has no `{name}` column", file.display()))
        };
        let columns = [
            column("subject")?,
            column("description")?,
            column("actual_priority")?,
            column("channel")?,
        ];
        for record in reader.records() {
            let record = record.with_context(|| format!("cannot read {}", file.display()))?;
            let [subject, description, priority, channel] =
                columns.map(|c| record.get(c).unwrap_or_default().to_owned());
            tickets.push(CorpusTicket {
                subject,
                description,
                priority,
                channel,
            });
        }
    }
    if tickets.is_empty() {
        bail!("no tickets in {} (*.csv)", dir.display());
    }
    Ok(tickets)
}

/// `n` distinct company names, about a tenth of them enterprise accounts.
fn accounts(rng: &mut Rng, n: usize) -> Vec<Account> {
    let mut pairs: Vec<usize> = (0..NAME_FIRST.len() * NAME_SECOND.len()).collect();
    rng.shuffle(&mut pairs);
    let mut seen = HashSet::new();
    let names: Vec<String> = pairs
        .into_iter()
        .map(|p| {
            format!(
                "{} {}",
                NAME_FIRST[p / NAME_SECOND.len()],
                NAME_SECOND[p % NAME_SECOND.len()]
            )
        })
        .filter(|name| seen.insert(name.clone()))
        .take(n)
        .collect();
    let enterprise = n.div_ceil(10);
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let (range, step) = if i < enterprise {
                (ENTERPRISE_MRR, 500)
            } else {
                (SMALL_MRR, 10)
            };
            let mrr = range.0 + rng.below((range.1 - range.0) / step + 1) * step;
            Account {
                name,
                mrr,
                enterprise: i < enterprise,
                person: PEOPLE[i % PEOPLE.len()],
                role: ROLES[(i / PEOPLE.len() + i) % ROLES.len()],
            }
        })
        .collect()
}

/// `n` start times between 07:00 and 19:00, in order and at least two hours apart.
fn outage_starts(rng: &mut Rng, n: usize) -> Vec<u64> {
    let Some(gaps) = (n as u64).checked_sub(1) else {
        return Vec::new();
    };
    let slack = (OUTAGE_LAST_START - OUTAGE_FIRST_START).saturating_sub(gaps * OUTAGE_GAP);
    let mut points: Vec<u64> = (0..n).map(|_| rng.below(slack + 1)).collect();
    points.sort_unstable();
    points
        .into_iter()
        .enumerate()
        .map(|(i, p)| OUTAGE_FIRST_START + p + i as u64 * OUTAGE_GAP)
        .collect()
}

/// Tickets drawn from the corpus without replacement (while it lasts), from random
/// accounts, 70 % of them between 08:00 and 18:00.
fn normal_traffic(rng: &mut Rng, traffic: &mut Traffic, n: u64) {
    let Traffic {
        accounts, corpus, ..
    } = *traffic;
    let mut order: Vec<usize> = Vec::new();
    for _ in 0..n {
        if order.is_empty() {
            order = (0..corpus.len()).collect();
            rng.shuffle(&mut order);
        }
        let ticket = &corpus[order.pop().unwrap_or_default()];
        let account = &accounts[rng.below(accounts.len() as u64) as usize];
        let at = if rng.below(10) < 7 {
            8 * HOUR + rng.below(10 * HOUR)
        } else {
            let quiet = rng.below(14 * HOUR);
            if quiet < 8 * HOUR {
                quiet
            } else {
                quiet + 10 * HOUR
            }
        };
        traffic.rows.push(Row {
            at,
            customer: account.name.clone(),
            subject: ticket.subject.clone(),
            description: ticket.description.clone(),
            priority: ticket.priority.clone(),
            channel: ticket.channel.clone(),
            mrr: account.mrr,
            incident: String::new(),
        });
    }
}

/// One outage's tickets: distinct accounts (the first few to write may write again later),
/// front-loaded over 20 to 90 minutes from `start`.
fn outage(
    rng: &mut Rng,
    traffic: &mut Traffic,
    family: &'static Family,
    start: u64,
    label: &str,
) -> anyhow::Result<()> {
    let Traffic {
        accounts, corpus, ..
    } = *traffic;
    let n = rng.between(OUTAGE_TICKETS.0, OUTAGE_TICKETS.1) as usize;
    let repeats = rng.below(3) as usize;
    let distinct = n - repeats;
    let mut pool: Vec<usize> = (0..accounts.len()).collect();
    rng.shuffle(&mut pool);
    let writers = &pool[..distinct];
    let mut sequence: Vec<(usize, bool)> = writers.iter().map(|&a| (a, false)).collect();
    let mut again = Vec::new();
    while again.len() < repeats {
        let account = writers[rng.below(distinct as u64 / 2) as usize];
        if again.contains(&account) {
            continue;
        }
        again.push(account);
        let first = sequence
            .iter()
            .position(|s| *s == (account, false))
            .unwrap_or_default();
        let at = first + 1 + rng.below((sequence.len() - first) as u64) as usize;
        sequence.insert(at, (account, true));
    }
    // One arrival per equal slice of [0, 1), squared: about 70 % in the first half.
    let span = rng.between(OUTAGE_MINUTES.0, OUTAGE_MINUTES.1) * MINUTE;
    let began = start.saturating_sub(rng.below(15 * MINUTE));
    for (j, (account, follow_up)) in sequence.into_iter().enumerate() {
        let u = (j as f64 + rng.unit()) / n as f64;
        let at = start + (span as f64 * u * u) as u64;
        let remembered = began + rng.below(11 * MINUTE);
        let report = Report {
            family,
            account: &accounts[account],
            channel: &corpus[rng.below(corpus.len() as u64) as usize].channel,
            at,
            since: remembered.saturating_sub(5 * MINUTE).min(at),
            follow_up,
        };
        let mut tries = 0;
        let (subject, description) = loop {
            let text = compose(rng, &report);
            if traffic.written.insert(text.clone()) {
                break text;
            }
            tries += 1;
            if tries == 100 {
                bail!("cannot vary the text of {label} enough");
            }
        };
        traffic.rows.push(Row {
            at,
            customer: report.account.name.clone(),
            subject,
            description,
            priority: if rng.below(4) == 0 { "P0" } else { "P1" }.to_owned(),
            channel: report.channel.to_owned(),
            mrr: report.account.mrr,
            incident: label.to_owned(),
        });
    }
    Ok(())
}

/// One outage ticket's circumstances: what fails, who writes, when and how.
struct Report<'a> {
    family: &'static Family,
    account: &'a Account,
    channel: &'a str,
    /// When the ticket arrives, and when its writer says the failure began.
    at: u64,
    since: u64,
    /// The account wrote about this outage before.
    follow_up: bool,
}

/// A subject and a description for one outage ticket. Phone tickets are the agent's call
/// notes and API tickets a partner integration's form, both in English; the others are
/// written by the customer, one in eight in German or French.
fn compose(rng: &mut Rng, report: &Report) -> (String, String) {
    match report.channel {
        "phone" => call_note(rng, report),
        "api" => api_form(rng, report),
        _ => match rng.below(16) {
            0 => local(rng, report, &report.family.de, &GERMAN),
            1 => local(rng, report, &report.family.fr, &FRENCH),
            _ => english(rng, report),
        },
    }
}

#[derive(Clone, Copy)]
enum Lang {
    En,
    De,
    Fr,
}

/// Replaces the placeholders of a fragment: `{since}` (when it began), `{later}` (a time
/// later in the day), `{n}` (orders, payments, calls), `{people}`, `{store}`, `{amount}`.
fn fill(rng: &mut Rng, template: &str, report: &Report, lang: Lang) -> String {
    let mut text = template.to_owned();
    if text.contains("{since}") {
        let since = if rng.below(2) == 0 {
            report.since / (5 * MINUTE) * (5 * MINUTE)
        } else {
            report.since
        };
        text = text.replace("{since}", &clock(rng, since, lang));
    }
    if text.contains("{later}") {
        let later = (report.at + rng.between(30, 150) * MINUTE) / (15 * MINUTE) * (15 * MINUTE);
        text = text.replace("{later}", &clock(rng, later, lang));
    }
    let enterprise = report.account.enterprise;
    let n = if enterprise {
        rng.between(40, 600)
    } else {
        rng.between(3, 80)
    };
    if text.contains("{amount}") {
        let amount = n * rng.between(25, 140);
        text = text.replace("{amount}", &money(rng, amount));
    }
    if text.contains("{people}") {
        let people = if enterprise {
            rng.between(6, 40)
        } else {
            rng.between(2, 9)
        };
        text = text.replace("{people}", &people.to_string());
    }
    if text.contains("{store}") {
        text = text.replace("{store}", &store(rng, &report.account.name));
    }
    text.replace("{n}", &n.to_string())
}

/// One of `items`, placeholders filled.
fn fragment(rng: &mut Rng, items: &[&str], report: &Report, lang: Lang) -> String {
    let template = rng.pick(items);
    fill(rng, template, report, lang)
}

/// A time of day the way people write it.
fn clock(rng: &mut Rng, at: u64, lang: Lang) -> String {
    let (h, m) = (at / HOUR, at / MINUTE % 60);
    match (lang, rng.below(4)) {
        (Lang::En, 0) => format!("{h:02}:{m:02}"),
        (Lang::En, 1) => format!("{h}:{m:02}"),
        (Lang::En, 2) => {
            let (h12, half) = match h {
                0 => (12, "am"),
                1..=11 => (h, "am"),
                12 => (12, "pm"),
                _ => (h - 12, "pm"),
            };
            if m == 0 {
                format!("{h12}{half}")
            } else {
                format!("{h12}:{m:02}{half}")
            }
        }
        (Lang::En, _) => format!("{h:02}:{m:02} UTC"),
        (Lang::De, 0 | 1) => format!("{h}:{m:02} Uhr"),
        (Lang::Fr, 0 | 1) => format!("{h}h{m:02}"),
        (Lang::De | Lang::Fr, _) => format!("{h:02}:{m:02}"),
    }
}

fn money(rng: &mut Rng, amount: u64) -> String {
    let digits = amount.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match rng.below(3) {
        0 => format!("€{grouped}"),
        1 => format!("${grouped}"),
        _ => format!("{grouped} EUR"),
    }
}

/// How a customer names one of their stores.
fn store(rng: &mut Rng, account: &str) -> String {
    let slug: String = account
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    match rng.below(5) {
        0 => format!("{slug}.com"),
        1 => format!("{account} EU"),
        2 => format!("the {account} UK store"),
        3 => format!("{account} Wholesale"),
        _ => account.to_owned(),
    }
}

/// The sentence with its first letter in lower case, unless it starts with a name or an
/// acronym (`Stripe`, `API`, `I`).
fn lower_first(sentence: &str) -> String {
    let word = sentence.split_whitespace().next().unwrap_or_default();
    let acronym = word.chars().nth(1).is_some_and(char::is_uppercase);
    let name = ["I", "I've", "I'm", "Stripe", "Shopify", "Google", "Okta"].contains(&word);
    let mut chars = sentence.chars();
    match chars.next() {
        Some(c) if !acronym && !name => c.to_lowercase().chain(chars).collect(),
        _ => sentence.to_owned(),
    }
}

/// Chat style: all lower case, no final full stop.
fn terse(sentence: &str) -> String {
    sentence.trim_end_matches('.').to_lowercase()
}

enum Tone {
    Calm,
    Annoyed,
    Terse,
}

fn english(rng: &mut Rng, report: &Report) -> (String, String) {
    let family = report.family;
    let roll = rng.below(100);
    let tone = match report.channel {
        "chat" if roll < 60 => Tone::Terse,
        "chat" if roll < 80 => Tone::Calm,
        "chat" => Tone::Annoyed,
        _ if roll < 55 => Tone::Calm,
        _ if roll < 90 => Tone::Annoyed,
        _ => Tone::Terse,
    };
    let subject = fragment(rng, family.subjects, report, Lang::En);
    let symptom = fragment(rng, family.symptoms, report, Lang::En);
    let impact = fragment(rng, family.impacts, report, Lang::En);
    let account = &report.account;

    if let Tone::Terse = tone {
        let subject = if report.follow_up {
            format!(
                "{} {}",
                rng.pick(&["still:", "again:", "re:"]),
                terse(&subject)
            )
        } else {
            terse(&subject)
        };
        let opening = if report.follow_up {
            format!("{} - ", rng.pick(TERSE_FOLLOW_UPS))
        } else {
            rng.pick(TERSE_OPENINGS).to_owned()
        };
        let impact = if rng.below(2) == 0 {
            format!(" {}", terse(&impact))
        } else {
            String::new()
        };
        let separator = rng.pick(&[" ", "\n", " .. "]);
        let ask = rng.pick(TERSE_ASKS);
        return (
            subject,
            format!("{opening}{}{impact}{separator}{ask}", terse(&symptom)),
        );
    }

    let annoyed = matches!(tone, Tone::Annoyed);
    let subject = if report.follow_up {
        format!("{}{subject}", rng.pick(FOLLOW_UP_SUBJECTS))
    } else if annoyed && rng.below(2) == 0 {
        match rng.below(4) {
            0 => format!("URGENT: {subject}"),
            1 => format!("{subject}!!"),
            2 => format!("{subject} - AGAIN"),
            _ => subject.to_uppercase(),
        }
    } else if report.channel == "email" && rng.below(6) == 0 {
        format!("[{}] {subject}", account.name)
    } else {
        subject
    };
    let lead = if report.follow_up {
        rng.pick(FOLLOW_UP_LEADS)
    } else if annoyed {
        rng.pick(ANNOYED_LEADS)
    } else {
        rng.pick(CALM_LEADS)
    };
    let sentence_ends = [". ", "! ", "? "];
    let symptom = if lead.is_empty() || sentence_ends.iter().any(|end| lead.ends_with(end)) {
        symptom
    } else {
        lower_first(&symptom)
    };
    let mut problem = format!("{lead}{symptom}");
    if rng.below(5) > 0 {
        problem = format!("{problem} {impact}");
    }
    if annoyed && rng.below(10) < 7 {
        problem = format!("{problem} {}", rng.pick(ANNOYED_EXTRAS));
    }
    let ask = rng.pick(ASKS);
    let greeting = match rng.pick(GREETINGS) {
        "Good morning," if report.at >= 12 * HOUR => "Good afternoon,",
        g => g,
    };
    let closing = rng.pick(if annoyed {
        ANNOYED_CLOSINGS
    } else {
        CALM_CLOSINGS
    });
    let signature = match rng.below(6) {
        0 => account.person.to_owned(),
        1 => format!("{}\n{}, {}", account.person, account.role, account.name),
        2 => format!("{} | {}", account.person, account.name),
        3 => format!("{} ({})", account.person, account.name),
        4 => format!("{}\n\nSent from my iPhone", account.person),
        _ => format!(
            "-- \n{}\n{}\n{}",
            account.person, account.role, account.name
        ),
    };
    let description = match rng.below(3) {
        0 => format!("{greeting}\n\n{problem}\n\n{ask}\n\n{closing}\n{signature}"),
        1 => format!("{greeting} {problem} {ask}\n\n{closing}\n{signature}"),
        _ => format!("{problem}\n{ask}\n\n{signature}"),
    };
    (subject, description)
}

/// The agent's notes of a phone call.
fn call_note(rng: &mut Rng, report: &Report) -> (String, String) {
    let family = report.family;
    let account = &report.account;
    let subject = fragment(rng, family.subjects, report, Lang::En);
    let symptom = fragment(rng, family.symptoms, report, Lang::En);
    let impact = fragment(rng, family.impacts, report, Lang::En);
    let time = format!("{:02}:{:02}", report.at / HOUR, report.at / MINUTE % 60);
    let opener = match rng.below(3) {
        0 => format!(
            "Inbound call from {} ({}, {}), {time}.",
            account.person, account.role, account.name
        ),
        1 => format!(
            "Call with {} from {} ({}), about {} min.",
            account.person,
            account.name,
            account.role,
            rng.between(3, 15)
        ),
        _ => format!("{} ({}) called at {time}.", account.person, account.name),
    };
    let symptom = symptom.replace('"', "'");
    let quote = match rng.below(4) {
        0 => format!("Says: \"{symptom}\""),
        1 => format!("In their words: \"{symptom}\""),
        2 => format!("{}: \"{symptom}\"", account.person),
        _ => format!("Reports: \"{symptom}\""),
    };
    let again = if report.follow_up {
        "- Already wrote in about this earlier today.\n"
    } else {
        ""
    };
    let subject = format!("{}{subject}", rng.pick(CALL_SUBJECTS));
    let description = format!(
        "{opener}\n\n{again}- {quote}\n- {impact}\n- {}\n\n{}",
        rng.pick(CALL_WANTS),
        rng.pick(CALL_NOTES)
    );
    (subject, description)
}

/// A partner integration's structured ticket through the support API.
fn api_form(rng: &mut Rng, report: &Report) -> (String, String) {
    let family = report.family;
    let subject = fragment(rng, family.subjects, report, Lang::En);
    let symptom = fragment(rng, family.symptoms, report, Lang::En);
    let impact = fragment(rng, family.impacts, report, Lang::En);
    let slug: String = report
        .account
        .name
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let integration = format!(
        "{slug}{}",
        rng.pick(&["-sync", "-erp-bridge", "-ops-bot", "-connector"])
    );
    let since = clock(rng, report.since, Lang::En);
    let again = if report.follow_up {
        "Follow-up to our earlier ticket: still failing.\n\n"
    } else {
        ""
    };
    let description = format!(
        "Submitted via support API by integration \"{integration}\"\n\n{again}Problem: {symptom}\nImpact: {impact}\nFirst seen: {since}\n{}",
        rng.pick(ASKS)
    );
    (format!("[api] {subject}"), description)
}

/// A ticket in German or French.
fn local(rng: &mut Rng, report: &Report, family: &Local, tongue: &Tongue) -> (String, String) {
    let subject = fragment(rng, family.subjects, report, tongue.lang);
    let symptom = fragment(rng, family.symptoms, report, tongue.lang);
    let impact = fragment(rng, family.impacts, report, tongue.lang);
    let ask = rng.pick(tongue.asks);
    let subject = if report.follow_up {
        format!("{}{subject}", tongue.reply)
    } else {
        subject
    };
    let again = if report.follow_up {
        rng.pick(tongue.follow_ups)
    } else {
        ""
    };
    if report.channel == "chat" && rng.below(2) == 0 {
        let description = format!("{}{} {}", terse(again), terse(&symptom), terse(ask));
        return (terse(&subject), description);
    }
    let problem = if rng.below(10) < 7 {
        format!("{again}{symptom} {impact}")
    } else {
        format!("{again}{symptom}")
    };
    let description = format!(
        "{}\n\n{problem}\n\n{ask}\n\n{}\n{}",
        rng.pick(tongue.greetings),
        rng.pick(tongue.closings),
        report.account.person
    );
    (subject, description)
}

/// A failure the platform can have, and the ways customers describe it. Fragments may
/// hold the placeholders of [`fill`].
struct Family {
    subjects: &'static [&'static str],
    symptoms: &'static [&'static str],
    impacts: &'static [&'static str],
    de: Local,
    fr: Local,
}

/// A family's fragments in another language.
struct Local {
    subjects: &'static [&'static str],
    symptoms: &'static [&'static str],
    impacts: &'static [&'static str],
}

/// The phrases around a ticket in another language.
struct Tongue {
    lang: Lang,
    greetings: &'static [&'static str],
    asks: &'static [&'static str],
    closings: &'static [&'static str],
    follow_ups: &'static [&'static str],
    /// The subject prefix of a reply.
    reply: &'static str,
}

const FAMILIES: &[Family] = &[
    // Orders slow / delayed to sync from Shopify.
    Family {
        subjects: &[
            "Shopify orders not syncing",
            "Orders delayed from Shopify",
            "Order sync stuck?",
            "New orders missing in dashboard",
            "Sync lag on Shopify orders",
            "Orders from this morning not showing up",
            "Shopify import very slow today",
            "Missing orders since {since}",
            "Order sync delayed",
            "Orders taking ages to come through",
        ],
        symptoms: &[
            "New Shopify orders are taking a very long time to show up in the dashboard.",
            "Our Shopify orders stopped syncing around {since}, the last one that came through is from before that.",
            "Orders placed on Shopify are arriving in your app 30-40 minutes late, some not at all.",
            "The order sync seems stuck: Shopify shows new orders but your order list hasn't moved since {since}.",
            "The sync status page says \"syncing\" forever and new orders never arrive.",
            "Orders from our Shopify store are coming in with a huge delay today.",
            "Since about {since} none of our new Shopify orders have been imported.",
            "I pressed \"sync now\" three times, nothing happens, the orders just aren't coming over from Shopify.",
            "Fulfilment can't see today's orders because they still haven't synced from Shopify.",
        ],
        impacts: &[
            "We have {n} orders in Shopify that aren't in the dashboard yet.",
            "That's about {n} orders on {store} waiting to be picked.",
            "Our warehouse team is sitting idle, {n} orders are stuck.",
            "Same on both our stores ({store} and the wholesale one).",
            "Customers are already emailing to ask where their orders are.",
            "{n} orders since {since} and not one of them has synced.",
        ],
        de: Local {
            subjects: &[
                "Bestellungen werden nicht synchronisiert",
                "Shopify-Sync hängt",
                "Neue Bestellungen fehlen",
            ],
            symptoms: &[
                "Seit ca. {since} kommen unsere Shopify-Bestellungen nicht mehr im Dashboard an.",
                "Die Synchronisation mit Shopify ist heute extrem langsam, neue Bestellungen fehlen.",
                "Der Bestellabgleich mit Shopify hängt seit {since}.",
                "Bestellungen aus Shopify tauchen erst nach einer halben Stunde oder gar nicht auf.",
            ],
            impacts: &[
                "Es sind schon {n} Bestellungen offen.",
                "Unser Lager wartet auf {n} Bestellungen.",
            ],
        },
        fr: Local {
            subjects: &[
                "Commandes Shopify non synchronisées",
                "Retard de synchronisation des commandes",
                "Commandes manquantes",
            ],
            symptoms: &[
                "Depuis {since} environ, nos commandes Shopify n'arrivent plus dans le tableau de bord.",
                "La synchronisation des commandes avec Shopify est très lente aujourd'hui.",
                "Les nouvelles commandes Shopify n'apparaissent pas, la synchro semble bloquée.",
                "Les commandes arrivent avec 30 à 40 minutes de retard, certaines pas du tout.",
            ],
            impacts: &[
                "Nous avons déjà {n} commandes en attente.",
                "L'entrepôt attend {n} commandes.",
            ],
        },
    },
    // Webhooks / API returning 502 and timing out.
    Family {
        subjects: &[
            "Webhooks failing with 502",
            "API returning 502 Bad Gateway",
            "502 errors on the orders endpoint",
            "API timeouts",
            "Webhook deliveries failing",
            "Bad gateway from your API",
            "Is the API down?",
            "Requests timing out since {since}",
            "Our integration keeps getting 502s",
        ],
        symptoms: &[
            "Every call to your API has returned 502 Bad Gateway since {since}.",
            "Webhook deliveries to our endpoint are failing; your delivery log shows 502 and timeouts.",
            "Our requests to /v2/orders time out after 30 seconds or come back with a 502.",
            "We're getting intermittent 502s from the API, roughly every other request.",
            "Webhooks have stopped arriving and the retries in the log all say \"gateway timeout\".",
            "Our ERP connector can't reach your API, it logs 502 Bad Gateway on every attempt.",
            "POST requests to the API hang and then fail with a 502 after a long wait.",
            "Since {since} our webhook listener hasn't received a single event, and calling the API directly gives a 502.",
            "The API check in our monitoring went red at {since}: 502 responses and timeouts.",
        ],
        impacts: &[
            "{n} order updates have failed to reach our warehouse system so far.",
            "Our retry queue has {n} failed requests in it.",
            "Nothing is flowing from {store} to our ERP right now.",
            "Roughly {n} failed calls in our logs since {since}.",
            "Our developers checked, nothing changed on our side.",
            "Stock levels on {store} are going stale because the updates don't get through.",
        ],
        de: Local {
            subjects: &[
                "API liefert 502",
                "Webhooks schlagen fehl",
                "Zeitüberschreitung bei der API",
            ],
            symptoms: &[
                "Seit {since} liefert eure API nur noch 502 Bad Gateway.",
                "Unsere Webhooks kommen nicht mehr an, im Log stehen nur Timeouts und 502.",
                "Jede Anfrage an die API läuft in einen Timeout.",
                "Unser ERP-Connector erreicht die API nicht mehr, Fehler 502 bei jedem Versuch.",
            ],
            impacts: &[
                "Bisher sind {n} Aufrufe fehlgeschlagen.",
                "In unserer Warteschlange hängen {n} fehlgeschlagene Anfragen.",
            ],
        },
        fr: Local {
            subjects: &[
                "L'API renvoie des erreurs 502",
                "Webhooks en échec",
                "Timeouts sur l'API",
            ],
            symptoms: &[
                "Depuis {since}, votre API renvoie des erreurs 502 Bad Gateway.",
                "Nos webhooks ne sont plus livrés, le journal n'affiche que des 502 et des timeouts.",
                "Toutes nos requêtes vers l'API expirent.",
                "Notre connecteur ERP n'arrive plus à joindre l'API, erreur 502 à chaque tentative.",
            ],
            impacts: &[
                "{n} appels ont déjà échoué.",
                "Nous avons {n} requêtes en échec dans notre file d'attente.",
            ],
        },
    },
    // Dashboard / reports not loading, spinning.
    Family {
        subjects: &[
            "Dashboard not loading",
            "Reports stuck on spinner",
            "Can't open reports",
            "Dashboard just spins",
            "Analytics page blank",
            "Reports won't load today",
            "Dashboard down?",
            "Loading forever",
            "Revenue report not loading",
        ],
        symptoms: &[
            "The dashboard just shows the loading spinner and never finishes.",
            "None of the reports have loaded since {since}; the page stays blank with a spinner.",
            "Opening the revenue report ends with \"Something went wrong, please try again\" after a minute of spinning.",
            "The dashboard loads the menu but every chart keeps spinning.",
            "I've tried Chrome, Safari and an incognito window, the reports still won't load.",
            "The analytics page is stuck on \"Loading data...\" for everyone on our team.",
            "Since about {since} the dashboard times out, we can't see any numbers.",
            "Our morning report page won't load at all, it was fine yesterday.",
            "Every report tab spins for a while and then shows an empty state.",
        ],
        impacts: &[
            "We have a trading meeting at {later} and need the numbers.",
            "{people} people on our team are blocked by this.",
            "We can't check yesterday's sales for {store} at all.",
            "Our ad budget decisions for today depend on these reports.",
            "Cleared cache and cookies, logged out and in again, no difference.",
            "Our agency needs the weekly report for {store} by {later}.",
        ],
        de: Local {
            subjects: &[
                "Dashboard lädt nicht",
                "Berichte laden nicht",
                "Ladekreisel im Dashboard",
            ],
            symptoms: &[
                "Das Dashboard zeigt seit {since} nur noch den Ladekreisel.",
                "Keiner unserer Berichte lädt, die Seite bleibt leer.",
                "Die Auswertungen laden ewig und brechen dann mit einem Fehler ab.",
                "Menü ist da, aber alle Diagramme drehen sich endlos.",
            ],
            impacts: &[
                "{people} Kollegen können gerade nicht arbeiten.",
                "Wir brauchen die Zahlen für ein Meeting um {later}.",
            ],
        },
        fr: Local {
            subjects: &[
                "Le tableau de bord ne charge pas",
                "Rapports inaccessibles",
                "Chargement infini",
            ],
            symptoms: &[
                "Le tableau de bord tourne en boucle depuis {since}.",
                "Aucun rapport ne se charge, la page reste blanche.",
                "Les rapports chargent indéfiniment puis affichent une erreur.",
                "Le menu s'affiche mais tous les graphiques restent en chargement.",
            ],
            impacts: &[
                "{people} personnes de l'équipe sont bloquées.",
                "Nous avons besoin des chiffres pour une réunion à {later}.",
            ],
        },
    },
    // Payment / Stripe reconciliation events missing.
    Family {
        subjects: &[
            "Stripe payments missing",
            "Reconciliation doesn't match Stripe",
            "Payment events not showing",
            "Missing Stripe transactions today",
            "Payouts not reconciling",
            "Stripe charges not imported",
            "Gap in payment data",
            "Payments from this morning missing",
            "Stripe sync broken?",
        ],
        symptoms: &[
            "Stripe payments from today are missing in the reconciliation view.",
            "Since {since} no new Stripe charges appear in your payments report, but Stripe shows them fine.",
            "The reconciliation is off: Stripe has payments that your app doesn't have at all.",
            "Payment events stopped coming through from Stripe around {since}.",
            "Orders show as \"unpaid\" in your app although Stripe captured the payment.",
            "The payouts screen is missing all of today's charges after {since}.",
            "Refunds and charges from Stripe are not being imported, the last event is from {since}.",
            "Our finance team found a gap in the Stripe transactions starting around {since}.",
            "Stripe shows the webhooks as delivered but nothing turns up in the reconciliation.",
        ],
        impacts: &[
            "That's {n} payments, roughly {amount}, that don't reconcile.",
            "Our finance team can't close yesterday's books.",
            "{n} orders on {store} are flagged as unpaid and customers are getting payment reminders.",
            "The difference to Stripe is {amount} so far.",
            "We haven't changed anything in our Stripe settings.",
            "{n} charges are missing, worth about {amount}.",
        ],
        de: Local {
            subjects: &[
                "Stripe-Zahlungen fehlen",
                "Abgleich mit Stripe stimmt nicht",
                "Zahlungsereignisse fehlen",
            ],
            symptoms: &[
                "Seit {since} tauchen keine neuen Stripe-Zahlungen mehr im Abgleich auf.",
                "In Stripe sind die Zahlungen da, bei euch fehlen sie.",
                "Bestellungen stehen als unbezahlt, obwohl Stripe die Zahlung erfasst hat.",
                "Der Zahlungsabgleich hat seit {since} eine Lücke.",
            ],
            impacts: &[
                "Es fehlen bereits {n} Zahlungen.",
                "{n} Kunden haben schon eine Zahlungserinnerung bekommen.",
            ],
        },
        fr: Local {
            subjects: &[
                "Paiements Stripe manquants",
                "Rapprochement Stripe incorrect",
                "Événements de paiement absents",
            ],
            symptoms: &[
                "Depuis {since}, les paiements Stripe n'apparaissent plus dans le rapprochement.",
                "Les paiements sont bien dans Stripe mais pas chez vous.",
                "Des commandes sont marquées impayées alors que Stripe a encaissé.",
                "Il y a un trou dans les transactions Stripe depuis {since}.",
            ],
            impacts: &[
                "Il manque déjà {n} paiements.",
                "{n} clients ont reçu une relance de paiement par erreur.",
            ],
        },
    },
    // Login / SSO sign-in failing.
    Family {
        subjects: &[
            "Can't log in",
            "Login broken",
            "SSO sign-in failing",
            "Locked out of the app",
            "Login page error",
            "Nobody on the team can sign in",
            "Login loop",
            "Sign-in error since {since}",
            "Can't access our account",
        ],
        symptoms: &[
            "Nobody on our team has been able to log in since {since}, the login page just reloads.",
            "Signing in with Google SSO ends on an error page saying \"authentication failed\".",
            "After entering the password the app spins and sends me back to the login screen.",
            "We get \"Internal server error\" right after the SSO redirect.",
            "I'm stuck in a login loop: login, redirect, login page again.",
            "The password reset email arrives, but setting a new password fails with an error.",
            "Our staff got logged out around {since} and can't get back in.",
            "Login with Okta fails every time, it worked fine before {since}.",
            "The 2FA code is accepted and then the page says the session expired.",
        ],
        impacts: &[
            "{people} of our agents can't work right now.",
            "Our whole support team for {store} is locked out.",
            "We can't process returns or refunds without access.",
            "Tried different browsers and devices, same result.",
            "{n} customer emails are piling up that we can't answer.",
        ],
        de: Local {
            subjects: &[
                "Login funktioniert nicht",
                "Anmeldung per SSO schlägt fehl",
                "Kein Zugang mehr",
            ],
            symptoms: &[
                "Seit {since} kann sich bei uns niemand mehr anmelden.",
                "Die SSO-Anmeldung endet mit einer Fehlerseite.",
                "Nach dem Login lande ich immer wieder auf der Anmeldeseite.",
                "Wir wurden gegen {since} ausgeloggt und kommen nicht mehr rein.",
            ],
            impacts: &[
                "{people} Mitarbeiter sind ausgesperrt.",
                "Wir können keine Retouren bearbeiten.",
            ],
        },
        fr: Local {
            subjects: &[
                "Impossible de se connecter",
                "Échec de connexion SSO",
                "Boucle de connexion",
            ],
            symptoms: &[
                "Depuis {since}, personne ne peut se connecter chez nous.",
                "La connexion SSO se termine sur une page d'erreur.",
                "Après le mot de passe, je reviens toujours sur la page de connexion.",
                "Nous avons été déconnectés vers {since} et impossible de revenir.",
            ],
            impacts: &[
                "{people} collaborateurs sont bloqués.",
                "Nous ne pouvons plus traiter les retours.",
            ],
        },
    },
    // Shipping labels / carrier rates not generating.
    Family {
        subjects: &[
            "Shipping labels not generating",
            "Can't print labels",
            "Label creation fails",
            "Carrier rates missing at checkout",
            "Shipping label error",
            "Labels stuck in processing",
            "No labels since {since}",
            "Fulfilment blocked: labels",
            "DHL and UPS labels failing",
        ],
        symptoms: &[
            "Creating shipping labels fails for every order with \"carrier service unavailable\".",
            "Since {since} label generation just hangs and then errors out.",
            "Labels are stuck in \"processing\" and never become printable.",
            "Live carrier rates disappeared from our checkout, customers only see \"no shipping options\".",
            "Every label request comes back with a timeout, for DHL and UPS alike.",
            "We can't print any labels today, the print button does nothing and the label stays empty.",
            "Bulk label creation fails halfway with a generic error.",
            "The shipping screen says \"rates could not be fetched\" for all carriers.",
        ],
        impacts: &[
            "{n} parcels are waiting and the courier comes at {later}.",
            "Our warehouse for {store} has stopped packing.",
            "We'll miss today's cut-off if this continues.",
            "{n} orders can't ship.",
            "Checkout conversion on {store} has dropped to almost nothing.",
        ],
        de: Local {
            subjects: &[
                "Versandetiketten werden nicht erstellt",
                "Etikettendruck geht nicht",
                "Keine Versandoptionen im Checkout",
            ],
            symptoms: &[
                "Seit {since} schlägt die Erstellung von Versandetiketten fehl.",
                "Die Etiketten hängen auf \"in Bearbeitung\".",
                "Im Checkout werden keine Versandarten mehr angezeigt.",
                "Jede Etikettenanfrage endet mit einem Timeout, bei DHL wie bei UPS.",
            ],
            impacts: &[
                "{n} Pakete warten auf den Versand.",
                "Der Kurier kommt um {later}.",
            ],
        },
        fr: Local {
            subjects: &[
                "Étiquettes d'expédition en erreur",
                "Impossible d'imprimer les étiquettes",
                "Plus de tarifs transporteur",
            ],
            symptoms: &[
                "Depuis {since}, la création des étiquettes échoue.",
                "Les étiquettes restent bloquées \"en cours de traitement\".",
                "Plus aucune option de livraison au checkout.",
                "Chaque demande d'étiquette finit en timeout, chez DHL comme chez UPS.",
            ],
            impacts: &[
                "{n} colis attendent l'expédition.",
                "Le transporteur passe à {later}.",
            ],
        },
    },
];

/// Who writes for an account, and their job.
const PEOPLE: &[&str] = &[
    "Maria", "Tom", "Lena", "Jonas", "Priya", "Sam", "Chloé", "Marco", "Aisha", "Ben", "Sofia",
    "Kenji", "Julia", "Omar", "Emma", "Lukas", "Nadia", "Dev", "Hannah", "Mateo", "Ines", "Oliver",
    "Zoe", "Felix",
];
const ROLES: &[&str] = &[
    "Operations",
    "Head of Ecommerce",
    "Founder",
    "Customer Service Lead",
    "CTO",
    "Finance",
    "Store Manager",
    "Developer",
    "Warehouse Lead",
    "Marketing",
];

const GREETINGS: &[&str] = &[
    "Hi team,",
    "Hello,",
    "Hi there,",
    "Good morning,",
    "Hi support,",
    "Hey,",
    "Dear support team,",
    "Hello support,",
];
/// Leads ending a sentence (". ", "! ", "? ") keep the capital of the one after them.
const CALM_LEADS: &[&str] = &[
    "",
    "",
    "Not sure if this is on your side, but ",
    "Quick heads-up: ",
    "Just flagging this: ",
    "Maybe it's just us, but ",
    "Hope you're well. ",
    "Sorry to bother you, ",
    "We noticed something odd today. ",
];
const ANNOYED_LEADS: &[&str] = &[
    "This is getting ridiculous. ",
    "Again?! ",
    "Seriously, ",
    "We need help NOW. ",
    "Third problem with your platform this month. ",
    "Hello?? ",
    "I can't believe this is happening again: ",
    "Not good: ",
];
const ANNOYED_EXTRAS: &[&str] = &[
    "This is costing us money every minute.",
    "Your status page says everything is operational, which is clearly not true.",
    "We pay a lot for this platform and it keeps breaking.",
    "Nobody has answered in chat either.",
    "We are seriously considering other options.",
    "Please escalate this immediately.",
    "I need someone senior on this.",
];
const FOLLOW_UP_LEADS: &[&str] = &[
    "Following up on my ticket from earlier: ",
    "Me again. ",
    "Any update? ",
    "Still broken on our side. ",
    "Second ticket because nobody has answered yet. ",
    "Adding to my earlier ticket: ",
];
const FOLLOW_UP_SUBJECTS: &[&str] = &["Re: ", "Still happening: ", "Follow-up: ", "UPDATE - "];
const ASKS: &[&str] = &[
    "Is there a known issue?",
    "Can you check what's going on?",
    "Is this on your side?",
    "Do you have an ETA for a fix?",
    "Are other customers seeing this too?",
    "Could someone look into it?",
    "Please let us know when it's fixed.",
    "Is there a workaround in the meantime?",
    "Anything we should do on our end?",
];
const CALM_CLOSINGS: &[&str] = &[
    "Thanks,",
    "Thanks in advance,",
    "Kind regards,",
    "Best,",
    "Cheers,",
    "Many thanks,",
    "Thank you,",
    "Best regards,",
];
const ANNOYED_CLOSINGS: &[&str] = &[
    "Waiting for your answer.",
    "Call me back please.",
    "Regards,",
    "Expecting an update within the hour.",
    "Fix it please.",
    "Urgently,",
];
const TERSE_OPENINGS: &[&str] = &[
    "",
    "",
    "hi ",
    "hey ",
    "hello? ",
    "hi quick one - ",
    "ok so ",
    "um ",
];
const TERSE_ASKS: &[&str] = &[
    "is it down?",
    "pls check",
    "any eta??",
    "anyone else seeing this?",
    "??",
    "help pls",
    "whats going on",
    "is it on ur end?",
    "pls fix asap",
    "anyone there?",
];
const TERSE_FOLLOW_UPS: &[&str] = &[
    "still broken",
    "any update??",
    "still happening",
    "hello? still down",
    "nothing changed",
];
const CALL_SUBJECTS: &[&str] = &["Call notes - ", "Phone: ", "Call summary: "];
const CALL_WANTS: &[&str] = &[
    "Wants an ETA.",
    "Wants a callback when it's fixed.",
    "Asked if it's a known issue.",
    "Asked for a workaround.",
];
const CALL_NOTES: &[&str] = &[
    "Told them we are looking into it and promised a callback.",
    "Could not reproduce from our side yet; passing it on to engineering.",
    "Caller was calm, just wants an ETA.",
    "Caller was upset and mentioned their contract renewal.",
    "Nothing on the status page yet, told them we would update it.",
    "Asked whether other customers are affected; I said we're checking.",
];

const GERMAN: Tongue = Tongue {
    lang: Lang::De,
    greetings: &[
        "Hallo,",
        "Guten Tag,",
        "Hallo zusammen,",
        "Moin,",
        "Hallo Support-Team,",
    ],
    asks: &[
        "Ist das ein bekanntes Problem?",
        "Könnt ihr das bitte prüfen?",
        "Gibt es schon eine Lösung?",
        "Wann ist das behoben?",
        "Bitte um dringende Rückmeldung.",
    ],
    closings: &[
        "Viele Grüße",
        "Danke und Gruß",
        "Beste Grüße",
        "Gruß",
        "Danke!",
    ],
    follow_ups: &[
        "Nachtrag zu meinem Ticket von vorhin: ",
        "Immer noch dasselbe Problem. ",
    ],
    reply: "AW: ",
};
const FRENCH: Tongue = Tongue {
    lang: Lang::Fr,
    greetings: &["Bonjour,", "Bonjour à tous,", "Bonjour l'équipe,", "Hello,"],
    asks: &[
        "Est-ce un problème connu ?",
        "Pouvez-vous vérifier ?",
        "Avez-vous une estimation de résolution ?",
        "Merci de nous tenir informés.",
        "C'est urgent pour nous.",
    ],
    closings: &[
        "Cordialement",
        "Merci d'avance",
        "Bonne journée",
        "Bien à vous",
        "Merci !",
    ],
    follow_ups: &[
        "Suite à mon ticket de tout à l'heure : ",
        "Toujours le même problème. ",
    ],
    reply: "RE : ",
};

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::generate::GenerateArgs;

    fn corpus_dir() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/corpus/train"))
    }

    fn options() -> FloodArgs {
        FloodArgs {
            accounts: 80,
            outages: 2,
            corpus: corpus_dir(),
        }
    }

    fn flood(seed: u64) -> Flood {
        build(&options(), DEFAULT_COUNT, seed).unwrap()
    }

    fn records(csv: &[u8]) -> Vec<csv::StringRecord> {
        let mut reader = csv::Reader::from_reader(csv);
        assert_eq!(
            reader.headers().unwrap(),
            &csv::StringRecord::from(HEADER.to_vec())
        );
        reader.records().map(Result::unwrap).collect()
    }

    /// Seconds into the day of an RFC 3339 timestamp on 2025-11-03.
    fn seconds(stamp: &str) -> u64 {
        assert!(
            stamp.len() == 20 && stamp.starts_with("2025-11-03T") && stamp.ends_with('Z'),
            "{stamp}"
        );
        let [h, m, s] = [11, 14, 17].map(|i| stamp[i..i + 2].parse::<u64>().unwrap());
        h * HOUR + m * MINUTE + s
    }

    #[test]
    fn the_same_seed_gives_the_same_file_and_another_seed_another() {
        let a = flood(7);
        assert_eq!(a.csv, flood(7).csv);
        assert_ne!(a.csv, flood(8).csv);
    }

    #[test]
    fn a_day_of_tickets_from_a_fixed_set_of_accounts_in_order() {
        let rows = records(&flood(42).csv);
        assert_eq!(rows.len(), 500);
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(&row[0], format!("F-{:04}", i + 1));
        }
        let stamps: Vec<u64> = rows.iter().map(|r| seconds(&r[6])).collect();
        assert!(stamps.is_sorted());

        let mut mrr: HashMap<&str, &str> = HashMap::new();
        for row in &rows {
            assert_eq!(
                *mrr.entry(&row[1]).or_insert(&row[7]),
                &row[7],
                "one MRR per account"
            );
        }
        assert!(mrr.len() <= 80, "{} accounts", mrr.len());
        let values: Vec<u64> = mrr.values().map(|m| m.parse().unwrap()).collect();
        let enterprise = values.iter().filter(|&&m| m >= ENTERPRISE_MRR.0).count();
        assert!(
            (1..=8).contains(&enterprise),
            "{enterprise} enterprise accounts"
        );
        for m in values {
            let small = (SMALL_MRR.0..=SMALL_MRR.1).contains(&m);
            assert!(
                small || (ENTERPRISE_MRR.0..=ENTERPRISE_MRR.1).contains(&m),
                "{m}"
            );
        }

        let normal: Vec<u64> = rows
            .iter()
            .filter(|r| r[8].is_empty())
            .map(|r| seconds(&r[6]))
            .collect();
        let busy = normal
            .iter()
            .filter(|&&at| (8 * HOUR..18 * HOUR).contains(&at))
            .count();
        assert!(
            busy * 10 >= normal.len() * 6,
            "{busy} of {} in business hours",
            normal.len()
        );
    }

    #[test]
    fn outages_are_bursts_about_one_failure_from_many_accounts() {
        for seed in [1, 42, 2025, 99_999] {
            let flood = flood(seed);
            let rows = records(&flood.csv);
            let mut outages: BTreeMap<&str, Vec<&csv::StringRecord>> = BTreeMap::new();
            for row in rows.iter().filter(|r| !r[8].is_empty()) {
                outages.entry(&row[8]).or_default().push(row);
            }
            assert_eq!(
                outages.keys().copied().collect::<Vec<_>>(),
                ["outage-1", "outage-2"]
            );
            let sizes: Vec<usize> = outages.values().map(Vec::len).collect();
            assert_eq!(sizes, flood.outage_sizes);

            let mut firsts = Vec::new();
            for (label, tickets) in &outages {
                assert!(
                    (12..=24).contains(&tickets.len()),
                    "{label}: {}",
                    tickets.len()
                );
                let accounts: HashSet<&str> = tickets.iter().map(|r| &r[1]).collect();
                assert!(accounts.len() >= 10, "{label}: {} accounts", accounts.len());
                assert!(
                    tickets.len() - accounts.len() <= 2,
                    "{label}: too many repeats"
                );
                let times: Vec<u64> = tickets.iter().map(|r| seconds(&r[6])).collect();
                let (first, last) = (times[0], times[times.len() - 1]);
                assert!(
                    last - first <= 90 * MINUTE,
                    "{label} spans {} s",
                    last - first
                );
                assert!(
                    (7 * HOUR..=19 * HOUR + MINUTE).contains(&first),
                    "{label} at {first}"
                );
                let early = times
                    .iter()
                    .filter(|&&t| t - first <= (last - first) / 2)
                    .count();
                assert!(
                    early * 2 > times.len(),
                    "{label}: {early} of {} early",
                    times.len()
                );
                for ticket in tickets {
                    assert!(["P0", "P1"].contains(&&ticket[4]), "{}", &ticket[4]);
                }
                firsts.push(first);
            }
            assert!(firsts[1] - firsts[0] >= 2 * HOUR - MINUTE, "{firsts:?}");

            let texts: HashSet<(&str, &str)> = rows
                .iter()
                .filter(|r| !r[8].is_empty())
                .map(|r| (&r[2], &r[3]))
                .collect();
            assert_eq!(
                texts.len(),
                sizes.iter().sum::<usize>(),
                "no two outage tickets alike"
            );
        }
    }

    #[test]
    fn normal_traffic_comes_from_the_corpus_without_repeats() {
        let corpus = read_corpus(&corpus_dir()).unwrap();
        let known: HashSet<[&str; 4]> = corpus
            .iter()
            .map(|t| [&*t.subject, &*t.description, &*t.priority, &*t.channel])
            .collect();
        let rows = records(&flood(42).csv);
        let normal: Vec<[&str; 4]> = rows
            .iter()
            .filter(|r| r[8].is_empty())
            .map(|r| [&r[2], &r[3], &r[4], &r[5]])
            .collect();
        assert!(normal.len() >= 500 - 48);
        for ticket in &normal {
            assert!(known.contains(ticket), "not in the corpus: {ticket:?}");
        }
        let distinct: HashSet<&[&str; 4]> = normal.iter().collect();
        assert_eq!(distinct.len(), normal.len());
    }

    #[test]
    fn some_outage_tickets_are_in_german_or_french_and_some_in_chat_style() {
        let texts: Vec<String> = (1..=5)
            .flat_map(|seed| {
                records(&flood(seed).csv)
                    .into_iter()
                    .filter(|r| !r[8].is_empty())
                    .map(|r| format!("{}\n{}", &r[2], &r[3]))
            })
            .collect();
        let local = |words: &[&str]| {
            texts
                .iter()
                .filter(|t| words.iter().any(|w| t.contains(w)))
                .count()
        };
        assert!(local(&["Seit ", "seit ", "Hallo", "Grüße", "Moin"]) > 0);
        assert!(local(&["Depuis", "depuis", "Bonjour", "Cordialement"]) > 0);
        assert!(
            texts.iter().any(|t| *t == t.to_lowercase()),
            "no chat-style ticket"
        );
    }

    #[test]
    fn impossible_floods_and_the_blind_set_are_refused() {
        let small = FloodArgs {
            accounts: 10,
            ..options()
        };
        assert!(build(&small, 500, 1).is_err());
        let many = FloodArgs {
            outages: FAMILIES.len() + 1,
            ..options()
        };
        assert!(build(&many, 500, 1).is_err());
        assert!(build(&options(), 40, 1).is_err());
        let quiet = FloodArgs {
            accounts: 3,
            outages: 0,
            ..options()
        };
        let rows = records(&build(&quiet, 20, 1).unwrap().csv);
        assert_eq!(rows.len(), 20);
        assert!(rows.iter().all(|r| r[8].is_empty()));

        let blind = FloodArgs {
            corpus: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/corpus/blind")),
            ..options()
        };
        let error = build(&blind, 500, 1).err().unwrap().to_string();
        assert!(error.contains("blind"), "{error}");
    }

    #[test]
    fn the_options_default_per_mode() {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            generate: GenerateArgs,
        }
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["triage", "--flood", "--out", "f.csv"]).unwrap();
        let args = cli.generate;
        assert!(args.flood);
        assert_eq!(args.count, None);
        assert_eq!(args.flood_options.accounts, 80);
        assert_eq!(args.flood_options.outages, 2);
        assert_eq!(
            args.flood_options.corpus,
            PathBuf::from("data/corpus/train")
        );
        let cli = Cli::try_parse_from(["triage", "--out", "f.csv", "--count", "10"]).unwrap();
        assert!(!cli.generate.flood);
        assert_eq!(cli.generate.count, Some(10));
        assert!(Cli::try_parse_from(["triage", "--out", "f.csv", "--outages", "3"]).is_err());
    }

    #[test]
    fn the_file_written_is_the_flood() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("flood.csv");
        write(&options(), DEFAULT_COUNT, 3, &out).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), flood(3).csv);
    }
}
