//! Entry point of the browser app: it only renders [`gcp_preflight::ui::App`].
//! On the host it does nothing, so that `cargo build` and `cargo test` work natively.

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<gcp_preflight::ui::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("gcp-preflight is a browser app: run `scripts/serve` (see README.md).");
}
