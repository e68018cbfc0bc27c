"""Type stubs of the Rust extension module ``gcp_preflight._native``."""

from typing import Literal, Optional

STRICT_ENV: str

class Verdict:
    """One capability's verdict."""

    topic: Literal["compute", "storage", "managed_jobs", "first_launch", "custom"]
    title: str
    status: Literal["ready", "not_ready", "unknown"]
    missing: list[str]
    not_valid: list[str]
    apis_off: list[str]
    blockers: list[str]
    notes: list[str]
    unknown_reasons: list[str]

class Report:
    """A finished check."""

    project: str
    account: Optional[str]
    checked_at: str
    cached: bool
    requests: int
    status: Literal["ready", "not_ready", "unknown"]
    verdicts: list[Verdict]
    fix_commands: list[str]
    derived: list[tuple[str, str, str]]
    nothing_to_check: Optional[str]
    @property
    def ready(self) -> bool: ...

def check(
    project: str,
    task_yaml: Optional[str] = None,
    config_yaml: Optional[str] = None,
    token: Optional[str] = None,
) -> Report: ...
def gcp_target(
    task_yaml: Optional[str] = None, config_yaml: Optional[str] = None
) -> tuple[Literal["gcp", "open", "not_gcp"], str]: ...
def decide(
    request_name: str,
    task_yaml: str,
    config_yaml: Optional[str],
    project: Optional[str],
    project_problem: Optional[str] = None,
    strict: bool = False,
) -> tuple[Literal["untouched", "allow", "reject", "warn"], str]: ...
def cli_main(argv: list[str]) -> int: ...
