//! IAM permission names (`service.resource.verb`): validation, and parsing of pasted lists.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// A syntactically valid IAM permission name such as `compute.instances.create`.
///
/// Google rejects a whole `testIamPermissions` call for one malformed name, so names are checked
/// before any request. Accepted shape: three dot-separated parts of ASCII letters, digits and `_`
/// (two real permissions use `_`), where the first part may also be a partner service domain
/// followed by `/` (e.g. `cloudvolumesgcp-api.netapp.com/volumes.create`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Permission(String);

/// Why a string is not a permission name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermissionError {
    /// Nothing was given.
    Empty,
    /// Contains `*`: Google does not allow wildcards in `testIamPermissions`.
    Wildcard,
    /// Not three dot-separated parts.
    Shape,
    /// A character outside letters, digits, `_` (and `-`, `.`, `/` in a partner domain).
    BadCharacter(char),
    /// Longer than any real permission name (256 characters).
    TooLong,
}

impl fmt::Display for PermissionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PermissionError::Empty => f.write_str("is empty"),
            PermissionError::Wildcard => {
                f.write_str("contains a wildcard (*); Google tests only exact permission names")
            }
            PermissionError::Shape => {
                f.write_str("must have the form service.resource.verb (three parts joined by dots)")
            }
            PermissionError::BadCharacter(c) => write!(f, "contains the character '{c}'"),
            PermissionError::TooLong => f.write_str("is longer than 256 characters"),
        }
    }
}

impl std::error::Error for PermissionError {}

const MAX_LEN: usize = 256;

impl Permission {
    /// Validates `text` (surrounding white space is ignored).
    pub fn parse(text: &str) -> Result<Self, PermissionError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PermissionError::Empty);
        }
        if text.len() > MAX_LEN {
            return Err(PermissionError::TooLong);
        }
        if text.contains('*') {
            return Err(PermissionError::Wildcard);
        }
        // A partner permission is `<domain>/<resource>.<verb>`: the domain stands for the service.
        let (domain, rest) = match text.split_once('/') {
            Some((domain, rest)) => (Some(domain), rest),
            None => (None, text),
        };
        if let Some(domain) = domain {
            if domain.is_empty() || !domain.contains('.') {
                return Err(PermissionError::Shape);
            }
            if let Some(c) = domain
                .chars()
                .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
            {
                return Err(PermissionError::BadCharacter(c));
            }
        }
        let parts: Vec<&str> = rest.split('.').collect();
        let expected = if domain.is_some() { 2 } else { 3 };
        if parts.len() != expected || parts.iter().any(|p| p.is_empty()) {
            return Err(PermissionError::Shape);
        }
        for part in &parts {
            if let Some(c) = part
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
            {
                return Err(PermissionError::BadCharacter(c));
            }
        }
        Ok(Permission(text.to_owned()))
    }

    /// The name, e.g. `compute.instances.create`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The service prefix, e.g. `compute` (or the partner domain).
    pub fn service(&self) -> &str {
        match self.0.split_once('/') {
            Some((domain, _)) => domain,
            None => self.0.split('.').next().unwrap_or(&self.0),
        }
    }

    /// Google's reference page that documents this permission's service.
    pub fn doc_url(&self) -> String {
        format!(
            "https://cloud.google.com/iam/docs/permissions-reference#{}",
            self.service()
        )
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Permission {
    type Error = PermissionError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Permission::parse(&value)
    }
}

impl From<Permission> for String {
    fn from(p: Permission) -> String {
        p.0
    }
}

/// A name from a pasted list that is not a permission, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The text as it was pasted.
    pub text: String,
    /// Why it was rejected.
    pub reason: PermissionError,
}

/// The outcome of parsing a pasted permission list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedList {
    /// Valid, distinct permissions, in the order first seen.
    pub permissions: Vec<Permission>,
    /// Entries that are not permission names.
    pub rejected: Vec<Rejected>,
    /// How many repeated entries were folded away.
    pub duplicates: usize,
}

