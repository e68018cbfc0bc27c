//! The access token as the app holds it: checked before anything is sent, and never printed.
//!
//! An OAuth bearer token is an RFC 6750 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~"
//! / "+" / "/" ) *"="`. Google's access tokens (`ya29.…`) are of that form. Anything else (a
//! smart quote picked up from a document, a line break in the middle, a non-Latin-1 letter) can
//! only be a copy-paste mistake, and some of it would make the browser's `Headers.set` throw; so it
//! is refused here with the character and its position, before any transport sees it.

use std::fmt;
use std::rc::Rc;

/// Longest token accepted, in characters. Google's access tokens are documented as up to 2048
/// bytes; twice that leaves room and still refuses a pasted file.
pub const MAX_TOKEN_CHARS: usize = 4096;

/// Why a pasted token was refused; `Display` is the sentence shown to the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// A character a bearer token cannot contain, at 1-based `position` (in characters, after the
    /// surrounding whitespace is removed).
    BadCharacter {
        /// The character.
        character: char,
        /// Where it is, counting from 1.
        position: usize,
    },
    /// `=` followed by something other than `=`: padding only ends a token.
    PaddingInside {
        /// Where the first character after the padding is, counting from 1.
        position: usize,
    },
    /// Longer than [`MAX_TOKEN_CHARS`].
    TooLong {
        /// Its length in characters.
        chars: usize,
    },
}

/// How a character is named to the user: visible ones quoted, all with their code point.
fn describe(c: char) -> String {
    let code = format!("U+{:04X}", c as u32);
    match c {
        ' ' => format!("a space ({code})"),
        '\t' => format!("a tab ({code})"),
        '\n' | '\r' => format!("a line break ({code})"),
        c if c.is_control() || c.is_whitespace() => format!("an invisible character ({code})"),
        c => format!("'{c}' ({code})"),
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::BadCharacter {
                character,
                position,
            } => write!(
                f,
                "The token contains {} at position {position}, which an access token cannot contain (only letters, digits and - . _ ~ + /, then = at the end). Nothing was sent; copy the token again straight from the terminal.",
                describe(*character)
            ),
            TokenError::PaddingInside { position } => write!(
                f,
                "The token has '=' before position {position}: '=' may only end an access token. Nothing was sent; copy the token again straight from the terminal."
            ),
            TokenError::TooLong { chars } => write!(
                f,
                "The token is {chars} characters long; an access token is at most a few thousand. Nothing was sent; paste only the output of `gcloud auth application-default print-access-token`."
            ),
        }
    }
}

impl std::error::Error for TokenError {}

/// Whether `c` may appear in an RFC 6750 `b64token` before its `=` padding.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/')
}

/// The token without its surrounding whitespace, or why it cannot be a bearer token. An empty
/// (or all-whitespace) text is `Ok("")`: no token, which the caller treats as such.
pub fn validate_token(text: &str) -> Result<&str, TokenError> {
    let token = text.trim();
    let chars = token.chars().count();
    if chars > MAX_TOKEN_CHARS {
        return Err(TokenError::TooLong { chars });
    }
    let mut padding = false;
    for (i, c) in token.chars().enumerate() {
        let position = i + 1;
        if c == '=' && position > 1 {
            padding = true;
        } else if padding && is_token_char(c) {
            return Err(TokenError::PaddingInside { position });
        } else if !is_token_char(c) {
            return Err(TokenError::BadCharacter {
                character: c,
                position,
            });
        }
    }
    Ok(token)
}

/// A token held in memory: cheap to clone, compared by value, and redacted in `Debug` so that
/// no `{:?}` of the app state or of an action can ever print it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Token(Rc<str>);

impl Token {
    /// A validated token ([`validate_token`]): surrounding whitespace removed.
    pub fn parse(text: &str) -> Result<Token, TokenError> {
        validate_token(text).map(|t| Token(Rc::from(t)))
    }

