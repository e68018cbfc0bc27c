//! Share links in the page: "Copy link" for the question on the form, "Share result" for a
//! finished check, the Markdown report, and opening a link the page was loaded with.
//!
//! The codec is `core::share` (pure, tested natively); this file only adds the browser's
//! compression (`gcp::compress`), the address bar and the clipboard. Opening a link fills the
//! form (and, for a result, shows its findings under a "not re-verified" banner): it never sends
//! anything, and the fragment is removed from the address bar once read.

use super::advice::{copy, RoleDataHandle};
use super::state::{Action, OpenedLink, Outcome, State};
use crate::core::names::{BucketName, ProjectId, ServiceAccountEmail};
use crate::core::permission::parse_list;
use crate::core::report::{self, iso8601};
use crate::core::share::{
    fragment, question_payload, read_question, read_result, result_payload, unpack, Kind,
    LinkError, SharedQuestion, SharedResult, COMPRESS_FROM, DEFLATED, MAX_PAYLOAD_BYTES, RAW,
};
use crate::gcp::compress::{deflate, inflate, CompressError};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// A made link and how long its uncompressed form would have been.
#[derive(Clone, Debug, PartialEq)]
struct MadeLink {
    url: String,
    raw_chars: usize,
}

/// This page's address without its fragment.
fn page_address() -> String {
    let href = web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default();
    match href.split_once('#') {
        Some((page, _)) => page.to_owned(),
        None => href,
    }
}

/// The full link for `payload`: deflated when long and when that is shorter.
async fn make_link(kind: Kind, payload: Vec<u8>) -> MadeLink {
    let raw = fragment(kind, RAW, &payload);
    let mut best = raw.clone();
    if payload.len() >= COMPRESS_FROM {
        // Without CompressionStream the raw link still works.
        if let Ok(packed) = deflate(&payload).await {
            let deflated = fragment(kind, DEFLATED, &packed);
            if deflated.len() < raw.len() {
                best = deflated;
            }
        }
    }
    MadeLink {
        url: format!("{}{best}", page_address()),
        raw_chars: page_address().len() + raw.len(),
    }
}

/// What opening `hash` does: `Ok(None)` when it is no share link.
async fn open_link(hash: &str) -> Result<Option<Action>, LinkError> {
    let Some(packed) = unpack(hash)? else {
        return Ok(None);
    };
    let bytes = if packed.deflated {
        inflate(&packed.bytes, MAX_PAYLOAD_BYTES)
            .await
            .map_err(|e| match e {
                CompressError::TooLarge => LinkError::TooLong {
                    size: MAX_PAYLOAD_BYTES + 1,
                    cap: MAX_PAYLOAD_BYTES,
                    unit: "bytes once decompressed",
                },
                CompressError::Corrupt => {
                    LinkError::Damaged("its compressed data is cut off or edited".into())
                }
                CompressError::Unsupported => LinkError::Damaged(
                    "this browser cannot decompress links; use a current browser".into(),
                ),
            })?
    } else {
        packed.bytes
    };
    Ok(Some(match packed.kind {
        Kind::Question => Action::OpenQuestion(Box::new(read_question(&bytes)?)),
        Kind::Result => Action::OpenResult(Box::new(read_result(&bytes)?)),
    }))
}

/// Reads the address bar's fragment now and whenever it changes: a share link fills the form
/// (or shows a result); a refused one says why. Either way the fragment is then removed, so that
/// a refused link (one carrying a token, say) does not stay in the address bar.
#[hook]
pub fn use_open_shared_link(dispatch: UseReducerDispatcher<State>) {
    use_effect_with((), move |_| {
        let read = move || {
            let Some(window) = web_sys::window() else {
                return;
            };
            let hash = window.location().hash().unwrap_or_default();
            if hash.len() <= 1 {
                return;
            }
            let dispatch = dispatch.clone();
            spawn_local(async move {
                let opened = open_link(&hash).await;
                if matches!(opened, Ok(None)) {
                    return;
                }
                if let Ok(history) = window.history() {
                    let _ = history.replace_state_with_url(
                        &wasm_bindgen::JsValue::NULL,
                        "",
                        Some(&page_address()),
                    );
                }
                dispatch.dispatch(match opened {
                    Ok(Some(action)) => action,
                    Ok(None) => return,
                    Err(error) => Action::Notice(error.to_string()),
                });
            });
        };
        read();
        let listener = Closure::<dyn Fn()>::new(read);
        let window = web_sys::window();
        if let Some(window) = &window {
            let _ = window
                .add_event_listener_with_callback("hashchange", listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(window) = window {
                let _ = window.remove_event_listener_with_callback(
                    "hashchange",
                    listener.as_ref().unchecked_ref(),
                );
            }
        }
    });
}

/// The form's question, or why it cannot be shared as typed.
fn question_of(state: &State) -> Result<SharedQuestion, String> {
    fn optional<T, E: ToString>(
        text: &str,
        parse: fn(&str) -> Result<T, E>,
    ) -> Result<Option<T>, String> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        parse(text).map(Some).map_err(|e| e.to_string())
    }
    Ok(SharedQuestion {
        project: optional(&state.project, ProjectId::parse)?,
        options: state.options,
        include_skypilot: state.include_skypilot,
        custom: parse_list(&state.custom).permissions,
        bucket: optional(&state.bucket, BucketName::parse)?,
        service_account: optional(&state.service_account, ServiceAccountEmail::parse)?,
    })
}

