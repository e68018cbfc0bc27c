//! `gcp-preflight check` against the simulated Google through the `Transport` seam: argument
//! handling, exit codes, the cache (hit, miss, `--fresh`, TTL, per account), and that the token
//! never appears in what is printed.
#![cfg(not(target_arch = "wasm32"))]

use gcp_preflight::core::cache::{MemoryStore, Store, DEFAULT_TTL_MS, KEY_PREFIX};
use gcp_preflight::core::catalog::Mode;
use gcp_preflight::core::demo::{
    demo_world, Failure, SimulatedGoogle, DEMO_PROJECT_SEED, DEMO_TOKEN_ALICE, DEMO_TOKEN_BOB,
};
use gcp_preflight::core::names::ProjectId;
use gcp_preflight::core::permission::Permission;
use gcp_preflight::core::plan::Plan;
use gcp_preflight::core::share::{self, SharedQuestion};
use gcp_preflight::core::skyfiles::{self, FileKind, SkyFile};
use gcp_preflight::core::token::Token;
use gcp_preflight::native::cli::{
    app_base_url, run, Env, Outcome, APP_URL_ENV, EXIT_NOT_READY, EXIT_READY, EXIT_UNKNOWN,
};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/skypilot");

/// One simulated machine: Google, a cache, a clock and a token source.
struct Machine<S: Store = MemoryStore> {
    google: SimulatedGoogle,
    store: S,
    now: Cell<u64>,
    token: RefCell<Result<String, String>>,
    token_asks: Cell<u32>,
    token_cmds: RefCell<Vec<Option<String>>>,
}

impl Machine {
    fn new() -> Self {
        Self::with_google(SimulatedGoogle::new(demo_world()))
    }

    fn with_google(google: SimulatedGoogle) -> Self {
        Machine::with_store(google, MemoryStore::default())
    }
}

impl<S: Store> Machine<S> {
    fn with_store(google: SimulatedGoogle, store: S) -> Self {
        Machine {
            google,
            store,
            now: Cell::new(1_800_000_000_000),
            token: RefCell::new(Ok(DEMO_TOKEN_ALICE.into())),
            token_asks: Cell::new(0),
            token_cmds: RefCell::new(Vec::new()),
        }
    }

    fn run(&self, args: &[&str]) -> Outcome {
        let token = |cmd: Option<&str>| {
            self.token_asks.set(self.token_asks.get() + 1);
            self.token_cmds.borrow_mut().push(cmd.map(str::to_owned));
            self.token
                .borrow()
                .clone()
                .and_then(|t| Token::parse(&t).map_err(|e| e.to_string()))
        };
        let read = |p: &Path| std::fs::read_to_string(Path::new(FIXTURES).join(p));
        let now = || self.now.get();
        let env = Env {
            transport: &self.google,
            store: Some(&self.store),
            token: &token,
            read_file: &read,
            default_sky_config: None,
            now_ms: &now,
        };
        let mut argv = vec!["gcp-preflight".to_owned()];
        argv.extend(args.iter().map(|a| a.to_string()));
        let outcome = run(&argv, &env);
        for t in [DEMO_TOKEN_ALICE, DEMO_TOKEN_BOB] {
            assert!(
                !outcome.stdout.contains(t) && !outcome.stderr.contains(t),
                "token printed: {outcome:?}"
            );
        }
        outcome
    }

    fn requests(&self) -> usize {
        self.google.request_count()
    }

    /// The result cache's entries (the identity memo lies beside them under other keys).
    fn results(&self) -> Vec<String> {
        let mut keys = self.store.keys();
        keys.retain(|k| k.starts_with(KEY_PREFIX));
        keys
    }
}

