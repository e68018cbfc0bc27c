//! The exported JSON report, `gcp-preflight.report/v1`. It never holds the token.

use super::catalog::{required_by, Capability, Options, Source};
use super::check::{ApiFinding, Findings, PermissionFinding};
use super::google_error::ApiError;
use super::names::{BucketName, ProjectId, ServiceAccountEmail};
use super::permission::Permission;
use super::plan::Plan;
use super::verdict::{effective, group_verdict, verdicts, Effective, Status, Verdict};
use serde::Serialize;

mod markdown;

/// Schema name of the report.
pub const REPORT_SCHEMA: &str = "gcp-preflight.report/v1";

/// `YYYY-MM-DDTHH:MM:SSZ` for milliseconds since the Unix epoch (proleptic Gregorian, UTC).
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Builds the report for a finished check.
pub fn build<'a>(
    plan: &'a Plan,
    findings: &'a Findings,
    email: Option<&'a str>,
    checked_at_ms: u64,
) -> Report<'a> {
    let permissions = plan
        .permissions()
        .into_iter()
        .map(|p| {
            let groups = plan
                .groups
                .iter()
                .filter(|g| g.permissions.contains(&p))
                .map(|g| g.id.as_str())
                .collect();
            let (sky_check, skypilot_docs) = required_by(p.as_str());
            PermissionReport {
                groups,
                required_by: RequiredBy {
                    sky_check,
                    skypilot_docs,
                },
                project: findings.project.get(&p),
                bucket: findings.bucket.get(&p),
                service_account: findings.service_account.get(&p),
                effective: effective(plan, findings, &p),
                name: p,
            }
        })
        .collect();
    let apis = plan
        .apis
        .iter()
        .map(|a| ApiReport {
            service: &a.service,
            capability: a.capability,
            state: match findings.apis.get(&a.service) {
                Some(ApiFinding::On) => ApiState::On,
                Some(ApiFinding::Off) => ApiState::Off,
                Some(ApiFinding::Unknown { error }) => ApiState::Unknown(error),
                None => ApiState::NotChecked,
            },
        })
        .collect();
    let profiles = plan
        .groups
        .iter()
        .map(|g| {
            let v = group_verdict(plan, findings, g);
            ProfileReport {
                id: &g.id,
                title: &g.title,
                capability: g.capability,
                source: g.source,
                citation: &g.citation,
                status: v.status,
                missing: v.missing,
            }
        })
        .collect();
    Report {
        schema: REPORT_SCHEMA,
        checked_at: iso8601(checked_at_ms),
        account_email: email,
        project: &plan.project,
        options: plan.options,
        bucket: plan.bucket.as_ref(),
        service_account: plan.service_account.as_ref(),
        plan_fingerprint: &plan.fingerprint,
        profiles,
        verdicts: verdicts(plan, findings),
        permissions,
        apis,
        advice: Vec::new(),
    }
}

/// The report: everything about one check, never the token.
#[derive(Serialize)]
pub struct Report<'a> {
    /// [`REPORT_SCHEMA`].
    pub schema: &'static str,
    /// ISO 8601, UTC.
    pub checked_at: String,
    /// The account's email, when known.
    pub account_email: Option<&'a str>,
    /// The project.
    pub project: &'a ProjectId,
    /// The options the plan was built from.
    pub options: Options,
    /// The bucket tested, if any.
    pub bucket: Option<&'a BucketName>,
    /// The service account tested, if any.
    pub service_account: Option<&'a ServiceAccountEmail>,
    /// The plan fingerprint (part of the cache key).
    pub plan_fingerprint: &'a str,
    /// Each group with its source and result.
    pub profiles: Vec<ProfileReport<'a>>,
    /// Compute, storage, managed jobs, custom.
    pub verdicts: Vec<Verdict>,
    /// Every permission and what each resource said.
    pub permissions: Vec<PermissionReport<'a>>,
    /// Every API looked up.
    pub apis: Vec<ApiReport<'a>>,
    /// How to fix each not-ready verdict (roles, commands), when the role data was at hand.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advice: Vec<VerdictAdvice>,
}

/// The fix advice for one verdict, as the card shows it.
#[derive(Serialize)]
pub struct VerdictAdvice {
    /// Which verdict.
    pub topic: super::verdict::Topic,
    /// Roles, commands and the custom-role alternative.
    pub advice: super::roles::fix::FixAdvice,
}

impl Report<'_> {
    /// Adds the fix advice of every verdict that has something to fix, from `index`, granting
    /// to `email` (`serviceAccount:` for a service-account token). A verdict whose advice cannot
    /// be built (a value failing the command patterns) is left out, never emitted unchecked.
    pub fn with_advice(mut self, plan: &Plan, index: &super::roles::RoleIndex) -> Self {
        use super::roles::fix::{advise, Member};
        let Ok(member) = Member::from_identity(self.account_email, false) else {
            return self;
        };
        self.advice = self
            .verdicts
            .iter()
            .filter(|v| v.has_fix())
            .filter_map(|v| {
                let missing = super::advice::missing_by_target(plan, v);
                let advice = advise(index, &plan.project, &member, &missing, &v.apis_off).ok()?;
                Some(VerdictAdvice {
                    topic: v.topic,
                    advice,
                })
            })
            .collect();
        self
    }
}

/// One group in the report.
#[derive(Serialize)]
pub struct ProfileReport<'a> {
    id: &'a str,
    title: &'a str,
    capability: Capability,
    source: Source,
    citation: &'a str,
    status: Status,
    missing: Vec<Permission>,
}

/// Which public source requires a permission.
#[derive(Serialize)]
pub struct RequiredBy {
    sky_check: bool,
    skypilot_docs: bool,
}

/// One permission in the report.
#[derive(Serialize)]
pub struct PermissionReport<'a> {
    name: Permission,
    groups: Vec<&'a str>,
    required_by: RequiredBy,
    project: Option<&'a PermissionFinding>,
    bucket: Option<&'a PermissionFinding>,
    service_account: Option<&'a PermissionFinding>,
    effective: Effective,
}

/// One API in the report.
#[derive(Serialize)]
pub struct ApiReport<'a> {
    service: &'a str,
    capability: Capability,
    state: ApiState<'a>,
}

/// `"on"`, `"off"`, `{"unknown": error}` or `"not_checked"`.
#[derive(Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiState<'a> {
    /// Enabled.
    On,
    /// Disabled.
    Off,
    /// The look-up failed.
    Unknown(&'a ApiError),
    /// Not looked up.
    NotChecked,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_795_867_200_000), "2026-11-28T12:00:00Z");
    }
}
