//! `core::check` end to end over the simulated Google: requests sent, retries, untestable
//! permissions, probes, and the verdicts that come out.

use futures::executor::block_on;
use gcp_preflight::core::catalog::{Mode, Options};
use gcp_preflight::core::check::{self, ApiFinding, PermissionFinding};
use gcp_preflight::core::demo::{self, SimulatedGoogle, World, DEMO_TOKEN_ALICE, DEMO_TOKEN_BOB};
use gcp_preflight::core::google_error::ErrorKind;
use gcp_preflight::core::names::{BucketName, ProjectId, ServiceAccountEmail};
use gcp_preflight::core::permission::{parse_list, Permission};
use gcp_preflight::core::plan::{Plan, PlanInput};
use gcp_preflight::core::verdict::{verdicts, Status, Topic, Verdict};

fn plan(project: &str, input: PlanInput) -> Plan {
    Plan::build(ProjectId::parse(project).unwrap(), &input)
}

fn status(vs: &[Verdict], topic: Topic) -> Status {
    vs.iter()
        .find(|v| v.topic == topic)
        .expect("verdict")
        .status
}

fn perm(name: &str) -> Permission {
    Permission::parse(name).unwrap()
}

#[test]
fn seed_story_in_one_wave() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    assert_eq!(
        google.request_count(),
        2,
        "one testIamPermissions batch + one batchGet"
    );
    assert!(findings.is_complete());
    let vs = verdicts(&plan, &findings);
    assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
    assert_eq!(status(&vs, Topic::Storage), Status::Ready);
    assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
    let missing: Vec<&str> = vs[0].missing.iter().map(Permission::as_str).collect();
    assert_eq!(
        missing,
        ["compute.firewalls.create", "compute.firewalls.delete"]
    );

    // Another account on the same project gets its own answer.
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_BOB));
    assert!(verdicts(&plan, &findings)
        .iter()
        .all(|v| v.status == Status::Ready));
}

#[test]
fn identity_lookup() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let id = block_on(check::lookup_identity(&google, DEMO_TOKEN_ALICE, 0)).unwrap();
    assert_eq!(id.email.as_deref(), Some("alice@example.com"));
    assert!(id.has_cloud_platform_scope());
    let err = block_on(check::lookup_identity(&google, "not-a-token", 0)).unwrap_err();
    assert_eq!(err.kind(), Some(&ErrorKind::TokenInvalid));
}

#[test]
fn untestable_permission_is_set_aside_and_the_rest_answered() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let list = parse_list("resourcemanager.projects.create compute.instances.create billing.accounts.get storage.buckets.create");
    let input = PlanInput {
        custom: list.permissions,
        skip_skypilot: true,
        ..Default::default()
    };
    let plan = plan(demo::DEMO_PROJECT_SEED, input);
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    assert_eq!(
        google.request_count(),
        3,
        "two 400s, each naming one permission, then the answer"
    );
    assert_eq!(
        findings.project[&perm("resourcemanager.projects.create")],
        PermissionFinding::Untestable
    );
    assert_eq!(
        findings.project[&perm("billing.accounts.get")],
        PermissionFinding::Untestable
    );
    assert_eq!(
        findings.project[&perm("compute.instances.create")],
        PermissionFinding::Held
    );
    let vs = verdicts(&plan, &findings);
    assert_eq!(status(&vs, Topic::Custom), Status::Ready);
    assert!(findings.is_complete());
}

#[test]
fn large_custom_lists_batch_at_100() {
    for (n, requests) in [(250, 3), (1000, 10)] {
        let google = SimulatedGoogle::new(demo::demo_world());
        let text: String = (0..n).map(|i| format!("compute.things{i}.get\n")).collect();
        let input = PlanInput {
            custom: parse_list(&text).permissions,
            skip_skypilot: true,
            ..Default::default()
        };
        let plan = plan(demo::DEMO_PROJECT_SEED, input);
        let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
        assert_eq!(google.request_count(), requests, "{n} permissions");
        assert_eq!(findings.project.len(), n);
        assert!(findings
            .project
            .values()
            .all(|f| *f == PermissionFinding::Missing));
    }
}

