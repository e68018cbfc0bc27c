//! How to fix what is missing: the roles to grant where, the `gcloud` commands an admin pastes,
//! a custom-role alternative, and the same advice as Markdown.
//!
//! Every value placed into a command is checked against a strict pattern first (project ID,
//! bucket, service-account email, member email, role, permission, API name); anything else is
//! refused with a [`FixError`] rather than written into a shell line.

use super::{suggest, Header, RoleIndex, Suggestion};
use crate::core::names::{BucketName, ProjectId, ServiceAccountEmail};
use crate::core::patterns::{is_api_service, is_plain_email as email};
use crate::core::permission::Permission;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Role ID of the custom role that grants exactly what is missing on the project.
pub const CUSTOM_ROLE_ID: &str = "skypilotPreflightFix";
/// The custom role holding what no predefined role for people grants.
pub const UNCOVERED_ROLE_ID: &str = "skypilotPreflightExtra";

/// Stands for the account when its email is unknown (the token lacked the email scope).
pub const MEMBER_PLACEHOLDER: &str = "user:YOUR_EMAIL";

/// Why advice could not be written: a value failed its pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixError(String);

impl fmt::Display for FixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "No fix commands: {}", self.0)
    }
}

impl std::error::Error for FixError {}

fn refuse(what: &str, value: &str) -> FixError {
    FixError(format!(
        "{what} {value:?} does not look safe to put in a command."
    ))
}

/// Characters a shell never treats specially.
fn shell_safe(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(c, '@' | '%' | '+' | '=' | ':' | ',' | '.' | '/' | '_' | '-')
}

/// `value` as one shell word: as it is when plain, else single-quoted.
pub fn shell_word(value: &str) -> String {
    if !value.is_empty() && value.chars().all(shell_safe) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// `value` when every character is `allowed`, else a refusal naming `what`.
fn only<'a>(what: &str, value: &'a str, allowed: fn(char) -> bool) -> Result<&'a str, FixError> {
    value
        .chars()
        .all(allowed)
        .then_some(value)
        .ok_or_else(|| refuse(what, value))
}

fn check_project(project: &ProjectId) -> Result<&str, FixError> {
    only("Project ID", project.as_str(), |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.' | ':')
    })
}

fn check_bucket(bucket: &BucketName) -> Result<&str, FixError> {
    only("Bucket name", bucket.as_str(), |c| {
        c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
    })
}

fn check_service_account(sa: &ServiceAccountEmail) -> Result<&str, FixError> {
    let s = sa.as_str();
    (email(s) && s.ends_with(".gserviceaccount.com"))
        .then_some(s)
        .ok_or_else(|| refuse("Service account", s))
}

/// `roles/x.y` or `projects/P/roles/x`: letters, digits, `_` and `.` after the prefix.
fn check_role(role: &str) -> Result<&str, FixError> {
    let local = match role.strip_prefix("roles/") {
        Some(local) => local,
        None => role
            .strip_prefix("projects/")
            .and_then(|rest| rest.split_once("/roles/"))
            .filter(|(project, _)| ProjectId::parse(project).is_ok())
            .map_or("", |(_, local)| local),
    };
    let ok = !local.is_empty()
        && local.len() <= 128
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    ok.then_some(role).ok_or_else(|| refuse("Role", role))
}

/// Permission names are validated by [`Permission`]; this also rules out anything a YAML
/// heredoc or a shell could read specially.
fn check_permission(p: &Permission) -> Result<&str, FixError> {
    only("Permission", p.as_str(), |c| {
        c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')
    })
}

/// `compute.googleapis.com` and the like.
fn check_api(api: &str) -> Result<&str, FixError> {
    is_api_service(api)
        .then_some(api)
        .ok_or_else(|| refuse("API name", api))
}

