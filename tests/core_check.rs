//! `core::check` end to end over the simulated Google: requests sent, retries, untestable
//! permissions, probes, and the verdicts that come out.

use futures::executor::block_on;
use gcp_preflight::core::catalog::{Mode, Options};
use gcp_preflight::core::check::{self, ApiFinding, PermissionFinding, TokenScope};
use gcp_preflight::core::demo::{
    self, Account, Failure, Resource, SimulatedGoogle, World, DEMO_TOKEN_ALICE, DEMO_TOKEN_BOB,
};
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

/// Runs `plan` as the account behind `token` with a full-scope token, to the end.
fn check_as(google: &SimulatedGoogle, plan: &Plan, token: &str) -> check::Findings {
    block_on(check::run(google, plan, token, TokenScope::Full))
}

fn perm(name: &str) -> Permission {
    Permission::parse(name).unwrap()
}

#[test]
fn seed_story_in_one_wave() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    assert_eq!(
        google.request_count(),
        plan.request_count(),
        "one testIamPermissions batch, the service list, billing, and four first-launch look-ups"
    );
    assert_eq!(google.request_count(), 7);
    assert!(google.sleeps.borrow().is_empty(), "no retries");
    assert!(findings.is_complete(), "{:?}", findings.errors());
    let vs = verdicts(&plan, &findings);
    assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
    assert_eq!(status(&vs, Topic::Storage), Status::Ready);
    assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
    let missing: Vec<&str> = vs[0].missing.iter().map(Permission::as_str).collect();
    assert_eq!(
        missing,
        ["compute.firewalls.create", "compute.firewalls.delete"]
    );
    // skypilot-v1 does not exist there yet, and Alice may create it and bind its roles.
    let first = findings.first_launch.as_ref().unwrap();
    assert_eq!(first.exists, Ok(false));
    assert_eq!(first.act_as, None);
    assert_eq!(status(&vs, Topic::FirstLaunch), Status::Ready);

    // Another account on the same project gets its own answer.
    let findings = check_as(&google, &plan, DEMO_TOKEN_BOB);
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
fn names_not_valid_on_a_project_are_set_aside_and_fail_the_custom_list() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let list = parse_list("resourcemanager.projects.create compute.instances.create billing.accounts.get storage.buckets.create");
    let input = PlanInput {
        custom: list.permissions,
        skip_skypilot: true,
        ..Default::default()
    };
    let plan = plan(demo::DEMO_PROJECT_SEED, input);
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    assert_eq!(
        google.request_count(),
        4,
        "a 400 naming billing.accounts.get, then the other three one each, at once (one of them \
         the 400 naming resourcemanager.projects.create): two round trips, not three"
    );
    assert_eq!(
        findings.project[&perm("resourcemanager.projects.create")],
        PermissionFinding::NotValid
    );
    assert_eq!(
        findings.project[&perm("billing.accounts.get")],
        PermissionFinding::NotValid
    );
    assert_eq!(
        findings.project[&perm("compute.instances.create")],
        PermissionFinding::Held
    );
    let vs = verdicts(&plan, &findings);
    assert_eq!(status(&vs, Topic::Custom), Status::NotReady);
    let not_valid: Vec<&str> = vs[0].not_valid.iter().map(Permission::as_str).collect();
    assert_eq!(
        not_valid,
        ["resourcemanager.projects.create", "billing.accounts.get"]
    );
    assert!(findings.is_complete());
}

/// Review #5: a typo gets the same 400 as an organization permission, so it can never be held.
#[test]
fn a_typo_in_a_custom_list_is_not_ready() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let input = PlanInput {
        custom: parse_list("compute.instances.creat\ncompute.instances.create").permissions,
        skip_skypilot: true,
        ..Default::default()
    };
    let plan = plan(demo::DEMO_PROJECT_SEED, input);
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    assert_eq!(
        findings.project[&perm("compute.instances.creat")],
        PermissionFinding::NotValid
    );
    let vs = verdicts(&plan, &findings);
    assert_eq!(vs.len(), 1);
    assert_eq!(vs[0].status, Status::NotReady);
    assert_eq!(vs[0].not_valid, [perm("compute.instances.creat")]);
    assert!(vs[0].missing.is_empty());
}

