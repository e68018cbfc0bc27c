//! The results region: one verdict each for Compute, Storage, Managed jobs (and Custom), how to
//! fix what is missing, the APIs, every permission by group, and the JSON report.

use super::advice::{Advice, CopyButton, RoleData, RoleDataHandle};
use super::now_ms;
use super::share::{ResultActions, SharedBanner};
use super::state::{IdentityState, OpenedLink, Outcome, Run, State};
use crate::core::advice::missing_by_target;
use crate::core::cache::describe_age;
use crate::core::catalog::Source;
use crate::core::check::ApiFinding;
use crate::core::google_error::ErrorKind;
use crate::core::google_error::GCLOUD_SHARED_PROJECT;
use crate::core::report;
use crate::core::roles::fix::shell_word;
use crate::core::verdict::{
    differences, effective, group_verdict, verdicts, Effective, Status, Verdict,
    NOT_VALID_ON_PROJECT,
};
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// Props of [`Results`].
#[derive(Properties, PartialEq)]
pub struct ResultsProps {
    /// App state.
    pub state: UseReducerHandle<State>,
    /// Runs a check (`true` = ignore the cache).
    pub on_check: Callback<bool>,
}

/// Missing permissions listed in a card before the rest folds away (the fix command has all).
const SHOWN_MISSING: usize = 10;

fn status_class(status: Status) -> &'static str {
    match status {
        Status::Ready => "ready",
        Status::NotReady => "not-ready",
        Status::Unknown => "unknown",
    }
}

fn permission_list(list: &[crate::core::permission::Permission]) -> Html {
    html! {
        <>
            <ul class="missing">
                { for list.iter().take(SHOWN_MISSING).map(|p| html! { <li><code>{ p.as_str() }</code></li> }) }
            </ul>
            if list.len() > SHOWN_MISSING {
                <details class="more">
                    <summary>{ format!("and {} more", list.len() - SHOWN_MISSING) }</summary>
                    <ul class="missing">
                        { for list.iter().skip(SHOWN_MISSING).map(|p| html! { <li><code>{ p.as_str() }</code></li> }) }
                    </ul>
                </details>
            }
        </>
    }
}

fn verdict_card(v: &Verdict, outcome: &Outcome, email: Option<&str>) -> Html {
    let plan = &outcome.plan;
    // A custom list may name any permission: only the full role index covers it.
    let custom_list = v.topic == crate::core::verdict::Topic::Custom;
    let heading_id = format!("verdict-heading-{}", v.topic.slug());
    html! {
        <article class={classes!("verdict", status_class(v.status))} aria-labelledby={heading_id.clone()}>
            <h3 id={heading_id}>{ v.topic.title() }</h3>
            <p class="status" data-testid={format!("verdict-{}", v.topic.slug())}>{ v.status.label() }</p>
            if !v.blockers.is_empty() {
                <ul class="blockers">
                    { for v.blockers.iter().map(|b| html! { <li>{ b }</li> }) }
                </ul>
            }
            if !v.missing.is_empty() {
                <p>{ format!("Missing permissions ({}):", v.missing.len()) }</p>
                { permission_list(&v.missing) }
            }
            if !v.not_valid.is_empty() {
                <p>{ format!("Not valid on a project ({}) — {NOT_VALID_ON_PROJECT}:", v.not_valid.len()) }</p>
                { permission_list(&v.not_valid) }
            }
            if !v.apis_off.is_empty() {
                <p>{ "APIs turned off:" }</p>
                <ul class="missing">
                    { for v.apis_off.iter().map(|a| html! { <li><code>{ a }</code></li> }) }
                </ul>
            }
            if !v.unknown_reasons.is_empty() {
                <ul class="reasons">
                    { for v.unknown_reasons.iter().map(|r| html! { <li>{ r }</li> }) }
                </ul>
            }
            if !v.notes.is_empty() {
                <ul class="notes">
                    { for v.notes.iter().map(|n| html! { <li>{ n }</li> }) }
                </ul>
            }
            if v.has_fix() {
                <details class="fix" open=true>
                    <summary>{ "How to fix" }</summary>
                    <Advice project={plan.project.clone()} member_email={email.map(str::to_owned)}
                        missing={missing_by_target(plan, v)} apis_off={v.apis_off.clone()} {custom_list} />
                </details>
            }
        </article>
    }
}

