//! The terminal build: the same core, run from a shell. Compiled only off `wasm32`.
//!
//! [`transport`] sends the core's requests over HTTPS (ureq + rustls), one thread per request so
//! a check is one parallel wave; [`cache`] keeps results in the user's cache directory under the
//! browser's rules, and [`idmemo`] whose account a token is, so a cached check sends nothing; [`token`] obtains the token without it ever being an argument or a file;
//! [`cli`] is `gcp-preflight check`. Kept apart from `main.rs` so that other front ends (e.g. a
//! Python binding) can reuse the transport and the check.

pub mod cache;
pub mod cli;
pub mod idmemo;
pub mod token;
pub mod transport;
