//! Engine speed per ticket: English tickets (the sample set) and French, German and
//! Spanish tickets (from the development set). Each iteration decides every ticket of
//! the group once; time per ticket = iteration time / group size.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use triage_shared::domain::{AccountContext, Ticket};
use triage_shared::engine::Engine;
use triage_shared::engine::agents::AgentLoad;
use triage_shared::input::{Item, TicketReader};

fn tickets(rel: &str, keep: impl Fn(&Ticket, &str) -> bool) -> Vec<Ticket> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    let language_column: Vec<String> = csv::Reader::from_path(&path)
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            r.get(11).unwrap_or("en").to_string()
        })
        .collect();
    TicketReader::open(&path, 20_000)
        .unwrap()
        .filter_map(|i| match i {
            Item::Row(r) => Some(r.ticket),
            Item::Issue(_) => None,
        })
        .zip(language_column)
        .filter(|(t, lang)| keep(t, lang))
        .map(|(t, _)| t)
        .collect()
}

/// Each ticket's own median time, measured as it comes in a stream: 200 passes over
/// the whole set, one decision per ticket per pass (so caches hold the mix, not one
/// ticket). Prints the median and the 90th percentile over tickets.
fn per_ticket_median(name: &str, engine: &Engine, set: &[Ticket]) {
    let ctx = AccountContext::default();
    let load = AgentLoad::new();
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(200); set.len()];
    for _ in 0..200 {
        for (i, t) in set.iter().enumerate() {
            let start = Instant::now();
            black_box(engine.decide(black_box(t), &ctx, &load));
            samples[i].push(start.elapsed().as_secs_f64());
        }
    }
    let mut medians: Vec<f64> = samples
        .into_iter()
        .map(|mut v| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    println!(
        "per-ticket {name}: median {:.1} µs, p90 {:.1} µs, max {:.1} µs over {} tickets",
        medians[medians.len() / 2] * 1e6,
        medians[(medians.len() * 9) / 10] * 1e6,
        medians[medians.len() - 1] * 1e6,
        medians.len()
    );
}

fn bench(c: &mut Criterion) {
    let engine = Engine::embedded().unwrap();
    let ctx = AccountContext::default();
    let load = AgentLoad::new();
    let english = tickets("data/tickets_input.csv", |_, _| true);
    let other = tickets("data/dev/dev_tickets.csv", |_, lang| lang != "en");
    assert!(other.len() >= 25);
    per_ticket_median("english", &engine, &english);
    per_ticket_median("fr_de_es", &engine, &other);
    let mut group = c.benchmark_group("decide");
    for (name, set) in [("english", &english), ("fr_de_es", &other)] {
        group.throughput(Throughput::Elements(set.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for t in set.iter() {
                    black_box(engine.decide(black_box(t), &ctx, &load));
                }
            })
        });
    }
    group.finish();
    c.bench_function("engine/load_embedded", |b| {
        b.iter(|| black_box(Engine::embedded().unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
