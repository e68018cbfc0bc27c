//! Google's predefined IAM roles, and the least-privilege roles to ask for when permissions
//! are missing.
//!
//! The role data is a static asset made by `scripts/gen-roles` (`static/roles/skypilot.json`
//! for SkyPilot's catalogue, `static/roles/full.json` for every role) and fetched only when advice
//! is shown. Both files share one shape:
//!
//! ```json
//! {"header": {"data_date": "2026-08-22", ...},
//!  "permissions": ["compute.disks.create", ...],
//!  "roles": [["compute.admin", "Compute Admin", "GA", 1095, [3, 1, 7]], ...]}
//! ```
//!
//! A role is `[id without "roles/", title, stage, total permission count, gaps]`, where `gaps`
//! encode the sorted positions of its permissions in `permissions` (first position, then
//! differences). `skypilot.json` lists only the catalogue permissions of each role, so the total
//! count is what tells how much else a role grants.
//!
//! [`suggest`] is a greedy set cover with fixed rules; see its documentation.

pub mod fix;

use super::permission::Permission;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// Where the role data came from, as the generator recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The dataset or API the roles were taken from.
    pub source: String,
    /// The dataset's commit, when it has one.
    #[serde(default)]
    pub source_commit: Option<String>,
    /// The date of the data (`YYYY-MM-DD`): shown next to every suggestion.
    pub data_date: String,
    /// The dataset's licence, e.g. `MIT`.
    #[serde(default)]
    pub licence: String,
    /// The licence's copyright line.
    #[serde(default)]
    pub copyright: Option<String>,
    /// A short credit for the UI, e.g. `iann0036/iam-dataset, MIT`.
    #[serde(default)]
    pub attribution: String,
    /// `skypilot` (catalogue permissions only) or `full`.
    #[serde(default)]
    pub kind: String,
}

/// A role's launch stage. Order is preference: GA first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Stage {
    /// Generally available.
    Ga,
    /// Beta.
    Beta,
    /// Alpha, early access or anything else Google adds.
    Alpha,
    /// Deprecated: suggested only when nothing else grants a permission.
    Deprecated,
}

impl Stage {
    fn parse(text: &str) -> Stage {
        match text {
            "GA" => Stage::Ga,
            "BETA" => Stage::Beta,
            "DEPRECATED" => Stage::Deprecated,
            _ => Stage::Alpha,
        }
    }

    /// As Google writes it: `GA`, `BETA`, `ALPHA`, `DEPRECATED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Ga => "GA",
            Stage::Beta => "BETA",
            Stage::Alpha => "ALPHA",
            Stage::Deprecated => "DEPRECATED",
        }
    }
}

/// One predefined role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Role {
    /// Full role name, e.g. `roles/compute.securityAdmin`.
    pub id: String,
    /// Google's title, e.g. `Compute Security Admin`.
    pub title: String,
    /// Launch stage.
    pub stage: Stage,
    /// How many permissions the role grants in all (more than `permissions` in `skypilot.json`).
    pub total: usize,
    /// Positions of the listed permissions in the index's table, ascending.
    permissions: Vec<u32>,
    /// Whether the role may be suggested to a person at all ([`Role::is_for_people`]).
    for_people: bool,
}

impl Role {
    /// The service a role belongs to: `compute` for `roles/compute.admin`.
    pub fn service(&self) -> &str {
        let local = self.id.strip_prefix("roles/").unwrap_or(&self.id);
        local.split('.').next().unwrap_or(local)
    }

    /// Whether the role may be suggested to a person. Never: the basic roles (owner, editor,
    /// viewer); roles meant for Google's service agents and managed services (names ending in
    /// `Agent`/`agent` or `Service`, or holding `serviceAgent`), which often grant few permissions
    /// but are not for people; and Cloud Storage's legacy roles, which mirror bucket ACLs.
    pub fn is_for_people(&self) -> bool {
        self.for_people
    }
}

