//! The browser's `CompressionStream` / `DecompressionStream` (`deflate-raw`) for share links:
//! no compression code in the bundle. `web-sys` exposes these only behind its unstable-API flag,
//! so the two constructors are bound here directly.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// `CompressionStream`: a readable/writable pair.
    #[wasm_bindgen(js_name = CompressionStream)]
    type Compressor;
    #[wasm_bindgen(constructor, catch, js_class = "CompressionStream")]
    fn new(format: &str) -> Result<Compressor, JsValue>;

    /// `DecompressionStream`: a readable/writable pair.
    #[wasm_bindgen(js_name = DecompressionStream)]
    type Decompressor;
    #[wasm_bindgen(constructor, catch, js_class = "DecompressionStream")]
    fn new(format: &str) -> Result<Decompressor, JsValue>;
}

/// Why bytes could not be (de)compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressError {
    /// The browser has no `CompressionStream` (older than 2023).
    Unsupported,
    /// The data is not a deflate stream (cut off or edited).
    Corrupt,
    /// Inflating went past the cap.
    TooLarge,
}

/// The stream `bytes` → `pair`.
fn piped(bytes: &[u8], pair: &JsValue) -> Result<web_sys::ReadableStream, CompressError> {
    let parts = Array::of1(&Uint8Array::from(bytes));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts)
        .map_err(|_| CompressError::Unsupported)?;
    Ok(blob.stream().pipe_through(pair.unchecked_ref()))
}

/// Reads `stream` to its end, refusing more than `cap` bytes (a small link must not inflate
/// into gigabytes).
async fn read_all(stream: web_sys::ReadableStream, cap: usize) -> Result<Vec<u8>, CompressError> {
    let reader: web_sys::ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut out = Vec::new();
    loop {
        let step = JsFuture::from(reader.read())
            .await
            .map_err(|_| CompressError::Corrupt)?;
        let done = Reflect::get(&step, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return Ok(out);
        }
        let chunk: Uint8Array = Reflect::get(&step, &JsValue::from_str("value"))
            .map_err(|_| CompressError::Corrupt)?
            .unchecked_into();
        let start = out.len();
        let end = start + chunk.length() as usize;
        if end > cap {
            let _ = reader.cancel();
            return Err(CompressError::TooLarge);
        }
        out.resize(end, 0);
        chunk.copy_to(&mut out[start..]);
    }
}

/// `bytes` deflated (raw deflate, RFC 1951).
pub async fn deflate(bytes: &[u8]) -> Result<Vec<u8>, CompressError> {
    let pair = Compressor::new("deflate-raw").map_err(|_| CompressError::Unsupported)?;
    read_all(piped(bytes, &pair)?, usize::MAX).await
}

/// `bytes` inflated, at most `cap` bytes of output.
pub async fn inflate(bytes: &[u8], cap: usize) -> Result<Vec<u8>, CompressError> {
    let pair = Decompressor::new("deflate-raw").map_err(|_| CompressError::Unsupported)?;
    read_all(piped(bytes, &pair)?, cap).await
}
