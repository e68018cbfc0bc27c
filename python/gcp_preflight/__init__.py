"""gcp-preflight: whether a Google account and GCP project hold what a SkyPilot job needs.

``check()`` runs the check of the ``gcp-preflight`` command (the Rust core, its HTTPS transport
and its per-account cache) for a task and a SkyPilot config given as YAML text.
``PreflightPolicy`` is a SkyPilot admin policy (``admin_policy: gcp_preflight.PreflightPolicy``)
that runs it before every launch; it is loaded lazily, so importing this package needs no
SkyPilot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from gcp_preflight._native import Report, Verdict
from gcp_preflight import _native

if TYPE_CHECKING:
    from gcp_preflight.policy import PreflightPolicy

__all__ = ["Report", "Verdict", "check", "PreflightPolicy", "PreflightError"]


class PreflightError(RuntimeError):
    """No answer: bad input, no token, or Google could not say whose the token is."""


def check(
    project: str,
    task_yaml: Optional[str] = None,
    config_yaml: Optional[str] = None,
    token: Optional[str] = None,
) -> Report:
    """Checks ``project`` for what the task and config need.

    ``task_yaml`` is a task file's text (or SkyPilot's ``task.to_yaml_config()`` dumped);
    ``config_yaml`` a SkyPilot config's (``~/.sky/config.yaml``). The token is ``token``, else
    ``$GCP_PREFLIGHT_TOKEN``, else ``gcloud auth application-default print-access-token``; it is
    kept in memory only. A fresh complete answer is cached per account, project and plan for
    10 minutes, as the command does. Raises ``PreflightError`` when there is no answer at all;
    a failed request for part of the check is an ``unknown`` verdict, never a missing one.
    """
    try:
        return _native.check(project, task_yaml, config_yaml, token)
    except RuntimeError as e:
        raise PreflightError(str(e)) from None


def __getattr__(name: str) -> Any:
    # SkyPilot is imported only when the policy is asked for.
    if name == "PreflightPolicy":
        from gcp_preflight.policy import PreflightPolicy

        return PreflightPolicy
    raise AttributeError(f"module 'gcp_preflight' has no attribute {name!r}")
