//! Each catalogue group equals its public source: SkyPilot's permission groups as recorded in
//! `../shared/reference/skypilot/permissions.json` (read at test time, never copied here).
//!
//! The test needs `../shared` beside the repository, so it is ignored by a plain `cargo test`
//! (which then says why) and `scripts/test` runs it with `--include-ignored` whenever `../shared`
//! is there (CI always has it). Run without the file, it fails: it never passes having checked
//! nothing.

use gcp_preflight::core::catalog::{self, Group};
use std::collections::BTreeSet;
use std::path::Path;

const SOURCE: &str = "../shared/reference/skypilot/permissions.json";

/// The public lists, or a panic that says what is missing and how the test is meant to run.
fn source() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SOURCE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{SOURCE} could not be read ({}: {e}). This test compares the catalogue with \
             SkyPilot's public lists and needs ../shared beside the repository; without it \
             it cannot check anything, so it fails rather than pass. scripts/test runs it \
             only when ../shared is present.",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{SOURCE} is not JSON: {e}"))
}

fn names(group: &Group) -> BTreeSet<String> {
    group.permissions.iter().map(|p| p.to_string()).collect()
}

#[test]
#[ignore = "reads ../shared/...: scripts/test runs it with --include-ignored when ../shared is present"]
fn every_group_equals_its_public_list() {
    let source = source();
    let pairs: [(&str, &Group); 13] = [
        ("check_compute_base", &catalog::CHECK_COMPUTE_BASE),
        ("check_compute_firewall", &catalog::CHECK_COMPUTE_FIREWALL),
        (
            "check_compute_reservations",
            &catalog::CHECK_COMPUTE_RESERVATIONS,
        ),
        (
            "check_common_serviceusage",
            &catalog::CHECK_COMMON_SERVICEUSAGE,
        ),
        (
            "check_common_serviceusage",
            &catalog::CHECK_STORAGE_SERVICEUSAGE,
        ),
        ("check_storage", &catalog::CHECK_STORAGE),
        ("docs_minimal_base", &catalog::DOCS_MINIMAL_BASE),
        ("docs_gcs_storage", &catalog::DOCS_GCS_STORAGE),
        ("docs_tpu", &catalog::DOCS_TPU),
        ("docs_clone_disk", &catalog::DOCS_CLONE_DISK),
        ("docs_open_ports", &catalog::DOCS_OPEN_PORTS),
        ("docs_custom_image", &catalog::DOCS_CUSTOM_IMAGE),
        ("docs_reservations", &catalog::DOCS_RESERVATIONS),
    ];
    for (key, group) in pairs {
        let listed: BTreeSet<String> = source[key]["permissions"]
            .as_array()
            .unwrap_or_else(|| panic!("{key} missing from {SOURCE}"))
            .iter()
            .map(|p| p.as_str().unwrap().to_string())
            .collect();
        assert_eq!(names(group), listed, "{} vs {key}", group.id);
        assert_eq!(
            group.optional,
            source[key]["optional"] == true,
            "{} optional flag",
            group.id
        );
    }
    // First launch (admin) extends the two names with what `_configure_iam_role` also calls.
    let admin: BTreeSet<String> = source["service_account_creation_admin"]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert!(admin.is_subset(&names(&catalog::FIRST_LAUNCH_ADMIN)));
    // Every API SkyPilot's checks enable is looked up.
    let apis = catalog::Options::default().apis();
    for api in source["apis"].as_array().unwrap() {
        assert!(
            apis.iter().any(|(s, _)| *s == api.as_str().unwrap()),
            "{api}"
        );
    }
}