#[test]
fn large_custom_lists_batch_at_100() {
    for (n, requests) in [(250, 3), (1000, 10)] {
        let mut world = demo::demo_world();
        let names: Vec<String> = (0..n).map(|i| format!("compute.things{i}.get")).collect();
        world.extra_valid.extend(names.iter().cloned());
        let google = SimulatedGoogle::new(world);
        let text = names.join("\n");
        let input = PlanInput {
            custom: parse_list(&text).permissions,
            skip_skypilot: true,
            ..Default::default()
        };
        let plan = plan(demo::DEMO_PROJECT_SEED, input);
        let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
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
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    assert!(!findings.is_complete());
    assert!(findings.errors().iter().all(|e| e.is_token_problem()));
    let vs = verdicts(&plan, &findings);
    assert!(vs
        .iter()
        .all(|v| v.status == Status::Unknown && v.missing.is_empty()));
    // "expired" alone would also match the invalid-token text: pin the expired one.
    assert!(
        vs[0].unknown_reasons[0].contains("The access token has expired."),
        "{}",
        vs[0].unknown_reasons[0]
    );
}

#[test]
fn rate_limits_are_retried_with_backoff() {
    let google = SimulatedGoogle::new(demo::demo_world());
    google.rate_limit_next.set(2);
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    assert!(findings.is_complete());
    assert_eq!(google.request_count(), 7 + 2);
    assert_eq!(google.sleeps.borrow().len(), 2);

    let google = SimulatedGoogle::new(demo::demo_world());
    google.rate_limit_next.set(1000);
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    assert_eq!(google.request_count(), 7 * check::MAX_ATTEMPTS as usize);
    let mut sleeps = google.sleeps.borrow().clone();
    sleeps.sort();
    sleeps.dedup();
    assert_eq!(sleeps, [500, 1000, 2000], "doubling backoff per request");
    assert_eq!(google.sleeps.borrow().len(), 7 * 3);
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
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    let errors = findings.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
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
    // Google's shared project cannot be changed by anyone: no enable command for it.
    assert!(!vs[0].unknown_reasons[0].contains("gcloud services enable"));
    assert!(vs[0].unknown_reasons[0].contains("set-quota-project"));
    // Service Usage itself still answered: the APIs are known.
    assert!(findings.apis.values().all(|a| *a == ApiFinding::On));
}

#[test]
fn invisible_project_is_permission_denied() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = plan("someone-elses-project", PlanInput::default());
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    let errors = findings.errors();
    assert!(!errors.is_empty());
    assert!(
        errors.iter().all(|e| matches!(
            e.kind(),
            Some(ErrorKind::PermissionDenied | ErrorKind::IamPermissionDenied { .. })
        )),
        "{errors:?}"
    );
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
    let vs = verdicts(&plan, &check_as(&google, &plan, DEMO_TOKEN_BOB));
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
    let vs = verdicts(&plan, &check_as(&google, &plan, DEMO_TOKEN_BOB));
    assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
    assert!(vs[0]
        .apis_off
        .contains(&"compute.googleapis.com".to_string()));
}

#[test]
fn owner_like_account_bucket_and_service_account_probes() {
    // On ml-team-demo Alice is Owner-like: no object permissions and no actAs at project level.
    let google = SimulatedGoogle::new(demo::demo_world());
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
    let vs = verdicts(&bare, &check_as(&google, &bare, DEMO_TOKEN_ALICE));
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
    let findings = check_as(&google, &probed, DEMO_TOKEN_ALICE);
    assert_eq!(google.request_count() - before, probed.request_count());
    assert_eq!(
        probed.request_count(),
        7 + 2 - 1,
        "one actAs probe serves both"
    );
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
            .filter(|v| v.topic != Topic::FirstLaunch)
            .all(|v| v.status == Status::Ready && v.notes.is_empty()),
        "{vs:?}"
    );
    assert_eq!(status(&vs, Topic::FirstLaunch), Status::Ready);
    // A bucket that does not exist: storage is unknown, in words.
    let missing = plan(
        project,
        PlanInput {
            bucket: Some(BucketName::parse("no-such-bucket").unwrap()),
            ..input
        },
    );
    let vs = verdicts(&missing, &check_as(&google, &missing, DEMO_TOKEN_ALICE));
    assert_eq!(status(&vs, Topic::Storage), Status::Unknown);
    assert!(vs[1].unknown_reasons[0].contains("bucket does not exist"));
}