fn for_people(id: &str) -> bool {
    if matches!(id, "roles/owner" | "roles/editor" | "roles/viewer") {
        return false;
    }
    let local = id.strip_prefix("roles/").unwrap_or(id);
    let local = local.split_once('.').map_or(local, |(_, rest)| rest);
    let lower = local.to_ascii_lowercase();
    !(lower.ends_with("agent")
        || lower.contains("serviceagent")
        || local.ends_with("Service")
        || id.starts_with("roles/storage.legacyBucket")
        || id.starts_with("roles/storage.legacyObject"))
}

/// Why role data could not be used. The message is shown as one line in the UI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleDataError(String);

impl fmt::Display for RoleDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "The role data is unusable: {}", self.0)
    }
}

impl std::error::Error for RoleDataError {}

fn bad(message: impl Into<String>) -> RoleDataError {
    RoleDataError(message.into())
}

/// The file as written by `scripts/gen-roles`.
#[derive(Deserialize)]
struct RawIndex {
    header: Header,
    permissions: Vec<String>,
    roles: Vec<(String, String, String, usize, Vec<u32>)>,
}

/// Predefined roles with their permissions, indexed both ways.
#[derive(Clone, Debug)]
pub struct RoleIndex {
    header: Header,
    /// Sorted, distinct.
    permissions: Vec<Permission>,
    roles: Vec<Role>,
    /// For each permission position, the roles granting it (ascending role positions).
    granted_by: Vec<Vec<u32>>,
}

/// A role name part: letters, digits, `_` and `.`, as in every predefined role.
fn valid_role_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= 128
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !local.starts_with('.')
        && !local.ends_with('.')
}

impl RoleIndex {
    /// Parses `skypilot.json` or `full.json`. Anything malformed is an error, never a panic.
    pub fn from_json(text: &str) -> Result<RoleIndex, RoleDataError> {
        let raw: RawIndex =
            super::json::from_str(text).map_err(|e| bad(format!("not the expected JSON ({e})")))?;
        let mut permissions = Vec::with_capacity(raw.permissions.len());
        for name in &raw.permissions {
            let p =
                Permission::parse(name).map_err(|e| bad(format!("permission \"{name}\" {e}")))?;
            if permissions
                .last()
                .is_some_and(|last: &Permission| *last >= p)
            {
                return Err(bad("the permission table is not sorted and distinct"));
            }
            permissions.push(p);
        }
        let mut roles = Vec::with_capacity(raw.roles.len());
        for (local, title, stage, total, gaps) in raw.roles {
            let mut positions = Vec::with_capacity(gaps.len());
            let mut at: u64 = 0;
            for (i, gap) in gaps.into_iter().enumerate() {
                if i > 0 && gap == 0 {
                    return Err(bad(format!("role {local} lists a permission twice")));
                }
                at += u64::from(gap);
                if at >= permissions.len() as u64 {
                    return Err(bad(format!(
                        "role {local} points past the permission table"
                    )));
                }
                positions.push(at as u32);
            }
            roles.push(RawRole {
                local,
                title,
                stage,
                total,
                positions,
            });
        }
        RoleIndex::build(raw.header, permissions, roles)
    }

