//! Names the user types, validated before any request: project IDs, bucket names and
//! service-account emails. Each error says what is wrong in words a user can act on.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A GCP project ID: 6–30 characters of lowercase letters, digits and hyphens, starting with a
/// letter and not ending with a hyphen; or the legacy domain-scoped form `example.com:my-project`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectId(String);

/// A Cloud Storage bucket name, following Google's bucket naming rules.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BucketName(String);

/// A service account's email, e.g. `skypilot-v1@my-project.iam.gserviceaccount.com`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ServiceAccountEmail(String);

/// Why a typed name was refused; `Display` gives the sentence shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameError(String);

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NameError {}

fn err(message: impl Into<String>) -> NameError {
    NameError(message.into())
}

/// Checks the project-name part shared by the modern and the legacy form.
fn check_project_part(id: &str, whole: &str) -> Result<(), NameError> {
    let len = id.chars().count();
    if !(6..=30).contains(&len) {
        return Err(err(format!(
            "Project ID \"{whole}\" must be 6 to 30 characters long (it has {len})."
        )));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let hint = if c.is_ascii_uppercase() {
            " Project IDs are lowercase."
        } else {
            ""
        };
        return Err(err(format!(
            "Project ID \"{whole}\" contains '{c}': only lowercase letters, digits and hyphens are allowed.{hint}"
        )));
    }
    if !id.starts_with(|c: char| c.is_ascii_lowercase()) {
        if id.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(format!(
                "\"{whole}\" looks like a project number; enter the project ID (e.g. my-project-123)."
            )));
        }
        return Err(err(format!(
            "Project ID \"{whole}\" must start with a letter."
        )));
    }
    if id.ends_with('-') {
        return Err(err(format!(
            "Project ID \"{whole}\" must not end with a hyphen."
        )));
    }
    for word in ["google", "undefined", "null", "ssl"] {
        if id.contains(word) {
            return Err(err(format!(
                "Project ID \"{whole}\" contains \"{word}\", which Google does not allow in project IDs."
            )));
        }
    }
    Ok(())
}

