//! The "Sign in with Google" button, shown only when the host's `config.json` names an OAuth
//! client ID. The token it gets goes into the same in-memory state as a pasted token
//! ([`Action::Token`]); it is never stored.

use super::state::{Action, IdentityState, State};
use crate::core::signin::{SignInConfig, SignInOutcome};
use crate::gcp::gis::{self, TokenClient};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// Where sign-in stands on this page (view state of this component only).
#[derive(Clone, PartialEq)]
enum Setup {
    /// `config.json` or the GIS script is on its way.
    Loading,
    /// Not configured: nothing is shown, nothing was loaded from accounts.google.com.
    Off,
    /// Configured, but unusable: why.
    Broken(String),
    /// The button works.
    Ready,
}

/// Props of [`SignIn`].
#[derive(Properties, PartialEq)]
pub struct SignInProps {
    /// Dispatcher: the token goes in as [`Action::Token`].
    pub dispatch: UseReducerDispatcher<State>,
    /// The current token's account: its email is the `login_hint` of the next sign-in.
    pub identity: IdentityState,
}

/// Loads the config, then the GIS script, then builds the token client, once per page.
fn start(
    setup: UseStateHandle<Setup>,
    client: Rc<RefCell<Option<TokenClient>>>,
    on_outcome: impl Fn(SignInOutcome) + Clone + 'static,
) {
    spawn_local(async move {
        let config: SignInConfig = match gis::load_config().await {
            Ok(Some(config)) => config,
            Ok(None) => return setup.set(Setup::Off),
            Err(message) => return setup.set(Setup::Broken(message)),
        };
        if let Err(message) = gis::load_script().await {
            return setup.set(Setup::Broken(message));
        }
        match TokenClient::new(&config, on_outcome) {
            Ok(token_client) => {
                *client.borrow_mut() = Some(token_client);
                setup.set(Setup::Ready);
            }
            Err(message) => setup.set(Setup::Broken(message)),
        }
    });
}

/// The button, and what the last sign-in attempt said.
#[component]
pub fn SignIn(props: &SignInProps) -> Html {
    let setup = use_state(|| Setup::Loading);
    let message = use_state(|| None::<(String, bool)>);
    let client = use_mut_ref(|| None::<TokenClient>);
    {
        let setup = setup.clone();
        let client = client.clone();
        let dispatch = props.dispatch.clone();
        let message = message.clone();
        use_effect_with((), move |_| {
            let on_outcome = move |outcome: SignInOutcome| match outcome {
                SignInOutcome::Token(token) => {
                    message.set(None);
                    dispatch.dispatch(Action::Token(token));
                }
                SignInOutcome::Partial {
                    token,
                    message: why,
                } => {
                    message.set(Some((why, false)));
                    dispatch.dispatch(Action::Token(token));
                }
                SignInOutcome::Refused(why) | SignInOutcome::Failed(why) => {
                    message.set(Some((why, true)))
                }
            };
            start(setup, client, on_outcome);
        });
    }
    let hint = match &props.identity {
        IdentityState::Known(id) => id.email.clone().or_else(|| id.account_id.clone()),
        _ => None,
    };
    let onclick = {
        let client = client.clone();
        let message = message.clone();
        let hint = hint.clone();
        Callback::from(move |_: MouseEvent| {
            // Synchronously inside the click: a popup opened later is blocked.
            let result = match client.borrow().as_ref() {
                Some(client) => client.request(hint.as_deref()),
                None => Err("Sign in with Google is still loading: try again in a moment.".into()),
            };
            match result {
                Ok(()) => message.set(None),
                Err(why) => message.set(Some((why, true))),
            }
        })
    };
    let note = (*message).clone().map(|(text, is_error)| {
        let class = if is_error { "error" } else { "hint warning" };
        html! { <p class={class} role="alert" data-testid="signin-message">{ text }</p> }
    });
    match &*setup {
        Setup::Off => html! {},
        Setup::Loading => html! {},
        Setup::Broken(why) => html! {
            <p class="hint warning" role="alert" data-testid="signin-message">{ why.clone() }</p>
        },
        Setup::Ready => html! {
            <div class="signin" data-testid="signin">
                <button type="button" class="signin-button" {onclick}>
                    <span class="signin-g" aria-hidden="true">{ "G" }</span>
                    { "Sign in with Google" }
                </button>
                <span class="hint">
                    { match &hint {
                        Some(who) => format!(" Signs in again as {who}; press \"Forget token\" first to use another account."),
                        None => " or paste a token below. The token stays in this page's memory.".to_string(),
                    } }
                </span>
                { note.unwrap_or_default() }
            </div>
        },
    }
}
