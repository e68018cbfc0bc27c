//! Browser tests (headless Chromium via wasm-bindgen-test): the cache over real localStorage,
//! including a corrupt entry and a full quota.
#![cfg(target_arch = "wasm32")]

use gcp_preflight::core::cache::{
    self, CacheEntry, CacheKey, Lookup, Store, StoreError, DEFAULT_TTL_MS,
};
use gcp_preflight::core::check::{ApiFinding, Findings, PermissionFinding};
use gcp_preflight::core::names::ProjectId;
use gcp_preflight::core::plan::{Plan, PlanInput};
use gcp_preflight::storage::BrowserStore;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn local_storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

fn plan() -> Plan {
    Plan::build(
        ProjectId::parse("browser-test-1").unwrap(),
        &PlanInput::default(),
    )
}

/// Complete findings for `plan`: every permission held, every API on (a cache entry must
/// answer exactly the plan's permissions and APIs).
fn complete(plan: &Plan) -> Findings {
    let mut findings = Findings::default();
    for p in plan.permissions() {
        findings.project.insert(p, PermissionFinding::Held);
    }
    for a in &plan.apis {
        findings.apis.insert(a.service.clone(), ApiFinding::On);
    }
    findings
}

fn entry(key: &CacheKey, plan: &Plan, at: u64) -> CacheEntry {
    CacheEntry::new(key, &complete(plan), at, DEFAULT_TTL_MS).unwrap()
}

#[wasm_bindgen_test]
fn saves_and_reads_back_through_local_storage() {
    local_storage().clear().unwrap();
    let store = BrowserStore::open();
    assert!(store.is_persistent());
    let plan = plan();
    let key = CacheKey::new("42", &plan);
    cache::save(&store, &key, &entry(&key, &plan, 1_000), 1_000).unwrap();
    let raw = local_storage()
        .get_item(&key.storage_key())
        .unwrap()
        .unwrap();
    assert!(raw.contains(&format!(
        "\"schema\":{}",
        gcp_preflight::core::cache::SCHEMA_VERSION
    )));
    assert!(matches!(
        cache::lookup(&store, &key, 2_000),
        Lookup::Fresh(_)
    ));
    assert_eq!(
        cache::lookup(&BrowserStore::open(), &CacheKey::new("43", &plan), 2_000),
        Lookup::Miss
    );
}

#[wasm_bindgen_test]
fn corrupt_entry_is_dropped_without_a_panic() {
    local_storage().clear().unwrap();
    let store = BrowserStore::open();
    let plan = plan();
    let key = CacheKey::new("42", &plan);
    local_storage()
        .set_item(&key.storage_key(), "{\"schema\":1,\"findings\":")
        .unwrap();
    assert_eq!(cache::lookup(&store, &key, 0), Lookup::Miss);
    assert_eq!(local_storage().get_item(&key.storage_key()).unwrap(), None);
}

/// Fills localStorage with `prefix`-keyed megabyte strings until the browser refuses.
fn fill(prefix: &str) -> usize {
    let block = "x".repeat(512 * 1024);
    let storage = local_storage();
    let mut n = 0;
    while storage.set_item(&format!("{prefix}{n}"), &block).is_ok() {
        n += 1;
        assert!(n < 200, "localStorage never filled up");
    }
    n
}

#[wasm_bindgen_test]
fn full_quota_prunes_our_stale_entries_then_saves() {
    local_storage().clear().unwrap();
    let store = BrowserStore::open();
    let plan = plan();
    // Stale entries of ours fill the store: they are valid JSON that expired long ago.
    let stale = serde_json::to_string(&entry(&CacheKey::new("old", &plan), &plan, 0)).unwrap();
    // Padded with a field the entry does not have (ignored when read).
    let padded = stale.replacen(
        '{',
        &format!("{{\"padding\":\"{}\",", "x".repeat(512 * 1024)),
        1,
    );
    assert!(padded.len() > 512 * 1024 && padded.contains("\"schema\""));
    let storage = local_storage();
    let mut n = 0;
    while storage
        .set_item(
            &format!("{}stale/{n}/browser-test-1/x", cache::KEY_PREFIX),
            &padded,
        )
        .is_ok()
    {
        n += 1;
        assert!(n < 200);
    }
    assert!(n > 0);
    let key = CacheKey::new("42", &plan);
    let now = DEFAULT_TTL_MS * 10;
    assert_eq!(
        store.set("probe", &"y".repeat(512 * 1024)),
        Err(StoreError::QuotaExceeded)
    );
    cache::save(&store, &key, &entry(&key, &plan, now), now).unwrap();
    assert!(matches!(cache::lookup(&store, &key, now), Lookup::Fresh(_)));
    local_storage().clear().unwrap();
}

