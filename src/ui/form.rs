//! The inputs: token and identity, project, SkyPilot options, bucket, service account and a
//! custom permission list. Labels are part of the UI contract (automation and screen readers).

use super::advice::CopyButton;
use super::state::{Action, Field, IdentityState, Run, State};
use crate::core::catalog::{Mode, Options};
use crate::core::demo;
use crate::core::identity::TokenKind;
use crate::core::names::{BucketName, NameError, ProjectId, ServiceAccountEmail};
use crate::core::permission::parse_list;
use crate::core::token::Token;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

/// Props of [`CheckForm`].
#[derive(Properties, PartialEq)]
pub struct FormProps {
    /// App state.
    pub state: UseReducerHandle<State>,
    /// Dispatcher.
    pub dispatch: UseReducerDispatcher<State>,
    /// Runs a check (`true` = ignore the cache).
    pub on_check: Callback<bool>,
}

fn input_value(e: &InputEvent) -> String {
    e.target_unchecked_into::<HtmlInputElement>().value()
}

fn text_input(
    dispatch: &UseReducerDispatcher<State>,
    field: fn(String) -> Field,
) -> Callback<InputEvent> {
    let dispatch = dispatch.clone();
    Callback::from(move |e: InputEvent| dispatch.dispatch(Action::Edit(field(input_value(&e)))))
}

/// Why what was typed is refused; nothing while the field is empty.
fn typed_error<T>(text: &str, parse: fn(&str) -> Result<T, NameError>) -> Option<String> {
    if text.trim().is_empty() {
        return None;
    }
    parse(text).err().map(|e| e.to_string())
}

/// A validation message under a field, when the text is non-empty and invalid.
fn field_error(id: &str, error: Option<String>) -> Html {
    match error {
        Some(message) => {
            html! { <p class="field-error" id={id.to_string()} role="alert">{ message }</p> }
        }
        None => html! {},
    }
}

/// What is known about a token's account, under its field. `expected` is the kind of token the
/// field asks for; another kind is pointed out, since `sky check` uses both.
fn identity_line(
    identity: &IdentityState,
    now_ms: u64,
    test_id: &'static str,
    expected: TokenKind,
) -> Html {
    match identity {
        IdentityState::None => html! {},
        IdentityState::Pending => {
            html! { <p class="identity" data-testid={test_id}>{ "Looking up the account…" }</p> }
        }
        IdentityState::Known(id) => {
            let expiry = match id.minutes_left(now_ms) {
                Some(0) => "token expired".to_string(),
                Some(m) => format!("token expires in {m} min"),
                None => "expiry unknown".into(),
            };
            let scopes: Vec<String> = id
                .scopes
                .iter()
                .map(|s| {
                    s.trim_start_matches("https://www.googleapis.com/auth/")
                        .to_string()
                })
                .collect();
            let kind = id.kind();
            let minted_by = match kind {
                TokenKind::Other => String::new(),
                kind => format!(" · {}", kind.label()),
            };
            let mismatch = match (kind, expected) {
                (TokenKind::GcloudCli, TokenKind::ApplicationDefault) => Some(
                    "This is a gcloud CLI token, but `sky check gcp` tests permissions with application-default credentials: paste `gcloud auth application-default print-access-token` here, and this one under \"gcloud CLI token\".",
                ),
                (TokenKind::ApplicationDefault, TokenKind::GcloudCli) => Some(
                    "This is an application-default token; `gcloud auth print-access-token` gives the gcloud CLI account's.",
                ),
                _ => None,
            };
            let read_only = (!id.can_call_iam()).then_some(
                "Read-only scope: service accounts cannot be tested with it (IAM needs the full cloud-platform scope).",
            );
            let scopes = if id.scopes_known() {
                format!("scopes: {}", scopes.join(", "))
            } else {
                "scopes unknown".into()
            };
            html! {
                <>
                    <p class="identity" data-testid={test_id}>
                        { "Account: " }<strong>{ id.display_name() }</strong>
                        { format!("{minted_by} · {expiry} · {scopes}") }
                    </p>
                    if !id.scopes_known() {
                        <p class="hint" data-testid={format!("{test_id}-unknowns")}>
                            { "tokeninfo could not be reached from this page, so the account comes from OpenID userinfo: the token's expiry, scopes and which gcloud credential minted it are unknown. Checks still run; an expired token or a missing scope shows as Google's error." }
                        </p>
                    }
                    if let Some(text) = mismatch {
                        <p class="hint warning" data-testid={format!("{test_id}-kind")}>{ text }</p>
                    }
                    if let Some(text) = read_only {
                        <p class="hint warning">{ text }</p>
                    }
                </>
            }
        }
        IdentityState::Failed(error) => {
            let after = if error.is_token_problem() {
                ""
            } else {
                " Checks still run, but without knowing the account their results are not cached."
            };
            html! {
                <p class="identity error" data-testid={test_id} role="alert">{ format!("{error}{after}") }</p>
            }
        }
    }
}

