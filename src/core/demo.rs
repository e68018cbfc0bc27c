//! A simulated Google that follows Google's documented behaviour, for demo mode and tests.
//!
//! It answers the same requests the real APIs do, with the same shapes, and is as strict as
//! Google's references say Google is (each rule cites its source where it is written):
//! - `{}` when nothing is held; 400 "Permission X is not valid for this resource." for any name
//!   it does not know as project-testable — a typo as much as an organization permission (one
//!   named per error; GCP-API.md §1.5, samples/error_crm_invalid_permission.txt); 400 for more
//!   than 100 permissions; 403 for a project the caller cannot see;
//! - a bucket's or service account's answers come from its own grants and its *own* project's;
//!   a missing service account is a 403 through `projects/-` (IAM reference, BROWSER-FACTS
//!   flag 4); IAM calls need the full `cloud-platform` scope (BROWSER-FACTS flag 1);
//! - Service Usage `services.list` needs `serviceusage.services.list` (its reference);
//!   Cloud Billing `getBillingInfo` needs `resourcemanager.projects.get` (its reference);
//! - 401 for a bad or expired token with Google's ErrorInfo, SERVICE_DISABLED bodies for an API
//!   turned off in the consumer project, tokeninfo without `sub`/`email` when the email scope is
//!   missing (samples/tokeninfo_no_email_scope.txt);
//! - on demand: 429, legacy 403 `rateLimitExceeded`, a proxy's HTML 502, a dropped connection.

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
    /// The OAuth client that minted the token (tokeninfo `azp`).
    pub client_id: String,
    /// Its scopes, space-separated, as tokeninfo says them.
    pub scopes: String,
}

/// tokeninfo `azp` of `gcloud auth application-default print-access-token` tokens (the client
/// whose ID starts with [`GCLOUD_ADC_CLIENT_PREFIX`](super::identity::GCLOUD_ADC_CLIENT_PREFIX),
/// GCP-API.md §5).
pub const GCLOUD_ADC_CLIENT: &str =
    "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com";
/// The scopes gcloud asks for.
pub const GCLOUD_SCOPES: &str = "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform";
const EMAIL_SCOPE: &str = "https://www.googleapis.com/auth/userinfo.email";
const FULL_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

impl Account {
    /// An account with a live gcloud application-default token.
    pub fn new(token: &str, sub: &str, email: &str) -> Self {
        Account {
            token: token.into(),
            sub: sub.into(),
            email: email.into(),
            expired: false,
            client_id: GCLOUD_ADC_CLIENT.into(),
            scopes: GCLOUD_SCOPES.into(),
        }
    }

    fn has_scope(&self, scope: &str) -> bool {
        self.scopes.split_whitespace().any(|s| s == scope)
    }
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
    /// Whether an open billing account is linked.
    pub billing: bool,
    /// IAM policy bindings: `(role, members)`.
    pub bindings: Vec<(String, Vec<String>)>,
    /// VPC network names.
    pub networks: Vec<String>,
}

/// A bucket or service account: permissions held on it, by account `sub`.
#[derive(Clone, Debug, Default)]
pub struct Resource {
    /// Bucket name or service-account email.
    pub name: String,
    /// The project it lives in: its grants reach the resource.
    pub project: String,
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
    /// Extra names accepted as project-testable, beyond the catalogue's.
    pub extra_valid: BTreeSet<String>,
    /// Services per `services.list` page (Google's largest is 200); 0 means 200.
    pub services_page_size: usize,
    /// Projects per Resource Manager v3 `projects.search` page, whatever is asked; 0 means
    /// what the request asks (Google: "the server can return fewer projects than requested").
    pub search_page_size: usize,
    /// Projects in `DELETE_REQUESTED` state: `projects.search` lists them unless the query is
    /// `state:ACTIVE`.
    pub delete_requested: BTreeSet<String>,
}

/// A failure the simulation produces on demand, for the next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 429 RESOURCE_EXHAUSTED with ErrorInfo RATE_LIMIT_EXCEEDED.
    RateLimit,
    /// The legacy 403 with `errors[].reason` `rateLimitExceeded` (GCP-API.md §7).
    LegacyRateLimit,
    /// A proxy's HTML page with this 5xx status.
    ProxyPage(u16),
    /// No answer at all.
    Drop,
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
    /// Failures for the next requests, first first.
    pub fail_next: RefCell<Vec<Failure>>,
    /// Sleeps asked for (retries), in ms.
    pub sleeps: RefCell<Vec<u32>>,
}

