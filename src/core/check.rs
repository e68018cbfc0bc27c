//! Runs a [`Plan`] over any [`Transport`]: every request in one parallel wave, transient errors
//! retried with backoff, and a permission Google refuses to test on the resource set aside so
//! that it does not sink its batch.

use super::endpoints;
use super::google_error::{ApiError, ErrorKind, GoogleError};
use super::http::{Request, Transport};
use super::identity::Identity;
use super::names::ServiceAccountEmail;
use super::ordered;
use super::permission::Permission;
use super::plan::{Plan, Probe, ACT_AS};
use futures::future::join_all;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many times a rate-limited or failing (5xx) request is sent in all.
pub const MAX_ATTEMPTS: u32 = 4;
/// Wait before the first retry; doubled for each further one.
pub const FIRST_BACKOFF_MS: u32 = 500;
/// Most `services.list` pages read (200 services each): a bound, not an expectation.
const MAX_SERVICE_PAGES: usize = 10;

/// What one test said about one permission on one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PermissionFinding {
    /// Google says the caller holds it.
    Held,
    /// Google says the caller does not hold it.
    Missing,
    /// Google refuses the name on this resource ("Permission X is not valid for this
    /// resource."): misspelt, or it exists only on organizations, folders or billing accounts.
    /// Either way it can never be held on the resource.
    NotValid,
    /// The resource's settings make it untestable there (uniform bucket-level access).
    Untestable,
    /// The request failed; nothing is known.
    Error {
        /// Why.
        error: ApiError,
    },
}

/// Whether an API is enabled on the project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ApiFinding {
    /// Enabled.
    On,
    /// Disabled or never enabled.
    Off,
    /// The look-up failed.
    Unknown {
        /// Why.
        error: ApiError,
    },
}

/// What was found about the first launch's needs beyond `sky check` (see
/// [`crate::core::catalog::FIRST_LAUNCH_ADMIN`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FirstLaunchFindings {
    /// `skypilot-v1@PROJECT.iam.gserviceaccount.com`.
    pub account: ServiceAccountEmail,
    /// `true`: it exists. `false`: Google answered 403/404, i.e. it does not exist *or* the
    /// caller cannot see it (IAM answers both alike; the verdict tells them apart with the
    /// project-level `iam.serviceAccounts.get` answer).
    pub exists: Result<bool, ApiError>,
    /// The roles bound to it on the project.
    pub roles: Result<Vec<String>, ApiError>,
    /// `actAs` tested on the account itself; `None` when the account could not be addressed
    /// (missing or invisible), so that only the project-level answer applies.
    pub act_as: Option<PermissionFinding>,
    /// The project's VPC networks.
    pub networks: Result<Vec<String>, ApiError>,
}

/// Everything one check found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// Project-level answers.
    pub project: BTreeMap<Permission, PermissionFinding>,
    /// Answers on the named bucket.
    pub bucket: BTreeMap<Permission, PermissionFinding>,
    /// Answers on the named service account.
    pub service_account: BTreeMap<Permission, PermissionFinding>,
    /// API states by service name.
    pub apis: BTreeMap<String, ApiFinding>,
    /// For a planned API that is off, an enabled service whose name contains it: SkyPilot's
    /// `gcloud services list | grep NAME.googleapis.com` then thinks it is on and never enables
    /// it (`bigquerystorage.googleapis.com` matches `storage.googleapis.com`).
    pub grep_matches: BTreeMap<String, String>,
    /// Whether the project has an open billing account (`None`: not looked up).
    pub billing: Option<Result<bool, ApiError>>,
    /// The first launch's needs (`None`: not looked up).
    pub first_launch: Option<FirstLaunchFindings>,
}

/// Where a request went, for saying where an error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Project,
    Probe(Probe),
    ApiStates,
    Billing,
    FirstLaunchAccount,
    FirstLaunchPolicy,
    FirstLaunchNetworks,
}

fn permission_errors(
    map: &BTreeMap<Permission, PermissionFinding>,
) -> impl Iterator<Item = &ApiError> {
    map.values().filter_map(|f| match f {
        PermissionFinding::Error { error } => Some(error),
        _ => None,
    })
}

