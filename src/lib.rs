//! gcp-preflight: tells you, before you submit a cloud job, whether a Google account and GCP
//! project hold what the job needs.
//!
//! [`core`] is the pure domain, tested natively. The browser glue — `fetch` transport,
//! localStorage store and the Yew UI — is compiled only for `wasm32`.

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod gcp;
#[cfg(target_arch = "wasm32")]
pub mod storage;
#[cfg(target_arch = "wasm32")]
pub mod ui;

/// The terminal build (`gcp-preflight check`): native transport, file cache, CLI.
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
pub mod web_json;
