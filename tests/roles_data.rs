//! The committed role data (`static/roles/*.json`, made by `scripts/gen-roles`) against the
//! catalogue, and the suggestion rules over Google's whole role set.
//!
//! The `#[ignore]`d tests read `../shared/data/gcp-roles.json` and FAIL when it is absent:
//! `cargo test -- --include-ignored` runs them where `../shared` exists.

use gcp_preflight::core::catalog::{Capability, ALL_GROUPS};
use gcp_preflight::core::permission::Permission;
use gcp_preflight::core::roles::{suggest, Header, RoleIndex, Suggestion};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

const SOURCE: &str = "../shared/data/gcp-roles.json";
const BUDGET_BYTES: usize = 20 * 1024;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn skypilot() -> RoleIndex {
    RoleIndex::from_json(&read("static/roles/skypilot.json")).expect("skypilot.json parses")
}

fn full() -> RoleIndex {
    RoleIndex::from_json(&read("static/roles/full.json")).expect("full.json parses")
}

fn catalogue() -> BTreeSet<Permission> {
    ALL_GROUPS
        .iter()
        .flat_map(|g| g.permissions.iter())
        .map(|p| Permission::parse(p).unwrap())
        .collect()
}

/// Every catalogue group, then the union of the groups of each capability.
fn profiles() -> Vec<(String, Vec<Permission>)> {
    let parse = |names: &[&str]| -> Vec<Permission> {
        names
            .iter()
            .map(|p| Permission::parse(p).unwrap())
            .collect()
    };
    let mut out: Vec<(String, Vec<Permission>)> = ALL_GROUPS
        .iter()
        .map(|g| (g.id.to_string(), parse(g.permissions)))
        .collect();
    for capability in [Capability::Compute, Capability::Storage] {
        let union: BTreeSet<Permission> = ALL_GROUPS
            .iter()
            .filter(|g| g.capability == capability)
            .flat_map(|g| parse(g.permissions))
            .collect();
        out.push((
            format!("all {}", capability.title()),
            union.into_iter().collect(),
        ));
    }
    out
}

fn describe(s: &Suggestion) -> String {
    let roles: Vec<String> = s
        .roles
        .iter()
        .map(|r| format!("{} (+{})", r.id, r.extra))
        .collect();
    let mut text = format!("{} | extra {}", roles.join(", "), s.extra());
    if !s.uncovered.is_empty() {
        let names: Vec<&str> = s.uncovered.iter().map(Permission::as_str).collect();
        text.push_str(&format!(" | uncovered: {}", names.join(", ")));
    }
    text
}

/// The suggestion accounts for every permission and suggests only roles for people.
fn assert_sound(index: &RoleIndex, name: &str, missing: &[Permission], s: &Suggestion) {
    let covered: BTreeSet<&Permission> = s.roles.iter().flat_map(|r| r.covers.iter()).collect();
    for p in missing {
        assert!(
            covered.contains(p) != s.uncovered.contains(p),
            "{name}: {p} must be covered or uncovered, not both or neither"
        );
    }
    for r in &s.roles {
        let role = index.role(&r.id).expect("suggested role exists");
        assert!(role.is_for_people(), "{name}: {} is not for people", r.id);
        assert!(
            !matches!(
                r.id.as_str(),
                "roles/owner" | "roles/editor" | "roles/viewer"
            ),
            "{name}: basic role {}",
            r.id
        );
        assert!(r.id.starts_with("roles/"));
    }
}

#[test]
fn committed_files_carry_source_licence_and_date() {
    for index in [skypilot(), full()] {
        let h = index.header();
        assert_eq!(h.data_date, "2026-08-22");
        assert_eq!(h.licence, "MIT");
        assert_eq!(h.copyright.as_deref(), Some("Copyright (c) 2021 Ian Mckay"));
        assert_eq!(
            h.source_commit.as_deref(),
            Some("2073fa52ac008a45477aa0b1b4580cd99135bf60")
        );
        assert!(h.source.contains("iann0036/iam-dataset"));
    }
    assert_eq!(full().roles().len(), 2387);
}

#[test]
fn skypilot_json_is_within_budget() {
    // Raw size within the gzip budget bounds the gzip size too; gen-roles prints the real one.
    let size = read("static/roles/skypilot.json").len();
    assert!(size <= BUDGET_BYTES, "skypilot.json is {size} bytes");
}