impl ProjectId {
    /// Validates a project ID (surrounding white space is ignored).
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(err("Enter a project ID."));
        }
        match text.split_once(':') {
            Some((domain, id)) => {
                let domain_ok = domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && domain.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.'
                    });
                if !domain_ok {
                    return Err(err(format!(
                        "\"{text}\" is not a valid domain-scoped project ID: the part before ':' must be a lowercase domain such as example.com."
                    )));
                }
                // Legacy domain-scoped projects predate the "google" rule (google.com:… exists).
                check_project_part(id, text)?;
            }
            None => check_project_part(text, text)?,
        }
        Ok(ProjectId(text.to_owned()))
    }

    /// The ID as typed, e.g. `my-project` or `example.com:my-project`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl BucketName {
    /// Validates a bucket name. SkyPilot's `jobs.bucket` form `gs://bucket/sub/path` is
    /// accepted: the `gs://` prefix and any sub-path are dropped, since permissions are granted
    /// on the bucket (`controller_utils.py` splits the URL the same way).
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let name = text.trim();
        let name = name.strip_prefix("gs://").unwrap_or(name);
        let name = name
            .split_once('/')
            .map_or(name, |(bucket, _sub_path)| bucket);
        if name.is_empty() {
            return Err(err("Enter a bucket name."));
        }
        let bad = |why: &str| err(format!("Bucket name \"{name}\" {why}"));
        if let Some(c) = name.chars().find(|c| {
            !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        }) {
            return Err(bad(&format!(
                "contains '{c}': only lowercase letters, digits, '-', '_' and '.' are allowed."
            )));
        }
        let len = name.len();
        let max = if name.contains('.') { 222 } else { 63 };
        if len < 3 || len > max {
            return Err(bad(&format!(
                "must be 3 to {max} characters long (it has {len})."
            )));
        }
        if name
            .split('.')
            .any(|part| part.is_empty() || part.len() > 63)
        {
            return Err(bad(
                "has an empty or over-long dot-separated part (63 at most).",
            ));
        }
        let edge_ok =
            |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
            return Err(bad("must start and end with a letter or digit."));
        }
        if name.starts_with("goog") || name.contains("google") || name.contains("g00gle") {
            return Err(bad("may not start with \"goog\" or contain \"google\"."));
        }
        if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
            return Err(bad("may not be an IP address."));
        }
        Ok(BucketName(name.to_owned()))
    }

    /// The bare bucket name (no `gs://`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ServiceAccountEmail {
    /// Validates a service-account email (`name@domain.gserviceaccount.com`).
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(err("Enter a service account email."));
        }
        let Some((local, domain)) = text.split_once('@') else {
            return Err(err(format!(
                "\"{text}\" is not an email: a service account looks like name@my-project.iam.gserviceaccount.com."
            )));
        };
        let local_ok = !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !local_ok {
            return Err(err(format!(
                "\"{text}\": the part before '@' may hold only lowercase letters, digits and hyphens."
            )));
        }
        if !domain.ends_with("gserviceaccount.com")
            || domain.contains(|c: char| c.is_whitespace() || c == '/' || c == '@')
        {
            return Err(err(format!(
                "\"{text}\" is not a service account: its domain must end in gserviceaccount.com."
            )));
        }
        Ok(ServiceAccountEmail(text.to_owned()))
    }

    /// SkyPilot's service account in `project`: `skypilot-v1@PROJECT.iam.gserviceaccount.com`.
    /// Domain-scoped projects put the domain last: `…@my-project.example.com.iam.gserviceaccount.com`.
    pub fn skypilot_default(project: &ProjectId) -> Self {
        let host = match project.as_str().split_once(':') {
            Some((domain, id)) => format!("{id}.{domain}"),
            None => project.as_str().to_owned(),
        };
        ServiceAccountEmail(format!("skypilot-v1@{host}.iam.gserviceaccount.com"))
    }

    /// The email.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_conversions {
    ($($ty:ident),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = NameError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $ty::parse(&value)
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
string_conversions!(ProjectId, BucketName, ServiceAccountEmail);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids() {
        for ok in [
            "my-project-123",
            "abcdef",
            "example.com:my-proj",
            "google.com:my-proj",
        ] {
            assert_eq!(ProjectId::parse(ok).unwrap().as_str(), ok);
        }
        let msg = |t: &str| ProjectId::parse(t).unwrap_err().to_string();
        assert!(msg("").contains("Enter"));
        assert!(msg("abc").contains("6 to 30"));
        assert!(msg("My-Project").contains("lowercase"));
        assert!(msg("123456789012").contains("project number"));
        assert!(msg("1project").contains("start with a letter"));
        assert!(msg("my-project-").contains("hyphen"));
        assert!(msg("my_project").contains("'_'"));
        assert!(msg("my-google-proj").contains("google"));
        assert!(msg("Example.com:my-proj").contains("domain"));
        assert!(msg("example:my-proj").contains("domain"));
        assert!(msg(&"a".repeat(31)).contains("6 to 30"));
    }

    #[test]
    fn bucket_names() {
        assert_eq!(
            BucketName::parse("gs://my-bucket/").unwrap().as_str(),
            "my-bucket"
        );
        assert!(BucketName::parse("a.b.c").is_ok());
        // SkyPilot's jobs.bucket may carry a sub-path.
        assert_eq!(
            BucketName::parse("gs://team-bucket/jobs/alice")
                .unwrap()
                .as_str(),
            "team-bucket"
        );
        assert!(BucketName::parse("gs:///path").is_err());
        for (bad, why) in [
            ("ab", "3 to 63"),
            ("My-Bucket", "'M'"),
            ("-bucket", "start and end"),
            ("goog-bucket", "goog"),
            ("192.168.1.1", "IP address"),
            ("a..b", "dot-separated"),
        ] {
            let msg = BucketName::parse(bad).unwrap_err().to_string();
            assert!(msg.contains(why), "{bad}: {msg}");
        }
    }

    #[test]
    fn service_accounts() {
        let p = ProjectId::parse("my-project").unwrap();
        assert_eq!(
            ServiceAccountEmail::skypilot_default(&p).as_str(),
            "skypilot-v1@my-project.iam.gserviceaccount.com"
        );
        let legacy = ProjectId::parse("example.com:proj-x1").unwrap();
        assert_eq!(
            ServiceAccountEmail::skypilot_default(&legacy).as_str(),
            "skypilot-v1@proj-x1.example.com.iam.gserviceaccount.com"
        );
        assert!(ServiceAccountEmail::parse("123-compute@developer.gserviceaccount.com").is_ok());
        assert!(ServiceAccountEmail::parse("someone@gmail.com")
            .unwrap_err()
            .to_string()
            .contains("gserviceaccount.com"));
        assert!(ServiceAccountEmail::parse("no-at-sign").is_err());
    }
}
