//! Who a token belongs to, from Google's tokeninfo answer, or (when tokeninfo cannot be reached
//! from the page) from OpenID Connect userinfo, which knows the account but not the token.

use super::google_error::ApiError;
use serde::{Deserialize, Deserializer, Serialize};

/// The scope every check needs (or its read-only variant).
pub const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// The read-only variant of [`CLOUD_PLATFORM`]: Resource Manager, Service Usage, Billing and
/// Storage accept it; IAM does not (its methods list only `iam` and `cloud-platform`).
pub const CLOUD_PLATFORM_READ_ONLY: &str =
    "https://www.googleapis.com/auth/cloud-platform.read-only";
/// The IAM scope, which IAM's methods accept like [`CLOUD_PLATFORM`].
pub const IAM_SCOPE: &str = "https://www.googleapis.com/auth/iam";

/// tokeninfo `azp` of `gcloud auth print-access-token` tokens (GCP-API.md §5).
pub const GCLOUD_CLI_CLIENT: &str = "32555940559.apps.googleusercontent.com";
/// Prefix of tokeninfo `azp` of `gcloud auth application-default print-access-token` tokens.
pub const GCLOUD_ADC_CLIENT_PREFIX: &str = "764086051850-";

/// Which gcloud credential minted a token: `sky check gcp` tests permissions with Application
/// Default Credentials and reads and enables APIs as the gcloud CLI account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// `gcloud auth application-default print-access-token`.
    ApplicationDefault,
    /// `gcloud auth print-access-token`.
    GcloudCli,
    /// Anything else (a service account key, Google sign-in, another client).
    Other,
}

impl TokenKind {
    /// How the UI names it.
    pub fn label(self) -> &'static str {
        match self {
            TokenKind::ApplicationDefault => "gcloud application-default token",
            TokenKind::GcloudCli => "gcloud CLI token",
            TokenKind::Other => "token",
        }
    }
}

/// Which Google endpoint described a token's account, and so what is known about the token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentitySource {
    /// tokeninfo: the account, the token's expiry, scopes and OAuth client.
    Tokeninfo,
    /// OpenID Connect userinfo (tokeninfo unreachable, e.g. without CORS headers): the account
    /// only; the token's expiry, scopes and client are unknown.
    Userinfo,
}

/// The account behind a token, as tokeninfo (or userinfo) describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// Google's stable account ID (`sub`); absent when the token lacks the email scope.
    pub account_id: Option<String>,
    /// The account email, when the token carries the email scope.
    pub email: Option<String>,
    /// When the token expires, in milliseconds since the Unix epoch.
    pub expires_at_ms: Option<u64>,
    /// The OAuth scopes granted to the token.
    pub scopes: Vec<String>,
    /// The OAuth client that minted the token (`azp`), e.g. gcloud's.
    pub client_id: Option<String>,
    /// Where this came from; with [`IdentitySource::Userinfo`], `expires_at_ms`, `scopes` and
    /// `client_id` are unknown, not absent.
    pub source: IdentitySource,
}

#[derive(Deserialize)]
struct TokenInfo {
    sub: Option<String>,
    email: Option<String>,
    #[serde(default, deserialize_with = "lenient_u64")]
    exp: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: String,
    azp: Option<String>,
}

/// The OpenID Connect userinfo claims read here (the profile claims are not needed).
#[derive(Deserialize)]
struct UserInfo {
    sub: String,
    email: Option<String>,
}

/// tokeninfo sends numbers as strings ("3320"), but some captures show plain numbers. A visitor
/// rather than an untagged enum keeps serde's buffering out of the bundle.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Lenient;
    impl serde::de::Visitor<'_> for Lenient {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number or a string of digits")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(u64::try_from(v).ok())
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(Lenient)
}