/// A comment line's text: one line, no control characters.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Who receives the roles: the `--member` value (serialized as that string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Member {
    /// A Google account (`user:EMAIL`).
    User(String),
    /// A service account's token (`serviceAccount:EMAIL`).
    ServiceAccount(String),
    /// The email is unknown: commands carry [`MEMBER_PLACEHOLDER`].
    Unknown,
}

impl Member {
    /// The member for the checked identity; the type follows it (`serviceAccount:` for a
    /// service account's token). An email that fails the pattern is refused.
    pub fn from_identity(
        email_address: Option<&str>,
        is_service_account: bool,
    ) -> Result<Member, FixError> {
        let Some(address) = email_address.map(str::trim).filter(|e| !e.is_empty()) else {
            return Ok(Member::Unknown);
        };
        if !email(address) {
            return Err(refuse("Email", address));
        }
        Ok(
            if is_service_account || address.ends_with(".gserviceaccount.com") {
                Member::ServiceAccount(address.to_owned())
            } else {
                Member::User(address.to_owned())
            },
        )
    }

    /// The `--member` value, e.g. `user:ada@example.com`.
    pub fn flag(&self) -> String {
        match self {
            Member::User(e) => format!("user:{e}"),
            Member::ServiceAccount(e) => format!("serviceAccount:{e}"),
            Member::Unknown => MEMBER_PLACEHOLDER.to_owned(),
        }
    }
}

impl Serialize for Member {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.flag())
    }
}

/// Read back from [`Member::flag`] (the advice worker's reply, `core::advice_wire`).
impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Member, D::Error> {
        let flag = String::deserialize(deserializer)?;
        if flag == MEMBER_PLACEHOLDER {
            return Ok(Member::Unknown);
        }
        match flag.split_once(':') {
            Some(("user", e)) => Ok(Member::User(e.to_owned())),
            Some(("serviceAccount", e)) => Ok(Member::ServiceAccount(e.to_owned())),
            _ => Err(serde::de::Error::custom("not a --member value")),
        }
    }
}

/// Where a permission is granted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Target {
    /// The project.
    Project,
    /// One bucket (object access, which owners usually get per bucket).
    Bucket(BucketName),
    /// One service account (`actAs` on SkyPilot's account).
    ServiceAccount(ServiceAccountEmail),
}

/// [`Target`] as it is written (`{"type": "bucket", "name": "b"}`), read back through this plain
/// struct: a derived reader of the tagged enum would buffer its input generically, which costs
/// the page's wasm several KB for the advice worker's replies.
#[derive(Deserialize)]
struct TargetFields {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Target, D::Error> {
        use serde::de::Error;
        let TargetFields { kind, name } = TargetFields::deserialize(deserializer)?;
        let name = || name.clone().ok_or_else(|| D::Error::missing_field("name"));
        match kind.as_str() {
            "project" => Ok(Target::Project),
            "bucket" => BucketName::try_from(name()?)
                .map(Target::Bucket)
                .map_err(D::Error::custom),
            "service_account" => ServiceAccountEmail::try_from(name()?)
                .map(Target::ServiceAccount)
                .map_err(D::Error::custom),
            other => Err(D::Error::unknown_variant(
                other,
                &["project", "bucket", "service_account"],
            )),
        }
    }
}

impl Target {
    /// How the target is named in the advice: `project my-proj`, `bucket gs://b`, …
    pub fn describe(&self, project: &ProjectId) -> String {
        match self {
            Target::Project => format!("project {project}"),
            Target::Bucket(b) => format!("bucket gs://{b}"),
            Target::ServiceAccount(sa) => format!("service account {sa}"),
        }
    }