impl Findings {
    /// Every request error with where it went, in a stable order (duplicates kept).
    fn located_errors(&self) -> Vec<(Place, &ApiError)> {
        let mut out: Vec<(Place, &ApiError)> = Vec::new();
        out.extend(permission_errors(&self.project).map(|e| (Place::Project, e)));
        out.extend(permission_errors(&self.bucket).map(|e| (Place::Probe(Probe::Bucket), e)));
        out.extend(
            permission_errors(&self.service_account)
                .map(|e| (Place::Probe(Probe::ServiceAccount), e)),
        );
        out.extend(self.apis.values().filter_map(|f| match f {
            ApiFinding::Unknown { error } => Some((Place::ApiStates, error)),
            _ => None,
        }));
        if let Some(Err(error)) = &self.billing {
            out.push((Place::Billing, error));
        }
        if let Some(first) = &self.first_launch {
            if let Err(error) = &first.exists {
                out.push((Place::FirstLaunchAccount, error));
            }
            if let Some(PermissionFinding::Error { error }) = &first.act_as {
                out.push((Place::FirstLaunchAccount, error));
            }
            if let Err(error) = &first.roles {
                out.push((Place::FirstLaunchPolicy, error));
            }
            if let Err(error) = &first.networks {
                out.push((Place::FirstLaunchNetworks, error));
            }
        }
        out
    }

    /// Every request error, once each, in a stable order.
    pub fn errors(&self) -> Vec<&ApiError> {
        let mut out: Vec<&ApiError> = Vec::new();
        for (_, error) in self.located_errors() {
            if !out.contains(&error) {
                out.push(error);
            }
        }
        out
    }

    /// The answers from `probe`'s resource.
    pub fn on(&self, probe: Probe) -> &BTreeMap<Permission, PermissionFinding> {
        match probe {
            Probe::Bucket => &self.bucket,
            Probe::ServiceAccount => &self.service_account,
        }
    }

    /// Every request error, once each, said with where it happened (for the alerts).
    pub fn described_errors(&self, plan: &Plan) -> Vec<String> {
        let account = self
            .first_launch
            .as_ref()
            .map(|f| f.account.to_string())
            .unwrap_or_default();
        let mut out: Vec<String> = Vec::new();
        for (place, error) in self.located_errors() {
            let place = match place {
                Place::Project => format!("Project {}", plan.project),
                Place::Probe(probe) => {
                    let target = plan.probe_target(probe).unwrap_or_default();
                    // "bucket b" → "Bucket b": the place starts the sentence.
                    let mut chars = target.chars();
                    chars
                        .next()
                        .map(|c| c.to_ascii_uppercase())
                        .into_iter()
                        .chain(chars)
                        .collect()
                }
                Place::ApiStates => "API states (Service Usage)".into(),
                Place::Billing => "Billing (Cloud Billing)".into(),
                Place::FirstLaunchAccount => format!("First launch, service account {account}"),
                Place::FirstLaunchPolicy => "First launch, project IAM policy".into(),
                Place::FirstLaunchNetworks => "First launch, VPC networks".into(),
            };
            let text = format!("{place}: {error}");
            if !out.contains(&text) {
                out.push(text);
            }
        }
        out
    }

    /// Complete and error-free: the only kind of result that may be cached.
    pub fn is_complete(&self) -> bool {
        self.errors().is_empty()
    }
}

/// What the token may call, as far as the app knows before sending anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TokenScope {
    /// Full `cloud-platform` (or unknown: then Google's answer says).
    #[default]
    Full,
    /// `cloud-platform.read-only` only: IAM, Cloud Billing's `getBillingInfo` and Compute
    /// Engine's `networks.list` refuse it (their references list `cloud-platform` and their own
    /// scopes, not `cloud-platform.read-only`), so those calls are not sent.
    ReadOnly,
}

/// Why a call to `api` was not sent with a read-only token.
pub fn read_only_scope_error(api: &str) -> ApiError {
    ApiError::NotSent {
        reason: format!("a read-only token (cloud-platform.read-only) cannot call {api}: it needs the full cloud-platform scope, as `gcloud auth application-default print-access-token` has"),
    }
}

