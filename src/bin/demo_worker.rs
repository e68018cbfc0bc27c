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
    use gcp_preflight::core::demo_wire::answer;

    let google = SimulatedGoogle::new(demo_world());
    gcp_preflight::gcp::worker::serve(move |scope, call| {
        let reply = answer(&google, &call);
        // Posting a string to our own page cannot fail in a way we could report elsewhere.
        let _ = scope.post_message(&reply.into());
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("demo_worker is the browser's web worker; in a terminal, demo mode is not offered.");
    std::process::exit(2);
}