    /// The `add-iam-policy-binding` command granting `role` to `member` here.
    fn grant(&self, project: &ProjectId, member: &Member, role: &str) -> Result<String, FixError> {
        let member = shell_word(&member.flag());
        let role = shell_word(check_role(role)?);
        Ok(match self {
            Target::Project => format!(
                "gcloud projects add-iam-policy-binding {} --member={member} --role={role}",
                shell_word(check_project(project)?)
            ),
            Target::Bucket(b) => format!(
                "gcloud storage buckets add-iam-policy-binding {} --member={member} --role={role}",
                shell_word(&format!("gs://{}", check_bucket(b)?))
            ),
            Target::ServiceAccount(sa) => format!(
                "gcloud iam service-accounts add-iam-policy-binding {} --member={member} --role={role}",
                shell_word(check_service_account(sa)?)
            ),
        })
    }
}

/// Missing permissions on one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingAt {
    /// Where they are missing.
    pub target: Target,
    /// What is missing there.
    pub permissions: Vec<Permission>,
}

/// A custom role in the project, with the file and commands that create it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomRole {
    /// The role ID, e.g. `skypilotPreflightFix`.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// Its permissions, sorted.
    pub permissions: Vec<Permission>,
    /// The YAML for `gcloud iam roles create … --file`.
    pub yaml: String,
    /// Writes the YAML and creates the role, or updates it when it exists (safe to run twice).
    pub create_or_update: String,
}

impl CustomRole {
    fn new(
        project: &ProjectId,
        id: &str,
        title: &str,
        description: &str,
        permissions: &[Permission],
    ) -> Result<CustomRole, FixError> {
        let p = shell_word(check_project(project)?);
        check_role(&format!("roles/{id}"))?;
        let mut yaml = format!(
            "title: \"{}\"\ndescription: \"{}\"\nstage: GA\nincludedPermissions:\n",
            yaml_text(title),
            yaml_text(description)
        );
        for permission in permissions {
            yaml.push_str(&format!("- {}\n", check_permission(permission)?));
        }
        let file = format!("{id}.yaml");
        // The heredoc's quoted delimiter keeps the shell from expanding anything inside.
        let create_or_update = format!(
            "cat > {file} <<'ROLE_YAML'\n{yaml}ROLE_YAML\n\
             gcloud iam roles describe {id} --project={p} >/dev/null 2>&1 \
             && gcloud iam roles update {id} --project={p} --file={file} --quiet \
             || gcloud iam roles create {id} --project={p} --file={file}"
        );
        Ok(CustomRole {
            id: id.to_owned(),
            title: title.to_owned(),
            description: description.to_owned(),
            permissions: permissions.to_vec(),
            yaml,
            create_or_update,
        })
    }

    /// The role's full name, `projects/P/roles/ID`, for `--role`.
    pub fn name(&self, project: &ProjectId) -> String {
        format!("projects/{project}/roles/{}", self.id)
    }
}

/// Text inside a double-quoted YAML scalar.
fn yaml_text(text: &str) -> String {
    comment(text).replace('\\', "\\\\").replace('"', "\\\"")
}

/// The advice for one target.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetAdvice {
    /// Where the roles are granted.
    pub target: Target,
    /// The roles to grant there, and what none grants.
    pub suggestion: Suggestion,
    /// One `add-iam-policy-binding` command per role (the custom role's last, when needed).
    pub commands: Vec<String>,
}

/// Everything the admin needs: APIs to enable, roles to grant where, and a custom role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixAdvice {
    /// The project.
    pub project: ProjectId,
    /// Who gets the roles (the `--member` value of every command).
    pub member: Member,
    /// `gcloud services enable` commands for APIs that are off.
    pub enable_apis: Vec<String>,
    /// Per target, in order: project, buckets, service accounts.
    pub targets: Vec<TargetAdvice>,
    /// Holds what no predefined role for people grants; part of the script when present.
    pub uncovered_role: Option<CustomRole>,
    /// Instead of the predefined roles: one custom role with exactly the permissions missing on
    /// the project (bucket and service-account grants stay as they are).
    pub alternative: Option<CustomRole>,
    /// Where the role data came from and its date.
    pub data: Header,
}

