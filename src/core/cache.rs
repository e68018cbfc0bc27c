//! The per-account, per-project result cache: key scheme, schema, freshness, and a [`Store`]
//! trait that localStorage (and tests) implement.
//!
//! A cached result can never outlive the identity it describes: the key holds the account's
//! stable ID, the project and the plan fingerprint, so a switch of any of them is a miss. Only
//! complete, error-free findings are written, and the token is never part of an entry.

use super::check::{ApiFinding, Findings, FirstLaunchFindings, PermissionFinding};
use super::names::{ProjectId, ServiceAccountEmail};
use super::ordered;
use super::permission::Permission;
use super::plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the entry layout; entries of another version are dropped.
pub const SCHEMA_VERSION: u32 = 3;
/// Prefix of every key this app writes.
pub const KEY_PREFIX: &str = "gcp-preflight/v1/";
/// How long a result is trusted: IAM changes propagate in minutes, so minutes, not days.
pub const DEFAULT_TTL_MS: u64 = 10 * 60 * 1000;
/// Most entries kept; the oldest go first.
pub const MAX_ENTRIES: usize = 50;

/// Identifies one cached result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheKey {
    /// tokeninfo `sub`.
    pub account_id: String,
    /// The project.
    pub project: ProjectId,
    /// The plan fingerprint.
    pub fingerprint: String,
    /// What the plan tests, so that only an entry answering exactly that is read back.
    asked: Asked,
}

/// The permissions a plan tests on each resource, and the APIs it looks up, each list sorted and
/// without repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Asked {
    project: Vec<Permission>,
    bucket: Vec<Permission>,
    service_account: Vec<Permission>,
    apis: Vec<String>,
}

impl CacheKey {
    /// The key for `plan` checked as `account_id`.
    pub fn new(account_id: &str, plan: &Plan) -> Self {
        CacheKey {
            account_id: account_id.to_owned(),
            project: plan.project.clone(),
            fingerprint: plan.fingerprint.clone(),
            asked: Asked {
                project: plan.permissions(),
                bucket: plan.bucket_permissions(),
                service_account: plan.service_account_permissions(),
                apis: {
                    // Sorted as `&str`, like the names below: one sort routine in the wasm.
                    let mut apis: Vec<&str> =
                        plan.apis.iter().map(|a| a.service.as_str()).collect();
                    apis.sort_unstable();
                    apis.dedup();
                    apis.into_iter().map(str::to_owned).collect()
                },
            },
        }
    }

    /// `gcp-preflight/v1/<account>/<project>/<fingerprint>`.
    pub fn storage_key(&self) -> String {
        format!(
            "{KEY_PREFIX}{}/{}/{}",
            self.account_id,
            self.project.as_str(),
            self.fingerprint
        )
    }
}

/// A stored answer about one permission. Errors have no variant: they are never cached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredAnswer {
    /// Held.
    Held,
    /// Missing.
    Missing,
    /// Not a valid name on that resource.
    NotValid,
    /// Untestable on that resource.
    Untestable,
}

impl StoredAnswer {
    fn of(finding: &PermissionFinding) -> Option<Self> {
        match finding {
            PermissionFinding::Held => Some(StoredAnswer::Held),
            PermissionFinding::Missing => Some(StoredAnswer::Missing),
            PermissionFinding::NotValid => Some(StoredAnswer::NotValid),
            PermissionFinding::Untestable => Some(StoredAnswer::Untestable),
            PermissionFinding::Error { .. } => None,
        }
    }

    fn finding(self) -> PermissionFinding {
        match self {
            StoredAnswer::Held => PermissionFinding::Held,
            StoredAnswer::Missing => PermissionFinding::Missing,
            StoredAnswer::NotValid => PermissionFinding::NotValid,
            StoredAnswer::Untestable => PermissionFinding::Untestable,
        }
    }
}

/// [`FirstLaunchFindings`] without errors, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFirstLaunch {
    /// The account looked up.
    pub account: ServiceAccountEmail,
    /// Whether it could be addressed.
    pub exists: bool,
    /// Its roles on the project.
    pub roles: Vec<String>,
    /// `actAs` on it, when it could be addressed.
    pub act_as: Option<StoredAnswer>,
    /// The project's VPC networks.
    pub networks: Vec<String>,
}

/// [`Findings`] without errors, as stored; a result with an error cannot be expressed.
/// Lists of pairs rather than maps: they read back into [`Findings`]' maps, and the bundle
/// carries no extra map types for them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFindings {
    /// Project-level answers.
    pub project: Vec<(Permission, StoredAnswer)>,
    /// Bucket answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bucket: Vec<(Permission, StoredAnswer)>,
    /// Service-account answers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_account: Vec<(Permission, StoredAnswer)>,
    /// API states: `true` = on.
    pub apis: Vec<(String, bool)>,
    /// SkyPilot's grep view of APIs that are off (see [`Findings::grep_matches`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grep_matches: Vec<(String, String)>,
    /// Billing on or off, when looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<bool>,
    /// The first launch's needs, when looked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_launch: Option<StoredFirstLaunch>,
}

