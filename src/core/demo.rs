//! A simulated Google that follows Google's documented behaviour, for demo mode and tests.
//!
//! It answers the same requests the real APIs do, with the same shapes: `{}` when nothing is
//! held, 400 "Permission X is not valid for this resource." for an untestable permission (one
//! named per error), 400 for more than 100 permissions, 403 for a project the caller cannot
//! see, 401 for a bad or expired token, SERVICE_DISABLED bodies for an API turned off in the
//! consumer project, and 429 on demand.

use super::catalog::ALL_GROUPS;
use super::http::{Auth, Method, NetError, Request, Response, Transport};
use super::ordered;
use super::plan::ACT_AS;
use percent_encoding::percent_decode_str;
use serde_json::json;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::{ready, Future};

/// An account known to the simulation.
#[derive(Clone, Debug)]
pub struct Account {
    /// The token that stands for it.
    pub token: String,
    /// tokeninfo `sub`.
    pub sub: String,
    /// Email.
    pub email: String,
    /// Whether its token has expired.
    pub expired: bool,
}

/// A project known to the simulation.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// Project ID.
    pub id: String,
    /// Project number (Google answers Service Usage with it).
    pub number: String,
    /// Permissions held, by account `sub`; an account absent here cannot see the project.
    pub grants: BTreeMap<String, BTreeSet<String>>,
    /// Enabled services.
    pub enabled: BTreeSet<String>,
}

/// A bucket or service account: permissions held on it, by account `sub`.
#[derive(Clone, Debug, Default)]
pub struct Resource {
    /// Bucket name or service-account email.
    pub name: String,
    /// Permissions held, by account `sub`.
    pub grants: BTreeMap<String, BTreeSet<String>>,
}

/// A `testIamPermissions` request body.
#[derive(serde::Deserialize)]
struct AskedBody {
    #[serde(default)]
    permissions: Vec<String>,
}

/// The consumer project that gcloud tokens are charged to.
pub const GCLOUD_CONSUMER: &str = "764086051850";

/// Everything the simulation knows.
#[derive(Clone, Debug, Default)]
pub struct World {
    /// Accounts.
    pub accounts: Vec<Account>,
    /// Projects.
    pub projects: Vec<Project>,
    /// Buckets.
    pub buckets: Vec<Resource>,
    /// Service accounts.
    pub service_accounts: Vec<Resource>,
    /// Services turned off in the consumer project (every call to them fails).
    pub consumer_disabled: BTreeSet<String>,
}

/// A simulated Google: a [`Transport`] that answers from a [`World`].
#[derive(Debug, Default)]
pub struct SimulatedGoogle {
    /// The world it answers from.
    pub world: World,
    /// `METHOD host/path` of every request, in order.
    pub log: RefCell<Vec<String>>,
    /// The next this-many requests get 429.
    pub rate_limit_next: Cell<u32>,
    /// Sleeps asked for (retries), in ms.
    pub sleeps: RefCell<Vec<u32>>,
}

/// Permissions that cannot be tested on a project: organization, folder and billing ones.
fn untestable_on_project(permission: &str) -> bool {
    [
        "billing.",
        "resourcemanager.organizations.",
        "resourcemanager.folders.",
    ]
    .iter()
    .any(|prefix| permission.starts_with(prefix))
        || matches!(
            permission,
            "resourcemanager.projects.create" | "resourcemanager.projects.list"
        )
}

fn response(status: u16, body: serde_json::Value) -> Response {
    Response {
        status,
        body: body.to_string(),
    }
}

fn google_error(code: u16, status: &str, message: &str) -> Response {
    response(
        code,
        json!({"error": {"code": code, "message": message, "status": status}}),
    )
}

impl SimulatedGoogle {
    /// A simulation of `world`.
    pub fn new(world: World) -> Self {
        SimulatedGoogle {
            world,
            ..Default::default()
        }
    }

    /// How many requests were answered.
    pub fn request_count(&self) -> usize {
        self.log.borrow().len()
    }

    fn account_by_token(&self, token: &str) -> Option<&Account> {
        self.world.accounts.iter().find(|a| a.token == token)
    }

