//! How to fix a not-ready verdict: the least-privilege roles to ask for, the `gcloud` commands
//! with copy buttons, and the custom-role alternative.
//!
//! The advice is worked out in a web worker of its own (`src/bin/advice_worker.rs`), started when
//! advice is first shown: it fetches the role data (`roles/skypilot.json`, or `roles/full.json`
//! for custom lists) and holds the role index parser and `roles::fix::advise`, none of which is in
//! the page's first load. [`RoleDataProvider`] owns the worker and keeps every answer for the
//! life of the page, so every card (and the reports) share one download; an [`Advice`] outside a
//! provider wraps itself in one. This file only shows the answers.

use crate::core::advice_wire::{AdviceQuery, AdviceReply, AdviceRequest, RoleFile};
use crate::core::names::ProjectId;
use crate::core::plan::Plan;
use crate::core::report::{Report, VerdictAdvice};
use crate::core::roles::fix::{data_line, FixAdvice, MissingAt};
use crate::gcp::worker::LazyWorker;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::prelude::*;

/// The worker's loader script as Trunk names it (`data-loader-shim`), relative to the page.
const WORKER_URL: &str = "./advice_worker_loader.js";

/// Shown when the worker cannot load (offline, blocked): never a verdict, tried again on the
/// next card.
const WORKER_FAILED: &str = "Could not load the role data: the advice worker did not start.";

/// Where one card's advice is.
#[derive(Clone, Debug)]
pub enum Load {
    /// Asked for; the provider sends it to the worker.
    Wanted,
    /// With the worker (which may be fetching the role data).
    Loading,
    /// Answered and kept for the page's life.
    Ready(Rc<FixAdvice>),
    /// The role data could not be fetched or read, or a value failed its pattern: one line.
    Failed(String),
}

impl PartialEq for Load {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Load::Ready(a), Load::Ready(b)) => Rc::ptr_eq(a, b),
            (Load::Failed(a), Load::Failed(b)) => a == b,
            (Load::Wanted, Load::Wanted) | (Load::Loading, Load::Loading) => true,
            _ => false,
        }
    }
}

/// Every question asked on this page and where its answer is; a question's position is its id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleData {
    questions: Vec<(AdviceQuery, Load)>,
}

/// What happens to a question.
pub enum RoleDataAction {
    /// A card needs this advice: ask unless already answered or on its way.
    Want(AdviceQuery),
    /// The provider handed these questions to the worker.
    Sent(Vec<u32>),
    /// The worker answered question `id`.
    Answered(u32, Result<Rc<FixAdvice>, String>),
    /// The worker could not load: every question with it fails (and is asked again later).
    WorkerFailed,
}

impl RoleData {
    fn find(&self, query: &AdviceQuery) -> Option<&Load> {
        self.questions
            .iter()
            .find(|(q, _)| q == query)
            .map(|(_, load)| load)
    }

    fn wanted(&self) -> Vec<u32> {
        (0..self.questions.len() as u32)
            .filter(|&id| self.questions[id as usize].1 == Load::Wanted)
            .collect()
    }

    /// `report` with the advice of each of its verdicts that a card has already been given
    /// (as [`Report::with_advice`] does in the terminal, without the role data here).
    pub fn add_known_advice<'a>(&self, mut report: Report<'a>, plan: &Plan) -> Report<'a> {
        let email = report.account_email;
        report.advice = report
            .verdicts
            .iter()
            .filter(|v| v.has_fix())
            .filter_map(
                |v| match self.find(&AdviceQuery::for_verdict(plan, v, email))? {
                    Load::Ready(advice) => Some(VerdictAdvice {
                        topic: v.topic,
                        advice: (**advice).clone(),
                    }),
                    _ => None,
                },
            )
            .collect();
        report
    }
}

impl Reducible for RoleData {
    type Action = RoleDataAction;

    fn reduce(self: Rc<Self>, action: RoleDataAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            RoleDataAction::Want(query) => {
                match next.questions.iter_mut().find(|(q, _)| *q == query) {
                    // A failed question is asked again when a card next asks.
                    Some((_, load @ Load::Failed(_))) => *load = Load::Wanted,
                    Some(_) => return self,
                    None => next.questions.push((query, Load::Wanted)),
                }
            }
            RoleDataAction::Sent(ids) => {
                for id in ids {
                    if let Some((_, load)) = next.questions.get_mut(id as usize) {
                        *load = Load::Loading;
                    }
                }
            }
            RoleDataAction::Answered(id, advice) => {
                let Some((_, load)) = next.questions.get_mut(id as usize) else {
                    return self;
                };
                *load = match advice {
                    Ok(advice) => Load::Ready(advice),
                    Err(message) => Load::Failed(message),
                };
            }
            RoleDataAction::WorkerFailed => {
                for (_, load) in &mut next.questions {
                    if *load == Load::Loading {
                        *load = Load::Failed(WORKER_FAILED.to_owned());
                    }
                }
            }
        }
        Rc::new(next)
    }
}

