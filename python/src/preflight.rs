//! What the Python package does, in plain Rust (no Python types), so that it is tested natively
//! over the simulated Google: a check of a task and config given as YAML text, and the admin
//! policy's decision for one SkyPilot request.
//!
//! Both run `gcp-preflight check --json` in process ([`cli::run`]) with the texts handed in
//! through its [`Env`] seam: one mapping of SkyPilot's files ([`skyfiles`]), the same cache
//! rules, the same transport and the same report as the terminal. This module only turns the
//! report into the binding's [`Report`] and a request into a [`Decision`].

use gcp_preflight::core::cache::Store;
use gcp_preflight::core::http::{NetError, Request, Response, Transport};
use gcp_preflight::core::skyfiles::{self, FileKind, GcpTarget, SkyFile};
use gcp_preflight::core::token::Token;
use gcp_preflight::native::cli::{self, Env};
use serde::Deserialize;
use std::cell::Cell;
use std::future::Future;
use std::path::Path;
use yaml_rust2::{Yaml, YamlEmitter, YamlLoader};

/// The name the task text goes by in origins (`task.yaml: resources.accelerators`).
pub const TASK_FILE: &str = "task.yaml";
/// The name the effective SkyPilot config goes by in origins.
pub const CONFIG_FILE: &str = "skypilot-config.yaml";
/// Environment variable: `1` makes an unknown answer reject the launch.
pub const STRICT_ENV: &str = "GCP_PREFLIGHT_STRICT";

/// A task and a config, as YAML text (either may be absent).
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    /// A task YAML (SkyPilot's `task.to_yaml_config()` dumped, or a file's text).
    pub task_yaml: Option<&'a str>,
    /// A SkyPilot config (`~/.sky/config.yaml`, or the effective config of a request).
    pub config_yaml: Option<&'a str>,
}

impl Inputs<'_> {
    fn files(&self) -> Vec<SkyFile<'_>> {
        let config = self.config_yaml.map(|text| SkyFile {
            name: CONFIG_FILE,
            kind: FileKind::Config,
            text,
        });
        let task = self.task_yaml.map(|text| SkyFile {
            name: TASK_FILE,
            kind: FileKind::Task,
            text,
        });
        config.into_iter().chain(task).collect()
    }
}

/// SkyPilot's YAML form of a task (`task.to_yaml_config()`) keeps the task's `config:` block
/// as `resources._cluster_config_overrides` (in each `any_of`/`ordered` choice too): lifted
/// back to a top-level `config:` here, so the one mapping of task files reads it. `None` when
/// the text has none, or is not YAML (it is then used as it is).
pub fn lift_config_overrides(task_yaml: &str) -> Result<Option<String>, String> {
    const KEY: &str = "_cluster_config_overrides";
    // Text that is not YAML is left for the mapping to report, with its line and column.
    let Ok(docs) = YamlLoader::load_from_str(task_yaml) else {
        return Ok(None);
    };
    let key = Yaml::String(KEY.into());
    let mut changed = false;
    let mut out_docs = Vec::with_capacity(docs.len());
    for doc in docs {
        let Yaml::Hash(mut task) = doc else {
            out_docs.push(doc);
            continue;
        };
        let mut lifted: Vec<Yaml> = Vec::new();
        if let Some(Yaml::Hash(resources)) = task.get_mut(&Yaml::String("resources".into())) {
            lifted.extend(resources.remove(&key));
            for choices in ["any_of", "ordered"] {
                if let Some(Yaml::Array(list)) = resources.get_mut(&Yaml::String(choices.into())) {
                    for item in list.iter_mut() {
                        if let Yaml::Hash(choice) = item {
                            lifted.extend(choice.remove(&key));
                        }
                    }
                }
            }
        }
        // The same task-level block is copied into every choice: the first one is the task's.
        if let Some(overrides @ Yaml::Hash(_)) = lifted.into_iter().next() {
            changed = true;
            if !task.contains_key(&Yaml::String("config".into())) {
                task.insert(Yaml::String("config".into()), overrides);
            }
        }
        out_docs.push(Yaml::Hash(task));
    }
    if !changed {
        return Ok(None);
    }
    let mut text = String::new();
    for doc in &out_docs {
        YamlEmitter::new(&mut text)
            .dump(doc)
            .map_err(|e| format!("{TASK_FILE}: {e}"))?;
        text.push('\n');
    }
    Ok(Some(text))
}