impl Identity {
    /// Reads a successful tokeninfo body; `now_ms` turns `expires_in` into a deadline when `exp`
    /// is absent.
    pub fn from_tokeninfo(body: &str, now_ms: u64) -> Result<Self, ApiError> {
        let info: TokenInfo = super::json::from_str(body).map_err(|e| ApiError::Malformed {
            http_status: 200,
            detail: format!("unexpected tokeninfo answer: {e}"),
        })?;
        let expires_at_ms = info.exp.map(|s| s.saturating_mul(1000)).or_else(|| {
            info.expires_in
                .map(|s| now_ms.saturating_add(s.saturating_mul(1000)))
        });
        Ok(Identity {
            account_id: info.sub.filter(|s| !s.is_empty()),
            email: info.email.filter(|s| !s.is_empty()),
            expires_at_ms,
            scopes: info.scope.split_whitespace().map(str::to_owned).collect(),
            client_id: info.azp.filter(|s| !s.is_empty()),
            source: IdentitySource::Tokeninfo,
        })
    }

    /// Reads a successful OpenID Connect userinfo body (`{"sub": …, "email": …, …}`): the
    /// account, and nothing about the token. An answer without `sub` is malformed, since the
    /// account's ID is what results are cached under.
    pub fn from_userinfo(body: &str) -> Result<Self, ApiError> {
        let info: UserInfo = super::json::from_str(body).map_err(|e| ApiError::Malformed {
            http_status: 200,
            detail: format!("unexpected userinfo answer: {e}"),
        })?;
        if info.sub.is_empty() {
            return Err(ApiError::Malformed {
                http_status: 200,
                detail: "unexpected userinfo answer: empty `sub`".into(),
            });
        }
        Ok(Identity {
            account_id: Some(info.sub),
            email: info.email.filter(|s| !s.is_empty()),
            expires_at_ms: None,
            scopes: Vec::new(),
            client_id: None,
            source: IdentitySource::Userinfo,
        })
    }

    /// Whether the token's scopes (and expiry and client) are known: not when only userinfo
    /// answered.
    pub fn scopes_known(&self) -> bool {
        self.source == IdentitySource::Tokeninfo
    }

    /// Whether the token may call Resource Manager, Service Usage, Storage and IAM at all: false
    /// only when tokeninfo's scopes show it cannot. Unknown scopes (userinfo) count as may: the
    /// request goes out and Google's answer says.
    pub fn has_cloud_platform_scope(&self) -> bool {
        !self.scopes_known()
            || self
                .scopes
                .iter()
                .any(|s| s == CLOUD_PLATFORM || s == CLOUD_PLATFORM_READ_ONLY)
    }

    /// Whether IAM will accept the token (full `cloud-platform` or `iam`); a read-only token
    /// is refused by IAM's methods. Unknown scopes (userinfo) count as will, as above.
    pub fn can_call_iam(&self) -> bool {
        !self.scopes_known()
            || self
                .scopes
                .iter()
                .any(|s| s == CLOUD_PLATFORM || s == IAM_SCOPE)
    }

    /// Which gcloud credential minted the token, from tokeninfo `azp`.
    pub fn kind(&self) -> TokenKind {
        match self.client_id.as_deref() {
            Some(GCLOUD_CLI_CLIENT) => TokenKind::GcloudCli,
            Some(c) if c.starts_with(GCLOUD_ADC_CLIENT_PREFIX) => TokenKind::ApplicationDefault,
            _ => TokenKind::Other,
        }
    }

    /// Whole minutes left before expiry (0 once expired), if known.
    pub fn minutes_left(&self, now_ms: u64) -> Option<u64> {
        self.expires_at_ms
            .map(|exp| exp.saturating_sub(now_ms) / 60_000)
    }