/// Sends `request`, retrying rate limits and server errors with exponential backoff; returns the
/// body of a 2xx answer or the parsed error.
///
/// A 502/503/504 is retried whatever its body (a proxy's HTML page included), and a request
/// that got no answer at all is sent once more: proxies and flaky networks sit between the page
/// and Google.
pub async fn send<T: Transport>(transport: &T, request: Request) -> Result<String, ApiError> {
    let mut backoff = FIRST_BACKOFF_MS;
    let mut attempt = 1;
    loop {
        let (result, retry_allowed) = match transport.send(request.clone()).await {
            // A dropped connection is sent once more; what never left the app is not.
            Err(error) => {
                let retry = matches!(error, super::http::NetError::Network(_)) && attempt < 2;
                (Err(ApiError::from(error)), retry)
            }
            Ok(response) if (200..300).contains(&response.status) => (Ok(response.body), false),
            Ok(response) => {
                let error = GoogleError::from_response(response.status, &response.body);
                let gateway = matches!(response.status, 502..=504);
                let transient = gateway || error.is_transient();
                (Err(error), transient)
            }
        };
        if retry_allowed && attempt < MAX_ATTEMPTS {
            transport.sleep(backoff).await;
            backoff *= 2;
            attempt += 1;
            continue;
        }
        return result;
    }
}

/// Looks up who the token belongs to: tokeninfo, or, when tokeninfo cannot be reached at all
/// (no response: offline, or no CORS headers, which the browser does not tell apart), OpenID
/// userinfo for the account alone. Both go through [`send`], so 502/503/504 and a dropped
/// connection are retried there as for every other request.
///
/// If userinfo fails too, the answer is tokeninfo's network error: a failed fallback says
/// nothing about the token (a 401 from userinfo may only mean a missing `openid` scope), so it
/// must not make the token look dead.
pub async fn lookup_identity<T: Transport>(
    transport: &T,
    token: &str,
    now_ms: u64,
) -> Result<Identity, ApiError> {
    match send(transport, endpoints::tokeninfo(token)).await {
        Ok(body) => Identity::from_tokeninfo(&body, now_ms),
        Err(unreachable @ ApiError::Network { .. }) => {
            match send(transport, endpoints::userinfo(token)).await {
                Ok(body) => Identity::from_userinfo(&body).map_err(|_| unreachable),
                Err(_) => Err(unreachable),
            }
        }
        Err(error) => Err(error),
    }
}

/// Into how many parts the rest of a refused batch is split and resent at once: Google names
/// one refused name per 400, so resending the rest whole would cost one round trip per name.
/// Four parts (rather than two) keep a batch of 100 holding ten refused names within about
/// five round trips however the names lie, for at most four requests per refused name.
pub const SPLIT_WAYS: usize = 4;

/// Tests `permissions` with requests built by `make_request`. A permission Google names as not
/// valid (or untestable) on the resource is set aside, and the rest of that request is split
/// into [`SPLIT_WAYS`] parts sent concurrently (recursively), so that k refused names cost
/// about log4(batch) + 1 round trips instead of k + 1.
async fn test_permissions<T, F>(
    transport: &T,
    permissions: Vec<Permission>,
    make_request: F,
) -> Vec<(Permission, PermissionFinding)>
where
    T: Transport,
    F: Fn(&[Permission]) -> Request,
{
    test_part(transport, permissions, &make_request).await
}

