//! Findings → verdicts: compute ready, storage ready, managed jobs ready (and the user's custom
//! list), each with the reasons for "not ready" or "unknown".
//!
//! Rules that keep verdicts honest:
//! - a failed request is never a verdict: it makes the answer "unknown", with the error named;
//! - storage never stands in for compute: managed jobs need compute *and*, when the jobs bucket
//!   is on GCS, storage (the seed's failure was storage working while compute did not);
//! - permissions that owners usually hold per bucket, and `actAs` held per service account, are
//!   not failures when they are missing at project level and nothing more specific was tested.

use super::catalog::Capability;
use super::check::{ApiFinding, Findings, PermissionFinding};
use super::google_error::ApiError;
use super::permission::Permission;
use super::plan::{probe_of, Plan, PlannedGroup, Probe};
use serde::Serialize;

/// A verdict's headline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Everything needed is held and enabled.
    Ready,
    /// Something needed is missing or disabled.
    NotReady,
    /// An error prevented an answer.
    Unknown,
}

impl Status {
    /// The words shown in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Status::Ready => "Ready",
            Status::NotReady => "Not ready",
            Status::Unknown => "Unknown",
        }
    }
}

/// What a verdict is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    /// Launching VMs.
    Compute,
    /// Cloud Storage.
    Storage,
    /// SkyPilot managed jobs (compute, plus storage when the jobs bucket is on GCS).
    ManagedJobs,
    /// The user's own list.
    Custom,
}

impl Topic {
    /// Heading text.
    pub fn title(self) -> &'static str {
        match self {
            Topic::Compute => "Compute",
            Topic::Storage => "Storage",
            Topic::ManagedJobs => "Managed jobs",
            Topic::Custom => "Custom",
        }
    }

    /// A stable identifier (`managed-jobs`), used for test ids.
    pub fn slug(self) -> &'static str {
        match self {
            Topic::Compute => "compute",
            Topic::Storage => "storage",
            Topic::ManagedJobs => "managed-jobs",
            Topic::Custom => "custom",
        }
    }

    fn of(capability: Capability) -> Topic {
        match capability {
            Capability::Compute => Topic::Compute,
            Capability::Storage => Topic::Storage,
            Capability::Custom => Topic::Custom,
        }
    }
}

/// The answer for one permission once project, bucket and service-account findings are merged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Effective {
    /// Held.
    Held,
    /// Not held where it was tested.
    Missing,
    /// Not held on the project, no bucket given: usually granted per bucket.
    PerBucketUnverified,
    /// Not held on the project, no service account given: may be granted on the account.
    OnServiceAccountUnverified,
    /// Cannot be tested on a project.
    Untestable,
    /// The test failed.
    Error {
        /// Why.
        error: ApiError,
        /// Where it was tested, e.g. `bucket my-bucket`.
        on: String,
    },
    /// Not in the findings (should not happen for a finished check).
    NotTested,
}

/// Merges what is known about `permission`.
pub fn effective(plan: &Plan, findings: &Findings, permission: &Permission) -> Effective {
    let from = |f: Option<&PermissionFinding>, on: String| match f {
        Some(PermissionFinding::Held) => Effective::Held,
        Some(PermissionFinding::Missing) => Effective::Missing,
        Some(PermissionFinding::Untestable) => Effective::Untestable,
        Some(PermissionFinding::Error { error }) => Effective::Error {
            error: error.clone(),
            on,
        },
        None => Effective::NotTested,
    };
    let project = from(
        findings.project.get(permission),
        format!("project {}", plan.project),
    );
    let Some(probe) = probe_of(permission.as_str()) else {
        return project;
    };
    if project == Effective::Held {
        return Effective::Held;
    }
    match plan.probe_target(probe) {
        // The resource's own answer includes what it inherits from the project.
        Some(target) => match from(findings.on(probe).get(permission), target) {
            Effective::NotTested => project,
            answer => answer,
        },
        None => match (project, probe) {
            (Effective::Missing | Effective::Untestable, Probe::Bucket) => {
                Effective::PerBucketUnverified
            }
            (Effective::Missing | Effective::Untestable, Probe::ServiceAccount) => {
                Effective::OnServiceAccountUnverified
            }
            (other, _) => other,
        },
    }
}

