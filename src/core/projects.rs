//! The projects an account can see, for the project picker (and for anything that needs "all
//! visible projects"): Resource Manager v3 `projects.search`, every page, active only; a filter
//! fast enough for thousands; and the account's recent projects (IDs only, never the token).

use super::cache::Store;
use super::check::send;
use super::google_error::ApiError;
use super::http::{Auth, Method, Request, Transport};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Projects asked for per `projects.search` page. Google's reference gives no maximum ("the
/// server can return fewer"), so the app reads whatever each page holds.
pub const SEARCH_PAGE_SIZE: usize = 500;
/// Most pages read: a bound (25,000 projects at the asked size), not an expectation.
pub const MAX_SEARCH_PAGES: usize = 50;
/// Most matches the picker shows at once: a longer list helps nobody and slows the page.
pub const MAX_SHOWN: usize = 50;
/// Most recent projects kept per account.
pub const MAX_RECENT: usize = 8;
/// localStorage key prefix of the recent projects (not under the result cache's prefix, so
/// pruning results never drops them).
pub const RECENT_PREFIX: &str = "gcp-preflight/recent-projects/v1/";

/// One project the account can see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectSummary {
    /// The project ID (what the form takes).
    pub id: String,
    /// Its display name (may equal the ID, or be empty).
    pub display_name: String,
}

/// `GET https://cloudresourcemanager.googleapis.com/v3/projects:search`, active projects only
/// (`query=state:ACTIVE`), one page.
pub fn search_request(page_token: Option<&str>, token: &str) -> Request {
    let mut url = format!(
        "https://cloudresourcemanager.googleapis.com/v3/projects:search?query=state%3AACTIVE&pageSize={SEARCH_PAGE_SIZE}"
    );
    if let Some(page) = page_token {
        url.push_str("&pageToken=");
        url.extend(form_urlencoded::byte_serialize(page.as_bytes()));
    }
    Request {
        method: Method::Get,
        url,
        auth: Auth::Bearer(token.into()),
        body: None,
    }
}

#[derive(Deserialize)]
struct SearchPage {
    #[serde(default)]
    projects: Vec<ProjectOut>,
    #[serde(default, rename = "nextPageToken")]
    next_page_token: String,
}

#[derive(Deserialize)]
struct ProjectOut {
    #[serde(default, rename = "projectId")]
    project_id: String,
    #[serde(default, rename = "displayName")]
    display_name: String,
    #[serde(default)]
    state: Option<String>,
}

/// Reads one `projects.search` page: its active projects and the next page's token. A project
/// whose `state` says it is not active is left out even if the server sent it.
pub fn parse_search_page(body: &str) -> Result<(Vec<ProjectSummary>, Option<String>), ApiError> {
    let page: SearchPage = super::json::from_str(body).map_err(|e| ApiError::Malformed {
        http_status: 200,
        detail: format!("unexpected projects.search answer: {e}"),
    })?;
    let projects = page
        .projects
        .into_iter()
        .filter(|p| !p.project_id.is_empty())
        .filter(|p| p.state.as_deref().is_none_or(|s| s == "ACTIVE"))
        .map(|p| ProjectSummary {
            id: p.project_id,
            display_name: p.display_name,
        })
        .collect();
    Ok((
        projects,
        Some(page.next_page_token).filter(|t| !t.is_empty()),
    ))
}

