//! `check::lookup_identity` when tokeninfo cannot be reached from the page (no CORS headers,
//! which the browser reports as a network error): the OpenID userinfo fallback, the retries it
//! shares with every request, and the cache key it leads to.

use futures::executor::block_on;
use gcp_preflight::core::cache::CacheKey;
use gcp_preflight::core::check;
use gcp_preflight::core::demo::{self, Failure, SimulatedGoogle, DEMO_TOKEN_ALICE, DEMO_TOKEN_BOB};
use gcp_preflight::core::google_error::ApiError;
use gcp_preflight::core::http::{Auth, NetError, Request, Response, Transport};
use gcp_preflight::core::identity::IdentitySource;
use gcp_preflight::core::names::ProjectId;
use gcp_preflight::core::plan::{Plan, PlanInput};
use std::cell::RefCell;
use std::future::{ready, Future};

const TOKENINFO: &str = "https://oauth2.googleapis.com/tokeninfo";
const USERINFO: &str = "https://openidconnect.googleapis.com/v1/userinfo";

/// The simulated Google, with tokeninfo's CORS headers switchable and an OpenID userinfo
/// endpoint answering from the same accounts.
struct Google {
    sim: SimulatedGoogle,
    /// false: tokeninfo answers without CORS headers, so the page sees no response at all.
    tokeninfo_cors: bool,
    /// Failures for the next userinfo requests, first first.
    userinfo_fail: RefCell<Vec<Failure>>,
    /// The URL of every request sent, in order.
    sent: RefCell<Vec<String>>,
}

impl Google {
    fn new(tokeninfo_cors: bool) -> Self {
        Google {
            sim: SimulatedGoogle::new(demo::demo_world()),
            tokeninfo_cors,
            userinfo_fail: RefCell::default(),
            sent: RefCell::default(),
        }
    }

    fn count(&self, url: &str) -> usize {
        self.sent.borrow().iter().filter(|u| *u == url).count()
    }

    fn userinfo(&self, request: &Request) -> Result<Response, NetError> {
        let failure = {
            let mut queue = self.userinfo_fail.borrow_mut();
            (!queue.is_empty()).then(|| queue.remove(0))
        };
        match failure {
            Some(Failure::Drop) => return Err(NetError::Network("connection closed".into())),
            Some(Failure::ProxyPage(status)) => {
                return Ok(Response {
                    status,
                    body: "<html><body>Service Unavailable</body></html>".into(),
                })
            }
            _ => {}
        }
        let account = match &request.auth {
            Auth::Bearer(token) => self.sim.world.accounts.iter().find(|a| &a.token == token),
            Auth::None => None,
        };
        Ok(match account {
            // OpenID Connect userinfo claims (GCP-API.md §5).
            Some(a) => Response {
                status: 200,
                body: format!(
                    r#"{{"sub":"{}","picture":"https://lh3.googleusercontent.com/a/x","email":"{}","email_verified":true}}"#,
                    a.sub, a.email
                ),
            },
            None => Response {
                status: 401,
                body: r#"{"error":"invalid_request","error_description":"Invalid Credentials"}"#
                    .into(),
            },
        })
    }
}

impl Transport for Google {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
        self.sent.borrow_mut().push(request.url.clone());
        ready(match request.url.as_str() {
            TOKENINFO if !self.tokeninfo_cors => {
                // Google answered, but without Access-Control-Allow-Origin the page never sees it.
                let _ = self.sim.answer(&request);
                Err(NetError::Network("TypeError: Failed to fetch".into()))
            }
            USERINFO => self.userinfo(&request),
            _ => self.sim.answer(&request),
        })
    }

    fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
        self.sim.sleep(millis)
    }
}

fn plan() -> Plan {
    Plan::build(
        ProjectId::parse(demo::DEMO_PROJECT_SEED).unwrap(),
        &PlanInput::default(),
    )
}

