//! What the page and its demo worker say to each other. Demo mode answers from
//! [`super::demo::SimulatedGoogle`], a whole simulated Google with its world of accounts and
//! projects: about 12 KB gzip that a user who checks against real Google never needs. So the
//! browser runs it in a web worker (`src/bin/demo_worker.rs`) fetched when demo mode is first
//! used: the page sends a [`DemoCall`] per request and gets a [`DemoReply`], both as JSON text.
//!
//! Only demo tokens cross: [`DemoCall::from_request`] refuses a request that carries any other
//! token, in its `Authorization` header or in a form body (tokeninfo), so a real token never
//! leaves the page's memory, not even for the page's own worker.
//!
//! The page links only the types, [`DemoCall::from_request`], [`DemoCall::to_json`] and
//! [`DemoReply::from_json`]; [`answer`] (and with it the simulation) is linked only into the
//! worker.

use super::demo::{is_demo_token, SimulatedGoogle};
use super::http::{Auth, Body, Method, Request, Response};
use serde::{Deserialize, Serialize};

pub use super::worker_wire::READY;

/// The id of the reply to a message that was not a [`DemoCall`]: never a call's id.
pub const NOT_A_CALL: u32 = u32::MAX;

/// The form body type (tokeninfo); every other body is JSON.
const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// One request for the simulated Google, with an id for its reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoCall {
    /// Chosen by the page; the reply carries it back.
    pub id: u32,
    /// `true` for `POST`, `false` for `GET`.
    pub post: bool,
    /// The request's URL.
    pub url: String,
    /// The demo token of the `Authorization` header, if any.
    pub bearer: Option<String>,
    /// The body, if any: whether it is a form (else JSON), and its text.
    pub body: Option<(bool, String)>,
}

/// Why a request was not handed to the demo worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotADemoRequest;

impl std::fmt::Display for NotADemoRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "demo mode answers only the demo accounts' tokens; this request carries another",
        )
    }
}

/// Whether a form body carries a token that is not a demo token (`access_token=…`, tokeninfo).
fn form_carries_real_token(text: &str) -> bool {
    form_urlencoded::parse(text.as_bytes())
        .any(|(name, value)| name.contains("token") && !is_demo_token(&value))
}

impl DemoCall {
    /// The call for `request`, or [`NotADemoRequest`] if it carries a token that is not a demo
    /// token (header or form body): such a token stays in the page.
    pub fn from_request(id: u32, request: &Request) -> Result<DemoCall, NotADemoRequest> {
        let bearer = match &request.auth {
            Auth::None => None,
            Auth::Bearer(token) if is_demo_token(token) => Some(token.clone()),
            Auth::Bearer(_) => return Err(NotADemoRequest),
        };
        let body = match &request.body {
            None => None,
            Some(body) => {
                let form = body.content_type == FORM;
                if form && form_carries_real_token(&body.text) {
                    return Err(NotADemoRequest);
                }
                Some((form, body.text.clone()))
            }
        };
        Ok(DemoCall {
            id,
            post: request.method == Method::Post,
            url: request.url.clone(),
            bearer,
            body,
        })
    }

    /// The request this call stands for (in the worker).
    pub fn to_request(&self) -> Request {
        Request {
            method: if self.post { Method::Post } else { Method::Get },
            url: self.url.clone(),
            auth: match &self.bearer {
                Some(token) => Auth::Bearer(token.clone()),
                None => Auth::None,
            },
            body: self.body.as_ref().map(|(form, text)| Body {
                content_type: if *form { FORM } else { JSON },
                text: text.clone(),
            }),
        }
    }

    /// The message text posted to the worker.
    pub fn to_json(&self) -> String {
        super::json::to_string(self).unwrap_or_default()
    }
}

/// The simulated Google's answer to one [`DemoCall`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoReply {
    /// The call's [`DemoCall::id`] ([`NOT_A_CALL`] for a message that was not a call).
    pub id: u32,
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
}

impl DemoReply {
    /// Parses the worker's answer; `None` if it is not one (never expected).
    pub fn from_json(text: &str) -> Option<DemoReply> {
        super::json::from_str(text).ok()
    }

    /// The response it carries.
    pub fn into_response(self) -> Response {
        Response {
            status: self.status,
            body: self.body,
        }
    }
}

