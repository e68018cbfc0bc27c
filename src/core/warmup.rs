//! The warm-up: cheap, read-only requests sent once the token is known and the project ID is
//! valid, before Check is pressed, so that the browser has already paid the CORS preflight of
//! every URL the check will use (a request with an `Authorization` header costs one per URL,
//! cached by URL). Pressing Check then costs one round trip instead of two.
//!
//! The requests are derived from the same [`Plan`] and the same [`endpoints`] builders as the
//! check, so the URLs match exactly. Their answers are never cached or shown as a verdict; the
//! project's `testIamPermissions` answer only says early whether the project can be seen.

use super::check::TokenScope;
use super::endpoints;
use super::google_error::{ApiError, ErrorKind};
use super::http::{Method, Request};
use super::permission::Permission;
use super::plan::{Plan, ACT_AS};

/// The permission asked in the project warm-up: testable on every project, held by anyone who
/// can see it (a `testIamPermissions` with one name is the cheapest request to that URL).
pub const PROBE_PERMISSION: &str = "resourcemanager.projects.get";

/// One request per distinct URL that [`super::check::run`] sends first for `plan` with `scope`,
/// each the cheapest read-only request to it: `testIamPermissions` POSTs ask one permission,
/// GETs are the check's own first request (their URL carries the question). The project's
/// `testIamPermissions` comes first: its answer says whether the project can be seen.
pub fn requests(plan: &Plan, token: &str, scope: TokenScope) -> Vec<Request> {
    let full = scope == TokenScope::Full;
    let mut out: Vec<Request> = Vec::new();
    let project = &plan.project;
    if !plan.batches().is_empty() {
        if let Ok(probe) = Permission::parse(PROBE_PERMISSION) {
            out.push(endpoints::project_test_permissions(
                project,
                std::slice::from_ref(&probe),
                token,
            ));
        }
    }
    if !plan.apis.is_empty() {
        out.push(endpoints::services_list(project, None, token));
    }
    if plan.reads_billing() && full {
        out.push(endpoints::billing_info(project, token));
    }
    if let Some(bucket) = &plan.bucket {
        let permissions = plan.bucket_permissions();
        if !permissions.is_empty() {
            out.push(endpoints::bucket_test_permissions(
                bucket,
                &permissions,
                token,
            ));
        }
    }
    let act_as = Permission::parse(ACT_AS).ok();
    if let (Some(account), Some(act_as), true) = (&plan.service_account, &act_as, full) {
        if !plan.service_account_permissions().is_empty() {
            out.push(endpoints::service_account_test_permissions(
                account,
                std::slice::from_ref(act_as),
                token,
            ));
        }
    }
    if let Some(account) = &plan.first_launch_account {
        if full {
            out.push(endpoints::service_account_get(account, token));
            if let Some(act_as) = &act_as {
                out.push(endpoints::service_account_test_permissions(
                    account,
                    std::slice::from_ref(act_as),
                    token,
                ));
            }
        }
        out.push(endpoints::project_iam_policy(project, token));
        if full {
            out.push(endpoints::networks_list(project, token));
        }
    }
    // One per URL: the browser caches a preflight per URL, whatever the body.
    let mut seen: Vec<String> = Vec::new();
    out.retain(|r| {
        let fresh = !seen.contains(&r.url);
        if fresh {
            seen.push(r.url.clone());
        }
        fresh
    });
    out
}

/// What the project warm-up's answer says before Check is pressed, in one line: `Some` only
/// when Google says the project does not exist or this account cannot see it (Resource
/// Manager answers both alike). Anything else (held or not, a network error, a rate limit) says
/// nothing yet: the check will.
pub fn visibility_message(project: &str, answer: &Result<String, ApiError>) -> Option<String> {
    let Err(error) = answer else {
        return None;
    };
    matches!(
        error.kind(),
        Some(ErrorKind::PermissionDenied | ErrorKind::IamPermissionDenied { .. } | ErrorKind::NotFound)
    )
    .then(|| {
        format!("Project {project} does not exist, or this account cannot see it (Google: {error}). Check the project ID, or ask for access (roles/browser at least).")
    })
}

