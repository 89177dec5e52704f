//! `triage generate`: synthetic tickets for load tests. The text is assembled from
//! fragments (several topics, tones and four languages) with a seeded generator, so the
//! same seed always gives the same file. The tickets carry no labels.
//!
//! `triage generate --flood` writes one day of labelled traffic with platform outages
//! hidden in it instead, for measuring incident detection (module `flood`).

mod flood;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub struct GenerateArgs {
    /// Number of tickets [default: 100000, or 500 with --flood].
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Output CSV.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Seed; the same seed gives the same file.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// One day (2025-11-03) of traffic from the labelled corpus with platform outages
    /// hidden in it, labelled in `actual_incident` (incident-detection evaluation).
    #[arg(long)]
    pub flood: bool,
    #[command(flatten)]
    pub flood_options: flood::FloodArgs,
}

/// xorshift64*: small, fast and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Fisher-Yates: every order equally likely.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }

    fn weighted<'a>(&mut self, items: &[(u64, &'a str, &'a str)]) -> (&'a str, &'a str) {
        let total: u64 = items.iter().map(|i| i.0).sum();
        let mut pick = self.below(total);
        for (w, a, b) in items {
            if pick < *w {
                return (a, b);
            }
            pick -= w;
        }
        (items[0].1, items[0].2)
    }
}

/// Company names are built from these parts: 40 x 30 = 1,200 customers, so that
/// history and load spread as in a real helpdesk.
const NAME_FIRST: &[&str] = &[
    "Acme",
    "Brightline",
    "Nordlicht",
    "Maison",
    "Altamira",
    "Pebble",
    "Cedar",
    "Solstice",
    "Harbor",
    "Kiln",
    "Atlas",
    "Blue Heron",
    "Copperleaf",
    "Driftwood",
    "Elm Street",
    "Fjord",
    "Granite",
    "Hollow Oak",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Northwind",
    "Orchard",
    "Pinecrest",
    "Quill",
    "Redwood",
    "Silverback",
    "Tidewater",
    "Umber",
    "Velora",
    "Willow",
    "Xanadu",
    "Yarrow",
    "Zephyr",
    "Alder",
    "Birch",
    "Clover",
    "Dune",
];
const NAME_SECOND: &[&str] = &[
    "Commerce",
    "Outfitters",
    "Mode",
    "Home",
    "Goods",
    "Supply",
    "Beauty",
    "Coffee",
    "Ceramics",
    "Outdoor",
    "Books",
    "Kitchen",
    "Surf",
    "Bakery",
    "Apparel",
    "Pet Supplies",
    "Wines",
    "Fitness",
    "Tools",
    "Garden",
    "Toys",
    "Jewelry",
    "Cycles",
    "Studio",
    "Market",
    "Provisions",
    "Labs",
    "Trading",
    "Collective",
    "Co.",
];

/// (weight, subject, body): outages are rare, questions and small problems common.
const EN_SCENARIOS: &[(u64, &str, &str)] = &[
    (
        4,
        "Shopify orders not syncing",
        "Since yesterday our Shopify orders stopped syncing and the dashboard shows nothing new.",
    ),
    (
        3,
        "Webhook failures since this morning",
        "Every webhook call returns a 500 error and our warehouse is not receiving orders.",
    ),
    (
        1,
        "Checkout is down",
        "Customers cannot complete checkout, payments are failing for everyone.",
    ),
    (
        8,
        "Question about attribution windows",
        "Could you explain how the attribution window works for Meta campaigns?",
    ),
    (
        6,
        "Export times out",
        "The CSV export of last quarter times out after a few minutes, we can still export month by month.",
    ),
    (
        5,
        "Refund not processed",
        "A refund we issued through Stripe a week ago still shows as pending.",
    ),
    (
        8,
        "How do I rotate my API key?",
        "We need to rotate our API key after a staff change, what is the safest way?",
    ),
    (
        6,
        "Dashboard numbers don't match GA4",
        "Revenue in your dashboard is about 12% lower than in GA4 for the same week.",
    ),
    (
        5,
        "Shipping labels failing",
        "DHL labels fail with an address validation error for some orders.",
    ),
    (
        4,
        "Pricing for the enterprise plan",
        "We are growing and would like a quote for the enterprise plan with 3 more stores.",
    ),
    (
        4,
        "Add 5 more seats",
        "Please add five more seats for our new support hires.",
    ),
    (
        3,
        "Locked out after enabling SSO",
        "After enabling SSO nobody on the team can log in anymore.",
    ),
    (
        3,
        "Payout delayed",
        "Our payout was due on Monday and has not arrived.",
    ),
    (
        4,
        "Pixel not firing on product pages",
        "The tracking pixel does not fire on product pages after the theme update.",
    ),
    (
        4,
        "429 rate limit errors",
        "We keep hitting 429 errors on the orders endpoint during the nightly sync.",
    ),
    (
        8,
        "Second store",
        "How do I add a second store to our account?",
    ),
    (
        8,
        "Invoices",
        "Where can I download last month's invoices with our VAT number on them?",
    ),
    (
        6,
        "Attribution models",
        "Could you explain the difference between first-click and last-click attribution in the reports?",
    ),
    (
        6,
        "Scheduled export",
        "Is there a way to schedule the weekly revenue export to go to our accountant?",
    ),
    (
        6,
        "Slow dashboard",
        "The dashboard takes a while to load in the mornings, but it works after a refresh.",
    ),
    (
        5,
        "Wrong shipping method",
        "Some orders from yesterday show the wrong shipping method in the fulfillment view.",
    ),
    (
        6,
        "Read-only access",
        "How can we give our bookkeeper read-only access to reports?",
    ),
    (
        5,
        "Timezone change",
        "We changed our store's timezone; do we need to update anything in your settings?",
    ),
    (
        4,
        "GDPR records",
        "Can you confirm which data you store about our customers for our GDPR records?",
    ),
    (
        5,
        "Duplicate SKUs",
        "The product report shows a few duplicate SKUs after we renamed variants.",
    ),
];