    /// Builds an index from roles given by name (`roles/x` or `x`), e.g. from Google's own dump.
    pub fn from_roles<'a>(
        header: Header,
        roles: impl IntoIterator<Item = (&'a str, &'a str, &'a str, &'a [String])>,
    ) -> Result<RoleIndex, RoleDataError> {
        let roles: Vec<_> = roles.into_iter().collect();
        let mut table = BTreeSet::new();
        for (_, _, _, perms) in &roles {
            for name in perms.iter() {
                table.insert(
                    Permission::parse(name)
                        .map_err(|e| bad(format!("permission \"{name}\" {e}")))?,
                );
            }
        }
        let permissions: Vec<Permission> = table.into_iter().collect();
        let raw = roles
            .into_iter()
            .map(|(id, title, stage, perms)| {
                let mut positions: Vec<u32> = perms
                    .iter()
                    .filter_map(|name| {
                        permissions
                            .binary_search_by(|p| p.as_str().cmp(name.trim()))
                            .ok()
                    })
                    .map(|i| i as u32)
                    .collect();
                positions.sort_unstable();
                positions.dedup();
                RawRole {
                    local: id.strip_prefix("roles/").unwrap_or(id).to_owned(),
                    title: title.to_owned(),
                    stage: stage.to_owned(),
                    total: positions.len(),
                    positions,
                }
            })
            .collect();
        RoleIndex::build(header, permissions, raw)
    }

    fn build(
        header: Header,
        permissions: Vec<Permission>,
        raw: Vec<RawRole>,
    ) -> Result<RoleIndex, RoleDataError> {
        if header.data_date.is_empty() {
            return Err(bad("the header has no data date"));
        }
        let mut roles: Vec<Role> = Vec::with_capacity(raw.len());
        let mut granted_by = vec![Vec::new(); permissions.len()];
        for r in raw {
            if !valid_role_local(&r.local) {
                return Err(bad(format!("\"{}\" is not a role name", r.local)));
            }
            if r.total < r.positions.len() {
                return Err(bad(format!(
                    "role {} counts fewer permissions than it lists",
                    r.local
                )));
            }
            let id = format!("roles/{}", r.local);
            if roles.iter().any(|known| known.id == id) {
                return Err(bad(format!("role {id} appears twice")));
            }
            let at = roles.len() as u32;
            for &p in &r.positions {
                granted_by[p as usize].push(at);
            }
            roles.push(Role {
                for_people: for_people(&id),
                id,
                title: r.title,
                stage: Stage::parse(&r.stage),
                total: r.total,
                permissions: r.positions,
            });
        }
        Ok(RoleIndex {
            header,
            permissions,
            roles,
            granted_by,
        })
    }

    /// Where the data came from and how old it is.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Every role, in the file's order.
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// Every permission some role grants, sorted.
    pub fn permissions(&self) -> &[Permission] {
        &self.permissions
    }

    /// The role named `id` (`roles/x`).
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The permissions `role` grants that this index lists.
    pub fn permissions_of<'a>(&'a self, role: &'a Role) -> impl Iterator<Item = &'a Permission> {
        role.permissions
            .iter()
            .map(move |&i| &self.permissions[i as usize])
    }

    /// The roles granting `permission`.
    pub fn roles_granting<'a>(&'a self, permission: &str) -> impl Iterator<Item = &'a Role> {
        let at = self
            .permissions
            .binary_search_by(|p| p.as_str().cmp(permission));
        let list: &[u32] = match at {
            Ok(i) => &self.granted_by[i],
            Err(_) => &[],
        };
        list.iter().map(move |&r| &self.roles[r as usize])
    }

    fn position(&self, permission: &Permission) -> Option<usize> {
        self.permissions.binary_search(permission).ok()
    }
}

struct RawRole {
    local: String,
    title: String,
    stage: String,
    total: usize,
    positions: Vec<u32>,
}

/// One role to ask for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestedRole {
    /// Full role name, e.g. `roles/iam.serviceAccountUser`.
    pub id: String,
    /// Google's title.
    pub title: String,
    /// Launch stage.
    pub stage: Stage,
    /// The missing permissions this role grants, sorted.
    pub covers: Vec<Permission>,
    /// How many permissions the role grants beyond the missing ones.
    pub extra: usize,
}

/// The least-privilege answer for a set of missing permissions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// Roles to ask for, the most useful first.
    pub roles: Vec<SuggestedRole>,
    /// Missing permissions no acceptable predefined role grants (a custom role must), sorted.
    pub uncovered: Vec<Permission>,
}

impl Suggestion {
    /// How many permissions the suggested roles grant beyond the missing ones, summed.
    pub fn extra(&self) -> usize {
        self.roles.iter().map(|r| r.extra).sum()
    }
}

/// Which roles may stand for `permission`, best first: GA roles of the permission's own service,
/// then other live roles of that service, then GA roles of any service, then other live roles,
/// then deprecated ones. Only roles in the best non-empty tier may cover the permission, which
/// keeps tiny roles of unrelated services (Dataproc Metastore's for `compute.instances.create`)
/// out of the advice.
fn tier(role: &Role, permission: &Permission) -> u8 {
    let own = role.service() == permission.service();
    match (role.stage, own) {
        (Stage::Deprecated, _) => 4,
        (Stage::Ga, true) => 0,
        (_, true) => 1,
        (Stage::Ga, false) => 2,
        (_, false) => 3,
    }
}

