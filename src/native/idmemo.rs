//! The identity memo: which account a token belongs to, remembered so that a second check within
//! the cache TTL needs no tokeninfo request (and so, with a cached answer, no request at all).
//!
//! Stored in the same [`Store`] as the results (in the terminal, the user's cache directory,
//! files readable by the user only): a random 32-byte key made once per store, and a list of
//! `HMAC-SHA256(key, token)` → (account `sub`, token expiry as tokeninfo said, when written).
//! Never the token, never the email: the keyed hash proves nothing to someone without the token,
//! and without the local key it cannot even be recomputed from a guessed token elsewhere.
//! An entry is used only while `now < min(token expiry, written + TTL)`; anything unreadable
//! is a miss.

use crate::core::cache::{Store, DEFAULT_TTL_MS};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

/// Store key of the memo (outside the result cache's prefix, so its pruning leaves it alone).
pub const MEMO_KEY: &str = "gcp-preflight/identity-memo/v1";
/// Store key of the HMAC key (hex of 32 random bytes).
pub const HMAC_KEY: &str = "gcp-preflight/identity-key/v1";
/// Most entries kept (a user has few accounts; tokens rotate hourly).
const MAX_ENTRIES: usize = 64;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Memo {
    entries: Vec<MemoEntry>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct MemoEntry {
    /// Hex of HMAC-SHA256(local key, token).
    token_mac: String,
    /// tokeninfo `sub`.
    account_id: String,
    /// The token's expiry as tokeninfo reported it (ms since the epoch).
    token_expires_at_ms: u64,
    /// When the entry was written (ms since the epoch).
    written_at_ms: u64,
}

impl MemoEntry {
    fn usable(&self, now_ms: u64) -> bool {
        now_ms
            < self
                .token_expires_at_ms
                .min(self.written_at_ms.saturating_add(DEFAULT_TTL_MS))
    }
}

/// The account a memo entry names for a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Remembered {
    /// tokeninfo `sub`.
    pub account_id: String,
    /// The token's expiry, as tokeninfo reported it.
    pub token_expires_at_ms: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The store's HMAC key; made (from the OS's random source) when `create` and absent or bad.
fn key(store: &impl Store, create: bool) -> Option<hmac::Key> {
    if let Some(bytes) = store
        .get(HMAC_KEY)
        .and_then(|t| unhex(&t))
        .filter(|b| b.len() == 32)
    {
        return Some(hmac::Key::new(hmac::HMAC_SHA256, &bytes));
    }
    if !create {
        return None;
    }
    let mut bytes = [0u8; 32];
    SystemRandom::new().fill(&mut bytes).ok()?;
    store.set(HMAC_KEY, &hex(&bytes)).ok()?;
    Some(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
}

fn token_mac(key: &hmac::Key, token: &str) -> String {
    hex(hmac::sign(key, token.as_bytes()).as_ref())
}

fn read(store: &impl Store) -> Memo {
    store
        .get(MEMO_KEY)
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// The account `token` was last seen to belong to, if a usable entry says so.
pub fn lookup(store: &impl Store, token: &str, now_ms: u64) -> Option<Remembered> {
    let key = key(store, false)?;
    let mac = token_mac(&key, token);
    read(store)
        .entries
        .into_iter()
        .find(|e| e.usable(now_ms) && e.token_mac.as_bytes() == mac.as_bytes())
        .map(|e| Remembered {
            account_id: e.account_id,
            token_expires_at_ms: e.token_expires_at_ms,
        })
}

/// Remembers that `token` belongs to `account_id` until `token_expires_at_ms` (tokeninfo's
/// word), pruning entries no longer usable. A memo that cannot be written costs only a request.
pub fn remember(
    store: &impl Store,
    token: &str,
    account_id: &str,
    token_expires_at_ms: u64,
    now_ms: u64,
) {
    let Some(key) = key(store, true) else {
        return;
    };
    let mac = token_mac(&key, token);
    let mut memo = read(store);
    memo.entries
        .retain(|e| e.usable(now_ms) && e.token_mac != mac);
    memo.entries.push(MemoEntry {
        token_mac: mac,
        account_id: account_id.to_owned(),
        token_expires_at_ms,
        written_at_ms: now_ms,
    });
    let excess = memo.entries.len().saturating_sub(MAX_ENTRIES);
    memo.entries.drain(..excess);
    if let Ok(text) = serde_json::to_string(&memo) {
        let _ = store.set(MEMO_KEY, &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::cache::MemoryStore;

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn remembers_by_keyed_hash_until_the_earlier_of_expiry_and_ttl() {
        let store = MemoryStore::default();
        assert_eq!(lookup(&store, "tok-a", NOW), None);
        remember(&store, "tok-a", "111", NOW + 3_600_000, NOW);
        let hit = lookup(&store, "tok-a", NOW + 1).unwrap();
        assert_eq!(hit.account_id, "111");
        assert_eq!(lookup(&store, "tok-b", NOW + 1), None);
        // The TTL ends first here …
        assert_eq!(lookup(&store, "tok-a", NOW + DEFAULT_TTL_MS), None);
        // … and the token's expiry there.
        remember(&store, "tok-c", "222", NOW + 1000, NOW);
        assert!(lookup(&store, "tok-c", NOW + 999).is_some());
        assert_eq!(lookup(&store, "tok-c", NOW + 1000), None);
        let text = store.get(MEMO_KEY).unwrap();
        assert!(!text.contains("tok-a") && !text.contains("tok-c"));
        assert_eq!(unhex(&store.get(HMAC_KEY).unwrap()).unwrap().len(), 32);
    }

    #[test]
    fn expired_entries_are_pruned_and_corrupt_memos_are_misses() {
        let store = MemoryStore::default();
        remember(&store, "old", "1", NOW + 10, NOW);
        remember(&store, "new", "2", NOW + 3_600_000, NOW + 20);
        assert!(!store.get(MEMO_KEY).unwrap().contains("\"1\""));
        store.set(MEMO_KEY, "{not json").unwrap();
        assert_eq!(lookup(&store, "new", NOW + 30), None);
        store.set(HMAC_KEY, "zz").unwrap();
        assert_eq!(lookup(&store, "new", NOW + 30), None);
        // A bad key is replaced, and the memo works again.
        remember(&store, "new", "2", NOW + 3_600_000, NOW + 40);
        assert_eq!(lookup(&store, "new", NOW + 50).unwrap().account_id, "2");
    }

    #[test]
    fn each_store_has_its_own_key() {
        let (a, b) = (MemoryStore::default(), MemoryStore::default());
        remember(&a, "tok", "1", NOW + 3_600_000, NOW);
        remember(&b, "tok", "1", NOW + 3_600_000, NOW);
        assert_ne!(a.get(HMAC_KEY), b.get(HMAC_KEY));
        assert_ne!(a.get(MEMO_KEY), b.get(MEMO_KEY));
    }
}