#[test]
fn ready_is_exit_0_and_not_ready_is_exit_1_with_the_missing_and_the_fix() {
    let m = Machine::new();
    *m.token.borrow_mut() = Ok(DEMO_TOKEN_BOB.into());
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(out.code, EXIT_READY, "{out:?}");
    assert!(
        out.stdout.contains("Compute          Ready"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("as bob@example.com (checked just now)"));

    let m = Machine::new();
    let out = m.run(&["check", "--project", DEMO_PROJECT_SEED]);
    assert_eq!(out.code, EXIT_NOT_READY, "{out:?}");
    assert!(
        out.stdout.contains("Compute          Not ready"),
        "{}",
        out.stdout
    );
    assert!(out
        .stdout
        .contains("missing: compute.firewalls.create, compute.firewalls.delete"));
    assert!(
        out.stdout
            .contains("gcloud projects add-iam-policy-binding"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Not ready: see what is missing above."));
    assert_eq!(m.token_asks.get(), 1);
}

#[test]
fn a_cold_check_sends_tokeninfo_with_the_wave_and_a_second_run_is_answered_from_the_cache() {
    let m = Machine::new();
    let first = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    let cold = m.requests();
    assert_eq!(cold, 8, "tokeninfo + the 7 requests of the seed check");
    assert_eq!(m.results().len(), 1);

    m.now.set(m.now.get() + 3 * 60_000);
    let second = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(
        m.requests() - cold,
        0,
        "the identity memo names the account: nothing is sent"
    );
    assert_eq!(second.code, first.code);
    assert!(
        second.stdout.contains("cached result, 3 minutes ago"),
        "{}",
        second.stdout
    );

    // --fresh asks Google again.
    let before = m.requests();
    let fresh = m.run(&["check", "-p", DEMO_PROJECT_SEED, "--fresh"]);
    assert_eq!(m.requests() - before, 8);
    assert!(fresh.stdout.contains("checked just now"));

    // Past the TTL (10 minutes) the entry is not used.
    m.now.set(m.now.get() + 11 * 60_000);
    let before = m.requests();
    m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(m.requests() - before, 1 + 7);
}

#[test]
fn the_cache_is_per_account_and_per_plan() {
    let m = Machine::new();
    m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    let base = m.requests();
    // Another account: a miss (its own check), and its own verdict.
    *m.token.borrow_mut() = Ok(DEMO_TOKEN_BOB.into());
    let bob = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(bob.code, EXIT_READY);
    assert_eq!(m.requests() - base, 1 + 7);
    // Another plan (a custom VPC from the config file): a miss too.
    *m.token.borrow_mut() = Ok(DEMO_TOKEN_ALICE.into());
    let before = m.requests();
    m.run(&[
        "check",
        "-p",
        DEMO_PROJECT_SEED,
        "--sky-config",
        "config.yaml",
    ]);
    assert!(m.requests() - before > 1);
    // Its service account (gcp.remote_identity) does not exist in this world: that answer is an
    // error, so the result is not cached.
    assert_eq!(m.results().len(), 2);
}

#[test]
fn a_failed_request_is_exit_2_and_never_cached() {
    // Resource Manager is off in gcloud's consumer project: testIamPermissions fails.
    let mut world = demo_world();
    world
        .consumer_disabled
        .insert("cloudresourcemanager.googleapis.com".into());
    let m = Machine::with_google(SimulatedGoogle::new(world));
    *m.token.borrow_mut() = Ok(DEMO_TOKEN_BOB.into());
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(out.code, EXIT_UNKNOWN, "{out:?}");
    assert!(
        out.stdout.contains("Error: Project skypilot-seed-demo"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("nothing was cached"));
    assert!(m.results().is_empty(), "an incomplete result is not cached");

    // tokeninfo itself dropped (every retry): no identity, exit 2, the reason on stderr.
    let m = Machine::new();
    *m.google.fail_next.borrow_mut() = vec![Failure::Drop; 4];
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(out.code, EXIT_UNKNOWN, "{out:?}");
    assert!(out.stderr.contains("tokeninfo"), "{}", out.stderr);
    assert!(m.store.keys().is_empty());
}

#[test]
fn argument_and_input_errors_are_exit_2_with_a_message() {
    let m = Machine::new();
    let out = m.run(&["check"]);
    assert_eq!(out.code, EXIT_UNKNOWN);
    assert!(out.stderr.contains("--project"), "{}", out.stderr);
    let out = m.run(&["check", "-p", "Bad_Project"]);
    assert_eq!(out.code, EXIT_UNKNOWN);
    assert!(
        out.stderr.starts_with("gcp-preflight: --project: "),
        "{}",
        out.stderr
    );
    let out = m.run(&["check", "-p", "p-123456", "--bucket", "Bad Bucket"]);
    assert_eq!(out.code, EXIT_UNKNOWN);
    let out = m.run(&["check", "-p", "p-123456", "malformed.yaml"]);
    assert_eq!(out.code, EXIT_UNKNOWN);
    assert!(
        out.stderr.contains("malformed.yaml: line 5, column 4: "),
        "{}",
        out.stderr
    );
    let out = m.run(&["check", "-p", "p-123456", "missing.yaml"]);
    assert_eq!(out.code, EXIT_UNKNOWN);
    assert!(
        out.stderr.contains("cannot read missing.yaml"),
        "{}",
        out.stderr
    );
    assert_eq!(m.requests(), 0, "nothing is sent before the input is good");
    assert_eq!(m.token_asks.get(), 0, "nor is a token asked for");
    // The token is never an argument.
    let out = m.run(&["check", "-p", "p-123456", "--token", "ya29.x"]);
    assert_eq!(out.code, EXIT_UNKNOWN);
    // --help and --version are not errors.
    let out = m.run(&["check", "--help"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("--token-cmd"));
    assert!(m.run(&["--version"]).stdout.contains("gcp-preflight"));
}

#[test]
fn token_problems_are_exit_2_and_the_token_command_is_passed_on() {
    let m = Machine::new();
    *m.token.borrow_mut() = Err("`gcloud …` failed: Reauthentication required".into());
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(out.code, EXIT_UNKNOWN);
    assert!(out.stderr.contains("Reauthentication required"));
    assert_eq!(m.requests(), 0);
    *m.token.borrow_mut() = Ok("ya29.unknown-to-google".into());
    let out = m.run(&[
        "check",
        "-p",
        DEMO_PROJECT_SEED,
        "--token-cmd",
        "pass show gcp",
    ]);
    assert_eq!(out.code, EXIT_UNKNOWN, "{out:?}");
    assert!(out.stderr.contains("tokeninfo"), "{}", out.stderr);
    assert!(!out.stderr.contains("ya29.unknown-to-google"));
    assert_eq!(
        m.token_cmds.borrow().last().unwrap().as_deref(),
        Some("pass show gcp")
    );
    assert!(m.store.keys().is_empty());
}

#[test]
fn json_is_the_browser_report_with_the_options_from_the_files() {
    let m = Machine::new();
    let out = m.run(&[
        "check",
        "-p",
        DEMO_PROJECT_SEED,
        "--json",
        "--sky-config",
        "config.yaml",
        "pipeline.yaml",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(report["schema"], "gcp-preflight.report/v1");
    assert_eq!(report["project"], DEMO_PROJECT_SEED);
    let options = &report["options"];
    for key in [
        "custom_vpc",
        "reservations",
        "tpus",
        "open_ports",
        "custom_image",
        "gcs_mounts",
    ] {
        assert_eq!(options[key], true, "{key}: {options}");
    }
    assert_eq!(
        report["bucket"], "team-ml-jobs",
        "jobs.bucket is the one probed"
    );
    assert_eq!(
        report["service_account"],
        "trainer@ml-prod-4821.iam.gserviceaccount.com"
    );
    assert_eq!(out.code, EXIT_NOT_READY);
}

#[test]
fn a_task_that_cannot_run_on_gcp_needs_no_check() {
    let m = Machine::new();
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED, "aws-only.yaml"]);
    assert_eq!(out.code, EXIT_READY);
    assert!(
        out.stdout.contains(
            "Nothing to check: no task can run on GCP (aws-only.yaml: resources.cloud pins aws)"
        ),
        "{}",
        out.stdout
    );
    assert_eq!(m.requests(), 0);
    assert_eq!(m.token_asks.get(), 0);
}

#[test]
fn the_table_shows_what_the_files_set_and_where() {
    let m = Machine::new();
    let out = m.run(&[
        "check",
        "-p",
        DEMO_PROJECT_SEED,
        "--sky-config",
        "config.yaml",
        "any-of.yaml",
    ]);
    for line in [
        "from config.yaml: gcp.vpc_name",
        "from config.yaml: gcp.specific_reservations",
        "from any-of.yaml: resources.any_of[1].ports",
        "from config.yaml: gcp.remote_identity",
        "Runs on              GCP",
        "Ignored (no effect on GCP permissions): config.yaml: jobs.controller",
    ] {
        assert!(out.stdout.contains(line), "{line}\n{}", out.stdout);
    }
    // The task's config override disables the jobs bucket: no bucket probed.
    assert!(
        out.stdout
            .contains("is not used: any-of.yaml: config.jobs.force_disable_cloud_bucket is true"),
        "{}",
        out.stdout
    );
    let _ = PathBuf::new();
}

#[test]
fn every_bucket_the_files_name_is_probed_and_counts_in_the_exit_code() {
    use gcp_preflight::core::demo::Resource;
    let mut world = demo_world();
    // Bob holds everything on the seed project, whose grants reach its own bucket; the other
    // bucket lives in another team's project, where Bob holds nothing.
    for (name, project) in [
        ("bob-ok-bucket", DEMO_PROJECT_SEED),
        ("bob-locked-bucket", "another-team-project"),
    ] {
        world.buckets.push(Resource {
            name: name.into(),
            project: project.into(),
            ..Resource::default()
        });
    }
    let m = Machine::with_google(SimulatedGoogle::new(world));
    *m.token.borrow_mut() = Ok(DEMO_TOKEN_BOB.into());
    let task = std::env::temp_dir().join(format!("two-buckets-{}.yaml", std::process::id()));
    std::fs::write(
        &task,
        "resources:\n  cloud: gcp\nfile_mounts:\n  /ok: gs://bob-ok-bucket/data\n  /locked:\n    source: gs://bob-locked-bucket\n    mode: MOUNT\nrun: x\n",
    )
    .unwrap();
    let task = task.to_str().unwrap().to_owned();
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED, &task]);
    assert_eq!(out.code, EXIT_NOT_READY, "{}", out.stdout);
    assert!(
        out.stdout.contains("Storage          Ready"),
        "the first bucket: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Other buckets the files name"),
        "{}",
        out.stdout
    );
    let locked = out
        .stdout
        .lines()
        .find(|l| l.starts_with("  bob-locked-bucket"))
        .unwrap();
    assert!(
        locked.contains("Not ready") && locked.contains("file_mounts./locked.source"),
        "{locked}"
    );
    let cold = m.requests();
    // Both answers are cached and the memo names the account: the second run sends nothing.
    let again = m.run(&["check", "-p", DEMO_PROJECT_SEED, &task]);
    assert_eq!(m.requests() - cold, 0);
    assert_eq!(again.code, EXIT_NOT_READY);
    // --json: the main report on stdout, the other bucket on stderr.
    let json = m.run(&["check", "-p", DEMO_PROJECT_SEED, &task, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["bucket"], "bob-ok-bucket");
    assert!(json.stderr.contains("bob-locked-bucket"), "{}", json.stderr);
    std::fs::remove_file(&task).unwrap();
}

/// Rewrites one field of every identity-memo entry (as if time had passed for it alone).
fn age_memo(store: &impl Store, field: &str, value: u64) {
    let key = gcp_preflight::native::idmemo::MEMO_KEY;
    let mut memo: serde_json::Value = serde_json::from_str(&store.get(key).unwrap()).unwrap();
    for entry in memo["entries"].as_array_mut().unwrap() {
        entry[field] = value.into();
    }
    store.set(key, &memo.to_string()).unwrap();
}

#[test]
fn the_identity_memo_is_per_token_and_ends_with_the_token_or_the_ttl() {
    let m = Machine::new();
    m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    // Another account's token: not in the memo, so tokeninfo (and its own check) as before.
    *m.token.borrow_mut() = Ok(DEMO_TOKEN_BOB.into());
    let before = m.requests();
    let bob = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(m.requests() - before, 1 + 7);
    assert!(bob.stdout.contains("as bob@example.com"), "{}", bob.stdout);
    // Each token now hits its own account's entry, sending nothing.
    for (token, code) in [
        (DEMO_TOKEN_ALICE, EXIT_NOT_READY),
        (DEMO_TOKEN_BOB, EXIT_READY),
    ] {
        *m.token.borrow_mut() = Ok(token.into());
        let before = m.requests();
        let out = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
        assert_eq!(m.requests() - before, 0, "{token}");
        assert_eq!(out.code, code, "{out:?}");
        assert!(
            out.stdout.contains("as this token's account (remembered"),
            "{}",
            out.stdout
        );
    }
    // --fresh skips the memo and the cache.
    let before = m.requests();
    m.run(&["check", "-p", DEMO_PROJECT_SEED, "--fresh"]);
    assert_eq!(m.requests() - before, 1 + 7);

    // The token expired (by tokeninfo's word) while the result is still fresh: tokeninfo is
    // asked again (it answers for the cached entry), and the memo is written anew.
    let now = m.now.get();
    age_memo(&m.store, "token_expires_at_ms", now);
    let before = m.requests();
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(m.requests() - before, 1, "tokeninfo only");
    assert!(out.stdout.contains("as bob@example.com (cached result"));
    let before = m.requests();
    m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(m.requests() - before, 0, "remembered again");

    // A memo entry older than the TTL misses too.
    age_memo(&m.store, "written_at_ms", now - DEFAULT_TTL_MS);
    let before = m.requests();
    m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(m.requests() - before, 1);
}

#[test]
fn a_corrupt_memo_or_key_is_a_clean_miss() {
    use gcp_preflight::native::idmemo::{HMAC_KEY, MEMO_KEY};
    let m = Machine::new();
    let first = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    for (key, junk) in [
        (MEMO_KEY, "{\"entries\": [{\"token_mac\": 7"),
        (MEMO_KEY, "\u{0}\u{1}not json"),
        (MEMO_KEY, "{\"entries\": {}}"),
        (HMAC_KEY, "short"),
        (HMAC_KEY, ""),
    ] {
        m.store.set(key, junk).unwrap();
        let before = m.requests();
        let out = m.run(&["check", "-p", DEMO_PROJECT_SEED]);
        assert_eq!(
            m.requests() - before,
            1,
            "a miss: tokeninfo, then the cache"
        );
        assert_eq!(out.code, first.code, "{out:?}");
        // The memo was written again after tokeninfo: the next run sends nothing.
        let before = m.requests();
        m.run(&["check", "-p", DEMO_PROJECT_SEED]);
        assert_eq!(m.requests() - before, 0, "after {key} = {junk:?}");
    }
}

#[test]
fn on_disk_the_memo_holds_neither_token_nor_email_and_is_private() {
    use gcp_preflight::native::cache::FileStore;
    let dir = std::env::temp_dir().join(format!("gcp-preflight-idmemo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let m = Machine::with_store(
        SimulatedGoogle::new(demo_world()),
        FileStore::open(&dir).unwrap(),
    );
    m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    *m.token.borrow_mut() = Ok(DEMO_TOKEN_BOB.into());
    m.run(&["check", "-p", DEMO_PROJECT_SEED]);
    let cold = m.requests();
    assert_eq!(cold, 2 * (1 + 7));
    // A second process reading the same directory: zero requests.
    let again = Machine::with_store(
        SimulatedGoogle::new(demo_world()),
        FileStore::open(&dir).unwrap(),
    );
    again.now.set(m.now.get() + 60_000);
    let out = again.run(&["check", "-p", DEMO_PROJECT_SEED]);
    assert_eq!(out.code, EXIT_NOT_READY, "{out:?}");
    assert_eq!(again.requests(), 0);

    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 4, "two results, the memo, the key: {files:?}");
    let memo_path = dir.join(hex(gcp_preflight::native::idmemo::MEMO_KEY) + ".json");
    let memo = std::fs::read(&memo_path).unwrap();
    assert!(memo.len() > 100, "two entries are in it");
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for secret in [
            DEMO_TOKEN_ALICE,
            DEMO_TOKEN_BOB,
            "alice@example.com",
            "bob@example.com",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in {file:?}"
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{file:?}");
        }
    }
    let key_path = dir.join(hex(gcp_preflight::native::idmemo::HMAC_KEY) + ".json");
    assert_eq!(std::fs::read_to_string(key_path).unwrap().len(), 64);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn markdown_is_the_browsers_report_with_the_verdicts_and_what_is_missing() {
    let m = Machine::new();
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED, "--markdown"]);
    assert_eq!(out.code, EXIT_NOT_READY, "{out:?}");
    let md = &out.stdout;
    assert!(
        md.starts_with(&format!("# gcp-preflight report: `{DEMO_PROJECT_SEED}`")),
        "{md}"
    );
    assert!(md.contains("| Verdict | Result |"), "{md}");
    assert!(md.contains("\n## Compute — Not ready\n"), "{md}");
    assert!(
        md.contains("- Missing permissions (")
            && md.contains("`compute.firewalls.create`, `compute.firewalls.delete`"),
        "{md}"
    );
    assert!(
        md.contains("gcloud projects add-iam-policy-binding"),
        "the fix is in it: {md}"
    );
    // Markdown only: not the table.
    assert!(!md.contains("VERDICT          STATUS"), "{md}");
    assert!(out.stderr.is_empty(), "{out:?}");

    // A ready account: every verdict says so.
    let m = Machine::new();
    *m.token.borrow_mut() = Ok(DEMO_TOKEN_BOB.into());
    let out = m.run(&["check", "-p", DEMO_PROJECT_SEED, "--markdown"]);
    assert_eq!(out.code, EXIT_READY, "{out:?}");
    assert!(
        out.stdout.contains("\n## Compute — Ready\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("Not ready"), "{}", out.stdout);

    let both = m.run(&["check", "-p", DEMO_PROJECT_SEED, "--markdown", "--json"]);
    assert_eq!(both.code, EXIT_UNKNOWN, "{both:?}");
}

/// The question the same files and flags ask, built as the CLI builds it.
fn expected_question(project: &str, config: &str, tasks: &[&str], docs: bool) -> SharedQuestion {
    let texts: Vec<(String, FileKind, String)> = std::iter::once((config, FileKind::Config))
        .chain(tasks.iter().map(|t| (*t, FileKind::Task)))
        .map(|(name, kind)| {
            let text = std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap();
            (name.to_owned(), kind, text)
        })
        .collect();
    let files: Vec<SkyFile<'_>> = texts
        .iter()
        .map(|(name, kind, text)| SkyFile {
            name,
            kind: *kind,
            text,
        })
        .collect();
    let mut input = skyfiles::read(&files).unwrap().plan_input();
    if docs {
        input.options.mode = Mode::SkyPilotDocs;
    }
    SharedQuestion::from_plan(&Plan::build(ProjectId::parse(project).unwrap(), &input))
}

/// The question a printed link carries, read with the browser's own reader.
fn question_of(printed: &str, base: &str) -> SharedQuestion {
    let line = printed.strip_suffix('\n').expect("one line");
    assert!(!line.contains('\n'), "one line: {printed}");
    let fragment = line.strip_prefix(base).expect("the base URL first");
    assert!(fragment.starts_with("#q1="), "{fragment}");
    let packed = share::unpack(fragment).unwrap().expect("a share link");
    assert_eq!(packed.kind, share::Kind::Question);
    assert!(!packed.deflated, "raw: no deflate crate in this build");
    share::read_question(&packed.bytes).unwrap()
}

#[test]
fn link_prints_the_same_question_without_a_token_or_a_request() {
    const BASE: &str = "https://app.example/gcp-preflight/";
    let m = Machine::new();
    let out = m.run(&[
        "check",
        "-p",
        DEMO_PROJECT_SEED,
        "--sky-config",
        "config.yaml",
        "pipeline.yaml",
        "--link",
        "--app-url",
        BASE,
    ]);
    assert_eq!(out.code, EXIT_READY, "{out:?}");
    let question = question_of(&out.stdout, BASE);
    let expected = expected_question(DEMO_PROJECT_SEED, "config.yaml", &["pipeline.yaml"], false);
    assert_eq!(question, expected);
    // The files set something the default form does not: the link carries it.
    assert!(question.bucket.is_some() && question.service_account.is_some());
    assert!(question.options.custom_vpc || question.options.reservations);
    assert_eq!(m.requests(), 0, "nothing sent");
    assert_eq!(m.token_asks.get(), 0, "no token asked for");
    assert!(m.store.keys().is_empty());

    // Flags count too: --docs and --bucket.
    let out = m.run(&[
        "check",
        "-p",
        "other-project-7",
        "--no-sky-config",
        "--docs",
        "--bucket",
        "gs://flag-bucket/sub",
        "--link",
        "--app-url",
        "http://127.0.0.1:8080/",
    ]);
    assert_eq!(out.code, EXIT_READY, "{out:?}");
    let question = question_of(&out.stdout, "http://127.0.0.1:8080/");
    assert_eq!(
        question.project.as_ref().unwrap().as_str(),
        "other-project-7"
    );
    assert_eq!(question.options.mode, Mode::SkyPilotDocs);
    assert_eq!(question.bucket.as_ref().unwrap().as_str(), "flag-bucket");
    assert_eq!(m.requests(), 0);
}

#[test]
fn link_without_a_valid_app_address_is_an_error() {
    let bin = env!("CARGO_BIN_EXE_gcp-preflight");
    let run_bin = |app_url: Option<&str>, extra: &[&str]| {
        let mut cmd = std::process::Command::new(bin);
        cmd.args([
            "check",
            "-p",
            DEMO_PROJECT_SEED,
            "--no-sky-config",
            "--link",
        ])
        .args(extra)
        .env_remove(APP_URL_ENV)
        .env("GCP_PREFLIGHT_TOKEN", SECRET_TOKEN);
        if let Some(url) = app_url {
            cmd.env(APP_URL_ENV, url);
        }
        let out = cmd.output().unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        assert!(
            !stdout.contains(SECRET_TOKEN) && !stderr.contains(SECRET_TOKEN),
            "token printed: {stdout}{stderr}"
        );
        (out.status.code(), stdout, stderr)
    };
    let (code, stdout, stderr) = run_bin(None, &[]);
    assert_eq!(code, Some(EXIT_UNKNOWN), "{stdout}{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("--app-url") && stderr.contains(APP_URL_ENV),
        "{stderr}"
    );

    // The environment variable is the base; the flag wins over it.
    let (code, stdout, _) = run_bin(Some("https://env.example/app/"), &[]);
    assert_eq!(code, Some(EXIT_READY));
    assert_eq!(
        question_of(&stdout, "https://env.example/app/")
            .project
            .unwrap()
            .as_str(),
        DEMO_PROJECT_SEED
    );
    let (code, stdout, _) = run_bin(
        Some("https://env.example/app/"),
        &["--app-url", "https://flag.example/"],
    );
    assert_eq!(code, Some(EXIT_READY));
    assert!(stdout.starts_with("https://flag.example/#q1="), "{stdout}");

    let (code, stdout, stderr) = run_bin(Some("http://evil.example/"), &[]);
    assert_eq!(code, Some(EXIT_UNKNOWN));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(APP_URL_ENV) && stderr.contains("https://"),
        "{stderr}"
    );
}

const SECRET_TOKEN: &str = "ya29.FAKE-secret";

#[test]
fn app_addresses_are_https_or_local_http_without_a_fragment() {
    for ok in [
        "https://app.example",
        "https://app.example/gcp-preflight/",
        "https://app.example:8443/x/index.html",
        "HTTPS://App.Example/",
        "http://localhost:8080/",
        "http://127.0.0.1/",
        "http://localhost",
    ] {
        assert_eq!(app_base_url(ok), Ok(ok), "{ok}");
    }
    for bad in [
        "",
        "app.example",
        "ftp://app.example/",
        "http://app.example/",
        "http://localhost.evil.example/",
        "http://127.0.0.1.evil.example/",
        "http://localhost@evil.example/",
        "https://user@app.example/",
        "https://app.example/#q1=old",
        "https://app.example/#",
        "https:///path",
        "https://app .example/",
        "javascript:alert(1)",
    ] {
        assert!(app_base_url(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn the_question_codec_never_carries_a_token() {
    // The link is only what the codec makes of the question: it refuses to encode anything
    // token-shaped, and the browser's reader refuses a link carrying one.
    let mut q = expected_question(DEMO_PROJECT_SEED, "config.yaml", &["pipeline.yaml"], false);
    let payload = share::question_payload(&q).unwrap();
    let json = String::from_utf8_lossy(&payload[4..]).into_owned();
    assert!(!share::token_shaped(&json), "{json}");

    q.custom =
        vec![Permission::parse("compute.aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5Bc.get").unwrap()];
    assert_eq!(
        share::question_payload(&q),
        Err(share::LinkError::TokenShaped)
    );
    let forged = json.replace(DEMO_PROJECT_SEED, SECRET_TOKEN);
    assert_eq!(
        share::read_question(&share::seal(forged.as_bytes())),
        Err(share::LinkError::TokenShaped)
    );
}
