//! `gcp_preflight._native`: the Python binding of gcp-preflight (PyO3, built by maturin).
//!
//! Thin on purpose: [`preflight`] does the work in plain Rust over the core, the native HTTPS
//! transport and the file cache of the `gcp-preflight` command; this module converts its
//! results into Python objects, obtains the token, and releases the GIL while Google is asked.
//! The typed Python API is `python/gcp_preflight/__init__.py` (stubs in `_native.pyi`).

pub mod preflight;

use gcp_preflight::core::token::Token;
use gcp_preflight::native::cache::{default_dir, FileStore};
use gcp_preflight::native::token::{obtain, TokenSource, TOKEN_ENV};
use gcp_preflight::native::transport::{Endpoint, NativeTransport};
use preflight::{Decision, Inputs, RequestKind, Target, World};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// One capability's verdict.
#[pyclass(frozen, get_all, module = "gcp_preflight._native")]
#[derive(Clone)]
pub struct Verdict {
    /// `compute`, `storage`, `managed_jobs`, `first_launch` or `custom`.
    pub topic: String,
    /// The capability in words (`Managed jobs`).
    pub title: String,
    /// `ready`, `not_ready` or `unknown`.
    pub status: String,
    /// Permissions missing.
    pub missing: Vec<String>,
    /// Names Google says are not valid on a project.
    pub not_valid: Vec<String>,
    /// APIs off that `sky check` will not turn on.
    pub apis_off: Vec<String>,
    /// Other blocking problems.
    pub blockers: Vec<String>,
    /// Things worth knowing that do not block.
    pub notes: Vec<String>,
    /// Why the answer is unknown.
    pub unknown_reasons: Vec<String>,
}

impl From<&preflight::VerdictOut> for Verdict {
    fn from(v: &preflight::VerdictOut) -> Self {
        Verdict {
            title: v.title(),
            topic: v.topic.clone(),
            status: v.status.clone(),
            missing: v.missing.clone(),
            not_valid: v.not_valid.clone(),
            apis_off: v.apis_off.clone(),
            blockers: v.blockers.clone(),
            notes: v.notes.clone(),
            unknown_reasons: v.unknown_reasons.clone(),
        }
    }
}

#[pymethods]
impl Verdict {
    fn __repr__(&self) -> String {
        format!(
            "Verdict(topic={:?}, status={:?}, missing={:?}, apis_off={:?})",
            self.topic, self.status, self.missing, self.apis_off
        )
    }
}

/// A finished check.
#[pyclass(frozen, get_all, module = "gcp_preflight._native")]
#[derive(Clone)]
pub struct Report {
    /// The project checked.
    pub project: String,
    /// The account checked (`None` when its token has no email scope).
    pub account: Option<String>,
    /// When Google answered (ISO 8601, UTC; empty when nothing was checked).
    pub checked_at: String,
    /// Whether the answer came from the cache.
    pub cached: bool,
    /// Requests this call sent to Google.
    pub requests: usize,
    /// `ready`, `not_ready` or `unknown`.
    pub status: String,
    /// One per capability.
    pub verdicts: Vec<Verdict>,
    /// Commands an admin runs to fix what is missing.
    pub fix_commands: Vec<String>,
    /// What the files asked for: `(setting, value, origin)`.
    pub derived: Vec<(String, String, String)>,
    /// Why nothing was checked (no task can run on GCP), else `None`.
    pub nothing_to_check: Option<String>,
}

impl From<&preflight::Report> for Report {
    fn from(r: &preflight::Report) -> Self {
        Report {
            project: r.project.clone(),
            account: r.account.clone(),
            checked_at: r.checked_at.clone(),
            cached: r.cached,
            requests: r.requests,
            status: r.status().to_owned(),
            verdicts: r.verdicts.iter().map(Verdict::from).collect(),
            fix_commands: r.fix_commands.clone(),
            derived: r.derived.clone(),
            nothing_to_check: r.nothing_to_check.clone(),
        }
    }
}

#[pymethods]
impl Report {
    /// Whether every capability is ready (or there was nothing to check).
    #[getter]
    fn ready(&self) -> bool {
        self.status == "ready"
    }

    fn __repr__(&self) -> String {
        format!(
            "Report(project={:?}, account={:?}, status={:?}, cached={})",
            self.project,
            self.account,
            self.status,
            if self.cached { "True" } else { "False" }
        )
    }
}

