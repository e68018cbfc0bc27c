//! The cache's [`Store`] over the browser's localStorage: quota errors are reported, not thrown,
//! and a browser without storage falls back to memory.

use crate::core::cache::{MemoryStore, Store, StoreError};
use wasm_bindgen::JsCast;

/// localStorage, or memory where the browser refuses it (private mode, policy).
pub enum BrowserStore {
    /// `window.localStorage`.
    Local(web_sys::Storage),
    /// Nothing persists.
    Memory(MemoryStore),
}

impl BrowserStore {
    /// Opens localStorage.
    pub fn open() -> Self {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .map(BrowserStore::Local)
            .unwrap_or_else(|| BrowserStore::Memory(MemoryStore::default()))
    }

    /// Whether results survive a reload.
    pub fn is_persistent(&self) -> bool {
        matches!(self, BrowserStore::Local(_))
    }
}

fn is_quota_error(error: &wasm_bindgen::JsValue) -> bool {
    error
        .dyn_ref::<web_sys::DomException>()
        .map(|e| e.name() == "QuotaExceededError" || e.code() == 22)
        .unwrap_or(false)
}

impl Store for BrowserStore {
    fn get(&self, key: &str) -> Option<String> {
        match self {
            BrowserStore::Local(s) => s.get_item(key).ok().flatten(),
            BrowserStore::Memory(m) => m.get(key),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        match self {
            BrowserStore::Local(s) => s.set_item(key, value).map_err(|e| {
                if is_quota_error(&e) {
                    StoreError::QuotaExceeded
                } else {
                    StoreError::Unavailable(
                        e.as_string()
                            .unwrap_or_else(|| "storage refused the write".into()),
                    )
                }
            }),
            BrowserStore::Memory(m) => m.set(key, value),
        }
    }

    fn remove(&self, key: &str) {
        match self {
            BrowserStore::Local(s) => {
                let _ = s.remove_item(key);
            }
            BrowserStore::Memory(m) => m.remove(key),
        }
    }

    fn keys(&self) -> Vec<String> {
        match self {
            BrowserStore::Local(s) => {
                let len = s.length().unwrap_or(0);
                (0..len).filter_map(|i| s.key(i).ok().flatten()).collect()
            }
            BrowserStore::Memory(m) => m.keys(),
        }
    }
}
