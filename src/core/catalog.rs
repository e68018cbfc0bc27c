//! SkyPilot's GCP permission groups, each with its public source, and the options that mirror
//! SkyPilot's `~/.sky/config.yaml` and launch flags.
//!
//! Two public sources disagree: what `sky check gcp` tests (`sky/provision/gcp/constants.py`)
//! and what SkyPilot's docs list (`docs/.../cloud-permissions/gcp.rst`). Both are kept, and
//! [`Mode`] picks the base; [`required_by`] says which source requires a permission.

use serde::{Deserialize, Serialize};

/// What a group of permissions makes possible; each capability gets its own verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Launching VMs (and the managed-jobs controller VM).
    Compute,
    /// Cloud Storage buckets (file mounts, the managed-jobs bucket).
    Storage,
    /// What the first launch in a project needs beyond `sky check` (its own verdict, not part
    /// of the parity verdicts).
    FirstLaunch,
    /// A user's own permission list.
    Custom,
}

impl Capability {
    /// The heading shown for this capability.
    pub fn title(self) -> &'static str {
        match self {
            Capability::Compute => "Compute",
            Capability::Storage => "Storage",
            Capability::FirstLaunch => "First launch",
            Capability::Custom => "Custom",
        }
    }
}

/// Which public source a group comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// What `sky check gcp` tests.
    SkyCheck,
    /// SkyPilot's GCP permission docs.
    SkyDocs,
    /// Named in a SkyPilot issue (the docs give no list).
    SkyIssue,
    /// Pasted by the user.
    User,
}

/// One group of permissions with its provenance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Group {
    /// Stable identifier (also in reports and the plan fingerprint).
    pub id: &'static str,
    /// What the group is for, in plain words.
    pub title: &'static str,
    /// The verdict it counts towards.
    pub capability: Capability,
    /// Which source lists it.
    pub source: Source,
    /// File and section of the public source.
    pub citation: &'static str,
    /// Whether SkyPilot calls it optional (needed only for a feature).
    pub optional: bool,
    /// The permissions.
    pub permissions: &'static [&'static str],
}

const CONSTANTS_PY: &str = "skypilot-org/skypilot sky/provision/gcp/constants.py @ 00526108";
const DOCS: &str =
    "skypilot-org/skypilot docs/source/cloud-setup/cloud-permissions/gcp.rst @ f6c5f3e7";

/// `sky check gcp` COMPUTE: `VM_MINIMAL_PERMISSIONS`.
pub const CHECK_COMPUTE_BASE: Group = Group {
    id: "check_compute_base",
    title: "sky check: VM launch (VM_MINIMAL_PERMISSIONS)",
    capability: Capability::Compute,
    source: Source::SkyCheck,
    citation: CONSTANTS_PY,
    optional: false,
    permissions: &[
        "compute.disks.create",
        "compute.disks.list",
        "compute.firewalls.get",
        "compute.instances.create",
        "compute.instances.delete",
        "compute.instances.get",
        "compute.instances.list",
        "compute.instances.setLabels",
        "compute.instances.setServiceAccount",
        "compute.instances.start",
        "compute.instances.stop",
        "compute.networks.get",
        "compute.networks.list",
        "compute.networks.getEffectiveFirewalls",
        "compute.globalOperations.get",
        "compute.subnetworks.use",
        "compute.subnetworks.list",
        "compute.subnetworks.useExternalIp",
        "compute.projects.get",
        "compute.zoneOperations.get",
        "iam.roles.get",
        "iam.serviceAccounts.get",
        "serviceusage.services.use",
        "resourcemanager.projects.get",
        "resourcemanager.projects.getIamPolicy",
    ],
};

/// `sky check gcp` COMPUTE, default VPC only: `FIREWALL_PERMISSIONS`.
pub const CHECK_COMPUTE_FIREWALL: Group = Group {
    id: "check_compute_firewall",
    title: "sky check: firewall rules for the default VPC (FIREWALL_PERMISSIONS)",
    capability: Capability::Compute,
    source: Source::SkyCheck,
    citation: CONSTANTS_PY,
    optional: false,
    permissions: &["compute.firewalls.create", "compute.firewalls.delete"],
};