/// `gcloud services enable SERVICE --project=P`, each value shell-quoted.
fn enable_command(service: &str, plan: &crate::core::plan::Plan) -> String {
    format!(
        "gcloud services enable {} --project={}",
        shell_word(service),
        shell_word(plan.project.as_str())
    )
}

/// The APIs each verdict needs, on / off / unknown, with the command that turns on those off.
fn apis_list(outcome: &Outcome) -> Html {
    let plan = &outcome.plan;
    if plan.apis.is_empty() {
        return html! {};
    }
    html! {
        <section class="apis-section">
            <h3>{ "APIs on the project" }</h3>
            <ul class="apis" data-testid="apis">
                { for plan.apis.iter().map(|api| {
                    let state = match outcome.findings.apis.get(&api.service) {
                        Some(ApiFinding::On) => "on",
                        Some(ApiFinding::Off) => "off",
                        _ => "unknown",
                    };
                    html! {
                        <li class={state}>
                            <code>{ &api.service }</code>{ ": " }<span>{ state }</span>
                            if state == "off" {
                                <code class="command">{ enable_command(&api.service, plan) }</code>
                                <CopyButton text={enable_command(&api.service, plan)} />
                            }
                            if let Some(other) = outcome.findings.grep_matches.get(&api.service) {
                                <span class="hint">{ format!(" — SkyPilot's grep mistakes {other} for it") }</span>
                            }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}

/// Held / missing / other counts per service (`compute`, `iam`, …).
fn by_service(outcome: &Outcome) -> Html {
    let plan = &outcome.plan;
    let mut rows: Vec<(String, usize, usize, usize)> = Vec::new();
    for p in plan.permissions() {
        let service = p.service().to_string();
        let index = match rows.iter().position(|r| r.0 == service) {
            Some(i) => i,
            None => {
                rows.push((service, 0, 0, 0));
                rows.len() - 1
            }
        };
        match effective(plan, &outcome.findings, &p) {
            Effective::Held => rows[index].1 += 1,
            Effective::Missing => rows[index].2 += 1,
            _ => rows[index].3 += 1,
        }
    }
    html! {
        <>
            <h4>{ "By service" }</h4>
            <table class="by-service">
                <thead><tr><th>{ "Service" }</th><th>{ "Held" }</th><th>{ "Missing" }</th><th>{ "Other (notes, errors)" }</th></tr></thead>
                <tbody>
                { for rows.iter().map(|(service, held, missing, other)| html! {
                    <tr class={if *missing > 0 { "missing" } else { "held" }}>
                        <td><code>{ service }</code></td><td>{ held }</td><td>{ missing }</td><td>{ other }</td>
                    </tr>
                }) }
                </tbody>
            </table>
            <h4>{ "By profile" }</h4>
        </>
    }
}

fn details(outcome: &Outcome) -> Html {
    let plan = &outcome.plan;
    let findings = &outcome.findings;
    html! {
        <details class="details">
            <summary>{ format!("All {} permissions, by service and by profile", plan.permissions().len()) }</summary>
            { by_service(outcome) }
            { for plan.groups.iter().enumerate().map(|(index, group)| {
                let gv = group_verdict(plan, findings, group);
                let source = match group.source {
                    Source::SkyCheck => "sky check",
                    Source::SkyDocs => "SkyPilot docs",
                    Source::SkyIssue => "SkyPilot issue",
                    Source::User => "you",
                };
                html! {
                    <section class="group">
                        <h4>{ &group.title }{ " — " }<span class={status_class(gv.status)}>{ gv.status.label() }</span></h4>
                        <p class="citation">{ format!("Source ({source}): {}", group.citation) }</p>
                        <table>
                            <thead><tr><th>{ "Permission" }</th><th>{ "Result" }</th><th>{ "sky check" }</th><th>{ "SkyPilot docs" }</th></tr></thead>
                            <super::permission_rows::GroupRows plan={outcome.plan.clone()} findings={outcome.findings.clone()} group={index} />
                        </table>
                    </section>
                }
            }) }
        </details>
    }
}

/// `https://console.cloud.google.com/apis/library/SERVICE?project=CONSUMER`, when both parts are
/// plain names (a service host, a project number or ID) and the project is not Google's own.
fn console_enable_link(service: &str, consumer: &str) -> Option<String> {
    use crate::core::patterns::{consumer_project, is_api_service};
    let consumer = consumer_project(consumer)?;
    (is_api_service(service) && consumer != GCLOUD_SHARED_PROJECT).then(|| {
        format!("https://console.cloud.google.com/apis/library/{service}?project={consumer}")
    })
}

/// The two tokens `sky check` uses, side by side, when a gcloud CLI token was given: a
/// different account, or different verdicts, come first on the page.
fn two_identities(state: &State, outcome: &Outcome, primary: &[Verdict]) -> Html {
    let Some(cli_findings) = &outcome.cli else {
        return html! {};
    };
    let name = |identity: &IdentityState| match identity {
        IdentityState::Known(id) => (id.account_id.clone(), id.display_name()),
        _ => (None, "an unknown account".to_string()),
    };
    let (adc_id, adc_name) = name(&state.identity);
    let (cli_id, cli_name) = name(&state.cli_identity);
    let cli = verdicts(&outcome.plan, cli_findings);
    let differ = differences(primary, &cli);
    let same_account = adc_id.is_some() && adc_id == cli_id;
    let class = if same_account && differ.is_empty() {
        "identities same"
    } else {
        "identities differ"
    };
    html! {
        <section class={class} data-testid="two-identities" aria-label="Two identities">
            <h3>{ "Two identities" }</h3>
            if same_account {
                <p>{ format!("Both tokens belong to {adc_name}.") }</p>
            } else {
                <p role="alert">
                    { format!("Different accounts: `sky check gcp` tests permissions as {adc_name} (application-default credentials) and lists and enables APIs as {cli_name} (gcloud CLI). Sign both in as the same account (`gcloud auth login` and `gcloud auth application-default login`), or expect what the verdicts below say for {adc_name}.") }
                </p>
            }
            if !differ.is_empty() {
                <table class="differences">
                    <thead><tr><th>{ "Verdict" }</th><th>{ "Access token" }</th><th>{ "gcloud CLI token" }</th></tr></thead>
                    <tbody>
                    { for differ.iter().map(|(topic, a, b)| html! {
                        <tr><td>{ topic.title() }</td><td>{ a.label() }</td><td>{ b.label() }</td></tr>
                    }) }
                    </tbody>
                </table>
            }
        </section>
    }
}

/// Offers the report as a file download, with the fix advice the cards were given.
fn download_report(outcome: &Outcome, email: Option<&str>, advice: Option<&RoleData>) {
    let mut report = report::build(
        &outcome.plan,
        &outcome.findings,
        email,
        outcome.checked_at_ms,
    );
    if let Some(advice) = advice {
        report = advice.add_known_advice(report, &outcome.plan);
    }
    let text = crate::core::json::to_string_pretty(&report).unwrap_or_default();
    offer_download(
        &format!("gcp-preflight-{}.json", outcome.plan.project),
        "application/json",
        &text,
    );
}

/// Offers `text` as a file download named `filename`.
pub(crate) fn offer_download(filename: &str, mime: &str, text: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Some(anchor) = document
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    {
        anchor.set_href(&url);
        anchor.set_download(filename);
        anchor.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Moves the focus to the access-token field.
fn focus_token_field() {
    let field = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("token"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(field) = field {
        let _ = field.focus();
    }
}

/// "N of M requests answered" while a check's requests are out (M grows with retries and
/// further pages), as text and as a bar.
fn progress_line((sent, answered): (u32, u32)) -> Html {
    if sent == 0 {
        return Html::default();
    }
    html! {
        <p class="progress" data-testid="progress">
            <progress max={sent.to_string()} value={answered.to_string()} aria-hidden="true"></progress>
            { format!(" {answered} of {sent} requests answered") }
        </p>
    }
}

/// When a check ends (a new result on display), brings the results' heading to the top of the
/// screen and moves focus to it: the answer otherwise lands below a long form, on a laptop and a
/// phone alike, and keyboard and screen-reader users continue from it.
#[hook]
fn use_result_focus(run: &Run) -> NodeRef {
    let heading = use_node_ref();
    // A new result is a new `Rc` of findings: Re-check and cache hits count, re-renders do not.
    let shown = match run {
        Run::Done(outcome) => Some(std::rc::Rc::as_ptr(&outcome.findings) as usize),
        _ => None,
    };
    {
        let heading = heading.clone();
        use_effect_with(shown, move |shown| {
            if shown.is_some() {
                if let Some(element) = heading.cast::<web_sys::HtmlElement>() {
                    element.scroll_into_view();
                    let _ = element.focus();
                }
            }
        });
    }
    heading
}

/// The results region (`role="status"`, polite live region).
#[component]
pub fn Results(props: &ResultsProps) -> Html {
    let state = &props.state;
    let role_data = use_context::<RoleDataHandle>();
    let (email, account) = match (&state.identity, &state.opened_link) {
        // A result opened from a link: its account, not this page's (there is no token).
        (_, Some(OpenedLink::Result { email, .. })) => (
            email.clone(),
            email
                .clone()
                .unwrap_or_else(|| "the sharer's account".into()),
        ),
        (IdentityState::Known(id), _) => (id.email.clone(), id.display_name()),
        _ => (None, "this token's account".into()),
    };
    let busy = matches!(
        state.run,
        Run::Running { .. } | Run::AwaitingIdentity { .. }
    );
    // Counted once per check, not on each of its answers (each one re-renders the page): both
    // counts sort every permission of the plan.
    let running_counts = {
        let plan = match &state.run {
            Run::Running { plan, .. } => Some(plan.clone()),
            _ => None,
        };
        let key = plan.as_ref().map(|p| std::rc::Rc::as_ptr(p) as usize);
        use_memo(key, move |_| {
            plan.map_or((0, 0), |p| (p.permissions().len(), p.request_count()))
        })
    };
    let body = match &state.run {
        Run::Idle => {
            html! { <p class="placeholder">{ "Enter a token and a project ID, then press Check." }</p> }
        }
        Run::AwaitingIdentity { .. } => {
            html! { <p class="placeholder">{ "Looking up the account to see whether a cached result answers…" }</p> }
        }
        Run::Running { plan, .. } => html! {
            <>
                <p class="placeholder">{ format!("Checking {} permissions on {} ({} requests in parallel)…", running_counts.0, plan.project, running_counts.1) }</p>
                { progress_line(state.progress) }
            </>
        },
        Run::Done(outcome) => {
            let vs = verdicts(&outcome.plan, &outcome.findings);
            let age = describe_age(
                state
                    .now_ms
                    .max(now_ms())
                    .saturating_sub(outcome.checked_at_ms)
                    / 60_000,
            );
            let age_line = if outcome.from_cache {
                format!(
                    "Cached result: checked {age} for {account} on {}",
                    outcome.plan.project
                )
            } else {
                format!("Checked {age} for {account} on {}", outcome.plan.project)
            };
            let errors = outcome.findings.described_errors(&outcome.plan);
            // Where a disabled API can be turned on: a console link built here from a service
            // and a project that match strict patterns, never a URL taken from a response.
            let mut activation: Vec<(String, String)> = Vec::new();
            for error in outcome.findings.errors() {
                if let Some(ErrorKind::ServiceDisabled {
                    service, consumer, ..
                }) = error.kind()
                {
                    if let Some(url) = console_enable_link(service, consumer) {
                        if !activation.iter().any(|(_, u)| *u == url) {
                            activation.push((service.clone(), url));
                        }
                    }
                }
            }
            let on_recheck = {
                let on_check = props.on_check.clone();
                let no_token = state.token.is_empty();
                Callback::from(move |_| {
                    on_check.emit(true);
                    // Re-checking asks for a token first (a shared result comes without one).
                    if no_token {
                        focus_token_field();
                    }
                })
            };
            let shared_banner = match &state.opened_link {
                Some(OpenedLink::Result {
                    email,
                    checked_at_ms,
                }) => Some(html! {
                    <SharedBanner email={email.clone()} project={outcome.plan.project.clone()} checked_at_ms={*checked_at_ms} />
                }),
                _ => None,
            };
            let on_export = {
                let outcome = outcome.clone();
                let email = email.clone();
                // The cards asked for the advice of whatever needs fixing.
                let advice = role_data.clone();
                Callback::from(move |_| {
                    download_report(&outcome, email.as_deref(), advice.as_deref())
                })
            };
            html! {
                <>
                    if let Some(banner) = shared_banner {
                        { banner }
                    }
                    <div class="result-meta">
                        if state.opened_link.is_none() {
                            <p data-testid="result-age">{ age_line }</p>
                        }
                        <button type="button" onclick={on_recheck}>{ "Re-check" }</button>
                        <button type="button" onclick={on_export}>{ "Export JSON report" }</button>
                    </div>
                    <ResultActions outcome={outcome.clone()} email={email.clone()} />
                    if !errors.is_empty() {
                        <div class="errors">
                            { for errors.iter().map(|e| html! { <p class="error" role="alert">{ e }</p> }) }
                            { for activation.iter().map(|(service, url)| html! {
                                <p><a href={url.clone()} target="_blank" rel="noopener noreferrer">{ format!("Enable {service} in the Cloud console") }</a></p>
                            }) }
                            <p class="hint">{ "Errors are not cached: Re-check when fixed." }</p>
                        </div>
                    }
                    { two_identities(state, outcome, &vs) }
                    <div class="verdicts">
                        { for vs.iter().map(|v| verdict_card(v, outcome, email.as_deref())) }
                    </div>
                    { apis_list(outcome) }
                    { details(outcome) }
                </>
            }
        }
    };
    let heading = use_result_focus(&state.run);
    html! {
        <section class="results" role="status" aria-live="polite" aria-busy={busy.to_string()} aria-label="Results">
            <h2 ref={heading} tabindex="-1">{ "Results" }</h2>
            if let Some(notice) = &state.notice {
                <p class="error" role="alert">{ notice }</p>
            }
            { body }
        </section>
    }
}

/// What a permission check cannot see: one click away, not alarming.
#[component]
pub fn Honesty() -> Html {
    html! {
        <details class="honesty">
            <summary>{ "What this check cannot see" }</summary>
            <ul>
                <li>{ "IAM deny policies: a denied permission can still be reported as held." }</li>
                <li>{ "VPC Service Controls perimeters, which can block API calls from outside." }</li>
                <li>{ "Organization policy constraints, e.g. a policy forbidding external IPs or firewall rules, which stop a launch that permissions allow." }</li>
                <li>{ "Quotas (CPUs, GPUs, TPUs) and stock in the zone you launch in." }</li>
                <li>{ "Google documents testIamPermissions as best effort, for building permission-aware UIs — not as an authorization decision." }</li>
                <li>{ "Which project and account your own `sky check gcp` uses: it tests permissions with application-default credentials on their default project, and lists and enables APIs as the gcloud CLI account. Paste both tokens to compare." }</li>
                <li>{ "Whether an organization policy forbids enabling an API, creating skypilot-v1 or skypilot-vpc, or firewall rules; a shared VPC's host project." }</li>
                <li>{ "Whether SkyPilot's own cache still lists GCP from an earlier account: run `sky check gcp` after switching." }</li>
            </ul>
        </details>
    }
}
