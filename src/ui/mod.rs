//! The Yew UI: one reducer ([`state`]) for app state; requests and storage in effects and
//! callbacks; views in [`form`] and [`results`].

pub mod advice;
pub mod form;
pub mod permission_rows;
pub mod picker;
pub mod plan_memo;
pub mod results;
pub mod share;
pub mod signin;
pub mod skyfiles;
pub mod state;
pub mod sweep;
pub mod warmup;

use crate::core::cache::{self, CacheEntry, CacheKey, Lookup, DEFAULT_TTL_MS};
use crate::core::check::{self, TokenScope};
use crate::core::google_error::{ApiError, SCOPE_HELP};
use crate::core::identity::Identity;
use crate::core::plan::Plan;
use crate::core::token::Token;
use crate::gcp::{AppTransport, Cancellable};
use crate::storage::BrowserStore;
use state::{plan_from_state, Action, IdentityState, Run, State};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// Milliseconds since the epoch, from the browser clock.
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// Why a token's identity makes it unusable, if it does (`what` names the field).
fn identity_blocker(identity: &IdentityState, what: &str) -> Option<String> {
    match identity {
        IdentityState::Failed(error) if error.is_token_problem() => Some(format!("{what}: {error}")),
        IdentityState::Known(id) if !id.has_cloud_platform_scope() => {
            Some(format!("{what}: {SCOPE_HELP}"))
        }
        IdentityState::Known(id) if id.expires_at_ms.is_some_and(|e| e <= now_ms()) => Some(format!(
            "{what}: the token has expired. Get a new one with `gcloud auth application-default print-access-token` (or `gcloud auth print-access-token` for the gcloud CLI token)."
        )),
        _ => None,
    }
}

/// Why the current tokens cannot be used, if they cannot.
fn token_blocker(state: &State) -> Option<String> {
    // Text that cannot be a bearer token never reaches a transport.
    if let Some(error) = &state.token_error {
        return Some(format!("Access token: {error}"));
    }
    if let Some(error) = &state.cli_token_error {
        return Some(format!("gcloud CLI token: {error}"));
    }
    if state.token.is_empty() {
        return Some(
            "Paste an access token first (run `gcloud auth application-default print-access-token`), or try the demo."
                .into(),
        );
    }
    identity_blocker(&state.identity, "Access token").or_else(|| {
        (!state.cli_token.is_empty())
            .then(|| identity_blocker(&state.cli_identity, "gcloud CLI token"))
            .flatten()
    })
}

/// What a token may call, as far as tokeninfo said (unknown ⇒ send, and Google answers).
fn scope_of(identity: &IdentityState) -> TokenScope {
    match identity {
        IdentityState::Known(id) if !id.can_call_iam() => TokenScope::ReadOnly,
        _ => TokenScope::Full,
    }
}

/// Why `plan` cannot be checked with these tokens before anything is sent: a read-only token
/// cannot test a named service account (IAM refuses it), so say so instead of asking.
fn plan_blocker(state: &State, plan: &Plan) -> Option<String> {
    let read_only = [&state.identity, &state.cli_identity]
        .into_iter()
        .any(|id| scope_of(id) == TokenScope::ReadOnly);
    (read_only && plan.service_account.is_some()).then(|| {
        "A read-only token (cloud-platform.read-only) cannot test a service account: IAM's testIamPermissions needs the full cloud-platform scope. Clear \"Service account\", or use `gcloud auth application-default print-access-token`.".into()
    })
}

/// The account a finished or cached check may be stored under.
fn known_account(identity: &IdentityState) -> Option<&Identity> {
    match identity {
        IdentityState::Known(id) if id.account_id.is_some() => Some(id),
        _ => None,
    }
}

/// The abort controllers of the checks sent with the current tokens: aborted (requests in
/// flight and any retry) when a token is forgotten or replaced.
type InFlight = Rc<RefCell<Vec<web_sys::AbortController>>>;