/// One request of [`test_permissions`] and, after a 400 naming a refused permission, its parts.
/// `make_request` is a trait object, not a type parameter: the project, bucket and
/// service-account tests share one copy of this (large) function in the wasm.
fn test_part<'a, T>(
    transport: &'a T,
    mut remaining: Vec<Permission>,
    make_request: &'a dyn Fn(&[Permission]) -> Request,
) -> futures::future::LocalBoxFuture<'a, Vec<(Permission, PermissionFinding)>>
where
    T: Transport,
{
    Box::pin(async move {
        let mut out = Vec::new();
        if remaining.is_empty() {
            return out;
        }
        match send(transport, make_request(&remaining)).await {
            Ok(body) => match endpoints::parse_held_permissions(&body) {
                Ok(held) => {
                    out.extend(remaining.drain(..).map(|p| {
                        let finding = if held.iter().any(|h| h == p.as_str()) {
                            PermissionFinding::Held
                        } else {
                            PermissionFinding::Missing
                        };
                        (p, finding)
                    }));
                }
                Err(error) => out.extend(remaining.drain(..).map(|p| {
                    (
                        p,
                        PermissionFinding::Error {
                            error: error.clone(),
                        },
                    )
                })),
            },
            Err(error) => {
                // Google names what it refuses here: set those aside, send the rest again.
                let (named, finding, split): (Vec<&str>, PermissionFinding, bool) =
                    match error.kind() {
                        // One name per 400, and more may hide in the rest: split it.
                        Some(ErrorKind::PermissionNotTestable { permission }) => {
                            (vec![permission], PermissionFinding::NotValid, true)
                        }
                        // Every untestable name at once: the rest goes again whole.
                        Some(ErrorKind::UniformBucketLevelAccess { permissions }) => (
                            permissions.iter().map(String::as_str).collect(),
                            PermissionFinding::Untestable,
                            false,
                        ),
                        _ => (Vec::new(), PermissionFinding::Untestable, false),
                    };
                let before = remaining.len();
                let (set_aside, rest): (Vec<_>, Vec<_>) = remaining
                    .drain(..)
                    .partition(|p| named.contains(&p.as_str()));
                out.extend(set_aside.into_iter().map(|p| (p, finding.clone())));
                if rest.len() == before {
                    // Nothing of this request was named: the error is the answer for all of it.
                    let error = PermissionFinding::Error { error };
                    out.extend(rest.into_iter().map(|p| (p, error.clone())));
                } else if split && rest.len() > 1 {
                    let size = rest.len().div_ceil(SPLIT_WAYS);
                    let parts = rest
                        .chunks(size)
                        .map(|part| test_part(transport, part.to_vec(), make_request));
                    out.extend(join_all(parts).await.into_iter().flatten());
                } else {
                    out.extend(test_part(transport, rest, make_request).await);
                }
            }
        }
        out
    })
}

/// Every enabled service of the project, all pages (what `gcloud services list` prints).
async fn enabled_services<T: Transport>(
    transport: &T,
    plan: &Plan,
    token: &str,
) -> Result<Vec<String>, ApiError> {
    let mut enabled = Vec::new();
    let mut page: Option<String> = None;
    for _ in 0..MAX_SERVICE_PAGES {
        let request = endpoints::services_list(&plan.project, page.as_deref(), token);
        let body = send(transport, request).await?;
        let (names, next) = endpoints::parse_services_page(&body)?;
        enabled.extend(names);
        match next {
            Some(next) => page = Some(next),
            None => return Ok(enabled),
        }
    }
    Err(ApiError::Malformed {
        http_status: 200,
        detail: format!("Service Usage kept paging after {MAX_SERVICE_PAGES} pages"),
    })
}

/// The state of each planned API, and SkyPilot's grep view of those that are off.
async fn lookup_apis<T: Transport>(
    transport: &T,
    plan: &Plan,
    token: &str,
) -> (BTreeMap<String, ApiFinding>, BTreeMap<String, String>) {
    let mut apis = BTreeMap::new();
    let mut grep_matches = BTreeMap::new();
    if plan.apis.is_empty() {
        return (apis, grep_matches);
    }
    match enabled_services(transport, plan, token).await {
        Ok(enabled) => {
            for api in &plan.apis {
                let on = enabled.contains(&api.service);
                if !on {
                    // `grep storage.googleapis.com` matches `bigquerystorage.googleapis.com`.
                    if let Some(other) = enabled.iter().find(|e| e.contains(&api.service)) {
                        grep_matches.insert(api.service.clone(), other.clone());
                    }
                }
                let finding = if on { ApiFinding::On } else { ApiFinding::Off };
                apis.insert(api.service.clone(), finding);
            }
        }
        Err(error) => {
            for api in &plan.apis {
                let finding = ApiFinding::Unknown {
                    error: error.clone(),
                };
                apis.insert(api.service.clone(), finding);
            }
        }
    }
    (apis, grep_matches)
}

/// Whether `error` is IAM's "does not exist or you cannot see it" for a service account.
fn account_not_addressable(error: &ApiError) -> bool {
    matches!(
        error.kind(),
        Some(
            ErrorKind::PermissionDenied
                | ErrorKind::IamPermissionDenied { .. }
                | ErrorKind::NotFound
        )
    )
}

