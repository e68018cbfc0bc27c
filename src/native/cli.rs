//! `gcp-preflight check`: the browser's check from a shell, on the same core.
//!
//! `gcp-preflight check -p PROJECT [--sky-config PATH] [TASK.yaml …]` reads SkyPilot's files
//! ([`crate::core::skyfiles`]), builds the plan, answers from the cache when it may (the
//! browser's rules: per account, project and plan, complete results only, a TTL), or else asks
//! Google in one parallel wave, and prints a table (or `--json`, the browser's
//! `gcp-preflight.report/v1`, or `--markdown`, its Markdown report). `--link` instead prints a
//! share link to the hosted app asking the same question, without a token or a request. Exit code: 0 ready, 1 not ready, 2 unknown or error, so
//! `gcp-preflight check -p P task.yaml && sky jobs launch task.yaml` works.
//!
//! [`run`] does everything but the outside world, which [`Env`] hands in (transport, store,
//! token, files, clock), so that tests drive it against the simulated Google.

use super::idmemo;
use crate::core::cache::{self, CacheEntry, CacheKey, Lookup, Store, DEFAULT_TTL_MS};
use crate::core::catalog::Mode;
use crate::core::check::{self, Findings, TokenScope};
use crate::core::http::Transport;
use crate::core::identity::{Identity, IdentitySource};
use crate::core::names::{BucketName, ProjectId, ServiceAccountEmail};
use crate::core::plan::Plan;
use crate::core::plan::PlanInput;
use crate::core::report;
use crate::core::roles::RoleIndex;
use crate::core::share::{self, SharedQuestion};
use crate::core::skyfiles::{self, FileKind, GcpTarget, SkyFile, SkyFiles};
use crate::core::token::Token;
use crate::core::verdict::{verdicts, Status, Topic, Verdict};
use clap::{Args, Parser, Subcommand};
use futures::future::join_all;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Everything ready (or nothing to check): the job may be launched.
pub const EXIT_READY: i32 = 0;
/// Something the job needs is missing.
pub const EXIT_NOT_READY: i32 = 1;
/// No answer: a request failed, bad input, or no token.
pub const EXIT_UNKNOWN: i32 = 2;

/// Environment variable: the hosted app's address for `--link` (as `--app-url`).
pub const APP_URL_ENV: &str = "GCP_PREFLIGHT_APP_URL";

/// The role data the fix advice is built from (the browser's `roles/skypilot.json`).
pub const ROLE_DATA: &str = include_str!("../../static/roles/skypilot.json");

/// Command line.
#[derive(Debug, Parser)]
#[command(
    name = "gcp-preflight",
    version,
    about = "Checks, before you submit a SkyPilot job, that your Google account and GCP project hold what it needs."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a project for the SkyPilot config and tasks given (exit 0 ready, 1 not ready, 2 unknown).
    Check(CheckArgs),
}

/// `check`'s arguments.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The GCP project ID the job runs in.
    #[arg(short = 'p', long)]
    pub project: String,
    /// SkyPilot config to read [default: ~/.sky/config.yaml when it exists].
    #[arg(long, value_name = "PATH")]
    pub sky_config: Option<PathBuf>,
    /// Do not read ~/.sky/config.yaml.
    #[arg(long, conflicts_with = "sky_config")]
    pub no_sky_config: bool,
    /// Task YAMLs the job will launch (multi-document pipelines too).
    #[arg(value_name = "TASK.yaml")]
    pub tasks: Vec<PathBuf>,
    /// A bucket to probe instead of the one the files name (`gs://bucket/sub/path` accepted).
    #[arg(long)]
    pub bucket: Option<String>,
    /// A service account to test `actAs` on instead of `gcp.remote_identity`'s.
    #[arg(long)]
    pub service_account: Option<String>,
    /// Test SkyPilot's documented minimal role instead of exactly what `sky check gcp` tests.
    #[arg(long)]
    pub docs: bool,
    /// Print the gcp-preflight.report/v1 JSON (as the browser exports it) instead of a table.
    #[arg(long, conflicts_with_all = ["markdown", "link"])]
    pub json: bool,
    /// Print the Markdown report (the browser's "Download Markdown") instead of a table.
    #[arg(long, conflicts_with = "link")]
    pub markdown: bool,
    /// Print a share link to the hosted app that asks the same question (project, options,
    /// bucket, service account from these files and flags), then exit 0 without checking:
    /// no token is asked for and nothing is sent. The link never holds a token.
    #[arg(long)]
    pub link: bool,
    /// The hosted app's address for --link (https://, or http:// on localhost or 127.0.0.1).
    #[arg(long, value_name = "URL", env = APP_URL_ENV)]
    pub app_url: Option<String>,
    /// Ask Google again even if a fresh cached result exists.
    #[arg(long)]
    pub fresh: bool,
    /// Shell command printing the token [default: $GCP_PREFLIGHT_TOKEN, else
    /// `gcloud auth application-default print-access-token`].
    #[arg(long, value_name = "CMD")]
    pub token_cmd: Option<String>,
}

