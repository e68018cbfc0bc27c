//! Checking many projects with one plan ("Check all"): a scheduler that keeps a bound on the
//! projects in flight and on each API host's requests per minute, reuses fresh cached rows, backs
//! off when Google says 429 without losing the row, and stops starting work when cancelled; and
//! the matrix it fills (one row per project, counts of missing permissions per topic), sorted,
//! filtered and exported as CSV or JSON.
//!
//! Input is a list of project IDs, whatever produced it (pasted, recent, or a picker's listing).

use super::check::{self, Findings, TokenScope};
use super::google_error::ErrorKind;
use super::http::Transport;
use super::plan::Plan;
use super::verdict::{verdicts, Status, Topic};
use super::warmup;
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};

/// How hard a sweep may push Google.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Projects checked at once (each sends its whole plan in one wave). 50 makes a 50-project
    /// sweep one wave (two round trips with the preflights) and stays inside the quotas: 50
    /// projects send 100 Resource Manager requests, against 600 reads a minute (GCP-API.md §1.7),
    /// and `per_minute_per_host` still paces anything larger.
    pub projects_at_once: usize,
    /// Requests per minute to any one API host. Resource Manager allows 600 read requests a
    /// minute per consumer project (GCP-API.md §1.7), and a gcloud token's consumer is shared:
    /// a sweep keeps well inside that.
    pub per_minute_per_host: usize,
    /// How many times a project that is still rate-limited after the check's own retries is
    /// checked again, after a pause that doubles each time.
    pub rate_limit_rounds: u32,
    /// The first such pause; every project waits it out (the whole sweep backs off).
    pub first_pause_ms: u32,
}

/// The limits the app uses.
pub const DEFAULT_LIMITS: Limits = Limits {
    projects_at_once: 50,
    per_minute_per_host: 400,
    rate_limit_rounds: 2,
    first_pause_ms: 2_000,
};

/// Requests one check of `plan` sends with `scope`, by API host (no retries, one page of the
/// service list): one per URL the warm-up plans, plus the further project batches.
pub fn requests_by_host(plan: &Plan, scope: TokenScope) -> BTreeMap<String, usize> {
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for request in warmup::requests(plan, "", scope) {
        let host = request
            .url
            .strip_prefix("https://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default()
            .to_owned();
        *out.entry(host).or_default() += 1;
    }
    let more_batches = plan.batches().len().saturating_sub(1);
    if more_batches > 0 {
        *out.entry("cloudresourcemanager.googleapis.com".into())
            .or_default() += more_batches;
    }
    out
}

/// What a sweep will cost, said before it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// Projects in the sweep.
    pub projects: usize,
    /// Of those, answered from the cache (no request).
    pub cached: usize,
    /// Requests the others will send (no retries, no preflights).
    pub requests: usize,
    /// The host that gets the most of them, and how many.
    pub busiest_host: Option<(String, usize)>,
    /// The least whole minutes the per-host bound stretches the sweep over (1 = no pacing).
    pub minutes: usize,
}

impl Estimate {
    /// One sentence for the page.
    pub fn sentence(&self) -> String {
        let mut text = format!(
            "{} project{}: {} from the cache, {} to check with {} request{}",
            self.projects,
            if self.projects == 1 { "" } else { "s" },
            self.cached,
            self.projects - self.cached,
            self.requests,
            if self.requests == 1 { "" } else { "s" },
        );
        if let Some((host, n)) = &self.busiest_host {
            text.push_str(&format!(" (at most {n} to {host})"));
        }
        if self.minutes > 1 {
            text.push_str(&format!(
                "; paced over about {} minutes to stay inside Google's per-minute quotas",
                self.minutes
            ));
        }
        text.push('.');
        text
    }
}

/// Estimates a sweep of `plans`, where `cached[i]` says plan `i` has a fresh cached answer.
pub fn estimate(plans: &[Plan], cached: &[bool], scope: TokenScope, limits: &Limits) -> Estimate {
    let mut by_host: BTreeMap<String, usize> = BTreeMap::new();
    for (i, plan) in plans.iter().enumerate() {
        if cached.get(i).copied().unwrap_or(false) {
            continue;
        }
        for (host, n) in requests_by_host(plan, scope) {
            *by_host.entry(host).or_default() += n;
        }
    }
    let busiest_host = by_host
        .iter()
        // Ties go to the first host by name, so the sentence is stable.
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(h, n)| (h.clone(), *n));
    let per_minute = limits.per_minute_per_host.max(1);
    Estimate {
        projects: plans.len(),
        cached: cached.iter().filter(|c| **c).count(),
        requests: by_host.values().sum(),
        minutes: busiest_host
            .as_ref()
            .map_or(1, |(_, n)| n.div_ceil(per_minute).max(1)),
        busiest_host,
    }
}

