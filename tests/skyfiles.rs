//! SkyPilot config and task files → plan settings, on the example files in
//! tests/fixtures/skypilot/ (every key this crate reads, with its source).

use gcp_preflight::core::skyfiles::{read, FileKind, GcpTarget, Setting, SkyFile, SkyFiles};

const CONFIG: &str = include_str!("fixtures/skypilot/config.yaml");
const PIPELINE: &str = include_str!("fixtures/skypilot/pipeline.yaml");
const ANY_OF: &str = include_str!("fixtures/skypilot/any-of.yaml");
const AWS_ONLY: &str = include_str!("fixtures/skypilot/aws-only.yaml");
const MALFORMED: &str = include_str!("fixtures/skypilot/malformed.yaml");

fn config(text: &str) -> SkyFile<'_> {
    SkyFile {
        name: "config.yaml",
        kind: FileKind::Config,
        text,
    }
}
fn task<'a>(name: &'a str, text: &'a str) -> SkyFile<'a> {
    SkyFile {
        name,
        kind: FileKind::Task,
        text,
    }
}
fn parse(files: &[SkyFile<'_>]) -> SkyFiles {
    read(files).unwrap()
}
fn origin(s: &SkyFiles, setting: Setting) -> String {
    s.origin_of(setting)
        .map(ToString::to_string)
        .unwrap_or_default()
}
fn ignored(s: &SkyFiles) -> Vec<String> {
    s.ignored.iter().map(ToString::to_string).collect()
}
fn values(s: &SkyFiles, setting: Setting) -> Vec<String> {
    s.derivations
        .iter()
        .filter(|d| d.setting == setting)
        .map(|d| d.value.clone())
        .collect()
}

#[test]
fn config_gcp_keys_become_options_with_their_sources() {
    let s = parse(&[config(CONFIG)]);
    assert!(s.options.custom_vpc);
    assert_eq!(origin(&s, Setting::CustomVpc), "config.yaml: gcp.vpc_name");
    let vpc = s.vpc.clone().unwrap();
    assert_eq!(vpc.host_project.as_deref(), Some("net-host-4821"));
    assert_eq!(vpc.name, "team-vpc");
    assert!(s.options.reservations);
    assert_eq!(
        origin(&s, Setting::Reservations),
        "config.yaml: gcp.specific_reservations"
    );
    assert_eq!(
        s.reservations,
        ["projects/ml-prod-4821/reservations/a100-reserved"]
    );
    assert_eq!(
        values(&s, Setting::Reservations).len(),
        2,
        "prioritize_reservations too"
    );
    let (sa, from) = s.service_account.clone().unwrap();
    assert_eq!(sa.as_str(), "trainer@ml-prod-4821.iam.gserviceaccount.com");
    assert_eq!(from.to_string(), "config.yaml: gcp.remote_identity");
    assert_eq!(s.target, Some(GcpTarget::NoTask));
    // Nothing a task sets.
    assert!(
        !s.options.tpus
            && !s.options.open_ports
            && !s.options.custom_image
            && !s.options.gcs_mounts
    );
}

#[test]
fn a_plain_vpc_name_has_no_host_project() {
    let s = parse(&[config("gcp:\n  vpc_name: my-vpc\n")]);
    assert_eq!(s.vpc.unwrap().host_project, None);
    assert!(s.options.custom_vpc);
    let s = parse(&[config(
        "gcp:\n  vpc_name: projects/host-1/global/networks/shared\n",
    )]);
    let vpc = s.vpc.unwrap();
    assert_eq!(
        (vpc.host_project.as_deref(), vpc.name.as_str()),
        (Some("host-1"), "shared")
    );
}

#[test]
fn prioritize_reservations_alone_sets_reservations_and_false_does_not() {
    let s = parse(&[config("gcp:\n  prioritize_reservations: true\n")]);
    assert!(s.options.reservations);
    assert_eq!(
        origin(&s, Setting::Reservations),
        "config.yaml: gcp.prioritize_reservations"
    );
    let s = parse(&[config(
        "gcp:\n  prioritize_reservations: false\n  specific_reservations: []\n",
    )]);
    assert!(!s.options.reservations);
}

#[test]
fn jobs_bucket_keeps_its_sub_path_in_the_value_and_is_probed_first() {
    let s = parse(&[config(CONFIG)]);
    assert_eq!(
        values(&s, Setting::Bucket),
        ["gs://team-ml-jobs/preflight/alice"]
    );
    assert_eq!(origin(&s, Setting::Bucket), "config.yaml: jobs.bucket");
    let input = s.plan_input();
    assert_eq!(input.bucket.unwrap().as_str(), "team-ml-jobs");
    assert_eq!(
        input.service_account.unwrap().as_str(),
        "trainer@ml-prod-4821.iam.gserviceaccount.com"
    );
    assert!(input.options.custom_vpc && input.options.reservations);
}

#[test]
fn a_jobs_bucket_on_another_store_is_not_probed() {
    let s = parse(&[config("jobs:\n  bucket: s3://team-jobs\n")]);
    assert!(s.buckets.is_empty());
    assert!(s.plan_input().bucket.is_none());
    assert!(
        s.notes.iter().any(|n| n.contains("not on GCS")),
        "{:?}",
        s.notes
    );
}

#[test]
fn force_disable_cloud_bucket_drops_the_jobs_bucket() {
    let s = parse(&[config(
        "jobs:\n  bucket: gs://team-jobs\n  force_disable_cloud_bucket: true\n",
    )]);
    assert!(s.plan_input().bucket.is_none());
    assert_eq!(
        s.force_disable_cloud_bucket.unwrap().to_string(),
        "config.yaml: jobs.force_disable_cloud_bucket"
    );
    assert!(s
        .notes
        .iter()
        .any(|n| n.contains("upload through the controller")));
}

#[test]
fn remote_identity_keywords_name_no_account_and_bad_emails_are_notes() {
    for keyword in ["LOCAL_CREDENTIALS", "SERVICE_ACCOUNT", "NO_UPLOAD"] {
        let s = parse(&[config(&format!("gcp:\n  remote_identity: {keyword}\n"))]);
        assert!(s.service_account.is_none(), "{keyword}");
        assert!(s.notes.is_empty(), "{keyword}: {:?}", s.notes);
    }
    let s = parse(&[config("gcp:\n  remote_identity: someone@gmail.com\n")]);
    assert!(s.service_account.is_none());
    assert!(
        s.notes.iter().any(|n| n.contains("gserviceaccount.com")),
        "{:?}",
        s.notes
    );
}

#[test]
fn multi_document_task_reads_every_stage() {
    let s = parse(&[task("pipeline.yaml", PIPELINE)]);
    assert!(s.options.tpus);
    assert_eq!(values(&s, Setting::Tpus), ["tpu-v4-8"]);
    assert_eq!(
        origin(&s, Setting::Tpus),
        "pipeline.yaml: doc 2: resources.accelerators"
    );
    assert!(s.options.open_ports);
    assert_eq!(
        origin(&s, Setting::OpenPorts),
        "pipeline.yaml: doc 3: resources.ports"
    );
    assert_eq!(values(&s, Setting::OpenPorts), ["8888"]);
    assert!(s.options.custom_image);
    assert_eq!(
        origin(&s, Setting::CustomImage),
        "pipeline.yaml: doc 3: resources.image_id"
    );
    assert!(s.options.gcs_mounts);
    // Both GCS mounts are buckets to probe; the local ~/.netrc copy is not.
    let buckets: Vec<(String, String)> = s
        .buckets
        .iter()
        .map(|(b, o)| (b.as_str().to_owned(), o.to_string()))
        .collect();
    assert_eq!(
        buckets,
        [
            (
                "team-ml-datasets".to_owned(),
                "pipeline.yaml: doc 2: file_mounts./data".to_owned()
            ),
            (
                "team-ml-checkpoints".to_owned(),
                "pipeline.yaml: doc 2: file_mounts./checkpoints.name".to_owned()
            ),
        ]
    );
    assert!(ignored(&s).contains(&"pipeline.yaml: doc 2: file_mounts.~/.netrc".to_owned()));
    assert!(ignored(&s).contains(&"pipeline.yaml: doc 2: resources.accelerator_args".to_owned()));
    assert_eq!(
        s.target,
        Some(GcpTarget::Pinned(gcp_preflight::core::skyfiles::Origin {
            file: "pipeline.yaml".into(),
            key: "doc 2: resources.cloud".into()
        }))
    );
    // Without jobs.bucket, the first mounted bucket is the one probed.
    assert_eq!(s.plan_input().bucket.unwrap().as_str(), "team-ml-datasets");
}

#[test]
fn infra_pins_gcp_too() {
    let s = parse(&[task(
        "t.yaml",
        "resources:\n  infra: gcp/us-central1/us-central1-a\nrun: x\n",
    )]);
    assert!(matches!(s.target, Some(GcpTarget::Pinned(ref o)) if o.key == "resources.infra"));
}

#[test]
fn any_of_reads_only_the_choices_that_may_run_on_gcp() {
    let s = parse(&[task("any-of.yaml", ANY_OF)]);
    assert!(s.options.open_ports);
    assert_eq!(
        origin(&s, Setting::OpenPorts),
        "any-of.yaml: resources.any_of[1].ports"
    );
    assert_eq!(values(&s, Setting::OpenPorts), ["8080, 9000-9010"]);
    assert!(
        matches!(s.target, Some(GcpTarget::Pinned(ref o)) if o.key == "resources.any_of[1].infra")
    );
    // The task's `config:` override applies: remote_identity's first email, and no jobs bucket.
    let (sa, from) = s.service_account.clone().unwrap();
    assert_eq!(
        sa.as_str(),
        "finetuner@ml-prod-4821.iam.gserviceaccount.com"
    );
    assert_eq!(
        from.to_string(),
        "any-of.yaml: config.gcp.remote_identity[0].finetune-*"
    );
    assert!(s.force_disable_cloud_bucket.is_some());
    assert!(ignored(&s).contains(&"any-of.yaml: resources.disk_size".to_owned()));
    assert!(!s.options.tpus);
}

#[test]
fn ports_in_a_choice_pinned_elsewhere_do_not_count() {
    let text = "resources:\n  ordered:\n    - cloud: aws\n      ports: 80\n    - cloud: gcp\n";
    let s = parse(&[task("t.yaml", text)]);
    assert!(!s.options.open_ports);
    assert!(s.targets_gcp());
}

#[test]
fn a_tpu_places_an_unpinned_task_on_gcp_and_accelerator_forms_are_read() {
    for accel in [
        "tpu-v5e-16",
        "{tpu-v5e-16: 1}",
        "[tpu-v5e-16, A100:8]",
        "tpu-v5e-16:1",
    ] {
        let s = parse(&[task(
            "t.yaml",
            &format!("resources:\n  accelerators: {accel}\n"),
        )]);
        assert!(s.options.tpus, "{accel}");
        assert!(matches!(s.target, Some(GcpTarget::Pinned(_))), "{accel}");
    }
    let s = parse(&[task("t.yaml", "resources:\n  accelerators: A100:8\n")]);
    assert!(!s.options.tpus);
    assert_eq!(s.target, Some(GcpTarget::Possible));
}

#[test]
fn an_image_id_per_region_counts() {
    let s = parse(&[task(
        "t.yaml",
        "resources:\n  cloud: gcp\n  image_id:\n    us-central1: projects/p/global/images/a\n",
    )]);
    assert!(s.options.custom_image);
    assert_eq!(
        values(&s, Setting::CustomImage),
        ["projects/p/global/images/a"]
    );
}

#[test]
fn a_task_without_gcp_says_so_and_sets_nothing() {
    let s = parse(&[task("aws-only.yaml", AWS_ONLY)]);
    assert!(!s.targets_gcp());
    assert_eq!(
        s.target,
        Some(GcpTarget::NotGcp(
            "aws-only.yaml: resources.cloud pins aws".into()
        ))
    );
    assert_eq!(s.options, Default::default());
    assert!(s.buckets.is_empty(), "s3:// is not GCS");
    // One GCP task among them is enough.
    let s = parse(&[
        task("aws-only.yaml", AWS_ONLY),
        task("pipeline.yaml", PIPELINE),
    ]);
    assert!(s.targets_gcp());
}

#[test]
fn allowed_clouds_without_gcp_means_no_gcp() {
    let s = parse(&[
        config("allowed_clouds: [aws, kubernetes]\n"),
        task("p.yaml", PIPELINE),
    ]);
    assert!(!s.targets_gcp());
}

#[test]
fn task_config_overrides_the_config_file_whatever_the_order_given() {
    let t = "config:\n  gcp:\n    vpc_name: null\nrun: x\n";
    let s = parse(&[task("t.yaml", t), config(CONFIG)]);
    assert!(!s.options.custom_vpc, "the task resets gcp.vpc_name");
    let t = "config:\n  gcp:\n    vpc_name: other-vpc\nrun: x\n";
    let s = parse(&[config(CONFIG), task("t.yaml", t)]);
    assert_eq!(s.vpc.unwrap().name, "other-vpc");
    assert_eq!(
        s.derivations
            .iter()
            .rfind(|d| d.setting == Setting::CustomVpc)
            .unwrap()
            .origin
            .to_string(),
        "t.yaml: config.gcp.vpc_name"
    );
}

#[test]
fn storage_mount_forms() {
    let t = "file_mounts:\n  /a:\n    source: gs://src-bucket/x\n  /b:\n    name: made-bucket\n    store: GCS\n  /c:\n    name: s3-bucket\n    store: s3\n  /d:\n    source: ./local\n    store: gcs\n";
    let s = parse(&[task("t.yaml", t)]);
    let names: Vec<&str> = s.buckets.iter().map(|(b, _)| b.as_str()).collect();
    assert_eq!(names, ["src-bucket", "made-bucket"]);
    assert!(s.options.gcs_mounts);
    assert!(ignored(&s).contains(&"t.yaml: file_mounts./c".to_owned()));
    assert_eq!(values(&s, Setting::GcsMounts).last().unwrap(), "store: gcs");
}

#[test]
fn unknown_keys_are_ignored_not_errors() {
    let s = parse(&[config(CONFIG)]);
    let ig = ignored(&s);
    for key in [
        "jobs.controller",
        "gcp.use_internal_ips",
        "gcp.labels",
        "kubernetes",
    ] {
        assert!(
            ig.contains(&format!("config.yaml: {key}")),
            "{key} in {ig:?}"
        );
    }
    assert!(!ig
        .iter()
        .any(|k| k.ends_with("gcp.vpc_name") || k.ends_with("jobs.bucket")));
}

#[test]
fn malformed_yaml_gives_line_column_and_what_was_expected() {
    let e = read(&[task("malformed.yaml", MALFORMED)]).unwrap_err();
    assert_eq!(e.file, "malformed.yaml");
    assert_eq!((e.line, e.column), (5, 4), "{e}");
    assert!(!e.message.is_empty());
    let shown = e.to_string();
    assert!(
        shown.starts_with("malformed.yaml: line 5, column 4: "),
        "{shown}"
    );
}

#[test]
fn a_document_that_is_not_a_mapping_is_an_error_at_its_line() {
    let e = read(&[task("t.yaml", "name: a\n---\n- just\n- a list\n")]).unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.message.contains("expected a mapping"), "{e}");
    let e = read(&[config("just a string\n")]).unwrap_err();
    assert_eq!(e.line, 1);
    // Empty files and comment-only files are fine.
    assert!(read(&[config("# nothing yet\n"), task("t.yaml", "")]).is_ok());
}
