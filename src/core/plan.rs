//! What one check will test: profiles and options (plus a custom list, bucket and service
//! account) become a [`Plan`] of permission batches, API look-ups and probes, with a fingerprint
//! that keys the cache.

use super::catalog::{
    Capability, Group, Options, Source, ACT_AS_SERVICE_ACCOUNT, BUCKET_ACCESS, DOCS_MINIMAL_BASE,
    FIRST_LAUNCH_ADMIN,
};
use super::endpoints::MAX_PERMISSIONS_PER_CALL;
use super::names::{BucketName, ProjectId, ServiceAccountEmail};
use super::ordered;
use super::permission::Permission;
use serde::Serialize;
use std::collections::BTreeSet;
use std::hash::Hasher;

/// Object permissions that owners usually get per bucket, not per project (SkyPilot PR #5025).
pub const BUCKET_LEVEL_PERMISSIONS: &[&str] = BUCKET_ACCESS.permissions;

/// The permission often granted on one service account rather than the project.
pub const ACT_AS: &str = "iam.serviceAccounts.actAs";

/// A resource other than the project on which a permission is often granted instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The named bucket (object permissions).
    Bucket,
    /// The named service account (`actAs`).
    ServiceAccount,
}

/// Where `permission` is tested besides the project, if anywhere: the one place that says so.
pub fn probe_of(permission: &str) -> Option<Probe> {
    if BUCKET_LEVEL_PERMISSIONS.contains(&permission) {
        Some(Probe::Bucket)
    } else if permission == ACT_AS {
        Some(Probe::ServiceAccount)
    } else {
        None
    }
}

/// One group as planned: the catalogue group's facts with parsed permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedGroup {
    /// Catalogue id, or `custom`.
    pub id: String,
    /// Plain-words title.
    pub title: String,
    /// Verdict it counts towards.
    pub capability: Capability,
    /// Public source.
    pub source: Source,
    /// File and section of the source.
    pub citation: String,
    /// Permissions to test.
    pub permissions: Vec<Permission>,
}

impl PlannedGroup {
    fn from_catalog(group: &Group, excluded: &[&str]) -> Self {
        PlannedGroup {
            id: group.id.into(),
            title: group.title.into(),
            capability: group.capability,
            source: group.source,
            citation: group.citation.into(),
            permissions: group
                .permissions
                .iter()
                .filter(|p| !excluded.contains(p))
                // Catalogue names are checked by catalog's tests; a bad one is skipped, not a panic.
                .filter_map(|p| Permission::parse(p).ok())
                .collect(),
        }
    }
}

/// An API that must be enabled on the project.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiRequirement {
    /// e.g. `compute.googleapis.com`.
    pub service: String,
    /// The verdict it counts towards.
    pub capability: Capability,
}

/// Everything one check tests, ready to run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The project.
    pub project: ProjectId,
    /// The options it was built from.
    pub options: Options,
    /// Groups in display order.
    pub groups: Vec<PlannedGroup>,
    /// APIs to look up.
    pub apis: Vec<ApiRequirement>,
    /// Bucket whose own policy is tested for the object permissions.
    pub bucket: Option<BucketName>,
    /// Service account on which `actAs` is tested.
    pub service_account: Option<ServiceAccountEmail>,
    /// The account SkyPilot's first launch uses (`skypilot-v1@PROJECT…`), looked up for the
    /// "First launch" verdict; `None` when SkyPilot's profiles are not checked.
    pub first_launch_account: Option<ServiceAccountEmail>,
    /// Stable hash of everything above except the project; part of the cache key.
    pub fingerprint: String,
}

/// What a plan is built from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanInput {
    /// Options mirroring SkyPilot's config.
    pub options: Options,
    /// A user's own list (already parsed and validated).
    pub custom: Vec<Permission>,
    /// Whether the SkyPilot profiles are included (off = only the custom list).
    pub skip_skypilot: bool,
    /// Optional bucket.
    pub bucket: Option<BucketName>,
    /// Optional service account.
    pub service_account: Option<ServiceAccountEmail>,
}

