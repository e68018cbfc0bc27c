//! "Check all": many projects checked with the form's plan ([`crate::core::sweep`]), shown as a
//! matrix (Project × Compute / Storage / Managed jobs / First launch) that can be sorted,
//! filtered, exported, and opened row by row into the full result.
//!
//! The sweep's rows are this component's own state (a reducer of its own): they are a view of
//! many checks, and the app's reducer keeps the one result on display. The input is a list of
//! project IDs, so a picker's "all visible projects" can fill it later.

use crate::core::cache::{self, CacheEntry, CacheKey, Lookup, DEFAULT_TTL_MS};
use crate::core::check::{Findings, TokenScope};
use crate::core::plan::Plan;
use crate::core::sweep::{
    self, cell_text, keeps, matrix_row, sort_rows, Event, Filter, MatrixRow, SortBy, DEFAULT_LIMITS,
};
use crate::core::verdict::{Status, Topic};
use crate::gcp::{AppTransport, Cancellable};
use crate::storage::BrowserStore;
use crate::ui::now_ms;
use crate::ui::state::{Action, IdentityState, Run, State};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// Where one project stands.
#[derive(Clone, Debug, PartialEq)]
enum RowState {
    Queued,
    Running,
    Waiting,
    Done {
        findings: Rc<Findings>,
        row: Rc<MatrixRow>,
        from_cache: bool,
    },
    Cancelled,
}

#[derive(Clone, Debug, PartialEq)]
struct SweepRow {
    plan: Rc<Plan>,
    state: RowState,
}

/// The sweep's own state.
#[derive(Clone, Debug, PartialEq)]
struct SweepState {
    rows: Vec<SweepRow>,
    running: bool,
    /// The token generation the rows belong to.
    generation: u32,
    sort: SortBy,
    filter: Filter,
    text: String,
}

enum SweepAction {
    Start {
        plans: Vec<Rc<Plan>>,
        generation: u32,
    },
    Event(Event),
    Ended,
    Sort(SortBy),
    Filter(Filter),
    Text(String),
    Clear,
}

impl Reducible for SweepState {
    type Action = SweepAction;
    fn reduce(self: Rc<Self>, action: SweepAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SweepAction::Start { plans, generation } => {
                next.rows = plans
                    .into_iter()
                    .map(|plan| SweepRow {
                        plan,
                        state: RowState::Queued,
                    })
                    .collect();
                next.running = true;
                next.generation = generation;
            }
            SweepAction::Event(event) => {
                let (index, state) = match event {
                    Event::Started(i) => (i, RowState::Running),
                    Event::Waiting { index, .. } => (index, RowState::Waiting),
                    Event::Cancelled(i) => (i, RowState::Cancelled),
                    Event::Finished {
                        index,
                        findings,
                        checked_at_ms,
                        from_cache,
                    } => {
                        let Some(row) = next.rows.get(index) else {
                            return self;
                        };
                        let matrix = matrix_row(&row.plan, &findings, checked_at_ms, from_cache);
                        (
                            index,
                            RowState::Done {
                                findings: Rc::new(*findings),
                                row: Rc::new(matrix),
                                from_cache,
                            },
                        )
                    }
                };
                match next.rows.get_mut(index) {
                    Some(row) => row.state = state,
                    None => return self,
                }
            }
            SweepAction::Ended => next.running = false,
            SweepAction::Sort(by) => next.sort = by,
            SweepAction::Filter(filter) => next.filter = filter,
            SweepAction::Text(text) => next.text = text,
            SweepAction::Clear => {
                next.rows.clear();
                next.running = false;
            }
        }
        Rc::new(next)
    }
}

/// The memoized plans as a memo key: the same `Rc` is the same plans.
struct PlanListKey(Rc<Result<Vec<Plan>, String>>);

