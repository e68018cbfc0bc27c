//! The binding's check and the admin policy's decisions over the simulated Google, through the
//! `Transport` seam: what is asked of Google (and when nothing is), the cache, the messages.

use _native::preflight::{self, Decision, Inputs, RequestKind, World};
use _native::{to_action, Report as PyReport};
use gcp_preflight::core::cache::{MemoryStore, Store, KEY_PREFIX};
use gcp_preflight::core::demo::{
    demo_world, SimulatedGoogle, DEMO_PROJECT_SEED, DEMO_TOKEN_ALICE, DEMO_TOKEN_BOB,
};
use gcp_preflight::core::token::Token;
use std::cell::{Cell, RefCell};

const GCP_TASK: &str = "resources:\n  cloud: gcp\n  cpus: 4\nrun: python train.py\n";
const AWS_TASK: &str = "resources:\n  infra: aws/us-east-1\nrun: echo hi\n";
const TPU_TASK: &str = "resources:\n  accelerators: tpu-v4-8\nrun: python train.py\n";
const JOBS_CONFIG: &str = "jobs:\n  bucket: gs://demo-jobs-bucket\n";

/// One simulated user machine.
struct Machine {
    google: SimulatedGoogle,
    store: MemoryStore,
    now: Cell<u64>,
    token: RefCell<Result<String, String>>,
    token_asks: Cell<u32>,
    project_asks: Cell<u32>,
}

impl Machine {
    fn new(token: &str) -> Self {
        Machine {
            google: SimulatedGoogle::new(demo_world()),
            store: MemoryStore::default(),
            now: Cell::new(1_800_000_000_000),
            token: RefCell::new(Ok(token.into())),
            token_asks: Cell::new(0),
            project_asks: Cell::new(0),
        }
    }