/// Every active project the token's account can see, all pages, sorted by ID. Errors are
/// Google's (parsed as everywhere else); a listing that never ends is an error, not a hang.
pub async fn list_visible_projects<T: Transport>(
    transport: &T,
    token: &str,
) -> Result<Vec<ProjectSummary>, ApiError> {
    // Keyed by ID: sorted and without duplicates as it fills (inserting into a BTreeMap adds no
    // sort routine to the wasm bundle; see `super::ordered`).
    let mut all: BTreeMap<String, String> = BTreeMap::new();
    let mut page: Option<String> = None;
    for _ in 0..MAX_SEARCH_PAGES {
        let body = send(transport, search_request(page.as_deref(), token)).await?;
        let (projects, next) = parse_search_page(&body)?;
        all.extend(projects.into_iter().map(|p| (p.id, p.display_name)));
        match next {
            Some(next) if Some(&next) != page.as_ref() => page = Some(next),
            Some(_) => {
                return Err(ApiError::Malformed {
                    http_status: 200,
                    detail: "projects.search sent the same page token twice".into(),
                })
            }
            None => {
                return Ok(all
                    .into_iter()
                    .map(|(id, display_name)| ProjectSummary { id, display_name })
                    .collect())
            }
        }
    }
    Err(ApiError::Malformed {
        http_status: 200,
        detail: format!("projects.search kept paging after {MAX_SEARCH_PAGES} pages"),
    })
}

/// At most `limit` projects matching `query` (ASCII case-insensitive, on the ID or the display
/// name; full Unicode case folding would add its tables to the bundle for little gain):
/// IDs that start with it first, then other matches, each in list order. An empty query
/// matches everything.
pub fn filter_projects<'a>(
    projects: &'a [ProjectSummary],
    query: &str,
    limit: usize,
) -> Vec<&'a ProjectSummary> {
    let needle = query.trim().to_ascii_lowercase();
    if needle.is_empty() {
        return projects.iter().take(limit).collect();
    }
    let mut prefix: Vec<&ProjectSummary> = Vec::new();
    let mut inner: Vec<&ProjectSummary> = Vec::new();
    for project in projects {
        // Project IDs are lower-case already; display names are not.
        if project.id.starts_with(&needle) {
            prefix.push(project);
            if prefix.len() >= limit {
                break;
            }
        } else if inner.len() < limit
            && (project.id.contains(&needle)
                || project.display_name.to_ascii_lowercase().contains(&needle))
        {
            inner.push(project);
        }
    }
    prefix.extend(inner);
    prefix.truncate(limit);
    prefix
}

/// A count with thousands separators: `2500` as `2,500`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The storage key of `account_id`'s recent projects (the account's stable Google ID).
pub fn recent_key(account_id: &str) -> String {
    format!("{RECENT_PREFIX}{account_id}")
}

/// `account_id`'s recent project IDs, newest first; anything unreadable counts as none.
pub fn recent_projects(store: &impl Store, account_id: &str) -> Vec<String> {
    store
        .get(&recent_key(account_id))
        .and_then(|text| super::json::from_str::<Vec<String>>(&text).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|id| super::names::ProjectId::parse(id).is_ok())
        .take(MAX_RECENT)
        .collect()
}

