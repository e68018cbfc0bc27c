//! Browser transports: `fetch` to Google's API hosts, and the simulated Google for demo mode
//! (which runs in a web worker, [`demo`]);
//! [`Cancellable`] stops a check's requests when its token is forgotten or replaced.

pub mod compress;
pub mod demo;
pub mod gis;
pub mod worker;

use crate::core::endpoints::is_google_api_url;
use crate::core::http::{Auth, Method, NetError, Request, Response, Transport};
use crate::core::token::validate_token;
use demo::DemoClient;
use gloo_net::http::RequestBuilder;
use std::future::Future;
use std::rc::Rc;

/// Simulated round-trip time of demo mode, so that the UI behaves as it does against Google.
const DEMO_LATENCY_MS: u32 = 250;

/// The transport the app runs checks over.
#[derive(Clone)]
pub enum AppTransport {
    /// Real Google, through the browser's `fetch`.
    Google,
    /// The built-in simulation (demo mode): no network at all, only the demo worker.
    Demo(Rc<DemoClient>),
}

impl AppTransport {
    /// A fresh demo transport over the demo world (its worker starts on the first request).
    pub fn demo() -> Self {
        AppTransport::Demo(Rc::default())
    }
}

/// What a request stopped by [`Cancellable`] answers; nobody sees it (the answer is dropped).
const CANCELLED: &str = "cancelled: the token was forgotten or replaced";

async fn fetch(
    request: Request,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<Response, NetError> {
    // The token goes to Google's API hosts and nowhere else.
    if !is_google_api_url(&request.url) {
        return Err(NetError::Network(format!(
            "refused to send a request to {}: not a Google API host",
            request.url
        )));
    }
    let method = match request.method {
        Method::Get => gloo_net::http::Method::GET,
        Method::Post => gloo_net::http::Method::POST,
    };
    // No redirects (the token must not follow one), and the check's abort signal. The cache
    // mode stays the default on purpose: Chromium skips its CORS-preflight cache for any other
    // mode (`no-store` and `no-cache` both measured: every Re-check then costs a preflight round
    // trip again, 2 round trips instead of 1), and the answers hold nothing the result cache in
    // localStorage does not already keep on this device.
    let mut builder = RequestBuilder::new(&request.url)
        .method(method)
        .redirect(web_sys::RequestRedirect::Error)
        .abort_signal(signal);
    if let Auth::Bearer(token) = &request.auth {
        // The UI refuses such tokens before a check; this keeps `Headers.set` from ever
        // throwing (which would leave the check hanging) whatever the caller passes.
        if validate_token(token).ok() != Some(token.as_str()) || token.is_empty() {
            return Err(NetError::Network(
                "refused to send a token with characters a bearer token cannot contain".into(),
            ));
        }
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let built = match request.body {
        Some(body) => builder
            .header("Content-Type", body.content_type)
            .body(body.text),
        None => builder.build(),
    }
    .map_err(|e| NetError::Network(e.to_string()))?;
    let response = built
        .send()
        .await
        .map_err(|e| NetError::Network(e.to_string()))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| NetError::Network(e.to_string()))?;
    Ok(Response { status, body })
}

impl Transport for AppTransport {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
        let this = self.clone();
        async move {
            match this {
                AppTransport::Google => fetch(request, None).await,
                AppTransport::Demo(google) => {
                    gloo_timers::future::TimeoutFuture::new(DEMO_LATENCY_MS).await;
                    google.call(&request).await
                }
            }
        }
    }

    fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
        gloo_timers::future::TimeoutFuture::new(millis)
    }
}

/// A check's transport that stops when its [`web_sys::AbortController`] is aborted: requests in
/// flight are aborted by the browser, and none (nor any retry) is sent afterwards. The app aborts
/// it when the token is forgotten or replaced.
#[derive(Clone)]
pub struct Cancellable {
    inner: AppTransport,
    signal: web_sys::AbortSignal,
    progress: Option<Progress>,
}

/// Told `(sent, answered)` whenever a request of the check goes out or comes back (an answer
/// or a failure), for the progress line; retries and further pages count as requests too.
#[derive(Clone)]
struct Progress {
    tally: Rc<std::cell::Cell<(u32, u32)>>,
    report: Rc<dyn Fn(u32, u32)>,
}

impl Progress {
    fn count(&self, sent: u32, answered: u32) {
        let (s, a) = self.tally.get();
        let tally = (s + sent, a + answered);
        self.tally.set(tally);
        (self.report)(tally.0, tally.1);
    }
}

impl Cancellable {
    /// `inner`, stopped by `controller`.
    pub fn new(inner: &AppTransport, controller: &web_sys::AbortController) -> Self {
        Cancellable {
            inner: inner.clone(),
            signal: controller.signal(),
            progress: None,
        }
    }

    /// The same transport, telling `report(sent, answered)` as requests go and come back.
    /// (A counter inside this one transport type, not a wrapper type: a second transport type
    /// would compile the whole check a second time into the bundle.)
    pub fn counting(mut self, report: impl Fn(u32, u32) + 'static) -> Self {
        self.progress = Some(Progress {
            tally: Rc::default(),
            report: Rc::new(report),
        });
        self
    }
}

impl Transport for Cancellable {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
        let this = self.clone();
        async move {
            if this.signal.aborted() {
                return Err(NetError::Network(CANCELLED.into()));
            }
            if let Some(progress) = &this.progress {
                progress.count(1, 0);
            }
            let answer = match &this.inner {
                AppTransport::Google => fetch(request, Some(&this.signal)).await,
                AppTransport::Demo(google) => {
                    gloo_timers::future::TimeoutFuture::new(DEMO_LATENCY_MS).await;
                    if this.signal.aborted() {
                        return Err(NetError::Network(CANCELLED.into()));
                    }
                    google.call(&request).await
                }
            };
            if let Some(progress) = &this.progress {
                progress.count(0, 1);
            }
            answer
        }
    }

    fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
        gloo_timers::future::TimeoutFuture::new(millis)
    }
}