#[test]
fn expired_token_is_an_error_not_a_verdict() {
    let mut world = demo::demo_world();
    world.accounts[0].expired = true;
    let google = SimulatedGoogle::new(world);
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    assert!(!findings.is_complete());
    assert!(findings.errors().iter().all(|e| e.is_token_problem()));
    let vs = verdicts(&plan, &findings);
    assert!(vs
        .iter()
        .all(|v| v.status == Status::Unknown && v.missing.is_empty()));
    assert!(vs[0].unknown_reasons[0].contains("expired"));
}

#[test]
fn rate_limits_are_retried_with_backoff() {
    let google = SimulatedGoogle::new(demo::demo_world());
    google.rate_limit_next.set(2);
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    assert!(findings.is_complete());
    assert_eq!(google.request_count(), 4);
    assert_eq!(google.sleeps.borrow().len(), 2);

    let google = SimulatedGoogle::new(demo::demo_world());
    google.rate_limit_next.set(100);
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    assert_eq!(google.request_count(), 2 * check::MAX_ATTEMPTS as usize);
    let mut sleeps = google.sleeps.borrow().clone();
    sleeps.sort();
    assert_eq!(
        sleeps,
        [500, 500, 1000, 1000, 2000, 2000],
        "doubling backoff per request"
    );
    assert!(findings
        .errors()
        .iter()
        .all(|e| e.kind() == Some(&ErrorKind::RateLimited)));
}

#[test]
fn disabled_api_in_the_consumer_project_is_named() {
    let mut world = demo::demo_world();
    world
        .consumer_disabled
        .insert("cloudresourcemanager.googleapis.com".into());
    let google = SimulatedGoogle::new(world);
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    let errors = findings.errors();
    assert_eq!(errors.len(), 1);
    let Some(ErrorKind::ServiceDisabled {
        service, consumer, ..
    }) = errors[0].kind()
    else {
        panic!("{errors:?}")
    };
    assert_eq!(service, "cloudresourcemanager.googleapis.com");
    assert_eq!(consumer, "projects/764086051850");
    let vs = verdicts(&plan, &findings);
    assert_eq!(status(&vs, Topic::Compute), Status::Unknown);
    assert!(vs[0].unknown_reasons[0].contains("764086051850"));
    // Service Usage itself still answered: the APIs are known.
    assert!(findings.apis.values().all(|a| *a == ApiFinding::On));
}

#[test]
fn invisible_project_is_permission_denied() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = plan("someone-elses-project", PlanInput::default());
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    assert!(findings
        .errors()
        .iter()
        .all(|e| e.kind() == Some(&ErrorKind::PermissionDenied)));
    assert!(verdicts(&plan, &findings)
        .iter()
        .all(|v| v.status == Status::Unknown));
}

#[test]
fn apis_off_make_not_ready_unless_enable_is_held() {
    let mut world = demo::demo_world();
    world.projects[0].enabled.remove("compute.googleapis.com");
    let google = SimulatedGoogle::new(world.clone());
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    // Bob holds serviceusage.services.enable: sky check would turn the API on.
    let vs = verdicts(&plan, &block_on(check::run(&google, &plan, DEMO_TOKEN_BOB)));
    assert_eq!(status(&vs, Topic::Compute), Status::Ready);
    assert!(vs[0]
        .notes
        .iter()
        .any(|n| n.contains("compute.googleapis.com is off")));
    // Without it, the API being off is a blocker.
    let bob = world.accounts[1].sub.clone();
    world.projects[0]
        .grants
        .get_mut(&bob)
        .unwrap()
        .remove("serviceusage.services.enable");
    let google = SimulatedGoogle::new(world);
    let vs = verdicts(&plan, &block_on(check::run(&google, &plan, DEMO_TOKEN_BOB)));
    assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
    assert!(vs[0]
        .apis_off
        .contains(&"compute.googleapis.com".to_string()));
}

fn owner_like_world() -> World {
    let mut world = demo::demo_world();
    let alice = world.accounts[0].sub.clone();
    let grants = world.projects[1].grants.get_mut(&alice).unwrap();
    grants.retain(|p| {
        !(p.starts_with("storage.objects.")
            || p == "storage.buckets.get"
            || p == "iam.serviceAccounts.actAs")
    });
    world
}