/// What a run printed and its exit code.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Exit code ([`EXIT_READY`], [`EXIT_NOT_READY`], [`EXIT_UNKNOWN`]).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Outcome {
    fn error(message: impl Into<String>) -> Outcome {
        Outcome {
            code: EXIT_UNKNOWN,
            stdout: String::new(),
            stderr: format!("gcp-preflight: {}\n", message.into()),
        }
    }
}

/// The outside world of one run.
pub struct Env<'a, T: Transport, S: Store> {
    /// Where requests go.
    pub transport: &'a T,
    /// The result cache (`None`: no cache directory).
    pub store: Option<&'a S>,
    /// Obtains the token given `--token-cmd` (called once, only when Google must be asked).
    pub token: &'a dyn Fn(Option<&str>) -> Result<Token, String>,
    /// Reads a file.
    pub read_file: &'a dyn Fn(&std::path::Path) -> std::io::Result<String>,
    /// `~/.sky/config.yaml`, if the user has one.
    pub default_sky_config: Option<PathBuf>,
    /// The clock (ms since the epoch).
    pub now_ms: &'a dyn Fn() -> u64,
}

/// Parses `args` (program name first) and runs the command.
pub fn run<T: Transport, S: Store>(args: &[String], env: &Env<'_, T, S>) -> Outcome {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            let code = if e.use_stderr() { EXIT_UNKNOWN } else { 0 };
            return if e.use_stderr() {
                Outcome {
                    code,
                    stdout: String::new(),
                    stderr: text,
                }
            } else {
                Outcome {
                    code,
                    stdout: text,
                    stderr: String::new(),
                }
            };
        }
    };
    match cli.command {
        Command::Check(args) => futures::executor::block_on(check_command(&args, env)),
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// Reads and parses the SkyPilot files the arguments name.
fn read_sky_files<T: Transport, S: Store>(
    args: &CheckArgs,
    env: &Env<'_, T, S>,
) -> Result<SkyFiles, String> {
    let mut texts: Vec<(String, FileKind, String)> = Vec::new();
    let config = match (&args.sky_config, args.no_sky_config) {
        (Some(path), _) => Some(path.clone()),
        (None, false) => env.default_sky_config.clone(),
        (None, true) => None,
    };
    for (path, kind) in config
        .iter()
        .map(|p| (p, FileKind::Config))
        .chain(args.tasks.iter().map(|p| (p, FileKind::Task)))
    {
        let text =
            (env.read_file)(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        texts.push((file_name(path), kind, text));
    }
    let files: Vec<SkyFile<'_>> = texts
        .iter()
        .map(|(name, kind, text)| SkyFile {
            name,
            kind: *kind,
            text,
        })
        .collect();
    skyfiles::read(&files).map_err(|e| format!("{e}"))
}

async fn check_command<T: Transport, S: Store>(args: &CheckArgs, env: &Env<'_, T, S>) -> Outcome {
    let project = match ProjectId::parse(&args.project) {
        Ok(p) => p,
        Err(e) => return Outcome::error(format!("--project: {e}")),
    };
    let sky = match read_sky_files(args, env) {
        Ok(s) => s,
        Err(e) => return Outcome::error(e),
    };
    let mut input = sky.plan_input();
    if let Some(bucket) = &args.bucket {
        match BucketName::parse(bucket) {
            Ok(b) => input.bucket = Some(b),
            Err(e) => return Outcome::error(format!("--bucket: {e}")),
        }
    }
    if let Some(sa) = &args.service_account {
        match ServiceAccountEmail::parse(sa) {
            Ok(s) => input.service_account = Some(s),
            Err(e) => return Outcome::error(format!("--service-account: {e}")),
        }
    }
    if args.docs {
        input.options.mode = Mode::SkyPilotDocs;
    }
    if args.link {
        return link_command(args, Plan::build(project, &input), sky.buckets.len());
    }
    let mut header = String::new();
    describe_files(&sky, &mut header);
    if !sky.targets_gcp() {
        let why = match &sky.target {
            Some(GcpTarget::NotGcp(why)) => why.clone(),
            _ => String::new(),
        };
        // JSON and Markdown keep stdout for the report alone.
        let machine_readable = args.json || args.markdown;
        return Outcome {
            code: EXIT_READY,
            stdout: if machine_readable {
                String::new()
            } else {
                format!("{header}Nothing to check: no task can run on GCP ({why}).\n")
            },
            stderr: if machine_readable {
                format!("gcp-preflight: nothing to check: no task can run on GCP ({why}).\n")
            } else {
                String::new()
            },
        };
    }
    // Every further GCS bucket the files name is probed too, as a plan of its own that tests
    // only object access on it (two requests each, in the same wave).
    let extra_buckets: Vec<(BucketName, String)> = if args.bucket.is_some() {
        Vec::new()
    } else {
        sky.buckets
            .iter()
            .skip(1)
            .map(|(b, origin)| (b.clone(), origin.to_string()))
            .collect()
    };
    let mut plans = vec![Plan::build(project.clone(), &input)];
    plans.extend(extra_buckets.iter().map(|(bucket, _)| {
        Plan::build(
            project.clone(),
            &PlanInput {
                options: input.options,
                skip_skypilot: true,
                bucket: Some(bucket.clone()),
                ..PlanInput::default()
            },
        )
    }));
    let token = match (env.token)(args.token_cmd.as_deref()) {
        Ok(t) => t,
        Err(e) => return Outcome::error(e),
    };
    let checked = match check_plans(
        plans,
        token.expose(),
        env.transport,
        env.store,
        args.fresh,
        env.now_ms,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return Outcome::error(e),
    };
    let now = checked.now_ms;
    let identity = &checked.identity;
    let plans: Vec<&Plan> = checked.answers.iter().map(|a| &a.plan).collect();
    let results: Vec<(&Findings, Option<u64>)> = checked
        .answers
        .iter()
        .map(|a| (&a.findings, a.cached_at_ms))
        .collect();
    let buckets: Vec<BucketOutcome<'_>> = extra_buckets
        .iter()
        .zip(plans.iter().zip(&results).skip(1))
        .map(|((bucket, origin), (plan, (findings, _)))| BucketOutcome {
            bucket: bucket.as_str(),
            origin,
            storage: verdicts(plan, findings)
                .into_iter()
                .find(|v| v.topic == Topic::Storage),
        })
        .collect();
    let (findings, cached_at) = results[0];
    let checked_at = cached_at.unwrap_or(checked.checked_at_ms);
    finish(
        args,
        plans[0],
        findings,
        identity,
        checked.identity_remembered,
        header,
        &buckets,
        checked_at,
        cached_at,
        now,
    )
}

/// One plan's answer.
#[derive(Clone, Debug)]
pub struct Answer {
    /// The plan.
    pub plan: Plan,
    /// What was found (from Google, or the cache).
    pub findings: Findings,
    /// When the cached answer was checked; `None` when Google was asked now.
    pub cached_at_ms: Option<u64>,
}

/// What [`check_plans`] found.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Whose token it was.
    pub identity: Identity,
    /// One answer per plan, in the order given.
    pub answers: Vec<Answer>,
    /// When the answers asked of Google now arrived.
    pub checked_at_ms: u64,
    /// The clock when the check began.
    pub now_ms: u64,
    /// The account came from the identity memo ([`idmemo`]), not from tokeninfo: no request
    /// was sent, and the email is unknown (the memo never holds it).
    pub identity_remembered: bool,
}

/// Answers `plans` as the browser does: from a fresh cache entry of the token's account where
/// one exists (unless `fresh`), else from Google, every request in one wave with tokeninfo
/// (tokeninfo goes first only when entries for these plans exist, since whose they are depends
/// on the account). Complete answers are cached; errors never are. The reusable heart of the
/// terminal build (a Python binding calls this with its own token and store).
pub async fn check_plans<T: Transport, S: Store>(
    plans: Vec<Plan>,
    token: &str,
    transport: &T,
    store: Option<&S>,
    fresh: bool,
    now_ms: &dyn Fn() -> u64,
) -> Result<Checked, String> {
    let now = now_ms();
    // A token seen before names its account through the memo (a keyed hash, never the token);
    // when every plan then has a fresh entry of that account, nothing is sent at all.
    if let Some(store) = store.filter(|_| !fresh) {
        if let Some(hit) = idmemo::lookup(store, token, now) {
            let entries: Option<Vec<CacheEntry>> = plans
                .iter()
                .map(|plan| {
                    match cache::lookup(store, &CacheKey::new(&hit.account_id, plan), now) {
                        Lookup::Fresh(entry) => Some(*entry),
                        Lookup::Miss => None,
                    }
                })
                .collect();
            if let Some(entries) = entries {
                return Ok(Checked {
                    identity: Identity {
                        account_id: Some(hit.account_id),
                        email: None,
                        expires_at_ms: Some(hit.token_expires_at_ms),
                        scopes: Vec::new(),
                        client_id: None,
                        source: IdentitySource::Tokeninfo,
                    },
                    answers: plans
                        .into_iter()
                        .zip(entries)
                        .map(|(plan, entry)| Answer {
                            plan,
                            findings: entry.findings.to_findings(),
                            cached_at_ms: Some(entry.checked_at_ms),
                        })
                        .collect(),
                    checked_at_ms: now,
                    now_ms: now,
                    identity_remembered: true,
                });
            }
        }
    }
    // Whose a cached answer is depends on the account: ask tokeninfo first only when entries
    // for this project and these plans exist; otherwise send the check alongside it (one wave).
    let may_be_cached = !fresh
        && store.is_some_and(|store| plans.iter().all(|plan| cache::may_answer(store, plan)));
    let (identity, speculative) = if may_be_cached {
        (check::lookup_identity(transport, token, now).await, None)
    } else {
        let (identity, findings) = futures::join!(
            check::lookup_identity(transport, token, now),
            join_all(
                plans
                    .iter()
                    .map(|plan| check::run(transport, plan, token, TokenScope::Full))
            )
        );
        (identity, Some(findings))
    };
    let identity = match identity {
        Ok(id) => id,
        Err(e) => return Err(format!("tokeninfo could not say whose the token is: {e}")),
    };
    if let (Some(store), IdentitySource::Tokeninfo, Some(account), Some(expires)) = (
        store,
        identity.source,
        &identity.account_id,
        identity.expires_at_ms,
    ) {
        idmemo::remember(store, token, account, expires, now);
    }
    let scope = if identity.can_call_iam() {
        TokenScope::Full
    } else {
        TokenScope::ReadOnly
    };
    // Per plan: the speculative answer (unless the token turned out read-only), else a fresh
    // cache entry, else a check now.
    let mut answers: Vec<(Option<Findings>, Option<u64>)> = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        let speculated = speculative
            .as_ref()
            .filter(|_| scope == TokenScope::Full)
            .map(|all| all[i].clone());
        let cached = match (&speculated, store, &identity.account_id) {
            (None, Some(store), Some(account)) if !fresh => {
                match cache::lookup(store, &CacheKey::new(account, plan), now) {
                    Lookup::Fresh(entry) => Some(entry),
                    Lookup::Miss => None,
                }
            }
            _ => None,
        };
        answers.push(match cached {
            Some(entry) => (
                Some(entry.findings.to_findings()),
                Some(entry.checked_at_ms),
            ),
            None => (speculated, None),
        });
    }
    let missing = join_all(
        plans
            .iter()
            .zip(&answers)
            .filter(|(_, (findings, _))| findings.is_none())
            .map(|(plan, _)| check::run(transport, plan, token, scope)),
    )
    .await;
    let mut missing = missing.into_iter();
    let checked_now = now_ms();
    let mut results: Vec<Answer> = Vec::new();
    for (plan, (findings, cached_at)) in plans.into_iter().zip(answers) {
        let findings = match findings {
            Some(f) => f,
            None => missing.next().unwrap_or_default(),
        };
        if cached_at.is_none() {
            if let (Some(store), Some(account)) = (store, &identity.account_id) {
                let key = CacheKey::new(account, &plan);
                if let Some(entry) = CacheEntry::new(&key, &findings, checked_now, DEFAULT_TTL_MS) {
                    // A cache that cannot be written costs only the next check's time.
                    let _ = cache::save(store, &key, &entry, checked_now);
                }
            }
        }
        results.push(Answer {
            plan,
            findings,
            cached_at_ms: cached_at,
        });
    }
    Ok(Checked {
        identity,
        answers: results,
        checked_at_ms: checked_now,
        now_ms: now,
        identity_remembered: false,
    })
}