/// One group's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupVerdict {
    /// The group's id.
    pub id: String,
    /// Its status.
    pub status: Status,
    /// Missing permissions.
    pub missing: Vec<Permission>,
}

/// One verdict with its reasons.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// What it is about.
    pub topic: Topic,
    /// The headline.
    pub status: Status,
    /// Permissions missing (blocking).
    pub missing: Vec<Permission>,
    /// APIs that are off (blocking).
    pub apis_off: Vec<String>,
    /// Things worth knowing that do not block.
    pub notes: Vec<String>,
    /// Why the answer is unknown, if it is.
    pub unknown_reasons: Vec<String>,
}

#[derive(Default)]
struct Tally {
    missing: Vec<Permission>,
    apis_off: Vec<String>,
    notes: Vec<String>,
    unknown: Vec<String>,
    per_bucket: Vec<Permission>,
    on_account: Vec<Permission>,
    untestable: Vec<Permission>,
}

fn push_unique<T: PartialEq + Clone>(list: &mut Vec<T>, item: &T) {
    if !list.contains(item) {
        list.push(item.clone());
    }
}

fn names(list: &[Permission]) -> String {
    list.iter()
        .map(Permission::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Tally {
    fn push_unique(list: &mut Vec<String>, text: String) {
        push_unique(list, &text);
    }

    fn permission(&mut self, plan: &Plan, findings: &Findings, p: &Permission) {
        match effective(plan, findings, p) {
            Effective::Held => {}
            Effective::Missing => push_unique(&mut self.missing, p),
            Effective::PerBucketUnverified => push_unique(&mut self.per_bucket, p),
            Effective::OnServiceAccountUnverified => push_unique(&mut self.on_account, p),
            Effective::Untestable => push_unique(&mut self.untestable, p),
            Effective::Error { error, on } => {
                Self::push_unique(&mut self.unknown, format!("On {on}: {error}"))
            }
            Effective::NotTested => {
                Self::push_unique(&mut self.unknown, format!("{p} was not tested."))
            }
        }
    }

    fn status(&self) -> Status {
        if !self.missing.is_empty() || !self.apis_off.is_empty() {
            Status::NotReady
        } else if !self.unknown.is_empty() {
            Status::Unknown
        } else {
            Status::Ready
        }
    }

    fn into_verdict(mut self, topic: Topic) -> Verdict {
        // One note per kind, naming its permissions, rather than one note per permission.
        if !self.per_bucket.is_empty() {
            self.notes.push(format!(
                "Not held on the project, and usually granted per bucket — not verifiable here (name a bucket to test it): {}.",
                names(&self.per_bucket)
            ));
        }
        if !self.on_account.is_empty() {
            self.notes.push(format!(
                "Not held on the project; may be granted on the service account (name it to test): {}.",
                names(&self.on_account)
            ));
        }
        if !self.untestable.is_empty() {
            self.notes.push(format!(
                "These are untestable on a project (Google tests them only on an organization, folder or other resource): {}.",
                names(&self.untestable)
            ));
        }
        Verdict {
            status: self.status(),
            topic,
            missing: self.missing,
            apis_off: self.apis_off,
            notes: self.notes,
            unknown_reasons: self.unknown,
        }
    }
}

/// The result of each planned group.
pub fn group_verdict(plan: &Plan, findings: &Findings, group: &PlannedGroup) -> GroupVerdict {
    let mut tally = Tally::default();
    for p in &group.permissions {
        tally.permission(plan, findings, p);
    }
    GroupVerdict {
        id: group.id.clone(),
        status: tally.status(),
        missing: tally.missing,
    }
}

/// All verdicts for a finished check, in display order: Compute, Storage, Managed jobs, Custom.
pub fn verdicts(plan: &Plan, findings: &Findings) -> Vec<Verdict> {
    let can_enable_apis = matches!(
        findings
            .project
            .iter()
            .find(|(p, _)| p.as_str() == "serviceusage.services.enable"),
        Some((_, PermissionFinding::Held))
    );
    let mut out = Vec::new();
    for capability in plan.capabilities() {
        let mut tally = Tally::default();
        for group in plan.groups.iter().filter(|g| g.capability == capability) {
            for p in &group.permissions {
                tally.permission(plan, findings, p);
            }
        }
        for api in plan.apis.iter().filter(|a| a.capability == capability) {
            match findings.apis.get(&api.service) {
                Some(ApiFinding::On) => {}
                Some(ApiFinding::Off) if can_enable_apis => Tally::push_unique(
                    &mut tally.notes,
                    format!("{} is off; `sky check` will enable it (you hold serviceusage.services.enable). The verdict assumes it has.", api.service),
                ),
                Some(ApiFinding::Off) => tally.apis_off.push(api.service.clone()),
                Some(ApiFinding::Unknown { error }) => Tally::push_unique(
                    &mut tally.unknown,
                    format!("API states (Service Usage): {error}"),
                ),
                None => Tally::push_unique(
                    &mut tally.unknown,
                    format!("The state of {} was not looked up.", api.service),
                ),
            }
        }
        out.push(tally.into_verdict(Topic::of(capability)));
    }
    if let Some(managed) = managed_jobs(plan, &out) {
        let at = out
            .iter()
            .position(|v| v.topic == Topic::Custom)
            .unwrap_or(out.len());
        out.insert(at, managed);
    }
    out
}

fn managed_jobs(plan: &Plan, verdicts: &[Verdict]) -> Option<Verdict> {
    let compute = verdicts.iter().find(|v| v.topic == Topic::Compute)?;
    let storage = verdicts.iter().find(|v| v.topic == Topic::Storage);
    let needs_storage = plan.options.jobs_bucket_on_gcs;
    let mut tally = Tally::default();
    let mut depend = |v: &Verdict, what: &str| match v.status {
        Status::Ready => {}
        Status::NotReady => {
            // Compute and storage share some permissions (sky check tests the Service Usage
            // pair for both): name each once.
            for p in &v.missing {
                push_unique(&mut tally.missing, p);
            }
            for api in &v.apis_off {
                push_unique(&mut tally.apis_off, api);
            }
            tally.notes.push(format!("{what} is not ready."));
        }
        Status::Unknown => tally.unknown.push(format!("{what} is unknown.")),
    };
    depend(compute, "Compute (the jobs controller and the job's VMs)");
    if needs_storage {
        match storage {
            Some(storage) => depend(
                storage,
                "Storage (the managed-jobs bucket on GCS; `jobs.force_disable_cloud_bucket: true` avoids it)",
            ),
            None => tally.unknown.push("Storage was not checked.".into()),
        }
    }
    Some(tally.into_verdict(Topic::ManagedJobs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalog::{Mode, Options};
    use crate::core::google_error::GoogleError;
    use crate::core::names::{BucketName, ProjectId, ServiceAccountEmail};
    use crate::core::plan::{PlanInput, ACT_AS, BUCKET_LEVEL_PERMISSIONS};

    fn plan(input: PlanInput) -> Plan {
        Plan::build(ProjectId::parse("seed-project").unwrap(), &input)
    }

    /// Findings where every planned permission is held except `missing`, and all APIs are on.
    fn findings_except(plan: &Plan, missing: &[&str]) -> Findings {
        let mut f = Findings::default();
        for p in plan.permissions() {
            let finding = if missing.contains(&p.as_str()) {
                PermissionFinding::Missing
            } else {
                PermissionFinding::Held
            };
            f.project.insert(p, finding);
        }
        for api in &plan.apis {
            f.apis.insert(api.service.clone(), ApiFinding::On);
        }
        f
    }

    fn status(vs: &[Verdict], topic: Topic) -> Status {
        vs.iter().find(|v| v.topic == topic).unwrap().status
    }

    #[test]
    fn seed_scenario_storage_ready_compute_not() {
        let p = plan(PlanInput::default());
        let f = findings_except(
            &p,
            &["compute.firewalls.create", "compute.firewalls.delete"],
        );
        let vs = verdicts(&p, &f);
        let topics: Vec<Topic> = vs.iter().map(|v| v.topic).collect();
        assert_eq!(topics, [Topic::Compute, Topic::Storage, Topic::ManagedJobs]);
        assert_eq!(status(&vs, Topic::Storage), Status::Ready);
        assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
        assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
        let missing: Vec<&str> = vs[0].missing.iter().map(|p| p.as_str()).collect();
        assert_eq!(
            missing,
            ["compute.firewalls.create", "compute.firewalls.delete"]
        );
        assert_eq!(vs[2].missing, vs[0].missing);
    }

    #[test]
    fn managed_jobs_names_a_shared_missing_permission_once() {
        let p = plan(PlanInput::default());
        let vs = verdicts(&p, &findings_except(&p, &["serviceusage.services.enable"]));
        assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
        assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
        let names: Vec<&str> = vs[2].missing.iter().map(Permission::as_str).collect();
        assert_eq!(names, ["serviceusage.services.enable"]);
    }

    #[test]
    fn everything_held_is_ready() {
        let p = plan(PlanInput::default());
        let vs = verdicts(&p, &findings_except(&p, &[]));
        assert!(vs.iter().all(|v| v.status == Status::Ready), "{vs:?}");
    }

    #[test]
    fn managed_jobs_without_gcs_bucket_needs_only_compute() {
        let options = Options {
            jobs_bucket_on_gcs: false,
            ..Options::default()
        };
        let p = plan(PlanInput {
            options,
            ..Default::default()
        });
        let vs = verdicts(&p, &findings_except(&p, &["storage.buckets.create"]));
        assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
        assert_eq!(status(&vs, Topic::ManagedJobs), Status::Ready);
        // …and with the bucket on GCS the same findings sink managed jobs.
        let p = plan(PlanInput::default());
        let vs = verdicts(&p, &findings_except(&p, &["storage.buckets.create"]));
        assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
    }

    #[test]
    fn errors_make_unknown_never_missing() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &[]);
        let error = GoogleError::from_response(
            503,
            r#"{"error":{"code":503,"message":"backend unavailable","status":"UNAVAILABLE"}}"#,
        );
        for v in f.project.values_mut() {
            *v = PermissionFinding::Error {
                error: error.clone(),
            };
        }
        let vs = verdicts(&p, &f);
        assert!(vs.iter().all(|v| v.status == Status::Unknown));
        assert!(vs[0].unknown_reasons[0].contains("503"));
        assert!(vs[0].missing.is_empty());
        assert!(!f.is_complete());
    }

    #[test]
    fn owner_like_account_with_bucket() {
        let docs = Options {
            mode: Mode::SkyPilotDocs,
            ..Options::default()
        };
        let objects = BUCKET_LEVEL_PERMISSIONS;
        // No bucket given: the project-level misses are notes, not failures.
        let p = plan(PlanInput {
            options: docs,
            ..Default::default()
        });
        let f = findings_except(&p, objects);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Storage), Status::Ready);
        assert!(vs[1]
            .notes
            .iter()
            .any(|n| n.contains("granted per bucket — not verifiable here")));
        // Bucket given and it says held: ready, no notes about it.
        let p = plan(PlanInput {
            options: docs,
            bucket: Some(BucketName::parse("jobs-bucket").unwrap()),
            ..Default::default()
        });
        let mut f = findings_except(&p, objects);
        for o in p.bucket_permissions() {
            f.bucket.insert(o, PermissionFinding::Held);
        }
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Storage), Status::Ready);
        assert!(vs[1].notes.is_empty());
        // Bucket says missing: not ready, and named.
        f.bucket.insert(
            Permission::parse("storage.objects.create").unwrap(),
            PermissionFinding::Missing,
        );
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
        assert_eq!(vs[1].missing[0].as_str(), "storage.objects.create");
    }

    #[test]
    fn act_as_on_service_account_only() {
        let docs = Options {
            mode: Mode::SkyPilotDocs,
            ..Options::default()
        };
        let p = plan(PlanInput {
            options: docs,
            ..Default::default()
        });
        let vs = verdicts(&p, &findings_except(&p, &[ACT_AS]));
        assert_eq!(status(&vs, Topic::Compute), Status::Ready);
        assert!(vs[0]
            .notes
            .iter()
            .any(|n| n.contains("may be granted on the service account")));
        let sa = ServiceAccountEmail::skypilot_default(&p.project);
        let p = plan(PlanInput {
            options: docs,
            service_account: Some(sa),
            ..Default::default()
        });
        let mut f = findings_except(&p, &[ACT_AS]);
        f.service_account
            .insert(Permission::parse(ACT_AS).unwrap(), PermissionFinding::Held);
        assert_eq!(status(&verdicts(&p, &f), Topic::Compute), Status::Ready);
        f.service_account.insert(
            Permission::parse(ACT_AS).unwrap(),
            PermissionFinding::Missing,
        );
        assert_eq!(status(&verdicts(&p, &f), Topic::Compute), Status::NotReady);
    }

    #[test]
    fn apis_off_block_unless_enable_is_held() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &["serviceusage.services.enable"]);
        f.apis
            .insert("compute.googleapis.com".into(), ApiFinding::Off);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
        assert_eq!(vs[0].apis_off, ["compute.googleapis.com"]);
        // sky check tests serviceusage.services.enable for storage too.
        assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
        assert_eq!(vs[1].missing[0].as_str(), "serviceusage.services.enable");
    }

    #[test]
    fn apis_off_with_enable_held_is_a_note() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &[]);
        f.apis
            .insert("storage.googleapis.com".into(), ApiFinding::Off);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Storage), Status::Ready);
        assert!(vs[1].notes[0].contains("will enable it"));
    }

    #[test]
    fn untestable_custom_names_do_not_fail_the_rest() {
        let custom = vec![
            Permission::parse("resourcemanager.projects.create").unwrap(),
            Permission::parse("compute.instances.get").unwrap(),
        ];
        let p = plan(PlanInput {
            custom,
            skip_skypilot: true,
            ..Default::default()
        });
        let mut f = Findings::default();
        f.project.insert(
            Permission::parse("resourcemanager.projects.create").unwrap(),
            PermissionFinding::Untestable,
        );
        f.project.insert(
            Permission::parse("compute.instances.get").unwrap(),
            PermissionFinding::Held,
        );
        let vs = verdicts(&p, &f);
        assert_eq!(vs.len(), 1);
        assert_eq!(vs[0].topic, Topic::Custom);
        assert_eq!(vs[0].status, Status::Ready);
        assert!(vs[0].notes[0].contains("untestable on a project"));
    }

    #[test]
    fn group_verdicts() {
        let p = plan(PlanInput::default());
        let f = findings_except(&p, &["compute.firewalls.create"]);
        let by_id = |id: &str| group_verdict(&p, &f, p.groups.iter().find(|g| g.id == id).unwrap());
        assert_eq!(by_id("check_compute_firewall").status, Status::NotReady);
        assert_eq!(by_id("check_compute_base").status, Status::Ready);
    }
}
