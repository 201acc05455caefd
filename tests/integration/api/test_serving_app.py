"""A serving process's app (``serving_app``) tunes its process for a long life; an app made for a
test does not: frozen objects are never collected, and test apps come and go."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import gc, sys
from fastapi.testclient import TestClient
from oberih.api.app import create_app, serving_app
from oberih.config import load_settings

app = serving_app() if sys.argv[1] == "serving" else create_app(load_settings())
before = gc.get_freeze_count()
with TestClient(app) as client:
    assert client.get("/health/live").status_code == 200
    print(before, gc.get_freeze_count())
"""


@pytest.mark.parametrize("kind", ["serving", "test"])
def test_only_a_serving_app_freezes_what_start_up_built(tmp_path: Path, kind: str) -> None:
    environment = {
        **os.environ,
        "OBERIH_ENV": "development",
        "OBERIH_DATABASE_URL": f"sqlite:///{tmp_path / 'register.db'}",
        "OBERIH_DATA_DIR": str(tmp_path),
    }
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, kind],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    before, after = map(int, probe.stdout.split())
    assert before == 0
    if kind == "serving":
        assert after > 10_000  # the app, its models and the imported modules
    else:
        assert after == 0
