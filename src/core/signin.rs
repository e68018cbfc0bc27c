//! "Sign in with Google": the host's runtime `config.json`, and what Google Identity Services
//! (GIS) hands back. Pure: the browser glue (`gcp::gis`, `ui::signin`) loads the file and the
//! script and passes the text and the token response here.
//!
//! `config.json` sits beside `index.html` and is fetched at startup:
//! `{"google_client_id": "1234-abc.apps.googleusercontent.com"}`. No file (404), an empty object,
//! or a host's HTML fallback page means sign-in is not configured: no button, and nothing is
//! loaded from accounts.google.com.

use super::token::Token;
use serde::Deserialize;
use std::fmt;

/// The scopes the token client asks for: the full `cloud-platform` (IAM, Billing and Compute
/// refuse `cloud-platform.read-only`, BROWSER-FACTS flag 1) and `openid email`, so that tokeninfo
/// names the account (its `sub` keys the cache and the recent projects).
pub const SIGN_IN_SCOPES: &str = "https://www.googleapis.com/auth/cloud-platform openid email";

/// The Google Identity Services script (its origin is in `index.html`'s CSP).
pub const GIS_SCRIPT_URL: &str = "https://accounts.google.com/gsi/client";

/// The file name of the runtime configuration, relative to `index.html`.
pub const CONFIG_FILE: &str = "config.json";

/// What the host configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInConfig {
    /// The OAuth 2.0 Web client ID (its Authorized JavaScript origins must list this site).
    pub client_id: String,
}

/// Why `config.json` cannot be used; shown as it is, sign-in stays off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Sign in with Google is off: {CONFIG_FILE} {}. Expected {{\"google_client_id\": \"NUMBER-ID.apps.googleusercontent.com\"}} (README, Hosting).",
            self.0
        )
    }
}

/// `config.json`'s shape. Unknown keys are refused: a typo (`google_clientid`) would otherwise
/// silently leave sign-in off.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    google_client_id: Option<String>,
}

/// The suffix of every OAuth client ID Google issues.
const CLIENT_ID_SUFFIX: &str = ".apps.googleusercontent.com";

/// Reads `config.json`'s text: `Ok(None)` when sign-in is not configured (an empty object, a
/// `null` or empty client ID, or an HTML page a host serves for any missing path).
pub fn parse_config(text: &str) -> Result<Option<SignInConfig>, ConfigError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() || trimmed.starts_with('<') {
        return Ok(None);
    }
    let file: ConfigFile =
        super::json::from_str(trimmed).map_err(|e| ConfigError(format!("is not valid: {e}")))?;
    let Some(client_id) = file.google_client_id.map(|id| id.trim().to_owned()) else {
        return Ok(None);
    };
    if client_id.is_empty() {
        return Ok(None);
    }
    let prefix = client_id.strip_suffix(CLIENT_ID_SUFFIX).unwrap_or("");
    let well_formed = !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !well_formed {
        return Err(ConfigError(format!(
            "has google_client_id \"{}\", which is not an OAuth client ID (they end in {CLIENT_ID_SUFFIX})",
            client_id.chars().take(80).collect::<String>()
        )));
    }
    Ok(Some(SignInConfig { client_id }))
}

/// One scope the token client asks for, with the names Google may grant it under.
struct Wanted {
    /// How it is asked for.
    asked: &'static str,
    /// How the granted `scope` string may spell it (Google expands `email` to its URL).
    granted_as: &'static [&'static str],
}

const WANTED: [Wanted; 3] = [
    Wanted {
        asked: "https://www.googleapis.com/auth/cloud-platform",
        granted_as: &["https://www.googleapis.com/auth/cloud-platform"],
    },
    Wanted {
        asked: "openid",
        granted_as: &["openid"],
    },
    Wanted {
        asked: "email",
        granted_as: &["email", "https://www.googleapis.com/auth/userinfo.email"],
    },
];

/// The asked-for scopes ([`SIGN_IN_SCOPES`]) missing from a granted, space-separated `scope`
/// string (Google's consent screen lets a user untick some).
pub fn scope_shortfall(granted: &str) -> Vec<&'static str> {
    let granted: Vec<&str> = granted.split_whitespace().collect();
    WANTED
        .iter()
        .filter(|w| !w.granted_as.iter().any(|g| granted.contains(g)))
        .map(|w| w.asked)
        .collect()
}

