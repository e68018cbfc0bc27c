//! [`NativeTransport`]: the core's [`Transport`] over HTTPS with ureq and rustls.
//!
//! Every request runs on its own thread and is awaited through a one-shot channel, so that
//! `core::check::run`'s `join_all` really sends them together: a cold check costs about one round
//! trip per wave, not one per request. Only Google API URLs are sent
//! ([`is_google_api_url`]); the token is never logged.
//!
//! For tests, [`Endpoint::Loopback`] sends every Google request to one loopback address (the
//! fake Google) while keeping the URL, `Host` and TLS name as Google's; it refuses any address
//! that is not loopback, so a token can never be sent elsewhere, and only with it may an extra
//! certificate authority (the fake's) be trusted.

use crate::core::endpoints::is_google_api_url;
use crate::core::http::{Method, NetError, Request, Response, Transport};
use futures::channel::oneshot;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};
use ureq::Agent;

/// Environment variable: `https://127.0.0.1:PORT` (loopback only) to send Google's requests to.
pub const ENDPOINT_ENV: &str = "GCP_PREFLIGHT_TEST_ENDPOINT";
/// Environment variable: a PEM certificate authority trusted only with [`ENDPOINT_ENV`].
pub const CA_ENV: &str = "GCP_PREFLIGHT_TEST_CA";

/// How long one request may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Where Google's requests go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Google itself, with the usual web PKI roots.
    Google,
    /// A fake Google on this machine (tests only).
    Loopback {
        /// The loopback socket every Google host resolves to.
        addr: SocketAddr,
        /// An extra root certificate (PEM) to trust, e.g. the fake's.
        ca_pem: Option<Vec<u8>>,
    },
}

impl Endpoint {
    /// Reads [`ENDPOINT_ENV`] and [`CA_ENV`] through `var` (e.g. `std::env::var`); a CA without
    /// a loopback endpoint, or an endpoint that is not loopback, is an error.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        read: impl Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Result<Endpoint, String> {
        let ca = var(CA_ENV).filter(|v| !v.is_empty());
        match var(ENDPOINT_ENV).filter(|v| !v.is_empty()) {
            None if ca.is_some() => Err(format!(
                "{CA_ENV} is only honoured together with {ENDPOINT_ENV} (a loopback test endpoint)."
            )),
            None => Ok(Endpoint::Google),
            Some(text) => {
                let addr = parse_loopback(&text)?;
                let ca_pem = match ca {
                    Some(path) => Some(
                        read(&path).map_err(|e| format!("{CA_ENV}: cannot read {path}: {e}"))?,
                    ),
                    None => None,
                };
                Ok(Endpoint::Loopback { addr, ca_pem })
            }
        }
    }
}

/// Parses `https://HOST:PORT` (or `HOST:PORT`) and accepts it only if every address it names is
/// loopback (`127.0.0.0/8`, `::1`, `localhost`).
pub fn parse_loopback(text: &str) -> Result<SocketAddr, String> {
    let refuse = || {
        format!(
            "{ENDPOINT_ENV}={text:?} refused: only a loopback address with a port (https://127.0.0.1:PORT) may stand in for Google."
        )
    };
    let rest = text.trim().strip_prefix("https://").unwrap_or(text.trim());
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '@', '?', '#']) {
        return Err(refuse());
    }
    let (host, port) = authority.rsplit_once(':').ok_or_else(refuse)?;
    let port: u16 = port.parse().map_err(|_| refuse())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse().map_err(|_| refuse())?
    };
    if !ip.is_loopback() || port == 0 {
        return Err(refuse());
    }
    Ok(SocketAddr::new(ip, port))
}

/// Resolves every host to one loopback socket (used only by [`Endpoint::Loopback`]).
#[derive(Debug)]
struct LoopbackResolver(SocketAddr);

impl Resolver for LoopbackResolver {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        // Checked again here, at the last moment before a socket is opened.
        if !self.0.ip().is_loopback() {
            return Err(ureq::Error::HostNotFound);
        }
        let mut addrs = self.empty();
        addrs.push(self.0);
        Ok(addrs)
    }
}

/// Sends requests with ureq, one thread each.
#[derive(Clone, Debug)]
pub struct NativeTransport {
    agent: Agent,
}