#[test]
fn report_of_the_seed_story() {
    use gcp_preflight::core::report;
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
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
            ("managed_jobs", "not_ready"),
            ("first_launch", "ready")
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
    assert!(value.get("advice").is_none(), "no role data, no advice");

    // With the role data the app ships, the report carries the card's advice.
    let text = std::fs::read_to_string("static/roles/skypilot.json").unwrap();
    let index = gcp_preflight::core::roles::RoleIndex::from_json(&text).unwrap();
    let report =
        report::build(&plan, &findings, Some("alice@example.com"), 0).with_advice(&plan, &index);
    let value = serde_json::to_value(&report).unwrap();
    let topics: Vec<&str> = value["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["topic"].as_str().unwrap())
        .collect();
    assert_eq!(topics, ["compute", "managed_jobs"]);
    let text = value["advice"][0].to_string();
    assert!(text.contains("roles/compute.securityAdmin"), "{text}");
    assert!(text.contains(
        "gcloud projects add-iam-policy-binding skypilot-seed-demo --member=user:alice@example.com --role=roles/compute.securityAdmin"
    ), "{text}");
}

#[test]
fn errors_are_described_with_their_place() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let input = PlanInput {
        bucket: Some(BucketName::parse("no-such-bucket").unwrap()),
        ..Default::default()
    };
    let plan = plan(demo::DEMO_PROJECT_TEAM, input);
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    let described = findings.described_errors(&plan);
    assert_eq!(described.len(), 1, "{described:?}");
    assert!(
        described[0].starts_with("Bucket no-such-bucket: Not found"),
        "{}",
        described[0]
    );
}

/// SkyPilot's documented minimal role (step 3 plus the GCS step of its docs): no
/// `serviceusage.services.get`, so `services:batchGet` would be refused. Read with
/// `services.list`, the API state is known and the verdicts are real (review #1).
fn minimal_role_world() -> World {
    use gcp_preflight::core::catalog::{DOCS_GCS_STORAGE, DOCS_MINIMAL_BASE};
    let mut world = demo::demo_world();
    let carol = Account::new(
        "e2e-fake-token-carol",
        "100000000000000000003",
        "carol@example.com",
    );
    let role: std::collections::BTreeSet<String> = DOCS_MINIMAL_BASE
        .permissions
        .iter()
        .chain(DOCS_GCS_STORAGE.permissions)
        .map(|p| p.to_string())
        .collect();
    assert!(!role.contains("serviceusage.services.get"));
    let mut project = world.projects[0].clone();
    project.id = "minimal-role-proj".into();
    project.grants = [(carol.sub.clone(), role)].into();
    world.projects.push(project);
    world.accounts.push(carol);
    world
}

