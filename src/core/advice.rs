//! How to fix what a verdict found missing: copy-paste `gcloud` commands, each grant made where
//! the permission is needed (the project, the named bucket, or the service account).
//!
//! Every value put into a command is one the app validated (project ID, bucket name, service
//! account, permission and service names) or an email that passed [`safe_email`]: nothing from a
//! response reaches a shell unchecked.

use super::names::ProjectId;
use super::permission::Permission;
use super::plan::{probe_of, Plan, Probe, ACT_AS};
use super::verdict::{Topic, Verdict};

/// Role ID used for the custom role that grants exactly what is missing.
pub const CUSTOM_ROLE_ID: &str = "skypilotPreflightFix";

/// Predefined role that grants object access on one bucket (`storage.objects.*` but IAM).
const BUCKET_OBJECTS_ROLE: &str = "roles/storage.objectUser";
/// Predefined role that grants `storage.buckets.get` on one bucket.
const BUCKET_READ_ROLE: &str = "roles/storage.legacyBucketReader";
/// Predefined role that grants `iam.serviceAccounts.actAs` on one service account.
const ACT_AS_ROLE: &str = "roles/iam.serviceAccountUser";

/// `email` if it is a plain address (letters, digits, `._%+-` before `@`, a domain after):
/// safe to place in a shell command unquoted.
pub fn safe_email(email: &str) -> Option<&str> {
    let (local, domain) = email.split_once('@')?;
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c));
    let domain_ok = domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
        && !domain.starts_with(['.', '-']);
    (local_ok && domain_ok).then_some(email)
}

/// The IAM member for the token's account: `serviceAccount:` for service-account tokens.
pub fn member(email: Option<&str>) -> String {
    match email.and_then(safe_email) {
        Some(email) if email.ends_with(".gserviceaccount.com") => {
            format!("serviceAccount:{email}")
        }
        Some(email) => format!("user:{email}"),
        None => "user:YOUR_EMAIL".into(),
    }
}