/// Whether a task can run on GCP, from the files alone (no network).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A resource pins GCP (`cloud: gcp`, `infra: gcp/…`, a GCP `any_of`/`ordered` entry, a TPU).
    Gcp(String),
    /// No cloud pinned, or no task: SkyPilot may or may not pick GCP.
    Open,
    /// Nothing can run on GCP (why).
    NotGcp(String),
}

/// Reads the files' target (a YAML error is the error's text).
pub fn target(inputs: &Inputs<'_>) -> Result<Target, String> {
    let lifted = inputs
        .task_yaml
        .map(lift_config_overrides)
        .transpose()?
        .flatten();
    let inputs = Inputs {
        task_yaml: lifted.as_deref().or(inputs.task_yaml),
        config_yaml: inputs.config_yaml,
    };
    let sky = skyfiles::read(&inputs.files()).map_err(|e| e.to_string())?;
    Ok(match sky.target {
        Some(GcpTarget::Pinned(origin)) => Target::Gcp(origin.to_string()),
        Some(GcpTarget::NotGcp(why)) => Target::NotGcp(why),
        Some(GcpTarget::Possible | GcpTarget::NoTask) | None => Target::Open,
    })
}

/// One verdict, as the binding shows it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct VerdictOut {
    /// `compute`, `storage`, `managed_jobs`, `first_launch` or `custom`.
    pub topic: String,
    /// `ready`, `not_ready` or `unknown`.
    pub status: String,
    /// Permissions missing.
    pub missing: Vec<String>,
    /// Names Google says are not valid on a project.
    #[serde(default)]
    pub not_valid: Vec<String>,
    /// APIs off that `sky check` will not turn on.
    pub apis_off: Vec<String>,
    /// Other blocking problems.
    #[serde(default)]
    pub blockers: Vec<String>,
    /// Things worth knowing.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Why the answer is unknown.
    #[serde(default)]
    pub unknown_reasons: Vec<String>,
}

impl VerdictOut {
    /// The capability in words (`Managed jobs`).
    pub fn title(&self) -> String {
        let words = self.topic.replace('_', " ");
        let mut chars = words.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    /// `Not ready`, `Ready`, `Unknown`.
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "ready" => "Ready",
            "not_ready" => "Not ready",
            _ => "Unknown",
        }
    }
}

/// The slice of `gcp-preflight.report/v1` the binding reads.
#[derive(Deserialize)]
struct ReportJson {
    checked_at: String,
    account_email: Option<String>,
    project: String,
    verdicts: Vec<VerdictOut>,
    #[serde(default)]
    advice: Vec<AdviceJson>,
}

#[derive(Deserialize)]
struct AdviceJson {
    advice: FixJson,
}

#[derive(Deserialize)]
struct FixJson {
    enable_apis: Vec<String>,
    targets: Vec<TargetJson>,
    uncovered_role: Option<RoleJson>,
}

#[derive(Deserialize)]
struct TargetJson {
    commands: Vec<String>,
}

#[derive(Deserialize)]
struct RoleJson {
    create_or_update: String,
}

/// A finished check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The project checked.
    pub project: String,
    /// The account checked, when its token carries the email scope.
    pub account: Option<String>,
    /// When Google answered (ISO 8601, UTC).
    pub checked_at: String,
    /// Whether the answer came from the cache (older than this call).
    pub cached: bool,
    /// Requests this call sent to Google.
    pub requests: usize,
    /// One per capability.
    pub verdicts: Vec<VerdictOut>,
    /// Commands an admin runs to fix what is missing (APIs first, then role grants).
    pub fix_commands: Vec<String>,
    /// What the files asked for and where: `(setting, value, origin)`.
    pub derived: Vec<(String, String, String)>,
    /// Set when no task can run on GCP (nothing was checked).
    pub nothing_to_check: Option<String>,
}