/// The context [`RoleDataProvider`] gives its children.
pub type RoleDataHandle = UseReducerHandle<RoleData>;

/// Starts the advice worker; its replies (and its failure) become [`RoleDataAction`]s.
fn start_worker(dispatch: UseReducerDispatcher<RoleData>) -> Option<LazyWorker> {
    let on_failure = dispatch.clone();
    LazyWorker::start(
        WORKER_URL,
        move |text| {
            if let Some(reply) = AdviceReply::from_json(&text) {
                dispatch.dispatch(RoleDataAction::Answered(
                    reply.id,
                    reply.advice.map(Rc::new),
                ));
            }
        },
        move || on_failure.dispatch(RoleDataAction::WorkerFailed),
    )
}

/// Props of [`RoleDataProvider`].
#[derive(Properties, PartialEq)]
pub struct RoleDataProviderProps {
    /// Everything that may show advice.
    #[prop_or_default]
    pub children: Html,
}

/// Keeps the advice for the page: put it once around the results.
#[component]
pub fn RoleDataProvider(props: &RoleDataProviderProps) -> Html {
    let data = use_reducer(RoleData::default);
    let worker = use_mut_ref(|| None::<LazyWorker>);
    // The provider, not each card, talks to the worker: one worker, one download per file.
    {
        let handle = data.clone();
        use_effect_with(data.wanted(), move |wanted| {
            if wanted.is_empty() {
                return;
            }
            let mut slot = worker.borrow_mut();
            if slot.as_ref().is_none_or(LazyWorker::failed) {
                *slot = start_worker(handle.dispatcher());
            }
            handle.dispatch(RoleDataAction::Sent(wanted.clone()));
            let sent = slot.as_ref().is_some_and(|w| {
                wanted.iter().all(|&id| {
                    let query = handle.questions[id as usize].0.clone();
                    w.send(AdviceRequest { id, query }.to_json(), false)
                })
            });
            if !sent {
                *slot = None;
                handle.dispatch(RoleDataAction::WorkerFailed);
            }
        });
    }
    html! {
        <ContextProvider<RoleDataHandle> context={data}>
            { props.children.clone() }
        </ContextProvider<RoleDataHandle>>
    }
}

/// Props of [`Advice`].
#[derive(Properties, PartialEq, Clone)]
pub struct AdviceProps {
    /// The checked project.
    pub project: ProjectId,
    /// The checked account's email, when the token carried it.
    #[prop_or_default]
    pub member_email: Option<String>,
    /// The token is a service account's (`serviceAccount:` member).
    #[prop_or_default]
    pub service_account: bool,
    /// Missing permissions by where they are granted: project, a bucket, a service account.
    pub missing: Vec<MissingAt>,
    /// APIs that are off (`compute.googleapis.com`, …).
    #[prop_or_default]
    pub apis_off: Vec<String>,
    /// Some permission comes from the user's own list: the full role index is needed.
    #[prop_or_default]
    pub custom_list: bool,
}

/// The fix advice for one verdict card.
#[component]
pub fn Advice(props: &AdviceProps) -> Html {
    match use_context::<RoleDataHandle>() {
        Some(data) => html! { <AdviceBody data={data} advice={props.clone()} /> },
        None => html! {
            <RoleDataProvider>
                <Advice ..props.clone() />
            </RoleDataProvider>
        },
    }
}

#[derive(Properties, PartialEq)]
struct AdviceBodyProps {
    data: RoleDataHandle,
    advice: AdviceProps,
}

#[component]
fn AdviceBody(props: &AdviceBodyProps) -> Html {
    let p = &props.advice;
    let query = AdviceQuery {
        file: if p.custom_list {
            RoleFile::Full
        } else {
            RoleFile::SkyPilot
        },
        project: p.project.clone(),
        member_email: p.member_email.clone(),
        service_account: p.service_account,
        missing: p.missing.clone(),
        apis_off: p.apis_off.clone(),
    };
    // Ask on mount (and again should the question change or a failed one be retried).
    {
        let data = props.data.clone();
        use_effect_with(query.clone(), move |query| {
            data.dispatch(RoleDataAction::Want(query.clone()))
        });
    }
    let body = match props.data.find(&query) {
        Some(Load::Failed(message)) => {
            html! { <p class="error" role="alert">{ message.clone() }</p> }
        }
        Some(Load::Ready(advice)) => view(advice),
        _ => html! { <p class="hint" role="status">{ "Loading role data…" }</p> },
    };
    // `fix` reuses app.css's styling of command blocks.
    html! { <section class="advice fix" data-testid="advice">{ body }</section> }
}