impl StoredFindings {
    /// The storable form, or `None` when any request failed.
    pub fn from_findings(findings: &Findings) -> Option<Self> {
        fn answers(
            map: &BTreeMap<Permission, PermissionFinding>,
        ) -> Option<Vec<(Permission, StoredAnswer)>> {
            map.iter()
                .map(|(p, f)| Some((p.clone(), StoredAnswer::of(f)?)))
                .collect()
        }
        let apis = findings
            .apis
            .iter()
            .map(|(service, finding)| match finding {
                ApiFinding::On => Some((service.clone(), true)),
                ApiFinding::Off => Some((service.clone(), false)),
                ApiFinding::Unknown { .. } => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let billing = match &findings.billing {
            Some(Ok(on)) => Some(*on),
            Some(Err(_)) => return None,
            None => None,
        };
        let first_launch = match &findings.first_launch {
            Some(f) => Some(StoredFirstLaunch {
                account: f.account.clone(),
                exists: *f.exists.as_ref().ok()?,
                roles: f.roles.as_ref().ok()?.clone(),
                act_as: match &f.act_as {
                    Some(finding) => Some(StoredAnswer::of(finding)?),
                    None => None,
                },
                networks: f.networks.as_ref().ok()?.clone(),
            }),
            None => None,
        };
        Some(StoredFindings {
            project: answers(&findings.project)?,
            bucket: answers(&findings.bucket)?,
            service_account: answers(&findings.service_account)?,
            apis,
            grep_matches: findings
                .grep_matches
                .iter()
                .map(|(a, b)| (a.clone(), b.clone()))
                .collect(),
            billing,
            first_launch,
        })
    }

    /// Whether these are answers to exactly what `key`'s plan asks on each resource, and about
    /// exactly its APIs: every permission and API once, none missing, none extra (a planted or
    /// mixed-up entry is not).
    fn answers_exactly(&self, key: &CacheKey) -> bool {
        fn same(pairs: &[(Permission, StoredAnswer)], asked: &[Permission]) -> bool {
            let mut names: Vec<&str> = pairs.iter().map(|(p, _)| p.as_str()).collect();
            names.sort_unstable();
            names.len() == asked.len() && names.iter().zip(asked).all(|(a, b)| *a == b.as_str())
        }
        let mut apis: Vec<&str> = self.apis.iter().map(|(a, _)| a.as_str()).collect();
        apis.sort_unstable();
        same(&self.project, &key.asked.project)
            && same(&self.bucket, &key.asked.bucket)
            && same(&self.service_account, &key.asked.service_account)
            && apis.len() == key.asked.apis.len()
            && apis
                .iter()
                .zip(&key.asked.apis)
                .all(|(a, b)| *a == b.as_str())
    }

    /// Whether these answer exactly what `plan` asks on each resource, and exactly its APIs
    /// (a shared result link is read with this check).
    pub fn answers_plan(&self, plan: &Plan) -> bool {
        self.answers_exactly(&CacheKey::new("", plan))
    }

    /// Back to [`Findings`].
    pub fn to_findings(&self) -> Findings {
        fn findings(
            pairs: &[(Permission, StoredAnswer)],
        ) -> BTreeMap<Permission, PermissionFinding> {
            ordered(pairs.iter().map(|(p, a)| (p.clone(), a.finding())))
        }
        Findings {
            project: findings(&self.project),
            bucket: findings(&self.bucket),
            service_account: findings(&self.service_account),
            apis: ordered(self.apis.iter().map(|(s, on)| {
                let finding = if *on { ApiFinding::On } else { ApiFinding::Off };
                (s.clone(), finding)
            })),
            grep_matches: ordered(self.grep_matches.iter().cloned()),
            billing: self.billing.map(Ok),
            first_launch: self.first_launch.as_ref().map(|f| FirstLaunchFindings {
                account: f.account.clone(),
                exists: Ok(f.exists),
                roles: Ok(f.roles.clone()),
                act_as: f.act_as.map(StoredAnswer::finding),
                networks: Ok(f.networks.clone()),
            }),
        }
    }
}

/// One stored result. Never holds the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// [`SCHEMA_VERSION`] when written.
    pub schema: u32,
    /// When the check finished (ms since the epoch).
    pub checked_at_ms: u64,
    /// When it stops being fresh.
    pub expires_at_ms: u64,
    /// The account's stable ID (must match the key). No email: the page shows the one tokeninfo
    /// gives, so storing it would only keep personal data longer.
    pub account_id: String,
    /// The project (must match the key).
    pub project: ProjectId,
    /// The plan fingerprint (must match the key).
    pub fingerprint: String,
    /// What was found (never an error).
    pub findings: StoredFindings,
}

impl CacheEntry {
    /// Builds an entry, or `None` when the findings hold an error (never cached).
    pub fn new(key: &CacheKey, findings: &Findings, now_ms: u64, ttl_ms: u64) -> Option<Self> {
        let findings = StoredFindings::from_findings(findings)?;
        Some(CacheEntry {
            schema: SCHEMA_VERSION,
            checked_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(ttl_ms),
            account_id: key.account_id.clone(),
            project: key.project.clone(),
            fingerprint: key.fingerprint.clone(),
            findings,
        })
    }
}

impl CacheEntry {
    /// When the entry stops being fresh: its stored expiry, but never later than
    /// [`DEFAULT_TTL_MS`] after the check, whatever expiry storage claims.
    pub fn fresh_until_ms(&self) -> u64 {
        self.expires_at_ms
            .min(self.checked_at_ms.saturating_add(DEFAULT_TTL_MS))
    }

