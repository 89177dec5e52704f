//! Settings read once at start from the environment (and `data/zendesk.toml` for the
//! custom field ids), shared by the CLI and the Lambda functions.

use serde::Deserialize;

use crate::adapters::http::sendgrid::SendGridConfig;
use crate::alerts::AlertRouting;
use crate::pipeline::PipelineSettings;
use crate::zendesk::CustomFieldIds;

pub const DEFAULT_ZENDESK_TOML: &str = include_str!("../../data/zendesk.toml");

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

#[derive(Debug, Deserialize)]
struct ZendeskToml {
    custom_fields: FieldsToml,
}

#[derive(Debug, Deserialize)]
struct FieldsToml {
    guardian_risk_score: u64,
    opportunity_intent: u64,
    agent_id: u64,
}

/// Pipeline settings: custom field ids, alert recipients and links.
pub fn pipeline_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<PipelineSettings, SettingsError> {
    let defaults: ZendeskToml =
        toml::from_str(DEFAULT_ZENDESK_TOML).map_err(|e| SettingsError::Invalid {
            name: "data/zendesk.toml",
            problem: e.to_string(),
        })?;
    let field = |name: &'static str, default: u64| -> Result<Option<u64>, SettingsError> {
        let v = env.parse::<u64>(name)?.unwrap_or(default);
        Ok((v != 0).then_some(v))
    };
    let custom_fields = CustomFieldIds {
        guardian_risk_score: field(
            "ZENDESK_FIELD_GUARDIAN_RISK_SCORE",
            defaults.custom_fields.guardian_risk_score,
        )?,
        opportunity_intent: field(
            "ZENDESK_FIELD_OPPORTUNITY_INTENT",
            defaults.custom_fields.opportunity_intent,
        )?,
        agent_id: field("ZENDESK_FIELD_AGENT_ID", defaults.custom_fields.agent_id)?,
    };
    let base = AlertRouting::default();
    let zendesk_url = match (env.get("ZENDESK_BASE_URL"), env.get("ZENDESK_SUBDOMAIN")) {
        (Some(url), _) => Some(url.trim_end_matches('/').to_string()),
        (None, Some(sub)) => Some(format!("https://{sub}.zendesk.com")),
        _ => None,
    };
    Ok(PipelineSettings {
        custom_fields,
        routing: AlertRouting {
            guardian_email: env.get("GUARDIAN_EMAIL").unwrap_or(base.guardian_email),
            opportunity_email: env
                .get("OPPORTUNITY_EMAIL")
                .unwrap_or(base.opportunity_email),
            zendesk_url,
            dashboard_url: env.get("DASHBOARD_URL"),
        },
    })
}

/// Which e-mail provider sends alerts.
#[derive(Debug, Clone, PartialEq)]
pub enum EmailProvider {
    SendGrid(SendGridConfig),
    /// Amazon SES v2 (AWS deployments), from this address.
    Ses {
        from: String,
    },
}

/// The alert channels configured in the environment: `EMAIL_PROVIDER` (`sendgrid`,
/// the default when `SENDGRID_API_KEY` is set, or `ses`), `SENDGRID_API_KEY`,
/// `SENDGRID_BASE_URL`, `ALERT_FROM_EMAIL`, and `SLACK_WEBHOOK_URL`. With none of
/// them, alerts are written (locally to `emails/alerts.mbox`, in AWS to the bucket).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertChannels {
    pub email: Option<EmailProvider>,
    pub slack_webhook_url: Option<String>,
}

pub fn alert_channels<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<AlertChannels, SettingsError> {
    let from = env
        .get("ALERT_FROM_EMAIL")
        .unwrap_or_else(|| "triage-alerts@example.com".into());
    let email = match env
        .get("EMAIL_PROVIDER")
        .map(|p| p.to_ascii_lowercase())
        .as_deref()
    {
        Some("ses") => Some(EmailProvider::Ses { from }),
        Some("sendgrid") | None => env.get("SENDGRID_API_KEY").map(|key| {
            EmailProvider::SendGrid(SendGridConfig::new(key, from, env.get("SENDGRID_BASE_URL")))
        }),
        Some(other) => {
            return Err(SettingsError::Invalid {
                name: "EMAIL_PROVIDER",
                problem: format!("{other:?} is not sendgrid or ses"),
            });
        }
    };
    Ok(AlertChannels {
        email,
        slack_webhook_url: env.get("SLACK_WEBHOOK_URL"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Env(move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn defaults_come_from_the_shipped_file_and_env_overrides() {
        let s = pipeline_settings(&env(&[])).unwrap();
        assert_eq!(s.custom_fields.guardian_risk_score, Some(360000000101));
        assert_eq!(s.routing.zendesk_url, None);
        let s = pipeline_settings(&env(&[
            ("ZENDESK_FIELD_AGENT_ID", "0"),
            ("ZENDESK_SUBDOMAIN", "acme"),
            ("GUARDIAN_EMAIL", "kam@acme.test"),
        ]))
        .unwrap();
        assert_eq!(s.custom_fields.agent_id, None);
        assert_eq!(
            s.routing.zendesk_url.as_deref(),
            Some("https://acme.zendesk.com")
        );
        assert_eq!(s.routing.guardian_email, "kam@acme.test");
    }

    #[test]
    fn alert_channels_follow_the_environment() {
        assert_eq!(alert_channels(&env(&[])).unwrap(), AlertChannels::default());
        let c = alert_channels(&env(&[
            ("SENDGRID_API_KEY", "SG.x"),
            ("SLACK_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
        ]))
        .unwrap();
        assert!(
            matches!(c.email, Some(EmailProvider::SendGrid(ref s)) if s.api_key == "SG.x" && s.base_url == "https://api.sendgrid.com")
        );
        assert_eq!(
            c.slack_webhook_url.as_deref(),
            Some("http://127.0.0.1:9/hook")
        );
        let c = alert_channels(&env(&[
            ("EMAIL_PROVIDER", "ses"),
            ("ALERT_FROM_EMAIL", "a@b.test"),
        ]))
        .unwrap();
        assert_eq!(
            c.email,
            Some(EmailProvider::Ses {
                from: "a@b.test".into()
            })
        );
        assert!(alert_channels(&env(&[("EMAIL_PROVIDER", "pigeon")])).is_err());
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let err = pipeline_settings(&env(&[("ZENDESK_FIELD_AGENT_ID", "abc")])).unwrap_err();
        assert!(err.to_string().contains("ZENDESK_FIELD_AGENT_ID"), "{err}");
        assert_eq!(
            env(&[]).require("TABLE_NAME").unwrap_err().to_string(),
            "environment variable TABLE_NAME is required but not set"
        );
    }
}