/// Whether Resource Manager accepts `permission` on a project: every catalogue name and the
/// world's extras, never organization, folder or billing ones. Anything else — a typo as much —
/// gets Google's 400 (GCP-API.md §1.5).
fn valid_on_project(world: &World, permission: &str) -> bool {
    let organization_level = [
        "billing.",
        "resourcemanager.organizations.",
        "resourcemanager.folders.",
    ]
    .iter()
    .any(|prefix| permission.starts_with(prefix))
        || matches!(
            permission,
            "resourcemanager.projects.create" | "resourcemanager.projects.list"
        );
    !organization_level
        && (world.extra_valid.contains(permission)
            || ALL_GROUPS
                .iter()
                .any(|g| g.permissions.contains(&permission))
            || permission == "serviceusage.services.get")
}

/// A v3 `Project` in a `projects.search` answer.
#[derive(Serialize)]
struct ProjectOut<'a> {
    name: String,
    #[serde(rename = "projectId")]
    project_id: &'a str,
    #[serde(rename = "displayName")]
    display_name: &'a str,
    state: &'static str,
}

/// `SearchProjectsResponse`; proto3 JSON leaves out an empty list and an absent token.
#[derive(Serialize)]
struct SearchOut<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    projects: Vec<ProjectOut<'a>>,
    #[serde(rename = "nextPageToken", skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

fn response(status: u16, body: &impl Serialize) -> Response {
    Response {
        status,
        body: super::json::to_string(body).unwrap_or_default(),
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

/// tokeninfo's answer: `sub`, `email` and `email_verified` only with the email scope.
#[derive(Serialize)]
struct TokenInfoOut<'a> {
    azp: &'a str,
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sub: Option<&'a str>,
    scope: &'a str,
    expires_in: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<&'a str>,
    access_type: &'a str,
}

#[derive(Serialize)]
struct OAuthErrorOut {
    error: &'static str,
    error_description: &'static str,
}

/// One `services.list` page (Google leaves out an empty list and the last page's token).
#[derive(Serialize)]
struct ServicesOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    services: Vec<NameOut>,
    #[serde(rename = "nextPageToken", skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
}

#[derive(Serialize)]
struct NameOut {
    name: String,
}

/// `getBillingInfo` (proto3 JSON leaves out `false` and empty strings).
#[derive(Serialize)]
struct BillingOut<'a> {
    name: String,
    #[serde(rename = "projectId")]
    project_id: &'a str,
    #[serde(rename = "billingAccountName", skip_serializing_if = "Option::is_none")]
    billing_account_name: Option<&'static str>,
    #[serde(rename = "billingEnabled", skip_serializing_if = "std::ops::Not::not")]
    billing_enabled: bool,
}

#[derive(Serialize)]
struct PolicyOut<'a> {
    version: u8,
    etag: &'static str,
    bindings: Vec<BindingOut<'a>>,
}

#[derive(Serialize)]
struct BindingOut<'a> {
    role: &'a str,
    members: &'a [String],
}

#[derive(Serialize)]
struct NetworksOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    items: Vec<NameOut>,
}

#[derive(Serialize)]
struct ServiceAccountOut<'a> {
    name: String,
    #[serde(rename = "projectId")]
    project_id: &'a str,
    email: &'a str,
}

/// A `testIamPermissions` answer: Google omits `permissions` when none is held.
#[derive(Serialize)]
struct HeldOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    permissions: Vec<&'a String>,
}

/// 403 `IAM_PERMISSION_DENIED` naming `permission`, as Service Usage and IAM answer it.
fn iam_denied(domain: &str, permission: &str, resource: &str) -> Response {
    let metadata = vec![("permission", permission.to_owned())];
    status_error(
        403,
        "PERMISSION_DENIED",
        format!("Permission '{permission}' denied on resource '{resource}' (or it may not exist)."),
        vec![error_info("IAM_PERMISSION_DENIED", domain, metadata)],
    )
}