/// `sky check gcp` COMPUTE with reservations configured: `RESERVATION_PERMISSIONS`.
pub const CHECK_COMPUTE_RESERVATIONS: Group = Group {
    id: "check_compute_reservations",
    title: "sky check: reservations (RESERVATION_PERMISSIONS)",
    capability: Capability::Compute,
    source: Source::SkyCheck,
    citation: CONSTANTS_PY,
    optional: true,
    permissions: &["compute.reservations.list"],
};

/// `sky check gcp` COMPUTE and STORAGE both: `GCP_MINIMAL_PERMISSIONS`.
pub const CHECK_COMMON_SERVICEUSAGE: Group = Group {
    id: "check_common_serviceusage",
    title: "sky check: enabling APIs (GCP_MINIMAL_PERMISSIONS)",
    capability: Capability::Compute,
    source: Source::SkyCheck,
    citation: CONSTANTS_PY,
    optional: false,
    permissions: &["serviceusage.services.enable", "serviceusage.services.list"],
};

/// `sky check gcp` appends `GCP_MINIMAL_PERMISSIONS` to the STORAGE check as well.
pub const CHECK_STORAGE_SERVICEUSAGE: Group = Group {
    id: "check_storage_serviceusage",
    title: "sky check: enabling the storage API (GCP_MINIMAL_PERMISSIONS)",
    capability: Capability::Storage,
    ..CHECK_COMMON_SERVICEUSAGE
};

/// `sky check gcp` STORAGE: `STORAGE_MINIMAL_PERMISSIONS`.
pub const CHECK_STORAGE: Group = Group {
    id: "check_storage",
    title: "sky check: buckets (STORAGE_MINIMAL_PERMISSIONS)",
    capability: Capability::Storage,
    source: Source::SkyCheck,
    citation: CONSTANTS_PY,
    optional: false,
    permissions: &["storage.buckets.create", "storage.buckets.delete"],
};

/// Docs step 3: the `minimal-skypilot-role`.
pub const DOCS_MINIMAL_BASE: Group = Group {
    id: "docs_minimal_base",
    title: "SkyPilot docs: minimal role (step 3)",
    capability: Capability::Compute,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: false,
    permissions: &[
        "compute.disks.create",
        "compute.disks.list",
        "compute.firewalls.create",
        "compute.firewalls.delete",
        "compute.firewalls.get",
        "compute.instances.create",
        "compute.instances.delete",
        "compute.instances.get",
        "compute.instances.list",
        "compute.instances.setLabels",
        "compute.instances.setMetadata",
        "compute.instances.setServiceAccount",
        "compute.instances.start",
        "compute.instances.stop",
        "compute.networks.get",
        "compute.networks.list",
        "compute.networks.getEffectiveFirewalls",
        "compute.globalOperations.get",
        "compute.subnetworks.use",
        "compute.subnetworks.list",
        "compute.subnetworks.useExternalIp",
        "compute.projects.get",
        "compute.zoneOperations.get",
        "iam.roles.get",
        "iam.serviceAccounts.actAs",
        "iam.serviceAccounts.get",
        "serviceusage.services.enable",
        "serviceusage.services.list",
        "serviceusage.services.use",
        "resourcemanager.projects.get",
        "resourcemanager.projects.getIamPolicy",
    ],
};

/// Docs step 4: GCS buckets.
pub const DOCS_GCS_STORAGE: Group = Group {
    id: "docs_gcs_storage",
    title: "SkyPilot docs: GCS buckets (step 4)",
    capability: Capability::Storage,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &[
        "storage.buckets.create",
        "storage.buckets.get",
        "storage.buckets.delete",
        "storage.objects.create",
        "storage.objects.update",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.list",
    ],
};

