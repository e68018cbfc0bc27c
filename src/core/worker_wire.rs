//! What every web worker of the app and the page agree on, whatever the worker does (the
//! SkyPilot-file reader, the fix advice, demo mode's simulated Google; each has its own
//! `*_wire` module for its messages): messages are JSON text both ways, and a worker posts
//! [`READY`] once its message handler is in place. Until then its wasm, and so its handler, is
//! still loading and a message would be lost, so the page holds what it sends and posts it on
//! that word (`src/gcp/worker.rs`).

/// The word a worker posts when it can take messages.
pub const READY: &str = "ready";