#[test]
fn the_documented_minimal_role_gets_real_verdicts() {
    let google = SimulatedGoogle::new(minimal_role_world());
    for mode in [Mode::SkyCheckParity, Mode::SkyPilotDocs] {
        let input = PlanInput {
            options: Options {
                mode,
                ..Options::default()
            },
            ..Default::default()
        };
        let plan = plan("minimal-role-proj", input);
        let findings = block_on(check::run(
            &google,
            &plan,
            "e2e-fake-token-carol",
            TokenScope::Full,
        ));
        assert!(
            findings.apis.values().all(|a| *a == ApiFinding::On),
            "{:?}",
            findings.apis
        );
        let vs = verdicts(&plan, &findings);
        for topic in [Topic::Compute, Topic::Storage, Topic::ManagedJobs] {
            assert_eq!(
                status(&vs, topic),
                Status::Ready,
                "{mode:?} {topic:?}: {vs:?}"
            );
        }
        // The role cannot create skypilot-v1: the first launch needs an admin (issue #7113).
        let first = vs.iter().find(|v| v.topic == Topic::FirstLaunch).unwrap();
        assert_eq!(first.status, Status::NotReady);
        let missing: Vec<&str> = first.missing.iter().map(Permission::as_str).collect();
        assert_eq!(
            missing,
            [
                "iam.serviceAccounts.create",
                "resourcemanager.projects.setIamPolicy"
            ]
        );
    }
}

/// Review #2: a project Owner whose jobs.bucket lives in another team's project.
#[test]
fn a_bucket_in_another_project_is_not_storage_ready() {
    let mut world = demo::demo_world();
    world.buckets.push(Resource {
        name: "other-team-bucket".into(),
        project: "other-team-project".into(),
        ..Resource::default()
    });
    let google = SimulatedGoogle::new(world);
    // Bob holds everything on the seed project, Owner-like.
    let input = PlanInput {
        bucket: Some(BucketName::parse("gs://other-team-bucket/jobs").unwrap()),
        ..Default::default()
    };
    let plan = plan(demo::DEMO_PROJECT_SEED, input);
    let findings = check_as(&google, &plan, DEMO_TOKEN_BOB);
    assert!(findings
        .bucket
        .values()
        .all(|f| *f == PermissionFinding::Missing));
    let vs = verdicts(&plan, &findings);
    assert_eq!(status(&vs, Topic::Compute), Status::Ready);
    assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
    assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
}

/// Review #3: a compute-only account runs managed jobs through the controller, unless its
/// files must go through GCS.
#[test]
fn a_compute_only_account_runs_managed_jobs_without_a_bucket() {
    let mut world = demo::demo_world();
    let bob = world.accounts[1].sub.clone();
    let grants = world.projects[0].grants.get_mut(&bob).unwrap();
    grants.remove("storage.buckets.create");
    grants.remove("storage.buckets.delete");
    let google = SimulatedGoogle::new(world);
    let bare = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let vs = verdicts(&bare, &check_as(&google, &bare, DEMO_TOKEN_BOB));
    assert_eq!(status(&vs, Topic::Compute), Status::Ready);
    assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
    assert_eq!(status(&vs, Topic::ManagedJobs), Status::Ready);
    let mounts = plan(
        demo::DEMO_PROJECT_SEED,
        PlanInput {
            options: Options {
                gcs_mounts: true,
                ..Options::default()
            },
            ..Default::default()
        },
    );
    let vs = verdicts(&mounts, &check_as(&google, &mounts, DEMO_TOKEN_BOB));
    assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
}

/// Review #4: billing and SkyPilot's grep decide whether an API that is off can be turned on.
#[test]
fn billing_and_the_grep_trap() {
    let mut world = demo::demo_world();
    world.projects[0].billing = false;
    world.projects[0].enabled.remove("compute.googleapis.com");
    let google = SimulatedGoogle::new(world.clone());
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = check_as(&google, &plan, DEMO_TOKEN_BOB);
    assert_eq!(findings.billing, Some(Ok(false)));
    let vs = verdicts(&plan, &findings);
    assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
    assert_eq!(vs[0].apis_off, ["compute.googleapis.com"]);
    assert!(vs[0].blockers[0].starts_with("No billing account"));
    // Billing on, storage off but bigquerystorage on: sky check never enables storage.
    let mut world = demo::demo_world();
    world.projects[0].enabled.remove("storage.googleapis.com");
    world.projects[0]
        .enabled
        .insert("bigquerystorage.googleapis.com".into());
    let google = SimulatedGoogle::new(world);
    let findings = check_as(&google, &plan, DEMO_TOKEN_BOB);
    let vs = verdicts(&plan, &findings);
    assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
    assert_eq!(status(&vs, Topic::Compute), Status::Ready);
    // Without the trap, Bob (who holds .enable) stays Ready with a note.
    let mut world = demo::demo_world();
    world.projects[0].enabled.remove("storage.googleapis.com");
    let google = SimulatedGoogle::new(world);
    let vs = verdicts(&plan, &check_as(&google, &plan, DEMO_TOKEN_BOB));
    assert_eq!(status(&vs, Topic::Storage), Status::Ready);
    assert!(vs[1].notes[0].contains("`sky check gcp` will enable it"));
}

