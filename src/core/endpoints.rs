//! Google's endpoints: how each request is built and how each success body is read.
//! Every URL the app calls is written here and nowhere else.

use super::google_error::ApiError;
use super::http::{Auth, Body, Method, Request};
use super::names::{BucketName, ProjectId, ServiceAccountEmail};
use super::permission::Permission;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

/// Characters left as they are in a path segment or query value (RFC 3986 unreserved).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(text: &str) -> String {
    utf8_percent_encode(text, UNRESERVED).to_string()
}

/// The hosts this app ever sends the token to.
pub const GOOGLE_API_HOSTS: [&str; 5] = [
    "oauth2.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
];

/// Whether `url` is an `https` URL on one of [`GOOGLE_API_HOSTS`]: the only place the token goes.
pub fn is_google_api_url(url: &str) -> bool {
    url.strip_prefix("https://")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(host, _)| GOOGLE_API_HOSTS.contains(&host))
}

/// Most permissions Resource Manager accepts in one `testIamPermissions` call (a practical
/// limit: Google documents none, and public tools use 100).
pub const MAX_PERMISSIONS_PER_CALL: usize = 100;

/// Most services Service Usage returns in one `services:batchGet` call (documented).
pub const MAX_SERVICES_PER_BATCH_GET: usize = 30;

const JSON: &str = "application/json";

/// `{"permissions":[...]}`: the request body of every `testIamPermissions` POST.
#[derive(serde::Serialize)]
struct PermissionsRequest<'a> {
    permissions: &'a [Permission],
}

fn permissions_body(permissions: &[Permission]) -> Body {
    Body {
        content_type: JSON,
        text: serde_json::to_string(&PermissionsRequest { permissions }).unwrap_or_default(),
    }
}

/// tokeninfo, with the token in a form body: it stays out of URLs (and so out of logs), and a
/// form POST is a CORS "simple" request that needs no preflight. Google documents the query form;
/// public code (e.g. `curl -d access_token=… …/oauth2/v1/tokeninfo`, openidc-proxy's
/// `introspect.php` against `/oauth2/v3/tokeninfo`) posts the form, as here.
pub fn tokeninfo(token: &str) -> Request {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("access_token", token)
        .finish();
    Request {
        method: Method::Post,
        url: "https://oauth2.googleapis.com/tokeninfo".into(),
        auth: Auth::None,
        body: Some(Body {
            content_type: "application/x-www-form-urlencoded",
            text: form,
        }),
    }
}

/// Resource Manager v1 `projects.testIamPermissions`, as `sky check gcp` calls it.
pub fn project_test_permissions(
    project: &ProjectId,
    permissions: &[Permission],
    token: &str,
) -> Request {
    test_permissions_post(
        format!(
            "https://cloudresourcemanager.googleapis.com/v1/projects/{}:testIamPermissions",
            enc(project.as_str())
        ),
        permissions,
        token,
    )
}

/// A `…:testIamPermissions` POST (Resource Manager and IAM share the shape).
fn test_permissions_post(url: String, permissions: &[Permission], token: &str) -> Request {
    Request {
        method: Method::Post,
        url,
        auth: Auth::Bearer(token.into()),
        body: Some(permissions_body(permissions)),
    }
}

/// Service Usage `services:batchGet` for at most [`MAX_SERVICES_PER_BATCH_GET`] services.
pub fn services_batch_get(project: &ProjectId, services: &[&str], token: &str) -> Request {
    let parent = format!("projects/{}", project.as_str());
    let mut url = format!(
        "https://serviceusage.googleapis.com/v1/{}/services:batchGet?",
        enc(&parent).replace("%2F", "/")
    );
    for service in services {
        url.push_str("names=");
        url.push_str(&enc(&format!("{parent}/services/{service}")));
        url.push('&');
    }
    // `config` can be large; ask only for what is read.
    url.push_str("fields=services(name%2Cstate)");
    Request {
        method: Method::Get,
        url,
        auth: Auth::Bearer(token.into()),
        body: None,
    }
}

/// Cloud Storage `buckets.testIamPermissions` (no body, permissions in the query).
pub fn bucket_test_permissions(
    bucket: &BucketName,
    permissions: &[Permission],
    token: &str,
) -> Request {
    let query: Vec<String> = permissions
        .iter()
        .map(|p| format!("permissions={}", enc(p.as_str())))
        .collect();
    Request {
        method: Method::Get,
        url: format!(
            "https://storage.googleapis.com/storage/v1/b/{}/iam/testPermissions?{}",
            enc(bucket.as_str()),
            query.join("&")
        ),
        auth: Auth::Bearer(token.into()),
        body: None,
    }
}

/// IAM `serviceAccounts.testIamPermissions` on one service account.
pub fn service_account_test_permissions(
    account: &ServiceAccountEmail,
    permissions: &[Permission],
    token: &str,
) -> Request {
    test_permissions_post(
        format!(
            "https://iam.googleapis.com/v1/projects/-/serviceAccounts/{}:testIamPermissions",
            enc(account.as_str())
        ),
        permissions,
        token,
    )
}

#[derive(Deserialize)]
struct PermissionsBody {
    #[serde(default)]
    permissions: Vec<String>,
}

fn malformed(detail: impl Into<String>) -> ApiError {
    ApiError::Malformed {
        http_status: 200,
        detail: detail.into(),
    }
}

/// Reads a `testIamPermissions` answer (any of the three APIs): the held subset. Google omits
/// the key when nothing is held (`{}`), so a missing key is an empty list.
pub fn parse_held_permissions(body: &str) -> Result<Vec<String>, ApiError> {
    serde_json::from_str::<PermissionsBody>(body)
        .map(|b| b.permissions)
        .map_err(|e| malformed(format!("unexpected testIamPermissions answer: {e}")))
}