impl NativeTransport {
    /// A transport to `endpoint`.
    pub fn new(endpoint: &Endpoint) -> Result<Self, String> {
        let tls = match endpoint {
            Endpoint::Loopback {
                ca_pem: Some(pem), ..
            } => {
                let cert = Certificate::from_pem(pem)
                    .map_err(|e| format!("{CA_ENV}: not a PEM certificate: {e}"))?;
                TlsConfig::builder()
                    .root_certs(RootCerts::Specific(Arc::new(vec![cert])))
                    .build()
            }
            _ => TlsConfig::builder().root_certs(RootCerts::WebPki).build(),
        };
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .user_agent(concat!("gcp-preflight/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build();
        let agent = match endpoint {
            Endpoint::Google => Agent::new_with_config(config),
            Endpoint::Loopback { addr, .. } => {
                Agent::with_parts(config, DefaultConnector::new(), LoopbackResolver(*addr))
            }
        };
        Ok(NativeTransport { agent })
    }
}

/// Sends one request and reads the whole answer (blocking).
fn send_blocking(agent: &Agent, request: Request) -> Result<Response, NetError> {
    if !is_google_api_url(&request.url) {
        return Err(NetError::Network(
            "refused: the token is only sent to Google API hosts".into(),
        ));
    }
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(&request.url);
    if let crate::core::http::Auth::Bearer(token) = &request.auth {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = match &request.body {
        Some(body) => {
            builder = builder.header("content-type", body.content_type);
            body.text.clone().into_bytes()
        }
        None => Vec::new(),
    };
    let http_request = builder
        .body(body)
        .map_err(|e| NetError::Network(format!("bad request: {e}")))?;
    let result = match request.method {
        Method::Get | Method::Post => agent.run(http_request),
    };
    let mut response = result.map_err(|e| NetError::Network(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| NetError::Network(e.to_string()))?;
    Ok(Response { status, body })
}

impl Transport for NativeTransport {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
        let (tx, rx) = oneshot::channel();
        let agent = self.agent.clone();
        std::thread::spawn(move || {
            let _ = tx.send(send_blocking(&agent, request));
        });
        async move {
            rx.await
                .unwrap_or_else(|_| Err(NetError::Network("the request thread stopped".into())))
        }
    }

    fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
        let (tx, rx) = oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(millis.into()));
            let _ = tx.send(());
        });
        async move {
            let _ = rx.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_endpoints_are_accepted() {
        for ok in [
            "https://127.0.0.1:8443",
            "127.0.0.1:1",
            "https://127.9.9.9:443/",
            "https://[::1]:8443",
            "https://localhost:9000",
        ] {
            assert!(parse_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "https://10.0.0.1:443",
            "https://0.0.0.0:443",
            "https://example.com:443",
            "https://oauth2.googleapis.com:443",
            "https://127.0.0.1.evil.com:443",
            "https://127.0.0.1:443@evil.com:1",
            "https://127.0.0.1:443/path",
            "https://127.0.0.1",
            "https://127.0.0.1:0",
            "https://[::ffff:8.8.8.8]:443",
            "https://192.168.1.2:8080",
            "",
        ] {
            assert!(parse_loopback(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_ca_is_trusted_only_with_a_loopback_endpoint() {
        let read = |_: &str| Ok(b"pem".to_vec());
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Endpoint::from_env(env(&[]), read), Ok(Endpoint::Google));
        assert!(Endpoint::from_env(env(&[(CA_ENV, "/tmp/ca.pem")]), read).is_err());
        assert!(Endpoint::from_env(env(&[(ENDPOINT_ENV, "https://8.8.8.8:443")]), read).is_err());
        assert_eq!(
            Endpoint::from_env(
                env(&[
                    (ENDPOINT_ENV, "https://127.0.0.1:4443"),
                    (CA_ENV, "/tmp/ca.pem")
                ]),
                read
            ),
            Ok(Endpoint::Loopback {
                addr: "127.0.0.1:4443".parse().unwrap(),
                ca_pem: Some(b"pem".to_vec())
            })
        );
    }

    #[test]
    fn non_google_urls_are_never_sent() {
        let transport = NativeTransport::new(&Endpoint::Google).unwrap();
        let request = Request {
            method: Method::Get,
            url: "https://example.com/steal".into(),
            auth: crate::core::http::Auth::Bearer("ya29.secret".into()),
            body: None,
        };
        let result = futures::executor::block_on(transport.send(request));
        match result {
            Err(NetError::Network(why)) => {
                assert!(why.contains("refused") && !why.contains("ya29"))
            }
            other => panic!("{other:?}"),
        }
    }
}
