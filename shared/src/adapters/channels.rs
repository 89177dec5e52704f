//! Which alert channels the environment sets up: an e-mail provider (SendGrid or SES)
//! and Slack. Without any, alerts are written (locally to a mailbox file, on AWS to
//! the bucket).

use super::http::sendgrid::SendGridConfig;
use crate::settings::{DEFAULT_ALERT_FROM, Env, SettingsError};

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
        .unwrap_or_else(|| DEFAULT_ALERT_FROM.into());
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
    use crate::settings::env;

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
}
