"""gcp_preflight.PreflightPolicy inside SkyPilot 0.14.1, and gcp_preflight.check(), against the
fake Google over loopback HTTPS (the real native transport, TLS, cache and token path: the
policy runs the fake `gcloud` on PATH for the application-default token).

UserRequests are built as SkyPilot 0.14.1 builds them (../shared/reference/skypilot/ADMIN-POLICY.md).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import time

import pytest
import yaml

import sky
from sky import skypilot_config
from sky.utils import admin_policy_utils

import gcp_preflight
from gcp_preflight import PreflightPolicy

ROOT = pathlib.Path(__file__).resolve().parents[2]
LAUNCH = sky.AdminPolicyRequestName.CLUSTER_LAUNCH
JOBS_LAUNCH = sky.AdminPolicyRequestName.JOBS_LAUNCH

GCP_TASK = """
resources:
  infra: gcp
  cpus: 4
run: python train.py
"""
AWS_TASK = """
resources:
  infra: aws/us-east-1
run: python train.py
"""


def in_project(project: str, **rest):
    """A config whose default workspace runs in `project` (SkyPilot's schema allows the project
    only per workspace: `workspaces.<name>.gcp.project_id`)."""
    return {"workspaces": {"default": {"gcp": {"project_id": project}}}, **rest}


def user_request(task_yaml: str, name=LAUNCH, config=None, at_client_side=True):
    task = sky.Task.from_yaml_config(yaml.safe_load(textwrap.dedent(task_yaml)))
    cfg = sky.Config.from_dict(config or {})
    return sky.UserRequest(task=task, skypilot_config=cfg, request_name=name, at_client_side=at_client_side)


def apply(req):
    return PreflightPolicy.validate_and_mutate(req)


def rejected(req) -> str:
    with pytest.raises(sky.exceptions.UserRequestRejectedByPolicy) as e:
        apply(req)
    return str(e.value)


def test_a_gcp_task_missing_compute_is_rejected_with_the_permission(machine):
    machine.login("alice")
    machine.gcloud_project("demo-seed-1")
    message = rejected(user_request(GCP_TASK))
    for part in [
        "this launch would fail on GCP project demo-seed-1 as alice@example.com (checked just now)",
        "Compute: Not ready",
        "missing permissions: compute.firewalls.create, compute.firewalls.delete",
        "gcloud projects add-iam-policy-binding demo-seed-1 --member=user:alice@example.com",
    ]:
        assert part in message, message
    assert machine.fake.tokens["alice"] not in message
    assert machine.gcloud_calls() == ["auth application-default print-access-token"]
    hosts = {r["host"] for r in machine.fake.requests()}
    assert "oauth2.googleapis.com" in hosts and "cloudresourcemanager.googleapis.com" in hosts


def test_skypilot_loads_the_policy_from_its_config_and_prints_the_rejection(machine, monkeypatch, tmp_path):
    """The whole path: `admin_policy: gcp_preflight.PreflightPolicy` in a config SkyPilot loads."""
    machine.login("alice")
    config = tmp_path / "config.yaml"
    config.write_text(
        "admin_policy: gcp_preflight.PreflightPolicy\n"
        "workspaces:\n  default:\n    gcp:\n      project_id: demo-seed-1\n"
    )
    monkeypatch.setenv("SKYPILOT_CONFIG", str(config))
    skypilot_config.reload_config()
    try:
        task = sky.Task.from_yaml_config(yaml.safe_load(GCP_TASK))
        with pytest.raises(sky.exceptions.UserRequestRejectedByPolicy) as e:
            admin_policy_utils.apply(task, LAUNCH, at_client_side=True)
    finally:
        monkeypatch.delenv("SKYPILOT_CONFIG")
        skypilot_config.reload_config()
    message = str(e.value)
    assert "compute.firewalls.create" in message and "demo-seed-1" in message, message
    # What a user sees (kept for the README and the report).
    out = ROOT / "target" / "python-rejection.txt"
    out.parent.mkdir(exist_ok=True)
    out.write_text(f"sky.exceptions.UserRequestRejectedByPolicy: {message}\n")


def test_an_aws_only_task_is_untouched_with_nothing_run_or_sent(machine):
    machine.login("alice")
    machine.gcloud_project("demo-seed-1")
    for name in (LAUNCH, JOBS_LAUNCH, sky.AdminPolicyRequestName.SERVE_UP):
        req = user_request(AWS_TASK, name=name, config={"jobs": {"bucket": "gs://demo-seed-1-skypilot"}})
        before = req.task.to_yaml_config()
        started = time.perf_counter()
        out = apply(req)
        took = time.perf_counter() - started
        assert out.task is req.task and out.skypilot_config is req.skypilot_config
        assert out.task.to_yaml_config() == before
        assert took < 0.5, f"{took:.3f} s"
    assert machine.fake.requests() == []
    assert machine.gcloud_calls() == [], "not even the token was asked for"


def test_requests_other_than_launches_and_server_side_ones_are_untouched(machine):
    machine.login("alice")
    machine.gcloud_project("demo-seed-1")
    for req in (
        user_request(GCP_TASK, name=sky.AdminPolicyRequestName.CLUSTER_EXEC),
        user_request(GCP_TASK, name=sky.AdminPolicyRequestName.VALIDATE),
        user_request(GCP_TASK, at_client_side=False),
    ):
        assert apply(req).task is req.task
    assert machine.fake.requests() == [] and machine.gcloud_calls() == []


def test_a_tpu_task_is_checked_for_the_tpu_api(machine):
    # frank cannot enable APIs, and the TPU API is off in opts-tpu-8.
    machine.login("frank")
    message = rejected(
        user_request("resources:\n  accelerators: tpu-v4-8\nrun: python train.py\n",
                     config=in_project("opts-tpu-8"))
    )
    assert "APIs off: tpu.googleapis.com" in message, message
    assert "TPUs: tpu-v4-8 (task.yaml: resources.accelerators)" in message, message
    assert "gcloud services enable tpu.googleapis.com --project=opts-tpu-8" in message, message
    assert "frank@example.com" in message


def test_a_gs_mount_is_checked_on_its_bucket(machine):
    # erin is owner-like on owner-bkt-11, but the bucket's own policy grants her nothing.
    machine.login("erin")
    machine.gcloud_project("owner-bkt-11")
    task = "resources:\n  infra: gcp\nfile_mounts:\n  /data: gs://owner-bkt-11-locked/train\nrun: ls /data\n"
    message = rejected(user_request(task))
    assert "Storage: Not ready" in message, message
    assert "GCS storage mounts: gs://owner-bkt-11-locked/train (task.yaml: file_mounts./data)" in message, message
    assert "storage.objects.get" in message, message
    assert "gs://owner-bkt-11-locked" in message


def test_jobs_launch_needs_the_jobs_bucket_and_launch_does_not(machine):
    # bob may use compute-only-16's VMs, but may not create or delete buckets there.
    machine.login("bob")
    config = in_project("compute-only-16", jobs={"bucket": "gs://compute-only-16-jobs"})
    message = rejected(user_request(GCP_TASK, name=JOBS_LAUNCH, config=config))
    assert "Managed jobs: Not ready" in message, message
    assert "Bucket: gs://compute-only-16-jobs (skypilot-config.yaml: jobs.bucket)" in message, message
    req = user_request(GCP_TASK, name=LAUNCH, config=config)
    assert apply(req).task is req.task


def test_unknown_warns_in_one_line_unless_strict(machine, monkeypatch, capsys):
    machine.login(None)  # the ADC credentials need a new login
    machine.gcloud_project("demo-seed-1")
    req = user_request(GCP_TASK)
    assert apply(req).task is req.task
    warning = capsys.readouterr().err.strip()
    assert len(warning.splitlines()) == 1, warning
    assert "could not check GCP" in warning and "Reauthentication failed" in warning, warning
    assert "GCP_PREFLIGHT_STRICT=1" in warning

    monkeypatch.setenv("GCP_PREFLIGHT_STRICT", "1")
    message = rejected(user_request(GCP_TASK))
    assert "Reauthentication failed" in message and "GCP_PREFLIGHT_STRICT=1" in message, message
    assert machine.fake.requests() == []
    assert os.listdir(machine.cache) == [] if machine.cache.exists() else True


def test_no_project_anywhere_is_unknown(machine, capsys):
    machine.login("alice")
    req = user_request(GCP_TASK)
    assert apply(req).task is req.task
    warning = capsys.readouterr().err
    assert "gcloud config set project" in warning, warning
    assert machine.fake.requests() == []


def test_ready_is_unchanged_and_a_second_launch_costs_no_request(machine):
    machine.login("bob")
    machine.gcloud_project("demo-seed-1")
    req = user_request(GCP_TASK, config={"gcp": {"vpc_name": None}})
    before = req.task.to_yaml_config()
    out = apply(req)
    assert out.task is req.task and out.skypilot_config is req.skypilot_config
    assert out.task.to_yaml_config() == before
    cold = machine.fake.requests()
    assert len(cold) >= 5
    machine.fake.reset()
    apply(user_request(GCP_TASK, config={"gcp": {"vpc_name": None}}))
    # The identity memo names the account (a keyed hash of the token): not even tokeninfo.
    assert machine.fake.requests() == []
    # File names are the hex of the store key: one result, the memo and its HMAC key.
    result_prefix = b"gcp-preflight/v1/".hex()
    entries = list(machine.cache.iterdir())
    assert len([e for e in entries if e.name.startswith(result_prefix)]) == 1, entries
    assert len(entries) == 3, entries
    for entry in entries:
        data = entry.read_bytes()
        assert machine.fake.tokens["bob"].encode() not in data and b"bob@example.com" not in data
        assert entry.stat().st_mode & 0o777 == 0o600, entry


def test_the_workspace_project_wins_as_in_skypilot(machine):
    machine.login("bob")
    machine.gcloud_project("demo-seed-1")
    config = {
        "active_workspace": "team",
        "workspaces": {
            "default": {"gcp": {"project_id": "demo-full-2"}},
            "team": {"gcp": {"project_id": "compute-only-16"}},
        },
    }
    apply(user_request(GCP_TASK, config=config))
    crm = [r["path"] for r in machine.fake.requests() if r["host"] == "cloudresourcemanager.googleapis.com"]
    assert crm and all(p.startswith("/v1/projects/compute-only-16:") for p in crm), crm


def test_timing_cold_and_cached_at_latency_L(machine):
    L = int(os.environ.get("L", "300"))
    machine.login("alice")
    machine.gcloud_project("bench-cold-5")
    machine.fake.latency(L)
    try:
        t0 = time.perf_counter()
        with pytest.raises(sky.exceptions.UserRequestRejectedByPolicy):
            apply(user_request(GCP_TASK))
        cold = (time.perf_counter() - t0) * 1000
        machine.fake.reset()
        t0 = time.perf_counter()
        with pytest.raises(sky.exceptions.UserRequestRejectedByPolicy) as e:
            apply(user_request(GCP_TASK))
        cached = (time.perf_counter() - t0) * 1000
        cached_requests = machine.fake.requests()
        t0 = time.perf_counter()
        apply(user_request(AWS_TASK))
        untouched = (time.perf_counter() - t0) * 1000
    finally:
        machine.fake.latency(0)
    assert "cached result of" in str(e.value)
    assert cached_requests == [], "a cached launch sends no request (the identity memo)"
    timing = {
        "L_ms": L, "cold_ms": round(cold), "cold_over_L": round(cold / L, 2),
        "cached_ms": round(cached), "cached_over_L": round(cached / L, 2),
        "untouched_aws_ms": round(untouched, 2),
    }
    (ROOT / "target" / "python-policy-timing.json").write_text(json.dumps(timing) + "\n")
    print(f"policy timing: {json.dumps(timing)}")
    # A cold check is one wave with tokeninfo in it (~1 L); a cached one sends nothing (the
    # identity memo names the account), so it costs no round trip at all.
    assert cold < 4 * L + 2000, timing
    assert cached < 3 * L + 2000, timing
    assert untouched < 500, timing


def test_check_returns_a_typed_report(machine):
    report = gcp_preflight.check(
        "demo-seed-1", task_yaml=GCP_TASK, config_yaml="gcp:\n  specific_reservations: [r-1]\n",
        token=machine.fake.tokens["alice"],
    )
    assert isinstance(report, gcp_preflight.Report)
    assert (report.project, report.account, report.status, report.ready) == (
        "demo-seed-1", "alice@example.com", "not_ready", False)
    compute = next(v for v in report.verdicts if v.topic == "compute")
    assert isinstance(compute, gcp_preflight.Verdict)
    assert compute.status == "not_ready" and "compute.firewalls.create" in compute.missing
    assert any(c.startswith("gcloud projects add-iam-policy-binding demo-seed-1") for c in report.fix_commands)
    assert report.derived == [("Reservations", "r-1", "skypilot-config.yaml: gcp.specific_reservations")]
    assert report.requests == len(machine.fake.requests()) and not report.cached
    assert machine.gcloud_calls() == [], "an explicit token: gcloud is not run"
    again = gcp_preflight.check("demo-seed-1", task_yaml=GCP_TASK,
                                config_yaml="gcp:\n  specific_reservations: [r-1]\n",
                                token=machine.fake.tokens["alice"])
    assert again.requests == 0 and again.cached and again.status == "not_ready"

    nothing = gcp_preflight.check("demo-seed-1", task_yaml=AWS_TASK, token="unused-token-123456")
    assert nothing.status == "ready" and "pins aws" in nothing.nothing_to_check

    with pytest.raises(gcp_preflight.PreflightError, match="--project"):
        gcp_preflight.check("Bad_Project", token="unused-token-123456")


def test_import_needs_no_skypilot_and_the_command_runs():
    code = "import sys, gcp_preflight; assert 'sky' not in sys.modules; print(gcp_preflight.check.__doc__ is not None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
    cli = pathlib.Path(sys.executable).parent / "gcp-preflight"
    out = subprocess.run([str(cli), "check", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--token-cmd" in out.stdout, out
    out = subprocess.run([str(cli), "check", "-p", "Bad_Project"], capture_output=True, text=True)
    assert out.returncode == 2 and "--project" in out.stderr, out
