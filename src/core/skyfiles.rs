//! SkyPilot's own files → what a check should test: `~/.sky/config.yaml` and task YAMLs are read
//! and turned into the plan's [`Options`], bucket and service account, each with where it came
//! from (file and key), so that a person sees *why* a permission is asked for.
//!
//! Only what changes the permissions SkyPilot needs on GCP is read; every other key is listed as
//! ignored, never an error. The keys and their meaning follow SkyPilot's config reference
//! (`docs/source/reference/config.rst`) and `sky/task.py` / `sky/resources.py`.

use super::catalog::Options;
use super::names::{BucketName, ServiceAccountEmail};
use super::plan::PlanInput;
use yaml_rust2::{Yaml, YamlLoader};

/// Which of SkyPilot's files a text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `~/.sky/config.yaml` (or a workspace/project config of the same shape).
    Config,
    /// A task YAML (`sky launch` / `sky jobs launch`), possibly several documents.
    Task,
}

/// One file handed in: its display name (e.g. `config.yaml`), kind and text.
#[derive(Clone, Copy, Debug)]
pub struct SkyFile<'a> {
    /// What the user calls it (shown in every source).
    pub name: &'a str,
    /// Config or task.
    pub kind: FileKind,
    /// The YAML text.
    pub text: &'a str,
}

/// Where a setting came from: `config.yaml: gcp.vpc_name`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Origin {
    /// The file's display name.
    pub file: String,
    /// The dotted key inside it (`resources.any_of[1].accelerators`; multi-document tasks
    /// prefix the document: `doc 2: resources.ports`).
    pub key: String,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.file, self.key)
    }
}

/// A file that is not valid YAML (or not a mapping where SkyPilot needs one).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct YamlError {
    /// The file's display name.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What was wrong or expected.
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: line {}, column {}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// Which plan setting a file set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Setting {
    /// `gcp.vpc_name` ([`Options::custom_vpc`]).
    CustomVpc,
    /// Reservations ([`Options::reservations`]).
    Reservations,
    /// `resources.ports` ([`Options::open_ports`]).
    OpenPorts,
    /// `tpu-*` accelerators ([`Options::tpus`]).
    Tpus,
    /// `resources.image_id` ([`Options::custom_image`]).
    CustomImage,
    /// GCS storage mounts or `gs://` file mounts ([`Options::gcs_mounts`]).
    GcsMounts,
    /// The bucket probed ([`PlanInput::bucket`]).
    Bucket,
    /// The service account probed for `actAs` ([`PlanInput::service_account`]).
    ServiceAccount,
}

impl Setting {
    /// Plain-words name, as the form labels it.
    pub fn label(self) -> &'static str {
        match self {
            Setting::CustomVpc => "Custom VPC",
            Setting::Reservations => "Reservations",
            Setting::OpenPorts => "Open ports",
            Setting::Tpus => "TPUs",
            Setting::CustomImage => "Custom image",
            Setting::GcsMounts => "GCS storage mounts",
            Setting::Bucket => "Bucket",
            Setting::ServiceAccount => "Service account",
        }
    }
}

/// One derived setting: what, its value in words, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Derivation {
    /// Which setting.
    pub setting: Setting,
    /// The value as read (`HOST/VPC`, `tpu-v4-8`, `gs://b/sub`).
    pub value: String,
    /// File and key.
    pub origin: Origin,
}

/// A custom VPC, possibly a shared VPC of a host project.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vpc {
    /// The host project of a shared VPC (`HOST_PROJECT/VPC`), if any.
    pub host_project: Option<String>,
    /// The network's name.
    pub name: String,
}

/// `VPC`, `HOST_PROJECT/VPC` (a shared VPC), or the full
/// `projects/HOST_PROJECT/global/networks/VPC` path.
fn parse_vpc(text: &str) -> Vpc {
    let parts: Vec<&str> = text.split('/').collect();
    match parts.as_slice() {
        ["projects", host, "global", "networks", name] | [host, name] => Vpc {
            host_project: Some((*host).to_owned()),
            name: (*name).to_owned(),
        },
        _ => Vpc {
            host_project: None,
            name: text.to_owned(),
        },
    }
}