/// One labelled option checkbox.
fn option_box(
    label: &str,
    key: &str,
    checked: bool,
    options: Options,
    set: fn(Options, bool) -> Options,
    dispatch: &UseReducerDispatcher<State>,
) -> Html {
    let dispatch = dispatch.clone();
    let onchange = Callback::from(move |e: Event| {
        let on = e.target_unchecked_into::<HtmlInputElement>().checked();
        dispatch.dispatch(Action::Edit(Field::Options(set(options, on))));
    });
    let id = format!("opt-{key}");
    html! {
        <div class="option">
            <input type="checkbox" id={id.clone()} {checked} {onchange} />
            <label for={id}>{ label }</label>
        </div>
    }
}

/// The form.
#[component]
pub fn CheckForm(props: &FormProps) -> Html {
    let state = &props.state;
    let dispatch = &props.dispatch;
    let options = state.options;

    // A token is checked as it is pasted: text that cannot be a bearer token is refused here,
    // with the character and its position, and never reaches the state or a request.
    let on_token = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: InputEvent| {
            dispatch.dispatch(match Token::parse(&input_value(&e)) {
                Ok(token) => Action::Token(token),
                Err(error) => Action::TokenRefused(error),
            })
        })
    };
    let on_cli_token = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: InputEvent| {
            dispatch.dispatch(match Token::parse(&input_value(&e)) {
                Ok(token) => Action::CliToken(token),
                Err(error) => Action::CliTokenRefused(error),
            })
        })
    };
    let on_forget = {
        let dispatch = dispatch.clone();
        Callback::from(move |_| dispatch.dispatch(Action::Forget))
    };
    let demo_as = |token: &'static str, project: &'static str| {
        let dispatch = dispatch.clone();
        Callback::from(move |_| {
            dispatch.dispatch(Action::Demo {
                token: token.into(),
                project: project.into(),
            })
        })
    };
    // Not a <form>: a password field in a form with a submit button is what password managers
    // offer to save. Check is a plain button, and Enter in a one-line field presses it.
    let on_check_click = {
        let on_check = props.on_check.clone();
        Callback::from(move |_: MouseEvent| on_check.emit(false))
    };
    let on_enter = {
        let on_check = props.on_check.clone();
        let running = matches!(
            state.run,
            Run::Running { .. } | Run::AwaitingIdentity { .. }
        );
        Callback::from(move |e: KeyboardEvent| {
            if e.key() != "Enter" || running {
                return;
            }
            let one_line = e
                .target_dyn_into::<HtmlInputElement>()
                .is_some_and(|input| matches!(input.type_().as_str(), "text" | "password"));
            if one_line {
                e.prevent_default();
                on_check.emit(false);
            }
        })
    };
    let on_custom = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let text = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            dispatch.dispatch(Action::Edit(Field::Custom(text)));
        })
    };
    let on_include = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let on = e.target_unchecked_into::<HtmlInputElement>().checked();
            dispatch.dispatch(Action::Edit(Field::IncludeSkypilot(on)));
        })
    };
    let on_mode = |mode: Mode| {
        let dispatch = dispatch.clone();
        Callback::from(move |_| {
            dispatch.dispatch(Action::Edit(Field::Options(Options { mode, ..options })))
        })
    };

    // 1Password's opt-out (`data-1p-ignore`) is not a name html! accepts: set it on the DOM.
    use_effect(|| {
        let document = web_sys::window().and_then(|w| w.document());
        for id in ["token", "cli-token"] {
            if let Some(input) = document.as_ref().and_then(|d| d.get_element_by_id(id)) {
                let _ = input.set_attribute("data-1p-ignore", "true");
            }
        }
    });

    let project_error = typed_error(&state.project, ProjectId::parse);
    let bucket_error = typed_error(&state.bucket, BucketName::parse);
    let account_error = typed_error(&state.service_account, ServiceAccountEmail::parse);
    let suggested_account = ProjectId::parse(&state.project)
        .ok()
        .map(|p| ServiceAccountEmail::skypilot_default(&p).to_string())
        .filter(|s| *s != state.service_account);
    let account_placeholder = suggested_account
        .clone()
        .unwrap_or_else(|| "skypilot-v1@PROJECT.iam.gserviceaccount.com".into());
    // Parsed once per edit of the list: the form re-renders on every answer of a check.
    let custom = use_memo(state.custom.clone(), |text| parse_list(text));
    let running = matches!(
        state.run,
        Run::Running { .. } | Run::AwaitingIdentity { .. }
    );

    html! {
        <div class="check-form" onkeydown={on_enter}>
            if state.demo {
                <div class="demo-banner" role="note">
                    <strong>{ "Demo mode — simulated Google." }</strong>
                    { " No request leaves this page. Two accounts and two projects: on " }
                    <code>{ demo::DEMO_PROJECT_SEED }</code>
                    { " Alice can use storage but lacks the firewall permissions — the failure this tool exists to catch. On " }
                    <code>{ demo::DEMO_PROJECT_TEAM }</code>
                    { " she is like an Owner: pick \"SkyPilot docs\", then try Bucket " }<code>{ "demo-jobs-bucket" }</code>
                    { " and the suggested service account." }
                    <div class="demo-accounts">
                        <button type="button" onclick={demo_as(demo::DEMO_TOKEN_ALICE, demo::DEMO_PROJECT_SEED)}>{ "Demo: Alice" }</button>
                        <button type="button" onclick={demo_as(demo::DEMO_TOKEN_BOB, demo::DEMO_PROJECT_SEED)}>{ "Demo: Bob" }</button>
                    </div>
                </div>
            }
            <section class="field-group">
                <super::signin::SignIn dispatch={dispatch.clone()} identity={state.identity.clone()} />
                <label for="token">{ "Access token" }</label>
                <div class="row">
                    <input id="token" type="password" autocomplete="off" spellcheck="false"
                        data-lpignore="true" data-bwignore="true" data-form-type="other"
                        placeholder="paste the output of: gcloud auth application-default print-access-token"
                        value={state.token.to_string()} oninput={on_token} />
                    <button type="button" onclick={on_forget}>{ "Forget token" }</button>
                </div>
                { identity_line(&state.identity, state.now_ms, "identity", TokenKind::ApplicationDefault) }
                <details class="cli-token" open={!state.cli_token.is_empty()}>
                    <summary>{ "Also check the gcloud CLI account (optional)" }</summary>
                    <p class="hint">
                        { "`sky check gcp` tests permissions with application-default credentials but lists and enables APIs as the gcloud CLI account; after `gcloud config set account`, the two can differ. Paste " }
                        <code>{ "gcloud auth print-access-token" }</code><CopyButton text="gcloud auth print-access-token" />{ " to check both." }
                    </p>
                    <label for="cli-token">{ "gcloud CLI token" }</label>
                    <input id="cli-token" type="password" autocomplete="off" spellcheck="false"
                        data-lpignore="true" data-bwignore="true" data-form-type="other"
                        placeholder="optional: the output of gcloud auth print-access-token"
                        value={state.cli_token.to_string()} oninput={on_cli_token} />
                    { identity_line(&state.cli_identity, state.now_ms, "cli-identity", TokenKind::GcloudCli) }
                </details>
                if !state.demo {
                    <p class="hint">
                        { "No token at hand? " }
                        <button type="button" class="link" onclick={demo_as(demo::DEMO_TOKEN_ALICE, demo::DEMO_PROJECT_SEED)}>{ "Try the demo" }</button>
                    </p>
                }
            </section>
            <section class="field-group">
                <label for="project">{ "Project ID" }</label>
                <input id="project" type="text" list="project-suggestions" autocomplete="off" spellcheck="false"
                    placeholder="my-project-123" value={state.project.clone()}
                    aria-describedby="project-error" oninput={text_input(dispatch, Field::Project)} />
                { super::picker::project_suggestions(state) }
                { field_error("project-error", project_error) }
                <p class="hint">
                    { "`sky check gcp` tests permissions on the default project of your application-default credentials (" }
                    <code>{ "gcloud config get-value project" }</code><CopyButton text="gcloud config get-value project" />
                    { ", or gcp.project_id in ~/.sky/config.yaml for the APIs): enter that project to see what it sees." }
                </p>
            </section>
            <details class="field-group options" open=true>
                <summary>{ "What your SkyPilot setup needs" }</summary>
                <super::skyfiles::SkyFilesFields state={state.clone()} dispatch={dispatch.clone()} />
                <fieldset>
                    <legend>{ "Permission list" }</legend>
                    <div class="option">
                        <input type="radio" id="mode-check" name="mode" checked={options.mode == Mode::SkyCheckParity} onchange={on_mode(Mode::SkyCheckParity)} />
                        <label for="mode-check">{ "sky check parity (exactly what `sky check gcp` tests)" }</label>
                    </div>
                    <div class="option">
                        <input type="radio" id="mode-docs" name="mode" checked={options.mode == Mode::SkyPilotDocs} onchange={on_mode(Mode::SkyPilotDocs)} />
                        <label for="mode-docs">{ "SkyPilot docs (the documented minimal role, incl. setMetadata and actAs)" }</label>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{ "Options (~/.sky/config.yaml and launch flags)" }</legend>
                    { option_box("Custom VPC (gcp.vpc_name)", "vpc", options.custom_vpc, options, |o, v| Options { custom_vpc: v, ..o }, dispatch) }
                    { option_box("Open ports (resources.ports)", "ports", options.open_ports, options, |o, v| Options { open_ports: v, ..o }, dispatch) }
                    { option_box("TPUs", "tpus", options.tpus, options, |o, v| Options { tpus: v, ..o }, dispatch) }
                    { option_box("Reservations (gcp.prioritize_reservations / gcp.specific_reservations)", "reservations", options.reservations, options, |o, v| Options { reservations: v, ..o }, dispatch) }
                    { option_box("Clone disk (--clone-disk-from)", "clone", options.clone_disk, options, |o, v| Options { clone_disk: v, ..o }, dispatch) }
                    { option_box("Custom image (--image-id)", "image", options.custom_image, options, |o, v| Options { custom_image: v, ..o }, dispatch) }
                    { option_box("GCS storage mounts (tasks mount or copy from gs://)", "gcs-mounts", options.gcs_mounts, options, |o, v| Options { gcs_mounts: v, ..o }, dispatch) }
                </fieldset>
                <div class="row two">
                    <div>
                        <label for="bucket">{ "Bucket" }</label>
                        <input id="bucket" type="text" autocomplete="off" spellcheck="false" placeholder="optional: your jobs.bucket, e.g. gs://my-sky-bucket/jobs"
                            value={state.bucket.clone()} oninput={text_input(dispatch, Field::Bucket)} />
                        { field_error("bucket-error", bucket_error) }
                    </div>
                    <div>
                        <label for="service-account">{ "Service account" }</label>
                        <div class="row">
                            <input id="service-account" type="text" autocomplete="off" spellcheck="false" placeholder={format!("optional, e.g. {account_placeholder}")}
                                value={state.service_account.clone()} oninput={text_input(dispatch, Field::ServiceAccount)} />
                            if let Some(suggested) = suggested_account.clone() {
                                <button type="button" title={suggested.clone()} onclick={{
                                    let dispatch = dispatch.clone();
                                    Callback::from(move |_| dispatch.dispatch(Action::Edit(Field::ServiceAccount(suggested.clone()))))
                                }}>{ "Use skypilot-v1" }</button>
                            }
                        </div>
                        { field_error("service-account-error", account_error) }
                    </div>
                </div>
                <div class="option">
                    <input type="checkbox" id="include-skypilot" checked={state.include_skypilot} onchange={on_include} />
                    <label for="include-skypilot">{ "SkyPilot profiles (untick to test only the custom list)" }</label>
                </div>
                <label for="custom">{ "Custom permissions" }</label>
                <textarea id="custom" rows="4" spellcheck="false"
                    placeholder="one per line, or separated by commas or spaces — e.g. from a custom role or a Terraform file"
                    value={state.custom.clone()} oninput={on_custom} />
                if !custom.rejected.is_empty() || custom.duplicates > 0 || !custom.permissions.is_empty() {
                    <p class="hint" data-testid="custom-summary">
                        { format!("{} to check", custom.permissions.len()) }
                        if custom.duplicates > 0 { { format!(", {} duplicate(s) folded", custom.duplicates) } }
                        if !custom.rejected.is_empty() { { format!(", {} skipped:", custom.rejected.len()) } }
                    </p>
                }
                if !custom.rejected.is_empty() {
                    <ul class="rejected" role="alert">
                        { for custom.rejected.iter().take(20).map(|r| html! {
                            <li><code>{ &r.text }</code>{ format!(" {}", r.reason) }</li>
                        }) }
                    </ul>
                }
            </details>
            <div class="actions">
                <button type="button" class="primary" disabled={running} onclick={on_check_click}>
                    { "Check" }
                </button>
            </div>
        </div>
    }
}