/// Regenerate with `scripts/gen-roles` when this fails after the catalogue changes.
#[test]
fn skypilot_json_is_in_sync_with_the_catalogue() {
    let (sky, full, catalogue) = (skypilot(), full(), catalogue());
    for p in &catalogue {
        let granted = full.roles_granting(p.as_str()).next().is_some();
        assert_eq!(
            sky.permissions().contains(p),
            granted,
            "{p}: in skypilot.json iff some role grants it"
        );
    }
    for p in sky.permissions() {
        assert!(catalogue.contains(p), "{p} is no longer in the catalogue");
    }
    // Each role kept has the same total and every catalogue permission full.json gives it.
    for role in sky.roles() {
        let whole = full.role(&role.id).expect("role in full.json");
        assert_eq!(role.total, whole.total, "{}", role.id);
        let listed: BTreeSet<&Permission> = sky.permissions_of(role).collect();
        let expected: BTreeSet<&Permission> = full
            .permissions_of(whole)
            .filter(|p| catalogue.contains(*p))
            .collect();
        assert_eq!(listed, expected, "{}", role.id);
    }
}

#[test]
fn skypilot_json_answers_as_full_json_does() {
    let (sky, full) = (skypilot(), full());
    for (name, missing) in profiles() {
        let small = suggest(&sky, &missing);
        assert_eq!(small, suggest(&full, &missing), "{name}");
        assert_sound(&sky, &name, &missing, &small);
    }
}

#[test]
fn issue_examples_over_the_committed_data() {
    let full = full();
    let perms = |names: &[&str]| -> Vec<Permission> {
        names
            .iter()
            .map(|p| Permission::parse(p).unwrap())
            .collect()
    };
    let s = suggest(
        &full,
        &perms(&["compute.firewalls.create", "compute.firewalls.delete"]),
    );
    assert_eq!(s.roles.len(), 1);
    assert_eq!(s.roles[0].id, "roles/compute.securityAdmin");
    let s = suggest(&full, &perms(&["iam.serviceAccounts.actAs"]));
    assert_eq!(s.roles[0].id, "roles/iam.serviceAccountUser");
}

/// Google's whole role set, straight from the dataset: every SkyPilot profile, from an account
/// that holds nothing. Prints each answer (`--nocapture`).
#[test]
#[ignore = "reads ../shared/data/gcp-roles.json; run with --include-ignored where ../shared exists"]
fn every_skypilot_profile_over_the_full_role_set() {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(SOURCE))
        .unwrap_or_else(|e| panic!("{SOURCE} is needed by this test: {e}"));
    #[derive(serde::Deserialize)]
    struct SourceRole {
        title: String,
        stage: String,
        permissions: Vec<String>,
    }
    let source: BTreeMap<String, SourceRole> = serde_json::from_str(&text).expect("dataset JSON");
    assert!(source.len() > 2000, "{SOURCE} looks truncated");
    let index = RoleIndex::from_roles(
        Header {
            data_date: "2026-08-22".into(),
            ..Header::default()
        },
        source.iter().map(|(id, r)| {
            (
                id.as_str(),
                r.title.as_str(),
                r.stage.as_str(),
                r.permissions.as_slice(),
            )
        }),
    )
    .expect("dataset builds an index");
    // The committed full.json is this dataset.
    let committed = full();
    assert_eq!(committed.roles().len(), index.roles().len());
    for role in index.roles() {
        let mine = committed.role(&role.id).expect("role in full.json");
        assert_eq!(mine.total, role.total, "{}", role.id);
        assert_eq!(mine.stage, role.stage, "{}", role.id);
        assert!(committed
            .permissions_of(mine)
            .eq(index.permissions_of(role)));
    }
    for (name, missing) in profiles() {
        let s = suggest(&index, &missing);
        assert_sound(&index, &name, &missing, &s);
        assert_eq!(s, suggest(&committed, &missing), "{name}");
        println!("{name} ({}): {}", missing.len(), describe(&s));
    }
}

/// Not a pass/fail timing: prints how long 300 missing permissions over full.json take
/// (`scripts/bench-roles` runs it in release mode).
#[test]
#[ignore = "benchmark; run by scripts/bench-roles"]
fn bench_300_permissions_over_the_full_index() {
    let started = Instant::now();
    let index = full();
    let parsed = started.elapsed();
    // The catalogue plus an even spread over the whole table: many services, many roles.
    let mut missing: BTreeSet<Permission> = catalogue();
    let table = index.permissions();
    let step = table.len() / (300 - missing.len());
    missing.extend(table.iter().step_by(step).cloned());
    let missing: Vec<Permission> = missing.into_iter().take(300).collect();
    assert_eq!(missing.len(), 300);
    let started = Instant::now();
    let runs = 20;
    let mut s = Suggestion::default();
    for _ in 0..runs {
        s = suggest(&index, &missing);
    }
    let per_run = started.elapsed() / runs;
    println!(
        "full.json parse: {:.1} ms; suggest for 300 permissions: {:.2} ms ({} roles, {} uncovered)",
        parsed.as_secs_f64() * 1e3,
        per_run.as_secs_f64() * 1e3,
        s.roles.len(),
        s.uncovered.len()
    );
}