fn joined(list: &[&Permission]) -> String {
    list.iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A custom role with `permissions` in `project`, created or (when it exists) extended — so the
/// command works when run twice — and bound to `member`.
fn custom_role_commands(
    project: &ProjectId,
    member: &str,
    permissions: &[&Permission],
) -> [String; 2] {
    let p = project.as_str();
    let list = joined(permissions);
    [
        format!(
            "if gcloud iam roles describe {CUSTOM_ROLE_ID} --project={p} >/dev/null 2>&1; then gcloud iam roles update {CUSTOM_ROLE_ID} --project={p} --add-permissions={list}; else gcloud iam roles create {CUSTOM_ROLE_ID} --project={p} --title=\"SkyPilot preflight fix\" --stage=GA --permissions={list}; fi"
        ),
        format!(
            "gcloud projects add-iam-policy-binding {p} --member={member} --role=projects/{p}/roles/{CUSTOM_ROLE_ID} --condition=None"
        ),
    ]
}

/// `gcloud` commands that fix `verdict`: APIs turned on, then grants on the bucket, on the
/// service account, and on the project (a custom role with exactly what is missing). Empty when
/// nothing is to be fixed by a grant.
pub fn fix_commands(plan: &Plan, member_email: Option<&str>, verdict: &Verdict) -> Vec<String> {
    let p = plan.project.as_str();
    let member = member(member_email);
    let mut out: Vec<String> = verdict
        .apis_off
        .iter()
        .map(|api| format!("gcloud services enable {api} --project={p}"))
        .collect();
    // Where each missing permission was tested decides where it is granted.
    let account = match verdict.topic {
        Topic::FirstLaunch => plan.first_launch_account.as_ref(),
        _ => plan.service_account.as_ref(),
    };
    let mut on_bucket = Vec::new();
    let mut on_account = Vec::new();
    let mut on_project = Vec::new();
    for permission in &verdict.missing {
        match (probe_of(permission.as_str()), &plan.bucket, account) {
            (Some(Probe::Bucket), Some(_), _) => on_bucket.push(permission),
            (Some(Probe::ServiceAccount), _, Some(_)) if permission.as_str() == ACT_AS => {
                on_account.push(permission)
            }
            _ => on_project.push(permission),
        }
    }
    if let Some(bucket) = plan.bucket.as_ref().filter(|_| !on_bucket.is_empty()) {
        let objects = on_bucket
            .iter()
            .any(|p| p.as_str().starts_with("storage.objects."));
        let read = on_bucket
            .iter()
            .any(|p| p.as_str() == "storage.buckets.get");
        for (needed, role) in [(objects, BUCKET_OBJECTS_ROLE), (read, BUCKET_READ_ROLE)] {
            if needed {
                out.push(format!(
                    "gcloud storage buckets add-iam-policy-binding gs://{bucket} --member={member} --role={role}"
                ));
            }
        }
    }
    if let Some(account) = account.filter(|_| !on_account.is_empty()) {
        out.push(format!(
            "gcloud iam service-accounts add-iam-policy-binding {account} --member={member} --role={ACT_AS_ROLE}"
        ));
    }
    if !on_project.is_empty() {
        out.extend(custom_role_commands(&plan.project, &member, &on_project));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::names::{BucketName, ServiceAccountEmail};
    use crate::core::plan::PlanInput;
    use crate::core::verdict::Status;

    fn perm(name: &str) -> Permission {
        Permission::parse(name).unwrap()
    }

    fn verdict(topic: Topic, missing: &[&str], apis_off: &[&str]) -> Verdict {
        Verdict {
            topic,
            status: Status::NotReady,
            missing: missing.iter().map(|p| perm(p)).collect(),
            not_valid: vec![],
            apis_off: apis_off.iter().map(|s| s.to_string()).collect(),
            blockers: vec![],
            notes: vec![],
            unknown_reasons: vec![],
        }
    }

    #[test]
    fn project_grants_through_a_custom_role_that_survives_a_second_run() {
        let plan = Plan::build(
            ProjectId::parse("seed-project").unwrap(),
            &PlanInput::default(),
        );
        let v = verdict(
            Topic::Compute,
            &["compute.firewalls.create", "compute.firewalls.delete"],
            &["compute.googleapis.com"],
        );
        let cmds = fix_commands(&plan, Some("a@example.com"), &v);
        assert_eq!(
            cmds[0],
            "gcloud services enable compute.googleapis.com --project=seed-project"
        );
        // Create when absent, add to it when present: running it twice works.
        assert!(cmds[1].starts_with("if gcloud iam roles describe skypilotPreflightFix --project=seed-project >/dev/null 2>&1; then gcloud iam roles update"));
        assert!(cmds[1].contains("--add-permissions=compute.firewalls.create,compute.firewalls.delete; else gcloud iam roles create"));
        assert_eq!(cmds[2], "gcloud projects add-iam-policy-binding seed-project --member=user:a@example.com --role=projects/seed-project/roles/skypilotPreflightFix --condition=None");
        assert_eq!(cmds.len(), 3);
    }

    #[test]
    fn bucket_and_account_permissions_are_granted_there() {
        let plan = Plan::build(
            ProjectId::parse("seed-project").unwrap(),
            &PlanInput {
                bucket: Some(BucketName::parse("gs://team-bucket/jobs").unwrap()),
                service_account: Some(
                    ServiceAccountEmail::parse("runner@other.iam.gserviceaccount.com").unwrap(),
                ),
                ..Default::default()
            },
        );
        let storage = verdict(
            Topic::Storage,
            &["storage.objects.create", "storage.buckets.get"],
            &[],
        );
        let cmds = fix_commands(&plan, Some("sa@p.iam.gserviceaccount.com"), &storage);
        assert_eq!(
            cmds,
            [
                "gcloud storage buckets add-iam-policy-binding gs://team-bucket --member=serviceAccount:sa@p.iam.gserviceaccount.com --role=roles/storage.objectUser",
                "gcloud storage buckets add-iam-policy-binding gs://team-bucket --member=serviceAccount:sa@p.iam.gserviceaccount.com --role=roles/storage.legacyBucketReader",
            ]
        );
        let compute = verdict(Topic::Compute, &[ACT_AS], &[]);
        assert_eq!(
            fix_commands(&plan, Some("a@example.com"), &compute),
            ["gcloud iam service-accounts add-iam-policy-binding runner@other.iam.gserviceaccount.com --member=user:a@example.com --role=roles/iam.serviceAccountUser"]
        );
        // First launch: actAs is granted on skypilot-v1.
        let first = verdict(Topic::FirstLaunch, &[ACT_AS], &[]);
        assert!(fix_commands(&plan, Some("a@example.com"), &first)[0]
            .contains("add-iam-policy-binding skypilot-v1@seed-project.iam.gserviceaccount.com"));
    }

    #[test]
    fn unsafe_emails_never_reach_a_command() {
        assert_eq!(member(Some("a.b+c@example.com")), "user:a.b+c@example.com");
        for bad in [
            "a;rm -rf ~@x.com",
            "a@x.com$(id)",
            "a b@x.com",
            "@x.com",
            "a@",
            "a@x",
        ] {
            assert_eq!(member(Some(bad)), "user:YOUR_EMAIL", "{bad}");
        }
        assert_eq!(member(None), "user:YOUR_EMAIL");
    }
}