impl PartialEq for PlanListKey {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

fn account_of(state: &State) -> Option<String> {
    match &state.identity {
        IdentityState::Known(id) => id.account_id.clone(),
        _ => None,
    }
}

fn scope_of(state: &State) -> Option<TokenScope> {
    match &state.identity {
        IdentityState::Known(id)
            if state.token_error.is_none() && id.has_cloud_platform_scope() =>
        {
            Some(if id.can_call_iam() {
                TokenScope::Full
            } else {
                TokenScope::ReadOnly
            })
        }
        _ => None,
    }
}

fn fresh(store: &BrowserStore, account: Option<&str>, plan: &Plan) -> Option<(Findings, u64)> {
    let account = account?;
    match cache::lookup(store, &CacheKey::new(account, plan), now_ms()) {
        Lookup::Fresh(entry) => Some((entry.findings.to_findings(), entry.checked_at_ms)),
        Lookup::Miss => None,
    }
}

/// How a running sweep is stopped: its cancel flag (no new project starts) and the abort
/// controller of its requests in flight.
type Stopper = Rc<RefCell<Option<(Rc<Cell<bool>>, web_sys::AbortController)>>>;

/// The project IDs already in the box, then `more` that are not, one per line.
fn with_projects(input: &str, more: impl IntoIterator<Item = String>) -> String {
    let (have, _) = sweep::parse_projects(input);
    let mut text: Vec<String> = have.iter().map(|p| p.as_str().to_owned()).collect();
    for p in more {
        if !text.contains(&p) {
            text.push(p);
        }
    }
    text.join("\n")
}

/// Properties of [`Sweep`].
#[derive(Properties, Clone)]
pub struct SweepProps {
    /// The app state (token, identity, the form's plan inputs).
    pub state: UseReducerHandle<State>,
    /// The transport checks go over.
    pub transport: Rc<AppTransport>,
    /// The result cache.
    pub store: Rc<BrowserStore>,
    /// Abort controllers of the current token's requests (aborted by Forget).
    pub inflight: Rc<RefCell<Vec<web_sys::AbortController>>>,
}

impl PartialEq for SweepProps {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
            && Rc::ptr_eq(&self.transport, &other.transport)
            && Rc::ptr_eq(&self.store, &other.store)
            && Rc::ptr_eq(&self.inflight, &other.inflight)
    }
}