#[wasm_bindgen_test]
fn full_quota_of_foreign_data_is_an_error_not_a_panic() {
    local_storage().clear().unwrap();
    assert!(fill("someone-else/") > 0);
    let store = BrowserStore::open();
    let plan = plan();
    let key = CacheKey::new("42", &plan);
    // Our entry is small; make it too big to fit in what is left.
    let mut big = entry(&key, &plan, 0);
    big.findings
        .grep_matches
        .push(("x".repeat(600 * 1024), "y".into()));
    assert_eq!(
        cache::save(&store, &key, &big, 0),
        Err(StoreError::QuotaExceeded)
    );
    assert!(
        local_storage()
            .get_item("someone-else/0")
            .unwrap()
            .is_some(),
        "foreign data is left alone"
    );
    local_storage().clear().unwrap();
}

mod reducer {
    //! The app state's reducer: answers for a check the user has left are never shown, and
    //! another tab's newer answer to the same question replaces the one on screen.
    use gcp_preflight::core::cache::{CacheEntry, CacheKey, DEFAULT_TTL_MS};
    use gcp_preflight::core::names::ProjectId;
    use gcp_preflight::core::plan::{Plan, PlanInput};
    use gcp_preflight::ui::state::{Action, Field, Run, State};
    use std::rc::Rc;
    use wasm_bindgen_test::*;
    use yew::Reducible;

    fn tok(text: &str) -> gcp_preflight::core::token::Token {
        gcp_preflight::core::token::Token::parse(text).unwrap()
    }

    fn started(project: &str) -> Rc<State> {
        let plan = Rc::new(Plan::build(
            ProjectId::parse(project).unwrap(),
            &PlanInput::default(),
        ));
        let state = Rc::new(State::new(0)).reduce(Action::Token(tok("tok-1")));
        state.reduce(Action::Started { id: 1, plan })
    }

    #[wasm_bindgen_test]
    fn answer_after_a_project_switch_is_dropped() {
        let state = started("project-one")
            .reduce(Action::Edit(Field::Project("project-two".into())))
            .reduce(Action::Finished {
                id: 1,
                findings: Box::default(),
                cli_findings: None,
                at_ms: 5,
            });
        assert_eq!(state.run, Run::Idle);
    }

    #[wasm_bindgen_test]
    fn answer_after_an_account_switch_is_dropped() {
        let state = started("project-one")
            .reduce(Action::Token(tok("tok-2")))
            .reduce(Action::Finished {
                id: 1,
                findings: Box::default(),
                cli_findings: None,
                at_ms: 5,
            });
        assert_eq!(state.run, Run::Idle);
        assert_eq!(&*state.token, "tok-2");
    }

    #[wasm_bindgen_test]
    fn answer_for_the_current_check_is_shown() {
        let state = started("project-one").reduce(Action::Finished {
            id: 1,
            findings: Box::default(),
            cli_findings: None,
            at_ms: 5,
        });
        assert!(matches!(state.run, Run::Done(ref o) if !o.from_cache && o.checked_at_ms == 5));
    }

