"""Fixtures of the Python tests: the fake Google over loopback HTTPS, and a user's machine with a
fake `gcloud` on PATH (application-default token, configured project) and its own cache."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
from typing import Any, Optional

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


class FakeGoogle:
    """tests/python/fake-google-server.mjs, driven over its stdin."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            ["node", str(ROOT / "tests/python/fake-google-server.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.port: int = info["port"]
        self.ca: str = info["ca"]
        self.tokens: dict[str, str] = info["tokens"]

    def _ask(self, command: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def requests(self) -> list[dict[str, Any]]:
        return self._ask({"cmd": "requests"})

    def reset(self) -> None:
        self._ask({"cmd": "reset"})

    def latency(self, ms: int) -> None:
        self._ask({"cmd": "latency", "ms": ms})

    def violations(self) -> list[Any]:
        return self._ask({"cmd": "violations"})

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="session")
def fake_google():
    fake = FakeGoogle()
    yield fake
    fake.close()


FAKE_GCLOUD = """#!/bin/sh
# A stand-in for gcloud: logs each call, prints $FAKE_GCLOUD_TOKEN as the ADC token.
echo "$*" >> "$FAKE_GCLOUD_LOG"
case "$*" in
  "auth application-default print-access-token")
    if [ -n "$FAKE_GCLOUD_TOKEN" ]; then printf '%s\\n' "$FAKE_GCLOUD_TOKEN"; exit 0; fi
    echo "ERROR: (gcloud.auth.application-default.print-access-token) Reauthentication failed. cannot prompt during non-interactive execution." >&2
    exit 1;;
esac
echo "fake gcloud: unexpected arguments: $*" >&2
exit 2
"""


class Machine:
    """One user's machine: HOME, gcloud's ADC account and project, the cache."""

    def __init__(self, root: pathlib.Path, fake: FakeGoogle, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.fake = fake
        self.home = root / "home"
        self.home.mkdir()
        bin_dir = root / "bin"
        bin_dir.mkdir()
        gcloud = bin_dir / "gcloud"
        gcloud.write_text(FAKE_GCLOUD)
        gcloud.chmod(0o755)
        self.gcloud_log = root / "gcloud.log"
        self.gcloud_log.touch()
        self.cache = root / "cache"
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("HOME", str(self.home))
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_GCLOUD_LOG", str(self.gcloud_log))
        monkeypatch.setenv("FAKE_GCLOUD_TOKEN", "")
        monkeypatch.setenv("GCP_PREFLIGHT_TEST_ENDPOINT", f"https://127.0.0.1:{fake.port}")
        monkeypatch.setenv("GCP_PREFLIGHT_TEST_CA", fake.ca)
        monkeypatch.setenv("GCP_PREFLIGHT_CACHE_DIR", str(self.cache))
        for var in (
            "GCP_PREFLIGHT_STRICT", "GCP_PREFLIGHT_TOKEN", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT",
            "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG", "CLOUDSDK_CORE_PROJECT",
            "CLOUDSDK_ACTIVE_CONFIG_NAME",
        ):
            monkeypatch.delenv(var, raising=False)
        fake.reset()

    def login(self, who: Optional[str]) -> None:
        """`gcloud auth application-default login` as `who` (None: credentials gone)."""
        self.monkeypatch.setenv("FAKE_GCLOUD_TOKEN", self.fake.tokens[who] if who else "")

    def gcloud_project(self, project: str) -> None:
        """`gcloud config set project PROJECT` (the file gcloud writes)."""
        configs = self.home / ".config/gcloud/configurations"
        configs.mkdir(parents=True, exist_ok=True)
        (configs / "config_default").write_text(f"[core]\nproject = {project}\naccount = someone@example.com\n")

    def gcloud_calls(self) -> list[str]:
        return self.gcloud_log.read_text().splitlines()


@pytest.fixture
def machine(fake_google, tmp_path, monkeypatch) -> Machine:
    m = Machine(tmp_path, fake_google, monkeypatch)
    yield m
    assert fake_google.violations() == [], "the fake Google saw a violation"
