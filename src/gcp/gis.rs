//! Google Identity Services glue: reads the host's `config.json`, injects the GIS script only
//! when a client ID is configured, and wraps GIS's token client. What the answers mean is decided
//! in [`crate::core::signin`].

use crate::core::signin::{
    parse_config, popup_error_message, read_token_response, SignInConfig, SignInOutcome,
    TokenResponse, CONFIG_FILE, GIS_SCRIPT_URL, SIGN_IN_SCOPES,
};
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Fetches `config.json` beside `index.html` (relative, so the app works under any path).
/// `Ok(None)`: not configured (404 or an empty file); `Err`: the message to show.
pub async fn load_config() -> Result<Option<SignInConfig>, String> {
    let response = gloo_net::http::Request::get(CONFIG_FILE)
        .cache(web_sys::RequestCache::NoCache)
        .send()
        .await
        .map_err(|e| {
            format!("Sign in with Google is off: {CONFIG_FILE} could not be read ({e}).")
        })?;
    match response.status() {
        200..=299 => {}
        404 | 410 => return Ok(None),
        status => {
            return Err(format!(
                "Sign in with Google is off: {CONFIG_FILE} answered HTTP {status}."
            ))
        }
    }
    let text = response.text().await.map_err(|e| {
        format!("Sign in with Google is off: {CONFIG_FILE} could not be read ({e}).")
    })?;
    parse_config(&text).map_err(|e| e.to_string())
}

/// `window.google.accounts.oauth2`, once the GIS script has run.
fn oauth2() -> Option<JsValue> {
    let window: JsValue = web_sys::window()?.into();
    let mut at = window;
    for key in ["google", "accounts", "oauth2"] {
        at = Reflect::get(&at, &JsValue::from_str(key)).ok()?;
        if at.is_undefined() || at.is_null() {
            return None;
        }
    }
    Some(at)
}

/// Injects `<script src="https://accounts.google.com/gsi/client">` (once) and waits for it.
pub async fn load_script() -> Result<(), String> {
    if oauth2().is_some() {
        return Ok(());
    }
    let failed = || {
        "Sign in with Google is unavailable: Google's sign-in script did not load (offline, or blocked by an extension or a network policy). Paste a token instead.".to_string()
    };
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(failed)?;
    let script: web_sys::HtmlScriptElement = document
        .create_element("script")
        .map_err(|_| failed())?
        .unchecked_into();
    script.set_src(GIS_SCRIPT_URL);
    script.set_async(true);
    let loaded = js_sys::Promise::new(&mut |resolve, reject| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    document
        .head()
        .ok_or_else(failed)?
        .append_child(&script)
        .map_err(|_| failed())?;
    JsFuture::from(loaded).await.map_err(|_| failed())?;
    oauth2().map(|_| ()).ok_or_else(failed)
}

/// A GIS token client and the callbacks it calls; dropping it drops the callbacks, so it lives
/// as long as the sign-in button.
pub struct TokenClient {
    client: JsValue,
    _on_token: Closure<dyn FnMut(JsValue)>,
    _on_error: Closure<dyn FnMut(JsValue)>,
}

impl TokenClient {
    /// `google.accounts.oauth2.initTokenClient` for `config`, asking [`SIGN_IN_SCOPES`]; every
    /// answer (a token, a refusal, a blocked or closed popup) reaches `on_outcome`.
    pub fn new(
        config: &SignInConfig,
        on_outcome: impl Fn(SignInOutcome) + Clone + 'static,
    ) -> Result<Self, String> {
        let unavailable = |what: &str| format!("Sign in with Google is unavailable: {what}.");
        let oauth2 =
            oauth2().ok_or_else(|| unavailable("Google's sign-in script is not loaded"))?;
        let on_token = {
            let on_outcome = on_outcome.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |value: JsValue| {
                let outcome = match serde_wasm_bindgen::from_value::<TokenResponse>(value) {
                    Ok(response) => read_token_response(&response),
                    Err(e) => SignInOutcome::Failed(format!(
                        "Google's sign-in answer could not be read: {e}"
                    )),
                };
                on_outcome(outcome);
            })
        };
        let on_error = Closure::<dyn FnMut(JsValue)>::new(move |value: JsValue| {
            let kind = Reflect::get(&value, &JsValue::from_str("type"))
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default();
            on_outcome(SignInOutcome::Failed(popup_error_message(&kind)));
        });
        let options = Object::new();
        let set = |key: &str, value: &JsValue| {
            Reflect::set(&options, &JsValue::from_str(key), value).map(|_| ())
        };
        set("client_id", &JsValue::from_str(&config.client_id))
            .and_then(|_| set("scope", &JsValue::from_str(SIGN_IN_SCOPES)))
            .and_then(|_| set("callback", on_token.as_ref()))
            .and_then(|_| set("error_callback", on_error.as_ref()))
            .map_err(|_| unavailable("its options could not be set"))?;
        let init: Function = Reflect::get(&oauth2, &JsValue::from_str("initTokenClient"))
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(|| unavailable("initTokenClient is missing"))?;
        let client = init
            .call1(&oauth2, &options)
            .map_err(|_| unavailable("initTokenClient failed"))?;
        Ok(TokenClient {
            client,
            _on_token: on_token,
            _on_error: on_error,
        })
    }

    /// Opens Google's popup (call it from the click itself: browsers block popups opened
    /// later). `login_hint` (the current account's email) skips the account chooser.
    pub fn request(&self, login_hint: Option<&str>) -> Result<(), String> {
        let overrides = Object::new();
        if let Some(hint) = login_hint {
            let _ = Reflect::set(
                &overrides,
                &JsValue::from_str("login_hint"),
                &JsValue::from_str(hint),
            );
        }
        Reflect::get(&self.client, &JsValue::from_str("requestAccessToken"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| {
                "Sign in with Google is unavailable: requestAccessToken is missing.".to_string()
            })?
            .call1(&self.client, &overrides)
            .map(|_| ())
            .map_err(|_| {
                "Google's sign-in could not start. Reload the page, or paste a token.".into()
            })
    }
}