    #[wasm_bindgen_test]
    fn forget_wipes_the_tokens_and_what_came_from_them() {
        let before = Rc::new(State::new(0))
            .reduce(Action::Edit(Field::Project("project-one".into())))
            .reduce(Action::Token(tok("tok-1")))
            .reduce(Action::CliToken(tok("tok-cli")));
        let state = before.clone().reduce(Action::Forget);
        assert!(state.token.is_empty());
        assert!(state.cli_token.is_empty());
        assert_eq!(state.run, Run::Idle);
        // What the user typed about the job stays; answers about the old tokens are dropped.
        assert_eq!(state.project, "project-one");
        assert!(state.token_generation > before.token_generation);
        assert!(state.cli_generation > before.cli_generation);
        let late = state.clone().reduce(Action::IdentityResolved {
            generation: before.token_generation,
            result: Err(gcp_preflight::core::google_error::ApiError::Network {
                detail: "late".into(),
            }),
        });
        assert_eq!(late.identity, gcp_preflight::ui::state::IdentityState::None);
    }

    #[wasm_bindgen_test]
    fn the_cli_token_is_a_new_question_and_keeps_its_own_identity() {
        use gcp_preflight::ui::state::IdentityState;
        let state = started("project-one").reduce(Action::CliToken(tok(" tok-cli ")));
        assert_eq!(&*state.cli_token, "tok-cli");
        assert_eq!(state.run, Run::Idle, "a new token is a new question");
        assert_eq!(state.cli_identity, IdentityState::Pending);
        assert_eq!(state.identity, IdentityState::Pending, "untouched");
        let generation = state.cli_generation;
        let stale = state
            .clone()
            .reduce(Action::CliToken(tok("tok-cli-2")))
            .reduce(Action::CliIdentityResolved {
                generation,
                result: Err(gcp_preflight::core::google_error::ApiError::Network {
                    detail: "x".into(),
                }),
            });
        assert_eq!(
            stale.cli_identity,
            IdentityState::Pending,
            "stale answer dropped"
        );
    }

    /// A state showing a fresh result (checked at 5) for account "7" on project-one.
    fn showing() -> (Rc<State>, CacheKey, Plan) {
        use gcp_preflight::core::identity::Identity;
        let plan = Plan::build(
            ProjectId::parse("project-one").unwrap(),
            &PlanInput::default(),
        );
        let identity = Identity {
            account_id: Some("7".into()),
            email: Some("a@example.com".into()),
            expires_at_ms: None,
            scopes: vec![],
            client_id: None,
            source: gcp_preflight::core::identity::IdentitySource::Tokeninfo,
        };
        let state = Rc::new(State::new(0))
            .reduce(Action::Token(tok("tok-1")))
            .reduce(Action::IdentityResolved {
                generation: 1,
                result: Ok(identity),
            })
            .reduce(Action::Started {
                id: 1,
                plan: Rc::new(plan.clone()),
            })
            .reduce(Action::Finished {
                id: 1,
                findings: Box::default(),
                cli_findings: None,
                at_ms: 5,
            });
        let key = CacheKey::new("7", &plan);
        (state, key, plan)
    }

    fn stored(key: &CacheKey, plan: &Plan, at: u64) -> String {
        let entry = CacheEntry::new(key, &super::complete(plan), at, DEFAULT_TTL_MS).unwrap();
        serde_json::to_string(&entry).unwrap()
    }

    #[wasm_bindgen_test]
    fn another_tabs_newer_result_is_offered_not_swapped_in() {
        let (state, key, plan) = showing();
        let offered = state.reduce(Action::StoredElsewhere {
            key: key.storage_key(),
            value: Some(stored(&key, &plan, 9)),
            now_ms: 10,
        });
        // What is on screen stays: the live result, not the stored one.
        assert!(
            matches!(offered.run, Run::Done(ref o) if !o.from_cache && o.checked_at_ms == 5 && o.findings.project.is_empty())
        );
        assert_eq!(offered.newer.as_ref().map(|e| e.checked_at_ms), Some(9));
        // The user takes it.
        let taken = offered.clone().reduce(Action::ShowNewer { now_ms: 11 });
        assert!(
            matches!(taken.run, Run::Done(ref o) if o.from_cache && o.checked_at_ms == 9 && !o.findings.project.is_empty())
        );
        assert!(taken.newer.is_none());
        // Taken too late, an expired offer is dropped, not shown.
        let late = offered.clone().reduce(Action::ShowNewer {
            now_ms: 9 + DEFAULT_TTL_MS,
        });
        assert!(matches!(late.run, Run::Done(ref o) if !o.from_cache && o.checked_at_ms == 5));
        assert!(late.newer.is_none() && late.notice.is_some());
        // A new question drops the offer; so does the entry's removal.
        let edited = offered
            .clone()
            .reduce(Action::Edit(Field::Project("project-two".into())));
        assert!(edited.newer.is_none());
        let removed = offered.reduce(Action::StoredElsewhere {
            key: key.storage_key(),
            value: None,
            now_ms: 12,
        });
        assert!(removed.newer.is_none());
        assert!(matches!(removed.run, Run::Done(ref o) if o.checked_at_ms == 5));
    }