/// Answers `plan` from the cache when it can, or else sends the check. `force` skips the cache.
/// The caller has checked the token ([`token_blocker`]).
fn begin_check(
    state: &State,
    dispatch: &UseReducerDispatcher<State>,
    store: &BrowserStore,
    transport: &AppTransport,
    inflight: &InFlight,
    plan: Rc<Plan>,
    force: bool,
) {
    if !force && !state.demo {
        let fresh = |identity: &IdentityState| {
            let account = known_account(identity)?.account_id.as_deref()?;
            match cache::lookup(store, &CacheKey::new(account, &plan), now_ms()) {
                Lookup::Fresh(entry) => Some(entry),
                _ => None,
            }
        };
        let pending = [&state.identity, &state.cli_identity]
            .into_iter()
            .any(|id| *id == IdentityState::Pending);
        let with_cli = !state.cli_token.is_empty();
        match (
            fresh(&state.identity),
            with_cli.then(|| fresh(&state.cli_identity)),
        ) {
            (Some(entry), None) => {
                dispatch.dispatch(Action::FromCache {
                    plan,
                    entry,
                    cli_entry: None,
                });
                return;
            }
            (Some(entry), Some(Some(cli_entry))) => {
                dispatch.dispatch(Action::FromCache {
                    plan,
                    entry,
                    cli_entry: Some(cli_entry),
                });
                return;
            }
            // A cached answer may exist, but whose it is depends on the account: ask first.
            _ if pending && cache::may_answer(store, &plan) => {
                dispatch.dispatch(Action::AwaitIdentity { plan });
                return;
            }
            _ => {}
        }
    }
    let id = state.last_run_id + 1;
    dispatch.dispatch(Action::Started {
        id,
        plan: plan.clone(),
    });
    let token = state.token.clone();
    let cli_token = state.cli_token.clone();
    let scopes = (scope_of(&state.identity), scope_of(&state.cli_identity));
    let Ok(controller) = web_sys::AbortController::new() else {
        dispatch.dispatch(Action::Notice(
            "This browser cannot cancel requests (no AbortController); use a current browser."
                .into(),
        ));
        return;
    };
    let transport = Cancellable::new(transport, &controller).counting({
        let dispatch = dispatch.clone();
        move |sent, answered| dispatch.dispatch(Action::Progress { id, sent, answered })
    });
    inflight.borrow_mut().push(controller);
    let dispatch = dispatch.clone();
    spawn_local(async move {
        // Both tokens in one wave: the CLI token's check adds no round trip.
        let primary = check::run(&transport, &plan, &token, scopes.0);
        let cli = async {
            if cli_token.is_empty() {
                None
            } else {
                Some(check::run(&transport, &plan, &cli_token, scopes.1).await)
            }
        };
        let (findings, cli_findings) = futures::join!(primary, cli);
        dispatch.dispatch(Action::Finished {
            id,
            findings: Box::new(findings),
            cli_findings: cli_findings.map(Box::new),
            at_ms: now_ms(),
        });
    });
}

/// Why this page must not take a token where it is, if it must not: inside a frame (of any
/// origin), or outside a secure context.
fn hosting_refusal() -> Option<String> {
    let Some(window) = web_sys::window() else {
        return Some("gcp-preflight needs a browser window.".into());
    };
    let top_is_self = match window.top() {
        Ok(Some(top)) => js_sys::Object::is(&top, &window),
        _ => false,
    };
    if !top_is_self {
        return Some("gcp-preflight does not take a token inside a frame: another page could overlay it or trick you into clicking. Open it in its own tab, from its own address.".into());
    }
    if !window.is_secure_context() {
        return Some("gcp-preflight takes a token only over HTTPS (or on this machine): serve it over HTTPS.".into());
    }
    None
}

/// Asks tokeninfo who `token` is whenever its `generation` changes, and dispatches the answer
/// as `resolved` makes it; the request is aborted when a newer token (or Forget) replaces it.
#[hook]
fn use_identity_lookup(
    token: Token,
    generation: u32,
    transport: AppTransport,
    dispatch: UseReducerDispatcher<State>,
    resolved: fn(u32, Result<Identity, ApiError>) -> Action,
) {
    use_effect_with(generation, move |_| {
        let controller = web_sys::AbortController::new().ok();
        if let (false, Some(controller)) = (token.is_empty(), &controller) {
            let transport = Cancellable::new(&transport, controller);
            spawn_local(async move {
                let result = check::lookup_identity(&transport, &token, now_ms()).await;
                dispatch.dispatch(resolved(generation, result));
            });
        }
        move || {
            if let Some(controller) = controller {
                controller.abort();
            }
        }
    });
}