/// GIS's `TokenResponse` (the fields used here), read from the JS object with
/// `serde-wasm-bindgen`. On failure Google sets `error` (e.g. `access_denied`) instead of a token.
#[derive(Clone, Default, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    #[serde(default)]
    pub access_token: Option<String>,
    /// The granted scopes, space-separated.
    #[serde(default)]
    pub scope: Option<String>,
    /// An OAuth error code.
    #[serde(default)]
    pub error: Option<String>,
    /// Its description.
    #[serde(default)]
    pub error_description: Option<String>,
}

impl fmt::Debug for TokenResponse {
    // Never prints the token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .field("scope", &self.scope)
            .field("error", &self.error)
            .finish()
    }
}

/// What a sign-in attempt came to.
#[derive(Clone, Debug, PartialEq)]
pub enum SignInOutcome {
    /// A token with every scope asked for.
    Token(Token),
    /// A token that lacks the full `cloud-platform` scope: not used (every check needs it).
    Refused(String),
    /// A usable token, but some of `openid email` was not granted: `message` says what that
    /// costs.
    Partial {
        /// The token.
        token: Token,
        /// What is missing and what it costs.
        message: String,
    },
    /// No token (the user cancelled, or Google refused).
    Failed(String),
}

/// Decides what to do with a `TokenResponse`.
pub fn read_token_response(response: &TokenResponse) -> SignInOutcome {
    if let Some(error) = response.error.as_deref().filter(|e| !e.is_empty()) {
        let detail = response
            .error_description
            .as_deref()
            .filter(|d| !d.is_empty())
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let message = if error == "access_denied" {
            format!("Sign-in was cancelled or access was denied{detail}. Press \"Sign in with Google\" to try again, or paste a token.")
        } else {
            format!("Google refused the sign-in: {error}{detail}.")
        };
        return SignInOutcome::Failed(message);
    }
    let token = match response.access_token.as_deref().map(Token::parse) {
        Some(Ok(token)) if !token.is_empty() => token,
        Some(Err(e)) => {
            return SignInOutcome::Failed(format!("Google sent an unusable access token: {e}"))
        }
        _ => {
            return SignInOutcome::Failed("Google's sign-in answer carried no access token.".into())
        }
    };
    let missing = scope_shortfall(response.scope.as_deref().unwrap_or(""));
    if missing.contains(&"https://www.googleapis.com/auth/cloud-platform") {
        return SignInOutcome::Refused(format!(
            "Signed in, but without access to Google Cloud (not granted: {}). Every check needs it: press \"Sign in with Google\" again and leave \"See, edit, configure and delete your Google Cloud data\" ticked on Google's consent screen.",
            missing.join(", ")
        ));
    }
    if missing.is_empty() {
        return SignInOutcome::Token(token);
    }
    SignInOutcome::Partial {
        token,
        message: format!(
            "Signed in without {}: checks run, but the account's email and ID are unknown, so results are not cached and recent projects are not kept. Sign in again and allow it to fix that.",
            missing.join(" and ")
        ),
    }
}