    /// Whether the entry may be used at `now_ms`: of this schema, not dated in the future, and
    /// not past [`CacheEntry::fresh_until_ms`]. [`lookup`] and [`prune`] both decide by this.
    pub fn is_fresh(&self, now_ms: u64) -> bool {
        self.schema == SCHEMA_VERSION
            && self.checked_at_ms <= now_ms
            && now_ms < self.fresh_until_ms()
    }
}

/// "less than a minute ago", "1 minute ago", "7 minutes ago".
pub fn describe_age(minutes: u64) -> String {
    match minutes {
        0 => "less than a minute ago".into(),
        1 => "1 minute ago".into(),
        n => format!("{n} minutes ago"),
    }
}

/// Why a write failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The storage is full (even after pruning).
    QuotaExceeded,
    /// Storage is unavailable (private mode, disabled by policy).
    Unavailable(String),
}

/// A string key-value store (localStorage in the browser).
pub trait Store {
    /// Reads a value.
    fn get(&self, key: &str) -> Option<String>;
    /// Writes a value.
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Deletes a value.
    fn remove(&self, key: &str);
    /// Every key currently stored.
    fn keys(&self) -> Vec<String>;
}

/// What a look-up found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh entry.
    Fresh(Box<CacheEntry>),
    /// Nothing usable (absent, expired, corrupt or of another schema; the latter are removed).
    Miss,
}

/// Reads the entry for `key`; drops expired, corrupt, old-schema and mismatched entries.
pub fn lookup(store: &impl Store, key: &CacheKey, now_ms: u64) -> Lookup {
    let storage_key = key.storage_key();
    let Some(text) = store.get(&storage_key) else {
        return Lookup::Miss;
    };
    match read_entry(&text, key, now_ms) {
        Some(entry) => Lookup::Fresh(Box::new(entry)),
        None => {
            store.remove(&storage_key);
            Lookup::Miss
        }
    }
}

/// Reads a stored value as the fresh entry for `key`, or `None` when it is unreadable, of
/// another schema, not fresh ([`CacheEntry::is_fresh`]), about another account, project or
/// plan, or not answering exactly the plan's permissions. Also used for entries that another
/// tab writes (the `storage` event).
pub fn read_entry(text: &str, key: &CacheKey, now_ms: u64) -> Option<CacheEntry> {
    super::json::from_str::<CacheEntry>(text)
        .ok()
        .filter(|entry| {
            entry.is_fresh(now_ms)
                && entry.account_id == key.account_id
                && entry.project == key.project
                && entry.fingerprint == key.fingerprint
                && entry.findings.answers_exactly(key)
        })
}

/// Whether any account has an entry for this project and plan: only then can waiting for the
/// account's identity save a check (the entry itself is read by [`lookup`]).
pub fn may_answer(store: &impl Store, plan: &Plan) -> bool {
    let suffix = format!("/{}/{}", plan.project.as_str(), plan.fingerprint);
    store
        .keys()
        .iter()
        .any(|k| k.starts_with(KEY_PREFIX) && k.ends_with(&suffix))
}

/// Removes every entry of ours that is unreadable or not fresh ([`CacheEntry::is_fresh`], as
/// [`lookup`] decides), and the oldest beyond [`MAX_ENTRIES`].
pub fn prune(store: &impl Store, now_ms: u64) {
    let mut live: Vec<(u64, String)> = Vec::new();
    for key in store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with(KEY_PREFIX))
    {
        let entry = store
            .get(&key)
            .and_then(|text| super::json::from_str::<CacheEntry>(&text).ok());
        match entry {
            Some(e) if e.is_fresh(now_ms) => live.push((e.checked_at_ms, key)),
            _ => store.remove(&key),
        }
    }
    live.sort_unstable();
    let excess = live.len().saturating_sub(MAX_ENTRIES);
    for (_, key) in live.into_iter().take(excess) {
        store.remove(&key);
    }
}