/// The "Check all" panel and its matrix.
#[component]
pub fn Sweep(props: &SweepProps) -> Html {
    let SweepProps {
        state,
        transport,
        store,
        inflight,
    } = props;
    let sweep = use_reducer(|| SweepState {
        rows: Vec::new(),
        running: false,
        generation: 0,
        sort: SortBy::Project,
        filter: Filter::All,
        text: String::new(),
    });
    let input = use_state(String::new);
    let cancel: Stopper = use_mut_ref(|| None);
    // Rows belong to the token that asked: a new token (or Forget) stops and clears them.
    {
        let sweep = sweep.dispatcher();
        let cancel = cancel.clone();
        use_effect_with(state.token_generation, move |_| {
            move || {
                if let Some((flag, controller)) = cancel.borrow_mut().take() {
                    flag.set(true);
                    controller.abort();
                }
                sweep.dispatch(SweepAction::Clear);
            }
        });
    }

    let (projects, refused) = sweep::parse_projects(&input);
    let scope = scope_of(state);
    let account = account_of(state);
    // Built once per edit of the list or the form, not on every row's answer.
    let plans = super::plan_memo::use_plans_for(
        state,
        projects.iter().map(|p| p.as_str().to_owned()).collect(),
    );
    // Said before a sweep starts; not recomputed (cache reads) on every row while it runs.
    // Read from the cache once per change of what it depends on (the plans, the account, a
    // sweep or a check ending), not on every render.
    let finished_check = match &state.run {
        Run::Done(outcome) => Some(Rc::as_ptr(&outcome.findings) as usize),
        _ => None,
    };
    let estimate = {
        let store = store.clone();
        use_memo(
            (
                PlanListKey(plans.clone()),
                scope,
                account.clone(),
                sweep.running,
                sweep.generation,
                finished_check,
            ),
            move |(plans, scope, account, running, _, _)| match (&*plans.0, scope) {
                (Ok(plans), Some(scope)) if !plans.is_empty() && !*running => {
                    let cached: Vec<bool> = plans
                        .iter()
                        .map(|p| fresh(&store, account.as_deref(), p).is_some())
                        .collect();
                    Some(sweep::estimate(plans, &cached, *scope, &DEFAULT_LIMITS).sentence())
                }
                _ => None,
            },
        )
    };
    let estimate = (*estimate).clone();
    let blocker: Option<String> = if scope.is_none() {
        Some("Paste a token with the cloud-platform scope first; Check all uses the form's plan for every project.".into())
    } else if let Err(message) = &*plans {
        Some(message.clone())
    } else if projects.is_empty() {
        Some(
            "List the projects to check: one ID per line, or separated by spaces or commas.".into(),
        )
    } else {
        None
    };

    let on_input = {
        let input = input.clone();
        Callback::from(move |e: InputEvent| {
            let area: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            input.set(area.value());
        })
    };
    let on_recent = {
        let input = input.clone();
        let store = store.clone();
        let account = account.clone();
        Callback::from(move |_| {
            let Some(account) = &account else {
                return;
            };
            use crate::core::cache::Store;
            let recent = sweep::recent_projects(&store.keys(), account);
            input.set(with_projects(&input, recent));
        })
    };
    // Every active project the account can see, as the project picker listed them.
    let visible: Option<Vec<String>> = state
        .visible_projects()
        .map(|list| list.iter().map(|p| p.id.clone()).collect());
    let on_visible = {
        let input = input.clone();
        let visible = visible.clone();
        Callback::from(move |_| {
            if let Some(ids) = &visible {
                input.set(with_projects(&input, ids.iter().cloned()));
            }
        })
    };
    let on_check_all = {
        let state = state.clone();
        let sweep = sweep.clone();
        let transport = transport.clone();
        let store = store.clone();
        let inflight = inflight.clone();
        let cancel = cancel.clone();
        let plans = plans.clone();
        Callback::from(move |_| {
            let Ok(plans) = &*plans else {
                return;
            };
            let Some(scope) = scope_of(&state) else {
                return;
            };
            if plans.is_empty() || sweep.running {
                return;
            }
            let Ok(controller) = web_sys::AbortController::new() else {
                return;
            };
            let flag = Rc::new(Cell::new(false));
            *cancel.borrow_mut() = Some((flag.clone(), controller.clone()));
            let cancellable = Cancellable::new(&transport, &controller);
            inflight.borrow_mut().push(controller);
            let plans: Vec<Rc<Plan>> = plans.iter().cloned().map(Rc::new).collect();
            sweep.dispatch(SweepAction::Start {
                plans: plans.clone(),
                generation: state.token_generation,
            });
            let token = state.token.clone();
            let account = account_of(&state);
            let demo = state.demo;
            let dispatch = sweep.dispatcher();
            let store = store.clone();
            spawn_local(async move {
                let plans: Vec<Plan> = plans.iter().map(|p| (**p).clone()).collect();
                let cached = |plan: &Plan| {
                    if demo {
                        return None;
                    }
                    fresh(&store, account.as_deref(), plan)
                };
                let cancelled = || flag.get();
                let now = now_ms;
                let context = sweep::Context {
                    cached: &cached,
                    cancelled: &cancelled,
                    now_ms: &now,
                };
                let mut on_event = |event: Event| {
                    // Complete answers are cached, as a single check's are (never in demo mode).
                    if let Event::Finished {
                        index,
                        findings,
                        checked_at_ms,
                        from_cache: false,
                    } = &event
                    {
                        if let (Some(account), false) = (&account, demo) {
                            let key = CacheKey::new(account, &plans[*index]);
                            if let Some(entry) =
                                CacheEntry::new(&key, findings, *checked_at_ms, DEFAULT_TTL_MS)
                            {
                                let _ = cache::save(&*store, &key, &entry, now_ms());
                            }
                        }
                    }
                    dispatch.dispatch(SweepAction::Event(event));
                };
                sweep::run(
                    &cancellable,
                    &plans,
                    &token,
                    scope,
                    &DEFAULT_LIMITS,
                    &context,
                    &mut on_event,
                )
                .await;
                dispatch.dispatch(SweepAction::Ended);
            });
        })
    };
    let on_cancel = {
        let cancel = cancel.clone();
        Callback::from(move |_| {
            if let Some((flag, controller)) = cancel.borrow_mut().take() {
                flag.set(true);
                controller.abort();
            }
        })
    };

    let total = sweep.rows.len();
    let done = sweep
        .rows
        .iter()
        .filter(|r| matches!(r.state, RowState::Done { .. } | RowState::Cancelled))
        .count();
    let waiting = sweep
        .rows
        .iter()
        .any(|r| matches!(r.state, RowState::Waiting));
    let columns: Vec<Topic> = sweep::COLUMNS
        .into_iter()
        .filter(|t| {
            sweep.rows.iter().any(|r| match &r.state {
                RowState::Done { row, .. } => row.cells.contains_key(t.slug()),
                _ => false,
            }) || matches!(t, Topic::Compute | Topic::Storage | Topic::ManagedJobs)
        })
        .collect();
    let mut finished: Vec<MatrixRow> = sweep
        .rows
        .iter()
        .filter_map(|r| match &r.state {
            RowState::Done { row, .. } => Some((**row).clone()),
            _ => None,
        })
        .collect();
    sort_rows(&mut finished, sweep.sort);
    let export_rows = finished.clone();
    let on_csv = {
        let rows = export_rows.clone();
        Callback::from(move |_| {
            super::results::offer_download(
                "gcp-preflight-sweep.csv",
                "text/csv",
                &sweep::to_csv(&rows),
            )
        })
    };
    let on_json = {
        let rows = export_rows;
        Callback::from(move |_| {
            super::results::offer_download(
                "gcp-preflight-sweep.json",
                "application/json",
                &sweep::to_json(&rows),
            )
        })
    };
    let sort_button = |label: &'static str, by: SortBy| {
        let dispatch = sweep.dispatcher();
        let sorted = sweep.sort == by;
        let aria_sort = if sorted {
            if by == SortBy::Project {
                "ascending"
            } else {
                "descending"
            }
        } else {
            "none"
        };
        let title = if by == SortBy::Project {
            "Sort by project ID"
        } else {
            "Sort: worst first"
        };
        html! {
            <th scope="col" aria-sort={aria_sort}>
                <button type="button" class="link sort" title={title}
                    onclick={Callback::from(move |_| dispatch.dispatch(SweepAction::Sort(by)))}>{ label }</button>
            </th>
        }
    };
    let on_filter = {
        let dispatch = sweep.dispatcher();
        Callback::from(move |e: Event2| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            let filter = match select.value().as_str() {
                "ready" => Filter::Ready,
                "not-ready" => Filter::NotReady,
                "failed" => Filter::Failed,
                _ => Filter::All,
            };
            dispatch.dispatch(SweepAction::Filter(filter));
        })
    };
    let on_text = {
        let dispatch = sweep.dispatcher();
        Callback::from(move |e: InputEvent| {
            let field: web_sys::HtmlInputElement = e.target_unchecked_into();
            dispatch.dispatch(SweepAction::Text(field.value()));
        })
    };
    // Rows in matrix order: finished ones sorted, then those still out, in input order.
    let row_html = |r: &MatrixRow| {
        let Some(source) = sweep
            .rows
            .iter()
            .find(|s| s.plan.project.as_str() == r.project)
        else {
            return html! {};
        };
        let RowState::Done {
            findings,
            from_cache,
            ..
        } = &source.state
        else {
            return html! {};
        };
        let on_open = {
            let state = state.clone();
            let plan = source.plan.clone();
            let findings = findings.clone();
            let checked_at_ms = r.checked_at_ms;
            let from_cache = *from_cache;
            Callback::from(move |_| {
                state.dispatch(Action::ShowResult {
                    plan: plan.clone(),
                    findings: findings.clone(),
                    checked_at_ms,
                    from_cache,
                });
                if let Some(results) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.query_selector("section.results").ok().flatten())
                {
                    results.scroll_into_view();
                }
            })
        };
        html! {
            <tr data-project={r.project.clone()}>
                <th scope="row">
                    <button type="button" class="link" title="Show the full result" onclick={on_open}>{ r.project.clone() }</button>
                    if r.from_cache { <span class="hint">{ " (cached)" }</span> }
                </th>
                { for columns.iter().map(|t| match r.cells.get(t.slug()) {
                    Some(cell) => {
                        let class = match cell.status {
                            Status::Ready => "cell ready",
                            Status::NotReady => "cell not-ready",
                            Status::Unknown => "cell unknown",
                        };
                        html! { <td class={class} data-topic={t.slug()}>{ cell_text(cell) }</td> }
                    }
                    None => html! { <td class="cell" data-topic={t.slug()}>{ "—" }</td> },
                }) }
                <td class="problem">{ r.problem.clone().unwrap_or_default() }</td>
            </tr>
        }
    };
    let pending_rows: Vec<Html> = sweep
        .rows
        .iter()
        .filter(|r| !matches!(r.state, RowState::Done { .. }))
        .filter(|r| {
            sweep.filter == Filter::All && r.plan.project.as_str().contains(sweep.text.trim())
        })
        .map(|r| {
            let what = match r.state {
                RowState::Queued => "Queued",
                RowState::Running => "Checking…",
                RowState::Waiting => "Rate-limited by Google: waiting, then again",
                RowState::Cancelled => "Cancelled",
                RowState::Done { .. } => "",
            };
            html! {
                <tr data-project={r.plan.project.as_str().to_owned()} class="pending">
                    <th scope="row">{ r.plan.project.as_str() }</th>
                    <td colspan={columns.len().to_string()} class="cell">{ what }</td>
                    <td class="problem"></td>
                </tr>
            }
        })
        .collect();
    let all_ready = finished
        .iter()
        .filter(|r| keeps(r, Filter::Ready, ""))
        .count();
    let with_errors = finished
        .iter()
        .filter(|r| keeps(r, Filter::Failed, ""))
        .count();
    let summary = (!finished.is_empty()).then(|| {
        format!(
            "{all_ready} ready everywhere, {} not ready or unknown ({with_errors} with request errors).",
            finished.len() - all_ready
        )
    });
    let shown: Vec<&MatrixRow> = finished
        .iter()
        .filter(|r| keeps(r, sweep.filter, &sweep.text))
        .collect();
    html! {
        <section class="sweep" aria-labelledby="sweep-title">
            <h2 id="sweep-title">{ "Many projects" }</h2>
            <p class="hint">{ "Check every project below with the plan above (the same permissions, APIs and options), a few at a time and within Google's per-minute quotas. Fresh cached results are reused." }</p>
            <label for="sweep-projects">{ "Projects to check" }</label>
            <textarea id="sweep-projects" rows="4" spellcheck="false" value={(*input).clone()} oninput={on_input}
                placeholder="my-project-123&#10;another-project (one ID per line, or separated by spaces or commas)" />
            <div class="sweep-actions">
                <button type="button" class="secondary" onclick={on_recent} disabled={account.is_none()}>{ "Add recent projects" }</button>
                <button type="button" class="secondary" onclick={on_visible} disabled={visible.as_ref().is_none_or(Vec::is_empty)}>
                    { match &visible {
                        Some(ids) => format!("Add all visible projects ({})", ids.len()),
                        None => "Add all visible projects".to_owned(),
                    } }
                </button>
                <button type="button" onclick={on_check_all} disabled={sweep.running || blocker.is_some()}>{ "Check all" }</button>
                <button type="button" class="secondary" onclick={on_cancel} disabled={!sweep.running}>{ "Cancel" }</button>
            </div>
            if !refused.is_empty() {
                <p class="error" data-testid="sweep-refused">{ format!("Not project IDs (left out): {}", refused.join("; ")) }</p>
            }
            if let Some(text) = estimate {
                <p class="hint" data-testid="sweep-estimate">{ text }</p>
            } else if let Some(text) = blocker.filter(|_| !input.trim().is_empty() || scope.is_none()) {
                <p class="hint" data-testid="sweep-blocker">{ text }</p>
            }
            if total > 0 {
                <p data-testid="sweep-progress">
                    <progress max={total.to_string()} value={done.to_string()} aria-label="Sweep progress" />
                    { format!(" {done} of {total} done{}{}", if sweep.running { "" } else { "." },
                        if waiting { " Google is rate-limiting: pausing, then asking again." } else { "" }) }
                </p>
                if let Some(summary) = summary {
                    <p class="hint" data-testid="sweep-summary">{ summary }</p>
                }
                <div class="sweep-tools">
                    <label>{ "Show " }
                        <select aria-label="Show" onchange={on_filter}>
                            <option value="all" selected={sweep.filter == Filter::All}>{ "all projects" }</option>
                            <option value="not-ready" selected={sweep.filter == Filter::NotReady}>{ "not ready or unknown" }</option>
                            <option value="ready" selected={sweep.filter == Filter::Ready}>{ "ready" }</option>
                            <option value="failed" selected={sweep.filter == Filter::Failed}>{ "with errors" }</option>
                        </select>
                    </label>
                    <input type="search" aria-label="Filter projects" placeholder="filter by project ID" value={sweep.text.clone()} oninput={on_text} />
                    <button type="button" class="secondary" onclick={on_csv} disabled={finished.is_empty()}>{ "Export CSV" }</button>
                    <button type="button" class="secondary" onclick={on_json} disabled={finished.is_empty()}>{ "Export JSON" }</button>
                </div>
                <table class="sweep-table" data-testid="sweep-table">
                    <thead>
                        <tr>
                            { sort_button("Project", SortBy::Project) }
                            { for columns.iter().map(|t| sort_button(t.title(), SortBy::Topic(*t))) }
                            <th scope="col">{ "Problem" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for shown.into_iter().map(row_html) }
                        { for pending_rows }
                    </tbody>
                </table>
            }
        </section>
    }
}

/// The DOM `change` event (named apart from the sweep's [`Event`]).
type Event2 = yew::events::Event;