impl Plan {
    /// Builds the plan for `project`.
    pub fn build(project: ProjectId, input: &PlanInput) -> Plan {
        let mut groups: Vec<PlannedGroup> = Vec::new();
        let mut apis = Vec::new();
        if !input.skip_skypilot {
            let excluded = input.options.excluded_from_base();
            groups.extend(input.options.groups().into_iter().map(|g| {
                let drop: &[&str] = if g.id == DOCS_MINIMAL_BASE.id {
                    excluded
                } else {
                    &[]
                };
                PlannedGroup::from_catalog(g, drop)
            }));
            apis.extend(
                input
                    .options
                    .apis()
                    .into_iter()
                    .map(|(service, capability)| ApiRequirement {
                        service: service.into(),
                        capability,
                    }),
            );
            groups.push(PlannedGroup::from_catalog(&FIRST_LAUNCH_ADMIN, &[]));
        }
        if input.bucket.is_some() {
            groups.push(PlannedGroup::from_catalog(&BUCKET_ACCESS, &[]));
        }
        if input.service_account.is_some() {
            groups.push(PlannedGroup::from_catalog(&ACT_AS_SERVICE_ACCOUNT, &[]));
        }
        if !input.custom.is_empty() {
            groups.push(PlannedGroup {
                id: "custom".into(),
                title: "Custom permissions".into(),
                capability: Capability::Custom,
                source: Source::User,
                citation: "pasted by the user".into(),
                permissions: input.custom.clone(),
            });
        }
        let mut plan = Plan {
            project: project.clone(),
            options: input.options,
            groups,
            apis,
            bucket: input.bucket.clone(),
            service_account: input.service_account.clone(),
            first_launch_account: (!input.skip_skypilot)
                .then(|| ServiceAccountEmail::skypilot_default(&project)),
            fingerprint: String::new(),
        };
        plan.fingerprint = plan.compute_fingerprint();
        plan
    }

    /// Every distinct permission tested on the project, sorted.
    pub fn permissions(&self) -> Vec<Permission> {
        // The same set type as `permission::parse_list` uses: one instantiation in the bundle.
        let set: BTreeSet<Permission> = ordered(
            self.groups
                .iter()
                .flat_map(|g| g.permissions.iter().cloned()),
        );
        set.into_iter().collect()
    }

    /// Project-level `testIamPermissions` batches of at most 100.
    pub fn batches(&self) -> Vec<Vec<Permission>> {
        self.permissions()
            .chunks(MAX_PERMISSIONS_PER_CALL)
            .map(<[Permission]>::to_vec)
            .collect()
    }

    /// Whether the check reads the project's billing state (only for SkyPilot's profiles:
    /// without billing, Compute Engine cannot be enabled or used).
    pub fn reads_billing(&self) -> bool {
        self.first_launch_account.is_some()
    }

    /// The resource the user named for `probe`, in words (`bucket my-bucket`), if any.
    pub fn probe_target(&self, probe: Probe) -> Option<String> {
        match probe {
            Probe::Bucket => self.bucket.as_ref().map(|b| format!("bucket {b}")),
            Probe::ServiceAccount => self
                .service_account
                .as_ref()
                .map(|s| format!("service account {s}")),
        }
    }

    /// The planned permissions tested on `probe`'s resource; none when no resource is named.
    pub fn probe_permissions(&self, probe: Probe) -> Vec<Permission> {
        if self.probe_target(probe).is_none() {
            return Vec::new();
        }
        self.permissions()
            .into_iter()
            .filter(|p| probe_of(p.as_str()) == Some(probe))
            .collect()
    }

    /// The permissions tested on the bucket: the planned bucket-level ones.
    pub fn bucket_permissions(&self) -> Vec<Permission> {
        self.probe_permissions(Probe::Bucket)
    }

    /// The permissions tested on the service account: `actAs` when planned.
    pub fn service_account_permissions(&self) -> Vec<Permission> {
        self.probe_permissions(Probe::ServiceAccount)
    }

    /// Capabilities with at least one group, in display order.
    pub fn capabilities(&self) -> Vec<Capability> {
        [
            Capability::Compute,
            Capability::Storage,
            Capability::FirstLaunch,
            Capability::Custom,
        ]
        .into_iter()
        .filter(|c| self.groups.iter().any(|g| g.capability == *c))
        .collect()
    }

