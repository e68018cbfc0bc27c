//! Runs a [`Plan`] over any [`Transport`]: every request in one parallel wave, transient errors
//! retried with backoff, and a permission Google cannot test on the resource set aside so that it
//! does not sink its batch.

use super::endpoints::{self, ServiceState};
use super::google_error::{ApiError, ErrorKind, GoogleError};
use super::http::{Request, Transport};
use super::identity::Identity;
use super::ordered;
use super::permission::Permission;
use super::plan::{Plan, Probe};
use futures::future::join_all;
use serde::Serialize;
use std::collections::BTreeMap;

/// How many times a rate-limited or failing (5xx) request is sent in all.
pub const MAX_ATTEMPTS: u32 = 4;
/// Wait before the first retry; doubled for each further one.
pub const FIRST_BACKOFF_MS: u32 = 500;

/// What one test said about one permission on one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum PermissionFinding {
    /// Google says the caller holds it.
    Held,
    /// Google says the caller does not hold it.
    Missing,
    /// Google cannot test it on this kind of resource (e.g. an organization-level permission).
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
}

impl Findings {
    /// Every request error, once each, in a stable order.
    pub fn errors(&self) -> Vec<&ApiError> {
        let mut out: Vec<&ApiError> = Vec::new();
        let permission_errors = [&self.project, &self.bucket, &self.service_account]
            .into_iter()
            .flat_map(|m| m.values())
            .filter_map(|f| match f {
                PermissionFinding::Error { error } => Some(error),
                _ => None,
            });
        let api_errors = self.apis.values().filter_map(|f| match f {
            ApiFinding::Unknown { error } => Some(error),
            _ => None,
        });
        for error in permission_errors.chain(api_errors) {
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
        let mut out: Vec<String> = Vec::new();
        let mut add = |text: String| {
            if !out.contains(&text) {
                out.push(text);
            }
        };
        let places = [
            (&self.project, Some(format!("project {}", plan.project))),
            (&self.bucket, plan.probe_target(Probe::Bucket)),
            (
                &self.service_account,
                plan.probe_target(Probe::ServiceAccount),
            ),
        ];
        for (map, place) in places {
            let place = place.unwrap_or_default();
            // "bucket b" → "Bucket b": the place starts the sentence.
            let mut chars = place.chars();
            let place: String = chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect();
            for finding in map.values() {
                if let PermissionFinding::Error { error } = finding {
                    add(format!("{place}: {error}"));
                }
            }
        }
        for finding in self.apis.values() {
            if let ApiFinding::Unknown { error } = finding {
                add(format!("API states (Service Usage): {error}"));
            }
        }
        out
    }

    /// Complete and error-free: the only kind of result that may be cached.
    pub fn is_complete(&self) -> bool {
        self.errors().is_empty()
    }
}

/// Sends `request`, retrying rate limits and server errors with exponential backoff; returns the
/// body of a 2xx answer or the parsed error.
pub async fn send<T: Transport>(transport: &T, request: Request) -> Result<String, ApiError> {
    let mut backoff = FIRST_BACKOFF_MS;
    let mut attempt = 1;
    loop {
        let result = match transport.send(request.clone()).await {
            Err(super::http::NetError::Network(detail)) => Err(ApiError::Network { detail }),
            Ok(response) if (200..300).contains(&response.status) => Ok(response.body),
            Ok(response) => Err(GoogleError::from_response(response.status, &response.body)),
        };
        match result {
            Err(error) if error.is_transient() && attempt < MAX_ATTEMPTS => {
                transport.sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Looks up who the token belongs to.
pub async fn lookup_identity<T: Transport>(
    transport: &T,
    token: &str,
    now_ms: u64,
) -> Result<Identity, ApiError> {
    let body = send(transport, endpoints::tokeninfo(token)).await?;
    Identity::from_tokeninfo(&body, now_ms)
}

/// Tests `permissions` with requests built by `make_request`; a permission Google names as not
/// testable is marked so and the rest is sent again (at most once per permission).
async fn test_permissions<T, F>(
    transport: &T,
    permissions: Vec<Permission>,
    make_request: F,
) -> Vec<(Permission, PermissionFinding)>
where
    T: Transport,
    F: Fn(&[Permission]) -> Request,
{
    let mut remaining = permissions;
    let mut out = Vec::new();
    while !remaining.is_empty() {
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
                // Google names what it cannot test here: set those aside, send the rest again.
                let named: Vec<&str> = match error.kind() {
                    Some(ErrorKind::PermissionNotTestable { permission }) => vec![permission],
                    Some(ErrorKind::UniformBucketLevelAccess { permissions }) => {
                        permissions.iter().map(String::as_str).collect()
                    }
                    _ => Vec::new(),
                };
                let before = remaining.len();
                let (untestable, rest): (Vec<_>, Vec<_>) = remaining
                    .drain(..)
                    .partition(|p| named.contains(&p.as_str()));
                remaining = rest;
                out.extend(
                    untestable
                        .into_iter()
                        .map(|p| (p, PermissionFinding::Untestable)),
                );
                if remaining.len() == before {
                    let error = PermissionFinding::Error { error };
                    out.extend(remaining.drain(..).map(|p| (p, error.clone())));
                }
            }
        }
    }
    out
}

async fn lookup_apis<T: Transport>(
    transport: &T,
    plan: &Plan,
    services: Vec<String>,
    token: &str,
) -> Vec<(String, ApiFinding)> {
    let names: Vec<&str> = services.iter().map(String::as_str).collect();
    let request = endpoints::services_batch_get(&plan.project, &names, token);
    let answer = send(transport, request)
        .await
        .and_then(|body| endpoints::parse_batch_get(&body));
    match answer {
        Ok(states) => services
            .into_iter()
            .map(|service| {
                let finding = match states.iter().find(|(s, _)| *s == service) {
                    Some((_, ServiceState::Enabled)) => ApiFinding::On,
                    Some((_, ServiceState::Disabled)) => ApiFinding::Off,
                    None => ApiFinding::Unknown {
                        error: ApiError::Malformed {
                            http_status: 200,
                            detail: format!("Service Usage did not mention {service}"),
                        },
                    },
                };
                (service, finding)
            })
            .collect(),
        Err(error) => services
            .into_iter()
            .map(|s| {
                (
                    s,
                    ApiFinding::Unknown {
                        error: error.clone(),
                    },
                )
            })
            .collect(),
    }
}

/// Runs every request of `plan` concurrently and gathers the findings.
pub async fn run<T: Transport>(transport: &T, plan: &Plan, token: &str) -> Findings {
    let project_tests = join_all(plan.batches().into_iter().map(|batch| {
        test_permissions(transport, batch, |perms| {
            endpoints::project_test_permissions(&plan.project, perms, token)
        })
    }));
    let api_lookups = join_all(
        plan.api_batches()
            .into_iter()
            .map(|services| lookup_apis(transport, plan, services, token)),
    );
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
            Some(account) => {
                test_permissions(transport, plan.service_account_permissions(), |perms| {
                    endpoints::service_account_test_permissions(account, perms, token)
                })
                .await
            }
            None => Vec::new(),
        }
    };
    let (project, apis, bucket, service_account) =
        futures::join!(project_tests, api_lookups, bucket_test, account_test);
    Findings {
        project: ordered(project.into_iter().flatten()),
        apis: ordered(apis.into_iter().flatten()),
        bucket: ordered(bucket),
        service_account: ordered(service_account),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::demo::{demo_world, SimulatedGoogle, DEMO_TOKEN_ALICE};
    use crate::core::names::BucketName;
    use futures::executor::block_on;

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
