//! The browser's SkyPilot-file reader, a web worker of its own wasm module: it holds the YAML
//! parser so the page's first load does not (`index.html` builds it with Trunk's
//! `data-type="worker"`; the page starts it on the first paste or drop, `src/ui/skyfiles.rs`).
//! Each message is a [`gcp_preflight::core::skyfiles_wire::ReadRequest`] as JSON text; the reply
//! is the matching `ReadReply`; first it posts `READY`. All the work is the pure
//! `skyfiles_wire::answer`.
//!
//! Natively there is nothing to run: the terminal reads the files itself (`gcp-preflight check`).

#[cfg(target_arch = "wasm32")]
fn main() {
    gcp_preflight::gcp::worker::serve(|scope, request| {
        let reply = gcp_preflight::core::skyfiles_wire::answer(&request);
        // Posting a string to our own page cannot fail in a way we could report elsewhere.
        let _ = scope.post_message(&reply.into());
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "skyfiles_worker is the browser's web worker; in a terminal use `gcp-preflight check`."
    );
    std::process::exit(2);
}
