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
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
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

/// Permissions held, by account `sub` (a short list: the demo has two accounts).
#[derive(Clone, Debug, Default)]
pub struct Grants(Vec<(String, BTreeSet<String>)>);

impl Grants {
    /// What `sub` holds, if it is known here at all.
    pub fn get(&self, sub: &str) -> Option<&BTreeSet<String>> {
        self.0.iter().find(|(s, _)| s == sub).map(|(_, held)| held)
    }

    /// Mutable access, for tests that change a world.
    pub fn get_mut(&mut self, sub: &str) -> Option<&mut BTreeSet<String>> {
        self.0
            .iter_mut()
            .find(|(s, _)| s == sub)
            .map(|(_, held)| held)
    }
}

impl<const N: usize> From<[(String, BTreeSet<String>); N]> for Grants {
    fn from(pairs: [(String, BTreeSet<String>); N]) -> Self {
        Grants(pairs.into())
    }
}

/// A project known to the simulation.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// Project ID.
    pub id: String,
    /// Project number (Google answers Service Usage with it).
    pub number: String,
    /// Permissions held, by account `sub`; an account absent here cannot see the project.
    pub grants: Grants,
    /// Enabled services.
    pub enabled: BTreeSet<String>,
}

/// A bucket or service account: permissions held on it, by account `sub`.
#[derive(Clone, Debug, Default)]
pub struct Resource {
    /// Bucket name or service-account email.
    pub name: String,
    /// Permissions held, by account `sub`.
    pub grants: Grants,
    /// A bucket with uniform bucket-level access: object IAM permissions cannot be tested.
    pub uniform_access: bool,
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

fn response(status: u16, body: &impl Serialize) -> Response {
    Response {
        status,
        body: serde_json::to_string(body).unwrap_or_default(),
    }
}

/// Google's error body, written by the simulation (typed, so the bundle needs no JSON values).
#[derive(Serialize)]
struct ErrorOut<'a> {
    error: ErrorBodyOut<'a>,
}

#[derive(Serialize)]
struct ErrorBodyOut<'a> {
    code: u16,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<LegacyOut<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    details: Vec<DetailOut<'a>>,
}

#[derive(Serialize)]
struct LegacyOut<'a> {
    message: String,
    domain: &'a str,
    reason: &'a str,
}

#[derive(Serialize)]
struct DetailOut<'a> {
    #[serde(rename = "@type")]
    type_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_map")]
    metadata: Vec<(&'a str, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<LinkOut>,
}

#[derive(Serialize)]
struct LinkOut {
    description: &'static str,
    url: String,
}