/// What happened to one row of a sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Row `index`'s requests are out.
    Started(usize),
    /// Google rate-limited row `index`: the sweep pauses until `until_ms`, then checks it again.
    Waiting {
        /// The row.
        index: usize,
        /// When it is tried again (the sweep's clock).
        until_ms: u64,
    },
    /// Row `index` has its answer (which may hold request errors: a failed project is a row
    /// like any other, never dropped).
    Finished {
        /// The row.
        index: usize,
        /// What its check found (boxed: large).
        findings: Box<Findings>,
        /// When it was checked.
        checked_at_ms: u64,
        /// Answered from the cache, without a request.
        from_cache: bool,
    },
    /// The sweep was cancelled before row `index` got its answer.
    Cancelled(usize),
}

/// Whether `findings` holds a rate-limit error (after the check's own retries).
fn rate_limited(findings: &Findings) -> bool {
    findings
        .errors()
        .iter()
        .any(|e| e.kind() == Some(&ErrorKind::RateLimited))
}

/// What the sweep needs from its surroundings.
pub struct Context<'a> {
    /// The fresh cached answer to a plan, with when it was checked.
    pub cached: &'a dyn Fn(&Plan) -> Option<(Findings, u64)>,
    /// Whether the user has cancelled.
    pub cancelled: &'a dyn Fn() -> bool,
    /// The clock, in ms.
    pub now_ms: &'a dyn Fn() -> u64,
}

/// Checks every plan with `token`, at most `limits.projects_at_once` at a time and at most
/// `limits.per_minute_per_host` requests a minute to any host, reporting each row's progress
/// through `on_event`. Every row ends with `Finished` or `Cancelled`.
pub async fn run<T: Transport>(
    transport: &T,
    plans: &[Plan],
    token: &str,
    scope: TokenScope,
    limits: &Limits,
    context: &Context<'_>,
    on_event: &mut dyn FnMut(Event),
) {
    let events = RefCell::new(on_event);
    let emit = |event: Event| (events.borrow_mut())(event);
    // Fresh cached rows first: they cost nothing and show at once.
    let mut queue: VecDeque<usize> = VecDeque::new();
    for (index, plan) in plans.iter().enumerate() {
        match (context.cached)(plan) {
            Some((findings, checked_at_ms)) => emit(Event::Finished {
                index,
                findings: Box::new(findings),
                checked_at_ms,
                from_cache: true,
            }),
            None => queue.push_back(index),
        }
    }
    let queue = RefCell::new(queue);
    // (when, host, requests) of every check started within the last minute.
    let window: RefCell<Vec<(u64, String, usize)>> = RefCell::default();
    let paused_until = Cell::new(0u64);
    let per_minute = limits.per_minute_per_host.max(1);
    let worker = || async {
        loop {
            if (context.cancelled)() {
                return;
            }
            let Some(index) = queue.borrow_mut().pop_front() else {
                return;
            };
            let plan = &plans[index];
            let need = requests_by_host(plan, scope);
            let mut rounds_left = limits.rate_limit_rounds;
            let mut pause = limits.first_pause_ms;
            let findings = loop {
                // Wait for the sweep-wide pause and for room in every host's minute.
                loop {
                    let now = (context.now_ms)();
                    window.borrow_mut().retain(|(at, _, _)| at + 60_000 > now);
                    let wait_pause = paused_until.get().saturating_sub(now);
                    let wait_room = need
                        .iter()
                        .filter_map(|(host, n)| {
                            let window = window.borrow();
                            let used: usize = window
                                .iter()
                                .filter(|(_, h, _)| h == host)
                                .map(|(_, _, k)| k)
                                .sum();
                            // A single check larger than the budget still goes, alone.
                            (used > 0 && used + n > per_minute).then(|| {
                                window
                                    .iter()
                                    .filter(|(_, h, _)| h == host)
                                    .map(|(at, _, _)| at + 60_000 - now)
                                    .min()
                                    .unwrap_or(0)
                            })
                        })
                        .max()
                        .unwrap_or(0);
                    let wait = wait_pause.max(wait_room);
                    if wait == 0 {
                        break;
                    }
                    transport.sleep(wait.min(u64::from(u32::MAX)) as u32).await;
                    if (context.cancelled)() {
                        emit(Event::Cancelled(index));
                        return;
                    }
                }
                let now = (context.now_ms)();
                window
                    .borrow_mut()
                    .extend(need.iter().map(|(h, n)| (now, h.clone(), *n)));
                emit(Event::Started(index));
                let findings = check::run(transport, plan, token, scope).await;
                if (context.cancelled)() {
                    emit(Event::Cancelled(index));
                    return;
                }
                if rounds_left == 0 || !rate_limited(&findings) {
                    break findings;
                }
                rounds_left -= 1;
                let until = (context.now_ms)() + u64::from(pause);
                paused_until.set(paused_until.get().max(until));
                pause = pause.saturating_mul(2);
                emit(Event::Waiting {
                    index,
                    until_ms: until,
                });
            };
            emit(Event::Finished {
                index,
                findings: Box::new(findings),
                checked_at_ms: (context.now_ms)(),
                from_cache: false,
            });
        }
    };
    let workers = (0..limits.projects_at_once.max(1)).map(|_| worker());
    futures::future::join_all(workers).await;
    // Whatever was never started is cancelled.
    for index in queue.borrow_mut().drain(..) {
        emit(Event::Cancelled(index));
    }
}