/// State of one service in a `services:batchGet` answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceState {
    /// `ENABLED`.
    Enabled,
    /// `DISABLED` (explicitly disabled or never enabled).
    Disabled,
}

#[derive(Deserialize)]
struct BatchGetBody {
    #[serde(default)]
    services: Vec<ServiceEntry>,
}

#[derive(Deserialize)]
struct ServiceEntry {
    name: String,
    #[serde(default)]
    state: String,
}

/// Reads a `services:batchGet` answer into `(service name, state)` pairs. Google answers with the
/// project *number* in `name`, so services are matched by the part after `/services/`.
pub fn parse_batch_get(body: &str) -> Result<Vec<(String, ServiceState)>, ApiError> {
    let parsed: BatchGetBody = serde_json::from_str(body)
        .map_err(|e| malformed(format!("unexpected services:batchGet answer: {e}")))?;
    parsed
        .services
        .into_iter()
        .map(|s| {
            let service = s
                .name
                .rsplit_once("/services/")
                .map(|(_, svc)| svc.to_owned())
                .ok_or_else(|| {
                    malformed(format!("service name \"{}\" has no /services/", s.name))
                })?;
            let state = match s.state.as_str() {
                "ENABLED" => ServiceState::Enabled,
                "DISABLED" => ServiceState::Disabled,
                other => return Err(malformed(format!("unknown service state \"{other}\""))),
            };
            Ok((service, state))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(names: &[&str]) -> Vec<Permission> {
        names
            .iter()
            .map(|n| Permission::parse(n).unwrap())
            .collect()
    }

    #[test]
    fn urls_are_encoded() {
        let legacy = ProjectId::parse("example.com:my-proj").unwrap();
        let r = project_test_permissions(&legacy, &perms(&["compute.disks.list"]), "t");
        assert_eq!(
            r.url,
            "https://cloudresourcemanager.googleapis.com/v1/projects/example.com%3Amy-proj:testIamPermissions"
        );
        assert_eq!(
            r.body.unwrap().text,
            r#"{"permissions":["compute.disks.list"]}"#
        );

        let p = ProjectId::parse("my-proj-1").unwrap();
        let r = services_batch_get(&p, &["compute.googleapis.com", "iam.googleapis.com"], "t");
        assert_eq!(r.url, "https://serviceusage.googleapis.com/v1/projects/my-proj-1/services:batchGet?names=projects%2Fmy-proj-1%2Fservices%2Fcompute.googleapis.com&names=projects%2Fmy-proj-1%2Fservices%2Fiam.googleapis.com&fields=services(name%2Cstate)");

        let b = BucketName::parse("my-bucket").unwrap();
        let r = bucket_test_permissions(
            &b,
            &perms(&["storage.objects.get", "storage.objects.list"]),
            "t",
        );
        assert!(r.url.ends_with("/b/my-bucket/iam/testPermissions?permissions=storage.objects.get&permissions=storage.objects.list"));

        let sa = ServiceAccountEmail::parse("skypilot-v1@p.iam.gserviceaccount.com").unwrap();
        let r = service_account_test_permissions(&sa, &perms(&["iam.serviceAccounts.actAs"]), "t");
        assert!(r.url.contains(
            "/serviceAccounts/skypilot-v1%40p.iam.gserviceaccount.com:testIamPermissions"
        ));
    }

    #[test]
    fn tokeninfo_keeps_token_out_of_url() {
        let r = tokeninfo("secret/+token");
        assert!(!r.url.contains("secret"));
        assert_eq!(r.auth, Auth::None);
        assert_eq!(
            r.body.as_ref().unwrap().text,
            "access_token=secret%2F%2Btoken"
        );
        assert!(
            !format!("{r:?}").contains("secret"),
            "Debug must not print the token"
        );
        let r = project_test_permissions(&ProjectId::parse("abcdef").unwrap(), &[], "secret");
        assert!(!format!("{r:?}").contains("secret"));
    }

    #[test]
    fn only_google_hosts_are_google() {
        assert!(is_google_api_url("https://iam.googleapis.com/v1/x"));
        assert!(!is_google_api_url("http://iam.googleapis.com/v1/x"));
        assert!(!is_google_api_url(
            "https://iam.googleapis.com.evil.example/v1/x"
        ));
        assert!(!is_google_api_url(
            "https://evil.example/iam.googleapis.com/"
        ));
        assert!(!is_google_api_url("https://iam.googleapis.com"));
    }

    #[test]
    fn held_permissions_shapes() {
        assert_eq!(parse_held_permissions("{}").unwrap(), Vec::<String>::new());
        assert_eq!(
            parse_held_permissions(r#"{"kind":"storage#testIamPermissionsResponse"}"#).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            parse_held_permissions(r#"{"permissions":["a.b.c"]}"#).unwrap(),
            vec!["a.b.c"]
        );
        assert!(parse_held_permissions("nope").is_err());
        assert!(parse_held_permissions(r#"{"permissions":"a.b.c"}"#).is_err());
    }

    #[test]
    fn batch_get_shapes() {
        let body = r#"{"services":[{"name":"projects/123/services/compute.googleapis.com","state":"ENABLED"},{"name":"projects/123/services/iam.googleapis.com","state":"DISABLED"}]}"#;
        assert_eq!(
            parse_batch_get(body).unwrap(),
            vec![
                ("compute.googleapis.com".to_owned(), ServiceState::Enabled),
                ("iam.googleapis.com".to_owned(), ServiceState::Disabled)
            ]
        );
        assert!(parse_batch_get(r#"{"services":[{"name":"x","state":"ENABLED"}]}"#).is_err());
        assert!(parse_batch_get("{}").unwrap().is_empty());
    }
}