    #[wasm_bindgen_test]
    fn a_planted_forever_entry_from_another_tab_is_not_even_offered() {
        let (state, key, plan) = showing();
        let mut entry: serde_json::Value = serde_json::from_str(&stored(&key, &plan, 9)).unwrap();
        entry["expires_at_ms"] = serde_json::json!(9_007_199_254_740_992u64);
        let next = state.reduce(Action::StoredElsewhere {
            key: key.storage_key(),
            value: Some(entry.to_string()),
            now_ms: 9 + DEFAULT_TTL_MS,
        });
        assert!(next.newer.is_none());
    }

    #[wasm_bindgen_test]
    fn other_keys_older_or_corrupt_entries_change_nothing() {
        let (state, key, plan) = showing();
        let other = CacheKey::new("8", &plan);
        for (k, v) in [
            (other.storage_key(), Some(stored(&other, &plan, 9))),
            (key.storage_key(), Some(stored(&key, &plan, 4))),
            (key.storage_key(), Some("{corrupt".to_string())),
            (key.storage_key(), None),
        ] {
            let next = state.clone().reduce(Action::StoredElsewhere {
                key: k,
                value: v,
                now_ms: 10,
            });
            assert!(matches!(next.run, Run::Done(ref o) if !o.from_cache && o.checked_at_ms == 5));
            assert!(next.newer.is_none());
        }
    }

    #[wasm_bindgen_test]
    fn a_real_token_leaves_demo_mode() {
        let state = Rc::new(State::new(0)).reduce(Action::Demo {
            token: "demo-token-alice".into(),
            project: "skypilot-seed-demo".into(),
        });
        assert!(state.demo);
        assert!(
            state
                .clone()
                .reduce(Action::Token(tok("demo-token-bob")))
                .demo
        );
        assert!(!state.reduce(Action::Token(tok("ya-real-token"))).demo);
    }
}

mod token_field {
    //! Text that cannot be a bearer token is refused before anything is sent, with a notice
    //! naming the character; Forget clears the refusal with the rest.
    use gcp_preflight::core::token::{Token, TokenError};
    use gcp_preflight::ui::state::{Action, IdentityState, Run, State};
    use std::rc::Rc;
    use wasm_bindgen_test::*;
    use yew::Reducible;

    #[wasm_bindgen_test]
    fn a_smart_quote_is_refused_with_a_notice_and_drops_the_old_token() {
        let good = Rc::new(State::new(0)).reduce(Action::Token(Token::parse("ya29.good").unwrap()));
        assert_eq!(good.identity, IdentityState::Pending);
        let error = Token::parse("ya29.bad\u{2019}x").unwrap_err();
        assert!(matches!(
            error,
            TokenError::BadCharacter { position: 9, .. }
        ));
        let refused = good.clone().reduce(Action::TokenRefused(error.clone()));
        assert!(
            refused.token.is_empty(),
            "nothing of a refused token is kept"
        );
        assert_eq!(refused.identity, IdentityState::None);
        assert!(
            refused.token_generation > good.token_generation,
            "late answers are dropped"
        );
        assert_eq!(refused.run, Run::Idle);
        let notice = refused.notice.clone().unwrap();
        assert!(
            notice.contains("U+2019") && notice.contains("position 9"),
            "{notice}"
        );
        assert_eq!(refused.token_error, Some(error));
        // A good token clears the refusal; so does Forget.
        let fixed = refused
            .clone()
            .reduce(Action::Token(Token::parse("ya29.good").unwrap()));
        assert!(fixed.token_error.is_none() && !fixed.token.is_empty());
        assert!(refused.reduce(Action::Forget).token_error.is_none());
    }