/// Closing lines, weighted towards the calm ones most tickets end with.
const EN_TONES: &[&str] = &[
    "Thanks for your help.",
    "Kind regards.",
    "Appreciate any pointers.",
    "Thanks in advance.",
    "Best, the ops team.",
    "Let me know if you need anything else.",
    "Cheers.",
    "Thank you!",
    "No rush, whenever you can.",
    "Regards.",
    "Thanks.",
    "Many thanks.",
    "This is the third time this month, we are really frustrated.",
    "URGENT: we are losing sales every minute!!",
    "This is unacceptable, we are considering other providers.",
    "If this is not fixed we will not renew our contract.",
];

const INTL: &[(&str, &str, &str)] = &[
    (
        "Commandes non synchronisées",
        "Bonjour, depuis ce matin nos commandes Shopify ne sont plus synchronisées avec le tableau de bord.",
        "Merci de votre aide.",
    ),
    (
        "Question sur la facture",
        "Bonjour, comment puis-je télécharger nos factures avec le numéro de TVA ?",
        "Cordialement.",
    ),
    (
        "Webhook-Fehler",
        "Hallo, seit gestern schlagen alle Webhooks mit Fehler 500 fehl und keine Bestellungen kommen an.",
        "Das ist jetzt das dritte Mal, wir sind sehr enttäuscht.",
    ),
    (
        "Frage zum Export",
        "Hallo, wie kann ich die Daten des letzten Quartals als CSV exportieren?",
        "Vielen Dank.",
    ),
    (
        "Pagos rechazados",
        "Hola, los clientes no pueden pagar, todos los pagos con Stripe fallan desde esta mañana.",
        "Es urgente.",
    ),
    (
        "Más usuarios",
        "Hola, queremos añadir más usuarios y abrir una nueva tienda en México, ¿nos pueden enviar un presupuesto?",
        "Gracias.",
    ),
];

pub fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    if args.flood {
        let count = args.count.unwrap_or(flood::DEFAULT_COUNT);
        return flood::write(&args.flood_options, count, args.seed, &args.out);
    }
    let count = args.count.unwrap_or(100_000);
    let file = std::fs::File::create(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut out = csv::Writer::from_writer(std::io::BufWriter::with_capacity(1 << 20, file));
    out.write_record([
        "ticket_id",
        "customer_name",
        "subject",
        "description",
        "actual_priority",
        "channel",
        "timestamp",
        "mrr",
    ])?;
    let mut rng = Rng(args.seed.max(1));
    let channels = ["email", "chat", "web_form", "phone", "api"];
    let first_day = time::Date::from_calendar_date(2025, time::Month::October, 1)?;
    for i in 0..count {
        let company = format!("{} {}", rng.pick(NAME_FIRST), rng.pick(NAME_SECOND));
        let (subject, description) = if rng.below(8) == 0 {
            let (s, body, tone) = INTL[rng.below(INTL.len() as u64) as usize];
            (s.to_string(), format!("{body} {tone}"))
        } else {
            let (subject, body) = rng.weighted(EN_SCENARIOS);
            let (_, extra) = if rng.below(10) < 2 {
                rng.weighted(EN_SCENARIOS)
            } else {
                ("", "")
            };
            let tone = rng.pick(EN_TONES);
            (
                subject.to_string(),
                format!("Hi team, {body} {extra} {tone}"),
            )
        };
        let mrr = 150 + rng.below(30_000);
        // About 1,700 tickets a day over two months (October and November), in order.
        let day_index = i * 61 / count.max(1);
        let date = first_day + time::Duration::days(day_index as i64);
        let minute_of_day = (i * 61 * 600 / count.max(1)) % 600;
        let (hour, minute) = (8 + minute_of_day / 60, minute_of_day % 60);
        out.write_record([
            format!("#{}", 100_000 + i),
            company,
            subject,
            description,
            String::new(),
            channels[rng.below(channels.len() as u64) as usize].to_string(),
            format!(
                "{}-{:02}-{:02} {hour:02}:{minute:02}",
                date.year(),
                u8::from(date.month()),
                date.day()
            ),
            mrr.to_string(),
        ])?;
    }
    out.flush()?;
    let mut inner = out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    inner.flush()?;
    eprintln!("wrote {count} tickets to {}", args.out.display());
    Ok(())
}
