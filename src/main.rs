//! Entry point. In the browser (`wasm32`) it renders [`gcp_preflight::ui::App`]; natively it is
//! the `gcp-preflight` command ([`gcp_preflight::native::cli`]).

#[cfg(target_arch = "wasm32")]
fn main() {
    yew::Renderer::<gcp_preflight::ui::App>::new().render();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(gcp_preflight::native::cli::main());
}
