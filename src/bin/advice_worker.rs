//! The browser's fix-advice worker, a web worker of its own wasm module: it holds the role index
//! parser and `roles::fix::advise` so the page's first load does not (`index.html` builds it with
//! Trunk's `data-type="worker"`; the page starts it when a not-ready card first shows advice,
//! `src/ui/advice.rs`). It fetches the role data itself, relative to its own URL (which sits next
//! to the page's, so a sub-path works), once per file for the worker's life.
//!
//! Each message is a [`gcp_preflight::core::advice_wire::AdviceRequest`] as JSON text; the reply
//! is the matching `AdviceReply`; first it posts `READY`. All the logic is the pure
//! `advice_wire::AdviceDesk`; only the fetch is here.
//!
//! Natively there is nothing to run: the terminal builds advice itself (`gcp-preflight check`).

#[cfg(target_arch = "wasm32")]
fn main() {
    use gcp_preflight::core::advice_wire::{AdviceDesk, RoleFile};
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::{spawn_local, JsFuture};
    use web_sys::{DedicatedWorkerGlobalScope, Response};

    /// The role file's text, or one line saying why there is none.
    async fn fetch_text(
        scope: &DedicatedWorkerGlobalScope,
        file: RoleFile,
    ) -> Result<String, String> {
        let url = file.url();
        let response: Response = JsFuture::from(scope.fetch_with_str(url))
            .await
            .and_then(|r| r.dyn_into())
            .map_err(|_| {
                format!("Could not load the role data ({url}): the network request failed")
            })?;
        if !response.ok() {
            return Err(format!(
                "Could not load the role data ({url}): HTTP {}",
                response.status()
            ));
        }
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise)
                .await
                .ok()
                .and_then(|t| t.as_string()),
            Err(_) => None,
        };
        text.ok_or_else(|| format!("Could not read the role data ({url})"))
    }

    fn post_all(scope: &DedicatedWorkerGlobalScope, replies: Vec<String>) {
        for reply in replies {
            // Posting a string to our own page cannot fail in a way we could report elsewhere.
            let _ = scope.post_message(&reply.into());
        }
    }

    let desk = Rc::new(RefCell::new(AdviceDesk::default()));
    gcp_preflight::gcp::worker::serve(move |scope, request| {
        let (replies, fetch) = desk.borrow_mut().on_message(&request);
        post_all(scope, replies);
        if let Some(file) = fetch {
            let (desk, scope) = (desk.clone(), scope.clone());
            spawn_local(async move {
                let fetched = fetch_text(&scope, file).await;
                let replies = desk.borrow_mut().on_fetched(file, fetched);
                post_all(&scope, replies);
            });
        }
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "advice_worker is the browser's web worker; in a terminal use `gcp-preflight check`."
    );
    std::process::exit(2);
}
