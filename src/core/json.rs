//! JSON text to and from the core's serde types, in one place so that the build chooses the
//! codec while the types stay plain serde types, tested natively.
//!
//! Natively (tests, tools) this is `serde_json`. In the browser it is the wasm glue's
//! [`crate::web_json`]: the browser's own `JSON.parse`/`JSON.stringify` with
//! `serde-wasm-bindgen` in between, which keeps a JSON parser and printer, and their
//! per-type instances, out of the downloaded bundle (see `scripts/bench-bytes`).

use std::fmt;

/// Text that is not JSON, or JSON that is not the expected shape; says why, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError(pub String);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(target_arch = "wasm32")]
pub use crate::web_json::{from_str, to_string, to_string_pretty};

/// Reads `text` as a `T`.
#[cfg(not(target_arch = "wasm32"))]
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    serde_json::from_str(text).map_err(|e| JsonError(e.to_string()))
}

/// Writes `value` as compact JSON.
#[cfg(not(target_arch = "wasm32"))]
pub fn to_string<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    serde_json::to_string(value).map_err(|e| JsonError(e.to_string()))
}

/// Writes `value` as JSON indented by two spaces (the exported report).
#[cfg(not(target_arch = "wasm32"))]
pub fn to_string_pretty<T: serde::Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    serde_json::to_string_pretty(value).map_err(|e| JsonError(e.to_string()))
}