/// "Role data: Google's predefined roles as of DATE (CREDIT)", shown next to any suggestion.
pub fn data_line(header: &Header) -> String {
    let credit = if header.attribution.is_empty() {
        header.source.as_str()
    } else {
        header.attribution.as_str()
    };
    format!(
        "Role data: Google's predefined roles as of {} ({credit})",
        header.data_date
    )
}

/// Builds the advice for `missing` (by target) and `apis_off`, granting to `member`.
pub fn advise(
    index: &RoleIndex,
    project: &ProjectId,
    member: &Member,
    missing: &[MissingAt],
    apis_off: &[String],
) -> Result<FixAdvice, FixError> {
    let p = shell_word(check_project(project)?);
    let enable_apis = apis_off
        .iter()
        .map(|api| {
            Ok(format!(
                "gcloud services enable {} --project={p}",
                shell_word(check_api(api)?)
            ))
        })
        .collect::<Result<Vec<_>, FixError>>()?;

    // One entry per target, in a fixed order, whatever the input's order or repeats.
    let mut by_target: BTreeMap<&Target, Vec<Permission>> = BTreeMap::new();
    for m in missing {
        by_target
            .entry(&m.target)
            .or_default()
            .extend(m.permissions.iter().cloned());
    }
    let mut uncovered_all: Vec<Permission> = Vec::new();
    let mut targets = Vec::new();
    for (target, mut permissions) in by_target {
        permissions.sort();
        permissions.dedup();
        if permissions.is_empty() {
            continue;
        }
        for permission in &permissions {
            check_permission(permission)?;
        }
        let suggestion = suggest(index, &permissions);
        let mut commands = suggestion
            .roles
            .iter()
            .map(|r| target.grant(project, member, &r.id))
            .collect::<Result<Vec<_>, FixError>>()?;
        if !suggestion.uncovered.is_empty() {
            uncovered_all.extend(suggestion.uncovered.iter().cloned());
            let role = format!("projects/{project}/roles/{UNCOVERED_ROLE_ID}");
            commands.push(target.grant(project, member, &role)?);
        }
        targets.push(TargetAdvice {
            target: target.clone(),
            suggestion,
            commands,
        });
    }
    uncovered_all.sort();
    uncovered_all.dedup();
    let uncovered_role = if uncovered_all.is_empty() {
        None
    } else {
        Some(CustomRole::new(
            project,
            UNCOVERED_ROLE_ID,
            "SkyPilot preflight: not in any predefined role",
            &format!("Permissions gcp-preflight found missing on {project} that no predefined role for people grants."),
            &uncovered_all,
        )?)
    };
    let project_missing: Vec<Permission> = targets
        .iter()
        .filter(|t| t.target == Target::Project)
        .flat_map(|t| {
            t.suggestion
                .roles
                .iter()
                .flat_map(|r| r.covers.iter())
                .chain(t.suggestion.uncovered.iter())
        })
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let alternative = if project_missing.is_empty() {
        None
    } else {
        Some(CustomRole::new(
            project,
            CUSTOM_ROLE_ID,
            "SkyPilot preflight fix",
            &format!(
                "Exactly the permissions gcp-preflight found missing on {project} for SkyPilot."
            ),
            &project_missing,
        )?)
    };
    Ok(FixAdvice {
        project: project.clone(),
        member: member.clone(),
        enable_apis,
        targets,
        uncovered_role,
        alternative,
        data: index.header().clone(),
    })
}