    /// The name to show: the email, or a note that the token does not reveal it.
    pub fn display_name(&self) -> String {
        self.email
            .clone()
            .unwrap_or_else(|| "an account whose email this token does not reveal".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcloud_user_token() {
        let body = r#"{"azp":"32555940559.apps.googleusercontent.com","aud":"32555940559.apps.googleusercontent.com","sub":"112026411584569361827","scope":"openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform","exp":"1670604242","expires_in":"3320","email":"person@zone.example.com","email_verified":"true","access_type":"offline"}"#;
        let id = Identity::from_tokeninfo(body, 0).unwrap();
        assert_eq!(id.account_id.as_deref(), Some("112026411584569361827"));
        assert_eq!(id.email.as_deref(), Some("person@zone.example.com"));
        assert_eq!(id.expires_at_ms, Some(1_670_604_242_000));
        assert!(id.has_cloud_platform_scope());
        assert!(id.can_call_iam());
        assert_eq!(id.kind(), TokenKind::GcloudCli);
        assert_eq!(id.minutes_left(1_670_604_242_000 - 125_000), Some(2));
        assert_eq!(id.minutes_left(u64::MAX), Some(0));
    }

    #[test]
    fn no_email_scope_and_numeric_expiry() {
        let body = r#"{"azp":"","aud":"","scope":"https://www.googleapis.com/auth/chromewebstore","expires_in":3560,"access_type":"offline"}"#;
        let id = Identity::from_tokeninfo(body, 1_000).unwrap();
        assert_eq!(id.account_id, None);
        assert_eq!(id.client_id, None);
        assert_eq!(id.expires_at_ms, Some(1_000 + 3_560_000));
        assert!(!id.has_cloud_platform_scope());
        assert!(id.display_name().contains("does not reveal"));
    }

    #[test]
    fn token_kinds_and_read_only_scope() {
        let adc = r#"{"azp":"764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com","sub":"1","scope":"https://www.googleapis.com/auth/cloud-platform.read-only","expires_in":"10"}"#;
        let id = Identity::from_tokeninfo(adc, 0).unwrap();
        assert_eq!(id.kind(), TokenKind::ApplicationDefault);
        assert_eq!(id.kind().label(), "gcloud application-default token");
        assert_eq!(TokenKind::GcloudCli.label(), "gcloud CLI token");
        assert_eq!(TokenKind::Other.label(), "token");
        // Read-only is enough for Resource Manager, not for IAM.
        assert!(id.has_cloud_platform_scope());
        assert!(!id.can_call_iam());
        let other = r#"{"azp":"1234.apps.googleusercontent.com","scope":"https://www.googleapis.com/auth/iam"}"#;
        let id = Identity::from_tokeninfo(other, 0).unwrap();
        assert_eq!(id.kind(), TokenKind::Other);
        assert!(id.can_call_iam());
    }

    #[test]
    fn read_only_cloud_platform_scope_is_accepted() {
        let body = r#"{"sub":"1","scope":"openid https://www.googleapis.com/auth/cloud-platform.read-only","expires_in":"60"}"#;
        let id = Identity::from_tokeninfo(body, 0).unwrap();
        assert_eq!(
            id.scopes,
            [
                "openid",
                "https://www.googleapis.com/auth/cloud-platform.read-only"
            ]
        );
        assert!(id.has_cloud_platform_scope());
        // Only the exact scope counts: a prefix or a look-alike does not.
        for scope in [
            "https://www.googleapis.com/auth/cloud-platform.readonly",
            "https://www.googleapis.com/auth/cloud-platform-x",
            "cloud-platform",
        ] {
            let id = Identity {
                scopes: vec![scope.into()],
                ..id.clone()
            };
            assert!(!id.has_cloud_platform_scope(), "{scope}");
        }
    }

    #[test]
    fn expiry_prefers_exp_and_display_name_prefers_email() {
        // `exp` wins over `expires_in`; without `exp`, `expires_in` counts from now.
        let both = Identity::from_tokeninfo(r#"{"exp":"100","expires_in":"5"}"#, 7_000).unwrap();
        assert_eq!(both.expires_at_ms, Some(100_000));
        let relative = Identity::from_tokeninfo(r#"{"expires_in":"5"}"#, 7_000).unwrap();
        assert_eq!(relative.expires_at_ms, Some(12_000));
        assert_eq!(relative.minutes_left(7_000), Some(0));
        let none = Identity::from_tokeninfo(r#"{"exp":null,"sub":"","email":""}"#, 0).unwrap();
        assert_eq!(none.expires_at_ms, None);
        assert_eq!(none.minutes_left(0), None);
        assert_eq!((none.account_id, none.email), (None, None));
        let long = Identity::from_tokeninfo(r#"{"exp":3600}"#, 0).unwrap();
        assert_eq!(long.minutes_left(0), Some(60));
        assert_eq!(long.minutes_left(60_001), Some(58));
        let named = Identity::from_tokeninfo(r#"{"email":"a@example.com"}"#, 0).unwrap();
        assert_eq!(named.display_name(), "a@example.com");
        assert_eq!(
            Identity::from_tokeninfo("{}", 0).unwrap().display_name(),
            "an account whose email this token does not reveal"
        );
        // Negative or unreadable numbers are unknown, not zero.
        let odd = Identity::from_tokeninfo(r#"{"exp":-5,"expires_in":"soon"}"#, 0).unwrap();
        assert_eq!(odd.expires_at_ms, None);
    }

    #[test]
    fn a_wrongly_typed_expiry_is_malformed_and_says_what_was_expected() {
        let Err(ApiError::Malformed {
            http_status,
            detail,
        }) = Identity::from_tokeninfo(r#"{"exp":true}"#, 0)
        else {
            panic!("a boolean expiry must not be read")
        };
        assert_eq!(http_status, 200);
        assert!(
            detail.starts_with("unexpected tokeninfo answer: ")
                && detail.contains("expected a number or a string of digits"),
            "{detail}"
        );
    }

    #[test]
    fn garbage_is_malformed() {
        assert!(Identity::from_tokeninfo("<html>", 0).is_err());
    }

    #[test]
    fn userinfo_gives_the_account_and_leaves_the_token_unknown() {
        // OpenID Connect userinfo claims (GCP-API.md §5, "User info").
        let body = r#"{"sub":"112026411584569361827","picture":"https://lh3.googleusercontent.com/a/x","email":"person@zone.example.com","email_verified":true,"hd":"zone.example.com"}"#;
        let id = Identity::from_userinfo(body).unwrap();
        assert_eq!(id.account_id.as_deref(), Some("112026411584569361827"));
        assert_eq!(id.email.as_deref(), Some("person@zone.example.com"));
        assert_eq!(id.source, IdentitySource::Userinfo);
        assert!(!id.scopes_known());
        assert_eq!((id.expires_at_ms, id.minutes_left(0)), (None, None));
        assert!(id.scopes.is_empty() && id.client_id.is_none());
        assert_eq!(id.kind(), TokenKind::Other);
        // Unknown scopes do not stop a check: Google answers for itself.
        assert!(id.has_cloud_platform_scope() && id.can_call_iam());
        // The same account by tokeninfo has the same ID, so results are cached under one key.
        let by_tokeninfo = Identity::from_tokeninfo(
            r#"{"sub":"112026411584569361827","scope":"openid","expires_in":"60"}"#,
            0,
        )
        .unwrap();
        assert_eq!(by_tokeninfo.account_id, id.account_id);
        assert!(by_tokeninfo.scopes_known());
        assert!(!by_tokeninfo.has_cloud_platform_scope() && !by_tokeninfo.can_call_iam());
    }

    #[test]
    fn userinfo_without_email_or_sub() {
        let id = Identity::from_userinfo(r#"{"sub":"7","picture":"x"}"#).unwrap();
        assert_eq!((id.account_id.as_deref(), id.email), (Some("7"), None));
        for body in [
            r#"{"email":"a@example.com"}"#,
            r#"{"sub":""}"#,
            r#"{"sub":7}"#,
            "<html>",
            "",
        ] {
            let Err(ApiError::Malformed {
                http_status,
                detail,
            }) = Identity::from_userinfo(body)
            else {
                panic!("{body} must be malformed")
            };
            assert_eq!(http_status, 200);
            assert!(detail.starts_with("unexpected userinfo answer"), "{detail}");
        }
    }
}
