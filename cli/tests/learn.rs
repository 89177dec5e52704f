//! `triage learn` and the model end to end: the cross-validated figures over the
//! shipped corpus hold their floors, a model learned from a small file is used by
//! `triage eval`, the same data gives the same model bytes, and a ticket the model
//! cannot read is flagged for a person.

mod common;

use common::{ok, root, triage};
use serde_json::Value;

/// The training corpus, as `triage learn` is run to build the shipped model.
fn corpus() -> Vec<String> {
    let mut files = vec!["data/dev/dev_tickets.csv".to_string()];
    let mut batches: Vec<String> = std::fs::read_dir(root().join("data/corpus/train"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| p.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    batches.sort();
    files.extend(batches);
    files
}

#[test]
fn cross_validated_figures_hold_their_floors() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("cv.json");
    let mut args = vec![
        "learn",
        "--dry-run",
        "--report",
        report.to_str().unwrap(),
        "--input",
    ];
    let files = corpus();
    args.extend(files.iter().map(String::as_str));
    let out = ok(&triage(&args));
    let cv: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(cv["tickets"].as_u64().unwrap() >= 2400, "{out}");
    let c = &cv["combined"];
    let f = |v: &Value| v.as_f64().unwrap();
    // Floors a few points under today's figures (BENCHMARKS.md): a change that makes
    // the model miss fires, or agree less, fails here.
    assert!(f(&c["p0_recall"]) >= 0.92, "P0 recall {}", c["p0_recall"]);
    assert!(
        c["p0_decided_p2_or_lower"].as_u64().unwrap() <= 14,
        "{}",
        c["p0_decided_p2_or_lower"]
    );
    assert!(
        c["dangerous_misses"].as_u64().unwrap() <= 20,
        "{}",
        c["dangerous_misses"]
    );
    assert!(
        f(&c["priority_exact"]) >= 0.74,
        "exact {}",
        c["priority_exact"]
    );
    assert!(
        f(&c["priority_within_one"]) >= 0.90,
        "within one {}",
        c["priority_within_one"]
    );
    assert!(
        f(&c["team"]["accuracy"]) >= 0.90,
        "team {}",
        c["team"]["accuracy"]
    );
    assert!(f(&c["churn"]["f1"]) >= 0.85, "churn {}", c["churn"]["f1"]);
    assert!(
        f(&c["opportunity"]["f1"]) >= 0.89,
        "opportunity {}",
        c["opportunity"]["f1"]
    );
    assert!(
        f(&c["expected_calibration_error"]) <= 0.03,
        "ECE {}",
        c["expected_calibration_error"]
    );
    let m = &cv["model"];
    assert!(
        f(&m["priority_exact"]) >= 0.80,
        "model alone exact {}",
        m["priority_exact"]
    );
    // The combination finds more fires than either part alone.
    assert!(f(&c["p0_recall"]) > f(&m["p0_recall"]));
    assert!(f(&c["p0_recall"]) > f(&cv["rules"]["p0_recall"]));
}

#[test]
fn a_model_learned_from_a_file_is_used_by_eval_and_the_same_data_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.bin"), dir.path().join("b.bin"));
    for out in [&a, &b] {
        ok(&triage(&[
            "learn",
            "--input",
            "data/dev/dev_tickets.csv",
            "--folds",
            "3",
            "--out",
            out.to_str().unwrap(),
        ]));
    }
    let (x, y) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(x, y, "same data, same seed: same model bytes");
    assert!(x.len() < 5_000_000, "model file is {} bytes", x.len());
    assert_ne!(
        x,
        std::fs::read(root().join("data/model/triage-model.bin")).unwrap(),
        "a model of the development set alone is not the shipped one"
    );

    let eval = ok(&triage(&[
        "eval",
        "--input",
        "data/holdout/holdout_tickets.csv",
        "--model",
        a.to_str().unwrap(),
        "--json",
    ]));
    let v: Value = serde_json::from_str(&eval).unwrap();
    for key in [
        "p0_recall",
        "p0_p1_recall",
        "dangerous_misses",
        "expected_calibration_error",
    ] {
        assert!(v.get(key).is_some(), "{key} missing: {eval}");
    }
    assert_eq!(v["reliability"].as_array().unwrap().len(), 10);

    let broken = dir.path().join("broken.bin");
    let mut bytes = x.clone();
    bytes[x.len() / 2] ^= 0x55;
    std::fs::write(&broken, bytes).unwrap();
    let o = triage(&[
        "eval",
        "--input",
        "data/holdout/holdout_tickets.csv",
        "--model",
        broken.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("damaged"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_ticket_the_model_cannot_read_is_flagged_and_never_auto_sent() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("odd.csv");
    std::fs::write(
        &csv,
        "ticket_id,customer_name,subject,description,channel,mrr\n\
         1001,Zorblax,Qwfp zxcv,\"Vrabl snik tovarp glim, brundel fusk quorp yimble dazzit plonk?\",chat,300\n\
         1002,Acme,Invoice copy,\"Hi, where can I download a copy of last month's invoice? Thanks!\",email,300\n",
    )
    .unwrap();
    let policy = dir.path().join("policy.toml");
    // Auto-send on, so that only the review rule can keep the odd ticket's draft back.
    let shipped = std::fs::read_to_string(root().join("data/policy.toml")).unwrap();
    std::fs::write(
        &policy,
        shipped
            .replace("enabled = false", "enabled = true")
            .replace("min_confidence = 0.95", "min_confidence = 0.0"),
    )
    .unwrap();
    let out = dir.path().join("out");
    ok(&triage(&[
        "run",
        "--input",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
        "--demo-mode",
        "--quiet",
    ]));
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("triage_results.json")).unwrap())
            .unwrap();
    let odd = &results[0];
    assert_eq!(odd["needs_review"], true, "{odd}");
    assert!(
        odd["confidence"]["priority"].as_f64().unwrap() < 0.5,
        "{odd}"
    );
    assert!(
        odd["reasons"].to_string().contains("model knows"),
        "the reason names the unknown words: {odd}"
    );
    if let Some(d) = odd["draft"].as_object() {
        assert_eq!(d["auto_send_candidate"], false, "{odd}");
    }
    let plain = &results[1];
    assert_eq!(plain["needs_review"], false, "{plain}");
    let calls: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("zendesk_api_calls.json")).unwrap())
            .unwrap();
    let tags_of = |ticket: &str| -> Vec<String> {
        calls
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["path"] == format!("/api/v2/tickets/{ticket}/tags"))
            .flat_map(|c| {
                c["body"]["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap().to_string())
            })
            .collect()
    };
    assert!(tags_of("1001").contains(&"triage_needs_review".to_string()));
    assert!(!tags_of("1002").contains(&"triage_needs_review".to_string()));
    let public_replies = calls
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["path"] == "/api/v2/tickets/1001.json"
                && c["body"]["ticket"]["comment"]["public"] == true
        })
        .count();
    assert_eq!(
        public_replies, 0,
        "nothing is sent to the customer of a flagged ticket"
    );
    let html = std::fs::read_to_string(out.join("triage_report.html")).unwrap();
    assert!(html.contains("id=\"needs-review\"") && html.contains("Zorblax"));
}
