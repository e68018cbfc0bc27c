//! The "SkyPilot config" and "Task YAML" fields: paste (or drop) `~/.sky/config.yaml` and the
//! task YAML, and the options, bucket and service account fill themselves, each shown with where
//! it came from ("from config.yaml: gcp.vpc_name"). A YAML error is shown with its line and
//! column, and the check is refused until the files parse ([`super::state::plan_from_state`]).
//!
//! The YAML parser is not in the page's wasm: it runs in a web worker of its own
//! (`src/bin/skyfiles_worker.rs`, built by Trunk next to the app), started on the first paste or
//! drop and kept while the form is shown. Its files are fetched by a relative URL, so the bundle
//! works under any sub-path.

use super::state::{Action, Field, State};
use crate::core::catalog::Options;
use crate::core::skyfiles::{Derivation, GcpTarget, Setting, SkyFiles};
use crate::core::skyfiles_wire::{ReadReply, ReadRequest};
use crate::gcp::worker::LazyWorker;
use std::rc::Rc;
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

/// The worker's loader script as Trunk names it (`data-loader-shim`), relative to the page.
const WORKER_URL: &str = "./skyfiles_worker_loader.js";

/// Starts the reader; its replies (and its failure to load) become [`Action::SkyRead`] and
/// [`Action::SkyReaderFailed`]: the reading in flight fails, and the next edit starts a new one.
fn start_reader(dispatch: UseReducerDispatcher<State>) -> Result<LazyWorker, String> {
    let on_failure = dispatch.clone();
    LazyWorker::start(
        WORKER_URL,
        move |text| {
            if let Some(reply) = ReadReply::from_json(&text) {
                dispatch.dispatch(Action::SkyRead {
                    generation: reply.generation,
                    read: reply.read.map(Rc::new).map_err(|e| e.to_string()),
                });
            }
        },
        move || on_failure.dispatch(Action::SkyReaderFailed),
    )
    .ok_or_else(|| "The SkyPilot-file reader could not be started.".to_owned())
}

/// Asks for a reading (held until the reader is ready, replacing an older one).
fn send_reading(worker: &LazyWorker, request: &ReadRequest) -> Result<(), String> {
    if worker.send(request.to_json(), true) {
        Ok(())
    } else {
        Err("The SkyPilot files could not be handed to the reader.".to_owned())
    }
}

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
    // The worker is started by the first edit that needs a reading, then reused.
    let worker = use_mut_ref(|| None::<LazyWorker>);
    {
        let request = state.sky.request();
        let dispatch = dispatch.clone();
        use_effect_with(state.sky.generation, move |_| {
            if let Some(request) = request {
                let mut slot = worker.borrow_mut();
                if slot.as_ref().is_some_and(LazyWorker::failed) {
                    *slot = None;
                }
                let sent = match &mut *slot {
                    Some(running) => send_reading(running, &request),
                    empty => start_reader(dispatch.clone()).and_then(|started| {
                        send_reading(&started, &request)?;
                        *empty = Some(started);
                        Ok(())
                    }),
                };
                if let Err(why) = sent {
                    dispatch.dispatch(Action::SkyRead {
                        generation: request.generation,
                        read: Err(why),
                    });
                }
            }
        });
    }
    let reading = match &state.sky.read {
        _ if state.sky.reading => html! {
            <p class="hint" data-testid="sky-reading" role="status">{ "Reading the files…" }</p>
        },
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