    /// Answers one request.
    pub fn handle(&self, request: &Request) -> Response {
        let url = request.url.as_str();
        let rest = url.strip_prefix("https://").unwrap_or(url);
        let (host, path_query) = rest.split_once('/').unwrap_or((rest, ""));
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        let path = percent_decode_str(path).decode_utf8_lossy().into_owned();
        let query: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        self.log
            .borrow_mut()
            .push(format!("{} {host}/{path}", request.method.as_str()));

        if host == "oauth2.googleapis.com" && path == "tokeninfo" {
            return self.tokeninfo(request);
        }
        let service = host.to_owned();
        if self.rate_limit_next.get() > 0 {
            self.rate_limit_next.set(self.rate_limit_next.get() - 1);
            return response(
                429,
                json!({"error": {"code": 429, "message": "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'.", "status": "RESOURCE_EXHAUSTED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com", "metadata": {"consumer": format!("projects/{GCLOUD_CONSUMER}"), "service": service}}]}}),
            );
        }
        let account = match &request.auth {
            Auth::Bearer(token) => match self.account_by_token(token) {
                Some(a) if a.expired => {
                    return response(401, json!({"error": {"code": 401, "message": "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.", "status": "UNAUTHENTICATED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_EXPIRED", "domain": "googleapis.com", "metadata": {"service": service}}]}}))
                }
                Some(a) => a,
                None => {
                    return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.")
                }
            },
            Auth::None => {
                return google_error(401, "UNAUTHENTICATED", "Request is missing required authentication credential.")
            }
        };
        if self.world.consumer_disabled.contains(&service) {
            let url = format!("https://console.developers.google.com/apis/api/{service}/overview?project={GCLOUD_CONSUMER}");
            return response(
                403,
                json!({"error": {"code": 403, "message": format!("{service} has not been used in project {GCLOUD_CONSUMER} before or it is disabled. Enable it by visiting {url} then retry."), "status": "PERMISSION_DENIED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED", "domain": "googleapis.com", "metadata": {"consumer": format!("projects/{GCLOUD_CONSUMER}"), "service": service, "containerInfo": GCLOUD_CONSUMER, "activationUrl": url}}, {"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Google developers console API activation", "url": url}]}]}}),
            );
        }
        let asked: Vec<String> = request
            .body
            .as_ref()
            .and_then(|b| serde_json::from_str::<AskedBody>(&b.text).ok())
            .map(|b| b.permissions)
            .unwrap_or_default();
        match (host, request.method) {
            ("cloudresourcemanager.googleapis.com", Method::Post) => {
                let Some(id) = path
                    .strip_prefix("v1/projects/")
                    .and_then(|p| p.strip_suffix(":testIamPermissions"))
                else {
                    return google_error(404, "NOT_FOUND", "Unknown method");
                };
                self.test_project(account, id, &asked)
            }
            ("serviceusage.googleapis.com", Method::Get) => self.batch_get(account, &path, &query),
            ("storage.googleapis.com", Method::Get) => {
                let asked: Vec<String> = query
                    .iter()
                    .filter(|(k, _)| k == "permissions")
                    .map(|(_, v)| v.clone())
                    .collect();
                self.test_bucket(account, &path, &asked)
            }
            ("iam.googleapis.com", Method::Post) => {
                let email = path
                    .strip_prefix("v1/projects/-/serviceAccounts/")
                    .and_then(|p| p.strip_suffix(":testIamPermissions"))
                    .unwrap_or("");
                match self.world.service_accounts.iter().find(|s| s.name == email) {
                    Some(sa) => held_answer(sa.grants.get(&account.sub), &asked),
                    None => google_error(
                        404,
                        "NOT_FOUND",
                        &format!("Unknown service account {email}"),
                    ),
                }
            }
            _ => google_error(404, "NOT_FOUND", "Unknown endpoint"),
        }
    }

    fn tokeninfo(&self, request: &Request) -> Response {
        let form = request.body.as_ref().map(|b| b.text.as_str()).unwrap_or("");
        let token = form_urlencoded::parse(form.as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        match self.account_by_token(&token) {
            Some(a) if !a.expired => response(
                200,
                json!({
                    "azp": "32555940559.apps.googleusercontent.com",
                    "aud": "32555940559.apps.googleusercontent.com",
                    "sub": a.sub,
                    "scope": "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform",
                    // Only `expires_in` (service-account captures show it alone): no clock here.
                    "expires_in": "3599",
                    "email": a.email,
                    "email_verified": "true",
                    "access_type": "offline"
                }),
            ),
            _ => response(
                400,
                json!({"error": "invalid_token", "error_description": "Invalid Value"}),
            ),
        }
    }

    fn test_project(&self, account: &Account, id: &str, asked: &[String]) -> Response {
        if asked.len() > 100 {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
            );
        }
        if let Some(bad) = asked.iter().find(|p| untestable_on_project(p)) {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                &format!("Permission {bad} is not valid for this resource."),
            );
        }
        let project = self.world.projects.iter().find(|p| p.id == id);
        match project.and_then(|p| p.grants.get(&account.sub)) {
            Some(grants) => held_answer(Some(grants), asked),
            None => google_error(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
            ),
        }
    }

    fn batch_get(&self, account: &Account, path: &str, query: &[(String, String)]) -> Response {
        let Some(id) = path
            .strip_prefix("v1/projects/")
            .and_then(|p| p.strip_suffix("/services:batchGet"))
        else {
            return google_error(404, "NOT_FOUND", "Unknown method");
        };
        let names: Vec<&str> = query
            .iter()
            .filter(|(k, _)| k == "names")
            .map(|(_, v)| v.as_str())
            .collect();
        if names.len() > 30 {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "A single request can get a maximum of 30 services at a time.",
            );
        }
        let Some(project) = self.world.projects.iter().find(|p| p.id == id) else {
            return google_error(
                403,
                "PERMISSION_DENIED",
                "Permission denied to get service [compute.googleapis.com]",
            );
        };
        let can_read = project
            .grants
            .get(&account.sub)
            .is_some_and(|g| g.contains("serviceusage.services.get"));
        if !can_read {
            return response(
                403,
                json!({"error": {"code": 403, "message": format!("Permission 'serviceusage.services.get' denied on resource '//serviceusage.googleapis.com/projects/{id}' (or it may not exist)."), "status": "PERMISSION_DENIED", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED", "domain": "serviceusage.googleapis.com", "metadata": {"permission": "serviceusage.services.get"}}]}}),
            );
        }
        let services: Vec<serde_json::Value> = names
            .iter()
            .filter_map(|n| n.rsplit_once("/services/").map(|(_, s)| s))
            .map(|s| {
                json!({
                    "name": format!("projects/{}/services/{s}", project.number),
                    "state": if project.enabled.contains(s) { "ENABLED" } else { "DISABLED" },
                })
            })
            .collect();
        response(200, json!({ "services": services }))
    }

    fn test_bucket(&self, account: &Account, path: &str, asked: &[String]) -> Response {
        let legacy = |code: u16, reason: &str, message: &str| {
            response(
                code,
                json!({"error": {"code": code, "message": message, "errors": [{"message": message, "domain": "global", "reason": reason}]}}),
            )
        };
        let name = path
            .strip_prefix("storage/v1/b/")
            .and_then(|p| p.strip_suffix("/iam/testPermissions"))
            .unwrap_or("");
        if let Some(bad) = asked.iter().find(|p| {
            !p.starts_with("storage.")
                || matches!(
                    p.as_str(),
                    "storage.buckets.create" | "storage.buckets.list"
                )
        }) {
            return legacy(
                400,
                "invalid",
                &format!("{bad} is not a valid Google Cloud Storage permission."),
            );
        }
        match self.world.buckets.iter().find(|b| b.name == name) {
            Some(bucket) => {
                let mut answer = held_answer(bucket.grants.get(&account.sub), asked);
                // Cloud Storage adds `kind` and omits `permissions` when none is held.
                let mut value: serde_json::Value =
                    serde_json::from_str(&answer.body).unwrap_or_default();
                value["kind"] = json!("storage#testIamPermissionsResponse");
                answer.body = value.to_string();
                answer
            }
            None => legacy(404, "notFound", "The specified bucket does not exist."),
        }
    }
}

/// `{"permissions":[held subset]}`, or `{}` when none is held — Google omits the key.
fn held_answer(grants: Option<&BTreeSet<String>>, asked: &[String]) -> Response {
    let held: Vec<&String> = asked
        .iter()
        .filter(|p| grants.is_some_and(|g| g.contains(*p)))
        .collect();
    if held.is_empty() {
        response(200, json!({}))
    } else {
        response(200, json!({ "permissions": held }))
    }
}

impl Transport for SimulatedGoogle {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
        ready(Ok(self.handle(&request)))
    }
    fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
        self.sleeps.borrow_mut().push(millis);
        ready(())
    }
}