/// Parses a pasted list: one permission per line, or separated by commas, semicolons or spaces.
///
/// Quotes and brackets (JSON, Terraform), YAML list dashes, and `key:` words (a custom role's
/// `includedPermissions:`) are ignored, as is anything after `#` on a line.
pub fn parse_list(text: &str) -> ParsedList {
    let mut out = ParsedList::default();
    let mut seen = BTreeSet::new();
    let entries = text
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(|line| line.split(|c: char| c.is_whitespace() || c == ',' || c == ';'))
        .map(|word| word.trim_matches(|c: char| matches!(c, '"' | '\'' | '[' | ']' | '`')))
        .filter(|word| !word.is_empty() && *word != "-" && !word.ends_with(':'));
    for entry in entries {
        match Permission::parse(entry) {
            Ok(p) => {
                if seen.insert(p.clone()) {
                    out.permissions.push(p);
                } else {
                    out.duplicates += 1;
                }
            }
            Err(reason) => out.rejected.push(Rejected {
                text: entry.to_owned(),
                reason,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_names() {
        for name in [
            "compute.instances.create",
            "iam.serviceAccounts.actAs",
            "networkservices.route_views.get",
            "cloudvolumesgcp-api.netapp.com/volumes.create",
            "resourcemanager.projects.getIamPolicy",
        ] {
            assert_eq!(Permission::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn rejects_bad_names_with_reasons() {
        assert_eq!(Permission::parse(" "), Err(PermissionError::Empty));
        assert_eq!(
            Permission::parse("storage.*"),
            Err(PermissionError::Wildcard)
        );
        assert_eq!(
            Permission::parse("compute.instances"),
            Err(PermissionError::Shape)
        );
        assert_eq!(Permission::parse("a.b.c.d"), Err(PermissionError::Shape));
        assert_eq!(Permission::parse("a..c"), Err(PermissionError::Shape));
        assert_eq!(
            Permission::parse("compute.inst-ances.get"),
            Err(PermissionError::BadCharacter('-'))
        );
        assert_eq!(
            Permission::parse(&format!("a.b.{}", "c".repeat(300))),
            Err(PermissionError::TooLong)
        );
        assert!(PermissionError::Wildcard.to_string().contains("wildcard"));
    }

    #[test]
    fn service_and_docs() {
        let p = Permission::parse("compute.firewalls.create").unwrap();
        assert_eq!(p.service(), "compute");
        assert!(p.doc_url().ends_with("#compute"));
    }

    #[test]
    fn parses_mixed_lists() {
        let text = "includedPermissions:\n- compute.instances.create\n\"storage.buckets.get\", storage.buckets.get\n  iam.*.x # wildcard\nbogus\n";
        let parsed = parse_list(text);
        let names: Vec<_> = parsed.permissions.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, ["compute.instances.create", "storage.buckets.get"]);
        assert_eq!(parsed.duplicates, 1);
        assert_eq!(parsed.rejected.len(), 2);
        assert_eq!(parsed.rejected[0].reason, PermissionError::Wildcard);
        assert_eq!(parsed.rejected[1].text, "bogus");
    }

    #[test]
    fn empty_input_is_empty() {
        assert_eq!(parse_list("  \n ,, \n"), ParsedList::default());
    }

    #[test]
    fn five_thousand_names() {
        let text: String = (0..5000)
            .map(|i| format!("svc{}.things.verb{}\n", i % 50, i))
            .collect();
        let parsed = parse_list(&text);
        assert_eq!(parsed.permissions.len(), 5000);
        assert!(parsed.rejected.is_empty());
    }

    #[test]
    fn serde_round_trip_validates() {
        let p: Permission = serde_json::from_str("\"compute.disks.list\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"compute.disks.list\"");
        assert!(serde_json::from_str::<Permission>("\"nope\"").is_err());
    }
}