impl Report {
    /// `ready`, `not_ready` or `unknown` over `verdicts` (`ready` when there is nothing to check).
    pub fn status_of<'a>(verdicts: impl IntoIterator<Item = &'a VerdictOut>) -> &'static str {
        let mut all_ready = true;
        for v in verdicts {
            if v.status == "not_ready" {
                return "not_ready";
            }
            all_ready &= v.status == "ready";
        }
        if all_ready {
            "ready"
        } else {
            "unknown"
        }
    }

    /// The overall status.
    pub fn status(&self) -> &'static str {
        Report::status_of(&self.verdicts)
    }
}

/// Counts what goes through a transport: all requests, and those that are not tokeninfo (a
/// check's own; none when the answer comes from the cache).
struct Counting<'a, T> {
    inner: &'a T,
    sent: Cell<usize>,
    checks: Cell<usize>,
}

impl<T: Transport> Transport for Counting<'_, T> {
    fn send(&self, request: Request) -> impl Future<Output = Result<Response, NetError>> {
        self.sent.set(self.sent.get() + 1);
        if !request.url.starts_with("https://oauth2.googleapis.com/") {
            self.checks.set(self.checks.get() + 1);
        }
        self.inner.send(request)
    }

    fn sleep(&self, millis: u32) -> impl Future<Output = ()> {
        self.inner.sleep(millis)
    }
}

/// The outside world of a check: where requests go, the cache, the token, the clock.
pub struct World<'a, T: Transport, S: Store> {
    /// Where requests go.
    pub transport: &'a T,
    /// The cache (`None`: no cache directory).
    pub store: Option<&'a S>,
    /// Obtains the token; called only when Google must be asked.
    pub token: &'a dyn Fn() -> Result<Token, String>,
    /// The clock (ms since the epoch).
    pub now_ms: &'a dyn Fn() -> u64,
}

/// Checks `project` for the task and config, exactly as `gcp-preflight check --json` does.
/// `Err` is the reason there is no answer (bad input, no token, tokeninfo failed).
pub fn check<T: Transport, S: Store>(
    project: &str,
    inputs: &Inputs<'_>,
    world: &World<'_, T, S>,
) -> Result<Report, String> {
    let lifted = inputs
        .task_yaml
        .map(lift_config_overrides)
        .transpose()?
        .flatten();
    let inputs = &Inputs {
        task_yaml: lifted.as_deref().or(inputs.task_yaml),
        config_yaml: inputs.config_yaml,
    };
    let sky = skyfiles::read(&inputs.files()).map_err(|e| e.to_string())?;
    let derived = sky
        .derivations
        .iter()
        .map(|d| {
            (
                d.setting.label().to_owned(),
                d.value.clone(),
                d.origin.to_string(),
            )
        })
        .collect();
    let mut args: Vec<String> = ["gcp-preflight", "check", "--json", "-p", project]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match inputs.config_yaml {
        Some(_) => args.extend(["--sky-config".into(), CONFIG_FILE.into()]),
        None => args.push("--no-sky-config".into()),
    }
    if inputs.task_yaml.is_some() {
        args.push(TASK_FILE.into());
    }
    let read_file = |path: &Path| {
        let text = if path == Path::new(CONFIG_FILE) {
            inputs.config_yaml
        } else if path == Path::new(TASK_FILE) {
            inputs.task_yaml
        } else {
            None
        };
        text.map(str::to_owned)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    };
    let counting = Counting {
        inner: world.transport,
        sent: Cell::new(0),
        checks: Cell::new(0),
    };
    let token = |_: Option<&str>| (world.token)();
    let env = Env {
        transport: &counting,
        store: world.store,
        token: &token,
        read_file: &read_file,
        default_sky_config: None,
        now_ms: world.now_ms,
    };
    let outcome = cli::run(&args, &env);
    let requests = counting.sent.get();
    let problem = || {
        let text = outcome.stderr.trim();
        text.strip_prefix("gcp-preflight: ")
            .unwrap_or(text)
            .to_owned()
    };
    if outcome.stdout.trim().is_empty() {
        return if outcome.code == cli::EXIT_READY && !sky.targets_gcp() {
            Ok(Report {
                project: project.to_owned(),
                account: None,
                checked_at: String::new(),
                cached: false,
                requests,
                verdicts: Vec::new(),
                fix_commands: Vec::new(),
                derived,
                nothing_to_check: Some(match sky.target {
                    Some(GcpTarget::NotGcp(why)) => why,
                    _ => problem(),
                }),
            })
        } else {
            Err(problem())
        };
    }
    let json: ReportJson = serde_json::from_str(&outcome.stdout)
        .map_err(|e| format!("the report could not be read: {e}"))?;
    // Only tokeninfo was asked (whose the entry is): the verdicts are the cache's.
    let cached = counting.checks.get() == 0;
    let mut fix_commands = Vec::new();
    for a in &json.advice {
        for command in a
            .advice
            .enable_apis
            .iter()
            .chain(a.advice.uncovered_role.iter().map(|r| &r.create_or_update))
            .chain(a.advice.targets.iter().flat_map(|t| &t.commands))
        {
            if !fix_commands.contains(command) {
                fix_commands.push(command.clone());
            }
        }
    }
    Ok(Report {
        project: json.project,
        account: json.account_email,
        checked_at: json.checked_at,
        cached,
        requests,
        verdicts: json.verdicts,
        fix_commands,
        derived,
        nothing_to_check: None,
    })
}