/// Item 7: `sky check` tests permissions with the ADC token and enables APIs with the gcloud
/// CLI account; two tokens of two accounts give two sets of verdicts, and their differences.
#[test]
fn two_tokens_of_two_accounts() {
    use gcp_preflight::core::verdict::differences;
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let adc = verdicts(&plan, &check_as(&google, &plan, DEMO_TOKEN_ALICE));
    let cli = verdicts(&plan, &check_as(&google, &plan, DEMO_TOKEN_BOB));
    assert_eq!(
        differences(&adc, &cli),
        [
            (Topic::Compute, Status::NotReady, Status::Ready),
            (Topic::ManagedJobs, Status::NotReady, Status::Ready)
        ]
    );
    assert!(differences(&adc, &adc).is_empty());
}

/// Review #9: a read-only token cannot call IAM, so nothing is sent there.
#[test]
fn a_read_only_token_sends_nothing_to_iam() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let input = PlanInput {
        service_account: Some(ServiceAccountEmail::skypilot_default(
            &ProjectId::parse(demo::DEMO_PROJECT_TEAM).unwrap(),
        )),
        ..Default::default()
    };
    let plan = plan(demo::DEMO_PROJECT_TEAM, input);
    let findings = block_on(check::run(
        &google,
        &plan,
        DEMO_TOKEN_ALICE,
        TokenScope::ReadOnly,
    ));
    assert!(google
        .log
        .borrow()
        .iter()
        .all(|l| ["iam", "cloudbilling", "compute"]
            .iter()
            .all(|host| !l.contains(&format!("{host}.googleapis.com")))));
    assert!(!findings.is_complete());
    let vs = verdicts(&plan, &findings);
    let first = vs.iter().find(|v| v.topic == Topic::FirstLaunch).unwrap();
    assert_eq!(first.status, Status::Unknown);
    assert!(first.unknown_reasons[0].contains("read-only token"));
    // The simulated Google refuses IAM to a read-only token, as Google does.
    let mut world = demo::demo_world();
    world.accounts[0].scopes = "https://www.googleapis.com/auth/cloud-platform.read-only".into();
    let google = SimulatedGoogle::new(world);
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    assert!(findings
        .errors()
        .iter()
        .any(|e| e.kind() == Some(&ErrorKind::ScopeInsufficient)));
}

/// A service account that does not exist is a 403 through `projects/-` (IAM reference).
#[test]
fn a_missing_service_account_is_a_403_not_a_verdict() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let input = PlanInput {
        service_account: Some(
            ServiceAccountEmail::parse("ghost@skypilot-seed-demo.iam.gserviceaccount.com").unwrap(),
        ),
        ..Default::default()
    };
    let plan = plan(demo::DEMO_PROJECT_SEED, input);
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    let described = findings.described_errors(&plan);
    assert_eq!(described.len(), 1, "{described:?}");
    assert!(
        described[0].starts_with("Service account ghost@"),
        "{}",
        described[0]
    );
    assert!(described[0].contains("lacks iam.serviceAccounts.getIamPolicy"));
    let vs = verdicts(&plan, &findings);
    assert_eq!(
        status(&vs, Topic::Compute),
        Status::NotReady,
        "firewalls are still missing"
    );
    assert!(!vs[0].unknown_reasons.is_empty());
}

