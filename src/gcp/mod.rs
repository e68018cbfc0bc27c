//! Browser transports: `fetch` to Google's API hosts, and the simulated Google for demo mode.

use crate::core::demo::SimulatedGoogle;
use crate::core::endpoints::is_google_api_url;
use crate::core::http::{Auth, Method, NetError, Request, Response, Transport};
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
    /// The built-in simulation (demo mode): no network at all.
    Demo(Rc<SimulatedGoogle>),
}

impl AppTransport {
    /// A fresh demo transport over the demo world.
    pub fn demo() -> Self {
        AppTransport::Demo(Rc::new(SimulatedGoogle::new(
            crate::core::demo::demo_world(),
        )))
    }
}

async fn fetch(request: Request) -> Result<Response, NetError> {
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
    let mut builder = RequestBuilder::new(&request.url).method(method);
    if let Auth::Bearer(token) = &request.auth {
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
                AppTransport::Google => fetch(request).await,
                AppTransport::Demo(google) => {
                    gloo_timers::future::TimeoutFuture::new(DEMO_LATENCY_MS).await;
                    Ok(google.handle(&request))
                }
            }
        }
    }

    fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
        gloo_timers::future::TimeoutFuture::new(millis)
    }
}
