//! The warm-up hook: once the token is known and the form makes a valid plan, and the user has
//! stopped typing for a moment, send [`crate::core::warmup::requests`] (once per URL and token)
//! so that Check costs one round trip; and say early when the project cannot be seen.
//!
//! Nothing from the answers is cached or shown as a result: only the project's visibility.

use crate::core::cache::{self, CacheKey, Lookup};
use crate::core::check::TokenScope;
use crate::core::google_error::GoogleError;
use crate::core::http::Transport;
use crate::core::plan::Plan;
use crate::core::warmup;
use crate::gcp::{AppTransport, Cancellable};
use crate::storage::BrowserStore;
use crate::ui::state::{IdentityState, Run, State};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// Quiet time after the last edit before the warm-up goes out: a project ID being typed is
/// valid at several lengths, and only the one the user stops at deserves requests.
const DEBOUNCE_MS: u32 = 350;

/// Whether Check would be answered from the cache (fresh entries for every token given): then
/// it costs no request, and a warm-up would only add some.
fn answered_from_cache(store: &BrowserStore, accounts: &[Option<String>], plan: &Plan) -> bool {
    accounts.iter().all(|account| {
        account.as_deref().is_some_and(|account| {
            matches!(
                cache::lookup(store, &CacheKey::new(account, plan), crate::ui::now_ms()),
                Lookup::Fresh(_)
            )
        })
    })
}

fn account_of(identity: &IdentityState) -> Option<String> {
    match identity {
        IdentityState::Known(id) => id.account_id.clone(),
        _ => None,
    }
}

/// Sends the warm-up for what the form says now; returns the one-line message about the
/// project, when Google said it cannot be seen. `inflight` gets the requests' abort controller
/// (aborted when the token is forgotten or replaced). Nothing is sent when the cache would
/// answer Check.
#[hook]
pub fn use_warmup(
    state: &State,
    transport: AppTransport,
    store: Rc<BrowserStore>,
    inflight: Rc<RefCell<Vec<web_sys::AbortController>>>,
) -> Option<String> {
    // (token generation, URL) already warmed: at most one warm-up per URL and token.
    let warmed = use_mut_ref(BTreeSet::<(u32, String)>::new);
    // (token generation, project) -> what Google said about seeing it.
    let messages = use_mut_ref(BTreeMap::<(u32, String), String>::new);
    let rerender = use_force_update();
    let usable = match &state.identity {
        IdentityState::Known(id) if state.token_error.is_none() => {
            id.has_cloud_platform_scope().then(|| {
                if id.can_call_iam() {
                    TokenScope::Full
                } else {
                    TokenScope::ReadOnly
                }
            })
        }
        _ => None,
    };
    // Built once per form edit: this hook runs on every render.
    let plan = (*super::plan_memo::use_form_plan(state)).clone().ok();
    let idle = matches!(state.run, Run::Idle);
    let generation = state.token_generation;
    // The fingerprint leaves the project out (the cache key has it apart): both, then.
    let key = plan
        .as_ref()
        .map(|p| (p.project.as_str().to_owned(), p.fingerprint.clone()));
    let project = plan.as_ref().map(|p| p.project.as_str().to_owned());
    let mut accounts = vec![account_of(&state.identity)];
    if !state.cli_token.is_empty() {
        accounts.push(account_of(&state.cli_identity));
    }
    {
        let token = state.token.clone();
        let messages = messages.clone();
        let rerender = rerender.clone();
        use_effect_with(
            (generation, usable, key, idle),
            move |(generation, usable, _, idle)| {
                let generation = *generation;
                let timeout = match (plan, usable, idle) {
                    (Some(plan), Some(scope), true) => {
                        let scope = *scope;
                        Some(gloo_timers::callback::Timeout::new(
                            DEBOUNCE_MS,
                            move || {
                                if answered_from_cache(&store, &accounts, &plan) {
                                    return;
                                }
                                let requests: Vec<_> = warmup::requests(&plan, &token, scope)
                                    .into_iter()
                                    .filter(|r| {
                                        warmed.borrow_mut().insert((generation, r.url.clone()))
                                    })
                                    .collect();
                                let Ok(controller) = web_sys::AbortController::new() else {
                                    return;
                                };
                                if requests.is_empty() {
                                    return;
                                }
                                let transport = Cancellable::new(&transport, &controller);
                                inflight.borrow_mut().push(controller);
                                spawn_local(async move {
                                    let sends = requests.into_iter().map(|request| {
                                        let probe = warmup::is_project_probe(&plan, &request);
                                        let transport = &transport;
                                        async move { (probe, transport.send(request).await) }
                                    });
                                    for (probe, answer) in futures::future::join_all(sends).await {
                                        if !probe {
                                            continue;
                                        }
                                        let answer = match answer {
                                            Ok(r) if (200..300).contains(&r.status) => Ok(r.body),
                                            Ok(r) => {
                                                Err(GoogleError::from_response(r.status, &r.body))
                                            }
                                            Err(error) => Err(error.into()),
                                        };
                                        let project = plan.project.as_str().to_owned();
                                        if let Some(text) =
                                            warmup::visibility_message(&project, &answer)
                                        {
                                            messages
                                                .borrow_mut()
                                                .insert((generation, project), text);
                                            rerender.force_update();
                                        }
                                    }
                                });
                            },
                        ))
                    }
                    _ => None,
                };
                move || drop(timeout)
            },
        );
    }
    let messages = messages.borrow();
    project.and_then(|project| messages.get(&(generation, project)).cloned())
}