#[test]
fn tokeninfo_without_cors_falls_back_to_userinfo_for_the_account_alone() {
    let google = Google::new(false);
    let id = block_on(check::lookup_identity(&google, DEMO_TOKEN_ALICE, 0)).unwrap();
    assert_eq!(id.source, IdentitySource::Userinfo);
    assert_eq!(id.email.as_deref(), Some("alice@example.com"));
    let alice_sub = google.sim.world.accounts[0].sub.clone();
    assert_eq!(id.account_id.as_deref(), Some(alice_sub.as_str()));
    // What userinfo cannot say stays unknown, and does not stop a check.
    assert_eq!((id.expires_at_ms, id.client_id.as_deref()), (None, None));
    assert!(!id.scopes_known() && id.has_cloud_platform_scope() && id.can_call_iam());
    // A dropped connection is retried once (the retry every request gets), then userinfo.
    assert_eq!(*google.sent.borrow(), [TOKENINFO, TOKENINFO, USERINFO]);
    assert_eq!(*google.sim.sleeps.borrow(), [check::FIRST_BACKOFF_MS]);
}

#[test]
fn results_stay_per_account_whichever_endpoint_named_it() {
    let plan = plan();
    let by = |cors: bool, token: &str| {
        let id = block_on(check::lookup_identity(&Google::new(cors), token, 0)).unwrap();
        CacheKey::new(id.account_id.as_deref().unwrap(), &plan)
    };
    // Alice's key is the same from tokeninfo and from userinfo: her cached results answer her.
    assert_eq!(by(true, DEMO_TOKEN_ALICE), by(false, DEMO_TOKEN_ALICE));
    // Bob's differs from Alice's: no cross-talk.
    assert_eq!(by(true, DEMO_TOKEN_BOB), by(false, DEMO_TOKEN_BOB));
    assert_ne!(by(false, DEMO_TOKEN_ALICE), by(false, DEMO_TOKEN_BOB));
}

#[test]
fn userinfo_gets_the_same_retries_as_every_request() {
    let google = Google::new(false);
    *google.userinfo_fail.borrow_mut() = vec![Failure::Drop, Failure::ProxyPage(503)];
    let id = block_on(check::lookup_identity(&google, DEMO_TOKEN_BOB, 0)).unwrap();
    assert_eq!(id.email.as_deref(), Some("bob@example.com"));
    assert_eq!(
        google.count(USERINFO),
        3,
        "a drop, a proxy's 503 page, then the answer"
    );
    assert_eq!(*google.sim.sleeps.borrow(), [500, 500, 1000]);
}

#[test]
fn a_failed_fallback_is_the_network_error_not_a_dead_token() {
    // userinfo refuses the token (it may only lack the openid scope): tokeninfo's error stands.
    let google = Google::new(false);
    let error = block_on(check::lookup_identity(&google, "not-a-demo-token", 0)).unwrap_err();
    assert!(matches!(error, ApiError::Network { .. }), "{error:?}");
    assert!(!error.is_token_problem());
    assert_eq!(google.count(USERINFO), 1);

    // userinfo unreachable too (dropped twice): still the network error.
    let google = Google::new(false);
    *google.userinfo_fail.borrow_mut() = vec![Failure::Drop, Failure::Drop];
    let error = block_on(check::lookup_identity(&google, DEMO_TOKEN_ALICE, 0)).unwrap_err();
    assert!(matches!(error, ApiError::Network { .. }), "{error:?}");
    assert_eq!(
        google.count(USERINFO),
        2,
        "one retry of a dropped connection"
    );
}