    fn with_world<R>(&self, f: impl FnOnce(&World<'_, SimulatedGoogle, MemoryStore>) -> R) -> R {
        let token = || {
            self.token_asks.set(self.token_asks.get() + 1);
            self.token
                .borrow()
                .clone()
                .and_then(|t| Token::parse(&t).map_err(|e| e.to_string()))
        };
        let now = || self.now.get();
        let world = World {
            transport: &self.google,
            store: Some(&self.store),
            token: &token,
            now_ms: &now,
        };
        f(&world)
    }

    fn decide(&self, request: &str, task: &str, config: Option<&str>, strict: bool) -> Decision {
        let project = || {
            self.project_asks.set(self.project_asks.get() + 1);
            Ok(DEMO_PROJECT_SEED.to_owned())
        };
        let inputs = Inputs {
            task_yaml: Some(task),
            config_yaml: config,
        };
        let kind = RequestKind::of(request).expect("a request the policy acts on");
        let decision =
            self.with_world(|world| preflight::decide(kind, &inputs, &project, world, strict));
        for token in [DEMO_TOKEN_ALICE, DEMO_TOKEN_BOB] {
            assert!(!format!("{decision:?}").contains(token), "token leaked");
        }
        decision
    }

    /// The result cache's entries (the identity memo lies beside them under other keys).
    fn results(&self) -> usize {
        self.store
            .keys()
            .iter()
            .filter(|k| k.starts_with(KEY_PREFIX))
            .count()
    }

    fn requests(&self) -> usize {
        self.google.request_count()
    }
}

fn rejected(d: Decision) -> String {
    match d {
        Decision::Reject(message) => message,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_gcp_launch_missing_compute_is_rejected_with_the_permission_account_project_and_fix() {
    let m = Machine::new(DEMO_TOKEN_ALICE);
    let message = rejected(m.decide("launch", GCP_TASK, None, false));
    for part in [
        "this launch would fail on GCP project skypilot-seed-demo as alice@example.com (checked just now)",
        "Compute: Not ready",
        "missing permissions: compute.firewalls.create, compute.firewalls.delete",
        "Fix (run as an admin of project skypilot-seed-demo):",
        "gcloud projects add-iam-policy-binding skypilot-seed-demo --member=user:alice@example.com",
        "gcp-preflight check -p skypilot-seed-demo --fresh",
    ] {
        assert!(message.contains(part), "{part}\n---\n{message}");
    }
    assert_eq!(m.token_asks.get(), 1);
    assert_eq!(m.results(), 1, "a complete answer is cached");
}

#[test]
fn an_aws_only_task_is_untouched_without_project_token_or_request() {
    let m = Machine::new(DEMO_TOKEN_ALICE);
    for request in ["launch", "jobs.launch", "serve.up"] {
        match m.decide(request, AWS_TASK, Some(JOBS_CONFIG), true) {
            Decision::Untouched(why) => assert!(why.contains("pins aws"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
    // No cloud pinned: SkyPilot may pick another cloud, so the policy stays out of the way too.
    assert!(matches!(
        m.decide("launch", "run: echo hi\n", None, true),
        Decision::Untouched(_)
    ));
    assert_eq!(
        (m.requests(), m.token_asks.get(), m.project_asks.get()),
        (0, 0, 0)
    );
}

#[test]
fn a_ready_launch_is_allowed_and_a_second_within_the_ttl_is_answered_from_the_cache() {
    let m = Machine::new(DEMO_TOKEN_BOB);
    let first = match m.decide("launch", GCP_TASK, None, true) {
        Decision::Allow(report) => report,
        other => panic!("{other:?}"),
    };
    assert!(!first.cached);
    assert!(first.requests >= 5, "{}", first.requests);
    assert_eq!(first.requests, m.requests());
    m.now.set(m.now.get() + 5 * 60_000);
    let second = match m.decide("launch", GCP_TASK, None, true) {
        Decision::Allow(report) => report,
        other => panic!("{other:?}"),
    };
    assert!(second.cached);
    assert_eq!(
        (second.requests, m.requests()),
        (0, first.requests),
        "the identity memo names the account: nothing is sent"
    );
    assert_eq!(to_action(Decision::Allow(second)).0, "allow");
}

#[test]
fn jobs_launch_needs_the_jobs_bucket_and_launch_does_not() {
    // bob holds everything on the project but nothing on the jobs bucket (of a project where
    // he holds nothing either).
    let mut world = demo_world();
    world.buckets[0].project = "another-team".into();
    let mut m = Machine::new(DEMO_TOKEN_BOB);
    m.google = SimulatedGoogle::new(world);
    let message = rejected(m.decide("jobs.launch", GCP_TASK, Some(JOBS_CONFIG), false));
    assert!(message.contains("Managed jobs: Not ready"), "{message}");
    assert!(
        message.contains("Bucket: gs://demo-jobs-bucket (skypilot-config.yaml: jobs.bucket)"),
        "{message}"
    );
    match m.decide("launch", GCP_TASK, Some(JOBS_CONFIG), false) {
        Decision::Allow(report) => {
            assert!(report.verdicts.iter().all(|v| v.status == "ready"));
            assert!(report.derived.iter().all(|(s, _, _)| s != "Bucket"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_tpu_task_is_checked_for_tpus_and_says_where_they_came_from() {
    let m = Machine::new(DEMO_TOKEN_ALICE);
    let message = rejected(m.decide("serve.up", TPU_TASK, None, false));
    assert!(
        message.contains("TPUs: tpu-v4-8 (task.yaml: resources.accelerators)"),
        "{message}"
    );
    // The TPU API is off in this project and alice may enable it: compute is not blocked by
    // it, the firewall pair still is.
    assert!(message.contains("compute.firewalls.create"), "{message}");
}

#[test]
fn unknown_warns_in_one_line_or_rejects_when_strict_and_is_never_cached() {
    let m = Machine::new(DEMO_TOKEN_ALICE);
    *m.token.borrow_mut() = Err(
        "`gcloud auth application-default print-access-token` failed: ERROR: (gcloud)\n  Reauthentication needed\n"
            .into(),
    );
    match m.decide("launch", GCP_TASK, None, false) {
        Decision::Warn(line) => {
            assert!(!line.contains('\n'), "{line}");
            assert!(line.contains("Reauthentication needed"), "{line}");
            assert!(line.contains("skypilot-seed-demo"), "{line}");
            assert!(line.contains("GCP_PREFLIGHT_STRICT=1"), "{line}");
        }
        other => panic!("{other:?}"),
    }
    let message = rejected(m.decide("launch", GCP_TASK, None, true));
    assert!(message.contains("Reauthentication needed"), "{message}");
    assert_eq!(m.requests(), 0);

    // Google failing: Resource Manager is off in gcloud's consumer project.
    let mut world = demo_world();
    world
        .consumer_disabled
        .insert("cloudresourcemanager.googleapis.com".into());
    let mut m = Machine::new(DEMO_TOKEN_BOB);
    m.google = SimulatedGoogle::new(world);
    assert!(matches!(
        m.decide("launch", GCP_TASK, None, false),
        Decision::Warn(_)
    ));
    assert!(matches!(
        m.decide("launch", GCP_TASK, None, true),
        Decision::Reject(_)
    ));
    assert_eq!(m.results(), 0, "an unknown answer is not cached");
}

#[test]
fn a_project_that_cannot_be_resolved_is_unknown() {
    let m = Machine::new(DEMO_TOKEN_ALICE);
    let inputs = Inputs {
        task_yaml: Some(GCP_TASK),
        config_yaml: None,
    };
    let no_project =
        || Err("no GCP project: set gcp.project_id or `gcloud config set project`".to_owned());
    let d =
        m.with_world(|w| preflight::decide(RequestKind::Launch, &inputs, &no_project, w, false));
    match d {
        Decision::Warn(line) => assert!(line.contains("gcloud config set project"), "{line}"),
        other => panic!("{other:?}"),
    }
    assert_eq!((m.requests(), m.token_asks.get()), (0, 0));
}

#[test]
fn check_converts_the_report_for_python() {
    let m = Machine::new(DEMO_TOKEN_ALICE);
    let inputs = Inputs {
        task_yaml: Some(GCP_TASK),
        config_yaml: Some("gcp:\n  specific_reservations: [r-1]\n"),
    };
    let report = m
        .with_world(|w| preflight::check(DEMO_PROJECT_SEED, &inputs, w))
        .expect("an answer");
    let py = PyReport::from(&report);
    assert_eq!(py.status, "not_ready");
    assert_eq!(py.project, DEMO_PROJECT_SEED);
    assert_eq!(py.account.as_deref(), Some("alice@example.com"));
    assert!(!py.cached);
    assert_eq!(py.requests, m.requests());
    let compute = py
        .verdicts
        .iter()
        .find(|v| v.topic == "compute")
        .expect("compute");
    assert_eq!(compute.title, "Compute");
    assert_eq!(compute.status, "not_ready");
    assert!(compute
        .missing
        .contains(&"compute.firewalls.create".to_owned()));
    assert!(py
        .fix_commands
        .iter()
        .any(|c| c.starts_with("gcloud projects add-iam-policy-binding skypilot-seed-demo")));
    assert_eq!(
        py.derived,
        vec![(
            "Reservations".to_owned(),
            "r-1".to_owned(),
            "skypilot-config.yaml: gcp.specific_reservations".to_owned()
        )]
    );
    assert_eq!(py.nothing_to_check, None);

    // Nothing to check: no request, no token.
    let inputs = Inputs {
        task_yaml: Some(AWS_TASK),
        config_yaml: None,
    };
    let before = (m.requests(), m.token_asks.get());
    let report = m
        .with_world(|w| preflight::check(DEMO_PROJECT_SEED, &inputs, w))
        .unwrap();
    assert_eq!(PyReport::from(&report).status, "ready");
    assert!(report.nothing_to_check.unwrap().contains("pins aws"));
    assert_eq!((m.requests(), m.token_asks.get()), before);

    // Bad input is an error with the reason, before anything is sent.
    let err = m
        .with_world(|w| preflight::check("Bad_Project", &Inputs::default(), w))
        .unwrap_err();
    assert!(err.starts_with("--project: "), "{err}");
    let bad_yaml = Inputs {
        task_yaml: Some("resources: [unclosed\n"),
        config_yaml: None,
    };
    let err = m
        .with_world(|w| preflight::check(DEMO_PROJECT_SEED, &bad_yaml, w))
        .unwrap_err();
    assert!(err.starts_with("task.yaml: line "), "{err}");
    assert_eq!(m.requests(), before.0);
}