/// One cell of the matrix: a topic's verdict and how many permissions it misses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixCell {
    /// `ready`, `not_ready` or `unknown`.
    pub status: Status,
    /// Permissions missing for it.
    pub missing: usize,
    /// APIs that are off and block it.
    pub apis_off: usize,
}

/// One project's row of the matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MatrixRow {
    /// The project.
    pub project: String,
    /// Compute, Storage, Managed jobs, First launch (and Custom), when planned.
    pub cells: BTreeMap<&'static str, MatrixCell>,
    /// The first request error, said with where it happened (why a cell is Unknown).
    pub problem: Option<String>,
    /// When it was checked (ms since the epoch).
    pub checked_at_ms: u64,
    /// Answered from the cache.
    pub from_cache: bool,
}

/// The matrix columns, in order, by [`Topic::slug`].
pub const COLUMNS: [Topic; 5] = [
    Topic::Compute,
    Topic::Storage,
    Topic::ManagedJobs,
    Topic::FirstLaunch,
    Topic::Custom,
];

/// The row for a finished check.
pub fn matrix_row(
    plan: &Plan,
    findings: &Findings,
    checked_at_ms: u64,
    from_cache: bool,
) -> MatrixRow {
    // Inserted one by one: `collect` into a BTreeMap sorts first, and that sort routine would be
    // one more in the wasm for a map of at most five cells.
    let mut cells = BTreeMap::new();
    for v in verdicts(plan, findings) {
        let cell = MatrixCell {
            status: v.status,
            missing: v.missing.len() + v.not_valid.len(),
            apis_off: v.apis_off.len(),
        };
        cells.insert(v.topic.slug(), cell);
    }
    MatrixRow {
        project: plan.project.as_str().to_owned(),
        cells,
        problem: findings.described_errors(plan).into_iter().next(),
        checked_at_ms,
        from_cache,
    }
}

/// What a cell says, in a few words: `Ready`, `3 missing`, `API off`, `Unknown`.
pub fn cell_text(cell: &MatrixCell) -> String {
    match cell.status {
        Status::Ready => "Ready".into(),
        Status::Unknown => "Unknown".into(),
        Status::NotReady => match (cell.missing, cell.apis_off) {
            (0, 0) => "Not ready".into(),
            (0, _) => "API off".into(),
            (n, 0) => format!("{n} missing"),
            (n, _) => format!("{n} missing, API off"),
        },
    }
}

/// How the matrix is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    /// By project ID.
    Project,
    /// By a topic: the worst first (Unknown, then Not ready by most missing, then Ready).
    Topic(Topic),
}

fn badness(cell: Option<&MatrixCell>) -> (u8, usize) {
    match cell {
        None => (0, 0),
        Some(c) => match c.status {
            Status::Ready => (1, 0),
            Status::NotReady => (2, c.missing + c.apis_off),
            Status::Unknown => (3, 0),
        },
    }
}

