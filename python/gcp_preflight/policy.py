"""``PreflightPolicy``: a SkyPilot admin policy that checks GCP before a launch.

Set ``admin_policy: gcp_preflight.PreflightPolicy`` in ``~/.sky/config.yaml``. On the client
side, for ``sky launch``, ``sky jobs launch`` and ``sky serve up``/``update`` of a task that
pins GCP (``infra``/``cloud: gcp``, a GCP choice in ``any_of``/``ordered``, or a TPU), it hands
the task's YAML form and the effective config to the Rust core (the same mapping as
``gcp-preflight check``), with the account of application-default credentials and the project
SkyPilot resolves. Not ready: the launch is refused with what is missing and how to fix it.
Unknown: a one-line warning and the launch goes on, unless ``GCP_PREFLIGHT_STRICT=1``. Ready:
the request is returned unchanged. It never changes the task, and the token is never written
anywhere. Every other request is returned untouched at once: no file, process or network.
"""

from __future__ import annotations

import configparser
import json
import os
import sys
from typing import Any, Mapping, Optional, Tuple

import sky

from gcp_preflight import _native

#: Request names acted on (``sky.AdminPolicyRequestName`` values); all others pass untouched.
ACTED_ON = frozenset({"launch", "jobs.launch", "serve.up", "serve.update"})


def _nested(config: Mapping[str, Any], *keys: str) -> Any:
    value: Any = config
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _gcloud_project() -> Tuple[Optional[str], Optional[str]]:
    """The core/project of gcloud's active configuration, read as gcloud reads it."""
    if os.environ.get("CLOUDSDK_CORE_PROJECT"):
        return os.environ["CLOUDSDK_CORE_PROJECT"], None
    config_dir = os.environ.get("CLOUDSDK_CONFIG") or os.path.expanduser("~/.config/gcloud")
    name = os.environ.get("CLOUDSDK_ACTIVE_CONFIG_NAME")
    if not name:
        try:
            with open(os.path.join(config_dir, "active_config"), encoding="utf-8") as f:
                name = f.read().strip()
        except OSError:
            name = ""
    name = name or "default"
    parser = configparser.ConfigParser()
    try:
        parser.read(os.path.join(config_dir, "configurations", f"config_{name}"), encoding="utf-8")
    except configparser.Error as e:
        return None, f"gcloud configuration {name!r} could not be read: {e}"
    project = parser.get("core", "project", fallback="").strip()
    if project:
        return project, None
    return None, (
        "no GCP project: set gcp.project_id in ~/.sky/config.yaml or run "
        "`gcloud config set project PROJECT_ID`"
    )


def resolve_project(config: Optional[Mapping[str, Any]]) -> Tuple[Optional[str], Optional[str]]:
    """The project SkyPilot will launch in, and ``None`` or why it is not known.

    As ``sky.clouds.GCP.get_project_id`` resolves it: the active workspace's
    ``gcp.project_id``, else the config's ``gcp.project_id``, else ``google.auth.default()``'s
    project: ``$GOOGLE_CLOUD_PROJECT`` / ``$GCLOUD_PROJECT``, a service-account key in
    ``$GOOGLE_APPLICATION_CREDENTIALS``, else gcloud's configured project.
    """
    config = config or {}
    workspace = config.get("active_workspace") or "default"
    for keys in (("workspaces", workspace, "gcp", "project_id"), ("gcp", "project_id")):
        project = _nested(config, *keys)
        if isinstance(project, str) and project:
            return project, None
    for var in ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"):
        if os.environ.get(var):
            return os.environ[var], None
    key_file = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    default_adc = os.path.join(
        os.environ.get("CLOUDSDK_CONFIG") or os.path.expanduser("~/.config/gcloud"),
        "application_default_credentials.json",
    )
    if key_file and os.path.abspath(key_file) != os.path.abspath(default_adc):
        try:
            with open(key_file, encoding="utf-8") as f:
                info = json.load(f)
        except (OSError, ValueError) as e:
            return None, f"GOOGLE_APPLICATION_CREDENTIALS could not be read: {e}"
        project = info.get("project_id") if info.get("type") == "service_account" else None
        if project:
            return project, None
        return None, "GOOGLE_APPLICATION_CREDENTIALS names no project: set gcp.project_id"
    return _gcloud_project()


def _yaml(value: Any) -> str:
    from sky.utils import yaml_utils

    return yaml_utils.dump_yaml_str(value)


def _strict() -> bool:
    return os.environ.get(_native.STRICT_ENV, "").strip() == "1"


class PreflightPolicy(sky.AdminPolicy):
    """Refuses a GCP launch that would fail for missing permissions or APIs."""

    @classmethod
    def validate_and_mutate(cls, user_request: sky.UserRequest) -> sky.MutatedUserRequest:
        unchanged = sky.MutatedUserRequest(user_request.task, user_request.skypilot_config)
        # Server side the environment is the server's, not the user's credentials.
        if not user_request.at_client_side:
            return unchanged
        name = str(getattr(user_request.request_name, "value", user_request.request_name))
        if name not in ACTED_ON:
            return unchanged
        task_yaml = _yaml(user_request.task.to_yaml_config())
        config = user_request.skypilot_config
        # Config is a dict subclass: a plain copy for the YAML dump.
        config_plain = json.loads(json.dumps(dict(config), default=str)) if config else None
        config_yaml = _yaml(config_plain) if config_plain else None
        strict = _strict()
        try:
            target, _ = _native.gcp_target(task_yaml, config_yaml)
        except ValueError as e:
            target = "gcp" if strict else "unreadable"
            if not strict:
                print(f"gcp-preflight: the task could not be read ({e}); not checked.", file=sys.stderr)
        if target != "gcp":
            return unchanged
        project, problem = resolve_project(config_plain)
        action, message = _native.decide(name, task_yaml, config_yaml, project, problem, strict)
        if action == "reject":
            raise sky.exceptions.UserRequestRejectedByPolicy(message)
        if action == "warn":
            print(message, file=sys.stderr)
        return unchanged
