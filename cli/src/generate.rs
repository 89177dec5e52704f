//! `triage generate`: synthetic tickets for load tests. The text is assembled from
//! fragments (several topics, tones and four languages) with a seeded generator, so the
//! same seed always gives the same file. The tickets carry no labels.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

#[derive(Args)]
pub struct GenerateArgs {
    /// Number of tickets.
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// Output CSV.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Seed; the same seed gives the same file.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
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
}

const COMPANIES: &[&str] = &[
    "Acme Commerce",
    "Brightline Outfitters",
    "Nordlicht Mode GmbH",
    "Maison Verlaine",
    "Vinos Altamira",
    "Pebble & Fern",
    "Cedar & Pine",
    "Solstice Beauty Co.",
    "Harbor Coffee Roasters",
    "Kiln Ceramics",
    "Atlas Outdoor",
    "Blue Heron Books",
    "Copperleaf Home",
    "Driftwood Surf",
    "Elm Street Bakery",
];

const EN_SUBJECTS: &[&str] = &[
    "Shopify orders not syncing",
    "Webhook failures since this morning",
    "Checkout is down",
    "Question about attribution windows",
    "Export times out",
    "Refund not processed",
    "How do I rotate my API key?",
    "Dashboard numbers don't match GA4",
    "Shipping labels failing",
    "Pricing for the enterprise plan",
    "Add 5 more seats",
    "Locked out after enabling SSO",
    "Payout delayed",
    "Pixel not firing on product pages",
    "429 rate limit errors",
];

const EN_BODIES: &[&str] = &[
    "Since yesterday our Shopify orders stopped syncing and the dashboard shows nothing new.",
    "Every webhook call returns a 500 error and our warehouse is not receiving orders.",
    "Customers cannot complete checkout, payments are failing for everyone.",
    "Could you explain how the attribution window works for Meta campaigns?",
    "The CSV export of last quarter times out after a few minutes, we can still export month by month.",
    "A refund we issued through Stripe a week ago still shows as pending.",
    "We need to rotate our API key after a staff change, what is the safest way?",
    "Revenue in your dashboard is about 12% lower than in GA4 for the same week.",
    "DHL labels fail with an address validation error for some orders.",
    "We are growing and would like a quote for the enterprise plan with 3 more stores.",
    "Please add five more seats for our new support hires.",
    "After enabling SSO nobody on the team can log in anymore.",
    "Our payout was due on Monday and has not arrived.",
    "The tracking pixel does not fire on product pages after the theme update.",
    "We keep hitting 429 errors on the orders endpoint during the nightly sync.",
];

const EN_TONES: &[&str] = &[
    "Thanks for your help.",
    "This is the third time this month, we are really frustrated.",
    "This is unacceptable, we are considering other providers.",
    "No rush, whenever you can.",
    "URGENT: we are losing sales every minute!!",
    "Appreciate any pointers.",
    "If this is not fixed we will not renew our contract.",
    "Kind regards.",
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
    for i in 0..args.count {
        let company = rng.pick(COMPANIES);
        let (subject, description) = if rng.below(5) == 0 {
            let (s, body, tone) = INTL[rng.below(INTL.len() as u64) as usize];
            (s.to_string(), format!("{body} {tone}"))
        } else {
            let s = rng.pick(EN_SUBJECTS);
            let b1 = rng.pick(EN_BODIES);
            let b2 = rng.pick(EN_BODIES);
            let tone = rng.pick(EN_TONES);
            (s.to_string(), format!("Hi team, {b1} {b2} {tone}"))
        };
        let mrr = 150 + rng.below(30_000);
        let minute = i % 60;
        let hour = 8 + (i / 60) % 10;
        let day = 1 + (i / 600) % 28;
        out.write_record([
            format!("#{}", 100_000 + i),
            company.to_string(),
            subject,
            description,
            String::new(),
            channels[rng.below(channels.len() as u64) as usize].to_string(),
            format!("2025-11-{day:02} {hour:02}:{minute:02}"),
            mrr.to_string(),
        ])?;
    }
    out.flush()?;
    let mut inner = out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
    inner.flush()?;
    eprintln!("wrote {} tickets to {}", args.count, args.out.display());
    Ok(())
}
