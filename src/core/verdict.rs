//! Findings → verdicts: compute ready, storage ready, managed jobs ready, what the first launch
//! needs (and the user's custom list), each with the reasons for "not ready" or "unknown".
//!
//! Rules that keep verdicts honest (each pinned by a test, and argued from SkyPilot's source in
//! `../shared/reference/skypilot/VERDICT-REVIEW.md`):
//! - a failed request is never a verdict: it makes the answer "unknown", with the error named;
//!   only a definite miss ("Google says not held", "API off and not enableable") says Not ready;
//! - a bucket's or service account's own answer is authoritative: it includes what the resource
//!   inherits from *its* project, which need not be the checked one;
//! - storage never stands in for compute, and managed jobs need storage only when the job's files
//!   must go through GCS (`jobs.bucket` on GCS, or GCS mounts); otherwise SkyPilot uploads
//!   through the controller;
//! - an API that is off blocks unless `sky check gcp` will really enable it: the caller holds
//!   `serviceusage.services.enable`, the project has billing (for compute), and SkyPilot's grep
//!   does not mistake another enabled service for it;
//! - a name Google says is not valid on a project can never be held: Not ready in a custom list,
//!   Unknown in SkyPilot's lists (sky check itself would fail on it).

use super::catalog::Capability;
use super::check::{ApiFinding, Findings, FirstLaunchFindings, PermissionFinding};
use super::google_error::ApiError;
use super::permission::Permission;
use super::plan::{probe_of, Plan, PlannedGroup, Probe, ACT_AS};
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
    /// SkyPilot managed jobs (compute, plus storage when files go through GCS).
    ManagedJobs,
    /// What the first launch in the project needs beyond `sky check`.
    FirstLaunch,
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
            Topic::FirstLaunch => "First launch",
            Topic::Custom => "Custom",
        }
    }

    /// A stable identifier (`managed-jobs`), used for test ids.
    pub fn slug(self) -> &'static str {
        match self {
            Topic::Compute => "compute",
            Topic::Storage => "storage",
            Topic::ManagedJobs => "managed-jobs",
            Topic::FirstLaunch => "first-launch",
            Topic::Custom => "custom",
        }
    }

    fn of(capability: Capability) -> Topic {
        match capability {
            Capability::Compute => Topic::Compute,
            Capability::Storage => Topic::Storage,
            Capability::FirstLaunch => Topic::FirstLaunch,
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
    /// Google says the name is not valid there: misspelt, or an organization, folder or
    /// billing-account permission. It can never be held on the project.
    NotValid,
    /// Not held on the project, no bucket given: usually granted per bucket.
    PerBucketUnverified,
    /// Not held on the project, no service account given: may be granted on the account.
    OnServiceAccountUnverified,
    /// Cannot be tested on the resource (uniform bucket-level access).
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

fn effective_of(finding: Option<&PermissionFinding>, on: String) -> Effective {
    match finding {
        Some(PermissionFinding::Held) => Effective::Held,
        Some(PermissionFinding::Missing) => Effective::Missing,
        Some(PermissionFinding::NotValid) => Effective::NotValid,
        Some(PermissionFinding::Untestable) => Effective::Untestable,
        Some(PermissionFinding::Error { error }) => Effective::Error {
            error: error.clone(),
            on,
        },
        None => Effective::NotTested,
    }
}

/// Merges what is known about `permission`.
pub fn effective(plan: &Plan, findings: &Findings, permission: &Permission) -> Effective {
    let project = effective_of(
        findings.project.get(permission),
        format!("project {}", plan.project),
    );
    let Some(probe) = probe_of(permission.as_str()) else {
        return project;
    };
    match plan.probe_target(probe) {
        // The resource's own answer is authoritative: it includes what the resource inherits
        // from its own project, and the checked project's grants do not reach a bucket or
        // service account that lives elsewhere.
        Some(target) => match effective_of(findings.on(probe).get(permission), target) {
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
    /// Names Google says are not valid on a project (blocking, in a custom list).
    pub not_valid: Vec<Permission>,
    /// APIs that are off and that `sky check` will not turn on (blocking).
    pub apis_off: Vec<String>,
    /// Other blocking problems, in words (e.g. no billing account).
    pub blockers: Vec<String>,
    /// Things worth knowing that do not block.
    pub notes: Vec<String>,
    /// Why the answer is unknown, if it is.
    pub unknown_reasons: Vec<String>,
}

impl Verdict {
    /// Whether anything needs fixing (missing permissions or APIs off).
    pub fn has_fix(&self) -> bool {
        !self.missing.is_empty() || !self.apis_off.is_empty()
    }
}

#[derive(Default)]
struct Tally {
    missing: Vec<Permission>,
    not_valid: Vec<Permission>,
    apis_off: Vec<String>,
    blockers: Vec<String>,
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

/// The text shown for a permission Google refused as not valid on a project.
pub const NOT_VALID_ON_PROJECT: &str =
    "not valid on a project: misspelt, or it belongs to an organization, folder or billing account";

impl Tally {
    fn text(list: &mut Vec<String>, text: String) {
        push_unique(list, &text);
    }

    fn permission(
        &mut self,
        plan: &Plan,
        findings: &Findings,
        p: &Permission,
        capability: Capability,
    ) {
        match effective(plan, findings, p) {
            Effective::Held => {}
            Effective::Missing => push_unique(&mut self.missing, p),
            Effective::NotValid if capability == Capability::Custom => {
                push_unique(&mut self.not_valid, p)
            }
            // SkyPilot's own list: sky check sends it and fails on Google's 400.
            Effective::NotValid => Self::text(
                &mut self.unknown,
                format!(
                    "Google says {p} is {NOT_VALID_ON_PROJECT}; `sky check gcp` would fail on it."
                ),
            ),
            Effective::PerBucketUnverified => push_unique(&mut self.per_bucket, p),
            Effective::OnServiceAccountUnverified => push_unique(&mut self.on_account, p),
            Effective::Untestable => push_unique(&mut self.untestable, p),
            Effective::Error { error, on } => {
                Self::text(&mut self.unknown, format!("On {on}: {error}"))
            }
            Effective::NotTested => Self::text(&mut self.unknown, format!("{p} was not tested.")),
        }
    }

    /// Requires `name` on the project (first launch): missing, unknown or fine.
    fn require_on_project(&mut self, findings: &Findings, name: &str) {
        let Some(p) = Permission::parse(name).ok() else {
            return;
        };
        match findings.project.get(&p) {
            Some(PermissionFinding::Held) => {}
            Some(PermissionFinding::Missing | PermissionFinding::NotValid) => {
                push_unique(&mut self.missing, &p)
            }
            Some(PermissionFinding::Error { error }) => {
                Self::text(&mut self.unknown, format!("On the project: {error}"))
            }
            Some(PermissionFinding::Untestable) | None => {
                Self::text(&mut self.unknown, format!("{p} was not tested."))
            }
        }
    }

    fn status(&self) -> Status {
        // A definite miss is definite even when something else failed; an error alone is not.
        if !self.missing.is_empty()
            || !self.not_valid.is_empty()
            || !self.apis_off.is_empty()
            || !self.blockers.is_empty()
        {
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
                "These cannot be tested on the bucket (uniform bucket-level access: its IAM policy alone grants access): {}.",
                names(&self.untestable)
            ));
        }
        Verdict {
            status: self.status(),
            topic,
            missing: self.missing,
            not_valid: self.not_valid,
            apis_off: self.apis_off,
            blockers: self.blockers,
            notes: self.notes,
            unknown_reasons: self.unknown,
        }
    }
}

/// The result of each planned group.
pub fn group_verdict(plan: &Plan, findings: &Findings, group: &PlannedGroup) -> GroupVerdict {
    let mut tally = Tally::default();
    for p in &group.permissions {
        tally.permission(plan, findings, p, group.capability);
    }
    GroupVerdict {
        id: group.id.clone(),
        status: tally.status(),
        missing: tally.missing,
    }
}

/// Whether the project's billing is known to be off.
fn billing_off(findings: &Findings) -> bool {
    matches!(findings.billing, Some(Ok(false)))
}

/// Judges the APIs `capability` needs.
fn apis(plan: &Plan, findings: &Findings, capability: Capability, tally: &mut Tally) {
    let enable = Permission::parse("serviceusage.services.enable")
        .ok()
        .and_then(|p| findings.project.get(&p).cloned());
    for api in plan.apis.iter().filter(|a| a.capability == capability) {
        let service = &api.service;
        match findings.apis.get(service) {
            Some(ApiFinding::On) => {}
            Some(ApiFinding::Off) => {
                if let Some(other) = findings.grep_matches.get(service) {
                    tally.apis_off.push(service.clone());
                    Tally::text(&mut tally.notes, format!(
                        "`sky check gcp` will not enable {service}: it looks for it with `gcloud services list | grep {service}`, which also matches {other} (on), so it believes the API is on. Enable it yourself."
                    ));
                    continue;
                }
                match &enable {
                    Some(PermissionFinding::Held)
                        if capability == Capability::Compute && billing_off(findings) =>
                    {
                        // Google will not enable Compute Engine on a project without billing.
                        tally.apis_off.push(service.clone())
                    }
                    Some(PermissionFinding::Held) => {
                        let billing = match &findings.billing {
                            Some(Ok(true)) => " and billing is on",
                            Some(Ok(false)) => "",
                            _ => "; whether billing is on is unknown",
                        };
                        Tally::text(&mut tally.notes, format!(
                            "{service} is off; `sky check gcp` will enable it (you hold serviceusage.services.enable{billing}). The verdict assumes it does; an organization policy (constraints/serviceuser.services) can still refuse it."
                        ));
                    }
                    // Whether sky check could enable it is not known: not a definite answer.
                    Some(PermissionFinding::Error { error }) => Tally::text(
                        &mut tally.unknown,
                        format!("{service} is off, and whether `sky check gcp` can enable it is unknown: {error}"),
                    ),
                    _ => tally.apis_off.push(service.clone()),
                }
            }
            Some(ApiFinding::Unknown { error }) => Tally::text(
                &mut tally.unknown,
                format!("API states (Service Usage): {error}"),
            ),
            None => Tally::text(
                &mut tally.unknown,
                format!("The state of {service} was not looked up."),
            ),
        }
    }
}

/// All verdicts for a finished check, in display order: Compute, Storage, Managed jobs, First
/// launch, Custom.
pub fn verdicts(plan: &Plan, findings: &Findings) -> Vec<Verdict> {
    let mut out = Vec::new();
    for capability in plan.capabilities() {
        if capability == Capability::FirstLaunch {
            continue;
        }
        let mut tally = Tally::default();
        for group in plan.groups.iter().filter(|g| g.capability == capability) {
            for p in &group.permissions {
                tally.permission(plan, findings, p, capability);
            }
        }
        apis(plan, findings, capability, &mut tally);
        if capability == Capability::Compute {
            match &findings.billing {
                Some(Ok(false)) => tally.blockers.push(format!(
                    "No billing account: VMs cannot be created. Link one with `gcloud billing projects link {} --billing-account=ACCOUNT_ID`.",
                    plan.project
                )),
                Some(Err(error)) => Tally::text(
                    &mut tally.notes,
                    format!("Whether the project has billing could not be read: {error}"),
                ),
                _ => {}
            }
        }
        out.push(tally.into_verdict(Topic::of(capability)));
    }
    let custom_at = out
        .iter()
        .position(|v| v.topic == Topic::Custom)
        .unwrap_or(out.len());
    let extra: Vec<Verdict> = [managed_jobs(plan, &out), first_launch(plan, findings)]
        .into_iter()
        .flatten()
        .collect();
    out.splice(custom_at..custom_at, extra);
    out
}

/// Where two sets of verdicts (e.g. the ADC token's and the gcloud CLI token's) disagree:
/// `(topic, first's status, second's status)`, in the first's order.
pub fn differences(first: &[Verdict], second: &[Verdict]) -> Vec<(Topic, Status, Status)> {
    first
        .iter()
        .filter_map(|a| {
            let b = second.iter().find(|b| b.topic == a.topic)?;
            (a.status != b.status).then_some((a.topic, a.status, b.status))
        })
        .collect()
}

fn managed_jobs(plan: &Plan, verdicts: &[Verdict]) -> Option<Verdict> {
    let compute = verdicts.iter().find(|v| v.topic == Topic::Compute)?;
    let storage = verdicts.iter().find(|v| v.topic == Topic::Storage);
    // SkyPilot uploads a managed job's files through GCS only when a storage cloud is enabled;
    // `jobs.bucket: gs://…` and GCS mounts need GCS whatever happens
    // (`sky/jobs/server/core.py::_upload_files_to_controller`).
    let files_via_gcs = plan.bucket.is_some() || plan.options.gcs_mounts;
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
            for blocker in &v.blockers {
                push_unique(&mut tally.blockers, blocker);
            }
            tally.notes.push(format!("{what} is not ready."));
        }
        Status::Unknown => tally.unknown.push(format!("{what} is unknown.")),
    };
    depend(compute, "Compute (the jobs controller and the job's VMs)");
    // SkyPilot's profiles always plan storage beside compute, so `storage` is there.
    match storage {
        Some(storage) if files_via_gcs => depend(
            storage,
            "Storage (the job's files go through GCS: jobs.bucket or GCS storage mounts)",
        ),
        Some(storage) if storage.status != Status::Ready => tally.notes.push(format!(
            "Storage is {}: SkyPilot uploads the job's files through the controller instead (two-hop), which needs no bucket. Run `sky check gcp` after switching account or project, so SkyPilot's cached storage state agrees.",
            storage.status.label().to_ascii_lowercase()
        )),
        _ => {}
    }
    Some(tally.into_verdict(Topic::ManagedJobs))
}

/// SkyPilot binds these to `skypilot-v1` on its first launch; one of them bound is taken as
/// "already set up" (`_is_permission_satisfied` then checks what they grant).
fn first_launch(plan: &Plan, findings: &Findings) -> Option<Verdict> {
    let account = plan.first_launch_account.as_ref()?;
    let Some(found) = &findings.first_launch else {
        let mut tally = Tally::default();
        tally
            .unknown
            .push("The first launch's needs were not looked up.".into());
        return Some(tally.into_verdict(Topic::FirstLaunch));
    };
    let mut tally = Tally::default();
    judge_service_account(findings, found, account.as_str(), &mut tally);
    judge_act_as(findings, found, &mut tally);
    if plan.options.custom_vpc {
        tally.notes.push(
            "gcp.vpc_name is set: SkyPilot uses that VPC (a shared VPC's host project is not checked here).".into(),
        );
    } else {
        match &found.networks {
            Ok(networks) if !networks.is_empty() => tally.notes.push(format!(
                "The project has VPC networks ({}): SkyPilot uses one whose firewall rules fit, or creates skypilot-vpc.",
                networks.join(", ")
            )),
            Ok(_) => {
                tally.notes.push("The project has no VPC network (an organization policy may skip the default one): SkyPilot's first launch creates skypilot-vpc and its firewall rules.".into());
                tally.require_on_project(findings, "compute.networks.create");
                tally.require_on_project(findings, "compute.firewalls.list");
            }
            Err(error) => tally
                .unknown
                .push(format!("Whether the project has a VPC network is unknown: {error}")),
        }
    }
    Some(tally.into_verdict(Topic::FirstLaunch))
}

fn judge_service_account(
    findings: &Findings,
    found: &FirstLaunchFindings,
    account: &str,
    tally: &mut Tally,
) {
    match &found.exists {
        Ok(true) => match &found.roles {
            Ok(roles) if !roles.is_empty() => tally.notes.push(format!(
                "{account} exists and holds {} on the project: SkyPilot uses it as it is.",
                roles.join(", ")
            )),
            Ok(_) => {
                tally.notes.push(format!("{account} exists but holds no role on the project: SkyPilot's first launch binds its roles."));
                tally.require_on_project(findings, "resourcemanager.projects.setIamPolicy");
            }
            Err(error) => tally.unknown.push(format!(
                "Whether {account} holds roles on the project is unknown: {error}"
            )),
        },
        Ok(false) => {
            let get = Permission::parse("iam.serviceAccounts.get").ok();
            match get.and_then(|p| findings.project.get(&p)) {
                // The caller may see every account of the project, so 403 means it is not there.
                Some(PermissionFinding::Held) => {
                    tally.notes.push(format!("{account} does not exist yet: SkyPilot's first launch creates it and binds its roles."));
                    tally.require_on_project(findings, "iam.serviceAccounts.create");
                    tally.require_on_project(findings, "resourcemanager.projects.setIamPolicy");
                }
                _ => tally.unknown.push(format!(
                    "Google would not say whether {account} exists: this account cannot see the project's service accounts (iam.serviceAccounts.get)."
                )),
            }
        }
        Err(error) => tally
            .unknown
            .push(format!("Whether {account} exists is unknown: {error}")),
    }
}

fn judge_act_as(findings: &Findings, found: &FirstLaunchFindings, tally: &mut Tally) {
    let Ok(act_as) = Permission::parse(ACT_AS) else {
        return;
    };
    // Tested on the account itself when it could be addressed (authoritative: it includes the
    // project's grants); otherwise it will be created in the project and inherit from it.
    match found.act_as.as_ref() {
        Some(PermissionFinding::Held) => {}
        Some(PermissionFinding::Missing | PermissionFinding::NotValid) => {
            push_unique(&mut tally.missing, &act_as);
            tally.notes.push(format!(
                "{ACT_AS} is needed to attach {} to the VMs (sky check skips it; grant it on the account).",
                found.account
            ));
        }
        Some(PermissionFinding::Error { error }) => tally
            .unknown
            .push(format!("On service account {}: {error}", found.account)),
        Some(PermissionFinding::Untestable) => tally.unknown.push(format!(
            "{ACT_AS} could not be tested on {}.",
            found.account
        )),
        None => tally.require_on_project(findings, ACT_AS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::catalog::{Mode, Options};
    use crate::core::check::FirstLaunchFindings;
    use crate::core::google_error::GoogleError;
    use crate::core::names::{BucketName, ProjectId, ServiceAccountEmail};
    use crate::core::plan::{PlanInput, ACT_AS, BUCKET_LEVEL_PERMISSIONS};

    fn plan(input: PlanInput) -> Plan {
        Plan::build(ProjectId::parse("seed-project").unwrap(), &input)
    }

    fn perm(name: &str) -> Permission {
        Permission::parse(name).unwrap()
    }

    fn unavailable() -> ApiError {
        GoogleError::from_response(
            503,
            r#"{"error":{"code":503,"message":"backend unavailable","status":"UNAVAILABLE"}}"#,
        )
    }

    /// Findings where every planned permission is held except `missing`, all APIs are on,
    /// billing is on, and skypilot-v1 exists with a role.
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
        f.billing = Some(Ok(true));
        f.first_launch = plan
            .first_launch_account
            .clone()
            .map(|account| FirstLaunchFindings {
                account,
                exists: Ok(true),
                roles: Ok(vec!["roles/compute.admin".into()]),
                act_as: Some(PermissionFinding::Held),
                networks: Ok(vec!["default".into()]),
            });
        f
    }

    fn verdict(vs: &[Verdict], topic: Topic) -> &Verdict {
        vs.iter().find(|v| v.topic == topic).unwrap()
    }

    fn status(vs: &[Verdict], topic: Topic) -> Status {
        verdict(vs, topic).status
    }

    fn names(list: &[Permission]) -> Vec<&str> {
        list.iter().map(Permission::as_str).collect()
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
        assert_eq!(
            topics,
            [
                Topic::Compute,
                Topic::Storage,
                Topic::ManagedJobs,
                Topic::FirstLaunch
            ]
        );
        assert_eq!(status(&vs, Topic::Storage), Status::Ready);
        assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
        assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
        assert_eq!(
            names(&vs[0].missing),
            ["compute.firewalls.create", "compute.firewalls.delete"]
        );
        assert_eq!(vs[2].missing, vs[0].missing);
    }

    #[test]
    fn managed_jobs_names_a_shared_missing_permission_once() {
        let p = plan(PlanInput {
            bucket: Some(BucketName::parse("gs://jobs-bucket").unwrap()),
            ..Default::default()
        });
        let vs = verdicts(&p, &findings_except(&p, &["serviceusage.services.enable"]));
        assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
        assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
        assert_eq!(
            names(&verdict(&vs, Topic::ManagedJobs).missing),
            ["serviceusage.services.enable"]
        );
    }

    #[test]
    fn everything_held_is_ready() {
        let p = plan(PlanInput::default());
        let vs = verdicts(&p, &findings_except(&p, &[]));
        assert_eq!(vs.len(), 4);
        assert!(vs.iter().all(|v| v.status == Status::Ready), "{vs:?}");
        // Nothing to say when storage is ready too.
        assert!(verdict(&vs, Topic::ManagedJobs).notes.is_empty());
    }

    /// Review #3: without `jobs.bucket` on GCS or GCS mounts, SkyPilot uploads through the
    /// controller, so a compute-only account runs managed jobs.
    #[test]
    fn managed_jobs_need_storage_only_when_files_go_through_gcs() {
        let missing = ["storage.buckets.create", "storage.buckets.delete"];
        let p = plan(PlanInput::default());
        let vs = verdicts(&p, &findings_except(&p, &missing));
        assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
        let jobs = verdict(&vs, Topic::ManagedJobs);
        assert_eq!(jobs.status, Status::Ready);
        assert!(jobs.notes[0].contains("through the controller"), "{jobs:?}");
        assert!(jobs.notes[0].contains("sky check gcp"));
        // With jobs.bucket on GCS, or GCS mounts, the same findings sink managed jobs.
        for input in [
            PlanInput {
                bucket: Some(BucketName::parse("gs://team/jobs/alice").unwrap()),
                ..Default::default()
            },
            PlanInput {
                options: Options {
                    gcs_mounts: true,
                    ..Options::default()
                },
                ..Default::default()
            },
        ] {
            let p = plan(input);
            let vs = verdicts(&p, &findings_except(&p, &missing));
            let jobs = verdict(&vs, Topic::ManagedJobs);
            assert_eq!(jobs.status, Status::NotReady);
            assert_eq!(names(&jobs.missing), missing);
        }
    }

    #[test]
    fn errors_make_unknown_never_missing() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &[]);
        for v in f.project.values_mut() {
            *v = PermissionFinding::Error {
                error: unavailable(),
            };
        }
        let vs = verdicts(&p, &f);
        for topic in [Topic::Compute, Topic::Storage, Topic::ManagedJobs] {
            assert_eq!(status(&vs, topic), Status::Unknown, "{topic:?}");
        }
        assert!(vs[0].unknown_reasons[0].contains("503"));
        assert!(vs[0].missing.is_empty());
        assert!(!f.is_complete());
    }

    /// A definite miss is definite even when another test failed (audit X17).
    #[test]
    fn a_definite_miss_beats_an_error() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &["compute.firewalls.create"]);
        f.project.insert(
            perm("compute.disks.create"),
            PermissionFinding::Error {
                error: unavailable(),
            },
        );
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
        assert_eq!(names(&vs[0].missing), ["compute.firewalls.create"]);
        assert!(!vs[0].unknown_reasons.is_empty());
    }

    /// Review #8 / item 6: a failed permission test plus an API that is off is Unknown, since
    /// whether sky check could enable the API is not known.
    #[test]
    fn failed_permission_test_plus_api_off_is_unknown() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &[]);
        for v in f.project.values_mut() {
            *v = PermissionFinding::Error {
                error: unavailable(),
            };
        }
        f.apis
            .insert("compute.googleapis.com".into(), ApiFinding::Off);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Compute), Status::Unknown);
        assert!(vs[0].apis_off.is_empty());
        assert!(vs[0]
            .unknown_reasons
            .iter()
            .any(|r| r.contains("compute.googleapis.com is off, and whether")));
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
        f.bucket
            .insert(perm("storage.objects.create"), PermissionFinding::Missing);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
        assert_eq!(names(&vs[1].missing), ["storage.objects.create"]);
    }

    /// Review #2: the bucket's own answer wins over the checked project's grants (a bucket in
    /// another project where the caller holds nothing).
    #[test]
    fn a_bucket_in_another_project_is_judged_by_its_own_answer() {
        let p = plan(PlanInput {
            bucket: Some(BucketName::parse("other-team-bucket").unwrap()),
            ..Default::default()
        });
        // Project Owner-like: every project-level permission held, object ones included.
        let mut f = findings_except(&p, &[]);
        for o in p.bucket_permissions() {
            f.bucket.insert(o, PermissionFinding::Missing);
        }
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Storage), Status::NotReady);
        assert_eq!(verdict(&vs, Topic::Storage).missing.len(), 6);
        assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
        // The same for a service account from another project.
        let p = plan(PlanInput {
            service_account: Some(
                ServiceAccountEmail::parse("runner@elsewhere.iam.gserviceaccount.com").unwrap(),
            ),
            ..Default::default()
        });
        let mut f = findings_except(&p, &[]);
        f.service_account
            .insert(perm(ACT_AS), PermissionFinding::Missing);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
        assert_eq!(names(&vs[0].missing), [ACT_AS]);
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
            .insert(perm(ACT_AS), PermissionFinding::Held);
        assert_eq!(status(&verdicts(&p, &f), Topic::Compute), Status::Ready);
        f.service_account
            .insert(perm(ACT_AS), PermissionFinding::Missing);
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
        assert_eq!(names(&vs[1].missing), ["serviceusage.services.enable"]);
    }

    #[test]
    fn an_api_off_with_enable_held_and_billing_on_is_a_note() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &[]);
        f.apis
            .insert("compute.googleapis.com".into(), ApiFinding::Off);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Compute), Status::Ready);
        assert!(vs[0].notes[0].contains("`sky check gcp` will enable it"));
        assert!(
            vs[0].notes[0].contains("(you hold serviceusage.services.enable and billing is on)")
        );
        // Billing unknown: said so. Billing off only blocks compute; storage's note is plain.
        f.billing = None;
        let vs = verdicts(&p, &f);
        assert!(vs[0].notes[0].contains("; whether billing is on is unknown)"));
        let mut f = findings_except(&p, &[]);
        f.billing = Some(Ok(false));
        f.apis
            .insert("storage.googleapis.com".into(), ApiFinding::Off);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Storage), Status::Ready);
        assert!(
            vs[1].notes[0].contains("(you hold serviceusage.services.enable). The verdict"),
            "{:?}",
            vs[1].notes
        );
    }

    /// Review #4A: no billing account makes compute Not ready, and an off compute API cannot be
    /// enabled then.
    #[test]
    fn no_billing_makes_compute_not_ready() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &[]);
        f.billing = Some(Ok(false));
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Compute), Status::NotReady);
        assert!(vs[0].blockers[0].starts_with("No billing account: VMs cannot be created"));
        assert_eq!(status(&vs, Topic::ManagedJobs), Status::NotReady);
        assert_eq!(status(&vs, Topic::Storage), Status::Ready);
        f.apis
            .insert("compute.googleapis.com".into(), ApiFinding::Off);
        let vs = verdicts(&p, &f);
        assert_eq!(vs[0].apis_off, ["compute.googleapis.com"]);
        // Billing unreadable: a note, never a verdict.
        let mut f = findings_except(&p, &[]);
        f.billing = Some(Err(unavailable()));
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Compute), Status::Ready);
        assert!(vs[0].notes[0].contains("billing could not be read"));
    }

    /// Review #4B: SkyPilot's grep matches bigquerystorage for storage, so it never enables it.
    #[test]
    fn grep_trap_makes_storage_not_ready() {
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &[]);
        f.apis
            .insert("storage.googleapis.com".into(), ApiFinding::Off);
        f.grep_matches.insert(
            "storage.googleapis.com".into(),
            "bigquerystorage.googleapis.com".into(),
        );
        let vs = verdicts(&p, &f);
        let storage = verdict(&vs, Topic::Storage);
        assert_eq!(storage.status, Status::NotReady);
        assert_eq!(storage.apis_off, ["storage.googleapis.com"]);
        assert!(storage.notes[0].contains("bigquerystorage.googleapis.com"));
    }

    /// Review #5: a name Google refuses on a project is Not ready in a custom list, Unknown in
    /// SkyPilot's own lists.
    #[test]
    fn not_valid_names() {
        let custom = vec![
            perm("compute.instances.creat"),
            perm("compute.instances.get"),
        ];
        let p = plan(PlanInput {
            custom,
            skip_skypilot: true,
            ..Default::default()
        });
        let mut f = Findings::default();
        f.project
            .insert(perm("compute.instances.creat"), PermissionFinding::NotValid);
        f.project
            .insert(perm("compute.instances.get"), PermissionFinding::Held);
        let vs = verdicts(&p, &f);
        assert_eq!(vs.len(), 1);
        assert_eq!(vs[0].topic, Topic::Custom);
        assert_eq!(vs[0].status, Status::NotReady);
        assert_eq!(names(&vs[0].not_valid), ["compute.instances.creat"]);
        assert!(vs[0].missing.is_empty());
        let p = plan(PlanInput::default());
        let mut f = findings_except(&p, &[]);
        f.project
            .insert(perm("compute.disks.create"), PermissionFinding::NotValid);
        let vs = verdicts(&p, &f);
        assert_eq!(status(&vs, Topic::Compute), Status::Unknown);
        assert!(vs[0].unknown_reasons[0].contains("not valid on a project"));
    }

    /// Review #7 / item 8: what the first launch needs beyond sky check.
    #[test]
    fn first_launch() {
        let p = plan(PlanInput::default());
        // All verdicts when `missing` is not held on the project and `change` is made to what
        // the first launch's look-ups found.
        let with = |p: &Plan, missing: &[&str], change: fn(&mut FirstLaunchFindings)| {
            let mut f = findings_except(p, missing);
            change(f.first_launch.as_mut().unwrap());
            verdicts(p, &f)
        };
        let absent = |found: &mut FirstLaunchFindings| {
            found.exists = Ok(false);
            found.act_as = None;
        };
        // Ready: the account exists with a role, actAs on it is held, a VPC exists.
        let vs = with(&p, &[], |_| {});
        let first = verdict(&vs, Topic::FirstLaunch);
        assert_eq!(first.status, Status::Ready);
        assert!(
            first.notes[0]
                .ends_with("holds roles/compute.admin on the project: SkyPilot uses it as it is."),
            "{:?}",
            first.notes
        );
        // The account does not exist and the caller may not create it.
        let vs = with(&p, &["iam.serviceAccounts.create"], absent);
        let first = verdict(&vs, Topic::FirstLaunch);
        assert_eq!(first.status, Status::NotReady);
        assert_eq!(names(&first.missing), ["iam.serviceAccounts.create"]);
        // …and the compute verdict (sky check parity) is unaffected.
        assert_eq!(status(&vs, Topic::Compute), Status::Ready);
        // A 403 the caller cannot interpret (no iam.serviceAccounts.get) is Unknown.
        let vs = with(&p, &["iam.serviceAccounts.get"], absent);
        assert_eq!(status(&vs, Topic::FirstLaunch), Status::Unknown);
        // Exists without roles: binding them needs setIamPolicy.
        let vs = with(&p, &["resourcemanager.projects.setIamPolicy"], |found| {
            found.roles = Ok(vec![])
        });
        assert_eq!(
            names(&verdict(&vs, Topic::FirstLaunch).missing),
            ["resourcemanager.projects.setIamPolicy"]
        );
        // actAs missing on the account itself, though held on the project.
        let vs = with(&p, &[], |found| {
            found.act_as = Some(PermissionFinding::Missing)
        });
        assert_eq!(names(&verdict(&vs, Topic::FirstLaunch).missing), [ACT_AS]);
        // No VPC network: creating one needs networks.create and firewalls.list.
        let no_vpc = ["compute.networks.create", "compute.firewalls.list"];
        let no_networks = |found: &mut FirstLaunchFindings| found.networks = Ok(vec![]);
        let vs = with(&p, &no_vpc, no_networks);
        assert_eq!(names(&verdict(&vs, Topic::FirstLaunch).missing), no_vpc);
        // …unless gcp.vpc_name is set.
        let p = plan(PlanInput {
            options: Options {
                custom_vpc: true,
                ..Options::default()
            },
            ..Default::default()
        });
        let vs = with(&p, &no_vpc, no_networks);
        assert_eq!(status(&vs, Topic::FirstLaunch), Status::Ready);
    }

    #[test]
    fn words_shown_for_statuses_and_topics() {
        let labels: Vec<&str> = [Status::Ready, Status::NotReady, Status::Unknown]
            .iter()
            .map(|s| s.label())
            .collect();
        assert_eq!(labels, ["Ready", "Not ready", "Unknown"]);
        let topics = [
            Topic::Compute,
            Topic::Storage,
            Topic::ManagedJobs,
            Topic::FirstLaunch,
            Topic::Custom,
        ];
        let titles: Vec<&str> = topics.iter().map(|t| t.title()).collect();
        assert_eq!(
            titles,
            [
                "Compute",
                "Storage",
                "Managed jobs",
                "First launch",
                "Custom"
            ]
        );
        let slugs: Vec<&str> = topics.iter().map(|t| t.slug()).collect();
        assert_eq!(
            slugs,
            [
                "compute",
                "storage",
                "managed-jobs",
                "first-launch",
                "custom"
            ]
        );
    }

    #[test]
    fn notes_name_their_permissions() {
        let docs = Options {
            mode: Mode::SkyPilotDocs,
            ..Options::default()
        };
        let p = plan(PlanInput {
            options: docs,
            ..Default::default()
        });
        let vs = verdicts(&p, &findings_except(&p, &["storage.objects.get", ACT_AS]));
        assert!(
            vs[1].notes[0].ends_with("(name a bucket to test it): storage.objects.get."),
            "{:?}",
            vs[1].notes
        );
        assert!(vs[0].notes[0].ends_with("(name it to test): iam.serviceAccounts.actAs."));
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
