//! The exported JSON report, `gcp-preflight.report/v1`. It never holds the token.

use super::catalog::required_by;
use super::check::{ApiFinding, Findings};
use super::plan::Plan;
use super::verdict::{effective, group_verdict, verdicts};
use serde_json::{json, Value};

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
pub fn build(plan: &Plan, findings: &Findings, email: Option<&str>, checked_at_ms: u64) -> Value {
    let permissions: Vec<Value> = plan
        .permissions()
        .iter()
        .map(|p| {
            let groups: Vec<&str> = plan
                .groups
                .iter()
                .filter(|g| g.permissions.contains(p))
                .map(|g| g.id.as_str())
                .collect();
            let (sky_check, sky_docs) = required_by(p.as_str());
            json!({
                "name": p,
                "groups": groups,
                "required_by": {"sky_check": sky_check, "skypilot_docs": sky_docs},
                "project": findings.project.get(p),
                "bucket": findings.bucket.get(p),
                "service_account": findings.service_account.get(p),
                "effective": effective(plan, findings, p),
            })
        })
        .collect();
    let apis: Vec<Value> = plan
        .apis
        .iter()
        .map(|a| {
            let state = match findings.apis.get(&a.service) {
                Some(ApiFinding::On) => json!("on"),
                Some(ApiFinding::Off) => json!("off"),
                Some(ApiFinding::Unknown { error }) => json!({"unknown": error}),
                None => json!("not_checked"),
            };
            json!({"service": a.service, "capability": a.capability, "state": state})
        })
        .collect();
    let profiles: Vec<Value> = plan
        .groups
        .iter()
        .map(|g| {
            let v = group_verdict(plan, findings, g);
            json!({"id": g.id, "title": g.title, "capability": g.capability, "source": g.source,
                   "citation": g.citation, "status": v.status, "missing": v.missing})
        })
        .collect();
    json!({
        "schema": REPORT_SCHEMA,
        "checked_at": iso8601(checked_at_ms),
        "account_email": email,
        "project": plan.project,
        "options": plan.options,
        "bucket": plan.bucket,
        "service_account": plan.service_account,
        "plan_fingerprint": plan.fingerprint,
        "profiles": profiles,
        "verdicts": verdicts(plan, findings),
        "permissions": permissions,
        "apis": apis,
    })
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
