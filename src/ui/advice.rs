//! How to fix a not-ready verdict: the least-privilege roles to ask for, the `gcloud` commands
//! with copy buttons, and the custom-role alternative.
//!
//! The role data is a separate static asset (`roles/skypilot.json`, or `roles/full.json` for
//! custom lists) fetched only when advice is first shown, never in the first load.
//! [`RoleDataProvider`] keeps what was fetched for the life of the page, so every card shares
//! one download; an [`Advice`] outside a provider wraps itself in one.

use crate::core::names::ProjectId;
use crate::core::roles::fix::{advise, data_line, FixAdvice, Member, MissingAt};
use crate::core::roles::RoleIndex;
use gloo_net::http::Request;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use yew::prelude::*;

/// Which role file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleFile {
    /// Roles for SkyPilot's catalogue permissions (a few KB).
    SkyPilot,
    /// Every predefined role (about 140 KB gzip), for custom permission lists.
    Full,
}

impl RoleFile {
    /// Relative, so that the app works under a sub-path.
    fn url(self) -> &'static str {
        match self {
            RoleFile::SkyPilot => "roles/skypilot.json",
            RoleFile::Full => "roles/full.json",
        }
    }
}

/// Where one role file is.
#[derive(Clone, Debug, Default)]
pub enum Load {
    /// Nobody asked for it yet.
    #[default]
    Idle,
    /// Asked for; the provider starts the download.
    Wanted,
    /// Downloading.
    Loading,
    /// Parsed and kept for the page's life.
    Ready(Rc<RoleIndex>),
    /// Could not be fetched or parsed: one line for the user.
    Failed(String),
}

impl PartialEq for Load {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Load::Ready(a), Load::Ready(b)) => Rc::ptr_eq(a, b),
            (Load::Failed(a), Load::Failed(b)) => a == b,
            (Load::Idle, Load::Idle) | (Load::Wanted, Load::Wanted) => true,
            (Load::Loading, Load::Loading) => true,
            _ => false,
        }
    }
}

/// Both role files' states.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleData {
    /// `roles/skypilot.json`.
    pub skypilot: Load,
    /// `roles/full.json`.
    pub full: Load,
}

/// What happens to a role file.
pub enum RoleDataAction {
    /// A card needs it: fetch it unless already fetched or on its way.
    Want(RoleFile),
    /// The provider started the download.
    Started(RoleFile),
    /// The download ended.
    Finished(RoleFile, Result<Rc<RoleIndex>, String>),
}

impl RoleData {
    fn slot(&mut self, file: RoleFile) -> &mut Load {
        match file {
            RoleFile::SkyPilot => &mut self.skypilot,
            RoleFile::Full => &mut self.full,
        }
    }

    fn get(&self, file: RoleFile) -> &Load {
        match file {
            RoleFile::SkyPilot => &self.skypilot,
            RoleFile::Full => &self.full,
        }
    }

    /// The best index loaded so far: the full one answers whatever the small one does.
    pub fn loaded(&self) -> Option<Rc<RoleIndex>> {
        match (&self.full, &self.skypilot) {
            (Load::Ready(index), _) | (_, Load::Ready(index)) => Some(index.clone()),
            _ => None,
        }
    }
}

impl Reducible for RoleData {
    type Action = RoleDataAction;

    fn reduce(self: Rc<Self>, action: RoleDataAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            RoleDataAction::Want(file) => match next.get(file) {
                // A failed download is tried again when a card next asks.
                Load::Idle | Load::Failed(_) => *next.slot(file) = Load::Wanted,
                _ => return self,
            },
            RoleDataAction::Started(file) => *next.slot(file) = Load::Loading,
            RoleDataAction::Finished(file, result) => {
                *next.slot(file) = match result {
                    Ok(index) => Load::Ready(index),
                    Err(message) => Load::Failed(message),
                }
            }
        }
        Rc::new(next)
    }
}

/// The context [`RoleDataProvider`] gives its children.
pub type RoleDataHandle = UseReducerHandle<RoleData>;

/// Fetches and parses one role file. Every failure becomes one line of text.
async fn fetch_roles(file: RoleFile) -> Result<Rc<RoleIndex>, String> {
    let url = file.url();
    let response = Request::get(url)
        .send()
        .await
        .map_err(|e| format!("Could not load the role data ({url}): {e}"))?;
    if !response.ok() {
        return Err(format!(
            "Could not load the role data ({url}): HTTP {}",
            response.status()
        ));
    }
    let text = response
        .text()
        .await
        .map_err(|e| format!("Could not read the role data ({url}): {e}"))?;
    RoleIndex::from_json(&text)
        .map(Rc::new)
        .map_err(|e| e.to_string())
}

/// Props of [`RoleDataProvider`].
#[derive(Properties, PartialEq)]
pub struct RoleDataProviderProps {
    /// Everything that may show advice.
    #[prop_or_default]
    pub children: Html,
}

/// Keeps the role data for the page: put it once around the results.
#[component]
pub fn RoleDataProvider(props: &RoleDataProviderProps) -> Html {
    let data = use_reducer(RoleData::default);
    // The provider, not each card, downloads: several cards asking at once share one fetch.
    {
        let handle = data.clone();
        let wanted = (data.skypilot == Load::Wanted, data.full == Load::Wanted);
        use_effect_with(wanted, move |(skypilot, full)| {
            for (file, wanted) in [(RoleFile::SkyPilot, *skypilot), (RoleFile::Full, *full)] {
                if wanted {
                    handle.dispatch(RoleDataAction::Started(file));
                    let handle = handle.clone();
                    spawn_local(async move {
                        let result = fetch_roles(file).await;
                        handle.dispatch(RoleDataAction::Finished(file, result));
                    });
                }
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
    let file = if p.custom_list {
        RoleFile::Full
    } else {
        RoleFile::SkyPilot
    };
    // Ask on mount (and again should the file be switched or a failed download be retried).
    {
        let data = props.data.clone();
        use_effect_with(file, move |file| data.dispatch(RoleDataAction::Want(*file)));
    }
    // The full index answers catalogue permissions exactly as the small one does.
    let load = match (props.data.get(file), &props.data.full) {
        (_, Load::Ready(full)) => Load::Ready(full.clone()),
        (load, _) => load.clone(),
    };
    let advice = use_memo((load.clone(), p.clone()), |(load, p)| match load {
        Load::Ready(index) => Some(
            Member::from_identity(p.member_email.as_deref(), p.service_account)
                .and_then(|member| advise(index, &p.project, &member, &p.missing, &p.apis_off)),
        ),
        _ => None,
    });
    let body = match (&load, advice.as_ref()) {
        (Load::Failed(message), _) => {
            html! { <p class="error" role="alert">{ message.clone() }</p> }
        }
        (_, Some(Ok(advice))) => view(advice),
        (_, Some(Err(error))) => html! { <p class="error" role="alert">{ error.to_string() }</p> },
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