fn code_list(permissions: &[crate::core::permission::Permission]) -> Html {
    html! {
        { for permissions.iter().enumerate().map(|(i, p)| html! {
            <>{ if i > 0 { ", " } else { "" } }<code>{ p.as_str() }</code></>
        }) }
    }
}

fn view(advice: &FixAdvice) -> Html {
    if advice.is_empty() {
        return html! {};
    }
    let mut commands: Vec<String> = advice.enable_apis.clone();
    if let Some(role) = &advice.uncovered_role {
        commands.push(role.create_or_update.clone());
    }
    commands.extend(
        advice
            .targets
            .iter()
            .flat_map(|t| t.commands.iter().cloned()),
    );
    html! {
        <>
            <h4>{ "Roles to ask for" }</h4>
            { for advice.targets.iter().map(|t| html! {
                <>
                    <p>{ format!("On the {}:", t.target.describe(&advice.project)) }</p>
                    <ul class="roles">
                        { for t.suggestion.roles.iter().map(|r| html! {
                            <li data-testid="suggested-role">
                                <code>{ &r.id }</code>{ format!(" ({}", r.title) }
                                if r.stage != crate::core::roles::Stage::Ga {
                                    { format!(", {}", r.stage.as_str()) }
                                }
                                { format!(") covers {} missing: ", r.covers.len()) }
                                { code_list(&r.covers) }
                                { format!("; grants {} other permissions.", r.extra) }
                            </li>
                        }) }
                    </ul>
                    if !t.suggestion.uncovered.is_empty() {
                        <p class="uncovered">
                            { "No predefined role for people grants " }{ code_list(&t.suggestion.uncovered) }
                            { ": the custom role skypilotPreflightExtra in the commands holds them." }
                        </p>
                    }
                </>
            }) }
            <h4>{ "Commands (run as a project admin)" }</h4>
            <ul class="commands">
                { for commands.iter().map(|c| html! {
                    <li><pre><code>{ c }</code></pre><CopyButton text={c.clone()} /></li>
                }) }
            </ul>
            <CopyButton text={advice.script()} label="Copy all" />
            if let (Some(alt), Some(grant)) = (&advice.alternative, advice.alternative_grant()) {
                <details class="alternative">
                    <summary>{ "Alternative: one custom role with exactly the missing project permissions" }</summary>
                    <pre><code>{ &alt.yaml }</code></pre>
                    <CopyButton text={alt.yaml.clone()} label="Copy YAML" />
                    <pre><code>{ format!("{}\n{grant}", alt.create_or_update) }</code></pre>
                    <CopyButton text={format!("{}\n{grant}\n", alt.create_or_update)} />
                </details>
            }
            <p class="citation">{ data_line(&advice.data) }</p>
        </>
    }
}

/// Props of [`CopyButton`].
#[derive(Properties, PartialEq)]
pub struct CopyButtonProps {
    /// What is copied.
    pub text: String,
    /// The button's label.
    #[prop_or(AttrValue::Static("Copy"))]
    pub label: AttrValue,
}

/// Copies `text` with the asynchronous Clipboard API and says whether it worked.
#[component]
pub fn CopyButton(props: &CopyButtonProps) -> Html {
    let said = use_state(|| None::<&'static str>);
    let onclick = {
        let text = props.text.clone();
        let said = said.clone();
        Callback::from(move |_: MouseEvent| {
            let text = text.clone();
            let said = said.clone();
            spawn_local(async move {
                let done = copy(&text).await;
                said.set(Some(if done { "Copied" } else { "Copy failed" }));
            });
        })
    };
    html! {
        <>
            <button type="button" class="copy" {onclick}>{ props.label.clone() }</button>
            if let Some(message) = *said {
                <span class="hint" role="status">{ format!(" {message}") }</span>
            }
        </>
    }
}

/// `navigator.clipboard.writeText(text)`; false where there is no clipboard (plain HTTP pages
/// have none) or the browser refuses.
pub(crate) async fn copy(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let navigator = window.navigator();
    // Checked first: calling into an undefined `navigator.clipboard` would throw.
    let present = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard"))
        .is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if !present {
        return false;
    }
    let clipboard: web_sys::Clipboard = navigator.clipboard().unchecked_into();
    JsFuture::from(clipboard.write_text(text)).await.is_ok()
}