/// The real world: HTTPS to Google (or the loopback test endpoint), the user's cache directory.
fn real_world_parts() -> Result<(NativeTransport, Option<FileStore>), String> {
    let var = |name: &str| std::env::var(name).ok();
    let endpoint = Endpoint::from_env(var, |p| std::fs::read(p))?;
    let transport = NativeTransport::new(&endpoint)?;
    let store = default_dir(var).and_then(|dir| FileStore::open(&dir).ok());
    Ok((transport, store))
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Checks `project` for a task and a SkyPilot config given as YAML text. The token is `token`,
/// else `$GCP_PREFLIGHT_TOKEN`, else `gcloud auth application-default print-access-token`.
#[pyfunction]
#[pyo3(signature = (project, task_yaml=None, config_yaml=None, token=None))]
fn check(
    py: Python<'_>,
    project: String,
    task_yaml: Option<String>,
    config_yaml: Option<String>,
    token: Option<String>,
) -> PyResult<Report> {
    let result = py.detach(move || {
        let (transport, store) = real_world_parts()?;
        let get_token = || match &token {
            Some(text) => Token::parse(text).map_err(|e| format!("token: {e}")),
            None => {
                let env_value = std::env::var(TOKEN_ENV).ok();
                obtain(
                    &TokenSource::choose(None, env_value.as_deref()),
                    env_value.as_deref(),
                )
            }
        };
        let world = World {
            transport: &transport,
            store: store.as_ref(),
            token: &get_token,
            now_ms: &now_ms,
        };
        let inputs = Inputs {
            task_yaml: task_yaml.as_deref(),
            config_yaml: config_yaml.as_deref(),
        };
        preflight::check(&project, &inputs, &world)
    });
    result
        .map(|r| Report::from(&r))
        .map_err(PyRuntimeError::new_err)
}

/// Whether a task (and config) can run on GCP, from the YAML alone: `("gcp", origin)`,
/// `("open", why)` or `("not_gcp", why)`. No network, no token.
#[pyfunction]
#[pyo3(signature = (task_yaml=None, config_yaml=None))]
fn gcp_target(task_yaml: Option<&str>, config_yaml: Option<&str>) -> PyResult<(String, String)> {
    let inputs = Inputs {
        task_yaml,
        config_yaml,
    };
    preflight::target(&inputs)
        .map(|t| match t {
            Target::Gcp(origin) => ("gcp".into(), origin),
            Target::Open => ("open".into(), "no cloud pinned".into()),
            Target::NotGcp(why) => ("not_gcp".into(), why),
        })
        .map_err(PyValueError::new_err)
}

/// The admin policy's decision for one request: `(action, message)` with action `untouched`,
/// `allow`, `reject` or `warn`. `project` is the project SkyPilot will use, or `None` with
/// `project_problem` saying why it is not known. The token is application-default credentials'
/// (`gcloud auth application-default print-access-token`), as SkyPilot's.
#[pyfunction]
#[pyo3(signature = (request_name, task_yaml, config_yaml, project, project_problem=None, strict=false))]
fn decide(
    py: Python<'_>,
    request_name: &str,
    task_yaml: String,
    config_yaml: Option<String>,
    project: Option<String>,
    project_problem: Option<String>,
    strict: bool,
) -> (String, String) {
    let Some(kind) = RequestKind::of(request_name) else {
        return ("untouched".into(), format!("{request_name} is not checked"));
    };
    let decision = py.detach(move || {
        let (transport, store) = match real_world_parts() {
            Ok(parts) => parts,
            Err(e) => return Err(e),
        };
        let get_token = || obtain(&TokenSource::Gcloud, None);
        let world = World {
            transport: &transport,
            store: store.as_ref(),
            token: &get_token,
            now_ms: &now_ms,
        };
        let inputs = Inputs {
            task_yaml: Some(&task_yaml),
            config_yaml: config_yaml.as_deref(),
        };
        let project = || match (&project, &project_problem) {
            (Some(p), _) => Ok(p.clone()),
            (None, Some(why)) => Err(why.clone()),
            (None, None) => Err("no GCP project is set".into()),
        };
        Ok(preflight::decide(kind, &inputs, &project, &world, strict))
    });
    let decision = decision.unwrap_or_else(|e| {
        if strict {
            Decision::Reject(format!("GCP preflight could not check this launch: {e}"))
        } else {
            Decision::Warn(format!(
                "gcp-preflight: could not check GCP ({e}); launching anyway."
            ))
        }
    });
    to_action(decision)
}

/// A decision as the `(action, message)` pair Python sees.
pub fn to_action(decision: Decision) -> (String, String) {
    match decision {
        Decision::Untouched(why) => ("untouched".into(), why),
        Decision::Allow(report) => (
            "allow".into(),
            format!(
                "GCP project {} ready for {}",
                report.project,
                report.account.as_deref().unwrap_or("the account")
            ),
        ),
        Decision::Reject(message) => ("reject".into(), message),
        Decision::Warn(message) => ("warn".into(), message),
    }
}

/// `gcp-preflight ARGS…` (the Rust command's `main`, program name first); returns the exit code.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(move || gcp_preflight::native::cli::main_with_args(argv))
}

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Report>()?;
    m.add_class::<Verdict>()?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(gcp_target, m)?)?;
    m.add_function(wrap_pyfunction!(decide, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add("STRICT_ENV", preflight::STRICT_ENV)?;
    Ok(())
}