fn caller_denied() -> Response {
    google_error(
        403,
        "PERMISSION_DENIED",
        "The caller does not have permission",
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

    fn project(&self, id: &str) -> Option<&Project> {
        self.world.projects.iter().find(|p| p.id == id)
    }

    /// What `sub` holds on project `id` (`None`: it cannot see the project).
    fn grants_on(&self, id: &str, sub: &str) -> Option<&BTreeSet<String>> {
        self.project(id).and_then(|p| p.grants.get(sub))
    }

    fn holds(&self, id: &str, sub: &str, permission: &str) -> bool {
        self.grants_on(id, sub)
            .is_some_and(|g| g.contains(permission))
    }

    /// Answers one request, or drops it.
    pub fn answer(&self, request: &Request) -> Result<Response, NetError> {
        let next = {
            let mut queue = self.fail_next.borrow_mut();
            (!queue.is_empty()).then(|| queue.remove(0))
        };
        match next {
            Some(Failure::Drop) => {
                self.log.borrow_mut().push(format!(
                    "{} {} (dropped)",
                    request.method.as_str(),
                    request.url
                ));
                Err(NetError::Network("connection closed".into()))
            }
            Some(Failure::ProxyPage(status)) => {
                self.log.borrow_mut().push(format!(
                    "{} {} ({status})",
                    request.method.as_str(),
                    request.url
                ));
                Ok(Response {
                    status,
                    body: "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>".into(),
                })
            }
            Some(Failure::LegacyRateLimit) => {
                self.log.borrow_mut().push(format!(
                    "{} {} (403 rateLimitExceeded)",
                    request.method.as_str(),
                    request.url
                ));
                Ok(legacy_error(
                    403,
                    "rateLimitExceeded",
                    "Rate Limit Exceeded",
                ))
            }
            Some(Failure::RateLimit) => {
                self.rate_limit_next.set(self.rate_limit_next.get() + 1);
                Ok(self.handle(request))
            }
            None => Ok(self.handle(request)),
        }
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
                // samples/error_401_access_token_type_unsupported_crm.json
                None => {
                    return status_error(
                        401,
                        "UNAUTHENTICATED",
                        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.".into(),
                        vec![error_info("ACCESS_TOKEN_TYPE_UNSUPPORTED", "googleapis.com", vec![("service", service.clone())])],
                    )
                }
            },
            Auth::None => {
                return google_error(401, "UNAUTHENTICATED", "Request is missing required authentication credential.")
            }
        };
        if self.world.consumer_disabled.contains(&service) {
            return service_disabled(&service, GCLOUD_CONSUMER);
        }
        // IAM's methods list only the `iam` and `cloud-platform` scopes (BROWSER-FACTS flag 1);
        // getBillingInfo and Compute's networks.list do not list `cloud-platform.read-only`
        // either (their REST references).
        let full_scope_only = matches!(
            host,
            "iam.googleapis.com" | "cloudbilling.googleapis.com" | "compute.googleapis.com"
        );
        if full_scope_only && !account.has_scope(FULL_SCOPE) {
            let metadata = vec![
                ("method", "google.iam.admin.v1.IAM".to_owned()),
                ("service", service.clone()),
            ];
            return status_error(
                403,
                "PERMISSION_DENIED",
                "Request had insufficient authentication scopes.".into(),
                vec![error_info(
                    "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "googleapis.com",
                    metadata,
                )],
            );
        }
        let asked: Vec<String> = request
            .body
            .as_ref()
            .and_then(|b| super::json::from_str::<AskedBody>(&b.text).ok())
            .map(|b| b.permissions)
            .unwrap_or_default();
        let sub = account.sub.as_str();
        match (host, request.method) {
            ("cloudresourcemanager.googleapis.com", Method::Post) => {
                let rest = path.strip_prefix("v1/projects/").unwrap_or("");
                if let Some(id) = rest.strip_suffix(":testIamPermissions") {
                    self.test_project(sub, id, &asked)
                } else if let Some(id) = rest.strip_suffix(":getIamPolicy") {
                    self.iam_policy(sub, id)
                } else {
                    google_error(404, "NOT_FOUND", "Unknown method")
                }
            }
            ("serviceusage.googleapis.com", Method::Get) => self.services_list(sub, &path, &query),
            ("cloudresourcemanager.googleapis.com", Method::Get)
                if path == "v3/projects:search" =>
            {
                self.search_projects(sub, &query)
            }
            ("cloudbilling.googleapis.com", Method::Get) => {
                let id = path
                    .strip_prefix("v1/projects/")
                    .and_then(|p| p.strip_suffix("/billingInfo"))
                    .unwrap_or("");
                match self.project(id) {
                    Some(project) if self.holds(id, sub, "resourcemanager.projects.get") => {
                        response(
                            200,
                            &BillingOut {
                                name: format!("projects/{id}/billingInfo"),
                                project_id: &project.id,
                                billing_account_name: project
                                    .billing
                                    .then_some("billingAccounts/012345-567890-ABCDEF"),
                                billing_enabled: project.billing,
                            },
                        )
                    }
                    _ => caller_denied(),
                }
            }
            ("compute.googleapis.com", Method::Get) => {
                let id = path
                    .strip_prefix("compute/v1/projects/")
                    .and_then(|p| p.strip_suffix("/global/networks"))
                    .unwrap_or("");
                self.networks(sub, id)
            }
            ("storage.googleapis.com", Method::Get) => {
                let asked: Vec<String> = query
                    .iter()
                    .filter(|(k, _)| k == "permissions")
                    .map(|(_, v)| v.clone())
                    .collect();
                self.test_bucket(sub, &path, &asked)
            }
            ("iam.googleapis.com", method) => {
                let rest = path
                    .strip_prefix("v1/projects/-/serviceAccounts/")
                    .unwrap_or("");
                let (email, testing) = match rest.strip_suffix(":testIamPermissions") {
                    Some(email) => (email, true),
                    None => (rest, false),
                };
                let resource = format!("projects/-/serviceAccounts/{email}");
                let Some(sa) = self.world.service_accounts.iter().find(|s| s.name == email) else {
                    // `projects/-` answers 403 for an account that does not exist (IAM reference).
                    let permission = if testing {
                        "iam.serviceAccounts.getIamPolicy"
                    } else {
                        "iam.serviceAccounts.get"
                    };
                    return iam_denied("iam.googleapis.com", permission, &resource);
                };
                match (method, testing) {
                    (Method::Post, true) => {
                        held_answer(self.resource_grants(sa, sub).as_ref(), &asked, None)
                    }
                    (Method::Get, false) => {
                        let visible = self
                            .resource_grants(sa, sub)
                            .is_some_and(|g| g.contains("iam.serviceAccounts.get"));
                        if !visible {
                            return iam_denied(
                                "iam.googleapis.com",
                                "iam.serviceAccounts.get",
                                &resource,
                            );
                        }
                        response(
                            200,
                            &ServiceAccountOut {
                                name: format!("projects/{}/serviceAccounts/{email}", sa.project),
                                project_id: &sa.project,
                                email,
                            },
                        )
                    }
                    _ => google_error(404, "NOT_FOUND", "Unknown method"),
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
            Some(a) if !a.expired => {
                let email_scope = a.has_scope(EMAIL_SCOPE);
                response(
                    200,
                    &TokenInfoOut {
                        azp: &a.client_id,
                        aud: &a.client_id,
                        sub: email_scope.then_some(a.sub.as_str()),
                        scope: &a.scopes,
                        // Only `expires_in` (service-account captures show it alone): no clock here.
                        expires_in: "3599",
                        email: email_scope.then_some(a.email.as_str()),
                        email_verified: email_scope.then_some("true"),
                        access_type: "offline",
                    },
                )
            }
            _ => response(
                400,
                &OAuthErrorOut {
                    error: "invalid_token",
                    error_description: "Invalid Value",
                },
            ),
        }
    }

    fn test_project(&self, sub: &str, id: &str, asked: &[String]) -> Response {
        if asked.len() > 100 {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
            );
        }
        if let Some(bad) = asked.iter().find(|p| !valid_on_project(&self.world, p)) {
            return google_error(
                400,
                "INVALID_ARGUMENT",
                &format!("Permission {bad} is not valid for this resource."),
            );
        }
        match self.grants_on(id, sub) {
            Some(grants) => held_answer(Some(grants), asked, None),
            None => caller_denied(),
        }
    }

    fn iam_policy(&self, sub: &str, id: &str) -> Response {
        match self.project(id) {
            Some(project) if self.holds(id, sub, "resourcemanager.projects.getIamPolicy") => {
                let bindings = project
                    .bindings
                    .iter()
                    .map(|(role, members)| BindingOut { role, members })
                    .collect();
                response(
                    200,
                    &PolicyOut {
                        version: 1,
                        etag: "BwXdemo=",
                        bindings,
                    },
                )
            }
            _ => caller_denied(),
        }
    }

    fn networks(&self, sub: &str, id: &str) -> Response {
        let Some(project) = self.project(id) else {
            return caller_denied();
        };
        if !project.enabled.contains("compute.googleapis.com") {
            return service_disabled("compute.googleapis.com", &project.number);
        }
        if !self.holds(id, sub, "compute.networks.list") {
            // Compute Engine still answers in the legacy shape.
            return legacy_error(
                403,
                "forbidden",
                &format!("Required 'compute.networks.list' permission for 'projects/{id}'"),
            );
        }
        let items = project
            .networks
            .iter()
            .map(|n| NameOut { name: n.clone() })
            .collect();
        response(200, &NetworksOut { items })
    }

    /// Resource Manager v3 `projects.search`: the projects on which `sub` holds
    /// `resourcemanager.projects.get` (its reference: "returns projects for which the user has
    /// the resourcemanager.projects.get permission"), `query` `state:ACTIVE` or none, paged
    /// with an opaque token.
    fn search_projects(&self, sub: &str, query: &[(String, String)]) -> Response {
        let value = |key: &str| {
            query
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let active_only = match value("query") {
            None | Some("") => false,
            Some("state:ACTIVE") => true,
            Some(_) => {
                return google_error(
                    400,
                    "INVALID_ARGUMENT",
                    "Request contains an invalid argument.",
                )
            }
        };
        let asked: usize = value("pageSize").and_then(|n| n.parse().ok()).unwrap_or(0);
        let page_size = match (self.world.search_page_size, asked) {
            (0, 0) => 100,
            (0, n) => n,
            (cap, 0) => cap,
            (cap, n) => cap.min(n),
        };
        let start = match value("pageToken") {
            None => 0,
            Some(t) => match t.strip_prefix("page-").and_then(|n| n.parse().ok()) {
                Some(n) => n,
                None => {
                    return google_error(
                        400,
                        "INVALID_ARGUMENT",
                        "Request contains an invalid argument.",
                    )
                }
            },
        };
        let visible: Vec<&Project> = self
            .world
            .projects
            .iter()
            .filter(|p| {
                p.grants
                    .get(sub)
                    .is_some_and(|g| g.contains("resourcemanager.projects.get"))
            })
            .filter(|p| !active_only || !self.world.delete_requested.contains(&p.id))
            .collect();
        let projects = visible
            .iter()
            .skip(start)
            .take(page_size)
            .map(|p| ProjectOut {
                name: format!("projects/{}", p.number),
                project_id: &p.id,
                display_name: &p.id,
                state: if self.world.delete_requested.contains(&p.id) {
                    "DELETE_REQUESTED"
                } else {
                    "ACTIVE"
                },
            })
            .collect();
        let next = start + page_size;
        response(
            200,
            &SearchOut {
                projects,
                next_page_token: (next < visible.len()).then(|| format!("page-{next}")),
            },
        )
    }

    fn services_list(&self, sub: &str, path: &str, query: &[(String, String)]) -> Response {
        let Some(id) = path
            .strip_prefix("v1/projects/")
            .and_then(|p| p.strip_suffix("/services"))
        else {
            return google_error(404, "NOT_FOUND", "Unknown method");
        };
        let resource = format!("//serviceusage.googleapis.com/projects/{id}");
        let project = match self.project(id) {
            Some(p) if self.holds(id, sub, "serviceusage.services.list") => p,
            _ => {
                return iam_denied(
                    "serviceusage.googleapis.com",
                    "serviceusage.services.list",
                    &resource,
                )
            }
        };
        let value = |key: &str| {
            query
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let enabled_only = value("filter") == Some("state:ENABLED");
        let page_size = match self.world.services_page_size {
            0 => 200,
            n => n,
        };
        let start: usize = value("pageToken").and_then(|t| t.parse().ok()).unwrap_or(0);
        // Only enabled services are listed here; the app always filters on them.
        let all: Vec<&String> = project.enabled.iter().filter(|_| enabled_only).collect();
        let services = all
            .iter()
            .skip(start)
            .take(page_size)
            .map(|s| NameOut {
                name: format!("projects/{}/services/{s}", project.number),
            })
            .collect();
        let next = start + page_size;
        let next_page_token = (next < all.len()).then(|| next.to_string());
        response(
            200,
            &ServicesOut {
                services,
                next_page_token,
            },
        )
    }

    /// What `sub` holds on a bucket or service account: its own grants plus those on its own
    /// project (`None`: nothing at all).
    fn resource_grants(&self, resource: &Resource, sub: &str) -> Option<BTreeSet<String>> {
        let own = resource.grants.get(sub);
        let inherited = self.grants_on(&resource.project, sub);
        if own.is_none() && inherited.is_none() {
            return None;
        }
        Some(ordered(own.into_iter().chain(inherited).flatten().cloned()))
    }

    fn test_bucket(&self, sub: &str, path: &str, asked: &[String]) -> Response {
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
                self.resource_grants(bucket, sub).as_ref(),
                asked,
                Some("storage#testIamPermissionsResponse"),
            ),
            None => legacy(404, "notFound", "The specified bucket does not exist."),
        }
    }
}

