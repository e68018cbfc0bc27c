//! The browser's demo worker, a web worker of its own wasm module: it holds the simulated Google
//! of demo mode so the page's first load does not (`index.html` builds it with Trunk's
//! `data-type="worker"`; the page starts it when demo mode is first used, `src/gcp/demo.rs`).
//! One simulation lives as long as the worker, as it did in the page.
//!
//! Each message is a [`gcp_preflight::core::demo_wire::DemoCall`] as JSON text; the reply is the
//! matching `DemoReply`; first it posts `READY`. All the work is the pure `demo_wire::answer`.
//!
//! Natively there is nothing to run: the tests drive `SimulatedGoogle` directly.

#[cfg(target_arch = "wasm32")]
fn main() {
    use gcp_preflight::core::demo::{demo_world, SimulatedGoogle};
    use gcp_preflight::core::demo_wire::{answer, READY};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let google = SimulatedGoogle::new(demo_world());
    let reply_to = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let call = event.data().as_string().unwrap_or_default();
        let reply = answer(&google, &call);
        // Posting a string to our own page cannot fail in a way we could report elsewhere.
        let _ = reply_to.post_message(&reply.into());
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker does.
    on_message.forget();
    // Messages posted while the wasm was loading found no handler: tell the page to send now.
    let _ = scope.post_message(&READY.into());
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("demo_worker is the browser's web worker; in a terminal, demo mode is not offered.");
    std::process::exit(2);
}