/// `--link`: the hosted app's address with the question's fragment (`#q1=…`), printed without
/// asking for a token or sending anything. The payload goes raw ([`share::RAW`]): no deflate
/// crate is in this build, and the browser reads both packings.
fn link_command(args: &CheckArgs, plan: Plan, buckets_named: usize) -> Outcome {
    let Some(text) = args.app_url.as_deref() else {
        return Outcome::error(format!(
            "--link needs the hosted app's address: pass --app-url URL or set {APP_URL_ENV}."
        ));
    };
    let base = match app_base_url(text) {
        Ok(base) => base,
        Err(e) => return Outcome::error(format!("--app-url / {APP_URL_ENV}: {e}")),
    };
    let question = SharedQuestion::from_plan(&plan);
    let payload = match share::question_payload(&question) {
        Ok(p) => p,
        Err(e) => return Outcome::error(format!("no link was made: {e}")),
    };
    let mut stderr = String::new();
    if buckets_named > 1 && args.bucket.is_none() {
        let _ = writeln!(
            stderr,
            "gcp-preflight: the link asks about the first bucket only ({}); `check` without --link probes the other {} too.",
            plan.bucket.as_ref().map_or("", |b| b.as_str()),
            buckets_named - 1
        );
    }
    Outcome {
        code: EXIT_READY,
        stdout: format!(
            "{base}{}\n",
            share::fragment(share::Kind::Question, share::RAW, &payload)
        ),
        stderr,
    }
}