/// The SkyPilot requests the policy acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// `sky launch` (`launch`).
    Launch,
    /// `sky jobs launch` (`jobs.launch`).
    JobsLaunch,
    /// `sky serve up` / `update` (`serve.up`, `serve.update`).
    Serve,
}

impl RequestKind {
    /// The kind of a client-side request name (`sky.AdminPolicyRequestName` values); `None`
    /// for the ones left alone (`exec`, `validate`, controller and replica launches, …).
    pub fn of(name: &str) -> Option<RequestKind> {
        match name {
            "launch" => Some(RequestKind::Launch),
            "jobs.launch" => Some(RequestKind::JobsLaunch),
            "serve.up" | "serve.update" => Some(RequestKind::Serve),
            _ => None,
        }
    }

    /// Whether a verdict matters for this request: managed jobs only for `jobs.launch`;
    /// storage only when the request puts files on GCS (`uses_gcs`: GCS mounts, or the jobs
    /// bucket of a managed job); compute and the first launch always.
    fn concerns(self, topic: &str, uses_gcs: bool) -> bool {
        match topic {
            "managed_jobs" => self == RequestKind::JobsLaunch,
            "storage" => uses_gcs,
            _ => true,
        }
    }
}

/// What the policy does with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Not the policy's business (why): nothing was asked of anyone.
    Untouched(String),
    /// Everything the request needs is there.
    Allow(Report),
    /// Something is missing: the message says what, and how to fix it.
    Reject(String),
    /// No answer: a one-line warning, and the launch goes on.
    Warn(String),
}

/// The config the request's plan is built from: for a launch that is not a managed job,
/// `jobs:` (its bucket) is none of its business.
fn config_for(kind: RequestKind, config_yaml: Option<&str>) -> Result<Option<String>, String> {
    let Some(text) = config_yaml else {
        return Ok(None);
    };
    if kind == RequestKind::JobsLaunch {
        return Ok(Some(text.to_owned()));
    }
    let docs = YamlLoader::load_from_str(text).map_err(|e| format!("{CONFIG_FILE}: {e}"))?;
    let Some(Yaml::Hash(mut map)) = docs.into_iter().next() else {
        return Ok(Some(text.to_owned()));
    };
    map.remove(&Yaml::String("jobs".into()));
    let mut out = String::new();
    YamlEmitter::new(&mut out)
        .dump(&Yaml::Hash(map))
        .map_err(|e| format!("{CONFIG_FILE}: {e}"))?;
    Ok(Some(out))
}