#[test]
fn tokeninfo_gateway_errors_are_retried_whatever_the_body_and_never_fall_back() {
    // A proxy's HTML 502 and 504, then tokeninfo's answer.
    let google = Google::new(true);
    *google.sim.fail_next.borrow_mut() = vec![Failure::ProxyPage(502), Failure::ProxyPage(504)];
    let id = block_on(check::lookup_identity(&google, DEMO_TOKEN_ALICE, 0)).unwrap();
    assert_eq!(id.source, IdentitySource::Tokeninfo);
    assert!(id.scopes_known() && id.expires_at_ms.is_some());
    assert_eq!(google.count(TOKENINFO), 3);
    assert_eq!(*google.sim.sleeps.borrow(), [500, 1000]);

    // Google (or a proxy) answered every time: an error, not a reason to ask userinfo.
    let google = Google::new(true);
    *google.sim.fail_next.borrow_mut() = vec![Failure::ProxyPage(503); 4];
    let error = block_on(check::lookup_identity(&google, DEMO_TOKEN_ALICE, 0)).unwrap_err();
    assert!(!matches!(error, ApiError::Network { .. }), "{error:?}");
    assert!(error.to_string().contains("503"), "{error}");
    assert_eq!(google.count(TOKENINFO), check::MAX_ATTEMPTS as usize);
    assert_eq!(google.count(USERINFO), 0);

    // One dropped connection: retried once, tokeninfo answers, no userinfo.
    let google = Google::new(true);
    *google.sim.fail_next.borrow_mut() = vec![Failure::Drop];
    let id = block_on(check::lookup_identity(&google, DEMO_TOKEN_ALICE, 0)).unwrap();
    assert_eq!(id.source, IdentitySource::Tokeninfo);
    assert_eq!((google.count(TOKENINFO), google.count(USERINFO)), (2, 0));
}

#[test]
fn connect_src_lists_exactly_the_hosts_the_token_is_sent_to() {
    // deploy/csp.txt is the policy's one source; its connect-src must name every Google API host
    // the app calls (or the browser refuses the call) and no other https origin but GIS's path.
    let csp = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/csp.txt"))
        .expect("deploy/csp.txt");
    let policy: Vec<&str> = csp
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .collect();
    let mut hosts: Vec<&str> = policy
        .iter()
        .filter_map(|l| l.strip_prefix("connect-src "))
        .flat_map(str::split_whitespace)
        .filter_map(|s| s.strip_prefix("https://"))
        // Google Identity Services' own calls (sign-in): the app sends no token there.
        .filter(|s| *s != "accounts.google.com/gsi/")
        .map(|s| s.split('/').next().unwrap_or(s))
        .collect();
    hosts.sort_unstable();
    let mut expected = gcp_preflight::core::endpoints::GOOGLE_API_HOSTS.to_vec();
    expected.sort_unstable();
    assert_eq!(hosts, expected);
    assert!(!policy.iter().any(|l| l.contains("'unsafe-inline'")));
}

/// A transport whose requests never leave the app (demo mode's worker did not start).
struct NeverSent {
    sent: RefCell<Vec<String>>,
}

impl Transport for NeverSent {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
        self.sent.borrow_mut().push(request.url.clone());
        ready(Err(NetError::NotSent(
            "the demo's simulated Google did not start".into(),
        )))
    }

    fn sleep(&self, _millis: u32) -> impl Future<Output = ()> {
        ready(())
    }
}

#[test]
fn a_request_that_never_left_the_app_is_not_asked_not_retried_and_not_a_network_failure() {
    let transport = NeverSent {
        sent: RefCell::default(),
    };
    let error = block_on(check::lookup_identity(&transport, DEMO_TOKEN_ALICE, 0)).unwrap_err();
    assert!(matches!(error, ApiError::NotSent { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Not asked: the demo's simulated Google did not start."
    );
    // Sent once: no retry, and no userinfo fallback (which is for an unreachable tokeninfo).
    assert_eq!(*transport.sent.borrow(), vec![TOKENINFO.to_owned()]);
    // A check over it says the same for everything it asked, and holds no verdict.
    let findings = block_on(check::run(
        &transport,
        &plan(),
        DEMO_TOKEN_ALICE,
        check::TokenScope::Full,
    ));
    assert!(findings
        .described_errors(&plan())
        .iter()
        .all(|e| e.contains("Not asked")));
    assert!(!findings.described_errors(&plan()).is_empty());
    for v in gcp_preflight::core::verdict::verdicts(&plan(), &findings) {
        assert_eq!(
            v.status,
            gcp_preflight::core::verdict::Status::Unknown,
            "{:?}",
            v.topic
        );
    }
}