/// Every permission in the catalogue, plus `serviceusage.services.get` (for API look-ups).
pub fn every_catalog_permission() -> BTreeSet<String> {
    ordered(
        ALL_GROUPS
            .iter()
            .flat_map(|g| g.permissions.iter().map(|p| p.to_string()))
            .chain(["serviceusage.services.get".to_string()]),
    )
}

/// Whether `token` is one of the demo's made-up tokens.
pub fn is_demo_token(token: &str) -> bool {
    token.starts_with("demo-token-")
}

/// The demo's token for Alice.
pub const DEMO_TOKEN_ALICE: &str = "demo-token-alice";
/// The demo's token for Bob.
pub const DEMO_TOKEN_BOB: &str = "demo-token-bob";
/// The project that reproduces the seed story for Alice.
pub const DEMO_PROJECT_SEED: &str = "skypilot-seed-demo";
/// A project where Alice holds everything and Bob only storage.
pub const DEMO_PROJECT_TEAM: &str = "ml-team-demo";

/// The demo world: two accounts, two projects, one bucket, one service account.
///
/// On `skypilot-seed-demo`, Alice holds every storage permission and every compute permission
/// but the firewall pair — the story this tool exists for: storage works, compute fails at
/// launch. Bob holds everything there. On `ml-team-demo` Alice is like an Owner: everything at
/// project level but the object permissions (granted on `demo-jobs-bucket`) and `actAs`
/// (granted on the `skypilot-v1` service account); Bob holds only storage; the TPU API is off.
pub fn demo_world() -> World {
    let all = every_catalog_permission();
    let subset = |keep: &dyn Fn(&str) -> bool| -> BTreeSet<String> {
        ordered(all.iter().filter(|p| keep(p)).cloned())
    };
    let seed_alice =
        subset(&|p| !matches!(p, "compute.firewalls.create" | "compute.firewalls.delete"));
    let storage_only = subset(&|p| p.starts_with("storage.") || p.starts_with("serviceusage."));
    let owner_like = subset(&|p| {
        !(p.starts_with("storage.objects.")
            || p == "storage.buckets.get"
            || p == "iam.serviceAccounts.actAs")
    });
    let apis: BTreeSet<String> = ordered(
        ["compute", "cloudresourcemanager", "iam", "storage"]
            .iter()
            .map(|s| format!("{s}.googleapis.com")),
    );
    let alice = || "100000000000000000001".to_string();
    let bob = || "100000000000000000002".to_string();
    World {
        accounts: vec![
            Account {
                token: DEMO_TOKEN_ALICE.into(),
                sub: alice(),
                email: "alice@example.com".into(),
                expired: false,
            },
            Account {
                token: DEMO_TOKEN_BOB.into(),
                sub: bob(),
                email: "bob@example.com".into(),
                expired: false,
            },
        ],
        projects: vec![
            Project {
                id: DEMO_PROJECT_SEED.into(),
                number: "200000000001".into(),
                grants: ordered([(alice(), seed_alice), (bob(), all.clone())]),
                enabled: apis.clone(),
            },
            Project {
                id: DEMO_PROJECT_TEAM.into(),
                number: "200000000002".into(),
                grants: ordered([(alice(), owner_like), (bob(), storage_only)]),
                enabled: apis,
            },
        ],
        buckets: vec![Resource {
            name: "demo-jobs-bucket".into(),
            grants: ordered([(alice(), all.clone())]),
        }],
        service_accounts: vec![Resource {
            name: format!("skypilot-v1@{DEMO_PROJECT_TEAM}.iam.gserviceaccount.com"),
            grants: ordered([(alice(), ordered([ACT_AS.to_string()]))]),
        }],
        consumer_disabled: BTreeSet::new(),
    }
}