/// A read-only link field with its label, and how long the link is.
fn link_field(id: &'static str, label: &'static str, link: &Option<MadeLink>) -> Html {
    let Some(link) = link else {
        return html! {};
    };
    let chars = link.url.chars().count();
    let size = if chars < link.raw_chars {
        format!("{chars} characters (compressed from {})", link.raw_chars)
    } else {
        format!("{chars} characters")
    };
    let on_focus = Callback::from(|e: FocusEvent| {
        if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>() {
            input.select();
        }
    });
    html! {
        <div class="share-field">
            <label for={id}>{ label }</label>
            <input id={id} type="text" readonly=true value={link.url.clone()} onfocus={on_focus} />
            <p class="hint" data-testid={format!("{id}-size")}>{ size }</p>
        </div>
    }
}

/// Props of [`ShareQuestion`].
#[derive(Properties, PartialEq)]
pub struct ShareQuestionProps {
    /// App state.
    pub state: UseReducerHandle<State>,
}

/// "Copy link": the question on the form (never the token) as a link, also shown in a read-only
/// "Share link" field. A link opened into the form says so here, and that nothing was sent.
#[component]
pub fn ShareQuestion(props: &ShareQuestionProps) -> Html {
    let state = &props.state;
    let link = use_state(|| None::<MadeLink>);
    let said = use_state(|| None::<String>);
    // A link made before the question changed no longer says what the form says: drop it.
    {
        let (link, said) = (link.clone(), said.clone());
        let question = (
            state.project.clone(),
            state.options,
            state.include_skypilot,
            state.custom.clone(),
            state.bucket.clone(),
            state.service_account.clone(),
        );
        use_effect_with(question, move |_| {
            link.set(None);
            said.set(None);
        });
    }
    let onclick = {
        let state = state.clone();
        let link = link.clone();
        let said = said.clone();
        Callback::from(move |_| {
            let payload = question_of(&state).and_then(|q| {
                question_payload(&q).map_err(|e| match e {
                    LinkError::TokenShaped => "No link made: a field holds something that looks like an access token. Tokens never go into links.".to_string(),
                    other => other.to_string(),
                })
            });
            let payload = match payload {
                Ok(payload) => payload,
                Err(message) => {
                    link.set(None);
                    said.set(Some(message));
                    return;
                }
            };
            let link = link.clone();
            let said = said.clone();
            spawn_local(async move {
                let made = make_link(Kind::Question, payload).await;
                let copied = copy(&made.url).await;
                said.set(Some(
                    if copied {
                        "Link copied. It holds the project and options, never your token."
                    } else {
                        "Copy the link from the field below. It holds the project and options, never your token."
                    }
                    .into(),
                ));
                link.set(Some(made));
            });
        })
    };
    html! {
        <section class="share share-question" aria-label="Share this question">
            if state.opened_link == Some(OpenedLink::Question) {
                <p class="hint opened-link" role="status" data-testid="opened-question">
                    { "Filled in from a shared link. Nothing has been sent: paste your token and press Check to see what your account can do." }
                </p>
            }
            <div class="row share-actions">
                <button type="button" {onclick}>{ "Copy link" }</button>
                <span class="hint">{ "Share this question (project, options, bucket, service account, custom list) — never the token." }</span>
            </div>
            if let Some(text) = &*said {
                <p class="hint" role="status">{ text }</p>
            }
            { link_field("share-link", "Share link", &link) }
        </section>
    }
}

/// Who saw what, where and when, for a result opened from a link.
#[derive(Properties, PartialEq)]
pub struct SharedBannerProps {
    /// The account's email, when the sender included it.
    pub email: Option<String>,
    /// The project.
    pub project: ProjectId,
    /// When (ms since the epoch).
    pub checked_at_ms: u64,
}

/// The banner over a shared result: not re-verified.
#[component]
pub fn SharedBanner(props: &SharedBannerProps) -> Html {
    let who = props
        .email
        .clone()
        .unwrap_or_else(|| "An account (email not shared)".into());
    let when = iso8601(props.checked_at_ms)
        .replace('T', " ")
        .replace('Z', " UTC");
    html! {
        <div class="shared-banner" role="note" data-testid="shared-banner">
            <strong>{ "Shared result — not re-verified." }</strong>
            { format!(" {who} saw this on project {} at {when}. Nothing was sent from this page; permissions may have changed since. Paste a token and press Re-check to see it for your account now.", props.project) }
        </div>
    }
}