/// Checks the hosted app's address for `--link`: `https://HOST…`, or `http://` on `localhost`
/// or `127.0.0.1` (a local `trunk serve`); no user name, no fragment (the link's own goes
/// there), nothing but printable ASCII. Returns it as given.
pub fn app_base_url(text: &str) -> Result<&str, String> {
    if text.is_empty() {
        return Err(
            "empty; give the app's address, e.g. https://example.com/gcp-preflight/".into(),
        );
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{text:?} is not a plain address (spaces or other characters)."
        ));
    }
    if text.contains('#') {
        return Err(format!(
            "{text:?} has a fragment (#…); give the address without it: the link's question goes there."
        ));
    }
    let lowered = text.to_ascii_lowercase();
    let (secure, rest) = if let Some(rest) = lowered.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lowered.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err(format!("{text:?} is not an https:// address."));
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(format!(
            "{text:?} has a user name (…@); give the bare address."
        ));
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    };
    if host.is_empty() {
        return Err(format!("{text:?} has no host."));
    }
    if !secure && !matches!(host, "localhost" | "127.0.0.1") {
        return Err(format!(
            "{text:?} is plain http: only https:// is accepted, or http:// on localhost or 127.0.0.1."
        ));
    }
    Ok(text)
}

/// The object-access verdict on one more bucket the files name.
struct BucketOutcome<'a> {
    bucket: &'a str,
    origin: &'a str,
    storage: Option<Verdict>,
}