    /// The token text, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether there is no token.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::ops::Deref for Token {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("Token(<none>)")
        } else {
            f.write_str("Token(<redacted>)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_shaped_tokens_pass_and_lose_their_surrounding_whitespace() {
        let ya29 = "ya29.FAKE_x-1~2+3/4";
        assert_eq!(validate_token(ya29), Ok(ya29));
        assert_eq!(validate_token(&format!("  {ya29}\n")), Ok(ya29));
        assert_eq!(validate_token("abc=="), Ok("abc=="));
        assert_eq!(validate_token("a="), Ok("a="));
        assert_eq!(validate_token(""), Ok(""));
        assert_eq!(validate_token(" \t\n"), Ok(""));
        // Every b64token character is accepted.
        let all = "ABCXYZabcxyz0189-._~+/";
        assert_eq!(validate_token(all), Ok(all));
    }

    #[test]
    fn a_bad_character_is_named_with_its_position() {
        let smart = "ya29.abc\u{2019}def";
        let e = validate_token(smart).unwrap_err();
        assert_eq!(
            e,
            TokenError::BadCharacter {
                character: '\u{2019}',
                position: 9
            }
        );
        let text = e.to_string();
        assert!(text.contains("'\u{2019}' (U+2019)"), "{text}");
        assert!(text.contains("position 9"), "{text}");
        assert!(text.contains("Nothing was sent"), "{text}");
        assert!(
            !text.contains("ya29"),
            "the message never repeats the token: {text}"
        );
        // Positions count characters after trimming, not bytes.
        assert_eq!(
            validate_token("  é-abc"),
            Err(TokenError::BadCharacter {
                character: 'é',
                position: 1
            })
        );
        for (text, c, at, said) in [
            ("ab cd", ' ', 3, "a space (U+0020)"),
            ("ab\ncd", '\n', 3, "a line break (U+000A)"),
            ("ab\u{200b}cd", '\u{200b}', 3, "U+200B"),
            ("ab\"cd", '"', 3, "'\"' (U+0022)"),
            ("ab;cd", ';', 3, "';'"),
            ("=abc", '=', 1, "'=' (U+003D)"),
        ] {
            let e = validate_token(text).unwrap_err();
            assert_eq!(
                e,
                TokenError::BadCharacter {
                    character: c,
                    position: at
                },
                "{text:?}"
            );
            assert!(e.to_string().contains(said), "{text:?}: {e}");
        }
    }

    #[test]
    fn padding_only_ends_a_token() {
        assert_eq!(
            validate_token("ab=cd"),
            Err(TokenError::PaddingInside { position: 4 })
        );
        assert_eq!(
            validate_token("ab==c"),
            Err(TokenError::PaddingInside { position: 5 })
        );
        // A bad character after the padding is named as such.
        assert_eq!(
            validate_token("ab=’"),
            Err(TokenError::BadCharacter {
                character: '’',
                position: 4
            })
        );
    }

    #[test]
    fn length_is_bounded() {
        let long = "a".repeat(MAX_TOKEN_CHARS);
        assert!(validate_token(&long).is_ok());
        let longer = "a".repeat(MAX_TOKEN_CHARS + 1);
        assert_eq!(
            validate_token(&longer),
            Err(TokenError::TooLong {
                chars: MAX_TOKEN_CHARS + 1
            })
        );
    }

    #[test]
    fn the_token_type_never_prints_itself() {
        let t = Token::parse(" ya29.secret-value ").unwrap();
        assert_eq!(t.expose(), "ya29.secret-value");
        assert_eq!(&*t, "ya29.secret-value");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert_eq!(format!("{:?}", Some(t.clone())), "Some(Token(<redacted>))");
        assert_eq!(format!("{:?}", Token::default()), "Token(<none>)");
        assert!(Token::default().is_empty() && !t.is_empty());
        assert_eq!(t, Token::parse("ya29.secret-value").unwrap());
        assert!(Token::parse("ya29.secret\u{2019}").is_err());
    }
}
