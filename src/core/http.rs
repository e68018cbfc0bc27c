//! The transport seam: requests and responses as plain data, and the [`Transport`] trait that the
//! browser (`fetch`) and the simulated Google both implement.

use std::future::Future;

/// HTTP method of a [`Request`]; Google's APIs used here need only these two.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Who may read a request's credentials: a bearer token or none.
///
/// The token is kept apart from the other headers so that a request can be logged or compared
/// (`Debug`) without ever printing it.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header (tokeninfo carries the token in its form body instead).
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// One request to a Google API, as plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// `GET` or `POST`.
    pub method: Method,
    /// Absolute `https://…googleapis.com/…` URL, already percent-encoded.
    pub url: String,
    /// The credentials to send.
    pub auth: Auth,
    /// Body and its content type, if any.
    pub body: Option<Body>,
}

/// A request body with its content type.
#[derive(Clone, PartialEq, Eq)]
pub struct Body {
    /// The `Content-Type` header value.
    pub content_type: &'static str,
    /// The body text.
    pub text: String,
}

impl std::fmt::Debug for Body {
    // A form body may carry the token (tokeninfo), so the text is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Body({}, {} bytes)", self.content_type, self.text.len())
    }
}

/// A response from Google, as plain data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// The body text (JSON for every API used here).
    pub body: String,
}

/// A request that never got an HTTP response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetError {
    /// The browser refused or could not complete the request: offline, DNS, TLS, or a CORS
    /// failure (which the browser deliberately does not tell apart).
    Network(String),
    /// The request never left the app, for a reason that is not the network's (demo mode's
    /// simulation did not start): shown as "Not asked: …", and not retried.
    NotSent(String),
}

/// Sends [`Request`]s and waits; implemented by the browser's `fetch` and by [`crate::core::demo`].
///
/// The futures need not be `Send`: in the browser everything runs on one thread.
pub trait Transport {
    /// Sends one request and returns Google's response, whatever its status.
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>>;
    /// Waits `millis` milliseconds (used between retries).
    fn sleep(&self, millis: u32) -> impl Future<Output = ()>;
}