/// Sorts `rows` by `by` (ties by project).
pub fn sort_rows(rows: &mut [MatrixRow], by: SortBy) {
    // One comparator, so one sort routine in the wasm. Every order ends at the project ID, which
    // is unique in a sweep (the list is deduplicated), so an unstable sort gives the stable order.
    rows.sort_unstable_by(|a, b| {
        let by_topic = match by {
            SortBy::Project => std::cmp::Ordering::Equal,
            SortBy::Topic(topic) => {
                badness(b.cells.get(topic.slug())).cmp(&badness(a.cells.get(topic.slug())))
            }
        };
        by_topic.then_with(|| a.project.cmp(&b.project))
    });
}

/// Which rows to show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Filter {
    /// Every row.
    #[default]
    All,
    /// Rows where every planned topic is Ready.
    Ready,
    /// Rows with a Not ready or Unknown topic.
    NotReady,
    /// Rows with a request error.
    Failed,
}

/// Whether `row` passes `filter` (and contains `text` in its project ID, when not empty).
pub fn keeps(row: &MatrixRow, filter: Filter, text: &str) -> bool {
    let all_ready = row.cells.values().all(|c| c.status == Status::Ready);
    let by_state = match filter {
        Filter::All => true,
        Filter::Ready => all_ready,
        Filter::NotReady => !all_ready,
        Filter::Failed => row.problem.is_some(),
    };
    by_state && row.project.contains(text.trim())
}