/// Docs step 5: TPU VMs.
pub const DOCS_TPU: Group = Group {
    id: "docs_tpu",
    title: "SkyPilot docs: TPU VMs (step 5)",
    capability: Capability::Compute,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &[
        "tpu.nodes.create",
        "tpu.nodes.delete",
        "tpu.nodes.list",
        "tpu.nodes.get",
        "tpu.nodes.update",
        "tpu.operations.get",
    ],
};

/// Docs step 6: `--clone-disk-from`.
pub const DOCS_CLONE_DISK: Group = Group {
    id: "docs_clone_disk",
    title: "SkyPilot docs: clone disk, --clone-disk-from (step 6)",
    capability: Capability::Compute,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &[
        "compute.disks.useReadOnly",
        "compute.images.create",
        "compute.images.get",
        "compute.images.delete",
    ],
};

/// Docs step 7: opening ports.
pub const DOCS_OPEN_PORTS: Group = Group {
    id: "docs_open_ports",
    title: "SkyPilot docs: open ports, resources.ports (step 7)",
    capability: Capability::Compute,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &[
        "compute.instances.setTags",
        "compute.firewalls.list",
        "compute.firewalls.update",
    ],
};

/// Docs step 8: `--image-id`.
pub const DOCS_CUSTOM_IMAGE: Group = Group {
    id: "docs_custom_image",
    title: "SkyPilot docs: custom image, --image-id (step 8)",
    capability: Capability::Compute,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &[
        "compute.disks.get",
        "compute.disks.resize",
        "compute.images.get",
        "compute.images.useReadOnly",
    ],
};

/// Docs step 9: reservations.
pub const DOCS_RESERVATIONS: Group = Group {
    id: "docs_reservations",
    title: "SkyPilot docs: reservations (step 9)",
    capability: Capability::Compute,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &["compute.reservations.list"],
};

/// The firewall pair that the docs say a custom VPC still needs when ports are opened.
pub const DOCS_FIREWALL_FOR_PORTS: Group = Group {
    id: "docs_firewall_for_ports",
    title: "SkyPilot docs: firewall rules for opened ports on a custom VPC",
    capability: Capability::Compute,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &["compute.firewalls.create", "compute.firewalls.delete"],
};

/// What the first launch in a project may need beyond `sky check`: creating `skypilot-v1` and
/// binding its roles (`_configure_iam_role`), attaching it to VMs (`actAs`, which sky check
/// skips), and creating `skypilot-vpc` with its firewall rules when no VPC exists
/// (`get_usable_vpc_and_subnet` → `_create_vpcnet`, `_list_firewall_rules`). Which of these are
/// really needed is decided from what the project already has (see `verdict::first_launch`).
pub const FIRST_LAUNCH_ADMIN: Group = Group {
    id: "first_launch",
    title: "First launch: the skypilot-v1 service account, acting as it, and a usable VPC",
    capability: Capability::FirstLaunch,
    source: Source::SkyIssue,
    citation: "skypilot-org/skypilot sky/provision/gcp/config.py @ 00526108 (_configure_iam_role, get_usable_vpc_and_subnet); constants.py (actAs skipped by sky check); issues #7113, #1755",
    optional: true,
    permissions: &[
        "iam.serviceAccounts.create",
        "iam.serviceAccounts.get",
        "resourcemanager.projects.getIamPolicy",
        "resourcemanager.projects.setIamPolicy",
        "iam.serviceAccounts.actAs",
        "compute.networks.create",
        "compute.firewalls.list",
    ],
};

/// Object access on the bucket the user named (SkyPilot's `jobs.bucket` or a file mount):
/// tested on the bucket itself, since owners usually get these per bucket (PR #5025).
pub const BUCKET_ACCESS: Group = Group {
    id: "bucket_access",
    title: "Object access on the named bucket (tested on the bucket)",
    capability: Capability::Storage,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &[
        "storage.buckets.get",
        "storage.objects.create",
        "storage.objects.delete",
        "storage.objects.get",
        "storage.objects.list",
        "storage.objects.update",
    ],
};