fn as_map<S: serde::Serializer>(pairs: &[(&str, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// An `ErrorInfo` detail (domain `googleapis.com` unless said).
fn error_info<'a>(
    reason: &'a str,
    domain: &'a str,
    metadata: Vec<(&'a str, String)>,
) -> DetailOut<'a> {
    DetailOut {
        type_url: "type.googleapis.com/google.rpc.ErrorInfo",
        reason: Some(reason),
        domain: Some(domain),
        metadata,
        links: Vec::new(),
    }
}

/// A modern (AIP-193) error with optional details.
fn status_error(code: u16, status: &str, message: String, details: Vec<DetailOut>) -> Response {
    response(
        code,
        &ErrorOut {
            error: ErrorBodyOut {
                code,
                message,
                status: Some(status),
                errors: Vec::new(),
                details,
            },
        },
    )
}

fn google_error(code: u16, status: &str, message: &str) -> Response {
    status_error(code, status, message.to_owned(), Vec::new())
}

/// Cloud Storage's legacy shape: `errors[]`, no `status`.
fn legacy_error(code: u16, reason: &str, message: &str) -> Response {
    let errors = vec![LegacyOut {
        message: message.to_owned(),
        domain: "global",
        reason,
    }];
    response(
        code,
        &ErrorOut {
            error: ErrorBodyOut {
                code,
                message: message.to_owned(),
                status: None,
                errors,
                details: Vec::new(),
            },
        },
    )
}

#[derive(Serialize)]
struct TokenInfoOut<'a> {
    azp: &'a str,
    aud: &'a str,
    sub: &'a str,
    scope: &'a str,
    expires_in: &'a str,
    email: &'a str,
    email_verified: &'a str,
    access_type: &'a str,
}

#[derive(Serialize)]
struct OAuthErrorOut {
    error: &'static str,
    error_description: &'static str,
}

#[derive(Serialize)]
struct ServicesOut {
    services: Vec<ServiceOut>,
}

#[derive(Serialize)]
struct ServiceOut {
    name: String,
    state: &'static str,
}

/// A `testIamPermissions` answer: Google omits `permissions` when none is held.
#[derive(Serialize)]
struct HeldOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    permissions: Vec<&'a String>,
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
            let metadata = vec![
                ("consumer", format!("projects/{GCLOUD_CONSUMER}")),
                ("service", service.clone()),
            ];
            return status_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute'.".into(),
                vec![error_info("RATE_LIMIT_EXCEEDED", "googleapis.com", metadata)],
            );
        }
        let account = match &request.auth {
            Auth::Bearer(token) => match self.account_by_token(token) {
                Some(a) if a.expired => {
                    return status_error(
                        401,
                        "UNAUTHENTICATED",
                        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.".into(),
                        vec![error_info("ACCESS_TOKEN_EXPIRED", "googleapis.com", vec![("service", service.clone())])],
                    )
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
            let metadata = vec![
                ("consumer", format!("projects/{GCLOUD_CONSUMER}")),
                ("service", service.clone()),
                ("containerInfo", GCLOUD_CONSUMER.to_owned()),
                ("activationUrl", url.clone()),
            ];
            let help = DetailOut {
                type_url: "type.googleapis.com/google.rpc.Help",
                reason: None,
                domain: None,
                metadata: Vec::new(),
                links: vec![LinkOut {
                    description: "Google developers console API activation",
                    url: url.clone(),
                }],
            };
            return status_error(
                403,
                "PERMISSION_DENIED",
                format!("{service} has not been used in project {GCLOUD_CONSUMER} before or it is disabled. Enable it by visiting {url} then retry."),
                vec![error_info("SERVICE_DISABLED", "googleapis.com", metadata), help],
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
                    Some(sa) => held_answer(sa.grants.get(&account.sub), &asked, None),
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
                &TokenInfoOut {
                    azp: "32555940559.apps.googleusercontent.com",
                    aud: "32555940559.apps.googleusercontent.com",
                    sub: &a.sub,
                    scope: "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform",
                    // Only `expires_in` (service-account captures show it alone): no clock here.
                    expires_in: "3599",
                    email: &a.email,
                    email_verified: "true",
                    access_type: "offline",
                },
            ),
            _ => response(
                400,
                &OAuthErrorOut {
                    error: "invalid_token",
                    error_description: "Invalid Value",
                },
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
            Some(grants) => held_answer(Some(grants), asked, None),
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
            let metadata = vec![("permission", "serviceusage.services.get".to_owned())];
            return status_error(
                403,
                "PERMISSION_DENIED",
                format!("Permission 'serviceusage.services.get' denied on resource '//serviceusage.googleapis.com/projects/{id}' (or it may not exist)."),
                vec![error_info("IAM_PERMISSION_DENIED", "serviceusage.googleapis.com", metadata)],
            );
        }
        let services = names
            .iter()
            .filter_map(|n| n.rsplit_once("/services/").map(|(_, s)| s))
            .map(|s| ServiceOut {
                name: format!("projects/{}/services/{s}", project.number),
                state: if project.enabled.contains(s) {
                    "ENABLED"
                } else {
                    "DISABLED"
                },
            })
            .collect();
        response(200, &ServicesOut { services })
    }

    fn test_bucket(&self, account: &Account, path: &str, asked: &[String]) -> Response {
        let legacy = legacy_error;
        let object_policy = [
            "storage.objects.getIamPolicy",
            "storage.objects.setIamPolicy",
        ];
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
            Some(bucket)
                if bucket.uniform_access && asked.iter().any(|p| object_policy.contains(&p.as_str())) =>
            {
                legacy(400, "invalid", "Object policies (storage.objects.getIamPolicy, storage.objects.setIamPolicy) cannot be tested on a bucket with uniform bucket-level access enabled.")
            }
            // Cloud Storage adds `kind`, and it too omits `permissions` when none is held.
            Some(bucket) => held_answer(
                bucket.grants.get(&account.sub),
                asked,
                Some("storage#testIamPermissionsResponse"),
            ),
            None => legacy(404, "notFound", "The specified bucket does not exist."),
        }
    }
}

/// `{"permissions":[held subset]}`, or `{}` when none is held — Google omits the key.
fn held_answer(
    grants: Option<&BTreeSet<String>>,
    asked: &[String],
    kind: Option<&'static str>,
) -> Response {
    let permissions = asked
        .iter()
        .filter(|p| grants.is_some_and(|g| g.contains(*p)))
        .collect();
    response(200, &HeldOut { kind, permissions })
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
                grants: Grants::from([(alice(), seed_alice), (bob(), all.clone())]),
                enabled: apis.clone(),
            },
            Project {
                id: DEMO_PROJECT_TEAM.into(),
                number: "200000000002".into(),
                grants: Grants::from([(alice(), owner_like), (bob(), storage_only)]),
                enabled: apis,
            },
        ],
        buckets: vec![Resource {
            name: "demo-jobs-bucket".into(),
            grants: Grants::from([(alice(), all.clone())]),
            uniform_access: true,
        }],
        service_accounts: vec![Resource {
            name: format!("skypilot-v1@{DEMO_PROJECT_TEAM}.iam.gserviceaccount.com"),
            grants: Grants::from([(alice(), ordered([ACT_AS.to_string()]))]),
            uniform_access: false,
        }],
        consumer_disabled: BTreeSet::new(),
    }
}