    #[wasm_bindgen_test]
    fn the_state_never_prints_a_token() {
        let state = Rc::new(State::new(0))
            .reduce(Action::Token(Token::parse("ya29.SECRET-token").unwrap()))
            .reduce(Action::CliToken(Token::parse("ya29.OTHER-secret").unwrap()));
        let text = format!("{state:?}");
        assert!(
            !text.contains("SECRET") && !text.contains("OTHER"),
            "{text}"
        );
        let action = Action::Token(Token::parse("ya29.SECRET-token").unwrap());
        assert!(!format!("{action:?}").contains("SECRET"));
    }
}

mod share_links {
    //! Opening a share link: a question fills the form and sends nothing (the run stays idle); a
    //! result is shown as someone else's until the question, the token or the result changes.
    use gcp_preflight::core::catalog::Options;
    use gcp_preflight::core::names::{BucketName, ProjectId};
    use gcp_preflight::core::permission::Permission;
    use gcp_preflight::core::share::{OpenedResult, SharedQuestion};
    use gcp_preflight::ui::state::{Action, Field, OpenedLink, Run, State};
    use std::rc::Rc;
    use wasm_bindgen_test::*;
    use yew::Reducible;

    fn question() -> SharedQuestion {
        SharedQuestion {
            project: Some(ProjectId::parse("demo-seed-1").unwrap()),
            options: Options::default(),
            include_skypilot: false,
            custom: vec![
                Permission::parse("pubsub.topics.publish").unwrap(),
                Permission::parse("bigquery.datasets.create").unwrap(),
            ],
            bucket: Some(BucketName::parse("jobs-bucket").unwrap()),
            service_account: None,
        }
    }

    #[wasm_bindgen_test]
    fn a_question_fills_the_form_and_starts_nothing() {
        let state = Rc::new(State::new(0)).reduce(Action::OpenQuestion(Box::new(question())));
        assert_eq!(state.project, "demo-seed-1");
        assert_eq!(state.bucket, "jobs-bucket");
        assert_eq!(state.service_account, "");
        assert!(!state.include_skypilot);
        assert_eq!(
            state.custom,
            "pubsub.topics.publish\nbigquery.datasets.create"
        );
        assert_eq!(state.run, Run::Idle);
        assert!(state.token.is_empty());
        assert_eq!(state.opened_link, Some(OpenedLink::Question));
        let edited = state.reduce(Action::Edit(Field::Bucket("other-bucket".into())));
        assert_eq!(edited.opened_link, None);
    }

    #[wasm_bindgen_test]
    fn a_result_is_shown_as_shared_until_something_changes() {
        let q = question();
        let opened = OpenedResult {
            plan: q.plan().unwrap(),
            question: q,
            findings: Default::default(),
            checked_at_ms: 42,
            email: Some("ada@example.com".into()),
        };
        let state = Rc::new(State::new(0)).reduce(Action::OpenResult(Box::new(opened)));
        assert!(matches!(&state.run, Run::Done(o) if o.checked_at_ms == 42 && !o.from_cache));
        assert_eq!(
            state.opened_link,
            Some(OpenedLink::Result {
                email: Some("ada@example.com".into()),
                checked_at_ms: 42
            })
        );
        // Re-check without a token only says so: the shared result stays on screen.
        let noticed = state.clone().reduce(Action::Notice("Paste a token".into()));
        assert!(noticed.opened_link.is_some() && matches!(noticed.run, Run::Done(_)));
        let token = gcp_preflight::core::token::Token::parse("ya29.x").unwrap();
        let with_token = state.clone().reduce(Action::Token(token));
        assert_eq!(with_token.opened_link, None);
        assert_eq!(with_token.run, Run::Idle);
        assert_eq!(state.reduce(Action::Forget).opened_link, None);
    }
}
