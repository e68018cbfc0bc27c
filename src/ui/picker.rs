//! The project picker: once the account is known, the projects it can see
//! ([`use_project_listing`], into [`State::projects`]) and its recent projects, offered as
//! suggestions under the "Project ID" field, filtered in Rust to at most
//! [`MAX_SHOWN`](crate::core::projects::MAX_SHOWN). Typing an ID always works.

use super::state::{Action, IdentityState, ProjectListing, Run, State};
use crate::core::projects::{
    filter_projects, list_visible_projects, recent_projects, remember_project, thousands,
    ProjectSummary, MAX_SHOWN,
};
use crate::core::token::Token;
use crate::gcp::{AppTransport, Cancellable};
use crate::storage::BrowserStore;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// The account's stable Google ID, once tokeninfo has named it.
fn account_id(identity: &IdentityState) -> Option<String> {
    match identity {
        IdentityState::Known(id) => id.account_id.clone(),
        _ => None,
    }
}

/// A one-line reason (the first sentence of Google's message, at most ~160 characters).
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut out: String = line.chars().take(160).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

/// Lists the projects the token's account can see whenever a new token's account becomes
/// known, and dispatches [`Action::Projects`]; the listing is aborted when the token changes.
/// Anything that needs "all visible projects" reads [`State::visible_projects`].
#[hook]
pub fn use_project_listing(
    token: Token,
    generation: u32,
    identity_known: bool,
    transport: AppTransport,
    dispatch: UseReducerDispatcher<State>,
) {
    use_effect_with((generation, identity_known), move |(generation, known)| {
        let generation = *generation;
        let controller = web_sys::AbortController::new().ok();
        if let (true, false, Some(controller)) = (*known, token.is_empty(), &controller) {
            let transport = Cancellable::new(&transport, controller);
            dispatch.dispatch(Action::Projects {
                generation,
                listing: ProjectListing::Loading,
            });
            spawn_local(async move {
                let listing = match list_visible_projects(&transport, &token).await {
                    Ok(list) => ProjectListing::Listed(Rc::new(list)),
                    Err(error) => ProjectListing::Failed(one_line(&error.to_string())),
                };
                dispatch.dispatch(Action::Projects {
                    generation,
                    listing,
                });
            });
        }
        move || {
            if let Some(controller) = controller {
                controller.abort();
            }
        }
    });
}

/// Remembers the project of each check that ends (or is answered from the cache) under the
/// account's stable ID: project IDs only, never the token. Demo checks are not remembered.
#[hook]
pub fn use_remember_project(run: Run, identity: IdentityState, demo: bool) {
    use_effect_with((run, identity), move |(run, identity)| {
        if let (Run::Done(outcome), Some(account), false) = (run, account_id(identity), demo) {
            remember_project(
                &BrowserStore::open(),
                &account,
                outcome.plan.project.as_str(),
            );
        }
    });
}

/// The `<datalist id="project-suggestions">` the "Project ID" field points at, and one status
/// line: how many projects the account can see, or why they could not be listed. A plain view
/// function, not a component: it has no state of its own, and each component adds Yew's
/// per-component code to the bundle.
pub fn project_suggestions(state: &UseReducerHandle<State>) -> Html {
    let query = state.project.as_str();
    // Recent projects of this account (not in demo mode: demo checks are not remembered).
    let recent: Vec<String> = match (account_id(&state.identity), state.demo) {
        (Some(account), false) => recent_projects(&BrowserStore::open(), &account),
        _ => Vec::new(),
    };
    let needle = query.trim().to_ascii_lowercase();
    let recent: Vec<&String> = recent
        .iter()
        .filter(|id| id.contains(&needle) && id.as_str() != query.trim())
        .collect();
    let listed: &[ProjectSummary] = state.visible_projects().unwrap_or(&[]);
    let matches = filter_projects(listed, query, MAX_SHOWN);
    let option = |id: &str, label: Option<&str>| {
        html! { <option value={id.to_string()} label={label.map(str::to_string)} /> }
    };
    let status = match &state.projects {
        ProjectListing::None => None,
        ProjectListing::Loading => Some(html! {
            <p class="hint" data-testid="project-listing" role="status">{ "Listing the projects this account can see…" }</p>
        }),
        ProjectListing::Listed(list) if list.is_empty() => Some(html! {
            <p class="hint" data-testid="project-listing" role="status">{ "This account can see no active project: type the project ID." }</p>
        }),
        ProjectListing::Listed(list) => {
            let total = thousands(list.len());
            let text = if needle.is_empty() {
                format!("{total} projects visible to this account: type to filter, or pick one.")
            } else if matches.len() >= MAX_SHOWN {
                format!(
                    "{total} projects visible to this account; the first {MAX_SHOWN} matching \"{}\" are suggested.",
                    query.trim()
                )
            } else {
                format!(
                    "{total} projects visible to this account; {} match \"{}\".",
                    matches.len(),
                    query.trim()
                )
            };
            Some(html! { <p class="hint" data-testid="project-listing" role="status">{ text }</p> })
        }
        ProjectListing::Failed(reason) => Some(html! {
            <p class="hint warning" data-testid="project-listing" role="status">
                { format!("Could not list this account's projects ({reason}): type the project ID.") }
            </p>
        }),
    };
    html! {
        <>
            <datalist id="project-suggestions" data-testid="project-suggestions">
                { for recent.iter().take(MAX_SHOWN).map(|id| option(id, Some("recent"))) }
                { for matches.iter()
                    .filter(|p| !recent.iter().any(|r| **r == p.id))
                    .map(|p| option(&p.id, (!p.display_name.is_empty() && p.display_name != p.id).then_some(p.display_name.as_str()))) }
            </datalist>
            { status.unwrap_or_default() }
            if !recent.is_empty() && needle.is_empty() {
                <p class="hint recent-projects" data-testid="recent-projects">
                    { "Recent: " }
                    { for recent.iter().map(|id| {
                        let dispatch = state.dispatcher();
                        let id = (*id).clone();
                        let label = id.clone();
                        html! {
                            <button type="button" class="link" onclick={Callback::from(move |_| {
                                dispatch.dispatch(Action::Edit(super::state::Field::Project(id.clone())))
                            })}>{ label }</button>
                        }
                    }) }
                </p>
            }
        </>
    }
}