/// Whether the tasks may run on GCP at all.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum GcpTarget {
    /// No task file given: the check is about the config alone.
    NoTask,
    /// A task pins GCP (`resources.cloud: gcp`, `infra: gcp/…`, or a TPU).
    Pinned(Origin),
    /// No cloud is pinned (or one `any_of`/`ordered` choice leaves it open): SkyPilot may pick GCP.
    Possible,
    /// Every resource choice of every task pins another cloud, or `allowed_clouds` leaves GCP out.
    NotGcp(String),
}

/// Everything read from SkyPilot's files.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SkyFiles {
    /// The options the files imply (`mode` is left at the default: it is the user's choice).
    pub options: Options,
    /// Each setting with its value and origin, in the order found.
    pub derivations: Vec<Derivation>,
    /// `gcp.vpc_name`, parsed.
    pub vpc: Option<Vpc>,
    /// `gcp.specific_reservations`.
    pub reservations: Vec<String>,
    /// `jobs.bucket` as written (any store), with its origin.
    pub jobs_bucket: Option<(String, Origin)>,
    /// `jobs.force_disable_cloud_bucket: true`: managed jobs upload through the controller.
    pub force_disable_cloud_bucket: Option<Origin>,
    /// Every GCS bucket the files name, with its origin: `jobs.bucket` first, then mounts.
    pub buckets: Vec<(BucketName, Origin)>,
    /// The service account from `gcp.remote_identity`, if it names one.
    pub service_account: Option<(ServiceAccountEmail, Origin)>,
    /// Whether the tasks target GCP (`None` before any file is read).
    pub target: Option<GcpTarget>,
    /// Keys read but not used for the check (`file: key`).
    pub ignored: Vec<Origin>,
    /// Things worth saying that change nothing in the plan (e.g. a value that is not GCP's).
    pub notes: Vec<String>,
}

/// Keys of a config file that this module reads (anything else is listed as ignored).
const CONFIG_GCP_KEYS: &[&str] = &[
    "vpc_name",
    "specific_reservations",
    "prioritize_reservations",
    "remote_identity",
];

/// Parses every file and derives the plan settings; the first file that is not valid YAML (or
/// not a mapping) is the error.
pub fn read(files: &[SkyFile<'_>]) -> Result<SkyFiles, YamlError> {
    let mut out = SkyFiles::default();
    let mut task_targets: Vec<GcpTarget> = Vec::new();
    // Task `config:` sections apply over config.yaml: read configs first, then tasks.
    let mut ordered_files: Vec<&SkyFile<'_>> = files
        .iter()
        .filter(|f| f.kind == FileKind::Config)
        .collect();
    ordered_files.extend(files.iter().filter(|f| f.kind == FileKind::Task));
    for file in ordered_files {
        let docs = load(file)?;
        match file.kind {
            FileKind::Config => {
                if let Some(doc) = docs.first() {
                    if let Some(map) = expect_mapping(file, doc, 0)? {
                        out.read_config(file.name, "", map);
                    }
                }
            }
            FileKind::Task => {
                let many = docs.len() > 1;
                for (i, doc) in docs.iter().enumerate() {
                    let prefix = if many {
                        format!("doc {}: ", i + 1)
                    } else {
                        String::new()
                    };
                    let Some(map) = expect_mapping(file, doc, i)? else {
                        continue;
                    };
                    if let Some(target) = out.read_task(file.name, &prefix, map) {
                        task_targets.push(target);
                    }
                }
            }
        }
    }
    out.finish(task_targets);
    Ok(out)
}

fn load(file: &SkyFile<'_>) -> Result<Vec<Yaml>, YamlError> {
    YamlLoader::load_from_str(file.text).map_err(|e| YamlError {
        file: file.name.into(),
        // yaml-rust2 counts lines from 1 and columns from 0.
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_owned(),
    })
}

type Map = yaml_rust2::yaml::Hash;

/// A document as a mapping; `None` for an empty document (`---` alone, or only comments).
fn expect_mapping<'y>(
    file: &SkyFile<'_>,
    doc: &'y Yaml,
    index: usize,
) -> Result<Option<&'y Map>, YamlError> {
    match doc {
        Yaml::Hash(map) => Ok(Some(map)),
        Yaml::Null => Ok(None),
        _ => Err(YamlError {
            file: file.name.into(),
            line: document_start_line(file.text, index),
            column: 1,
            message: format!(
                "expected a mapping of keys (such as `resources:`), found {}",
                kind_of(doc)
            ),
        }),
    }
}