/// Legacy rate limits, a proxy's HTML 502 and a dropped connection are retried.
#[test]
fn harsh_failures_are_retried() {
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    for failures in [
        vec![Failure::LegacyRateLimit, Failure::RateLimit],
        vec![Failure::ProxyPage(502), Failure::ProxyPage(503)],
        vec![Failure::Drop],
    ] {
        let google = SimulatedGoogle::new(demo::demo_world());
        *google.fail_next.borrow_mut() = failures.clone();
        let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
        assert!(
            findings.is_complete(),
            "{failures:?}: {:?}",
            findings.errors()
        );
        assert_eq!(google.sleeps.borrow().len(), failures.len(), "{failures:?}");
    }
    // A connection dropped twice is an error (retried once only), never a verdict.
    let google = SimulatedGoogle::new(demo::demo_world());
    *google.fail_next.borrow_mut() = vec![Failure::Drop, Failure::Drop];
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    let errors = findings.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(matches!(
        errors[0],
        gcp_preflight::core::google_error::ApiError::Network { .. }
    ));
}

/// More than one page of enabled services is read to the end.
#[test]
fn services_are_read_across_pages() {
    let mut world = demo::demo_world();
    world.services_page_size = 1;
    let google = SimulatedGoogle::new(world);
    let plan = plan(demo::DEMO_PROJECT_SEED, PlanInput::default());
    let findings = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    assert!(findings.apis.values().all(|a| *a == ApiFinding::On));
    let pages = google
        .log
        .borrow()
        .iter()
        .filter(|l| l.contains("serviceusage"))
        .count();
    assert_eq!(pages, 4);
}

/// The first launch's look-ups: an error is an error, not "the account does not exist"; actAs
/// is read from the answer; naming skypilot-v1 itself reuses its probe.
#[test]
fn first_launch_lookups_tell_errors_from_answers() {
    let plan = plan(demo::DEMO_PROJECT_TEAM, PlanInput::default());
    // Alice holds actAs on skypilot-v1 there; Bob holds nothing on it.
    let google = SimulatedGoogle::new(demo::demo_world());
    let alice = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    let first = alice.first_launch.unwrap();
    assert_eq!(first.exists, Ok(true));
    assert_eq!(first.act_as, Some(PermissionFinding::Held));
    assert_eq!(
        first.roles.as_deref(),
        Ok(&["roles/compute.admin".to_string()][..])
    );
    let bob = check_as(&google, &plan, DEMO_TOKEN_BOB);
    let first = bob.first_launch.unwrap();
    assert_eq!(first.exists, Ok(false), "Bob cannot see it: 403 either way");
    assert_eq!(first.act_as, Some(PermissionFinding::Missing));
    // Google failing is an error, never "missing" or "does not exist".
    let google = SimulatedGoogle::new(demo::demo_world());
    google.rate_limit_next.set(1_000);
    let failed = check_as(&google, &plan, DEMO_TOKEN_ALICE);
    let first = failed.first_launch.unwrap();
    assert!(
        matches!(&first.exists, Err(e) if e.kind() == Some(&ErrorKind::RateLimited)),
        "{:?}",
        first.exists
    );
    assert!(
        matches!(&first.act_as, Some(PermissionFinding::Error { .. })),
        "{:?}",
        first.act_as
    );
    // Naming skypilot-v1 of a project where it does not exist: its probe's 403 means "cannot be
    // addressed", so the first launch falls back to the project's answer; one probe in all.
    let seed = ProjectId::parse(demo::DEMO_PROJECT_SEED).unwrap();
    let named = plan_with_account(&seed);
    let google = SimulatedGoogle::new(demo::demo_world());
    let findings = check_as(&google, &named, DEMO_TOKEN_ALICE);
    assert_eq!(findings.first_launch.as_ref().unwrap().act_as, None);
    assert_eq!(google.request_count(), named.request_count());
}

fn plan_with_account(project: &ProjectId) -> Plan {
    Plan::build(
        project.clone(),
        &PlanInput {
            service_account: Some(ServiceAccountEmail::skypilot_default(project)),
            ..Default::default()
        },
    )
}