/// Looks up what the first launch needs beyond `sky check`, concurrently.
async fn lookup_first_launch<T: Transport>(
    transport: &T,
    plan: &Plan,
    account: &ServiceAccountEmail,
    token: &str,
    scope: TokenScope,
) -> FirstLaunchFindings {
    let exists = async {
        if scope == TokenScope::ReadOnly {
            return Err(read_only_scope_error("IAM"));
        }
        match send(transport, endpoints::service_account_get(account, token)).await {
            Ok(_) => Ok(true),
            Err(error) if account_not_addressable(&error) => Ok(false),
            Err(error) => Err(error),
        }
    };
    // When the user named skypilot-v1 itself, its actAs probe answers this too (see `run`).
    let reuses_probe = plan.service_account.as_ref() == Some(account);
    let act_as = async {
        if reuses_probe {
            return None;
        }
        if scope == TokenScope::ReadOnly {
            return Some(PermissionFinding::Error {
                error: read_only_scope_error("IAM"),
            });
        }
        let act_as = Permission::parse(ACT_AS).ok()?;
        let request = endpoints::service_account_test_permissions(
            account,
            std::slice::from_ref(&act_as),
            token,
        );
        match send(transport, request).await {
            Ok(body) => Some(match endpoints::parse_held_permissions(&body) {
                Ok(held) if held.iter().any(|h| h == ACT_AS) => PermissionFinding::Held,
                Ok(_) => PermissionFinding::Missing,
                Err(error) => PermissionFinding::Error { error },
            }),
            Err(error) if account_not_addressable(&error) => None,
            Err(error) => Some(PermissionFinding::Error { error }),
        }
    };
    let member = format!("serviceAccount:{account}");
    let roles = async {
        let body = send(
            transport,
            endpoints::project_iam_policy(&plan.project, token),
        )
        .await?;
        endpoints::parse_roles_of(&body, &member)
    };
    let networks = async {
        if scope == TokenScope::ReadOnly {
            return Err(read_only_scope_error("Compute Engine"));
        }
        let body = send(transport, endpoints::networks_list(&plan.project, token)).await?;
        endpoints::parse_networks(&body)
    };
    let (exists, act_as, roles, networks) = futures::join!(exists, act_as, roles, networks);
    FirstLaunchFindings {
        account: account.clone(),
        exists,
        roles,
        act_as,
        networks,
    }
}