/// The 1-based line where document `index` starts: the loader keeps no positions for values, so
/// the `---` separators are counted.
fn document_start_line(text: &str, index: usize) -> usize {
    let mut seen = 0;
    let mut first_content = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_end();
        if trimmed == "---" || trimmed.starts_with("--- ") {
            if first_content.is_some() || seen > 0 {
                seen += 1;
            }
            if seen == index {
                return n + 2;
            }
            first_content.get_or_insert(n);
            continue;
        }
        if first_content.is_none() && !trimmed.is_empty() && !trimmed.starts_with('#') {
            first_content = Some(n);
            if index == 0 {
                return n + 1;
            }
        }
    }
    1
}

fn kind_of(y: &Yaml) -> &'static str {
    match y {
        Yaml::Real(_) | Yaml::Integer(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Boolean(_) => "a boolean",
        Yaml::Array(_) => "a list",
        Yaml::Hash(_) => "a mapping",
        Yaml::Null => "nothing",
        Yaml::Alias(_) | Yaml::BadValue => "an unreadable value",
    }
}

/// A scalar in words (`true`, `8080`, `gcp`); `None` for lists, mappings and null.
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn entries(map: &Map) -> impl Iterator<Item = (String, &Yaml)> {
    map.iter()
        .map(|(k, v)| (scalar(k).unwrap_or_else(|| "?".into()), v))
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() || path.ends_with(": ") {
        format!("{path}{key}")
    } else {
        format!("{path}.{key}")
    }
}

/// SkyPilot accepts `cloud: gcp`, `GCP`, and `infra: gcp/us-central1/…`.
fn cloud_of(resources: &Map) -> Option<(String, &'static str)> {
    for (key, value) in entries(resources) {
        if key == "cloud" || key == "infra" {
            if let Some(text) = scalar(value) {
                let cloud = text
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                if !cloud.is_empty() && cloud != "*" {
                    return Some((cloud, if key == "cloud" { "cloud" } else { "infra" }));
                }
            }
        }
    }
    None
}