/// The worker's whole job: a call's JSON in, the reply's JSON out. A message that is not a call
/// gets a 400 reply with id [`NOT_A_CALL`], never a panic. A call with a token that is not a
/// demo token (which the page never sends) is answered as Google answers an unknown token.
pub fn answer(google: &SimulatedGoogle, message: &str) -> String {
    let reply = match super::json::from_str::<DemoCall>(message) {
        Ok(call) => {
            let response = google.handle(&call.to_request());
            DemoReply {
                id: call.id,
                status: response.status,
                body: response.body,
            }
        }
        Err(e) => DemoReply {
            id: NOT_A_CALL,
            status: 400,
            body: format!("not a demo call: {e}"),
        },
    };
    super::json::to_string(&reply).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::demo::{demo_world, DEMO_PROJECT_SEED, DEMO_TOKEN_ALICE};
    use crate::core::endpoints;
    use crate::core::permission::Permission;

    fn through_worker(google: &SimulatedGoogle, id: u32, request: &Request) -> DemoReply {
        let call = DemoCall::from_request(id, request).expect("a demo request");
        DemoReply::from_json(&answer(google, &call.to_json())).expect("a reply")
    }

    #[test]
    fn every_request_the_check_sends_gets_the_answer_the_simulation_gives_directly() {
        let project = crate::core::names::ProjectId::parse(DEMO_PROJECT_SEED).unwrap();
        let permissions: Vec<Permission> = ["compute.instances.create", "storage.buckets.create"]
            .iter()
            .map(|p| Permission::parse(p).unwrap())
            .collect();
        let requests = [
            endpoints::tokeninfo(DEMO_TOKEN_ALICE),
            endpoints::project_test_permissions(&project, &permissions, DEMO_TOKEN_ALICE),
            endpoints::services_list(&project, None, DEMO_TOKEN_ALICE),
            endpoints::project_iam_policy(&project, DEMO_TOKEN_ALICE),
            endpoints::networks_list(&project, DEMO_TOKEN_ALICE),
            // Not the demo's project: a 403 comes back as it is.
            endpoints::billing_info(
                &crate::core::names::ProjectId::parse("someone-elses-1").unwrap(),
                DEMO_TOKEN_ALICE,
            ),
        ];
        let direct = SimulatedGoogle::new(demo_world());
        let worker = SimulatedGoogle::new(demo_world());
        for (id, request) in requests.iter().enumerate() {
            let reply = through_worker(&worker, id as u32, request);
            assert_eq!(reply.id, id as u32);
            assert_eq!(reply.into_response(), direct.handle(request), "{request:?}");
        }
    }

    #[test]
    fn a_call_round_trips_method_url_token_and_body() {
        for request in [
            endpoints::tokeninfo(DEMO_TOKEN_ALICE),
            Request {
                method: Method::Get,
                url: "https://cloudresourcemanager.googleapis.com/v3/projects:search".into(),
                auth: Auth::Bearer(DEMO_TOKEN_ALICE.into()),
                body: None,
            },
        ] {
            let call = DemoCall::from_request(7, &request).unwrap();
            let back: DemoCall = crate::core::json::from_str(&call.to_json()).unwrap();
            assert_eq!(back.to_request(), request);
        }
    }

    #[test]
    fn a_token_that_is_not_a_demo_token_never_crosses_to_the_worker() {
        let secret = "ya29.FAKE-secret";
        let by_header = Request {
            method: Method::Get,
            url: "https://serviceusage.googleapis.com/v1/projects/p/services".into(),
            auth: Auth::Bearer(secret.into()),
            body: None,
        };
        assert_eq!(DemoCall::from_request(1, &by_header), Err(NotADemoRequest));
        let by_form = endpoints::tokeninfo(secret);
        assert_eq!(DemoCall::from_request(2, &by_form), Err(NotADemoRequest));
        assert!(!NotADemoRequest.to_string().contains(secret));
    }

    #[test]
    fn junk_gets_a_reply_that_answers_no_call_and_never_panics() {
        let google = SimulatedGoogle::new(demo_world());
        for junk in [
            "",
            "null",
            "{}",
            "[1,2]",
            "{\"id\":1}",
            "\u{0}",
            "{\"id\":-1,\"post\":true}",
        ] {
            let reply = DemoReply::from_json(&answer(&google, junk)).expect("a reply");
            assert_eq!(reply.id, NOT_A_CALL, "{junk:?}");
            assert_eq!(reply.status, 400);
        }
    }
}
