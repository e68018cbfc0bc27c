//! Where the terminal gets the token: `--token-cmd`, else [`TOKEN_ENV`], else
//! `gcloud auth application-default print-access-token` (what `sky check` tests with). Never a
//! command-line argument (visible to every user in `ps`), never written anywhere.

use crate::core::token::Token;
use std::process::{Command, Stdio};

/// Environment variable that may hold the token.
pub const TOKEN_ENV: &str = "GCP_PREFLIGHT_TOKEN";

/// The default command: application-default credentials, as SkyPilot uses them.
pub const GCLOUD_ADC: &str = "gcloud auth application-default print-access-token";

/// Where the token came from, in words (never the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// `--token-cmd`.
    Command(String),
    /// [`TOKEN_ENV`].
    Env,
    /// [`GCLOUD_ADC`].
    Gcloud,
}

impl TokenSource {
    /// Chooses the source: `--token-cmd`, else a non-empty [`TOKEN_ENV`], else gcloud.
    pub fn choose(token_cmd: Option<&str>, env_value: Option<&str>) -> TokenSource {
        match (token_cmd, env_value.filter(|v| !v.trim().is_empty())) {
            (Some(cmd), _) => TokenSource::Command(cmd.to_owned()),
            (None, Some(_)) => TokenSource::Env,
            (None, None) => TokenSource::Gcloud,
        }
    }

    /// The source in words.
    pub fn describe(&self) -> String {
        match self {
            TokenSource::Command(cmd) => format!("--token-cmd `{cmd}`"),
            TokenSource::Env => format!("${TOKEN_ENV}"),
            TokenSource::Gcloud => format!("`{GCLOUD_ADC}`"),
        }
    }
}

/// Obtains and validates the token from `source` (`env_value`: [`TOKEN_ENV`]'s value).
pub fn obtain(source: &TokenSource, env_value: Option<&str>) -> Result<Token, String> {
    let text = match source {
        TokenSource::Env => env_value.unwrap_or_default().to_owned(),
        TokenSource::Command(cmd) => run(cmd)?,
        TokenSource::Gcloud => run(GCLOUD_ADC)?,
    };
    // The token itself is never part of the message.
    Token::parse(&text)
        .map_err(|e| format!("The token from {} is not usable: {e}", source.describe()))
}

/// Runs `cmd` through the shell and returns its standard output.
fn run(cmd: &str) -> Result<String, String> {
    #[cfg(windows)]
    let mut command = {
        let mut c = Command::new("cmd");
        c.args(["/C", cmd]);
        c
    };
    #[cfg(not(windows))]
    let mut command = {
        let mut c = Command::new("sh");
        c.args(["-c", cmd]);
        c
    };
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("Cannot run `{cmd}`: {e}"))?;
    if !output.status.success() {
        // Standard error only: standard output may hold a token.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why: String = stderr.trim().chars().take(600).collect();
        return Err(format!(
            "`{cmd}` failed ({}){}{why}",
            output.status,
            if why.is_empty() { "" } else { ": " }
        ));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| format!("`{cmd}` printed something that is not text."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_wins_then_the_environment_then_gcloud() {
        assert_eq!(
            TokenSource::choose(Some("cat t"), Some("x")),
            TokenSource::Command("cat t".into())
        );
        assert_eq!(TokenSource::choose(None, Some("x")), TokenSource::Env);
        assert_eq!(TokenSource::choose(None, Some("  ")), TokenSource::Gcloud);
        assert_eq!(TokenSource::choose(None, None), TokenSource::Gcloud);
    }

    #[cfg(unix)]
    #[test]
    fn a_command_token_is_read_and_trimmed_and_failures_hide_stdout() {
        let t = obtain(&TokenSource::Command("echo ya29.from-cmd".into()), None).unwrap();
        assert_eq!(t.expose(), "ya29.from-cmd");
        let e = obtain(
            &TokenSource::Command("printf ya29.%s leak; echo boom >&2; exit 3".into()),
            None,
        )
        .unwrap_err();
        assert!(e.contains("boom") && !e.contains("ya29.leak"), "{e}");
        let e = obtain(&TokenSource::Env, Some("has space inside")).unwrap_err();
        assert!(!e.contains("has space inside"), "{e}");
    }
}