/// Puts `project_id` first in `account_id`'s recent projects (at most [`MAX_RECENT`]). A full
/// or missing store only costs the list.
pub fn remember_project(store: &impl Store, account_id: &str, project_id: &str) {
    let mut list = recent_projects(store, account_id);
    list.retain(|p| p != project_id);
    list.insert(0, project_id.to_owned());
    list.truncate(MAX_RECENT);
    if let Ok(text) = super::json::to_string(&list) {
        let _ = store.set(&recent_key(account_id), &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::cache::MemoryStore;

    fn summary(id: &str, name: &str) -> ProjectSummary {
        ProjectSummary {
            id: id.into(),
            display_name: name.into(),
        }
    }

    #[test]
    fn the_request_asks_for_active_projects_with_the_page_token_encoded() {
        let first = search_request(None, "tok");
        assert_eq!(first.method, Method::Get);
        assert_eq!(
            first.url,
            "https://cloudresourcemanager.googleapis.com/v3/projects:search?query=state%3AACTIVE&pageSize=500"
        );
        assert_eq!(first.auth, Auth::Bearer("tok".into()));
        let next = search_request(Some("a+b/c=="), "tok");
        assert!(
            next.url.ends_with("&pageToken=a%2Bb%2Fc%3D%3D"),
            "{}",
            next.url
        );
        assert!(crate::core::endpoints::is_google_api_url(&next.url));
    }

    #[test]
    fn a_page_is_read_and_inactive_projects_left_out() {
        let body = r#"{"projects":[
            {"name":"projects/1","projectId":"alpha-1","displayName":"Alpha","state":"ACTIVE","parent":"folders/9"},
            {"name":"projects/2","projectId":"going-2","displayName":"Going","state":"DELETE_REQUESTED"},
            {"name":"projects/3","projectId":"beta-3"}
        ],"nextPageToken":"NEXT"}"#;
        let (projects, next) = parse_search_page(body).unwrap();
        assert_eq!(
            projects,
            vec![summary("alpha-1", "Alpha"), summary("beta-3", "")]
        );
        assert_eq!(next.as_deref(), Some("NEXT"));
        // proto3 JSON: no projects and no next page is `{}`.
        assert_eq!(parse_search_page("{}").unwrap(), (vec![], None));
        assert!(matches!(
            parse_search_page("<html>"),
            Err(ApiError::Malformed { .. })
        ));
    }

    #[test]
    fn filter_puts_id_prefixes_first_and_stops_at_the_limit() {
        let projects = vec![
            summary("big-data", "Analytics"),
            summary("data-lake", "Lake"),
            summary("ml-prod", "Production DATA"),
            summary("web", "Web"),
        ];
        let ids = |q: &str, limit| {
            filter_projects(&projects, q, limit)
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids("data", 10), ["data-lake", "big-data", "ml-prod"]);
        assert_eq!(ids(" DATA ", 2), ["data-lake", "big-data"]);
        assert_eq!(ids("", 2), ["big-data", "data-lake"]);
        assert_eq!(ids("nothing", 10), Vec::<&str>::new());
    }

    #[test]
    fn filter_over_thousands_is_fast() {
        let projects: Vec<ProjectSummary> = (0..5000)
            .map(|i| summary(&format!("team-{i:05}-prod"), &format!("Team {i}")))
            .collect();
        let start = std::time::Instant::now();
        for q in ["t", "team-0", "04999", "prod", "zzz"] {
            assert!(filter_projects(&projects, q, MAX_SHOWN).len() <= MAX_SHOWN);
        }
        assert_eq!(filter_projects(&projects, "04999", MAX_SHOWN).len(), 1);
        // Generous: a debug build on a busy machine; release is far below.
        assert!(start.elapsed().as_millis() < 500, "{:?}", start.elapsed());
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(2_500), "2,500");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn recent_projects_are_per_account_newest_first_and_bounded() {
        let store = MemoryStore::default();
        for i in 0..10 {
            remember_project(&store, "111", &format!("proj-{i}"));
        }
        remember_project(&store, "111", "proj-5");
        remember_project(&store, "222", "other-1");
        let alice = recent_projects(&store, "111");
        assert_eq!(alice.len(), MAX_RECENT);
        assert_eq!(alice[..3], ["proj-5", "proj-9", "proj-8"]);
        assert_eq!(recent_projects(&store, "222"), ["other-1"]);
        assert!(recent_projects(&store, "333").is_empty());
        // Only project IDs: nothing else is stored under the key.
        assert_eq!(
            store.get(&recent_key("222")).as_deref(),
            Some(r#"["other-1"]"#)
        );
    }

    #[test]
    fn unreadable_recent_lists_count_as_none() {
        let store = MemoryStore::default();
        store.set(&recent_key("111"), "{not json").unwrap();
        assert!(recent_projects(&store, "111").is_empty());
        store
            .set(&recent_key("111"), r#"["ok-project","<script>","A"]"#)
            .unwrap();
        assert_eq!(recent_projects(&store, "111"), ["ok-project"]);
    }
}