    /// Number of requests a cold check sends (excluding identity, retries and further pages
    /// of the service list).
    pub fn request_count(&self) -> usize {
        // First launch: the account, actAs on it, the project's IAM policy and its networks.
        const FIRST_LAUNCH_REQUESTS: usize = 4;
        self.batches().len()
            + usize::from(!self.apis.is_empty())
            + usize::from(self.reads_billing())
            + usize::from(!self.bucket_permissions().is_empty())
            + usize::from(!self.service_account_permissions().is_empty())
            + self.first_launch_account.as_ref().map_or(0, |account| {
                // Naming skypilot-v1 itself: its actAs probe answers the first launch too.
                FIRST_LAUNCH_REQUESTS - usize::from(self.service_account.as_ref() == Some(account))
            })
    }

    fn compute_fingerprint(&self) -> String {
        // FNV-1a over a canonical text: stable across builds and platforms (unlike std's hasher).
        let mut hasher = fnv::FnvHasher::default();
        let mut feed = |s: &str| {
            hasher.write(s.as_bytes());
            hasher.write_u8(0);
        };
        feed("plan/v2");
        for group in &self.groups {
            feed(&group.id);
            feed(group.capability.title());
            for p in &group.permissions {
                feed(p.as_str());
            }
        }
        for api in &self.apis {
            feed(&api.service);
        }
        feed(self.bucket.as_ref().map_or("", |b| b.as_str()));
        feed(self.service_account.as_ref().map_or("", |s| s.as_str()));
        feed(if self.options.gcs_mounts {
            "gcs-mounts"
        } else {
            "no-gcs-mounts"
        });
        format!("{:016x}", hasher.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> ProjectId {
        ProjectId::parse("my-project").unwrap()
    }

    fn custom(n: usize) -> Vec<Permission> {
        (0..n)
            .map(|i| Permission::parse(&format!("svc.things.verb{i}")).unwrap())
            .collect()
    }

    #[test]
    fn default_plan_is_sky_check_parity() {
        let plan = Plan::build(project(), &PlanInput::default());
        // What sky check tests for compute and storage, exactly.
        let parity: BTreeSet<String> = plan
            .groups
            .iter()
            .filter(|g| g.capability != Capability::FirstLaunch)
            .flat_map(|g| g.permissions.iter().map(|p| p.to_string()))
            .collect();
        assert_eq!(parity.len(), 25 + 2 + 2 + 2);
        assert!(parity.contains("compute.firewalls.create"));
        assert!(!parity.contains("iam.serviceAccounts.actAs"));
        // The first launch's five extra names ride in the same batch.
        let names: Vec<String> = plan.permissions().iter().map(|p| p.to_string()).collect();
        assert_eq!(names.len(), 31 + 5);
        for extra in [
            "iam.serviceAccounts.actAs",
            "iam.serviceAccounts.create",
            "resourcemanager.projects.setIamPolicy",
            "compute.networks.create",
            "compute.firewalls.list",
        ] {
            assert!(names.contains(&extra.to_string()), "{extra}");
        }
        assert_eq!(plan.batches().len(), 1);
        let apis: Vec<&str> = plan.apis.iter().map(|a| a.service.as_str()).collect();
        assert_eq!(
            apis,
            [
                "compute.googleapis.com",
                "cloudresourcemanager.googleapis.com",
                "iam.googleapis.com",
                "storage.googleapis.com",
            ]
        );
        assert_eq!(
            plan.first_launch_account.as_ref().unwrap().as_str(),
            "skypilot-v1@my-project.iam.gserviceaccount.com"
        );
        // Permissions, the service list, billing, and four first-launch look-ups.
        assert_eq!(plan.request_count(), 1 + 1 + 1 + 4);
    }

    #[test]
    fn batching_250_is_3_requests() {
        let input = PlanInput {
            custom: custom(250),
            skip_skypilot: true,
            ..Default::default()
        };
        let plan = Plan::build(project(), &input);
        let sizes: Vec<usize> = plan.batches().iter().map(Vec::len).collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert!(plan.apis.is_empty());
        let thousand = Plan::build(
            project(),
            &PlanInput {
                custom: custom(1000),
                skip_skypilot: true,
                ..Default::default()
            },
        );
        assert_eq!(thousand.request_count(), 10);
    }

    #[test]
    fn fingerprints_follow_options() {
        let base = Plan::build(project(), &PlanInput::default());
        let again = Plan::build(project(), &PlanInput::default());
        assert_eq!(base.fingerprint, again.fingerprint);
        assert_eq!(base.fingerprint.len(), 16);
        let other_project = Plan::build(
            ProjectId::parse("other-proj").unwrap(),
            &PlanInput::default(),
        );
        assert_eq!(
            base.fingerprint, other_project.fingerprint,
            "the project is its own key part"
        );
        let mut seen = BTreeSet::from([base.fingerprint.clone()]);
        let variants = [
            Options {
                custom_vpc: true,
                ..Options::default()
            },
            Options {
                tpus: true,
                ..Options::default()
            },
            Options {
                reservations: true,
                ..Options::default()
            },
            Options {
                gcs_mounts: true,
                ..Options::default()
            },
            Options {
                mode: super::super::catalog::Mode::SkyPilotDocs,
                ..Options::default()
            },
            Options {
                open_ports: true,
                ..Options::default()
            },
            Options {
                open_ports: true,
                custom_vpc: true,
                ..Options::default()
            },
            Options {
                clone_disk: true,
                ..Options::default()
            },
            Options {
                custom_image: true,
                ..Options::default()
            },
        ];
        for options in variants {
            let plan = Plan::build(
                project(),
                &PlanInput {
                    options,
                    ..Default::default()
                },
            );
            assert!(seen.insert(plan.fingerprint), "{options:?}");
        }
        let with_bucket = Plan::build(
            project(),
            &PlanInput {
                bucket: Some(BucketName::parse("b-1x").unwrap()),
                ..Default::default()
            },
        );
        assert!(seen.insert(with_bucket.fingerprint));
        let with_account = Plan::build(
            project(),
            &PlanInput {
                service_account: Some(ServiceAccountEmail::skypilot_default(&project())),
                ..Default::default()
            },
        );
        assert!(seen.insert(with_account.fingerprint));
        let custom_only = |names: &[&str]| {
            Plan::build(
                project(),
                &PlanInput {
                    custom: names
                        .iter()
                        .map(|n| Permission::parse(n).unwrap())
                        .collect(),
                    skip_skypilot: true,
                    ..Default::default()
                },
            )
            .fingerprint
        };
        assert!(seen.insert(custom_only(&["compute.instances.get"])));
        assert!(seen.insert(custom_only(&["compute.instances.list"])));
    }

    /// The cache key must change with *which* bucket and service account are named, not only
    /// with whether one is: otherwise bucket B is answered with bucket A's cached result.
    #[test]
    fn fingerprint_covers_the_bucket_and_service_account_names() {
        let with = |bucket: Option<&str>, account: Option<&str>| {
            Plan::build(
                project(),
                &PlanInput {
                    bucket: bucket.map(|b| BucketName::parse(b).unwrap()),
                    service_account: account.map(|a| ServiceAccountEmail::parse(a).unwrap()),
                    ..Default::default()
                },
            )
        };
        let a = with(
            Some("bucket-a"),
            Some("one@my-project.iam.gserviceaccount.com"),
        );
        let again = with(
            Some("bucket-a"),
            Some("one@my-project.iam.gserviceaccount.com"),
        );
        assert_eq!(a.fingerprint, again.fingerprint);
        // Same groups and permissions, only the names differ.
        let other_bucket = with(
            Some("bucket-b"),
            Some("one@my-project.iam.gserviceaccount.com"),
        );
        assert_eq!(a.permissions(), other_bucket.permissions());
        assert_ne!(a.fingerprint, other_bucket.fingerprint, "bucket name");
        let other_account = with(
            Some("bucket-a"),
            Some("two@my-project.iam.gserviceaccount.com"),
        );
        assert_eq!(a.permissions(), other_account.permissions());
        assert_ne!(
            a.fingerprint, other_account.fingerprint,
            "service-account email"
        );
        assert_ne!(other_bucket.fingerprint, other_account.fingerprint);
    }

    #[test]
    fn probes_only_when_given_and_relevant() {
        let docs = Options {
            mode: super::super::catalog::Mode::SkyPilotDocs,
            ..Options::default()
        };
        let input = PlanInput {
            options: docs,
            bucket: Some(BucketName::parse("jobs-bucket").unwrap()),
            service_account: Some(ServiceAccountEmail::skypilot_default(&project())),
            ..Default::default()
        };
        let plan = Plan::build(project(), &input);
        assert_eq!(plan.bucket_permissions().len(), 6);
        assert_eq!(plan.service_account_permissions().len(), 1);
        // The named account is skypilot-v1: one actAs probe serves the first launch too.
        assert_eq!(plan.request_count(), 1 + 1 + 1 + 4 + 2 - 1);
        // A named bucket or account brings its own group, in either mode.
        let parity = Plan::build(
            project(),
            &PlanInput {
                options: Options::default(),
                ..input
            },
        );
        assert_eq!(parity.bucket_permissions().len(), 6);
        assert_eq!(parity.service_account_permissions().len(), 1);
        assert!(parity.groups.iter().any(|g| g.id == "bucket_access"));
        let none = Plan::build(project(), &PlanInput::default());
        assert!(
            none.bucket_permissions().is_empty() && none.service_account_permissions().is_empty()
        );
    }

    #[test]
    fn capabilities_and_probe_targets() {
        use super::super::catalog::Capability;
        let default = Plan::build(project(), &PlanInput::default());
        assert_eq!(
            default.capabilities(),
            [
                Capability::Compute,
                Capability::Storage,
                Capability::FirstLaunch
            ]
        );
        assert_eq!(default.probe_target(Probe::Bucket), None);
        assert_eq!(default.probe_target(Probe::ServiceAccount), None);
        let custom_only = Plan::build(
            project(),
            &PlanInput {
                custom: custom(3),
                skip_skypilot: true,
                ..Default::default()
            },
        );
        assert_eq!(custom_only.capabilities(), [Capability::Custom]);
        assert_eq!(custom_only.request_count(), 1);
        let named = Plan::build(
            project(),
            &PlanInput {
                custom: custom(1),
                bucket: Some(BucketName::parse("jobs-bucket").unwrap()),
                service_account: Some(ServiceAccountEmail::skypilot_default(&project())),
                ..Default::default()
            },
        );
        assert_eq!(
            named.capabilities(),
            [
                Capability::Compute,
                Capability::Storage,
                Capability::FirstLaunch,
                Capability::Custom
            ]
        );
        assert_eq!(
            named.probe_target(Probe::Bucket).as_deref(),
            Some("bucket jobs-bucket")
        );
        assert_eq!(
            named.probe_target(Probe::ServiceAccount).as_deref(),
            Some("service account skypilot-v1@my-project.iam.gserviceaccount.com")
        );
        assert_eq!(
            named
                .service_account_permissions()
                .iter()
                .map(Permission::as_str)
                .collect::<Vec<_>>(),
            [ACT_AS]
        );
        assert_eq!(probe_of("storage.objects.get"), Some(Probe::Bucket));
        assert_eq!(probe_of(ACT_AS), Some(Probe::ServiceAccount));
        assert_eq!(probe_of("storage.buckets.create"), None);
    }

    #[test]
    fn custom_vpc_drops_firewall_pair_in_docs_mode() {
        let options = Options {
            mode: super::super::catalog::Mode::SkyPilotDocs,
            custom_vpc: true,
            ..Options::default()
        };
        let plan = Plan::build(
            project(),
            &PlanInput {
                options,
                ..Default::default()
            },
        );
        assert!(!plan
            .permissions()
            .iter()
            .any(|p| p.as_str() == "compute.firewalls.create"));
        let ports = Options {
            open_ports: true,
            ..options
        };
        let plan = Plan::build(
            project(),
            &PlanInput {
                options: ports,
                ..Default::default()
            },
        );
        assert!(plan
            .permissions()
            .iter()
            .any(|p| p.as_str() == "compute.firewalls.create"));
    }
}
