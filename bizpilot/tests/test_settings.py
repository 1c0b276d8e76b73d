"""Production settings: SECRET_KEY is required and `check --deploy` is clean. Run in fresh processes."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

STRONG_KEY = "x9!Qv2#mL8@tR4$wZ7^pK1&nB6*cJ3(hF5)dG0_sA-eY+uI=oP~"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"}}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", BIZPILOT_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_passes_check_deploy_without_warnings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        BIZPILOT_ENV="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="leads.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_malformed_setting_is_a_clear_error():
    result = run_manage("check", WORKER_PROCESSES="many")
    assert result.returncode != 0
    assert "WORKER_PROCESSES must be an integer" in result.stderr


def test_every_setting_read_from_the_environment_is_documented_in_env_example():
    import re

    source = (settings.BASE_DIR / "bizpilot" / "settings.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|float|list)\("([A-Z_]+)"', source))
    documented = set(re.findall(r"^([A-Z_]+)=", (settings.BASE_DIR / ".env.example").read_text(), re.MULTILINE))
    assert read, "the pattern found no settings"
    assert read - documented == set()