/// `actAs` on the named service account (docs: may be granted there instead of the project).
pub const ACT_AS_SERVICE_ACCOUNT: Group = Group {
    id: "act_as_service_account",
    title: "Act as the named service account (tested on the account)",
    capability: Capability::Compute,
    source: Source::SkyDocs,
    citation: DOCS,
    optional: true,
    permissions: &["iam.serviceAccounts.actAs"],
};

/// Every catalogue group.
pub const ALL_GROUPS: [&Group; 17] = [
    &CHECK_COMPUTE_BASE,
    &CHECK_STORAGE_SERVICEUSAGE,
    &CHECK_COMPUTE_FIREWALL,
    &CHECK_COMPUTE_RESERVATIONS,
    &CHECK_COMMON_SERVICEUSAGE,
    &CHECK_STORAGE,
    &DOCS_MINIMAL_BASE,
    &DOCS_GCS_STORAGE,
    &DOCS_TPU,
    &DOCS_CLONE_DISK,
    &DOCS_OPEN_PORTS,
    &DOCS_CUSTOM_IMAGE,
    &DOCS_RESERVATIONS,
    &DOCS_FIREWALL_FOR_PORTS,
    &FIRST_LAUNCH_ADMIN,
    &BUCKET_ACCESS,
    &ACT_AS_SERVICE_ACCOUNT,
];

/// Which base list the compute and storage verdicts use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Exactly what `sky check gcp` tests for COMPUTE and STORAGE.
    #[default]
    SkyCheckParity,
    /// The documented minimal role and GCS list.
    SkyPilotDocs,
}

/// How the user runs SkyPilot; mirrors `~/.sky/config.yaml` keys and launch flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Options {
    /// Which base list to test.
    pub mode: Mode,
    /// `gcp.vpc_name` is set: the firewall pair is not needed (unless ports are opened).
    pub custom_vpc: bool,
    /// `gcp.prioritize_reservations` / `gcp.specific_reservations`.
    pub reservations: bool,
    /// `resources.ports` in a task.
    pub open_ports: bool,
    /// TPUs are used.
    pub tpus: bool,
    /// `sky launch --clone-disk-from`.
    pub clone_disk: bool,
    /// `sky launch --image-id`.
    pub custom_image: bool,
    /// Tasks mount or copy from GCS (`storage_mounts` / `gs://` file mounts): their files must go
    /// through GCS, so managed jobs need storage too.
    pub gcs_mounts: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            mode: Mode::SkyCheckParity,
            custom_vpc: false,
            reservations: false,
            open_ports: false,
            tpus: false,
            clone_disk: false,
            custom_image: false,
            gcs_mounts: false,
        }
    }
}

impl Options {
    /// The catalogue groups these options require, in a stable order.
    pub fn groups(&self) -> Vec<&'static Group> {
        let mut groups: Vec<&'static Group> = Vec::new();
        match self.mode {
            Mode::SkyCheckParity => {
                groups.push(&CHECK_COMPUTE_BASE);
                if !self.custom_vpc {
                    groups.push(&CHECK_COMPUTE_FIREWALL);
                }
                groups.push(&CHECK_COMMON_SERVICEUSAGE);
                if self.reservations {
                    groups.push(&CHECK_COMPUTE_RESERVATIONS);
                }
                groups.push(&CHECK_STORAGE);
                groups.push(&CHECK_STORAGE_SERVICEUSAGE);
            }
            Mode::SkyPilotDocs => {
                groups.push(&DOCS_MINIMAL_BASE);
                if self.reservations {
                    groups.push(&DOCS_RESERVATIONS);
                }
                groups.push(&DOCS_GCS_STORAGE);
            }
        }
        if self.open_ports {
            groups.push(&DOCS_OPEN_PORTS);
            if self.custom_vpc {
                groups.push(&DOCS_FIREWALL_FOR_PORTS);
            }
        }
        if self.tpus {
            groups.push(&DOCS_TPU);
        }
        if self.clone_disk {
            groups.push(&DOCS_CLONE_DISK);
        }
        if self.custom_image {
            groups.push(&DOCS_CUSTOM_IMAGE);
        }
        groups
    }

    /// The documented minimal base drops the firewall pair for a custom VPC (docs note).
    pub fn excluded_from_base(&self) -> &'static [&'static str] {
        if self.mode == Mode::SkyPilotDocs && self.custom_vpc {
            &["compute.firewalls.create", "compute.firewalls.delete"]
        } else {
            &[]
        }
    }

    /// APIs each capability needs enabled: `(service, capability)`.
    pub fn apis(&self) -> Vec<(&'static str, Capability)> {
        let mut apis = vec![
            ("compute.googleapis.com", Capability::Compute),
            ("cloudresourcemanager.googleapis.com", Capability::Compute),
            ("iam.googleapis.com", Capability::Compute),
            ("storage.googleapis.com", Capability::Storage),
        ];
        if self.tpus {
            apis.push(("tpu.googleapis.com", Capability::Compute));
        }
        apis
    }
}