/// Runs every request of `plan` concurrently and gathers the findings.
pub async fn run<T: Transport>(
    transport: &T,
    plan: &Plan,
    token: &str,
    scope: TokenScope,
) -> Findings {
    let project_tests = join_all(plan.batches().into_iter().map(|batch| {
        test_permissions(transport, batch, |perms| {
            endpoints::project_test_permissions(&plan.project, perms, token)
        })
    }));
    let api_lookups = lookup_apis(transport, plan, token);
    let billing = async {
        if !plan.reads_billing() {
            return None;
        }
        if scope == TokenScope::ReadOnly {
            return Some(Err(read_only_scope_error("Cloud Billing")));
        }
        Some(
            match send(transport, endpoints::billing_info(&plan.project, token)).await {
                Ok(body) => endpoints::parse_billing_info(&body),
                Err(error) => Err(error),
            },
        )
    };
    let bucket_test = async {
        match &plan.bucket {
            Some(bucket) => {
                test_permissions(transport, plan.bucket_permissions(), |perms| {
                    endpoints::bucket_test_permissions(bucket, perms, token)
                })
                .await
            }
            None => Vec::new(),
        }
    };
    let account_test = async {
        match &plan.service_account {
            Some(_) if scope == TokenScope::ReadOnly => plan
                .service_account_permissions()
                .into_iter()
                .map(|p| {
                    let error = read_only_scope_error("IAM");
                    (p, PermissionFinding::Error { error })
                })
                .collect(),
            Some(account) => {
                test_permissions(transport, plan.service_account_permissions(), |perms| {
                    endpoints::service_account_test_permissions(account, perms, token)
                })
                .await
            }
            None => Vec::new(),
        }
    };
    let first_launch = async {
        match &plan.first_launch_account {
            Some(account) => {
                Some(lookup_first_launch(transport, plan, account, token, scope).await)
            }
            None => None,
        }
    };
    let (project, (apis, grep_matches), billing, bucket, service_account, mut first_launch) = futures::join!(
        project_tests,
        api_lookups,
        billing,
        bucket_test,
        account_test,
        first_launch
    );
    // The named account is skypilot-v1: one actAs question, asked once.
    if let Some(first) = first_launch
        .as_mut()
        .filter(|f| plan.service_account.as_ref() == Some(&f.account))
    {
        first.act_as = service_account
            .iter()
            .find(|(p, _)| p.as_str() == ACT_AS)
            .and_then(|(_, finding)| match finding {
                PermissionFinding::Error { error } if account_not_addressable(error) => None,
                other => Some(other.clone()),
            });
    }
    Findings {
        project: ordered(project.into_iter().flatten()),
        apis,
        grep_matches,
        billing,
        bucket: ordered(bucket),
        service_account: ordered(service_account),
        first_launch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::demo::{demo_world, SimulatedGoogle, DEMO_TOKEN_ALICE};
    use crate::core::names::BucketName;
    use futures::executor::block_on;

    use crate::core::demo::{Account, Grants, Project, World};
    use crate::core::names::ProjectId;
    use crate::core::plan::PlanInput;
    use crate::core::rounds::Rounds;
    use std::collections::BTreeSet;
    use std::rc::Rc;

    /// A project where `valid` names are testable (the caller holds every other one of them)
    /// and every other name is refused with Google's 400.
    fn custom_world(valid: &[String]) -> World {
        let held: BTreeSet<String> = valid.iter().step_by(2).cloned().collect();
        World {
            accounts: vec![Account::new(DEMO_TOKEN_ALICE, "1", "alice@example.com")],
            projects: vec![Project {
                id: "bulk-project".into(),
                number: "200000000009".into(),
                grants: Grants::from([("1".to_string(), held)]),
                ..Project::default()
            }],
            extra_valid: valid.iter().cloned().collect(),
            ..World::default()
        }
    }

    /// Checks 990 valid names and `invalid` as one custom list over a round-counting
    /// transport; returns the findings and the round trips spent.
    fn check_custom_list(invalid: &[String]) -> (Findings, usize, usize) {
        let valid: Vec<String> = (0..1000 - invalid.len())
            .map(|i| format!("custom.things.do{i:04}"))
            .collect();
        let google = Rc::new(SimulatedGoogle::new(custom_world(&valid)));
        let answering = google.clone();
        let rounds = Rounds::new(move |request| answering.answer(request));
        let custom = valid
            .iter()
            .chain(invalid)
            .map(|p| Permission::parse(p).unwrap())
            .collect();
        let input = PlanInput {
            custom,
            skip_skypilot: true,
            ..PlanInput::default()
        };
        let plan = Plan::build(ProjectId::parse("bulk-project").unwrap(), &input);
        assert_eq!(plan.batches().len(), 10);
        let findings = rounds.drive(run(&rounds, &plan, DEMO_TOKEN_ALICE, TokenScope::Full));
        let sent = rounds.sent.borrow().len();
        (findings, rounds.rounds.get(), sent)
    }

    fn assert_every_name_classified(findings: &Findings, invalid: &[String]) {
        assert_eq!(findings.project.len(), 1000);
        assert!(findings.is_complete(), "{:?}", findings.errors());
        for (permission, finding) in &findings.project {
            let refused = invalid.iter().any(|i| i == permission.as_str());
            let index: Option<usize> = permission
                .as_str()
                .strip_prefix("custom.things.do")
                .and_then(|n| n.parse().ok());
            let expected = match index {
                _ if refused => PermissionFinding::NotValid,
                Some(i) if i % 2 == 0 => PermissionFinding::Held,
                _ => PermissionFinding::Missing,
            };
            assert_eq!(finding, &expected, "{permission}");
        }
    }

    #[test]
    fn ten_refused_names_in_a_thousand_cost_at_most_six_round_trips_wherever_they_lie() {
        // Names sort by text: `aaa.*` lands at the start of the first batch, `zzz.*` at the end
        // of the last, `custom.things.doNNNNx` right after doNNNN.
        let placements: Vec<(&str, Vec<String>)> = vec![
            (
                "all ten first in one batch",
                (0..10).map(|i| format!("aaa.typo.name{i}")).collect(),
            ),
            (
                "all ten last in one batch",
                (0..10).map(|i| format!("zzz.typo.name{i}")).collect(),
            ),
            (
                "one per batch",
                (0..10)
                    .map(|i| format!("custom.things.do{:04}x", i * 99 + 50))
                    .collect(),
            ),
            (
                "every other name in the middle of a batch",
                (0..10)
                    .map(|i| format!("custom.things.do{:04}x", 440 + 2 * i))
                    .collect(),
            ),
            (
                "spread over three batches",
                (0..10)
                    .map(|i| format!("custom.things.do{:04}x", (i * 37 + 11) % 300))
                    .collect(),
            ),
        ];
        for (how, invalid) in placements {
            let (findings, round_trips, sent) = check_custom_list(&invalid);
            assert_every_name_classified(&findings, &invalid);
            eprintln!("{how}: {round_trips} round trips, {sent} requests");
            assert!(
                round_trips <= 6,
                "{how}: {round_trips} round trips (goal <= 6)"
            );
            // The price of the parallel search: a few requests per refused name, bounded.
            assert!(
                sent <= 10 + invalid.len() * SPLIT_WAYS * 3,
                "{how}: {sent} requests"
            );
        }
    }

    #[test]
    fn one_refused_name_costs_one_more_round_trip_and_its_batch_stays_whole_otherwise() {
        let invalid = vec!["custom.things.do0500x".to_string()];
        let (findings, round_trips, sent) = check_custom_list(&invalid);
        assert_every_name_classified(&findings, &invalid);
        assert_eq!(round_trips, 2);
        assert_eq!(
            sent,
            10 + SPLIT_WAYS,
            "ten batches, then the refused one's rest in parts"
        );
    }

    #[test]
    fn the_old_sequential_way_would_have_cost_k_plus_one() {
        // All ten in one batch, resent whole after each 400: what this replaces.
        let invalid: Vec<String> = (0..10).map(|i| format!("aaa.typo.name{i}")).collect();
        let (_, round_trips, _) = check_custom_list(&invalid);
        assert!(round_trips < invalid.len() + 1, "{round_trips}");
    }

    #[test]
    fn a_request_that_gets_no_answer_is_an_error_for_its_names_not_a_verdict() {
        let google = SimulatedGoogle::new(demo_world());
        google
            .fail_next
            .borrow_mut()
            .push(crate::core::demo::Failure::Drop);
        google
            .fail_next
            .borrow_mut()
            .push(crate::core::demo::Failure::Drop);
        let asked = vec![Permission::parse("compute.instances.create").unwrap()];
        let project = ProjectId::parse(crate::core::demo::DEMO_PROJECT_SEED).unwrap();
        let answers = block_on(test_permissions(&google, asked, |perms| {
            endpoints::project_test_permissions(&project, perms, DEMO_TOKEN_ALICE)
        }));
        assert!(matches!(answers[0].1, PermissionFinding::Error { .. }));
    }

    #[test]
    fn uniform_bucket_level_access_sets_object_policy_aside() {
        let google = SimulatedGoogle::new(demo_world());
        let bucket = BucketName::parse("demo-jobs-bucket").unwrap();
        let asked: Vec<Permission> = [
            "storage.objects.get",
            "storage.objects.getIamPolicy",
            "storage.objects.setIamPolicy",
        ]
        .iter()
        .map(|p| Permission::parse(p).unwrap())
        .collect();
        let answers = block_on(test_permissions(&google, asked, |perms| {
            endpoints::bucket_test_permissions(&bucket, perms, DEMO_TOKEN_ALICE)
        }));
        assert_eq!(google.request_count(), 2, "one 400, then the rest");
        let state = |name: &str| &answers.iter().find(|(p, _)| p.as_str() == name).unwrap().1;
        assert_eq!(state("storage.objects.get"), &PermissionFinding::Held);
        assert_eq!(
            state("storage.objects.getIamPolicy"),
            &PermissionFinding::Untestable
        );
        assert_eq!(
            state("storage.objects.setIamPolicy"),
            &PermissionFinding::Untestable
        );
    }
}