/// The exit code for a set of verdicts.
pub fn exit_code(vs: &[Verdict]) -> i32 {
    if vs.iter().any(|v| v.status == Status::NotReady) {
        EXIT_NOT_READY
    } else if vs.iter().all(|v| v.status == Status::Ready) {
        EXIT_READY
    } else {
        EXIT_UNKNOWN
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    args: &CheckArgs,
    plan: &Plan,
    findings: &Findings,
    identity: &Identity,
    identity_remembered: bool,
    header: String,
    buckets: &[BucketOutcome<'_>],
    checked_at: u64,
    cached_at: Option<u64>,
    now: u64,
) -> Outcome {
    let roles = RoleIndex::from_json(ROLE_DATA).ok();
    let mut report = report::build(plan, findings, identity.email.as_deref(), checked_at);
    if let Some(index) = &roles {
        report = report.with_advice(plan, index);
    }
    let mut all: Vec<Verdict> = report.verdicts.clone();
    all.extend(buckets.iter().filter_map(|b| b.storage.clone()));
    let code = exit_code(&all);
    let mut bucket_lines = String::new();
    if !buckets.is_empty() {
        let _ = writeln!(
            bucket_lines,
            "\nOther buckets the files name (object access, tested on each bucket):"
        );
        for b in buckets {
            let status = b.storage.as_ref().map_or("Unknown", |v| v.status.label());
            let _ = writeln!(
                bucket_lines,
                "  {:<30} {status}  (from {})",
                b.bucket, b.origin
            );
            if let Some(v) = &b.storage {
                if !v.missing.is_empty() {
                    let names: Vec<&str> = v.missing.iter().map(|p| p.as_str()).collect();
                    let _ = writeln!(bucket_lines, "    missing: {}", names.join(", "));
                }
                for r in &v.unknown_reasons {
                    let _ = writeln!(bucket_lines, "    unknown: {r}");
                }
            }
        }
    }
    let stdout = if args.json {
        let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
        text.push('\n');
        text
    } else if args.markdown {
        report.to_markdown()
    } else {
        let mut out = header;
        let who = match (&identity.email, identity_remembered) {
            (Some(email), _) => email.clone(),
            (None, true) => "this token's account (remembered from its last check)".into(),
            (None, false) => "an account without the email scope".into(),
        };
        let when = match cached_at {
            Some(at) => format!(
                "cached result, {}; --fresh asks Google again",
                cache::describe_age(now.saturating_sub(at) / 60_000)
            ),
            None => "checked just now".into(),
        };
        let _ = writeln!(out, "Project {} as {who} ({when})\n", plan.project.as_str());
        table(&mut out, &report.verdicts);
        out.push_str(&bucket_lines);
        for error in findings.described_errors(plan) {
            let _ = writeln!(out, "Error: {error}");
        }
        for advice in &report.advice {
            let _ = writeln!(
                out,
                "\nFix for {}:\n{}",
                advice.topic.title(),
                advice.advice.script()
            );
        }
        let _ = writeln!(
            out,
            "\n{}",
            match code {
                EXIT_READY => "Ready: the job has what it needs.",
                EXIT_NOT_READY => "Not ready: see what is missing above.",
                _ =>
                    "Unknown: some answers are missing (see the errors above); nothing was cached.",
            }
        );
        out
    };
    // The JSON (or Markdown) is the one report of the main plan; the other buckets are said on
    // stderr.
    let stderr = if args.json || args.markdown {
        bucket_lines.trim_start().to_owned()
    } else {
        String::new()
    };
    Outcome {
        code,
        stdout,
        stderr,
    }
}

/// What the files set, with their sources, and what was ignored.
fn describe_files(sky: &SkyFiles, out: &mut String) {
    if sky.derivations.is_empty() && sky.ignored.is_empty() && sky.notes.is_empty() {
        return;
    }
    let _ = writeln!(out, "From your SkyPilot files:");
    for d in &sky.derivations {
        let _ = writeln!(
            out,
            "  {:<20} {:<40} from {}",
            d.setting.label(),
            d.value,
            d.origin
        );
    }
    match &sky.target {
        Some(GcpTarget::Pinned(origin)) => {
            let _ = writeln!(out, "  {:<20} {:<40} from {origin}", "Runs on", "GCP");
        }
        Some(GcpTarget::Possible) => {
            let _ = writeln!(
                out,
                "  {:<20} GCP among others (no cloud pinned)",
                "Runs on"
            );
        }
        _ => {}
    }
    for note in &sky.notes {
        let _ = writeln!(out, "  Note: {note}");
    }
    if !sky.ignored.is_empty() {
        let keys: Vec<String> = sky.ignored.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "  Ignored (no effect on GCP permissions): {}",
            keys.join(", ")
        );
    }
    out.push('\n');
}

/// One line per verdict, then what blocks it.
fn table(out: &mut String, vs: &[Verdict]) {
    let _ = writeln!(out, "{:<16} STATUS", "VERDICT");
    for v in vs {
        let _ = writeln!(out, "{:<16} {}", v.topic.title(), v.status.label());
        let names = |list: &[crate::core::permission::Permission]| {
            list.iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !v.missing.is_empty() {
            let _ = writeln!(out, "  missing: {}", names(&v.missing));
        }
        if !v.not_valid.is_empty() {
            let _ = writeln!(out, "  not valid on a project: {}", names(&v.not_valid));
        }
        if !v.apis_off.is_empty() {
            let _ = writeln!(out, "  APIs off: {}", v.apis_off.join(", "));
        }
        for b in &v.blockers {
            let _ = writeln!(out, "  blocks: {b}");
        }
        for r in &v.unknown_reasons {
            let _ = writeln!(out, "  unknown: {r}");
        }
        for n in &v.notes {
            let _ = writeln!(out, "  note: {n}");
        }
    }
}

/// Runs the command with the real world: environment, files, HTTPS, the user's cache directory.
/// Prints and returns the exit code.
pub fn main() -> i32 {
    main_with_args(std::env::args().collect())
}

/// [`main`] with the arguments given (program name first), for front ends whose process
/// arguments are not the command's (the Python console script runs in `python`).
pub fn main_with_args(args: Vec<String>) -> i32 {
    use super::{cache::FileStore, token, transport};
    let var = |name: &str| std::env::var(name).ok();
    let outcome = (|| {
        let endpoint = transport::Endpoint::from_env(var, |p| std::fs::read(p))?;
        let transport = transport::NativeTransport::new(&endpoint)?;
        let store = super::cache::default_dir(var).and_then(|dir| FileStore::open(&dir).ok());
        let env_token = var(token::TOKEN_ENV);
        let get_token = |cmd: Option<&str>| {
            let source = token::TokenSource::choose(cmd, env_token.as_deref());
            token::obtain(&source, env_token.as_deref())
        };
        let home_config = etcetera::home_dir()
            .ok()
            .map(|home| home.join(".sky").join("config.yaml"))
            .filter(|p| p.is_file());
        let env = Env {
            transport: &transport,
            store: store.as_ref(),
            token: &get_token,
            read_file: &|p| std::fs::read_to_string(p),
            default_sky_config: home_config,
            now_ms: &now_ms,
        };
        Ok::<Outcome, String>(run(&args, &env))
    })()
    .unwrap_or_else(Outcome::error);
    use std::io::Write;
    let _ = std::io::stdout().write_all(outcome.stdout.as_bytes());
    let _ = std::io::stderr().write_all(outcome.stderr.as_bytes());
    outcome.code
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