/// Which public sources require `permission` in their base lists: `(sky check, SkyPilot docs)`.
pub fn required_by(permission: &str) -> (bool, bool) {
    let in_groups = |source: Source| {
        ALL_GROUPS
            .iter()
            .filter(|g| g.source == source && !g.optional)
            .any(|g| g.permissions.contains(&permission))
    };
    let docs_storage = DOCS_GCS_STORAGE.permissions.contains(&permission);
    (
        in_groups(Source::SkyCheck),
        in_groups(Source::SkyDocs) || docs_storage,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::permission::Permission;
    use std::collections::BTreeSet;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_name_is_valid_and_unique_within_its_group() {
        for g in ALL_GROUPS {
            let distinct = set(g.permissions);
            assert_eq!(distinct.len(), g.permissions.len(), "{}", g.id);
            for p in g.permissions {
                Permission::parse(p).unwrap_or_else(|e| panic!("{}: {p} {e}", g.id));
            }
        }
    }

    // The expected sizes below are counted from the public lists (see each group's citation).
    #[test]
    fn group_sizes_match_their_sources() {
        assert_eq!(CHECK_COMPUTE_BASE.permissions.len(), 25);
        assert_eq!(DOCS_MINIMAL_BASE.permissions.len(), 31);
        assert_eq!(DOCS_GCS_STORAGE.permissions.len(), 8);
        assert_eq!(DOCS_TPU.permissions.len(), 6);
        assert_eq!(DOCS_CLONE_DISK.permissions.len(), 4);
        assert_eq!(DOCS_OPEN_PORTS.permissions.len(), 3);
        assert_eq!(DOCS_CUSTOM_IMAGE.permissions.len(), 4);
        assert_eq!(
            set(DOCS_RESERVATIONS.permissions),
            set(&["compute.reservations.list"])
        );
        assert_eq!(
            set(CHECK_STORAGE.permissions),
            set(&["storage.buckets.create", "storage.buckets.delete"])
        );
    }

    #[test]
    fn docs_and_sky_check_differ_exactly_as_documented() {
        // sky check base + firewall + serviceusage pair == docs base minus setMetadata and actAs.
        let check: BTreeSet<_> = [
            &CHECK_COMPUTE_BASE,
            &CHECK_COMPUTE_FIREWALL,
            &CHECK_COMMON_SERVICEUSAGE,
        ]
        .iter()
        .flat_map(|g| g.permissions.iter().map(|s| s.to_string()))
        .collect();
        let docs = set(DOCS_MINIMAL_BASE.permissions);
        let only_docs: Vec<_> = docs.difference(&check).cloned().collect();
        assert_eq!(
            only_docs,
            ["compute.instances.setMetadata", "iam.serviceAccounts.actAs"]
        );
        assert!(check.is_subset(&docs));
        assert_eq!(required_by("iam.serviceAccounts.actAs"), (false, true));
        assert_eq!(required_by("compute.firewalls.create"), (true, true));
        assert_eq!(required_by("storage.objects.get"), (false, true));
        assert_eq!(required_by("tpu.nodes.create"), (false, false));
    }

    /// The small groups, name by name: these lists decide verdicts and must not drift even
    /// where `tests/catalog_source.rs` (which needs ../shared) does not run.
    #[test]
    fn small_groups_have_exactly_their_names() {
        let cases: [(&Group, &[&str]); 10] = [
            (
                &CHECK_COMPUTE_FIREWALL,
                &["compute.firewalls.create", "compute.firewalls.delete"],
            ),
            (&CHECK_COMPUTE_RESERVATIONS, &["compute.reservations.list"]),
            (
                &CHECK_COMMON_SERVICEUSAGE,
                &["serviceusage.services.enable", "serviceusage.services.list"],
            ),
            (
                &CHECK_STORAGE_SERVICEUSAGE,
                &["serviceusage.services.enable", "serviceusage.services.list"],
            ),
            (
                &DOCS_FIREWALL_FOR_PORTS,
                &["compute.firewalls.create", "compute.firewalls.delete"],
            ),
            (
                &FIRST_LAUNCH_ADMIN,
                &[
                    "iam.serviceAccounts.create",
                    "iam.serviceAccounts.get",
                    "resourcemanager.projects.getIamPolicy",
                    "resourcemanager.projects.setIamPolicy",
                    "iam.serviceAccounts.actAs",
                    "compute.networks.create",
                    "compute.firewalls.list",
                ],
            ),
            (
                &DOCS_OPEN_PORTS,
                &[
                    "compute.instances.setTags",
                    "compute.firewalls.list",
                    "compute.firewalls.update",
                ],
            ),
            (
                &BUCKET_ACCESS,
                &[
                    "storage.buckets.get",
                    "storage.objects.create",
                    "storage.objects.delete",
                    "storage.objects.get",
                    "storage.objects.list",
                    "storage.objects.update",
                ],
            ),
            (&ACT_AS_SERVICE_ACCOUNT, &["iam.serviceAccounts.actAs"]),
            (&DOCS_RESERVATIONS, &["compute.reservations.list"]),
        ];
        for (group, names) in cases {
            assert_eq!(group.permissions, names, "{}", group.id);
        }
        assert_eq!(
            CHECK_COMPUTE_RESERVATIONS.permissions,
            ["compute.reservations.list"]
        );
        assert_eq!(CHECK_STORAGE_SERVICEUSAGE.capability, Capability::Storage);
        assert_eq!(CHECK_COMMON_SERVICEUSAGE.capability, Capability::Compute);
        // Ids are unique: they key reports and the plan fingerprint.
        let ids: BTreeSet<&str> = ALL_GROUPS.iter().map(|g| g.id).collect();
        assert_eq!(ids.len(), ALL_GROUPS.len());
        // Titles too: they are what the user reads to tell two groups apart.
        let titles: BTreeSet<&str> = ALL_GROUPS.iter().map(|g| g.title).collect();
        assert_eq!(titles.len(), ALL_GROUPS.len());
        assert_eq!(
            CHECK_STORAGE_SERVICEUSAGE.title,
            "sky check: enabling the storage API (GCP_MINIMAL_PERMISSIONS)"
        );
    }

    #[test]
    fn capability_titles() {
        assert_eq!(Capability::Compute.title(), "Compute");
        assert_eq!(Capability::Storage.title(), "Storage");
        assert_eq!(Capability::Custom.title(), "Custom");
    }

    #[test]
    fn options_pick_groups() {
        let ids = |o: Options| o.groups().iter().map(|g| g.id).collect::<Vec<_>>();
        let default = Options::default();
        assert_eq!(
            ids(default),
            [
                "check_compute_base",
                "check_compute_firewall",
                "check_common_serviceusage",
                "check_storage",
                "check_storage_serviceusage"
            ]
        );
        let vpc = Options {
            custom_vpc: true,
            ..default
        };
        assert!(!ids(vpc).contains(&"check_compute_firewall"));
        let vpc_ports = Options {
            custom_vpc: true,
            open_ports: true,
            ..default
        };
        assert!(ids(vpc_ports).contains(&"docs_firewall_for_ports"));
        let res = Options {
            reservations: true,
            ..default
        };
        assert!(ids(res).contains(&"check_compute_reservations"));
        let tpu = Options {
            tpus: true,
            ..default
        };
        assert!(ids(tpu).contains(&"docs_tpu"));
        assert!(tpu.apis().iter().any(|(s, _)| *s == "tpu.googleapis.com"));
        let docs = Options {
            mode: Mode::SkyPilotDocs,
            custom_vpc: true,
            ..default
        };
        assert_eq!(ids(docs), ["docs_minimal_base", "docs_gcs_storage"]);
        assert_eq!(docs.excluded_from_base().len(), 2);
    }

    #[test]
    fn every_option_adds_exactly_its_groups_and_apis() {
        let ids = |o: Options| o.groups().iter().map(|g| g.id).collect::<Vec<_>>();
        let parity = Options::default();
        let docs = Options {
            mode: Mode::SkyPilotDocs,
            ..parity
        };
        assert_eq!(ids(docs), ["docs_minimal_base", "docs_gcs_storage"]);
        assert_eq!(
            ids(Options {
                reservations: true,
                ..docs
            }),
            ["docs_minimal_base", "docs_reservations", "docs_gcs_storage"]
        );
        assert_eq!(
            ids(Options {
                reservations: true,
                ..parity
            }),
            [
                "check_compute_base",
                "check_compute_firewall",
                "check_common_serviceusage",
                "check_compute_reservations",
                "check_storage",
                "check_storage_serviceusage"
            ]
        );
        let extras = |o: Options| ids(o)[ids(parity).len()..].to_vec();
        let all = Options {
            open_ports: true,
            tpus: true,
            clone_disk: true,
            custom_image: true,
            gcs_mounts: true,
            ..parity
        };
        assert_eq!(
            extras(all),
            [
                "docs_open_ports",
                "docs_tpu",
                "docs_clone_disk",
                "docs_custom_image"
            ]
        );
        // Open ports on the default VPC: the firewall pair is already in the base.
        assert_eq!(
            extras(Options {
                open_ports: true,
                ..parity
            }),
            ["docs_open_ports"]
        );
        assert_eq!(
            ids(Options {
                open_ports: true,
                custom_vpc: true,
                ..parity
            }),
            [
                "check_compute_base",
                "check_common_serviceusage",
                "check_storage",
                "check_storage_serviceusage",
                "docs_open_ports",
                "docs_firewall_for_ports"
            ]
        );
        // Only the docs base with a custom VPC drops the firewall pair.
        assert!(parity.excluded_from_base().is_empty());
        assert!(Options {
            custom_vpc: true,
            ..parity
        }
        .excluded_from_base()
        .is_empty());
        assert!(docs.excluded_from_base().is_empty());
        assert_eq!(
            Options {
                custom_vpc: true,
                ..docs
            }
            .excluded_from_base(),
            ["compute.firewalls.create", "compute.firewalls.delete"]
        );
        assert_eq!(
            parity.apis(),
            [
                ("compute.googleapis.com", Capability::Compute),
                ("cloudresourcemanager.googleapis.com", Capability::Compute),
                ("iam.googleapis.com", Capability::Compute),
                ("storage.googleapis.com", Capability::Storage),
            ]
        );
        assert_eq!(
            Options {
                tpus: true,
                ..parity
            }
            .apis()
            .last(),
            Some(&("tpu.googleapis.com", Capability::Compute))
        );
    }

    #[test]
    fn required_by_reads_only_base_lists() {
        // Optional groups do not make a permission required, except the docs' storage list.
        assert_eq!(required_by("compute.reservations.list"), (false, false));
        assert_eq!(required_by("iam.serviceAccounts.create"), (false, false));
        assert_eq!(required_by("storage.buckets.create"), (true, true));
        assert_eq!(required_by("compute.instances.setMetadata"), (false, true));
        assert_eq!(required_by("storage.buckets.get"), (false, true));
        assert_eq!(required_by("no.such.permission"), (false, false));
    }
}
