//! The "SkyPilot config" and "Task YAML" fields: paste (or drop) `~/.sky/config.yaml` and the
//! task YAML, and the options, bucket and service account fill themselves, each shown with where
//! it came from ("from config.yaml: gcp.vpc_name"). A YAML error is shown with its line and
//! column, and the check is refused until the files parse ([`super::state::plan_from_state`]).

use super::state::{Action, Field, State};
use crate::core::catalog::Options;
use crate::core::skyfiles::{Derivation, GcpTarget, Setting, SkyFiles};
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// Props of [`SkyFilesFields`].
#[derive(Properties, PartialEq)]
pub struct SkyFilesProps {
    /// App state.
    pub state: UseReducerHandle<State>,
    /// Dispatcher.
    pub dispatch: UseReducerDispatcher<State>,
}

/// Whether the form still holds what the files set for `d` (else the user overrode it).
fn still_applies(d: &Derivation, state: &State, sky: &SkyFiles) -> bool {
    let o: Options = state.options;
    match d.setting {
        Setting::CustomVpc => o.custom_vpc,
        Setting::Reservations => o.reservations,
        Setting::OpenPorts => o.open_ports,
        Setting::Tpus => o.tpus,
        Setting::CustomImage => o.custom_image,
        Setting::GcsMounts => o.gcs_mounts,
        Setting::Bucket => sky.buckets.first().is_some_and(|(b, _)| {
            state
                .bucket
                .trim()
                .trim_start_matches("gs://")
                .starts_with(b.as_str())
        }),
        Setting::ServiceAccount => sky
            .service_account
            .as_ref()
            .is_some_and(|(s, _)| state.service_account.trim() == s.as_str()),
    }
}

/// One text field that takes a paste or a dropped file.
fn yaml_field(
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    value: &str,
    field: fn(String) -> Field,
    dispatch: &UseReducerDispatcher<State>,
) -> Html {
    let oninput = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: InputEvent| {
            let text = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            dispatch.dispatch(Action::Edit(field(text)));
        })
    };
    // A dropped file is read as text in the page; nothing is uploaded.
    let ondrop = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: DragEvent| {
            let Some(file) = e
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|files| files.get(0))
            else {
                return;
            };
            e.prevent_default();
            let dispatch = dispatch.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match JsFuture::from(file.text())
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                {
                    Some(text) => dispatch.dispatch(Action::Edit(field(text))),
                    None => dispatch.dispatch(Action::Notice(format!(
                        "{} could not be read as text.",
                        file.name()
                    ))),
                }
            });
        })
    };
    let ondragover = Callback::from(|e: DragEvent| e.prevent_default());
    html! {
        <div>
            <label for={id}>{ label }</label>
            <textarea id={id} rows="5" spellcheck="false" autocomplete="off" {placeholder}
                value={value.to_owned()} {oninput} {ondrop} {ondragover} />
        </div>
    }
}

/// The two fields and what they say.
#[component]
pub fn SkyFilesFields(props: &SkyFilesProps) -> Html {
    let state = &*props.state;
    let dispatch = &props.dispatch;
    let reading = match &state.sky.read {
        None => html! {},
        Some(Err(error)) => html! {
            <p class="field-error" data-testid="sky-error" role="alert">{ error.to_string() }</p>
        },
        Some(Ok(sky)) => {
            let target = match &sky.target {
                Some(GcpTarget::Pinned(origin)) => Some(format!("Runs on GCP — from {origin}")),
                Some(GcpTarget::Possible) => Some("May run on GCP (no cloud pinned)".to_owned()),
                Some(GcpTarget::NotGcp(why)) => Some(format!(
                    "No task can run on GCP ({why}): nothing here needs checking."
                )),
                _ => None,
            };
            html! {
                <div class="sky-reading" data-testid="sky-sources">
                    if sky.derivations.is_empty() {
                        <p class="hint">{ "Nothing in these files changes what GCP needs." }</p>
                    }
                    <ul>
                        { for sky.derivations.iter().map(|d| {
                            let overridden = !still_applies(d, state, sky);
                            html! {
                                <li data-setting={d.setting.label()}>
                                    <strong>{ d.setting.label() }</strong>{ ": " }<code>{ &d.value }</code>
                                    { format!(" — from {}", d.origin) }
                                    if overridden { <em>{ " (overridden below)" }</em> }
                                </li>
                            }
                        }) }
                    </ul>
                    if let Some(line) = target { <p class="hint">{ line }</p> }
                    if sky.buckets.len() > 1 {
                        <p class="hint warning">{ format!(
                            "The page probes one bucket ({}); `gcp-preflight check` in a terminal probes each of the {} the files name.",
                            sky.buckets[0].0.as_str(),
                            sky.buckets.len()
                        ) }</p>
                    }
                    { for sky.notes.iter().map(|n| html! { <p class="hint warning">{ n }</p> }) }
                    if !sky.ignored.is_empty() {
                        <details class="hint">
                            <summary>{ format!("{} key(s) ignored (no effect on GCP permissions)", sky.ignored.len()) }</summary>
                            <p>{ sky.ignored.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ") }</p>
                        </details>
                    }
                </div>
            }
        }
    };
    html! {
        <fieldset class="sky-files">
            <legend>{ "Your SkyPilot files (optional: they fill the options below)" }</legend>
            <div class="row two">
                { yaml_field("sky-config", "SkyPilot config", "paste or drop ~/.sky/config.yaml", &state.sky.config, Field::SkyConfig, dispatch) }
                { yaml_field("sky-task", "Task YAML", "paste or drop the task YAML you will launch", &state.sky.task, Field::SkyTask, dispatch) }
            </div>
            { reading }
        </fieldset>
    }
}