#[test]
fn owner_like_account_bucket_and_service_account_probes() {
    let google = SimulatedGoogle::new(owner_like_world());
    let docs = Options {
        mode: Mode::SkyPilotDocs,
        ..Options::default()
    };
    let project = demo::DEMO_PROJECT_TEAM;
    // Without bucket or account: not failures, but said.
    let bare = plan(
        project,
        PlanInput {
            options: docs,
            ..Default::default()
        },
    );
    let vs = verdicts(
        &bare,
        &block_on(check::run(&google, &bare, DEMO_TOKEN_ALICE)),
    );
    assert_eq!(status(&vs, Topic::Storage), Status::Ready);
    assert_eq!(status(&vs, Topic::Compute), Status::Ready);
    assert!(vs[1].notes.iter().any(|n| n.contains("per bucket")));
    assert!(vs[0]
        .notes
        .iter()
        .any(|n| n.contains("may be granted on the service account")));
    // With them: tested there, in the same wave.
    let input = PlanInput {
        options: docs,
        bucket: Some(BucketName::parse("demo-jobs-bucket").unwrap()),
        service_account: Some(ServiceAccountEmail::skypilot_default(
            &ProjectId::parse(project).unwrap(),
        )),
        ..Default::default()
    };
    let probed = plan(project, input.clone());
    let before = google.request_count();
    let findings = block_on(check::run(&google, &probed, DEMO_TOKEN_ALICE));
    assert_eq!(google.request_count() - before, 4);
    assert_eq!(
        findings.bucket[&perm("storage.objects.create")],
        PermissionFinding::Held
    );
    assert_eq!(
        findings.service_account[&perm("iam.serviceAccounts.actAs")],
        PermissionFinding::Held
    );
    let vs = verdicts(&probed, &findings);
    assert!(
        vs.iter()
            .all(|v| v.status == Status::Ready && v.notes.is_empty()),
        "{vs:?}"
    );
    // A bucket that does not exist: storage is unknown, in words.
    let missing = plan(
        project,
        PlanInput {
            bucket: Some(BucketName::parse("no-such-bucket").unwrap()),
            ..input
        },
    );
    let vs = verdicts(
        &missing,
        &block_on(check::run(&google, &missing, DEMO_TOKEN_ALICE)),
    );
    assert_eq!(status(&vs, Topic::Storage), Status::Unknown);
    assert!(vs[1].unknown_reasons[0].contains("bucket does not exist"));
}

#[test]
fn report_of_the_seed_story() {
    use gcp_preflight::core::report;
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    let report = report::build(
        &plan,
        &findings,
        Some("alice@example.com"),
        1_795_867_200_000,
    );
    let text = serde_json::to_string(&report).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        !text.contains(DEMO_TOKEN_ALICE),
        "the report never holds the token"
    );
    assert_eq!(value["schema"], "gcp-preflight.report/v1");
    assert_eq!(value["checked_at"], "2026-11-28T12:00:00Z");
    assert_eq!(value["account_email"], "alice@example.com");
    assert_eq!(value["project"], demo::DEMO_PROJECT_SEED);
    let verdicts: Vec<(&str, &str)> = value["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["topic"].as_str().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("compute", "not_ready"),
            ("storage", "ready"),
            ("managed_jobs", "not_ready")
        ]
    );
    assert_eq!(
        value["verdicts"][0]["missing"],
        serde_json::json!(["compute.firewalls.create", "compute.firewalls.delete"])
    );
    let firewall = value["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "compute.firewalls.create")
        .unwrap();
    assert_eq!(firewall["project"]["state"], "missing");
    assert_eq!(firewall["required_by"]["sky_check"], true);
    assert_eq!(value["apis"].as_array().unwrap().len(), 4);
}

#[test]
fn errors_are_described_with_their_place() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let input = PlanInput {
        bucket: Some(BucketName::parse("no-such-bucket").unwrap()),
        ..Default::default()
    };
    let plan = plan(demo::DEMO_PROJECT_TEAM, input);
    let findings = block_on(check::run(&google, &plan, DEMO_TOKEN_ALICE));
    let described = findings.described_errors(&plan);
    assert_eq!(described.len(), 1, "{described:?}");
    assert!(
        described[0].starts_with("Bucket no-such-bucket: Not found"),
        "{}",
        described[0]
    );
}