/// Props of [`ResultActions`].
#[derive(Properties, PartialEq)]
pub struct ResultActionsProps {
    /// The result on display.
    pub outcome: Outcome,
    /// The account's email, when known.
    pub email: Option<String>,
}

/// The Markdown report (copy or download), and "Share result" with its "Result link" field.
#[component]
pub fn ResultActions(props: &ResultActionsProps) -> Html {
    let role_data = use_context::<RoleDataHandle>();
    // On by default: the banner's "who saw this" and the grant commands' --member need it, and
    // the person shared with is usually the admin granting to that account. Untick to leave it out.
    let include_email = use_state(|| true);
    let link = use_state(|| None::<MadeLink>);
    let said = use_state(|| None::<String>);
    let outcome = &props.outcome;
    // Another result on screen: a link made for the previous one is dropped.
    {
        let (link, said) = (link.clone(), said.clone());
        let shown = (
            outcome.plan.fingerprint.clone(),
            outcome.plan.project.clone(),
            outcome.checked_at_ms,
        );
        use_effect_with(shown, move |_| {
            link.set(None);
            said.set(None);
        });
    }
    let markdown = {
        let outcome = outcome.clone();
        let email = props.email.clone();
        let advice = role_data.clone();
        move || {
            let mut report = report::build(
                &outcome.plan,
                &outcome.findings,
                email.as_deref(),
                outcome.checked_at_ms,
            );
            if let Some(advice) = advice.as_deref() {
                report = advice.add_known_advice(report, &outcome.plan);
            }
            report.to_markdown()
        }
    };
    let on_copy_markdown = {
        let markdown = markdown.clone();
        let said = said.clone();
        Callback::from(move |_| {
            let text = markdown();
            let said = said.clone();
            spawn_local(async move {
                let copied = copy(&text).await;
                said.set(Some(
                    if copied {
                        "Markdown report copied."
                    } else {
                        "Copy failed: use Download Markdown."
                    }
                    .into(),
                ));
            });
        })
    };
    let on_download_markdown = {
        let project = outcome.plan.project.clone();
        Callback::from(move |_| {
            super::results::offer_download(
                &format!("gcp-preflight-{project}.md"),
                "text/markdown",
                &markdown(),
            )
        })
    };
    let shareable = SharedResult::new(
        &outcome.plan,
        SharedQuestion::from_plan(&outcome.plan),
        &outcome.findings,
        outcome.checked_at_ms,
        None,
    )
    .is_some();
    let on_share = {
        let outcome = outcome.clone();
        let email = props.email.clone();
        let include_email = *include_email;
        let link = link.clone();
        let said = said.clone();
        Callback::from(move |_| {
            let shared = SharedResult::new(
                &outcome.plan,
                SharedQuestion::from_plan(&outcome.plan),
                &outcome.findings,
                outcome.checked_at_ms,
                email.as_deref().filter(|_| include_email),
            );
            let Some(payload) = shared.map(|s| result_payload(&s)) else {
                return;
            };
            let payload = match payload {
                Ok(payload) => payload,
                Err(error) => {
                    said.set(Some(error.to_string()));
                    return;
                }
            };
            let link = link.clone();
            let said = said.clone();
            spawn_local(async move {
                let made = make_link(Kind::Result, payload).await;
                let copied = copy(&made.url).await;
                said.set(Some(
                    if copied {
                        "Result link copied. It holds the findings, never your token."
                    } else {
                        "Copy the result link from the field below."
                    }
                    .into(),
                ));
                link.set(Some(made));
            });
        })
    };
    let on_include = {
        let include_email = include_email.clone();
        let link = link.clone();
        Callback::from(move |e: Event| {
            let on = e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .checked();
            include_email.set(on);
            // A link made with the other choice no longer says what the box says.
            link.set(None);
        })
    };
    html! {
        <div class="share share-result">
            <div class="row share-actions">
                <button type="button" onclick={on_copy_markdown}>{ "Copy Markdown" }</button>
                <button type="button" onclick={on_download_markdown}>{ "Download Markdown" }</button>
                <button type="button" onclick={on_share} disabled={!shareable}>{ "Share result" }</button>
                <span class="option">
                    <input type="checkbox" id="share-email" checked={*include_email} onchange={on_include} />
                    <label for="share-email">{ "Include account email" }</label>
                </span>
            </div>
            if !shareable {
                <p class="hint">{ "A result with failed requests is not shared (an error is not a verdict): Re-check first." }</p>
            }
            if let Some(text) = &*said {
                <p class="hint" role="status">{ text }</p>
            }
            { link_field("result-link", "Result link", &link) }
        </div>
    }
}