/// What to say for a GIS `error_callback` type (`popup_failed_to_open`, `popup_closed`, `unknown`).
pub fn popup_error_message(kind: &str) -> String {
    match kind {
        "popup_failed_to_open" => "The Google sign-in window was blocked: allow pop-ups for this site (the icon at the end of the address bar), then press \"Sign in with Google\" again.".into(),
        "popup_closed" => "The Google sign-in window was closed before signing in finished. Press \"Sign in with Google\" to try again.".into(),
        other => format!("Google sign-in failed ({}). Press \"Sign in with Google\" to try again, or paste a token.", if other.is_empty() { "unknown" } else { other }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_absent_empty_or_html_is_not_configured() {
        for text in [
            "",
            "  ",
            "{}",
            r#"{"google_client_id": null}"#,
            r#"{"google_client_id": "  "}"#,
            "<!DOCTYPE html><html></html>",
        ] {
            assert_eq!(parse_config(text), Ok(None), "{text:?}");
        }
    }

    #[test]
    fn config_with_a_client_id_is_read() {
        let text =
            "\u{feff}{ \"google_client_id\": \" 1234-abc_DEF.apps.googleusercontent.com \" }\n";
        assert_eq!(
            parse_config(text),
            Ok(Some(SignInConfig {
                client_id: "1234-abc_DEF.apps.googleusercontent.com".into()
            }))
        );
    }

    #[test]
    fn malformed_config_says_why() {
        let cases = [
            ("{", "is not valid"),
            ("[1,2]", "is not valid"),
            (
                r#"{"google_clientid": "1-a.apps.googleusercontent.com"}"#,
                "unknown field",
            ),
            (r#"{"google_client_id": 42}"#, "is not valid"),
            (
                r#"{"google_client_id": "not-a-client"}"#,
                "not an OAuth client ID",
            ),
            (
                r#"{"google_client_id": ".apps.googleusercontent.com"}"#,
                "not an OAuth client ID",
            ),
            (
                r#"{"google_client_id": "1\"><script>.apps.googleusercontent.com"}"#,
                "not an OAuth client ID",
            ),
        ];
        for (text, expected) in cases {
            let error = parse_config(text).expect_err(text).to_string();
            assert!(error.contains(expected), "{text}: {error}");
            assert!(error.starts_with("Sign in with Google is off: config.json"));
        }
    }

    #[test]
    fn shortfall_names_what_was_not_granted() {
        let full = "email openid https://www.googleapis.com/auth/cloud-platform";
        assert!(scope_shortfall(full).is_empty());
        // Google answers `email` as the userinfo URL.
        let expanded = "https://www.googleapis.com/auth/userinfo.email openid https://www.googleapis.com/auth/cloud-platform";
        assert!(scope_shortfall(expanded).is_empty());
        assert_eq!(
            scope_shortfall("openid https://www.googleapis.com/auth/userinfo.email"),
            vec!["https://www.googleapis.com/auth/cloud-platform"]
        );
        // The read-only scope is not the full one.
        assert_eq!(
            scope_shortfall(
                "openid email https://www.googleapis.com/auth/cloud-platform.read-only"
            ),
            vec!["https://www.googleapis.com/auth/cloud-platform"]
        );
        assert_eq!(
            scope_shortfall(""),
            vec![
                "https://www.googleapis.com/auth/cloud-platform",
                "openid",
                "email"
            ]
        );
    }

    fn response(token: Option<&str>, scope: &str) -> TokenResponse {
        TokenResponse {
            access_token: token.map(str::to_owned),
            scope: Some(scope.into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_full_grant_gives_the_token() {
        let r = response(
            Some("ya29.FAKE_token"),
            "email openid https://www.googleapis.com/auth/cloud-platform",
        );
        assert_eq!(
            read_token_response(&r),
            SignInOutcome::Token(Token::parse("ya29.FAKE_token").unwrap())
        );
    }

    #[test]
    fn without_cloud_platform_the_token_is_refused() {
        let r = response(Some("ya29.x"), "email openid");
        match read_token_response(&r) {
            SignInOutcome::Refused(m) => assert!(m.contains("cloud-platform"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn without_email_the_token_is_used_with_a_warning() {
        let r = response(
            Some("ya29.x"),
            "https://www.googleapis.com/auth/cloud-platform",
        );
        match read_token_response(&r) {
            SignInOutcome::Partial { token, message } => {
                assert_eq!(token.expose(), "ya29.x");
                assert!(message.contains("openid and email"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_and_bad_tokens_are_failures_never_tokens() {
        let denied = TokenResponse {
            error: Some("access_denied".into()),
            ..Default::default()
        };
        assert!(
            matches!(read_token_response(&denied), SignInOutcome::Failed(m) if m.contains("cancelled"))
        );
        let other = TokenResponse {
            error: Some("invalid_client".into()),
            error_description: Some("no such client".into()),
            ..Default::default()
        };
        assert!(
            matches!(read_token_response(&other), SignInOutcome::Failed(m) if m.contains("invalid_client (no such client)"))
        );
        assert!(matches!(
            read_token_response(&response(None, "")),
            SignInOutcome::Failed(_)
        ));
        assert!(matches!(
            read_token_response(&response(Some(""), "")),
            SignInOutcome::Failed(_)
        ));
        assert!(matches!(
            read_token_response(&response(Some("bad token\nX"), SIGN_IN_SCOPES)),
            SignInOutcome::Failed(m) if m.contains("unusable")
        ));
    }

    #[test]
    fn debug_never_prints_the_token() {
        let r = response(Some("ya29.secret-token"), SIGN_IN_SCOPES);
        assert!(!format!("{r:?}").contains("secret"));
    }

    #[test]
    fn popup_errors_say_what_to_do() {
        assert!(popup_error_message("popup_failed_to_open").contains("blocked"));
        assert!(popup_error_message("popup_closed").contains("closed"));
        assert!(popup_error_message("unknown").contains("(unknown)"));
        assert!(popup_error_message("").contains("(unknown)"));
    }
}