/// SERVICE_DISABLED for `service` in `consumer`, shaped as Google's (GCP-API.md §7).
fn service_disabled(service: &str, consumer: &str) -> Response {
    let url = format!(
        "https://console.developers.google.com/apis/api/{service}/overview?project={consumer}"
    );
    let metadata = vec![
        ("consumer", format!("projects/{consumer}")),
        ("service", service.to_owned()),
        ("containerInfo", consumer.to_owned()),
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
    status_error(
        403,
        "PERMISSION_DENIED",
        format!("{service} has not been used in project {consumer} before or it is disabled. Enable it by visiting {url} then retry."),
        vec![error_info("SERVICE_DISABLED", "googleapis.com", metadata), help],
    )
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
        ready(self.answer(&request))
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
    let team_account = format!("skypilot-v1@{DEMO_PROJECT_TEAM}.iam.gserviceaccount.com");
    World {
        accounts: vec![
            Account::new(DEMO_TOKEN_ALICE, &alice(), "alice@example.com"),
            Account::new(DEMO_TOKEN_BOB, &bob(), "bob@example.com"),
        ],
        projects: vec![
            Project {
                id: DEMO_PROJECT_SEED.into(),
                number: "200000000001".into(),
                grants: Grants::from([(alice(), seed_alice), (bob(), all.clone())]),
                enabled: apis.clone(),
                billing: true,
                bindings: vec![("roles/owner".into(), vec!["user:bob@example.com".into()])],
                networks: vec!["default".into()],
            },
            Project {
                id: DEMO_PROJECT_TEAM.into(),
                number: "200000000002".into(),
                grants: Grants::from([(alice(), owner_like), (bob(), storage_only)]),
                enabled: apis,
                billing: true,
                bindings: vec![
                    ("roles/owner".into(), vec!["user:alice@example.com".into()]),
                    (
                        "roles/compute.admin".into(),
                        vec![format!("serviceAccount:{team_account}")],
                    ),
                ],
                networks: vec!["default".into()],
            },
        ],
        buckets: vec![Resource {
            name: "demo-jobs-bucket".into(),
            project: DEMO_PROJECT_TEAM.into(),
            grants: Grants::from([(alice(), all.clone())]),
            uniform_access: true,
        }],
        service_accounts: vec![Resource {
            name: team_account,
            project: DEMO_PROJECT_TEAM.into(),
            grants: Grants::from([(alice(), ordered([ACT_AS.to_string()]))]),
            uniform_access: false,
        }],
        ..World::default()
    }
}