/// The policy's decision for one request: `kind`, the task's YAML and the effective config,
/// the project SkyPilot will use (or why it is not known). Files that cannot run on GCP, or pin
/// no cloud, are left untouched before any project, token or request is asked for.
pub fn decide<T: Transport, S: Store>(
    kind: RequestKind,
    inputs: &Inputs<'_>,
    project: &dyn Fn() -> Result<String, String>,
    world: &World<'_, T, S>,
    strict: bool,
) -> Decision {
    let unknown = |why: String, project: Option<&str>| {
        let on = project.map(|p| format!(" on {p}")).unwrap_or_default();
        // A warning is one line, whatever the reason's text (e.g. gcloud's stderr) holds.
        let why = why.split_whitespace().collect::<Vec<_>>().join(" ");
        if strict {
            Decision::Reject(format!(
                "GCP preflight could not check this launch{on}: {why}\n\
                 {STRICT_ENV}=1 refuses launches that cannot be checked; unset it to launch anyway."
            ))
        } else {
            Decision::Warn(format!(
                "gcp-preflight: could not check GCP{on} ({why}); launching anyway (set {STRICT_ENV}=1 to refuse instead)."
            ))
        }
    };
    match target(inputs) {
        Ok(Target::Gcp(_)) => {}
        Ok(Target::Open) => return Decision::Untouched("no cloud pinned to GCP".into()),
        Ok(Target::NotGcp(why)) => return Decision::Untouched(why),
        Err(e) => return unknown(format!("the task could not be read: {e}"), None),
    }
    let config = match config_for(kind, inputs.config_yaml) {
        Ok(c) => c,
        Err(e) => return unknown(e, None),
    };
    let inputs = Inputs {
        task_yaml: inputs.task_yaml,
        config_yaml: config.as_deref(),
    };
    let project = match project() {
        Ok(p) => p,
        Err(e) => return unknown(e, None),
    };
    let report = match check(&project, &inputs, world) {
        Ok(r) => r,
        Err(e) => return unknown(e, Some(&project)),
    };
    // The jobs section is gone for other requests: a bucket here is a mount's or the jobs'.
    let uses_gcs = report.derived.iter().any(|(setting, _, _)| {
        [skyfiles::Setting::GcsMounts, skyfiles::Setting::Bucket]
            .iter()
            .any(|s| s.label() == setting)
    });
    let concerned: Vec<&VerdictOut> = report
        .verdicts
        .iter()
        .filter(|v| kind.concerns(&v.topic, uses_gcs))
        .collect();
    match Report::status_of(concerned.iter().copied()) {
        "ready" => Decision::Allow(report),
        "not_ready" => Decision::Reject(rejection(&report, &concerned)),
        _ => {
            let why = concerned
                .iter()
                .flat_map(|v| v.unknown_reasons.first())
                .next()
                .cloned()
                .unwrap_or_else(|| "some answers are missing".into());
            unknown(why, Some(&project))
        }
    }
}

