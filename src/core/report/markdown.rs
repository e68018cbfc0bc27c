//! The report in Markdown, for an issue, a chat or a ticket: verdicts, missing permissions,
//! APIs that are off, and the fix (roles and commands) of every not-ready verdict.

use super::{ApiState, Report};
use crate::core::permission::Permission;
use crate::core::verdict::Verdict;
use std::fmt::Write;

/// Text from anywhere (a Google error message included) as inert Markdown: one line, with the
/// characters Markdown or HTML read specially escaped.
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            c if c.is_control() => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// `` `a`, `b` `` for a list of permissions (names are validated: no backquote can occur).
fn codes(list: &[Permission]) -> String {
    let names: Vec<String> = list.iter().map(|p| format!("`{p}`")).collect();
    names.join(", ")
}

fn verdict_section(out: &mut String, v: &Verdict, report: &Report<'_>) {
    let _ = writeln!(out, "\n## {} — {}\n", v.topic.title(), v.status.label());
    if !v.missing.is_empty() {
        let _ = writeln!(
            out,
            "- Missing permissions ({}): {}",
            v.missing.len(),
            codes(&v.missing)
        );
    }
    if !v.not_valid.is_empty() {
        let _ = writeln!(
            out,
            "- Not valid on a project ({}): {}",
            v.not_valid.len(),
            codes(&v.not_valid)
        );
    }
    if !v.apis_off.is_empty() {
        let apis: Vec<String> = v.apis_off.iter().map(|a| format!("`{a}`")).collect();
        let _ = writeln!(out, "- APIs turned off: {}", apis.join(", "));
    }
    for (label, lines) in [
        ("Blocks", &v.blockers),
        ("Unknown because", &v.unknown_reasons),
        ("Note", &v.notes),
    ] {
        for line in lines {
            let _ = writeln!(out, "- {label}: {}", text(line));
        }
    }
    if v.status == crate::core::verdict::Status::Ready && v.notes.is_empty() {
        out.push_str("- Everything needed is held.\n");
    }
    if let Some(advice) = report.advice.iter().find(|a| a.topic == v.topic) {
        out.push('\n');
        out.push_str(&advice.advice.to_markdown());
    } else if v.has_fix() {
        // Without the role data: at least the APIs, which need none.
        let enable: Vec<String> = v
            .apis_off
            .iter()
            .filter(|a| crate::core::patterns::is_api_service(a))
            .map(|a| format!("gcloud services enable {a} --project={}", report.project))
            .collect();
        if !enable.is_empty() {
            let _ = write!(out, "\n```sh\n{}\n```\n", enable.join("\n"));
        }
    }
}

impl Report<'_> {
    /// The report in Markdown. Never the token; the account email only when the report has it.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# gcp-preflight report: `{}`\n\n", self.project);
        let account = match self.account_email {
            Some(email) => text(email),
            None => "an account (email not included)".into(),
        };
        let _ = writeln!(
            out,
            "Checked {} by {account} on project `{}` ({}{}{}).\n",
            self.checked_at,
            self.project,
            match self.options.mode {
                crate::core::catalog::Mode::SkyCheckParity => "sky check parity",
                crate::core::catalog::Mode::SkyPilotDocs => "SkyPilot docs list",
            },
            self.bucket
                .map(|b| format!(", bucket `{b}`"))
                .unwrap_or_default(),
            self.service_account
                .map(|s| format!(", service account `{s}`"))
                .unwrap_or_default(),
        );
        out.push_str("| Verdict | Result |\n|---|---|\n");
        for v in &self.verdicts {
            let _ = writeln!(out, "| {} | {} |", v.topic.title(), v.status.label());
        }
        for v in &self.verdicts {
            verdict_section(&mut out, v, self);
        }
        if !self.apis.is_empty() {
            out.push_str("\n## APIs\n\n| API | State |\n|---|---|\n");
            for api in &self.apis {
                let state = match &api.state {
                    ApiState::On => "on".to_string(),
                    ApiState::Off => "**off**".to_string(),
                    ApiState::Unknown(error) => format!("unknown: {}", text(&error.to_string())),
                    ApiState::NotChecked => "not checked".to_string(),
                };
                let _ = writeln!(out, "| `{}` | {state} |", api.service);
            }
        }
        out.push_str("\n_Made with gcp-preflight. IAM deny policies, organization policies and quotas are not visible to a permission check._\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::core::catalog::Options;
    use crate::core::check::{self, TokenScope};
    use crate::core::demo::{self, SimulatedGoogle};
    use crate::core::names::ProjectId;
    use crate::core::plan::{Plan, PlanInput};
    use crate::core::roles::RoleIndex;
    use futures::executor::block_on;

    fn alice_on_seed() -> (Plan, crate::core::check::Findings) {
        let plan = Plan::build(
            ProjectId::parse(demo::DEMO_PROJECT_SEED).unwrap(),
            &PlanInput {
                options: Options::default(),
                ..PlanInput::default()
            },
        );
        let google = SimulatedGoogle::new(demo::demo_world());
        let findings = block_on(check::run(
            &google,
            &plan,
            demo::DEMO_TOKEN_ALICE,
            TokenScope::Full,
        ));
        (plan, findings)
    }

    #[test]
    fn the_markdown_report_has_verdicts_missing_permissions_and_the_fix() {
        let (plan, findings) = alice_on_seed();
        let index =
            RoleIndex::from_json(include_str!("../../../tests/fixtures/roles-small.json")).unwrap();
        let report = super::super::build(&plan, &findings, Some("alice@example.com"), 0)
            .with_advice(&plan, &index);
        let md = report.to_markdown();
        assert!(
            md.starts_with("# gcp-preflight report: `skypilot-seed-demo`"),
            "{md}"
        );
        assert!(
            md.contains("1970-01-01T00:00:00Z by alice@example.com"),
            "{md}"
        );
        assert!(md.contains("| Compute | Not ready |"), "{md}");
        assert!(md.contains("## Compute — Not ready"), "{md}");
        assert!(md.contains("`compute.firewalls.create`"), "{md}");
        assert!(!report.advice.is_empty());
        assert!(md.contains("### How to fix"), "{md}");
        assert!(
            md.contains("gcloud projects add-iam-policy-binding skypilot-seed-demo --member=user:alice@example.com"),
            "{md}"
        );
        assert!(md.contains("## APIs"), "{md}");
        assert!(!md.contains(demo::DEMO_TOKEN_ALICE));
    }

    #[test]
    fn without_email_or_role_data_it_still_reads() {
        let (plan, findings) = alice_on_seed();
        let md = super::super::build(&plan, &findings, None, 0).to_markdown();
        assert!(md.contains("by an account (email not included)"), "{md}");
        assert!(!md.contains("alice"), "{md}");
        assert!(!md.contains("### How to fix"));
    }

    #[test]
    fn outside_text_is_inert() {
        assert_eq!(
            super::text("<img src=x> [a](b)\n|`x`"),
            "\\<img src=x\\> \\[a\\](b) \\|\\`x\\`"
        );
    }
}