/// Accelerator names in `accelerators:` (a string `A100:8`, a mapping, or a list/set of either).
fn accelerator_names(value: &Yaml) -> Vec<String> {
    match value {
        Yaml::String(s) => s
            .split(',')
            .map(|a| a.split(':').next().unwrap_or("").trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect(),
        Yaml::Hash(map) => entries(map).map(|(k, _)| k).collect(),
        Yaml::Array(list) => list.iter().flat_map(accelerator_names).collect(),
        _ => Vec::new(),
    }
}

fn is_tpu(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with("tpu-")
}

impl SkyFiles {
    fn derive(&mut self, setting: Setting, value: String, file: &str, key: String) {
        self.derivations.push(Derivation {
            setting,
            value,
            origin: Origin {
                file: file.into(),
                key,
            },
        });
    }

    fn ignore(&mut self, file: &str, key: String) {
        self.ignored.push(Origin {
            file: file.into(),
            key,
        });
    }

    /// A config mapping: `~/.sky/config.yaml` itself, or a task's `config:` override.
    fn read_config(&mut self, file: &str, path: &str, map: &Map) {
        for (key, value) in entries(map) {
            let here = join(path, &key);
            match (key.as_str(), value) {
                ("gcp", Yaml::Hash(gcp)) => self.read_gcp(file, &here, gcp),
                ("jobs", Yaml::Hash(jobs)) => self.read_jobs(file, &here, jobs),
                ("allowed_clouds", Yaml::Array(clouds)) => {
                    let allowed: Vec<String> = clouds
                        .iter()
                        .filter_map(scalar)
                        .map(|c| c.to_ascii_lowercase())
                        .collect();
                    if !allowed.iter().any(|c| c == "gcp") {
                        self.target = Some(GcpTarget::NotGcp(format!(
                            "{file}: {here} does not include gcp"
                        )));
                    }
                }
                _ => self.ignore(file, here),
            }
        }
    }

    fn read_gcp(&mut self, file: &str, path: &str, gcp: &Map) {
        for (key, value) in entries(gcp) {
            let here = join(path, &key);
            if !CONFIG_GCP_KEYS.contains(&key.as_str()) {
                self.ignore(file, here);
                continue;
            }
            match key.as_str() {
                "vpc_name" => match scalar(value).filter(|v| !v.trim().is_empty()) {
                    Some(text) => {
                        let text = text.trim().to_owned();
                        self.vpc = Some(parse_vpc(&text));
                        self.options.custom_vpc = true;
                        self.derive(Setting::CustomVpc, text, file, here);
                    }
                    None => {
                        // `vpc_name: null` in a task override resets the config's VPC.
                        self.vpc = None;
                        self.options.custom_vpc = false;
                        self.derivations.retain(|d| d.setting != Setting::CustomVpc);
                    }
                },
                "specific_reservations" => {
                    let names: Vec<String> = match value {
                        Yaml::Array(list) => list.iter().filter_map(scalar).collect(),
                        other => scalar(other).into_iter().collect(),
                    };
                    if !names.is_empty() {
                        self.options.reservations = true;
                        self.derive(Setting::Reservations, names.join(", "), file, here);
                        self.reservations.extend(names);
                    }
                }
                "prioritize_reservations" => {
                    if matches!(value, Yaml::Boolean(true)) {
                        self.options.reservations = true;
                        self.derive(Setting::Reservations, "true".into(), file, here);
                    }
                }
                _ => self.read_remote_identity(file, here, value),
            }
        }
    }

    /// `gcp.remote_identity`: `LOCAL_CREDENTIALS` (default), `SERVICE_ACCOUNT` (SkyPilot's own
    /// `skypilot-v1`, already looked up for the first launch), `NO_UPLOAD`, a service account
    /// email, or a list of `{cluster-name-pattern: email}`; every email is one the VMs run as, so
    /// the user needs `actAs` on it. The first email is probed.
    fn read_remote_identity(&mut self, file: &str, here: String, value: &Yaml) {
        let mut emails: Vec<(String, String)> = Vec::new();
        match value {
            Yaml::String(s) => emails.push((s.clone(), here.clone())),
            Yaml::Array(list) => {
                for (i, item) in list.iter().enumerate() {
                    if let Yaml::Hash(map) = item {
                        for (pattern, v) in entries(map) {
                            if let Some(s) = scalar(v) {
                                emails.push((s, format!("{here}[{i}].{pattern}")));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        for (text, key) in emails {
            if matches!(
                text.as_str(),
                "LOCAL_CREDENTIALS" | "SERVICE_ACCOUNT" | "NO_UPLOAD"
            ) {
                continue;
            }
            match ServiceAccountEmail::parse(&text) {
                Ok(email) if self.service_account.is_none() => {
                    self.derive(Setting::ServiceAccount, text, file, key.clone());
                    self.service_account = Some((
                        email,
                        Origin {
                            file: file.into(),
                            key,
                        },
                    ));
                }
                Ok(_) => self.notes.push(format!(
                    "{file}: {key} names another service account ({text}); only the first is probed for actAs."
                )),
                Err(e) => self.notes.push(format!("{file}: {key}: {e}")),
            }
        }
    }

    fn read_jobs(&mut self, file: &str, path: &str, jobs: &Map) {
        for (key, value) in entries(jobs) {
            let here = join(path, &key);
            match key.as_str() {
                "bucket" => match scalar(value) {
                    Some(url) => {
                        self.jobs_bucket = Some((
                            url,
                            Origin {
                                file: file.into(),
                                key: here,
                            },
                        ))
                    }
                    None => self.jobs_bucket = None,
                },
                "force_disable_cloud_bucket" => {
                    self.force_disable_cloud_bucket =
                        matches!(value, Yaml::Boolean(true)).then(|| Origin {
                            file: file.into(),
                            key: here,
                        });
                }
                _ => self.ignore(file, here),
            }
        }
    }

    /// One task document; returns whether it may run on GCP.
    fn read_task(&mut self, file: &str, prefix: &str, task: &Map) -> Option<GcpTarget> {
        let mut target = None;
        let mut is_task = false;
        for (key, value) in entries(task) {
            let here = join(prefix, &key);
            match (key.as_str(), value) {
                ("resources", Yaml::Hash(resources)) => {
                    is_task = true;
                    target = Some(self.read_resources(file, &here, resources));
                }
                ("file_mounts", Yaml::Hash(mounts)) => {
                    is_task = true;
                    self.read_file_mounts(file, &here, mounts);
                }
                ("config", Yaml::Hash(config)) => self.read_config(file, &here, config),
                ("run" | "setup" | "workdir" | "num_nodes" | "envs", _) => {
                    is_task = true;
                    self.ignore(file, here);
                }
                _ => self.ignore(file, here),
            }
        }
        // A pipeline's header document (`name:` only) is not a task.
        match target {
            Some(t) => Some(t),
            None if is_task => Some(GcpTarget::Possible),
            None => None,
        }
    }

    /// `resources:`, with its `any_of` / `ordered` choices: each choice is the base mapping
    /// overridden by the choice's keys.
    fn read_resources(&mut self, file: &str, path: &str, resources: &Map) -> GcpTarget {
        let mut choices: Vec<(String, Vec<(String, &Yaml)>)> = Vec::new();
        let base: Vec<(String, &Yaml)> = entries(resources)
            .filter(|(k, _)| k != "any_of" && k != "ordered")
            .collect();
        for (key, value) in entries(resources) {
            if key != "any_of" && key != "ordered" {
                continue;
            }
            if let Yaml::Array(list) = value {
                for (i, item) in list.iter().enumerate() {
                    if let Yaml::Hash(choice) = item {
                        choices.push((
                            format!("{}[{i}]", join(path, &key)),
                            entries(choice).collect(),
                        ));
                    }
                }
            }
        }
        if choices.is_empty() {
            choices.push((path.to_owned(), Vec::new()));
        }
        let mut targets = Vec::new();
        for (choice_path, overrides) in &choices {
            // Base keys not overridden, then the choice's own.
            let mut merged: Map = Map::new();
            let mut paths: Vec<(String, String)> = Vec::new();
            for (k, v) in &base {
                if !overrides.iter().any(|(ok, _)| ok == k) {
                    merged.insert(Yaml::String(k.clone()), (*v).clone());
                    paths.push((k.clone(), join(path, k)));
                }
            }
            for (k, v) in overrides {
                merged.insert(Yaml::String(k.clone()), (*v).clone());
                paths.push((k.clone(), join(choice_path, k)));
            }
            let key_path = |k: &str| {
                paths
                    .iter()
                    .find(|(name, _)| name == k)
                    .map(|(_, p)| p.clone())
                    .unwrap_or_default()
            };
            let cloud = cloud_of(&merged);
            let mut choice_target = match &cloud {
                Some((c, key)) if c == "gcp" => GcpTarget::Pinned(Origin {
                    file: file.into(),
                    key: key_path(key),
                }),
                Some((c, key)) => GcpTarget::NotGcp(format!("{file}: {} pins {c}", key_path(key))),
                None => GcpTarget::Possible,
            };
            if matches!(choice_target, GcpTarget::NotGcp(_)) {
                continue;
            }
            for (k, v) in entries(&merged) {
                let here = key_path(&k);
                match k.as_str() {
                    "accelerators" => {
                        for name in accelerator_names(v).into_iter().filter(|n| is_tpu(n)) {
                            self.options.tpus = true;
                            if matches!(choice_target, GcpTarget::Possible) {
                                // Only GCP offers TPUs: SkyPilot places this choice there.
                                choice_target = GcpTarget::Pinned(Origin {
                                    file: file.into(),
                                    key: here.clone(),
                                });
                            }
                            self.derive(Setting::Tpus, name, file, here.clone());
                        }
                    }
                    "ports" => {
                        let value = match v {
                            Yaml::Array(list) => list
                                .iter()
                                .filter_map(scalar)
                                .collect::<Vec<_>>()
                                .join(", "),
                            other => scalar(other).unwrap_or_default(),
                        };
                        if !value.is_empty() {
                            self.options.open_ports = true;
                            self.derive(Setting::OpenPorts, value, file, here);
                        }
                    }
                    "image_id" => {
                        let value = match v {
                            Yaml::Hash(by_region) => entries(by_region)
                                .filter_map(|(_, img)| scalar(img))
                                .collect::<Vec<_>>()
                                .join(", "),
                            other => scalar(other).unwrap_or_default(),
                        };
                        if !value.is_empty() {
                            self.options.custom_image = true;
                            self.derive(Setting::CustomImage, value, file, here);
                        }
                    }
                    "cloud" | "infra" => {}
                    _ => {
                        if !self.ignored.iter().any(|o| o.file == file && o.key == here) {
                            self.ignore(file, here);
                        }
                    }
                }
            }
            targets.push(choice_target);
        }
        // Pinned beats possible; if every choice went elsewhere, say where.
        if let Some(pinned) = targets.iter().find(|t| matches!(t, GcpTarget::Pinned(_))) {
            return pinned.clone();
        }
        if !targets.is_empty() {
            return GcpTarget::Possible;
        }
        match cloud_of(resources) {
            Some((c, key)) => GcpTarget::NotGcp(format!("{file}: {} pins {c}", join(path, key))),
            None => GcpTarget::NotGcp(format!("{file}: every choice of {path} pins another cloud")),
        }
    }

    /// `file_mounts:`: `dest: gs://bucket/path` copies from GCS; `dest: {name, source, store}`
    /// is a storage mount, on GCS when `store: gcs` or its source is `gs://…`.
    fn read_file_mounts(&mut self, file: &str, path: &str, mounts: &Map) {
        for (dest, value) in entries(mounts) {
            let here = join(path, &dest);
            match value {
                Yaml::String(src) if src.starts_with("gs://") => {
                    self.mount_bucket(file, &here, src);
                }
                Yaml::Hash(storage) => {
                    let get = |k: &str| {
                        entries(storage)
                            .find(|(key, _)| key == k)
                            .and_then(|(_, v)| scalar(v))
                    };
                    let source = get("source");
                    let store = get("store").map(|s| s.to_ascii_lowercase());
                    let gcs_source = source.as_deref().filter(|s| s.starts_with("gs://"));
                    match (gcs_source, store.as_deref(), get("name")) {
                        (Some(src), _, _) => self.mount_bucket(file, &join(&here, "source"), src),
                        (None, Some("gcs"), Some(name)) => {
                            self.mount_bucket(file, &join(&here, "name"), &name)
                        }
                        (None, Some("gcs"), None) => {
                            self.options.gcs_mounts = true;
                            self.derive(
                                Setting::GcsMounts,
                                "store: gcs".into(),
                                file,
                                join(&here, "store"),
                            );
                        }
                        _ => self.ignore(file, here),
                    }
                }
                // Local paths, other stores (s3://, r2://, …): nothing on GCS.
                _ => self.ignore(file, here),
            }
        }
    }

    fn mount_bucket(&mut self, file: &str, here: &str, url: &str) {
        self.options.gcs_mounts = true;
        self.derive(Setting::GcsMounts, url.into(), file, here.into());
        let origin = Origin {
            file: file.into(),
            key: here.into(),
        };
        match BucketName::parse(url) {
            Ok(bucket) => {
                if !self.buckets.iter().any(|(b, _)| *b == bucket) {
                    self.buckets.push((bucket, origin));
                }
            }
            Err(e) => self.notes.push(format!("{origin}: {e}")),
        }
    }

    fn finish(&mut self, task_targets: Vec<GcpTarget>) {
        // jobs.bucket: only a gs:// bucket is on GCP, and not when SkyPilot is told to skip it.
        if let Some((url, origin)) = self.jobs_bucket.clone() {
            if let Some(disabled) = &self.force_disable_cloud_bucket {
                self.notes.push(format!(
                    "{origin} is not used: {disabled} is true (managed jobs upload through the controller)."
                ));
            } else if url.starts_with("gs://") {
                match BucketName::parse(&url) {
                    Ok(bucket) => {
                        self.buckets.retain(|(b, _)| *b != bucket);
                        self.buckets.insert(0, (bucket, origin.clone()));
                        self.derivations.push(Derivation {
                            setting: Setting::Bucket,
                            value: url,
                            origin,
                        });
                    }
                    Err(e) => self.notes.push(format!("{origin}: {e}")),
                }
            } else {
                self.notes.push(format!(
                    "{origin} ({url}) is not on GCS: it needs no GCP storage permission."
                ));
            }
        }
        if self.origin_of(Setting::Bucket).is_none() {
            if let Some((bucket, origin)) = self.buckets.first().cloned() {
                self.derivations.push(Derivation {
                    setting: Setting::Bucket,
                    value: format!("gs://{}", bucket.as_str()),
                    origin,
                });
            }
        }
        if matches!(self.target, Some(GcpTarget::NotGcp(_))) {
            return;
        }
        self.target = Some(if task_targets.is_empty() {
            GcpTarget::NoTask
        } else if let Some(p) = task_targets
            .iter()
            .find(|t| matches!(t, GcpTarget::Pinned(_)))
        {
            p.clone()
        } else if task_targets.contains(&GcpTarget::Possible) {
            GcpTarget::Possible
        } else {
            task_targets.into_iter().next().unwrap_or(GcpTarget::NoTask)
        });
    }

    /// The plan input these files ask for: options, the first GCS bucket (`jobs.bucket` first)
    /// and the service account from `gcp.remote_identity`.
    pub fn plan_input(&self) -> PlanInput {
        PlanInput {
            options: self.options,
            custom: Vec::new(),
            skip_skypilot: false,
            bucket: self.buckets.first().map(|(b, _)| b.clone()),
            service_account: self.service_account.as_ref().map(|(s, _)| s.clone()),
        }
    }

    /// Where `setting` came from, if a file set it (the first source).
    pub fn origin_of(&self, setting: Setting) -> Option<&Origin> {
        self.derivations
            .iter()
            .find(|d| d.setting == setting)
            .map(|d| &d.origin)
    }

    /// Whether the check is worth running for these tasks (`false`: none can run on GCP).
    pub fn targets_gcp(&self) -> bool {
        !matches!(self.target, Some(GcpTarget::NotGcp(_)))
    }
}
