//! Every parser of outside input, fed random and mutated input: webhook bodies and
//! signature headers, SQS and API Gateway events (as the functions read them), the
//! queue messages inside them, the ticket CSV, the policy file and phrase files. None
//! may panic; each must answer with a value or an error.
//!
//! `FUZZ_CASES` sets the inputs per parser (default 2,000 in the tests);
//! `scripts/fuzz` runs a million each on the release build and records time and
//! peak memory (BENCHMARKS.md).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use time::OffsetDateTime;
use triage_shared::engine::catalogue::Catalogue;
use triage_shared::input::{Item, TicketReader};
use triage_shared::messages::{AlertMessage, TriageMessage};
use triage_shared::policy::{DEFAULT_POLICY, Policy};
use triage_shared::webhook;

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Bytes that are sometimes a valid sample with a few bytes changed, sometimes a
/// slice of it, sometimes noise: mutation finds more than noise alone.
fn mutated(sample: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let flips = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8);
    prop_oneof![
        flips.prop_map(move |f| {
            let mut v = sample.to_vec();
            for (i, b) in f {
                let at = i.index(v.len().max(1));
                if at < v.len() {
                    v[at] = b;
                }
            }
            v
        }),
        (any::<prop::sample::Index>(), any::<prop::sample::Index>()).prop_map(move |(a, b)| {
            let (a, b) = (a.index(sample.len()), b.index(sample.len()));
            sample[a.min(b)..a.max(b)].to_vec()
        }),
        prop::collection::vec(any::<u8>(), 0..512),
    ]
}

const WEBHOOK: &[u8] = br#"{"ticket":{"id":"1001","subject":"Checkout down","description":"Nobody can pay since 9am","priority":"urgent","via":"email","tags":"vip checkout","requester_email":"a@b.test","requester_name":"Ann","organization":"Acme","organization_id":"42","created_at":"2026-11-26T12:00:00Z","mrr":"4,200"}}"#;
const EVENT: &[u8] = br#"{"type":"zen:event-type:ticket.created","detail":{"id":"1002","subject":"Hi","description":"How do I export?","organization_id":"7","requester_id":"9","via":{"channel":"web"}}}"#;

#[test]
fn webhook_bodies_never_panic() {
    runner()
        .run(&prop_oneof![mutated(WEBHOOK), mutated(EVENT)], |body| {
            let _ = webhook::parse(&body);
            Ok(())
        })
        .unwrap();
}

#[test]
fn signature_headers_never_panic_and_only_the_right_one_passes() {
    let now = OffsetDateTime::now_utc();
    let stamp = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let good = webhook::sign("s3cret", &stamp, WEBHOOK);
    let strategy = (
        prop::option::of(prop_oneof![Just(good.clone()), ".{0,64}"]),
        prop::option::of(prop_oneof![Just(stamp.clone()), ".{0,40}"]),
        mutated(WEBHOOK),
    );
    runner()
        .run(&strategy, |(sig, ts, body)| {
            let result = webhook::verify("s3cret", sig.as_deref(), ts.as_deref(), &body, now, 300);
            if result.is_ok() {
                prop_assert_eq!(body.as_slice(), WEBHOOK);
                prop_assert_eq!(sig.as_deref(), Some(good.as_str()));
            }
            Ok(())
        })
        .unwrap();
    // A delivery older than the window is refused even with a valid signature.
    let old = (now - time::Duration::seconds(301))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let sig = webhook::sign("s3cret", &old, WEBHOOK);
    assert!(webhook::verify("s3cret", Some(&sig), Some(&old), WEBHOOK, now, 300).is_err());
}

const SQS: &[u8] = br#"{"Records":[{"messageId":"m1","receiptHandle":"r1","body":"{\"version\":1,\"ticket_id\":\"1001\",\"invocation_id\":\"inv-1\"}","attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":{},"md5OfBody":"x","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:1:q","awsRegion":"us-east-1"}]}"#;
const APIGW: &[u8] = br#"{"version":"2.0","routeKey":"POST /webhooks/zendesk","rawPath":"/webhooks/zendesk","rawQueryString":"","headers":{"content-type":"application/json","x-zendesk-webhook-signature":"abc="},"requestContext":{"accountId":"1","apiId":"a","domainName":"d","domainPrefix":"d","http":{"method":"POST","path":"/webhooks/zendesk","protocol":"HTTP/1.1","sourceIp":"1.2.3.4","userAgent":"Zendesk"},"requestId":"r","routeKey":"POST /webhooks/zendesk","stage":"$default","time":"26/Nov/2026:12:00:00 +0000","timeEpoch":1795521600000},"body":"{}","isBase64Encoded":false}"#;

#[test]
fn sqs_and_api_gateway_events_and_their_messages_never_panic() {
    use aws_lambda_events::event::apigw::ApiGatewayV2httpRequest;
    use aws_lambda_events::event::sqs::SqsEvent;
    runner()
        .run(&prop_oneof![mutated(SQS), mutated(APIGW)], |bytes| {
            if let Ok(event) = serde_json::from_slice::<SqsEvent>(&bytes) {
                for r in event.records {
                    let body = r.body.unwrap_or_default();
                    let _ = TriageMessage::parse(&body);
                    let _ = AlertMessage::parse(&body);
                }
            }
            let _ = serde_json::from_slice::<ApiGatewayV2httpRequest>(&bytes);
            Ok(())
        })
        .unwrap();
}

const CSV: &[u8] =
    b"ticket_id,customer_name,subject,description,actual_priority,channel,timestamp,mrr\n\
#1,Acme,Down,\"Checkout, \"\"payments\"\" and\nall\",P0,email,2025-11-14 09:23,\"4,200\"\n\
#2,B\xc3\xa9ta,Q,How do I export?,P3,chat,,\n";

#[test]
fn ticket_csvs_never_panic_and_every_row_is_answered() {
    runner()
        .run(&mutated(CSV), |bytes| {
            if let Ok(reader) = TicketReader::new(bytes.as_slice(), 20_000) {
                let mut items = 0;
                for item in reader {
                    match item {
                        Item::Row(row) => prop_assert!(row.line >= 2),
                        Item::Issue(issue) => prop_assert!(!issue.message.is_empty()),
                    }
                    items += 1;
                    prop_assert!(items <= bytes.len() + 1, "no endless reader");
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn policy_and_phrase_files_never_panic() {
    let policy: &'static [u8] = DEFAULT_POLICY.as_bytes();
    const PHRASES: &[u8] = b"[outage]\nnegatable = true\nphrases = [\"{systems} ~ down\", \"fluxomat ~~ stuck|frozen*\"]\nexclusions = [\"# ~ down\"]\n";
    runner()
        .run(&prop_oneof![mutated(policy), mutated(PHRASES)], |bytes| {
            let text = String::from_utf8_lossy(&bytes);
            let _ = Policy::parse(&text, "fuzz.toml");
            let _ = Catalogue::default().add_file("fuzz.toml", &text);
            Ok(())
        })
        .unwrap();
}
