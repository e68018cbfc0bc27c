//! Browser tests of the browser's JSON codec (src/web_json.rs, behind `core::json` in the
//! wasm build): Google's answers, tokeninfo, the cache and the report read and written through
//! `JSON.parse`/`JSON.stringify` + serde-wasm-bindgen come out as serde_json makes them natively.
#![cfg(target_arch = "wasm32")]

use gcp_preflight::core::cache::{self, CacheEntry, CacheKey, DEFAULT_TTL_MS};
use gcp_preflight::core::check::{self, TokenScope};
use gcp_preflight::core::demo::{self, SimulatedGoogle, DEMO_TOKEN_ALICE};
use gcp_preflight::core::endpoints;
use gcp_preflight::core::google_error::{ApiError, ErrorKind, GoogleError};
use gcp_preflight::core::identity::Identity;
use gcp_preflight::core::json;
use gcp_preflight::core::names::ProjectId;
use gcp_preflight::core::permission::Permission;
use gcp_preflight::core::plan::{Plan, PlanInput};
use gcp_preflight::core::report;
use gcp_preflight::core::roles::RoleIndex;
use gcp_preflight::core::verdict::{verdicts, Status, Topic};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn seed_plan() -> Plan {
    Plan::build(
        ProjectId::parse(demo::DEMO_PROJECT_SEED).unwrap(),
        &PlanInput::default(),
    )
}

/// The seed story of tests/core_check.rs, with every body the simulated Google writes and the
/// check reads going through the browser's JSON.
#[wasm_bindgen_test]
async fn the_demo_check_reads_googles_bodies_through_the_browser_codec() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = seed_plan();
    let findings = check::run(&google, &plan, DEMO_TOKEN_ALICE, TokenScope::Full).await;
    assert_eq!(google.request_count(), 7);
    assert!(findings.is_complete(), "{:?}", findings.errors());
    let vs = verdicts(&plan, &findings);
    let compute = vs.iter().find(|v| v.topic == Topic::Compute).unwrap();
    assert_eq!(compute.status, Status::NotReady);
    let missing: Vec<&str> = compute.missing.iter().map(Permission::as_str).collect();
    assert_eq!(
        missing,
        ["compute.firewalls.create", "compute.firewalls.delete"]
    );
    let storage = vs.iter().find(|v| v.topic == Topic::Storage).unwrap();
    assert_eq!(storage.status, Status::Ready);
}

/// The exported report and a cache entry are written byte for byte as serde_json writes them
/// (field order, `null` for `None`, two-space indentation), and the entry reads back.
#[wasm_bindgen_test]
async fn report_and_cache_entry_text_match_serde_json() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let plan = seed_plan();
    let findings = check::run(&google, &plan, DEMO_TOKEN_ALICE, TokenScope::Full).await;
    let index = RoleIndex::from_json(include_str!("fixtures/roles-small.json")).unwrap();
    let built = report::build(
        &plan,
        &findings,
        Some("alice@example.com"),
        1_700_000_000_000,
    )
    .with_advice(&plan, &index);
    let pretty = json::to_string_pretty(&built).unwrap();
    assert_eq!(pretty, serde_json::to_string_pretty(&built).unwrap());
    assert!(pretty.contains("\n  \""), "indented: {}", &pretty[..80]);

    let key = CacheKey::new("42", &plan);
    let entry = CacheEntry::new(&key, &findings, 1_000, DEFAULT_TTL_MS).unwrap();
    let text = json::to_string(&entry).unwrap();
    assert_eq!(text, serde_json::to_string(&entry).unwrap());
    assert_eq!(cache::read_entry(&text, &key, 2_000), Some(entry));
}

#[wasm_bindgen_test]
fn google_error_shapes_parse_as_natively() {
    let expired = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_EXPIRED","domain":"googleapis.com","metadata":{"service":"cloudresourcemanager.googleapis.com","method":"m"}}]}}"#;
    let error = GoogleError::from_response(401, expired);
    assert_eq!(error.kind(), Some(&ErrorKind::TokenExpired));
    let google = error.google().unwrap();
    assert_eq!(google.status.as_deref(), Some("UNAUTHENTICATED"));
    assert_eq!(
        google.metadata.get("service").map(String::as_str),
        Some("cloudresourcemanager.googleapis.com")
    );

    // Cloud Storage's bare shape, and OAuth's (tokeninfo).
    let bare = r#"{"error":{"code":403,"message":"no","errors":[{"reason":"forbidden"}]}}"#;
    let google = GoogleError::from_response(403, bare);
    assert_eq!(
        google.google().unwrap().reason.as_deref(),
        Some("forbidden")
    );
    let oauth = r#"{"error":"invalid_token","error_description":"Invalid Value"}"#;
    let google = GoogleError::from_response(400, oauth);
    assert_eq!(google.kind(), Some(&ErrorKind::TokenInvalid));

    // A proxy's page, JSON of another shape, nothing at all: an error, never a panic.
    for body in [
        "<html>502 Bad Gateway</html>",
        "null",
        "[1,2]",
        "",
        "{\"error\":",
    ] {
        assert!(
            matches!(
                GoogleError::from_response(502, body),
                ApiError::Malformed { .. }
            ),
            "{body:?}"
        );
    }
}

#[wasm_bindgen_test]
fn answers_and_tokeninfo_parse_as_natively() {
    assert_eq!(endpoints::parse_held_permissions("{}"), Ok(Vec::new()));
    assert_eq!(
        endpoints::parse_held_permissions(r#"{"permissions":["a.b.c"]}"#),
        Ok(vec!["a.b.c".to_owned()])
    );
    assert!(endpoints::parse_held_permissions(r#"{"permissions":"a.b.c"}"#).is_err());
    assert!(endpoints::parse_held_permissions("not json").is_err());
    let page = r#"{"services":[{"name":"projects/123/services/compute.googleapis.com"}],"nextPageToken":"t2"}"#;
    assert_eq!(
        endpoints::parse_services_page(page),
        Ok((
            vec!["compute.googleapis.com".to_owned()],
            Some("t2".to_owned())
        ))
    );
    assert_eq!(endpoints::parse_billing_info("{}"), Ok(false));
    assert_eq!(
        endpoints::parse_billing_info(r#"{"billingEnabled":true}"#),
        Ok(true)
    );
    assert_eq!(
        endpoints::parse_networks(r#"{"items":[{"name":"default"}]}"#),
        Ok(vec!["default".to_owned()])
    );

    // tokeninfo sends numbers as strings; some captures show numbers.
    for exp in [r#""1700000000""#, "1700000000"] {
        let body = format!(r#"{{"sub":"1","exp":{exp},"scope":"a b"}}"#);
        let id = Identity::from_tokeninfo(&body, 0).unwrap();
        assert_eq!(id.expires_at_ms, Some(1_700_000_000_000));
        assert_eq!(id.scopes, ["a", "b"]);
    }
    assert!(Identity::from_tokeninfo("<html>", 0).is_err());
}
