//! Customer accounts (`data/accounts.json`): organization, plan, renewal date and the
//! Key Account Manager who receives Guardian alerts for the account.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::text::fold;

pub const DEFAULT_ACCOUNTS: &str = include_str!("../../data/accounts.json");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub customer_name: String,
    #[serde(default)]
    pub organization_id: Option<String>,
    #[serde(default)]
    pub plan: Option<String>,
    #[serde(default)]
    pub kam_name: Option<String>,
    #[serde(default)]
    pub kam_email: Option<String>,
    #[serde(default)]
    pub renewal_date: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AccountsFile {
    accounts: Vec<Account>,
}

#[derive(Debug, Clone, Default)]
pub struct AccountDirectory {
    accounts: Vec<Account>,
    by_name: HashMap<String, usize>,
    by_org: HashMap<String, usize>,
}

#[derive(Debug, thiserror::Error)]
#[error("accounts file: {0}")]
pub struct AccountsError(String);

impl AccountDirectory {
    pub fn parse(json: &str) -> Result<Self, AccountsError> {
        let file: AccountsFile =
            serde_json::from_str(json).map_err(|e| AccountsError(e.to_string()))?;
        let mut dir = AccountDirectory::default();
        for (i, a) in file.accounts.into_iter().enumerate() {
            dir.by_name.insert(fold(a.customer_name.trim()), i);
            if let Some(org) = &a.organization_id {
                dir.by_org.insert(org.clone(), i);
            }
            dir.accounts.push(a);
        }
        Ok(dir)
    }

    pub fn embedded() -> Result<Self, AccountsError> {
        Self::parse(DEFAULT_ACCOUNTS)
    }

    /// The account by organization id, else by customer name (case and accents ignored).
    pub fn find(&self, organization_id: Option<&str>, customer_name: &str) -> Option<&Account> {
        organization_id
            .and_then(|o| self.by_org.get(o))
            .or_else(|| self.by_name.get(&fold(customer_name.trim())))
            .map(|&i| &self.accounts[i])
    }

    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_accounts_by_org_or_name() {
        let d = AccountDirectory::parse(
            r#"{"accounts":[{"customer_name":"Nordlicht Mode GmbH","organization_id":"9","kam_email":"k@example.com"}]}"#,
        )
        .unwrap();
        assert!(d.find(Some("9"), "other").is_some());
        assert!(d.find(None, "  NORDLICHT mode gmbh ").is_some());
        assert!(d.find(None, "Unknown").is_none());
        assert!(AccountDirectory::embedded().unwrap().len() >= 20);
    }
}