/// Whether `request` is the project warm-up whose answer [`visibility_message`] reads.
pub fn is_project_probe(plan: &Plan, request: &Request) -> bool {
    request.method == Method::Post
        && request.url.ends_with(":testIamPermissions")
        && request.url.contains("cloudresourcemanager.googleapis.com")
        && request.url.contains(plan.project.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalog::{Mode, Options};
    use crate::core::check;
    use crate::core::demo::{demo_world, SimulatedGoogle, DEMO_PROJECT_TEAM, DEMO_TOKEN_ALICE};
    use crate::core::http::{NetError, Response, Transport};
    use crate::core::names::{BucketName, ProjectId, ServiceAccountEmail};
    use crate::core::plan::PlanInput;
    use futures::executor::block_on;
    use std::cell::RefCell;
    use std::collections::BTreeSet;
    use std::future::Future;

    /// The simulated Google, remembering every URL.
    struct Recording {
        google: SimulatedGoogle,
        urls: RefCell<Vec<String>>,
    }

    impl Transport for Recording {
        fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
            self.urls.borrow_mut().push(request.url.clone());
            self.google.send(request)
        }
        fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
            self.google.sleep(millis)
        }
    }

    fn docs_plan() -> Plan {
        let input = PlanInput {
            options: Options {
                mode: Mode::SkyPilotDocs,
                ..Options::default()
            },
            bucket: Some(BucketName::parse("demo-jobs-bucket").unwrap()),
            service_account: Some(
                ServiceAccountEmail::parse(&format!(
                    "someone@{DEMO_PROJECT_TEAM}.iam.gserviceaccount.com"
                ))
                .unwrap(),
            ),
            ..PlanInput::default()
        };
        Plan::build(ProjectId::parse(DEMO_PROJECT_TEAM).unwrap(), &input)
    }

    fn urls_of_check(plan: &Plan, scope: TokenScope) -> BTreeSet<String> {
        let recording = Recording {
            google: SimulatedGoogle::new(demo_world()),
            urls: RefCell::default(),
        };
        block_on(check::run(&recording, plan, DEMO_TOKEN_ALICE, scope));
        recording.urls.into_inner().into_iter().collect()
    }

    #[test]
    fn warms_exactly_the_urls_the_check_uses_once_each() {
        for scope in [TokenScope::Full, TokenScope::ReadOnly] {
            for plan in [
                docs_plan(),
                Plan::build(ProjectId::parse("p-123456").unwrap(), &PlanInput::default()),
            ] {
                let warm = requests(&plan, DEMO_TOKEN_ALICE, scope);
                let warm_urls: BTreeSet<String> = warm.iter().map(|r| r.url.clone()).collect();
                assert_eq!(warm_urls.len(), warm.len(), "one request per URL");
                assert_eq!(warm_urls, urls_of_check(&plan, scope), "{scope:?}");
                assert!(
                    is_project_probe(&plan, &warm[0]),
                    "the project's answer comes first"
                );
            }
        }
    }

    #[test]
    fn posts_ask_one_permission_and_every_request_only_reads() {
        let plan = docs_plan();
        for request in requests(&plan, DEMO_TOKEN_ALICE, TokenScope::Full) {
            if request.method == Method::Post {
                let body = request.body.as_ref().map(|b| b.text.as_str()).unwrap_or("");
                let asked: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
                let permissions = asked["permissions"].as_array().map(Vec::len);
                // getIamPolicy reads a policy; testIamPermissions asks one name.
                assert!(
                    request.url.ends_with(":getIamPolicy") || permissions == Some(1),
                    "{} {body}",
                    request.url
                );
            }
            assert!(
                !request.url.contains(":set") && !request.url.contains(":enable"),
                "{}",
                request.url
            );
        }
    }

    #[test]
    fn an_invisible_project_is_named_and_a_visible_one_says_nothing() {
        let google = SimulatedGoogle::new(demo_world());
        for (project, expect) in [("no-such-project", true), (DEMO_PROJECT_TEAM, false)] {
            let plan = Plan::build(ProjectId::parse(project).unwrap(), &PlanInput::default());
            let probe = requests(&plan, DEMO_TOKEN_ALICE, TokenScope::Full).remove(0);
            let answer = block_on(check::send(&google, probe));
            let message = visibility_message(project, &answer);
            assert_eq!(message.is_some(), expect, "{project}: {message:?}");
            if let Some(message) = message {
                assert!(message.starts_with(&format!("Project {project} does not exist")));
            }
        }
        // A network failure is not a verdict on the project.
        let error = Err(ApiError::Network {
            detail: "offline".into(),
        });
        assert_eq!(visibility_message("p-123456", &error), None);
    }
}