impl FixAdvice {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.enable_apis.is_empty() && self.targets.is_empty()
    }

    /// The whole fix as one script ("Copy all"): APIs, the custom role for uncovered
    /// permissions (if any), then every grant. The custom-role alternative is not in it.
    pub fn script(&self) -> String {
        let mut out = format!(
            "# gcp-preflight: fix for {} — run as an admin of the project.\n# {}.\n",
            comment(&format!("project {}", self.project)),
            comment(&data_line(&self.data))
        );
        if self.member == Member::Unknown {
            out.push_str("# Replace YOUR_EMAIL with the account's email first.\n");
        }
        for line in &self.enable_apis {
            out.push_str(line);
            out.push('\n');
        }
        if let Some(role) = &self.uncovered_role {
            out.push_str("# A custom role for what no predefined role grants:\n");
            out.push_str(&role.create_or_update);
            out.push('\n');
        }
        for t in &self.targets {
            for (role, command) in t.suggestion.roles.iter().zip(&t.commands) {
                out.push_str(&format!(
                    "# {} ({}): {} missing, {} other permissions\n{command}\n",
                    role.id,
                    comment(&role.title),
                    role.covers.len(),
                    role.extra
                ));
            }
            if let Some(command) = t.commands.get(t.suggestion.roles.len()) {
                out.push_str(&format!("# {UNCOVERED_ROLE_ID} (custom)\n{command}\n"));
            }
        }
        out
    }

    /// The advice in Markdown, for the Markdown report.
    pub fn to_markdown(&self) -> String {
        let cell = |text: &str| comment(text).replace('|', "\\|");
        let mut out = format!("### How to fix\n\nGrant to `{}`:\n\n", self.member.flag());
        if !self.targets.is_empty() {
            out.push_str(
                "| Role | Where | Covers | Other permissions it grants |\n|---|---|---|---|\n",
            );
            for t in &self.targets {
                let place = cell(&t.target.describe(&self.project));
                for r in &t.suggestion.roles {
                    let covers: Vec<String> = r.covers.iter().map(|p| format!("`{p}`")).collect();
                    out.push_str(&format!(
                        "| `{}` ({}) | {place} | {} | {} |\n",
                        r.id,
                        cell(&r.title),
                        covers.join(", "),
                        r.extra
                    ));
                }
                if !t.suggestion.uncovered.is_empty() {
                    let names: Vec<String> = t
                        .suggestion
                        .uncovered
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect();
                    out.push_str(&format!(
                        "| `projects/{}/roles/{UNCOVERED_ROLE_ID}` (custom: no predefined role grants these) | {place} | {} | 0 |\n",
                        self.project,
                        names.join(", ")
                    ));
                }
            }
            out.push('\n');
        }
        out.push_str(&format!("```sh\n{}```\n", self.script()));
        if let (Some(alt), Some(grant)) = (&self.alternative, self.alternative_grant()) {
            out.push_str(&format!(
                "\nInstead of the predefined roles on the project: one custom role with exactly the missing permissions (`{}.yaml`), then grant it.\n\n```yaml\n{}```\n\n```sh\n{}\n{grant}\n```\n",
                alt.id, alt.yaml, alt.create_or_update,
            ));
        }
        out.push_str(&format!("\n{}.\n", data_line(&self.data)));
        out
    }

    /// The command granting the custom-role alternative on the project.
    pub fn alternative_grant(&self) -> Option<String> {
        let alt = self.alternative.as_ref()?;
        Target::Project
            .grant(&self.project, &self.member, &alt.name(&self.project))
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> RoleIndex {
        RoleIndex::from_json(include_str!("../../../tests/fixtures/roles-small.json")).unwrap()
    }

    fn perms(names: &[&str]) -> Vec<Permission> {
        names
            .iter()
            .map(|n| Permission::parse(n).unwrap())
            .collect()
    }

    fn project() -> ProjectId {
        ProjectId::parse("seed-project").unwrap()
    }

    fn user() -> Member {
        Member::from_identity(Some("ada@example.com"), false).unwrap()
    }

    #[test]
    fn member_type_follows_the_identity() {
        assert_eq!(user().flag(), "user:ada@example.com");
        let sa = Member::from_identity(Some("ci@p.iam.gserviceaccount.com"), false).unwrap();
        assert_eq!(sa.flag(), "serviceAccount:ci@p.iam.gserviceaccount.com");
        let flagged = Member::from_identity(Some("robot@example.com"), true).unwrap();
        assert_eq!(flagged.flag(), "serviceAccount:robot@example.com");
        assert_eq!(
            Member::from_identity(None, false).unwrap().flag(),
            MEMBER_PLACEHOLDER
        );
        for bad in [
            "a b@example.com",
            "a@example.com;rm -rf /",
            "$(id)@x.com",
            "a@x",
            "'@x.com",
        ] {
            assert!(Member::from_identity(Some(bad), false).is_err(), "{bad}");
        }
    }

    #[test]
    fn grants_go_where_the_permission_is_missing() {
        let missing = [
            MissingAt {
                target: Target::ServiceAccount(
                    ServiceAccountEmail::parse("skypilot-v1@seed-project.iam.gserviceaccount.com")
                        .unwrap(),
                ),
                permissions: perms(&["iam.serviceAccounts.actAs"]),
            },
            MissingAt {
                target: Target::Bucket(BucketName::parse("gs://my-bucket").unwrap()),
                permissions: perms(&["tie.things.get"]),
            },
            MissingAt {
                target: Target::Project,
                permissions: perms(&["compute.firewalls.delete", "compute.firewalls.create"]),
            },
        ];
        let apis = ["compute.googleapis.com".to_string()];
        let advice = advise(&index(), &project(), &user(), &missing, &apis).unwrap();
        assert_eq!(
            advice.enable_apis,
            ["gcloud services enable compute.googleapis.com --project=seed-project"]
        );
        let commands: Vec<&str> = advice
            .targets
            .iter()
            .flat_map(|t| t.commands.iter().map(String::as_str))
            .collect();
        assert_eq!(
            commands,
            [
                "gcloud projects add-iam-policy-binding seed-project --member=user:ada@example.com --role=roles/compute.securityAdmin",
                "gcloud storage buckets add-iam-policy-binding gs://my-bucket --member=user:ada@example.com --role=roles/tie.alpha",
                "gcloud iam service-accounts add-iam-policy-binding skypilot-v1@seed-project.iam.gserviceaccount.com --member=user:ada@example.com --role=roles/iam.serviceAccountUser",
            ]
        );
        assert!(advice.uncovered_role.is_none());
        // The alternative holds only what is missing on the project.
        let alt = advice.alternative.as_ref().unwrap();
        assert_eq!(alt.id, CUSTOM_ROLE_ID);
        assert_eq!(
            alt.yaml,
            "title: \"SkyPilot preflight fix\"\n\
             description: \"Exactly the permissions gcp-preflight found missing on seed-project for SkyPilot.\"\n\
             stage: GA\nincludedPermissions:\n- compute.firewalls.create\n- compute.firewalls.delete\n"
        );
        assert_eq!(
            advice.alternative_grant().unwrap(),
            "gcloud projects add-iam-policy-binding seed-project --member=user:ada@example.com --role=projects/seed-project/roles/skypilotPreflightFix"
        );
        let script = advice.script();
        assert!(script.contains("# roles/compute.securityAdmin (Compute Security Admin): 2 missing, 168 other permissions\n"));
        assert!(script.contains("as of 2026-08-22 (test fixture)"));
        assert!(
            !script.contains(CUSTOM_ROLE_ID),
            "the alternative is not in Copy all"
        );
        let md = advice.to_markdown();
        assert!(md.contains("| `roles/compute.securityAdmin` (Compute Security Admin) | project seed-project | `compute.firewalls.create`, `compute.firewalls.delete` | 168 |"));
        assert!(md.contains("| bucket gs://my-bucket |"));
        assert!(md.contains("```yaml\ntitle: \"SkyPilot preflight fix\""));
        assert!(
            md.ends_with("Role data: Google's predefined roles as of 2026-08-22 (test fixture).\n")
        );
    }

    #[test]
    fn uncovered_permissions_get_a_custom_role_that_survives_a_second_run() {
        let missing = [MissingAt {
            target: Target::Project,
            permissions: perms(&["example.widgets.frobnicate", "compute.firewalls.create"]),
        }];
        let sa =
            Member::from_identity(Some("ci@seed-project.iam.gserviceaccount.com"), true).unwrap();
        let advice = advise(&index(), &project(), &sa, &missing, &[]).unwrap();
        let t = &advice.targets[0];
        assert_eq!(
            t.suggestion.uncovered,
            perms(&["example.widgets.frobnicate"])
        );
        assert_eq!(
            t.commands.last().unwrap(),
            "gcloud projects add-iam-policy-binding seed-project --member=serviceAccount:ci@seed-project.iam.gserviceaccount.com --role=projects/seed-project/roles/skypilotPreflightExtra"
        );
        let role = advice.uncovered_role.as_ref().unwrap();
        assert_eq!(role.permissions, perms(&["example.widgets.frobnicate"]));
        assert_eq!(
            role.create_or_update,
            format!(
                "cat > skypilotPreflightExtra.yaml <<'ROLE_YAML'\n{}ROLE_YAML\n\
                 gcloud iam roles describe skypilotPreflightExtra --project=seed-project >/dev/null 2>&1 \
                 && gcloud iam roles update skypilotPreflightExtra --project=seed-project --file=skypilotPreflightExtra.yaml --quiet \
                 || gcloud iam roles create skypilotPreflightExtra --project=seed-project --file=skypilotPreflightExtra.yaml",
                role.yaml
            )
        );
        // Created before it is granted.
        let script = advice.script();
        let created = script.find("gcloud iam roles create").unwrap();
        let granted = script.find("roles/skypilotPreflightExtra\n").unwrap();
        assert!(created < granted);
        // The alternative holds every missing project permission, uncovered ones included.
        assert_eq!(
            advice.alternative.unwrap().permissions,
            perms(&["compute.firewalls.create", "example.widgets.frobnicate"])
        );
    }

    #[test]
    fn suspicious_values_are_refused() {
        let p = project();
        let sa = ServiceAccountEmail::parse("x@p$(id).gserviceaccount.com").unwrap();
        let missing = [MissingAt {
            target: Target::ServiceAccount(sa),
            permissions: perms(&["iam.serviceAccounts.actAs"]),
        }];
        assert!(advise(&index(), &p, &user(), &missing, &[]).is_err());
        for api in [
            "compute.googleapis.com; rm -rf /",
            "evil.example.com",
            "Compute.googleapis.com",
        ] {
            assert!(
                advise(&index(), &p, &user(), &[], &[api.into()]).is_err(),
                "{api}"
            );
        }
        for role in [
            "roles/x;id",
            "roles/",
            "projects/seed-project/roles/a b",
            "other/x",
        ] {
            assert!(check_role(role).is_err(), "{role}");
        }
        assert!(check_role("projects/example.com:my-proj/roles/skypilotPreflightFix").is_ok());
        assert_eq!(shell_word("roles/compute.admin"), "roles/compute.admin");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(yaml_text("a \"b\"\nc"), r#"a \"b\" c"#);
    }

    #[test]
    fn nothing_missing_is_empty_and_the_placeholder_is_flagged() {
        let none = advise(&index(), &project(), &Member::Unknown, &[], &[]).unwrap();
        assert!(none.is_empty());
        assert!(none.alternative.is_none());
        let missing = [MissingAt {
            target: Target::Project,
            permissions: perms(&["iam.serviceAccounts.actAs"]),
        }];
        let advice = advise(&index(), &project(), &Member::Unknown, &missing, &[]).unwrap();
        assert!(advice.script().contains("Replace YOUR_EMAIL"));
        assert!(advice.targets[0].commands[0].contains("--member=user:YOUR_EMAIL"));
        let json = serde_json::to_value(&advice).unwrap();
        assert_eq!(json["member"], "user:YOUR_EMAIL");
        assert_eq!(
            json["targets"][0]["suggestion"]["roles"][0]["id"],
            "roles/iam.serviceAccountUser"
        );
    }
}