/// The message of a rejected launch: who and what was checked, what blocks, why it was asked
/// for, and the commands that fix it.
pub fn rejection(report: &Report, concerned: &[&VerdictOut]) -> String {
    use std::fmt::Write as _;
    // A cached report without an email is one whose account the identity memo named (it
    // never keeps the email); an uncached one is a token without the email scope.
    let who = report.account.as_deref().unwrap_or(if report.cached {
        "this token's account (remembered from its last check)"
    } else {
        "an account whose token has no email scope"
    });
    let when = if report.cached {
        format!("cached result of {}", report.checked_at)
    } else {
        "checked just now".into()
    };
    let mut out = format!(
        "GCP preflight: this launch would fail on GCP project {} as {who} ({when}).\n",
        report.project
    );
    for v in concerned {
        let _ = writeln!(out, "  {}: {}", v.title(), v.status_label());
        if v.status != "not_ready" {
            continue;
        }
        if !v.missing.is_empty() {
            let _ = writeln!(out, "    missing permissions: {}", v.missing.join(", "));
        }
        if !v.not_valid.is_empty() {
            let _ = writeln!(
                out,
                "    not valid on a project: {}",
                v.not_valid.join(", ")
            );
        }
        if !v.apis_off.is_empty() {
            let _ = writeln!(out, "    APIs off: {}", v.apis_off.join(", "));
        }
        for b in &v.blockers {
            let _ = writeln!(out, "    blocks: {b}");
        }
    }
    if !report.derived.is_empty() {
        let _ = writeln!(out, "  Asked for because of:");
        for (setting, value, origin) in &report.derived {
            let _ = writeln!(out, "    {setting}: {value} ({origin})");
        }
    }
    if !report.fix_commands.is_empty() {
        let _ = writeln!(
            out,
            "  Fix (run as an admin of project {}):",
            report.project
        );
        for command in &report.fix_commands {
            for line in command.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let _ = write!(
        out,
        "  Check again without launching: gcp-preflight check -p {} --fresh TASK.yaml",
        report.project
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_names_and_what_concerns_them() {
        assert_eq!(RequestKind::of("launch"), Some(RequestKind::Launch));
        assert_eq!(
            RequestKind::of("jobs.launch"),
            Some(RequestKind::JobsLaunch)
        );
        assert_eq!(RequestKind::of("serve.up"), Some(RequestKind::Serve));
        assert_eq!(RequestKind::of("serve.update"), Some(RequestKind::Serve));
        for other in [
            "exec",
            "validate",
            "optimize",
            "jobs.launch_controller",
            "serve.launch_replica",
        ] {
            assert_eq!(RequestKind::of(other), None, "{other}");
        }
        assert!(!RequestKind::Launch.concerns("managed_jobs", true));
        assert!(RequestKind::JobsLaunch.concerns("managed_jobs", false));
        assert!(RequestKind::Serve.concerns("compute", false));
        assert!(RequestKind::Serve.concerns("first_launch", false));
        assert!(!RequestKind::Launch.concerns("storage", false));
        assert!(RequestKind::Launch.concerns("storage", true));
    }

    #[test]
    fn a_launch_drops_the_jobs_section_and_a_managed_job_keeps_it() {
        let config = "jobs:\n  bucket: gs://b\ngcp:\n  vpc_name: v\n";
        let launch = config_for(RequestKind::Launch, Some(config))
            .unwrap()
            .unwrap();
        assert!(
            !launch.contains("jobs") && launch.contains("vpc_name: v"),
            "{launch}"
        );
        let jobs = config_for(RequestKind::JobsLaunch, Some(config))
            .unwrap()
            .unwrap();
        assert_eq!(jobs, config);
        assert_eq!(config_for(RequestKind::Serve, None), Ok(None));
    }

    #[test]
    fn task_config_overrides_in_skypilots_yaml_form_are_read_as_the_task_config() {
        let sky_form = "resources:\n  infra: gcp\n  ports: ['8080']\n  _cluster_config_overrides:\n    gcp:\n      vpc_name: task-vpc\nrun: echo hi\n";
        let lifted = lift_config_overrides(sky_form).unwrap().expect("lifted");
        assert!(!lifted.contains("_cluster_config_overrides"), "{lifted}");
        let sky = skyfiles::read(&[SkyFile {
            name: TASK_FILE,
            kind: FileKind::Task,
            text: &lifted,
        }])
        .unwrap();
        assert!(sky.options.custom_vpc && sky.options.open_ports);
        assert_eq!(
            sky.origin_of(skyfiles::Setting::CustomVpc)
                .unwrap()
                .to_string(),
            "task.yaml: config.gcp.vpc_name"
        );
        let any_of = "resources:\n  any_of:\n  - infra: aws\n    _cluster_config_overrides: {gcp: {vpc_name: v}}\n  - infra: gcp\n    _cluster_config_overrides: {gcp: {vpc_name: v}}\n";
        assert!(lift_config_overrides(any_of)
            .unwrap()
            .unwrap()
            .contains("config:"));
        assert_eq!(
            lift_config_overrides("resources:\n  infra: gcp\n"),
            Ok(None)
        );
        assert_eq!(lift_config_overrides("resources: ["), Ok(None));
    }

    #[test]
    fn verdict_titles() {
        let v = |topic: &str| VerdictOut {
            topic: topic.into(),
            status: "ready".into(),
            missing: vec![],
            not_valid: vec![],
            apis_off: vec![],
            blockers: vec![],
            notes: vec![],
            unknown_reasons: vec![],
        };
        assert_eq!(v("managed_jobs").title(), "Managed jobs");
        assert_eq!(v("compute").title(), "Compute");
        assert_eq!(v("compute").status_label(), "Ready");
    }
}
