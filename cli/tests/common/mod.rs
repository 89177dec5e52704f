//! Helpers the `triage` binary's tests share: the repository root and running the
//! binary there.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `triage` in the repository root, with no Zendesk configured.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_triage"));
    command
        .args(args)
        .current_dir(root())
        .env_remove("ZENDESK_SUBDOMAIN")
        .env_remove("ZENDESK_BASE_URL");
    command
}

/// Runs `triage` in the repository root, with no Zendesk configured.
pub fn triage(args: &[&str]) -> Output {
    command(args).output().expect("the binary runs")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The output of a run that must have succeeded.
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}{}", text(&o.stdout), text(&o.stderr));
    text(&o.stdout)
}

pub fn read_json(path: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The ticket ids of a run's `triage_results.json`, in order.
pub fn result_ids(out: &Path) -> Vec<String> {
    let results = read_json(&out.join("triage_results.json"));
    results
        .as_array()
        .expect("results are a list")
        .iter()
        .map(|r| r["ticket_id"].as_str().expect("a ticket id").to_owned())
        .collect()
}