fn csv_field(text: &str) -> String {
    // Quote every field; a leading =, +, - or @ is defused for spreadsheets.
    let defused = match text.chars().next() {
        Some('=' | '+' | '-' | '@') => format!("'{text}"),
        _ => text.to_owned(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

/// The matrix as CSV: a header row, then one row per project.
pub fn to_csv(rows: &[MatrixRow]) -> String {
    let mut out = String::from("project");
    for topic in COLUMNS {
        out.push(',');
        out.push_str(&csv_field(&format!("{} status", topic.title())));
        out.push(',');
        out.push_str(&csv_field(&format!("{} missing", topic.title())));
    }
    out.push_str(",problem\n");
    for row in rows {
        out.push_str(&csv_field(&row.project));
        for topic in COLUMNS {
            let (status, missing) = match row.cells.get(topic.slug()) {
                Some(cell) => (cell_text(cell), cell.missing.to_string()),
                None => (String::new(), String::new()),
            };
            out.push(',');
            out.push_str(&csv_field(&status));
            out.push(',');
            out.push_str(&csv_field(&missing));
        }
        out.push(',');
        out.push_str(&csv_field(row.problem.as_deref().unwrap_or("")));
        out.push('\n');
    }
    out
}

/// The matrix as JSON (`gcp-preflight.sweep/v1`); never a token.
pub fn to_json(rows: &[MatrixRow]) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        schema: &'static str,
        rows: &'a [MatrixRow],
    }
    super::json::to_string_pretty(&Out {
        schema: "gcp-preflight.sweep/v1",
        rows,
    })
    .unwrap_or_default()
}

/// The projects `account` has cached results for (its recent projects), sorted, once each,
/// read from the cache's keys (`gcp-preflight/v1/<account>/<project>/<fingerprint>`).
pub fn recent_projects(keys: &[String], account: &str) -> Vec<String> {
    let prefix = format!("{}{account}/", super::cache::KEY_PREFIX);
    let mut out: Vec<String> = keys
        .iter()
        .filter_map(|k| k.strip_prefix(&prefix)?.split('/').next())
        .filter(|p| super::names::ProjectId::parse(p).is_ok())
        .map(str::to_owned)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Project IDs in `text` (one per line, or separated by spaces, commas or semicolons), once
/// each in the order given, and the words that are not project IDs (each with why).
pub fn parse_projects(text: &str) -> (Vec<super::names::ProjectId>, Vec<String>) {
    let mut ids: Vec<super::names::ProjectId> = Vec::new();
    let mut refused = Vec::new();
    for word in text
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|w| !w.is_empty())
    {
        match super::names::ProjectId::parse(word) {
            Ok(id) if !ids.contains(&id) => ids.push(id),
            Ok(_) => {}
            Err(error) => refused.push(format!("{word}: {error}")),
        }
    }
    (ids, refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::demo::{demo_world, Account, Grants, Project, SimulatedGoogle, World};
    use crate::core::demo::{every_catalog_permission, DEMO_TOKEN_ALICE};
    use crate::core::names::ProjectId;
    use crate::core::plan::PlanInput;
    use crate::core::rounds::Rounds;
    use std::collections::BTreeSet;
    use std::rc::Rc;

    const ALICE: &str = "100000000000000000001";

    /// `n` projects `sweep-NN` where Alice holds everything, every API on.
    fn world(n: usize) -> World {
        let mut world = demo_world();
        let all = every_catalog_permission();
        let apis: BTreeSet<String> = ["compute", "cloudresourcemanager", "iam", "storage"]
            .iter()
            .map(|s| format!("{s}.googleapis.com"))
            .collect();
        world.accounts = vec![Account::new(DEMO_TOKEN_ALICE, ALICE, "alice@example.com")];
        world.projects = (0..n)
            .map(|i| Project {
                id: format!("sweep-{i:02}"),
                number: format!("3000000000{i:02}"),
                grants: Grants::from([(ALICE.to_string(), all.clone())]),
                enabled: apis.clone(),
                billing: true,
                networks: vec!["default".into()],
                ..Project::default()
            })
            .collect();
        world
    }

    fn plans(n: usize) -> Vec<Plan> {
        (0..n)
            .map(|i| {
                let id = ProjectId::parse(&format!("sweep-{i:02}")).unwrap();
                Plan::build(id, &PlanInput::default())
            })
            .collect()
    }

    struct Outcome {
        events: Vec<Event>,
        rounds: usize,
        widest: usize,
        sent: usize,
        finished_at_ms: u64,
    }

    fn sweep_with(
        google: Rc<SimulatedGoogle>,
        plans: &[Plan],
        limits: &Limits,
        cached: &dyn Fn(&Plan) -> Option<(Findings, u64)>,
        cancel_after_rounds: Option<usize>,
    ) -> Outcome {
        let rounds = Rc::new(Rounds::new(move |r| google.answer(r)));
        let clock = rounds.clone();
        let counter = rounds.clone();
        let now = move || clock.now_ms();
        let cancelled = move || cancel_after_rounds.is_some_and(|n| counter.rounds.get() >= n);
        let context = Context {
            cached,
            cancelled: &cancelled,
            now_ms: &now,
        };
        let mut events = Vec::new();
        rounds.drive(run(
            &*rounds,
            plans,
            DEMO_TOKEN_ALICE,
            TokenScope::Full,
            limits,
            &context,
            &mut |e| events.push(e),
        ));
        let sent = rounds.sent.borrow().len();
        Outcome {
            events,
            rounds: rounds.rounds.get(),
            widest: rounds.widest_round.get(),
            sent,
            finished_at_ms: rounds.now_ms(),
        }
    }

    fn finished(events: &[Event]) -> BTreeMap<usize, (&Findings, bool)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Finished {
                    index,
                    findings,
                    from_cache,
                    ..
                } => Some((*index, (&**findings, *from_cache))),
                _ => None,
            })
            .collect()
    }

    fn no_cache(_: &Plan) -> Option<(Findings, u64)> {
        None
    }

    #[test]
    fn fifty_projects_keep_the_bound_and_finish_in_a_few_round_trips() {
        let google = Rc::new(SimulatedGoogle::new(world(50)));
        let plans = plans(50);
        let per_check: usize = requests_by_host(&plans[0], TokenScope::Full).values().sum();
        let out = sweep_with(google, &plans, &DEFAULT_LIMITS, &no_cache, None);
        let done = finished(&out.events);
        assert_eq!(done.len(), 50, "every row answered");
        assert!(done.values().all(|(f, _)| f.is_complete()));
        assert_eq!(out.sent, 50 * per_check, "the estimate is what is sent");
        // At most 50 projects' requests in one round: 50 projects are one wave.
        let at_once = DEFAULT_LIMITS.projects_at_once;
        assert_eq!(at_once, 50);
        assert_eq!(
            out.widest,
            at_once * per_check,
            "{} in one round",
            out.widest
        );
        assert_eq!(
            out.rounds,
            50usize.div_ceil(at_once),
            "one wave of 50 projects"
        );
    }

    #[test]
    fn the_estimate_matches_what_the_sweep_sends() {
        let plans = plans(50);
        let est = estimate(&plans, &[false; 50], TokenScope::Full, &DEFAULT_LIMITS);
        assert_eq!(est.requests, 50 * 7);
        assert_eq!(est.minutes, 1);
        assert!(est
            .sentence()
            .starts_with("50 projects: 0 from the cache, 50 to check with 350 requests"));
        let tight = Limits {
            per_minute_per_host: 40,
            ..DEFAULT_LIMITS
        };
        let est = estimate(&plans, &[false; 50], TokenScope::Full, &tight);
        // 100 Resource Manager requests (a batch and the IAM policy each) at 40 a minute.
        assert_eq!(
            est.busiest_host,
            Some(("cloudresourcemanager.googleapis.com".into(), 100))
        );
        assert_eq!(est.minutes, 3);
    }

    #[test]
    fn the_per_minute_bound_paces_a_large_sweep() {
        let google = Rc::new(SimulatedGoogle::new(world(30)));
        let plans = plans(30);
        let limits = Limits {
            per_minute_per_host: 20,
            ..DEFAULT_LIMITS
        };
        let out = sweep_with(google, &plans, &limits, &no_cache, None);
        assert_eq!(finished(&out.events).len(), 30);
        // 2 Resource Manager requests per project, 20 a minute: 10 projects a minute.
        assert!(
            out.finished_at_ms >= 2 * 60_000,
            "{} ms",
            out.finished_at_ms
        );
        assert!(out.widest <= 10 * 7);
    }

    #[test]
    fn fresh_cached_rows_are_reused_without_a_request() {
        let google = Rc::new(SimulatedGoogle::new(world(10)));
        let plans = plans(10);
        let cached =
            |plan: &Plan| (plan.project.as_str() < "sweep-05").then(|| (Findings::default(), 42));
        let out = sweep_with(google, &plans, &DEFAULT_LIMITS, &cached, None);
        let done = finished(&out.events);
        assert_eq!(done.len(), 10);
        assert_eq!(
            done.values().filter(|(_, from_cache)| *from_cache).count(),
            5
        );
        assert_eq!(out.sent, 5 * 7, "only the five others are checked");
        assert!(matches!(
            out.events[0],
            Event::Finished {
                from_cache: true,
                ..
            }
        ));
    }

    #[test]
    fn a_rate_limit_pauses_the_sweep_and_the_row_is_checked_again() {
        let google = Rc::new(SimulatedGoogle::new(world(4)));
        // Enough 429s to outlast the check's own retries (4 attempts each) for the first wave.
        google.rate_limit_next.set(4 * 7 * 4);
        let out = sweep_with(google, &plans(4), &DEFAULT_LIMITS, &no_cache, None);
        let done = finished(&out.events);
        assert_eq!(done.len(), 4, "no row lost");
        assert!(
            done.values().all(|(f, _)| f.is_complete()),
            "each answered in the end"
        );
        let waits = out
            .events
            .iter()
            .filter(|e| matches!(e, Event::Waiting { .. }))
            .count();
        assert!(waits >= 1, "{:?}", out.events);
        assert!(out.finished_at_ms >= u64::from(DEFAULT_LIMITS.first_pause_ms));
    }

    #[test]
    fn a_project_that_stays_rate_limited_is_a_row_with_its_error() {
        let google = Rc::new(SimulatedGoogle::new(world(3)));
        google.rate_limit_next.set(u32::MAX);
        let out = sweep_with(google, &plans(3), &DEFAULT_LIMITS, &no_cache, None);
        let done = finished(&out.events);
        assert_eq!(done.len(), 3);
        for (findings, _) in done.values() {
            assert!(rate_limited(findings));
        }
        let starts = out
            .events
            .iter()
            .filter(|e| matches!(e, Event::Started(_)))
            .count();
        assert_eq!(starts, 3 * (1 + DEFAULT_LIMITS.rate_limit_rounds as usize));
    }

    #[test]
    fn one_failing_project_never_hides_the_others() {
        let mut w = world(5);
        w.projects.remove(2); // sweep-02 is invisible: 403 everywhere
        let google = Rc::new(SimulatedGoogle::new(w));
        let plans = plans(5);
        let out = sweep_with(google, &plans, &DEFAULT_LIMITS, &no_cache, None);
        let done = finished(&out.events);
        assert_eq!(done.len(), 5);
        for (index, (findings, _)) in &done {
            let row = matrix_row(&plans[*index], findings, 0, false);
            if *index == 2 {
                assert!(row.problem.is_some());
                assert_eq!(row.cells["compute"].status, Status::Unknown);
            } else {
                assert_eq!(row.problem, None);
                assert!(
                    row.cells.values().all(|c| c.status == Status::Ready),
                    "{row:?}"
                );
            }
        }
    }

    #[test]
    fn cancel_stops_new_requests_and_ends_every_row() {
        let google = Rc::new(SimulatedGoogle::new(world(50)));
        let plans = plans(50);
        let limits = Limits {
            projects_at_once: 4,
            ..DEFAULT_LIMITS
        };
        let out = sweep_with(google, &plans, &limits, &no_cache, Some(2));
        assert_eq!(out.rounds, 2, "nothing sent after the cancel");
        assert_eq!(out.sent, 2 * 4 * 7);
        let cancelled = out
            .events
            .iter()
            .filter(|e| matches!(e, Event::Cancelled(_)))
            .count();
        let done = finished(&out.events).len();
        assert_eq!(done + cancelled, 50, "every row ends, once");
        assert_eq!(done, 4, "the first wave finished before the cancel");
    }

    #[test]
    fn matrix_counts_sorts_filters_and_exports() {
        let google = SimulatedGoogle::new(demo_world());
        let seed = Plan::build(
            ProjectId::parse(crate::core::demo::DEMO_PROJECT_SEED).unwrap(),
            &PlanInput::default(),
        );
        let f = futures::executor::block_on(check::run(
            &google,
            &seed,
            DEMO_TOKEN_ALICE,
            TokenScope::Full,
        ));
        let seed_row = matrix_row(&seed, &f, 1, false);
        assert_eq!(cell_text(&seed_row.cells["compute"]), "2 missing");
        assert_eq!(cell_text(&seed_row.cells["storage"]), "Ready");
        let gone = Plan::build(
            ProjectId::parse("gone-project").unwrap(),
            &PlanInput::default(),
        );
        let f = futures::executor::block_on(check::run(
            &google,
            &gone,
            DEMO_TOKEN_ALICE,
            TokenScope::Full,
        ));
        let gone_row = matrix_row(&gone, &f, 1, false);
        let mut rows = vec![seed_row.clone(), gone_row.clone()];
        sort_rows(&mut rows, SortBy::Project);
        assert_eq!(rows[0].project, "gone-project");
        sort_rows(&mut rows, SortBy::Topic(Topic::Storage));
        assert_eq!(rows[0].project, "gone-project", "Unknown before Ready");
        assert!(keeps(&gone_row, Filter::Failed, ""));
        assert!(!keeps(&seed_row, Filter::Failed, ""));
        assert!(keeps(&seed_row, Filter::NotReady, "seed"));
        assert!(!keeps(&seed_row, Filter::NotReady, "other"));
        let csv = to_csv(&rows);
        assert!(csv.starts_with("project,\"Compute status\",\"Compute missing\""));
        assert!(
            csv.contains("\"skypilot-seed-demo\",\"2 missing\",\"2\""),
            "{csv}"
        );
        assert_eq!(csv.lines().count(), 3);
        let json: serde_json::Value = serde_json::from_str(&to_json(&rows)).unwrap();
        assert_eq!(json["schema"], "gcp-preflight.sweep/v1");
        assert_eq!(json["rows"][1]["cells"]["compute"]["missing"], 2);
        assert!(!to_json(&rows).contains(DEMO_TOKEN_ALICE));
    }

    #[test]
    fn recent_projects_are_this_accounts_only() {
        let keys: Vec<String> = [
            "gcp-preflight/v1/111/proj-a1/fp1",
            "gcp-preflight/v1/111/proj-a1/fp2",
            "gcp-preflight/v1/111/proj-b2/fp1",
            "gcp-preflight/v1/222/proj-c3/fp1",
            "other/111/proj-d4/x",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(recent_projects(&keys, "111"), ["proj-a1", "proj-b2"]);
        assert!(recent_projects(&keys, "11").is_empty());
    }

    #[test]
    fn pasted_lists_are_split_deduplicated_and_bad_words_named() {
        let (ids, refused) = parse_projects("proj-a1, proj-b2\nproj-a1;  Bad_Id\n\n");
        let ids: Vec<&str> = ids.iter().map(|p| p.as_str()).collect();
        assert_eq!(ids, ["proj-a1", "proj-b2"]);
        assert_eq!(refused.len(), 1);
        assert!(refused[0].starts_with("Bad_Id: "));
    }

    #[test]
    fn csv_defuses_formulas() {
        assert_eq!(csv_field("=HYPERLINK(1)"), "\"'=HYPERLINK(1)\"");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
    }
}
