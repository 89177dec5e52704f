//! Settings read once at start from the environment: the reader every adapter and
//! function uses ([`Env`]), and the settings the four Lambda functions share
//! ([`FunctionConfig`]). Each adapter reads its own settings next to its code.

use std::time::Duration;

use crate::policy::Policy;

/// The sender of alert e-mails when `ALERT_FROM_EMAIL` is not set.
pub const DEFAULT_ALERT_FROM: &str = "triage-alerts@example.com";

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingsError {
    #[error("environment variable {name} is required but not set")]
    Missing { name: &'static str },
    #[error("environment variable {name}: {problem}")]
    Invalid { name: &'static str, problem: String },
}

/// Reads a variable through `lookup` (the process environment in production, a map in
/// tests); empty values count as unset.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &'static str) -> Result<String, SettingsError> {
        self.get(name).ok_or(SettingsError::Missing { name })
    }

    pub fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
    ) -> Result<Option<T>, SettingsError>
    where
        T::Err: std::fmt::Display,
    {
        self.get(name)
            .map(|v| {
                v.parse::<T>().map_err(|e| SettingsError::Invalid {
                    name,
                    problem: format!("{v:?}: {e}"),
                })
            })
            .transpose()
    }
}

/// The process environment.
pub fn process_env() -> Env<fn(&str) -> Option<String>> {
    Env(|name| std::env::var(name).ok())
}

/// An environment of the given pairs (tests, and settings read from a file).
pub fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String> + use<>> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Env(move |k: &str| map.get(k).cloned())
}

/// The settings the Lambda functions share, read once in each `main`: the table, the
/// bucket and the queues (required by the functions that use them: see the
/// accessors), the retention, the alerts' sender, and from the policy the history
/// window and the batch budget.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionConfig {
    /// `TABLE_NAME`.
    pub table: String,
    /// `RETENTION_DAYS`, default 30: the TTL of stored items.
    pub retention_days: u32,
    /// `ALERT_FROM_EMAIL`.
    pub alert_from: String,
    /// How far back a customer's tickets count for Guardian (the policy's).
    pub history_days: u32,
    /// Time for a queue batch when the invocation's deadline is unknown (the policy's).
    pub batch_budget: Duration,
    bucket: Option<String>,
    triage_queue_url: Option<String>,
    alerts_queue_url: Option<String>,
}

impl FunctionConfig {
    pub fn read<F: Fn(&str) -> Option<String>>(
        env: &Env<F>,
        policy: &Policy,
    ) -> Result<Self, SettingsError> {
        Ok(Self {
            table: env.require("TABLE_NAME")?,
            retention_days: env.parse("RETENTION_DAYS")?.unwrap_or(30),
            alert_from: env
                .get("ALERT_FROM_EMAIL")
                .unwrap_or_else(|| DEFAULT_ALERT_FROM.into()),
            history_days: policy.guardian.history.window_days,
            batch_budget: Duration::from_millis(policy.limits.batch_budget_ms),
            bucket: env.get("REPORT_BUCKET"),
            triage_queue_url: env.get("TRIAGE_QUEUE_URL"),
            alerts_queue_url: env.get("ALERTS_QUEUE_URL"),
        })
    }

    /// `REPORT_BUCKET`.
    pub fn bucket(&self) -> Result<&str, SettingsError> {
        self.bucket.as_deref().ok_or(SettingsError::Missing {
            name: "REPORT_BUCKET",
        })
    }

    /// `TRIAGE_QUEUE_URL`.
    pub fn triage_queue_url(&self) -> Result<&str, SettingsError> {
        self.triage_queue_url
            .as_deref()
            .ok_or(SettingsError::Missing {
                name: "TRIAGE_QUEUE_URL",
            })
    }

    /// `ALERTS_QUEUE_URL`.
    pub fn alerts_queue_url(&self) -> Result<&str, SettingsError> {
        self.alerts_queue_url
            .as_deref()
            .ok_or(SettingsError::Missing {
                name: "ALERTS_QUEUE_URL",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_functions_share_one_reading_of_their_settings() {
        let policy = Policy::default_policy();
        let c = FunctionConfig::read(
            &env(&[
                ("TABLE_NAME", "t"),
                ("REPORT_BUCKET", "b"),
                ("RETENTION_DAYS", "7"),
            ]),
            &policy,
        )
        .unwrap();
        assert_eq!((c.table.as_str(), c.retention_days), ("t", 7));
        assert_eq!(c.alert_from, DEFAULT_ALERT_FROM);
        assert_eq!(c.history_days, policy.guardian.history.window_days);
        assert_eq!(c.bucket().unwrap(), "b");
        assert_eq!(
            c.triage_queue_url().unwrap_err().to_string(),
            "environment variable TRIAGE_QUEUE_URL is required but not set"
        );
        let err = FunctionConfig::read(
            &env(&[("TABLE_NAME", "t"), ("RETENTION_DAYS", "x")]),
            &policy,
        )
        .unwrap_err();
        assert!(err.to_string().contains("RETENTION_DAYS"), "{err}");
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let err = env(&[("RETENTION_DAYS", "abc")])
            .parse::<u32>("RETENTION_DAYS")
            .unwrap_err();
        assert!(err.to_string().contains("RETENTION_DAYS"), "{err}");
        assert_eq!(
            env(&[]).require("TABLE_NAME").unwrap_err().to_string(),
            "environment variable TABLE_NAME is required but not set"
        );
    }
}
