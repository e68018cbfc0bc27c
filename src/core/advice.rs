//! How to fix what is missing: copy-paste `gcloud` commands.

use super::names::ProjectId;
use super::permission::Permission;

/// Role ID used for the custom role that grants exactly what is missing.
pub const CUSTOM_ROLE_ID: &str = "skypilotPreflightFix";

/// `gcloud` commands that grant `missing` to `member` on `project` through a custom role, and
/// turn on `apis_off`. Empty when nothing is to be fixed.
pub fn gcloud_commands(
    project: &ProjectId,
    member_email: Option<&str>,
    missing: &[Permission],
    apis_off: &[String],
) -> Vec<String> {
    let p = project.as_str();
    let mut out: Vec<String> = apis_off
        .iter()
        .map(|api| format!("gcloud services enable {api} --project {p}"))
        .collect();
    if !missing.is_empty() {
        let list: Vec<&str> = missing.iter().map(Permission::as_str).collect();
        out.push(format!(
            "gcloud iam roles create {CUSTOM_ROLE_ID} --project {p} --title \"SkyPilot preflight fix\" --permissions {}",
            list.join(",")
        ));
        let member = match member_email {
            Some(email) if email.ends_with("gserviceaccount.com") => {
                format!("serviceAccount:{email}")
            }
            Some(email) => format!("user:{email}"),
            None => "user:YOUR_EMAIL".into(),
        };
        out.push(format!(
            "gcloud projects add-iam-policy-binding {p} --member {member} --role projects/{p}/roles/{CUSTOM_ROLE_ID}"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_for_missing_and_apis() {
        let p = ProjectId::parse("seed-project").unwrap();
        let missing = vec![
            Permission::parse("compute.firewalls.create").unwrap(),
            Permission::parse("compute.firewalls.delete").unwrap(),
        ];
        let cmds = gcloud_commands(
            &p,
            Some("a@example.com"),
            &missing,
            &["compute.googleapis.com".into()],
        );
        assert_eq!(
            cmds[0],
            "gcloud services enable compute.googleapis.com --project seed-project"
        );
        assert!(
            cmds[1].ends_with("--permissions compute.firewalls.create,compute.firewalls.delete")
        );
        assert!(cmds[2].contains("--member user:a@example.com"));
        let sa = gcloud_commands(&p, Some("x@p.iam.gserviceaccount.com"), &missing, &[]);
        assert!(sa[1].contains("serviceAccount:x@p.iam.gserviceaccount.com"));
        assert!(gcloud_commands(&p, None, &[], &[]).is_empty());
    }
}