/// The roles to ask for so that `missing` is granted, with as little else as possible.
///
/// Rules, in order:
/// 1. Roles that are not for people ([`Role::is_for_people`]) are never suggested. Each missing
///    permission may be covered only by the roles of its best tier (see `tier` below: own
///    service and GA first; deprecated roles only when nothing else grants it). A permission
///    no such role grants is `uncovered`.
/// 2. Greedy set cover: repeatedly take the role that covers the most still-uncovered
///    permissions it may cover; ties go to the role granting the fewest extra permissions (beyond
///    the whole missing set), then the better stage (GA first), then more of the permissions
///    being of the role's own service, then the smaller role id.
/// 3. Roles whose missing permissions the other chosen roles already grant are dropped, the
///    last chosen first.
///
/// The answer depends only on the set of permissions, not their order or duplicates.
pub fn suggest(index: &RoleIndex, missing: &[Permission]) -> Suggestion {
    let wanted: BTreeSet<&Permission> = missing.iter().collect();
    let mut uncovered: Vec<Permission> = Vec::new();
    // Positions in the index of the wanted permissions the index knows.
    let mut known: Vec<(usize, &Permission)> = Vec::new();
    for p in &wanted {
        match index.position(p) {
            Some(at) => known.push((at, *p)),
            None => uncovered.push((*p).clone()),
        }
    }

    // How many wanted permissions each role grants: the rest is extra.
    let mut hits: HashMap<u32, usize> = HashMap::new();
    for &(at, _) in &known {
        for &r in &index.granted_by[at] {
            *hits.entry(r).or_default() += 1;
        }
    }

    // Which wanted permissions (by their place in `known`) each role may cover.
    let mut may_cover: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut coverable = vec![false; known.len()];
    for (k, &(at, p)) in known.iter().enumerate() {
        let people = index.granted_by[at]
            .iter()
            .filter(|&&r| index.roles[r as usize].for_people);
        let Some(best) = people
            .clone()
            .map(|&r| tier(&index.roles[r as usize], p))
            .min()
        else {
            uncovered.push(p.clone());
            continue;
        };
        coverable[k] = true;
        for &r in people.filter(|&&r| tier(&index.roles[r as usize], p) == best) {
            may_cover.entry(r).or_default().push(k);
        }
    }

    let extra_of = |r: u32| index.roles[r as usize].total - hits.get(&r).copied().unwrap_or(0);

    let mut covered = vec![false; known.len()];
    let mut left = coverable.iter().filter(|c| **c).count();
    let mut chosen: Vec<u32> = Vec::new();
    while left > 0 {
        let mut best: Option<(u32, _)> = None;
        for (&r, ks) in &may_cover {
            let role = &index.roles[r as usize];
            let service = role.service();
            // Counted in one pass, without allocating: this loop is the hot one.
            let (mut fresh, mut own) = (0, 0);
            for &k in ks.iter().filter(|&&k| !covered[k]) {
                fresh += 1;
                own += usize::from(known[k].1.service() == service);
            }
            if fresh == 0 {
                continue;
            }
            let key = (
                fresh,
                Reverse(extra_of(r)),
                Reverse(role.stage),
                own,
                Reverse(role.id.as_str()),
            );
            if best.as_ref().is_none_or(|(_, b)| key > *b) {
                best = Some((r, key));
            }
        }
        // Every coverable permission has a role that may cover it, so this always finds one.
        let Some((r, _)) = best else { break };
        for &k in &may_cover[&r] {
            if !covered[k] {
                covered[k] = true;
                left -= 1;
            }
        }
        chosen.push(r);
    }

    // Drop roles the others make redundant, last chosen first: a role goes when every
    // permission it grants is granted by another chosen role too.
    let grants = |r: u32, at: usize| index.granted_by[at].binary_search(&r).is_ok();
    let granted: Vec<Vec<usize>> = chosen
        .iter()
        .map(|&r| {
            (0..known.len())
                .filter(|&k| coverable[k] && grants(r, known[k].0))
                .collect()
        })
        .collect();
    let mut holders = vec![0usize; known.len()];
    for ks in &granted {
        for &k in ks {
            holders[k] += 1;
        }
    }
    for i in (0..chosen.len()).rev() {
        if granted[i].iter().all(|&k| holders[k] > 1) {
            for &k in &granted[i] {
                holders[k] -= 1;
            }
            chosen.remove(i);
        }
    }

    uncovered.sort();
    Suggestion {
        roles: chosen
            .into_iter()
            .map(|r| {
                let role = &index.roles[r as usize];
                SuggestedRole {
                    id: role.id.clone(),
                    title: role.title.clone(),
                    stage: role.stage,
                    covers: known
                        .iter()
                        .filter(|&&(at, _)| grants(r, at))
                        .map(|&(_, p)| p.clone())
                        .collect(),
                    extra: extra_of(r),
                }
            })
            .collect(),
        uncovered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small hand-written index: see the fixture's roles for what each test relies on.
    const FIXTURE: &str = include_str!("../../tests/fixtures/roles-small.json");

    fn index() -> RoleIndex {
        RoleIndex::from_json(FIXTURE).expect("fixture parses")
    }

    fn perms(names: &[&str]) -> Vec<Permission> {
        names
            .iter()
            .map(|n| Permission::parse(n).unwrap())
            .collect()
    }

    fn ids(s: &Suggestion) -> Vec<&str> {
        s.roles.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn parses_the_fixture() {
        let index = index();
        assert_eq!(index.header().data_date, "2026-08-22");
        let admin = index.role("roles/compute.admin").unwrap();
        assert_eq!(admin.total, 1095);
        assert_eq!(admin.service(), "compute");
        assert!(index
            .permissions_of(admin)
            .any(|p| p.as_str() == "compute.firewalls.create"));
        assert!(index
            .roles_granting("iam.serviceAccounts.actAs")
            .any(|r| r.id == "roles/iam.serviceAccountUser"));
        assert!(!index.role("roles/tpu.xpnAgent").unwrap().is_for_people());
        assert!(!index.role("roles/owner").unwrap().is_for_people());
        assert!(index.role("roles/compute.admin").unwrap().is_for_people());
    }

    #[test]
    fn firewall_pair_gets_one_narrow_compute_role() {
        let s = suggest(
            &index(),
            &perms(&["compute.firewalls.create", "compute.firewalls.delete"]),
        );
        // Not compute.admin (bigger), not tpu.xpnAgent (smaller but for a service agent), not
        // the smaller role of another service, not a basic role.
        assert_eq!(ids(&s), ["roles/compute.securityAdmin"]);
        assert_eq!(s.roles[0].extra, 168);
        assert_eq!(
            s.roles[0].covers,
            perms(&["compute.firewalls.create", "compute.firewalls.delete"])
        );
        assert!(s.uncovered.is_empty());
    }

    #[test]
    fn act_as_gets_service_account_user() {
        let s = suggest(&index(), &perms(&["iam.serviceAccounts.actAs"]));
        assert_eq!(ids(&s), ["roles/iam.serviceAccountUser"]);
        assert_eq!(s.roles[0].extra, 4);
    }

    #[test]
    fn what_only_basic_or_agent_roles_grant_is_uncovered() {
        let s = suggest(
            &index(),
            &perms(&["compute.firewalls.create", "example.widgets.frobnicate"]),
        );
        assert_eq!(ids(&s), ["roles/compute.securityAdmin"]);
        assert_eq!(s.uncovered, perms(&["example.widgets.frobnicate"]));
        // Unknown to the index at all: uncovered too.
        let s = suggest(&index(), &perms(&["nowhere.things.get"]));
        assert!(s.roles.is_empty());
        assert_eq!(s.uncovered, perms(&["nowhere.things.get"]));
    }

    #[test]
    fn deprecated_roles_only_when_nothing_else_grants() {
        let s = suggest(&index(), &perms(&["oldsvc.widgets.use"]));
        assert_eq!(ids(&s), ["roles/oldsvc.user"]);
        let s = suggest(&index(), &perms(&["oldsvc.widgets.get"]));
        assert_eq!(ids(&s), ["roles/oldsvc.viewer"]);
    }

    #[test]
    fn fewest_roles_then_own_service_then_redundant_ones_dropped() {
        let s = suggest(
            &index(),
            &perms(&[
                "compute.firewalls.create",
                "compute.firewalls.delete",
                "compute.instances.create",
                "iam.serviceAccounts.actAs",
                "resourcemanager.projects.get",
            ]),
        );
        // compute.admin covers all three compute permissions in one role; the resourcemanager
        // role the greedy step also picks is dropped because compute.admin grants it too.
        assert_eq!(
            ids(&s),
            ["roles/compute.admin", "roles/iam.serviceAccountUser"]
        );
        assert!(s.uncovered.is_empty());
        assert_eq!(s.extra(), (1095 - 4) + (5 - 2));
    }

    #[test]
    fn ties_break_the_same_way_every_time() {
        let wanted = perms(&["tie.things.get", "tie.things.list"]);
        let first = suggest(&index(), &wanted);
        assert_eq!(ids(&first), ["roles/tie.alpha"]);
        // Order and duplicates of the input do not matter…
        let mut shuffled = wanted.clone();
        shuffled.reverse();
        shuffled.push(wanted[0].clone());
        assert_eq!(suggest(&index(), &shuffled), first);
        // …nor the order of roles in the file.
        let mut doc: serde_json::Value = serde_json::from_str(FIXTURE).unwrap();
        doc["roles"].as_array_mut().unwrap().reverse();
        let reversed = RoleIndex::from_json(&doc.to_string()).unwrap();
        assert_eq!(suggest(&reversed, &wanted), first);
    }

    #[test]
    fn nothing_missing_needs_nothing() {
        assert_eq!(suggest(&index(), &[]), Suggestion::default());
    }

    #[test]
    fn corrupt_data_is_an_error_not_a_panic() {
        let header = r#"{"data_date":"2026-08-22","source":"t"}"#;
        for text in [
            "",
            "{",
            "[]",
            r#"{"permissions":[],"roles":[]}"#,
            &format!(
                r#"{{"header":{header},"permissions":["a.b.c"],"roles":[["x","X","GA",1,[1]]]}}"#
            ),
            &format!(
                r#"{{"header":{header},"permissions":["a.b.c"],"roles":[["x","X","GA",1,[0,0]]]}}"#
            ),
            &format!(
                r#"{{"header":{header},"permissions":["a.b.c"],"roles":[["x","X","GA",0,[0]]]}}"#
            ),
            &format!(r#"{{"header":{header},"permissions":["b.b.c","a.b.c"],"roles":[]}}"#),
            &format!(r#"{{"header":{header},"permissions":["not a permission"],"roles":[]}}"#),
            &format!(
                r#"{{"header":{header},"permissions":["a.b.c"],"roles":[["x y","X","GA",1,[0]]]}}"#
            ),
            &format!(
                r#"{{"header":{header},"permissions":["a.b.c"],"roles":[["x","X","GA",1,[0]],["x","X","GA",1,[0]]]}}"#
            ),
            &format!(
                r#"{{"header":{header},"permissions":["a.b.c"],"roles":[["x","X","GA",1,[4294967295,4294967295]]]}}"#
            ),
            r#"{"header":{"data_date":"","source":"t"},"permissions":[],"roles":[]}"#,
        ] {
            let err = RoleIndex::from_json(text).expect_err(text);
            assert!(err.to_string().starts_with("The role data is unusable"));
        }
    }

    #[test]
    fn from_roles_builds_the_same_answers() {
        let list = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let sa_user = list(&["iam.serviceAccounts.actAs", "iam.serviceAccounts.get"]);
        let dev_ops = list(&[
            "iam.serviceAccounts.actAs",
            "compute.instances.create",
            "iam.serviceAccounts.get",
        ]);
        let index = RoleIndex::from_roles(
            Header {
                data_date: "2026-08-22".into(),
                ..Header::default()
            },
            [
                ("roles/iam.devOps", "DevOps", "GA", dev_ops.as_slice()),
                (
                    "roles/iam.serviceAccountUser",
                    "SA User",
                    "GA",
                    sa_user.as_slice(),
                ),
            ],
        )
        .unwrap();
        let s = suggest(&index, &perms(&["iam.serviceAccounts.actAs"]));
        assert_eq!(ids(&s), ["roles/iam.serviceAccountUser"]);
        assert_eq!(s.roles[0].extra, 1);
    }
}
