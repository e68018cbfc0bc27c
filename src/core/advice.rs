//! Where each missing permission of a verdict is granted: on the named bucket, on the service
//! account it was tested on, or on the project. [`crate::core::roles::fix`] turns this into the
//! roles to ask for and the commands.

use super::plan::{probe_of, Plan, Probe, ACT_AS};
use super::roles::fix::{MissingAt, Target};
use super::verdict::{Topic, Verdict};

/// `verdict`'s missing permissions grouped by where they were tested and so must be granted
/// (VERDICT-REVIEW #10: a permission missing on a bucket is granted on the bucket, not
/// project-wide). Empty when nothing is missing.
pub fn missing_by_target(plan: &Plan, verdict: &Verdict) -> Vec<MissingAt> {
    // First launch tests actAs on SkyPilot's own account; the other verdicts on the named one.
    let account = match verdict.topic {
        Topic::FirstLaunch => plan.first_launch_account.as_ref(),
        _ => plan.service_account.as_ref(),
    };
    let mut out: Vec<MissingAt> = Vec::new();
    let mut add = |target: Target, permission| match out.iter_mut().find(|m| m.target == target) {
        Some(entry) => entry.permissions.push(permission),
        None => out.push(MissingAt {
            target,
            permissions: vec![permission],
        }),
    };
    for permission in &verdict.missing {
        let target = match (probe_of(permission.as_str()), &plan.bucket, account) {
            (Some(Probe::Bucket), Some(bucket), _) => Target::Bucket(bucket.clone()),
            (Some(Probe::ServiceAccount), _, Some(account)) if permission.as_str() == ACT_AS => {
                Target::ServiceAccount(account.clone())
            }
            _ => Target::Project,
        };
        add(target, permission.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::names::{BucketName, ProjectId, ServiceAccountEmail};
    use crate::core::permission::Permission;
    use crate::core::plan::PlanInput;
    use crate::core::verdict::Status;

    fn verdict(topic: Topic, missing: &[&str]) -> Verdict {
        Verdict {
            topic,
            status: Status::NotReady,
            missing: missing
                .iter()
                .map(|p| Permission::parse(p).unwrap())
                .collect(),
            not_valid: vec![],
            apis_off: vec![],
            blockers: vec![],
            notes: vec![],
            unknown_reasons: vec![],
        }
    }

    fn names(m: &MissingAt) -> Vec<&str> {
        m.permissions.iter().map(Permission::as_str).collect()
    }

    #[test]
    fn each_permission_is_granted_where_it_was_tested() {
        let bucket = BucketName::parse("gs://team-bucket/jobs").unwrap();
        let runner = ServiceAccountEmail::parse("runner@other.iam.gserviceaccount.com").unwrap();
        let plan = Plan::build(
            ProjectId::parse("seed-project").unwrap(),
            &PlanInput {
                bucket: Some(bucket.clone()),
                service_account: Some(runner.clone()),
                ..Default::default()
            },
        );
        let v = verdict(
            Topic::Storage,
            &[
                "storage.objects.create",
                "storage.buckets.create",
                "storage.buckets.get",
            ],
        );
        let by = missing_by_target(&plan, &v);
        assert_eq!(by.len(), 2);
        assert_eq!(by[0].target, Target::Bucket(bucket));
        assert_eq!(
            names(&by[0]),
            ["storage.objects.create", "storage.buckets.get"]
        );
        assert_eq!(by[1].target, Target::Project);
        assert_eq!(names(&by[1]), ["storage.buckets.create"]);
        let by = missing_by_target(&plan, &verdict(Topic::Compute, &[ACT_AS]));
        assert_eq!(by[0].target, Target::ServiceAccount(runner));
        // First launch: actAs is granted on skypilot-v1.
        let by = missing_by_target(&plan, &verdict(Topic::FirstLaunch, &[ACT_AS]));
        assert_eq!(
            by[0].target,
            Target::ServiceAccount(plan.first_launch_account.clone().unwrap())
        );
        // No bucket named: object permissions go to the project.
        let bare = Plan::build(
            ProjectId::parse("seed-project").unwrap(),
            &PlanInput::default(),
        );
        let by = missing_by_target(&bare, &verdict(Topic::Storage, &["storage.objects.get"]));
        assert_eq!(by[0].target, Target::Project);
        assert!(missing_by_target(&bare, &verdict(Topic::Compute, &[])).is_empty());
    }
}
