//! The project picker's listing over the simulated Google: Resource Manager v3
//! `projects.search`, every page, active only, Google's errors kept as they are.

use futures::executor::block_on;
use gcp_preflight::core::demo::{
    self, Account, Failure, Grants, Project, SimulatedGoogle, World, DEMO_TOKEN_ALICE,
};
use gcp_preflight::core::google_error::{ApiError, ErrorKind};
use gcp_preflight::core::projects::{list_visible_projects, MAX_SEARCH_PAGES};
use std::collections::BTreeSet;

const TOKEN: &str = "fake-native-token-erin";
const SUB: &str = "100000000000000000005";

/// `count` projects `proj-00000…`, every one visible to Erin, the ones in `deleted`
/// DELETE_REQUESTED, and one project she cannot see.
fn many_projects(count: usize, page: usize, deleted: &[usize]) -> SimulatedGoogle {
    let get: BTreeSet<String> = ["resourcemanager.projects.get".to_string()].into();
    let mut projects: Vec<Project> = (0..count)
        .map(|i| Project {
            id: format!("proj-{i:05}"),
            number: format!("{}", 300_000_000_000u64 + i as u64),
            grants: Grants::from([(SUB.to_string(), get.clone())]),
            ..Project::default()
        })
        .collect();
    projects.push(Project {
        id: "someone-elses".into(),
        number: "1".into(),
        grants: Grants::from([("999".to_string(), get)]),
        ..Project::default()
    });
    SimulatedGoogle::new(World {
        accounts: vec![Account::new(TOKEN, SUB, "erin@example.com")],
        projects,
        search_page_size: page,
        delete_requested: deleted.iter().map(|i| format!("proj-{i:05}")).collect(),
        ..World::default()
    })
}

fn search_requests(google: &SimulatedGoogle) -> usize {
    google
        .log
        .borrow()
        .iter()
        .filter(|l| l.contains("v3/projects:search"))
        .count()
}

#[test]
fn every_page_is_read_and_only_active_visible_projects_come_back() {
    let google = many_projects(2_500, 100, &[7, 1_234]);
    let projects = block_on(list_visible_projects(&google, TOKEN)).expect("listing");
    assert_eq!(projects.len(), 2_498);
    assert_eq!(search_requests(&google), 25, "2,498 projects at 100 a page");
    let ids: Vec<&str> = projects.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids[0], "proj-00000");
    assert_eq!(ids[ids.len() - 1], "proj-02499");
    assert!(!ids.contains(&"proj-00007") && !ids.contains(&"proj-01234"));
    assert!(!ids.contains(&"someone-elses"));
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted, no duplicates");
}

#[test]
fn an_account_that_sees_nothing_gets_an_empty_list_in_one_request() {
    let google = many_projects(3, 0, &[]);
    let mut world = google.world.clone();
    world.accounts.push(Account::new(
        "fake-native-token-nobody",
        "424242",
        "n@example.com",
    ));
    let google = SimulatedGoogle::new(world);
    let projects = block_on(list_visible_projects(&google, "fake-native-token-nobody")).unwrap();
    assert!(projects.is_empty());
    assert_eq!(search_requests(&google), 1);
}

#[test]
fn the_demo_world_lists_what_each_demo_account_can_see() {
    let google = SimulatedGoogle::new(demo::demo_world());
    let ids: Vec<String> = block_on(list_visible_projects(&google, DEMO_TOKEN_ALICE))
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    let mut expected = [demo::DEMO_PROJECT_SEED, demo::DEMO_PROJECT_TEAM];
    expected.sort_unstable();
    assert_eq!(ids, expected);
}

#[test]
fn a_rate_limit_mid_listing_is_retried_and_the_list_is_complete() {
    let google = many_projects(250, 100, &[]);
    google.fail_next.borrow_mut().extend([Failure::Drop]);
    google.rate_limit_next.set(0);
    let projects = block_on(list_visible_projects(&google, TOKEN)).unwrap();
    assert_eq!(projects.len(), 250);
    let google = many_projects(250, 100, &[]);
    google
        .fail_next
        .borrow_mut()
        .extend([Failure::RateLimit, Failure::ProxyPage(502)]);
    assert_eq!(
        block_on(list_visible_projects(&google, TOKEN))
            .unwrap()
            .len(),
        250
    );
}

#[test]
fn google_errors_are_kept_as_errors_never_an_empty_list() {
    let google = many_projects(10, 0, &[]);
    let expired = block_on(list_visible_projects(&google, "fake-unknown-token")).unwrap_err();
    assert!(expired.is_token_problem(), "{expired:?}");

    let mut world = many_projects(10, 0, &[]).world.clone();
    world
        .consumer_disabled
        .insert("cloudresourcemanager.googleapis.com".into());
    let google = SimulatedGoogle::new(world);
    let disabled = block_on(list_visible_projects(&google, TOKEN)).unwrap_err();
    assert!(
        matches!(disabled.kind(), Some(ErrorKind::ServiceDisabled { service, .. }) if service == "cloudresourcemanager.googleapis.com"),
        "{disabled:?}"
    );

    // Five proxy pages in a row: retried within the bound, then the error stands.
    let google = many_projects(10, 0, &[]);
    google
        .fail_next
        .borrow_mut()
        .extend([Failure::ProxyPage(503); 5]);
    let error = block_on(list_visible_projects(&google, TOKEN)).unwrap_err();
    assert!(
        matches!(
            error,
            ApiError::Malformed {
                http_status: 503,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(google.sleeps.borrow().len(), 3, "retried up to the bound");
}

#[test]
fn a_listing_that_never_ends_is_an_error_not_a_hang() {
    // One project a page: more pages than the bound allows.
    let google = many_projects(MAX_SEARCH_PAGES + 5, 1, &[]);
    let error = block_on(list_visible_projects(&google, TOKEN)).unwrap_err();
    assert!(
        matches!(&error, ApiError::Malformed { detail, .. } if detail.contains("kept paging")),
        "{error:?}"
    );
    assert_eq!(search_requests(&google), MAX_SEARCH_PAGES);
}