/// The app.
#[component]
pub fn App() -> Html {
    let state = use_reducer(|| State::new(now_ms()));
    let store = use_memo((), |_| BrowserStore::open());
    // A framed page never takes a token (clickjacking, phishing overlays): a host without
    // custom headers cannot send `frame-ancestors`, so the page checks for itself. A page that is
    // not a secure context (plain HTTP) is refused too.
    let refused_here = use_memo((), |_| hosting_refusal());
    let inflight: InFlight = use_mut_ref(Vec::<web_sys::AbortController>::new);
    // Forget, or a new token: abort every request the old tokens still have in flight.
    {
        let inflight = inflight.clone();
        use_effect_with((state.token_generation, state.cli_generation), move |_| {
            move || {
                for controller in inflight.borrow_mut().drain(..) {
                    controller.abort();
                }
            }
        });
    }
    let transport = use_memo(state.demo, |demo| {
        if *demo {
            AppTransport::demo()
        } else {
            AppTransport::Google
        }
    });

    // Preflights paid before Check is pressed, and an invisible project named early.
    let project_note = warmup::use_warmup(
        &state,
        (*transport).clone(),
        store.clone(),
        inflight.clone(),
    );

    // Drop expired and unreadable cache entries once per page load.
    {
        let store = store.clone();
        use_effect_with((), move |_| cache::prune(&*store, now_ms()));
    }

    // Another tab's newer result for what is on screen arrives through the `storage` event.
    {
        let dispatch = state.dispatcher();
        use_effect_with((), move |_| {
            let listener = Closure::<dyn Fn(web_sys::StorageEvent)>::new(
                move |event: web_sys::StorageEvent| {
                    if let Some(key) = event.key().filter(|k| k.starts_with(cache::KEY_PREFIX)) {
                        dispatch.dispatch(Action::StoredElsewhere {
                            key,
                            value: event.new_value(),
                            now_ms: now_ms(),
                        });
                    }
                },
            );
            let window = web_sys::window();
            if let Some(window) = &window {
                let _ = window
                    .add_event_listener_with_callback("storage", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(window) = window {
                    let _ = window.remove_event_listener_with_callback(
                        "storage",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }

    // Keep ages and expiry current, and drop expired entries while the page is open (not only on
    // the next visit).
    {
        let dispatch = state.dispatcher();
        let store = store.clone();
        use_effect_with((), move |_| {
            let interval = gloo_timers::callback::Interval::new(30_000, move || {
                let now = now_ms();
                cache::prune(&*store, now);
                dispatch.dispatch(Action::Tick(now))
            });
            move || drop(interval)
        });
    }

    // A share link in the address bar fills the form (or shows a result); it sends nothing.
    share::use_open_shared_link(state.dispatcher());

    // Who is each token? Asked as soon as it is entered, so a cached result can answer Check.
    // Entering or leaving demo mode always comes with a new token generation.
    use_identity_lookup(
        state.token.clone(),
        state.token_generation,
        (*transport).clone(),
        state.dispatcher(),
        |generation, result| Action::IdentityResolved { generation, result },
    );
    use_identity_lookup(
        state.cli_token.clone(),
        state.cli_generation,
        (*transport).clone(),
        state.dispatcher(),
        |generation, result| Action::CliIdentityResolved { generation, result },
    );

    // The projects the account can see, for the picker, once tokeninfo has named the account;
    // and the project of each finished check, remembered per account.
    picker::use_project_listing(
        state.token.clone(),
        state.token_generation,
        matches!(state.identity, IdentityState::Known(_)),
        (*transport).clone(),
        state.dispatcher(),
    );
    picker::use_remember_project(state.run.clone(), state.identity.clone(), state.demo);

    // Cache a fresh, complete result once the account is known (it may arrive after the check).
    // Demo results never reach the real cache.
    {
        let store = store.clone();
        let run = state.run.clone();
        let identities = (state.identity.clone(), state.cli_identity.clone());
        let demo = state.demo;
        // A result opened from a link is someone else's: never cached as this account's.
        let shared = state.opened_link.is_some();
        use_effect_with((run, identities), move |(run, (identity, cli_identity))| {
            let Run::Done(outcome) = run else {
                return;
            };
            if outcome.from_cache || demo || shared {
                return;
            }
            let answers = [
                (identity, Some(&outcome.findings)),
                (cli_identity, outcome.cli.as_ref()),
            ];
            for (identity, findings) in answers {
                let (Some(id), Some(findings)) = (known_account(identity), findings) else {
                    continue;
                };
                let Some(account) = &id.account_id else {
                    continue;
                };
                let key = CacheKey::new(account, &outcome.plan);
                let entry = CacheEntry::new(&key, findings, outcome.checked_at_ms, DEFAULT_TTL_MS);
                if let Some(entry) = entry {
                    // A full store only costs the cache; the result is still shown.
                    let _ = cache::save(&*store, &key, &entry, now_ms());
                }
            }
        });
    }

    // Check was pressed before tokeninfo answered: go on once it has.
    {
        let dispatch = state.dispatcher();
        let snapshot = (*state).clone();
        let store = store.clone();
        let transport = transport.clone();
        let inflight = inflight.clone();
        use_effect_with(
            (
                state.run.clone(),
                state.identity.clone(),
                state.cli_identity.clone(),
            ),
            move |(run, identity, cli_identity)| {
                let pending =
                    *identity == IdentityState::Pending || *cli_identity == IdentityState::Pending;
                if let (Run::AwaitingIdentity { plan }, false) = (run, pending) {
                    // tokeninfo may have just said the token is dead.
                    match token_blocker(&snapshot) {
                        Some(message) => dispatch.dispatch(Action::Notice(message)),
                        None => begin_check(
                            &snapshot,
                            &dispatch,
                            &store,
                            &transport,
                            &inflight,
                            plan.clone(),
                            false,
                        ),
                    }
                }
            },
        );
    }

    let on_check = {
        let state = state.clone();
        let store = store.clone();
        let transport = transport.clone();
        let inflight = inflight.clone();
        Callback::from(move |force: bool| {
            let plan = token_blocker(&state)
                .map_or_else(|| plan_from_state(&state), Err)
                .and_then(|plan| plan_blocker(&state, &plan).map_or(Ok(plan), Err));
            match plan {
                Ok(plan) => begin_check(
                    &state,
                    &state.dispatcher(),
                    &store,
                    &transport,
                    &inflight,
                    Rc::new(plan),
                    force,
                ),
                Err(message) => state.dispatch(Action::Notice(message)),
            }
        })
    };

    // Local view state, not app state: only the footer shows it.
    let cache_cleared = use_state(|| false);
    let on_clear_cache = {
        let store = store.clone();
        let cache_cleared = cache_cleared.clone();
        Callback::from(move |_| {
            cache::clear(&*store);
            cache_cleared.set(true);
        })
    };
    let dispatch = state.dispatcher();
    let header = html! {
        <header class="app-header">
            <h1>{ "gcp-preflight" }</h1>
            <p class="tagline">
                { "Before you submit a SkyPilot job: can this Google account really launch compute, use storage and run managed jobs on this GCP project?" }
            </p>
        </header>
    };
    if let Some(reason) = (*refused_here).clone() {
        return html! {
            <main class="app">
                { header }
                <p class="error" role="alert" data-testid="hosting-refused">{ reason }</p>
            </main>
        };
    }
    let on_show_newer = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.dispatch(Action::ShowNewer { now_ms: now_ms() }))
    };
    html! {
        <main class="app">
            { header }
            <form::CheckForm state={state.clone()} dispatch={dispatch.clone()} on_check={on_check.clone()} />
            <share::ShareQuestion state={state.clone()} />
            if let Some(note) = project_note {
                <p class="hint warning" data-testid="project-visibility">{ note }</p>
            }
            if state.newer.is_some() {
                <p class="hint warning newer-result" data-testid="newer-result">
                    { "Another tab has stored a newer result for this account, project and plan. It is not shown until you take it. " }
                    <button type="button" onclick={on_show_newer}>{ "Show newer result" }</button>
                </p>
            }
            // Role data for the fix advice is fetched once per page, and only when advice shows.
            <advice::RoleDataProvider>
                <results::Results state={state.clone()} on_check={on_check} />
            </advice::RoleDataProvider>
            <sweep::Sweep state={state.clone()} transport={transport.clone()} store={store.clone()} inflight={inflight.clone()} />
            <results::Honesty />
            <footer class="app-footer">
                { "Your token stays in this page's memory: it is sent only to Google's API hosts and never stored. Results (under the account's Google ID, without its email) are cached in this browser for 10 minutes per account, project and plan. " }
                <button type="button" class="link" onclick={on_clear_cache}>{ "Clear cached results" }</button>
                if *cache_cleared { <span role="status">{ " — cleared." }</span> }
            </footer>
        </main>
    }
}
