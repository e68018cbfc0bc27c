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

/// The hosts this app ever sends the token to (deploy/csp.txt's `connect-src` lists the same).
pub const GOOGLE_API_HOSTS: [&str; 8] = [
    "oauth2.googleapis.com",
    "openidconnect.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
    "iam.googleapis.com",
    "cloudbilling.googleapis.com",
    "compute.googleapis.com",
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

/// Largest page Service Usage `services.list` serves ("Requested page size cannot exceed 200").
pub const SERVICES_PAGE_SIZE: usize = 200;

const JSON: &str = "application/json";

/// `{"permissions":[...]}`: the request body of every `testIamPermissions` POST.
#[derive(serde::Serialize)]
struct PermissionsRequest<'a> {
    permissions: &'a [Permission],
}

fn permissions_body(permissions: &[Permission]) -> Body {
    Body {
        content_type: JSON,
        text: super::json::to_string(&PermissionsRequest { permissions }).unwrap_or_default(),
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

/// OpenID Connect userinfo, with the token as a Bearer header: the account (`sub`, `email`)
/// when tokeninfo cannot be reached from the page (BROWSER-FACTS.md flag 2: nothing confirms
/// tokeninfo sends CORS headers). This is the endpoint Google's libraries and most public code
/// call (GCP-API.md §5, "User info"); it says nothing about the token's expiry or scopes.
pub fn userinfo(token: &str) -> Request {
    get(
        "https://openidconnect.googleapis.com/v1/userinfo".into(),
        token,
    )
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

/// Service Usage `services.list` of the project's enabled services, one page. This is what
/// `sky check gcp` reads (`gcloud services list`), and it needs only
/// `serviceusage.services.list`, which SkyPilot's minimal role grants; `services:batchGet` would
/// need `serviceusage.services.get`, which that role lacks.
pub fn services_list(project: &ProjectId, page_token: Option<&str>, token: &str) -> Request {
    let mut url = format!(
        "https://serviceusage.googleapis.com/v1/projects/{}/services?filter=state:ENABLED&pageSize={SERVICES_PAGE_SIZE}&fields=services(name)%2CnextPageToken",
        enc(project.as_str())
    );
    if let Some(page) = page_token {
        url.push_str("&pageToken=");
        url.push_str(&enc(page));
    }
    get(url, token)
}

/// Cloud Billing `projects.getBillingInfo`: needs only `resourcemanager.projects.get` ("The
/// current authenticated user must have the resourcemanager.projects.get permission for the
/// project", Google's reference), which `sky check` requires anyway.
pub fn billing_info(project: &ProjectId, token: &str) -> Request {
    get(
        format!(
            "https://cloudbilling.googleapis.com/v1/projects/{}/billingInfo",
            enc(project.as_str())
        ),
        token,
    )
}

/// IAM `serviceAccounts.get` through `projects/-`: 200 when it exists and is visible, 403 when
/// it does not exist *or* the caller lacks `iam.serviceAccounts.get` (IAM's reference).
pub fn service_account_get(account: &ServiceAccountEmail, token: &str) -> Request {
    get(
        format!(
            "https://iam.googleapis.com/v1/projects/-/serviceAccounts/{}",
            enc(account.as_str())
        ),
        token,
    )
}

/// Resource Manager v1 `projects.getIamPolicy` (needs `resourcemanager.projects.getIamPolicy`,
/// which `sky check` requires): who is bound to which role on the project.
pub fn project_iam_policy(project: &ProjectId, token: &str) -> Request {
    Request {
        method: Method::Post,
        url: format!(
            "https://cloudresourcemanager.googleapis.com/v1/projects/{}:getIamPolicy",
            enc(project.as_str())
        ),
        auth: Auth::Bearer(token.into()),
        body: Some(Body {
            content_type: JSON,
            text: r#"{"options":{"requestedPolicyVersion":3}}"#.into(),
        }),
    }
}

/// Compute Engine `networks.list` (needs `compute.networks.list`, which `sky check` requires):
/// whether the project has any VPC network SkyPilot could use.
pub fn networks_list(project: &ProjectId, token: &str) -> Request {
    get(
        format!(
            "https://compute.googleapis.com/compute/v1/projects/{}/global/networks?fields=items(name)%2CnextPageToken&maxResults=500",
            enc(project.as_str())
        ),
        token,
    )
}

fn get(url: String, token: &str) -> Request {
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
    get(
        format!(
            "https://storage.googleapis.com/storage/v1/b/{}/iam/testPermissions?{}",
            enc(bucket.as_str()),
            query.join("&")
        ),
        token,
    )
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
    super::json::from_str::<PermissionsBody>(body)
        .map(|b| b.permissions)
        .map_err(|e| malformed(format!("unexpected testIamPermissions answer: {e}")))
}

/// One page of `services.list`.
#[derive(Deserialize)]
struct ServicesPage {
    #[serde(default)]
    services: Vec<ServiceName>,
    #[serde(default, rename = "nextPageToken")]
    next_page_token: String,
}

#[derive(Deserialize)]
struct ServiceName {
    name: String,
}

/// Reads one `services.list` page: the enabled services' names (the part after
/// `/services/`; Google answers with the project *number* before it) and the next page's token.
pub fn parse_services_page(body: &str) -> Result<(Vec<String>, Option<String>), ApiError> {
    let page: ServicesPage = super::json::from_str(body)
        .map_err(|e| malformed(format!("unexpected services.list answer: {e}")))?;
    let names = page
        .services
        .into_iter()
        .map(|s| {
            s.name
                .rsplit_once("/services/")
                .map(|(_, service)| service.to_owned())
                .filter(|service| !service.is_empty())
                .ok_or_else(|| malformed(format!("service name \"{}\" has no /services/", s.name)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((names, Some(page.next_page_token).filter(|t| !t.is_empty())))
}

#[derive(Deserialize)]
struct BillingBody {
    // proto3 JSON leaves out `false`: an absent field means no (open) billing account.
    #[serde(default, rename = "billingEnabled")]
    billing_enabled: bool,
}

/// Reads `getBillingInfo`: whether the project is linked to an open billing account.
pub fn parse_billing_info(body: &str) -> Result<bool, ApiError> {
    super::json::from_str::<BillingBody>(body)
        .map(|b| b.billing_enabled)
        .map_err(|e| malformed(format!("unexpected billingInfo answer: {e}")))
}

#[derive(Deserialize)]
struct PolicyBody {
    #[serde(default)]
    bindings: Vec<Binding>,
}

#[derive(Deserialize)]
struct Binding {
    role: String,
    #[serde(default)]
    members: Vec<String>,
}

/// Reads `getIamPolicy`: the roles bound to `member` (e.g. `serviceAccount:x@p.iam…`).
pub fn parse_roles_of(body: &str, member: &str) -> Result<Vec<String>, ApiError> {
    let policy: PolicyBody = super::json::from_str(body)
        .map_err(|e| malformed(format!("unexpected getIamPolicy answer: {e}")))?;
    Ok(policy
        .bindings
        .into_iter()
        .filter(|b| b.members.iter().any(|m| m == member))
        .map(|b| b.role)
        .collect())
}

#[derive(Deserialize)]
struct NetworksBody {
    #[serde(default)]
    items: Vec<NetworkName>,
}

#[derive(Deserialize)]
struct NetworkName {
    name: String,
}

/// Reads `networks.list`: the names of the project's VPC networks (`{}` when it has none).
pub fn parse_networks(body: &str) -> Result<Vec<String>, ApiError> {
    super::json::from_str::<NetworksBody>(body)
        .map(|b| b.items.into_iter().map(|n| n.name).collect())
        .map_err(|e| malformed(format!("unexpected networks.list answer: {e}")))
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
        let r = services_list(&p, None, "t");
        assert_eq!(r.url, "https://serviceusage.googleapis.com/v1/projects/my-proj-1/services?filter=state:ENABLED&pageSize=200&fields=services(name)%2CnextPageToken");
        let r = services_list(&p, Some("a+b/c="), "t");
        assert!(r.url.ends_with("&pageToken=a%2Bb%2Fc%3D"), "{}", r.url);
        assert_eq!(
            billing_info(&p, "t").url,
            "https://cloudbilling.googleapis.com/v1/projects/my-proj-1/billingInfo"
        );
        assert_eq!(
            networks_list(&p, "t").url,
            "https://compute.googleapis.com/compute/v1/projects/my-proj-1/global/networks?fields=items(name)%2CnextPageToken&maxResults=500"
        );
        let policy = project_iam_policy(&p, "t");
        assert_eq!(policy.method, Method::Post);
        assert!(policy.url.ends_with("/v1/projects/my-proj-1:getIamPolicy"));
        for r in [
            services_list(&p, None, "t"),
            billing_info(&p, "t"),
            networks_list(&p, "t"),
            policy,
        ] {
            assert!(is_google_api_url(&r.url), "{}", r.url);
        }

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
        // userinfo: a Bearer GET, the token in no URL and no body.
        let r = userinfo("secret");
        assert_eq!(
            (r.method, r.url.as_str(), &r.auth, &r.body),
            (
                Method::Get,
                "https://openidconnect.googleapis.com/v1/userinfo",
                &Auth::Bearer("secret".into()),
                &None
            )
        );
        assert!(is_google_api_url(&r.url));
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
    fn services_page_shapes() {
        let body = r#"{"services":[{"name":"projects/123/services/compute.googleapis.com"},{"name":"projects/123/services/bigquerystorage.googleapis.com"}],"nextPageToken":"p2"}"#;
        assert_eq!(
            parse_services_page(body).unwrap(),
            (
                vec![
                    "compute.googleapis.com".to_owned(),
                    "bigquerystorage.googleapis.com".to_owned()
                ],
                Some("p2".to_owned())
            )
        );
        // No service enabled: Google leaves the list out.
        assert_eq!(parse_services_page("{}").unwrap(), (vec![], None));
        assert!(parse_services_page(r#"{"services":[{"name":"x"}]}"#).is_err());
        assert!(parse_services_page("<html>").is_err());
    }

    #[test]
    fn billing_policy_and_network_shapes() {
        let on = r#"{"name":"projects/p/billingInfo","projectId":"p","billingAccountName":"billingAccounts/012345-567890-ABCDEF","billingEnabled":true}"#;
        assert_eq!(parse_billing_info(on), Ok(true));
        assert_eq!(
            parse_billing_info(r#"{"name":"projects/p/billingInfo","projectId":"p"}"#),
            Ok(false)
        );
        assert!(parse_billing_info("\"on\"").is_err());
        let policy = r#"{"version":1,"etag":"BwX=","bindings":[{"role":"roles/compute.admin","members":["serviceAccount:sa@p.iam.gserviceaccount.com","user:a@example.com"]},{"role":"roles/viewer","members":["user:a@example.com"]}]}"#;
        assert_eq!(
            parse_roles_of(policy, "serviceAccount:sa@p.iam.gserviceaccount.com").unwrap(),
            ["roles/compute.admin"]
        );
        assert!(parse_roles_of(r#"{"etag":"x"}"#, "user:a@example.com")
            .unwrap()
            .is_empty());
        assert_eq!(
            parse_networks(r#"{"items":[{"name":"default"}]}"#).unwrap(),
            ["default"]
        );
        assert!(parse_networks("{}").unwrap().is_empty());
    }
}