/// Writes `entry`; when storage is full, prunes and tries once more.
pub fn save(
    store: &impl Store,
    key: &CacheKey,
    entry: &CacheEntry,
    now_ms: u64,
) -> Result<(), StoreError> {
    let text = super::json::to_string(entry).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    match store.set(&key.storage_key(), &text) {
        Err(StoreError::QuotaExceeded) => {
            prune(store, now_ms);
            store.set(&key.storage_key(), &text)
        }
        other => other,
    }
}

/// Removes every entry of ours (the "forget" action).
pub fn clear(store: &impl Store) {
    for key in store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with(KEY_PREFIX))
    {
        store.remove(&key);
    }
}

/// An in-memory [`Store`] for tests and for browsers without storage.
#[derive(Debug, Default)]
pub struct MemoryStore {
    entries: std::cell::RefCell<std::collections::BTreeMap<String, String>>,
    /// Total bytes allowed (keys + values); `None` = unlimited.
    pub quota: Option<usize>,
}

impl Store for MemoryStore {
    fn get(&self, key: &str) -> Option<String> {
        self.entries.borrow().get(key).cloned()
    }
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let mut entries = self.entries.borrow_mut();
        if let Some(quota) = self.quota {
            let used: usize = entries
                .iter()
                .filter(|(k, _)| k.as_str() != key)
                .map(|(k, v)| k.len() + v.len())
                .sum();
            if used + key.len() + value.len() > quota {
                return Err(StoreError::QuotaExceeded);
            }
        }
        entries.insert(key.to_owned(), value.to_owned());
        Ok(())
    }
    fn remove(&self, key: &str) {
        self.entries.borrow_mut().remove(key);
    }
    fn keys(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::check::PermissionFinding;
    use crate::core::google_error::ApiError;
    use crate::core::plan::PlanInput;

    fn plan(project: &str) -> Plan {
        Plan::build(ProjectId::parse(project).unwrap(), &PlanInput::default())
    }

    fn complete(plan: &Plan) -> Findings {
        let mut f = Findings::default();
        for p in plan.permissions() {
            f.project.insert(p, PermissionFinding::Held);
        }
        for a in &plan.apis {
            f.apis.insert(a.service.clone(), ApiFinding::On);
        }
        f
    }

    #[test]
    fn key_scheme() {
        let p = plan("my-project");
        let key = CacheKey::new("1234", &p);
        assert_eq!(
            key.storage_key(),
            format!("gcp-preflight/v1/1234/my-project/{}", p.fingerprint)
        );
    }

    #[test]
    fn fresh_then_stale() {
        let store = MemoryStore::default();
        let p = plan("my-project");
        let key = CacheKey::new("1", &p);
        let entry = CacheEntry::new(&key, &complete(&p), 1_000, DEFAULT_TTL_MS).unwrap();
        save(&store, &key, &entry, 1_000).unwrap();
        assert!(matches!(
            lookup(&store, &key, 1_000 + 60_000),
            Lookup::Fresh(_)
        ));
        assert_eq!(lookup(&store, &key, 1_000 + DEFAULT_TTL_MS), Lookup::Miss);
        assert!(store.keys().is_empty(), "a stale entry is removed");
    }

    #[test]
    fn may_answer_looks_at_project_and_plan_only() {
        let store = MemoryStore::default();
        let p = plan("my-project");
        assert!(!may_answer(&store, &p));
        let key = CacheKey::new("7", &p);
        let entry = CacheEntry::new(&key, &complete(&p), 0, DEFAULT_TTL_MS).unwrap();
        save(&store, &key, &entry, 0).unwrap();
        assert!(may_answer(&store, &p));
        assert!(!may_answer(&store, &plan("other-proj")));
    }

    #[test]
    fn other_account_project_or_plan_is_a_miss() {
        let store = MemoryStore::default();
        let p = plan("my-project");
        let key = CacheKey::new("1", &p);
        let entry = CacheEntry::new(&key, &complete(&p), 0, DEFAULT_TTL_MS).unwrap();
        save(&store, &key, &entry, 0).unwrap();
        assert_eq!(lookup(&store, &CacheKey::new("2", &p), 5), Lookup::Miss);
        assert_eq!(
            lookup(&store, &CacheKey::new("1", &plan("other-proj")), 5),
            Lookup::Miss
        );
        let other_plan = Plan::build(
            p.project.clone(),
            &PlanInput {
                options: crate::core::catalog::Options {
                    tpus: true,
                    ..Default::default()
                },
                ..Default::default()
            },
        );
        assert_eq!(
            lookup(&store, &CacheKey::new("1", &other_plan), 5),
            Lookup::Miss
        );
        assert!(matches!(lookup(&store, &key, 5), Lookup::Fresh(_)));
    }

    #[test]
    fn errors_are_never_cached() {
        let p = plan("my-project");
        let mut f = complete(&p);
        let first = f.project.keys().next().unwrap().clone();
        f.project.insert(
            first,
            PermissionFinding::Error {
                error: ApiError::Network {
                    detail: "offline".into(),
                },
            },
        );
        assert!(CacheEntry::new(&CacheKey::new("1", &p), &f, 0, DEFAULT_TTL_MS).is_none());
    }

    #[test]
    fn corrupt_old_and_tampered_entries_are_dropped() {
        let store = MemoryStore::default();
        let p = plan("my-project");
        let key = CacheKey::new("1", &p);
        for bad in ["{not json", "null", "{\"schema\":0}", ""] {
            store.set(&key.storage_key(), bad).unwrap();
            assert_eq!(lookup(&store, &key, 0), Lookup::Miss);
            assert!(store.get(&key.storage_key()).is_none());
        }
        let mut entry = CacheEntry::new(&key, &complete(&p), 0, DEFAULT_TTL_MS).unwrap();
        entry.schema = SCHEMA_VERSION + 1;
        store
            .set(&key.storage_key(), &serde_json::to_string(&entry).unwrap())
            .unwrap();
        assert_eq!(lookup(&store, &key, 1), Lookup::Miss);
        // An entry copied under another account's key does not answer for it.
        entry.schema = SCHEMA_VERSION;
        entry.account_id = "2".into();
        store
            .set(&key.storage_key(), &serde_json::to_string(&entry).unwrap())
            .unwrap();
        assert_eq!(lookup(&store, &key, 1), Lookup::Miss);
        // A permission name that fails validation makes the entry unreadable, not a panic.
        let text = serde_json::to_string(
            &CacheEntry::new(&key, &complete(&p), 0, DEFAULT_TTL_MS).unwrap(),
        )
        .unwrap()
        .replace("compute.disks.list", "not a permission");
        store.set(&key.storage_key(), &text).unwrap();
        assert_eq!(lookup(&store, &key, 1), Lookup::Miss);
    }

    #[test]
    fn full_store_prunes_then_fails_cleanly() {
        let p = plan("my-project");
        let key = CacheKey::new("1", &p);
        let entry = CacheEntry::new(&key, &complete(&p), 100, DEFAULT_TTL_MS).unwrap();
        let size = serde_json::to_string(&entry).unwrap().len() + key.storage_key().len();
        let store = MemoryStore {
            quota: Some(size + 10),
            ..Default::default()
        };
        // An expired entry fills the store; saving prunes it and succeeds.
        let old_key = CacheKey::new("9", &p);
        let old = CacheEntry::new(&old_key, &complete(&p), 0, 1).unwrap();
        store
            .entries
            .borrow_mut()
            .insert(old_key.storage_key(), serde_json::to_string(&old).unwrap());
        save(&store, &key, &entry, 100).unwrap();
        assert_eq!(store.keys(), [key.storage_key()]);
        let tiny = MemoryStore {
            quota: Some(10),
            ..Default::default()
        };
        assert_eq!(
            save(&tiny, &key, &entry, 100),
            Err(StoreError::QuotaExceeded)
        );
    }

    #[test]
    fn prune_keeps_newest_and_foreign_keys() {
        let store = MemoryStore::default();
        store.set("someone-else", "x").unwrap();
        let p = plan("my-project");
        for i in 0..(MAX_ENTRIES as u64 + 5) {
            let key = CacheKey::new(&i.to_string(), &p);
            let e = CacheEntry::new(&key, &complete(&p), i, DEFAULT_TTL_MS).unwrap();
            save(&store, &key, &e, i).unwrap();
        }
        prune(&store, 100);
        assert_eq!(store.keys().len(), MAX_ENTRIES + 1);
        assert!(store.get("someone-else").is_some());
        assert!(store.get(&CacheKey::new("0", &p).storage_key()).is_none());
        clear(&store);
        assert_eq!(store.keys(), ["someone-else"]);
    }

    #[test]
    fn stored_findings_round_trip() {
        let p = plan("my-project");
        let mut f = complete(&p);
        let first = f.project.keys().next().unwrap().clone();
        f.project.insert(first, PermissionFinding::Untestable);
        f.apis
            .insert("compute.googleapis.com".into(), ApiFinding::Off);
        let stored = StoredFindings::from_findings(&f).unwrap();
        assert_eq!(stored.to_findings(), f);
        let text = serde_json::to_string(&stored).unwrap();
        assert!(text.contains("\"untestable\"") && !text.contains("\"bucket\""));
        assert_eq!(
            serde_json::from_str::<StoredFindings>(&text).unwrap(),
            stored
        );
    }

    /// Saves `entry` under `key` as its JSON, bypassing [`CacheEntry::new`] (a planted entry).
    fn plant(store: &MemoryStore, key: &CacheKey, entry: &CacheEntry) {
        store
            .set(&key.storage_key(), &serde_json::to_string(entry).unwrap())
            .unwrap();
    }

    fn is_fresh(store: &MemoryStore, key: &CacheKey, now_ms: u64) -> bool {
        matches!(lookup(store, key, now_ms), Lookup::Fresh(_))
    }

    #[test]
    fn a_stored_expiry_is_never_trusted_beyond_the_app_ttl() {
        let p = plan("my-project");
        let key = CacheKey::new("1", &p);
        let mut planted = CacheEntry::new(&key, &complete(&p), 1_000, DEFAULT_TTL_MS).unwrap();
        planted.expires_at_ms = u64::MAX;
        assert_eq!(planted.fresh_until_ms(), 1_000 + DEFAULT_TTL_MS);
        let store = MemoryStore::default();
        plant(&store, &key, &planted);
        assert!(is_fresh(&store, &key, 1_000 + DEFAULT_TTL_MS - 1));
        assert!(!is_fresh(&store, &key, 1_000 + DEFAULT_TTL_MS));
        assert!(store.keys().is_empty(), "the planted entry is removed");
        // A writer asking for a longer TTL gets the app's; a shorter one is kept.
        let long = CacheEntry::new(&key, &complete(&p), 0, 3 * DEFAULT_TTL_MS).unwrap();
        assert_eq!(long.fresh_until_ms(), DEFAULT_TTL_MS);
        assert!(long.is_fresh(DEFAULT_TTL_MS - 1) && !long.is_fresh(DEFAULT_TTL_MS));
        let short = CacheEntry::new(&key, &complete(&p), 0, 5_000).unwrap();
        assert_eq!(short.fresh_until_ms(), 5_000);
        assert!(short.is_fresh(4_999) && !short.is_fresh(5_000));
        // An expiry before the check itself is never fresh.
        let mut backwards = short.clone();
        backwards.checked_at_ms = 10_000;
        backwards.expires_at_ms = 9_000;
        assert!((9_000..12_000).all(|now| !backwards.is_fresh(now)));
        // Near the end of time the cap saturates rather than wrapping round.
        let mut late = short;
        late.checked_at_ms = u64::MAX - 1;
        late.expires_at_ms = u64::MAX;
        assert_eq!(late.fresh_until_ms(), u64::MAX);
        assert!(late.is_fresh(u64::MAX - 1));
    }

    #[test]
    fn a_future_dated_entry_is_a_miss() {
        let p = plan("my-project");
        let key = CacheKey::new("1", &p);
        let entry = CacheEntry::new(&key, &complete(&p), 50_000, DEFAULT_TTL_MS).unwrap();
        let store = MemoryStore::default();
        plant(&store, &key, &entry);
        assert!(
            !is_fresh(&store, &key, 49_999),
            "checked after now: skewed or planted"
        );
        assert!(store.keys().is_empty());
        plant(&store, &key, &entry);
        assert!(is_fresh(&store, &key, 50_000));
        assert_eq!(
            read_entry(&serde_json::to_string(&entry).unwrap(), &key, 49_999),
            None
        );
        assert_eq!(
            read_entry(&serde_json::to_string(&entry).unwrap(), &key, 50_000),
            Some(entry)
        );
    }

    #[test]
    fn prune_and_lookup_agree_at_every_instant() {
        let p = plan("my-project");
        let key = CacheKey::new("1", &p);
        let at = 10_000;
        let entry = CacheEntry::new(&key, &complete(&p), at, DEFAULT_TTL_MS).unwrap();
        let mut planted = entry.clone();
        planted.expires_at_ms = u64::MAX;
        let instants = [
            (at - 1, false),
            (at, true),
            (at + DEFAULT_TTL_MS - 1, true),
            (at + DEFAULT_TTL_MS, false),
            (at + DEFAULT_TTL_MS + 1, false),
        ];
        for e in [&entry, &planted] {
            for (now, fresh) in instants {
                let looked_up = MemoryStore::default();
                plant(&looked_up, &key, e);
                assert_eq!(is_fresh(&looked_up, &key, now), fresh, "lookup at {now}");
                let pruned = MemoryStore::default();
                plant(&pruned, &key, e);
                prune(&pruned, now);
                assert_eq!(
                    pruned.get(&key.storage_key()).is_some(),
                    fresh,
                    "prune at {now}"
                );
            }
        }
    }

    #[test]
    fn prune_evicts_the_oldest_whatever_the_key_order() {
        let store = MemoryStore::default();
        let p = plan("my-project");
        // Account ids sort the other way round from age: the oldest entry has the largest key.
        let key = |i: u64| CacheKey::new(&format!("{}", 999 - i), &p);
        let total = MAX_ENTRIES as u64 + 5;
        for i in 0..total {
            let e = CacheEntry::new(&key(i), &complete(&p), 1_000 + i, DEFAULT_TTL_MS).unwrap();
            plant(&store, &key(i), &e);
        }
        prune(&store, 2_000);
        assert_eq!(store.keys().len(), MAX_ENTRIES);
        for i in 0..total {
            assert_eq!(
                store.get(&key(i).storage_key()).is_some(),
                i >= 5,
                "entry {i} of {total} (0 = oldest)"
            );
        }
        // At or under the limit, nothing live is evicted.
        prune(&store, 2_000);
        assert_eq!(store.keys().len(), MAX_ENTRIES);
    }

    #[test]
    fn only_an_answer_to_exactly_the_plans_permissions_is_read() {
        let named = Plan::build(
            ProjectId::parse("my-project").unwrap(),
            &PlanInput {
                bucket: Some(crate::core::names::BucketName::parse("jobs-bucket").unwrap()),
                service_account: Some(
                    crate::core::names::ServiceAccountEmail::parse(
                        "sa@my-project.iam.gserviceaccount.com",
                    )
                    .unwrap(),
                ),
                ..Default::default()
            },
        );
        let key = CacheKey::new("1", &named);
        let mut full = complete(&named);
        for p in named.bucket_permissions() {
            full.bucket.insert(p, PermissionFinding::Missing);
        }
        for p in named.service_account_permissions() {
            full.service_account.insert(p, PermissionFinding::Held);
        }
        let good = CacheEntry::new(&key, &full, 0, DEFAULT_TTL_MS).unwrap();
        let reads = |entry: &CacheEntry| {
            read_entry(&serde_json::to_string(entry).unwrap(), &key, 1).is_some()
        };
        assert!(reads(&good));
        let extra = Permission::parse("compute.images.list").unwrap();
        type Change = fn(&mut StoredFindings, &Permission);
        let variants: Vec<(&str, Change)> = vec![
            ("a project answer missing", |f, _| {
                f.project.pop();
            }),
            ("an extra project answer", |f, x| {
                f.project.push((x.clone(), StoredAnswer::Held))
            }),
            ("a project answer twice, another absent", |f, _| {
                let first = f.project[0].clone();
                f.project[1] = first;
            }),
            ("a project answer replaced", |f, x| {
                f.project[0].0 = x.clone();
            }),
            ("no bucket answers", |f, _| f.bucket.clear()),
            ("a bucket answer missing", |f, _| {
                f.bucket.pop();
            }),
            ("an extra bucket answer", |f, x| {
                f.bucket.push((x.clone(), StoredAnswer::Held))
            }),
            ("no service-account answers", |f, _| {
                f.service_account.clear()
            }),
            ("an extra service-account answer", |f, x| {
                f.service_account.push((x.clone(), StoredAnswer::Held))
            }),
            ("no APIs", |f, _| f.apis.clear()),
            ("an API missing", |f, _| {
                f.apis.pop();
            }),
            ("an extra API", |f, _| {
                f.apis.push(("evil.googleapis.com".into(), true))
            }),
            ("an API twice, another absent", |f, _| {
                let first = f.apis[0].clone();
                f.apis[1] = first;
            }),
            ("an API replaced", |f, _| {
                f.apis[0].0 = "other.googleapis.com".into();
            }),
        ];
        for (what, change) in variants {
            let mut entry = good.clone();
            change(&mut entry.findings, &extra);
            assert!(!reads(&entry), "{what}");
        }
        // The order of the stored pairs does not matter.
        let mut reversed = good.clone();
        reversed.findings.project.reverse();
        reversed.findings.bucket.reverse();
        reversed.findings.apis.reverse();
        assert!(reads(&reversed));
        assert!(good.findings.apis.len() >= 2, "the plan looks up APIs");
        // A plan that names no bucket or account is not answered by an entry that has them.
        let bare = plan("my-project");
        let mut with_probes = CacheEntry::new(
            &CacheKey::new("1", &bare),
            &complete(&bare),
            0,
            DEFAULT_TTL_MS,
        )
        .unwrap();
        let bare_key = CacheKey::new("1", &bare);
        assert!(read_entry(&serde_json::to_string(&with_probes).unwrap(), &bare_key, 1).is_some());
        with_probes.findings.bucket = good.findings.bucket.clone();
        assert!(read_entry(&serde_json::to_string(&with_probes).unwrap(), &bare_key, 1).is_none());
    }

    #[test]
    fn a_complete_check_over_the_simulated_google_is_cached_and_read_back() {
        use crate::core::demo::{demo_world, SimulatedGoogle, DEMO_PROJECT_TEAM, DEMO_TOKEN_ALICE};
        let google = SimulatedGoogle::new(demo_world());
        let project = ProjectId::parse(DEMO_PROJECT_TEAM).unwrap();
        let p = Plan::build(
            project.clone(),
            &PlanInput {
                bucket: Some(crate::core::names::BucketName::parse("demo-jobs-bucket").unwrap()),
                service_account: Some(crate::core::names::ServiceAccountEmail::skypilot_default(
                    &project,
                )),
                ..Default::default()
            },
        );
        let findings = futures::executor::block_on(crate::core::check::run(
            &google,
            &p,
            DEMO_TOKEN_ALICE,
            crate::core::check::TokenScope::Full,
        ));
        assert!(findings.is_complete());
        assert!(!findings.bucket.is_empty() && !findings.service_account.is_empty());
        let key = CacheKey::new("100000000000000000001", &p);
        let entry = CacheEntry::new(&key, &findings, 7, DEFAULT_TTL_MS).unwrap();
        let store = MemoryStore::default();
        save(&store, &key, &entry, 7).unwrap();
        let Lookup::Fresh(read) = lookup(&store, &key, 8) else {
            panic!("a complete check must be answerable from the cache")
        };
        assert_eq!(read.findings.to_findings(), findings);
    }

    #[test]
    fn errors_anywhere_are_never_cached() {
        let p = plan("my-project");
        let key = CacheKey::new("1", &p);
        let error = ApiError::Network {
            detail: "offline".into(),
        };
        let some = Permission::parse("storage.objects.get").unwrap();
        let mut api = complete(&p);
        api.apis.insert(
            "compute.googleapis.com".into(),
            ApiFinding::Unknown {
                error: error.clone(),
            },
        );
        let mut bucket = complete(&p);
        bucket.bucket.insert(
            some.clone(),
            PermissionFinding::Error {
                error: error.clone(),
            },
        );
        let mut account = complete(&p);
        account
            .service_account
            .insert(some, PermissionFinding::Error { error });
        for f in [api, bucket, account] {
            assert!(!f.is_complete());
            assert_eq!(StoredFindings::from_findings(&f), None);
            assert_eq!(CacheEntry::new(&key, &f, 0, DEFAULT_TTL_MS), None);
        }
        let ok = CacheEntry::new(&key, &complete(&p), 5, 7).unwrap();
        assert_eq!(
            (ok.schema, ok.checked_at_ms, ok.expires_at_ms),
            (SCHEMA_VERSION, 5, 12)
        );
        // No personal data beyond the account's ID: the email is never stored.
        let text = serde_json::to_string(&ok).unwrap();
        assert!(!text.contains("email"), "{text}");
        assert_eq!(
            CacheEntry::new(&key, &complete(&p), u64::MAX - 1, 7)
                .unwrap()
                .expires_at_ms,
            u64::MAX
        );
    }

    #[test]
    fn memory_store_quota_counts_keys_and_values_once() {
        let store = MemoryStore {
            quota: Some(10),
            ..Default::default()
        };
        assert_eq!(
            store.set("k1", "12345678"),
            Ok(()),
            "exactly the quota fits"
        );
        assert_eq!(
            store.set("k1", "abcdefgh"),
            Ok(()),
            "an overwrite is not counted twice"
        );
        assert_eq!(store.set("k2", ""), Err(StoreError::QuotaExceeded));
        assert_eq!(store.get("k1").as_deref(), Some("abcdefgh"));
        assert_eq!(store.set("k1", "123456789"), Err(StoreError::QuotaExceeded));
        store.remove("k1");
        assert_eq!(store.get("k1"), None);
        assert_eq!(store.set("k2", "x"), Ok(()));
        assert_eq!(store.keys(), ["k2"]);
        // An empty value still costs its key: 2 + 0 used, 2 + 8 more is over 10.
        let store = MemoryStore {
            quota: Some(10),
            ..Default::default()
        };
        assert_eq!(store.set("k1", ""), Ok(()));
        assert_eq!(store.set("k2", "12345678"), Err(StoreError::QuotaExceeded));
        assert_eq!(store.set("k2", "123456"), Ok(()));
    }

    #[test]
    fn documented_limits() {
        // README: "cached … for 10 minutes".
        assert_eq!(DEFAULT_TTL_MS, 600_000);
        assert_eq!(MAX_ENTRIES, 50);
        assert_eq!(KEY_PREFIX, "gcp-preflight/v1/");
    }

    #[test]
    fn ages() {
        assert_eq!(describe_age(0), "less than a minute ago");
        assert_eq!(describe_age(1), "1 minute ago");
        assert_eq!(describe_age(7), "7 minutes ago");
    }
}
