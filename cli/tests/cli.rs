//! The `triage` binary end to end: outputs and their schema, bad input, escaping.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{read_json, result_ids, root, text, triage};
use serde_json::Value;

fn run_on(csv: &Path, out: &Path) -> Output {
    triage(&[
        "run",
        "--input",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--demo-mode",
    ])
}

#[test]
fn run_writes_every_output_in_the_documented_shape() {
    let out = tempfile::tempdir().unwrap();
    let o = run_on(&root().join("data/tickets_input.csv"), out.path());
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("Triaged 30 tickets"), "{stdout}");
    assert!(stdout.contains("triage_report.html"), "{stdout}");

    let results = read_json(&out.path().join("triage_results.json"));
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 30);
    let input_ids: Vec<String> = csv::Reader::from_path(root().join("data/tickets_input.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    let output_ids: Vec<&str> = results
        .iter()
        .map(|r| r["ticket_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        output_ids, input_ids,
        "one object per ticket, in input order"
    );

    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    for r in results {
        assert_eq!(
            keys(r),
            [
                "agent_id",
                "confidence",
                "draft",
                "engine",
                "guardian",
                "language",
                "needs_review",
                "opportunity",
                "priority",
                "reasons",
                "sentiment",
                "sla",
                "team",
                "ticket_id"
            ]
        );
        let c = &r["confidence"];
        for k in ["priority", "team"] {
            let v = c[k].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{k} confidence {v}");
        }
        assert_eq!(r["engine"], "model");
        assert!(["P0", "P1", "P2", "P3"].contains(&r["priority"].as_str().unwrap()));
        assert!(
            [
                "integrations_api",
                "data_analytics",
                "compliance_operations"
            ]
            .contains(&r["team"].as_str().unwrap())
        );
        assert_eq!(keys(&r["sentiment"]), ["label", "score"]);
        assert_eq!(
            keys(&r["guardian"]),
            [
                "alert",
                "level",
                "reasons",
                "recommended_actions",
                "risk_score"
            ]
        );
        assert!(r["guardian"]["risk_score"].as_u64().unwrap() <= 100);
        assert_eq!(
            keys(&r["opportunity"]),
            ["confidence", "detected", "intents", "reasons"]
        );
        match &r["draft"] {
            Value::Null => assert!(
                ["P0", "P1"].contains(&r["priority"].as_str().unwrap())
                    || r["reasons"]
                        .to_string()
                        .contains("no knowledge-base article")
            ),
            d => {
                assert_eq!(
                    keys(d),
                    ["auto_send_candidate", "confidence", "kb_article_id", "text"]
                );
                assert!(["P2", "P3"].contains(&r["priority"].as_str().unwrap()));
            }
        }
        assert!(!r["reasons"].as_array().unwrap().is_empty());
    }

    let calls = read_json(&out.path().join("zendesk_api_calls.json"));
    for c in calls.as_array().unwrap() {
        assert_eq!(keys(c), ["body", "method", "path"]);
        assert!(c["path"].as_str().unwrap().starts_with("/api/v2/tickets/"));
    }
    let guardian = read_json(&out.path().join("guardian_alerts_log.json"));
    let alerts = results
        .iter()
        .filter(|r| r["guardian"]["alert"] == true)
        .count();
    assert_eq!(guardian.as_array().unwrap().len(), alerts);
    let mailbox = std::fs::read_to_string(out.path().join("emails/alerts.mbox")).unwrap();
    let messages: Vec<&str> = mailbox.split("\nFrom triage@localhost ").collect();
    let opportunity_count = results
        .iter()
        .filter(|r| r["opportunity"]["detected"] == true)
        .count();
    assert_eq!(
        messages.len(),
        alerts + opportunity_count,
        "one e-mail per alert"
    );
    for a in guardian.as_array().unwrap() {
        assert!(!a["recipients"].as_array().unwrap().is_empty());
        let id = a["alert_id"].as_str().unwrap();
        let message = messages
            .iter()
            .find(|m| m.contains(&format!("X-Triage-Alert-Id: {id}\n")))
            .unwrap_or_else(|| panic!("no e-mail for {id}"));
        assert!(
            message.contains("Content-Type: text/plain")
                && message.contains("Content-Type: text/html")
        );
        assert!(message.contains(&format!("To: {}", a["recipients"][0].as_str().unwrap())));
    }
    let opportunities = read_json(&out.path().join("opportunity_alerts_log.json"));
    assert_eq!(
        opportunities.as_array().unwrap().len(),
        results
            .iter()
            .filter(|r| r["opportunity"]["detected"] == true)
            .count()
    );
    let metrics = read_json(&out.path().join("metrics_summary.json"));
    assert_eq!(metrics["tickets"], 30);
    assert_eq!(metrics["agreement"]["labelled"], 30);
    assert_eq!(
        metrics["agreement"]["confusion_matrix"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    for p in ["P0", "P1", "P2", "P3"] {
        assert!(metrics["calibration"][p]["target_pct"].is_array());
    }
    let html = std::fs::read_to_string(out.path().join("triage_report.html")).unwrap();
    for id in [
        "kpis",
        "priority-mix",
        "team-split",
        "guardian",
        "opportunities",
        "ticket-table",
        "agreement",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "section {id} missing"
        );
    }
}

fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn bad_rows_are_reported_with_their_line_and_the_rest_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = b"ticket_id,customer_name,subject,description,actual_priority,channel,timestamp,mrr,extra\n".to_vec();
    csv.extend_from_slice(b"#1,Good Co,Checkout down,Checkout is down for everyone,P0,email,2025-11-14 09:00,5000,x\n"); // line 2
    csv.extend_from_slice(b"#2,Broken Row,only three fields\n"); // line 3
    csv.extend_from_slice(
        b"#3,Mrr Co,Invoice,Where is my invoice?,P3,email,2025-11-14 09:05,lots,x\n",
    ); // line 4
    csv.extend_from_slice(b"#4,Empty Co,Export question,,P3,chat,2025-11-14 09:06,100,x\n"); // line 5
    csv.extend_from_slice(b"#5,Nothing Co,,,P3,chat,2025-11-14 09:07,100,x\n"); // line 6
    csv.extend_from_slice(b"#6,Bytes Co,Bad \xff\xfe bytes,Webhook fails with \xc3\x28 error,P2,api,2025-11-14 09:08,100,x\n"); // line 7
    let big = "a".repeat(1_048_576);
    csv.extend_from_slice(
        format!("#7,Big Co,Huge paste,\"Sync stopped. {big}\",P2,email,2025-11-14 09:09,100,x\n")
            .as_bytes(),
    ); // line 8
    csv.extend_from_slice(b",No Id,Subject,Description,P3,email,2025-11-14 09:10,100,x\n"); // line 9
    csv.extend_from_slice(
        b"#8,Last Co,Question,How do I add a user?,P3,email,2025-11-14 09:11,100,x\n",
    ); // line 10
    let input = write_bytes(dir.path(), "bad.csv", &csv);
    let out = dir.path().join("out");
    let o = run_on(&input, &out);
    let stderr = text(&o.stderr);
    assert!(
        o.status.success(),
        "usable rows exist, so the run succeeds: {stderr}"
    );
    assert!(
        stderr.contains("line 3") && stderr.contains("expected 9 fields, found 3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 4") && stderr.contains("mrr \"lots\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 5") && stderr.contains("description is empty"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 6") && stderr.contains("both empty"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 7") && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 8") && stderr.contains("only the first"),
        "{stderr}"
    );
    assert!(
        stderr.contains("line 9") && stderr.contains("ticket id is empty"),
        "{stderr}"
    );

    assert_eq!(result_ids(&out), ["#1", "#3", "#4", "#6", "#7", "#8"]);
    let metrics = read_json(&out.join("metrics_summary.json"));
    assert_eq!(metrics["input_rejected"], 3);
    let lines: Vec<u64> = metrics["input_issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["line"].as_u64().unwrap())
        .collect();
    for l in [3, 4, 5, 6, 7, 8, 9] {
        assert!(lines.contains(&l), "line {l} not in {lines:?}");
    }
}

#[test]
fn a_missing_or_unusable_file_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let nope = dir.path().join("nope.csv");
    let o = run_on(&nope, &dir.path().join("out"));
    assert!(!o.status.success());
    assert_eq!(
        text(&o.stderr).trim(),
        format!(
            "error: cannot open {}: No such file or directory (os error 2)",
            nope.display()
        ),
        "one sentence, the cause once"
    );

    let only_bad = write_bytes(
        dir.path(),
        "bad.csv",
        b"ticket_id,subject,description\n,,\n#1,,\n",
    );
    let o = run_on(&only_bad, &dir.path().join("out"));
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("no usable ticket"),
        "{}",
        text(&o.stderr)
    );

    let no_id = write_bytes(dir.path(), "noid.csv", b"id,subject,description\n1,a,b\n");
    let o = run_on(&no_id, &dir.path().join("out"));
    assert!(!o.status.success());
    assert!(
        text(&o.stderr).contains("no `ticket_id` column"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_bad_policy_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(root().join("data/policy.toml"))
        .unwrap()
        .replace("alert_threshold = 45", "alert_threshold = 450");
    let path = write_bytes(dir.path(), "policy.toml", policy.as_bytes());
    let o = triage(&[
        "run",
        "--policy",
        path.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("guardian.alert_threshold"), "{err}");
}

#[test]
fn ticket_text_is_escaped_in_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "ticket_id,customer_name,subject,description,actual_priority,channel,timestamp,mrr\n\
               #1,\"<img src=x onerror=alert(1)>\",\"<script>window.__xss=1</script>\",\"Checkout down </td></tr><script>window.__xss=2</script>\",P0,email,2025-11-14 09:00,900\n";
    let input = write_bytes(dir.path(), "xss.csv", csv.as_bytes());
    let out = dir.path().join("out");
    let o = run_on(&input, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let html = std::fs::read_to_string(out.join("triage_report.html")).unwrap();
    assert!(
        !html.contains("<script>window.__xss"),
        "raw script from a ticket"
    );
    assert!(!html.contains("<img src=x"), "raw markup from a ticket");
    assert!(html.contains("&lt;script&gt;window.__xss=1&lt;/script&gt;"));
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(html.contains("Content-Security-Policy"));
}

#[test]
fn labels_never_change_a_decision() {
    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(root().join("data/tickets_input.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(original.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let mut w = csv::Writer::from_path(dir.path().join("relabelled.csv")).unwrap();
    w.write_record(&headers).unwrap();
    for (i, r) in rdr.records().enumerate() {
        let mut r: Vec<String> = r.unwrap().iter().map(str::to_string).collect();
        r[4] = ["P0", "P3", "P1", "P2"][i % 4].to_string();
        w.write_record(&r).unwrap();
    }
    w.flush().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    assert!(
        run_on(&root().join("data/tickets_input.csv"), &a)
            .status
            .success()
    );
    assert!(
        run_on(&dir.path().join("relabelled.csv"), &b)
            .status
            .success()
    );
    assert_eq!(
        std::fs::read_to_string(a.join("triage_results.json")).unwrap(),
        std::fs::read_to_string(b.join("triage_results.json")).unwrap()
    );
}

#[test]
fn eval_reports_agreement_as_text_and_json() {
    let o = triage(&["eval", "--input", "data/dev/dev_tickets.csv", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["labelled"].as_u64().unwrap() >= 150);
    for k in [
        "priority_exact",
        "priority_within_one",
        "confusion_matrix",
        "per_priority",
        "team",
        "churn",
        "opportunity",
    ] {
        assert!(!v[k].is_null(), "{k} missing");
    }
    assert!(v["churn"]["f1"].as_f64().is_some());
    let o = triage(&["eval", "--input", "data/tickets_input.csv"]);
    let out = text(&o.stdout);
    assert!(
        out.contains("exact") && out.contains("within one level"),
        "{out}"
    );
    let unlabelled = tempfile::tempdir().unwrap();
    let p = write_bytes(
        unlabelled.path(),
        "u.csv",
        b"ticket_id,subject,description\n#1,a,b\n",
    );
    let o = triage(&["eval", "--input", p.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(text(&o.stderr).contains("no actual_priority column"));
}

#[test]
fn a_teams_own_phrases_change_a_decision_and_a_bad_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_bytes(
        dir.path(),
        "flux.csv",
        b"ticket_id,customer_name,subject,description,channel,mrr\n\
          F-1,Harbor Goods,Fluxomat,\"Hi, Fluxomat has been stuck since 06:00, nothing has left it for three hours. Can you check?\",email,4000\n",
    );
    let decide = |extra: &[&str]| -> Value {
        let out = dir.path().join(format!("out{}", extra.len()));
        let mut args = vec![
            "run",
            "--input",
            csv.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--demo-mode",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let o = triage(&args);
        assert!(o.status.success(), "{}", text(&o.stderr));
        read_json(&out.join("triage_results.json"))[0].clone()
    };
    let shipped = decide(&[]);
    let ours = decide(&["--policy-dir", "data/examples/team-policy"]);
    assert_eq!(shipped["priority"], "P2", "{shipped}");
    assert_eq!(ours["priority"], "P0", "{ours}");
    assert!(
        ours["reasons"][0]
            .as_str()
            .unwrap()
            .contains("outage 'fluxomat has been stuck'"),
        "{ours}"
    );

    let bad = dir.path().join("bad");
    std::fs::create_dir_all(bad.join("phrases")).unwrap();
    std::fs::write(
        bad.join("phrases/ours.toml"),
        "# ours\n[outage]\nphrases = [\n  \"fluxomat ~\",\n]\n",
    )
    .unwrap();
    let o = triage(&[
        "run",
        "--input",
        csv.to_str().unwrap(),
        "--out",
        dir.path().join("never").to_str().unwrap(),
        "--policy-dir",
        bad.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(
        err.contains("ours.toml:4: phrase \"fluxomat ~\": a pattern cannot end with a gap"),
        "{err}"
    );
}

#[test]
fn line_numbers_are_the_editors_and_duplicates_channels_and_times_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let csv = write_bytes(
        dir.path(),
        "t.csv",
        b"ticket_id,subject,description,channel,timestamp\n\
          A1,Sync,\"Two lines\nin one field\",email,2025-11-14 09:23\n\
          A2,Export,Export is slow,fax,last tuesday\n\
          A1,Sync again,The same id,email,2025-11-14T10:00:00Z\n\
          A3,Login,Cannot log in,web_form,2025-11-14\n",
    );
    let out = dir.path().join("out");
    let o = run_on(&csv, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    // The header is line 1; A1 spans lines 2-3, so A2 starts on line 4.
    assert!(
        err.contains("line 4: warning: ticket A2: channel \"fax\""),
        "{err}"
    );
    assert!(
        err.contains("line 4: warning: ticket A2: timestamp \"last tuesday\""),
        "{err}"
    );
    assert!(
        err.contains("line 5: row skipped: ticket A1: ticket id A1 was read at line 2 already; the first copy is used"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 3, "nothing else is reported: {err}");
    assert_eq!(result_ids(&out), ["A1", "A2", "A3"]);
}

#[test]
fn generated_tickets_are_read_without_a_problem() {
    // Two months of generated traffic: every row must be a ticket the run reads as
    // written (a date that does not exist would be warned about and lose its time).
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("generated.csv");
    let out = dir.path().join("out");
    let o = triage(&[
        "generate",
        "--count",
        "3000",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run_on(&csv, &out);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
    assert_eq!(result_ids(&out).len(), 3000);
    let stamps: Vec<String> = csv::Reader::from_path(&csv)
        .unwrap()
        .records()
        .map(|r| r.unwrap()[6].to_owned())
        .collect();
    assert!(stamps.first().unwrap().starts_with("2025-10-01"));
    assert!(stamps.last().unwrap().starts_with("2025-11-30"));
}

#[test]
fn an_outage_reported_by_several_accounts_becomes_one_incident() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let rows = [
        (
            "5001",
            "Harbor Goods",
            "2025-11-03T09:00:00Z",
            "Invoice copy",
            "Could you send a copy of the October invoice?",
            "",
        ),
        (
            "5002",
            "Kiln Coffee",
            "2025-11-03T09:02:00Z",
            "Orders slow to sync",
            "Hi, our Shopify orders seem slow to sync since 9am, about 40 orders are missing in the app.",
            "outage-1",
        ),
        (
            "5003",
            "Fjord Outdoor",
            "2025-11-03T09:05:00Z",
            "order sync delayed",
            "hey, orders from shopify are syncing really slowly today, new orders missing",
            "outage-1",
        ),
        (
            "5004",
            "Atlas Books",
            "2025-11-03T09:06:00Z",
            "Export question",
            "How do I export last quarter as CSV?",
            "",
        ),
        (
            "5005",
            "Iris Studio",
            "2025-11-03T09:09:00Z",
            "Shopify orders not syncing",
            "Hello, new Shopify orders are not syncing to your dashboard, the last order synced an hour ago.",
            "outage-1",
        ),
        (
            "5006",
            "Cedar Home",
            "2025-11-03T09:15:00Z",
            "Sync delay on orders",
            "Our orders from Shopify are delayed, the sync seems stuck and orders are missing.",
            "outage-1",
        ),
        (
            "5007",
            "Pebble Toys",
            "2025-11-03T09:40:00Z",
            "Missing orders",
            "Orders placed on our Shopify store this morning are missing, is the order sync slow?",
            "outage-1",
        ),
    ];
    let mut csv =
        String::from("ticket_id,customer_name,timestamp,subject,description,mrr,actual_incident\n");
    for (id, customer, at, subject, body, label) in rows {
        csv.push_str(&format!(
            "{id},{customer},{at},{subject},\"{body}\",2000,{label}\n"
        ));
    }
    let input = write_bytes(dir.path(), "outage.csv", csv.as_bytes());
    let o = run_on(&input, &out);
    assert!(o.status.success(), "{}", text(&o.stderr));

    // One problem ticket, created once, with the incident's id as its external id.
    let calls = read_json(&out.join("zendesk_api_calls.json"));
    let calls = calls.as_array().unwrap();
    let created: Vec<&Value> = calls.iter().filter(|c| c["method"] == "POST").collect();
    assert_eq!(created.len(), 1, "{created:?}");
    let problem = &created[0]["body"]["ticket"];
    assert_eq!(problem["type"], "problem");
    assert_eq!(problem["external_id"], "INC-5002");
    // Every member is linked to it (the first three by the declaring ticket, the later
    // ones in their own update) and none of the others. The fifth account makes it a
    // P0 (the policy's size): every member is raised to urgent.
    let links = |id: &str| -> Vec<&Value> {
        let path = format!("/api/v2/tickets/{id}.json");
        calls
            .iter()
            .filter(|c| c["path"] == path.as_str() && c["body"]["ticket"]["problem_id"].is_u64())
            .collect()
    };
    for id in ["5002", "5003", "5005", "5006", "5007"] {
        let l = links(id);
        assert!(!l.is_empty(), "{id} is linked");
        assert!(
            l.iter()
                .all(|c| c["body"]["ticket"]["problem_id"] == 900000001),
            "{id}: {l:?}"
        );
        assert!(
            l.iter()
                .any(|c| c["body"]["ticket"]["priority"] == "urgent"),
            "{id} raised to urgent: {l:?}"
        );
    }
    let linked: Vec<String> = calls
        .iter()
        .filter(|c| c["body"]["ticket"]["problem_id"].is_u64())
        .map(|c| c["path"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !linked
            .iter()
            .any(|p| p.contains("5001") || p.contains("5004"))
    );

    // On-call heard once.
    let alerts = read_json(&out.join("incident_alerts_log.json"));
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["kind"], "incident");
    assert_eq!(alerts[0]["recipients"][0], "oncall@example.com");

    // Decisions after the declaration carry the incident and at least P1; the
    // dashboard and metrics show it, scored against the labels.
    let results = read_json(&out.join("triage_results.json"));
    for r in results.as_array().unwrap() {
        let id = r["ticket_id"].as_str().unwrap();
        if ["5005", "5006", "5007"].contains(&id) {
            assert_eq!(r["incident"]["id"], "INC-5002", "{id}");
            assert!(
                matches!(r["priority"].as_str(), Some("P0" | "P1")),
                "{id}: {r}"
            );
        } else {
            assert!(r.get("incident").is_none(), "{id}");
        }
        assert!(r["sla"]["first_response_due"].is_i64(), "{id}");
    }
    let metrics = read_json(&out.join("metrics_summary.json"));
    assert_eq!(metrics["incidents"]["declared"], 1);
    assert_eq!(metrics["incidents"]["members"], 5);
    assert_eq!(
        read_json(&out.join("incident_alerts_log.json"))[0]["priority"],
        "P1",
        "on-call heard once, when it was declared"
    );
    let score = &metrics["incidents"]["score"];
    assert_eq!(score["precision"], 1.0);
    assert_eq!(score["recall"], 1.0);
    assert_eq!(score["false_incidents"], 0);
    assert_eq!(score["per_outage"][0]["before_declared"], 2);
    let page = std::fs::read_to_string(out.join("triage_report.html")).unwrap();
    assert!(page.contains("id=\"incidents\""));
    assert!(page.contains("data-incident=\"INC-5002\""));
}
