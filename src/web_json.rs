//! The browser's JSON codec for [`crate::core::json`]: `JSON.parse` and `JSON.stringify` do the
//! text, `serde-wasm-bindgen` maps JavaScript values to and from the core's serde types. The
//! bundle then carries no JSON parser or printer of its own.

use crate::core::json::JsonError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// What a thrown JavaScript value says (`String(value)`: "SyntaxError: Unexpected token …").
fn said(thrown: JsValue) -> JsonError {
    JsonError(serde_wasm_bindgen::Error::from(thrown).to_string())
}

/// Reads `text` as a `T`: `JSON.parse`, then the value into `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let value = js_sys::JSON::parse(text).map_err(said)?;
    serde_wasm_bindgen::from_value(value).map_err(|e| JsonError(e.to_string()))
}

/// `value` as a plain JavaScript value as JSON has it: maps as objects, `None` as `null`.
fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsonError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsonError(e.to_string()))
}

/// Writes `value` as compact JSON.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    let text = js_sys::JSON::stringify(&to_value(value)?).map_err(said)?;
    Ok(text.into())
}

/// Writes `value` as JSON indented by two spaces, as `serde_json::to_string_pretty` does.
pub fn to_string_pretty<T: Serialize + ?Sized>(value: &T) -> Result<String, JsonError> {
    let text = js_sys::JSON::stringify_with_replacer_and_space(
        &to_value(value)?,
        &JsValue::NULL,
        &JsValue::from_f64(2.0),
    )
    .map_err(said)?;
    Ok(text.into())
}
