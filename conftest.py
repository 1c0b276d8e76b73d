"""Shared fixtures. Tests run on the real embedded PostgreSQL with pgvector and the real embedding model."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from intelligence.tests.anthropic_stub import AnthropicStub
from messaging.tests.twilio_support import twilio  # noqa: F401 (a shared fixture)


@pytest.fixture(autouse=True)
def fresh_intent_models():
    """Each test has its own database state: no process-level model trained in another test may answer."""
    from bizpilot.flags import flags_forget
    from intelligence.classifier import invalidate_intent_models
    from intelligence.embedding_state import forget_active_model

    invalidate_intent_models()
    forget_active_model()  # nor the embedding model another test switched to
    flags_forget()  # nor feature flags another test saved
    from bizpilot.process_cache import ProcessCached
    from meetings.calendar_busy import forget_cached_busy

    ProcessCached.forget_all()  # nor the webhook subscriptions, CRM connections or alert recipients another made
    forget_cached_busy()  # nor the calendar another test read
    from django.core.cache import caches

    caches["throttle"].clear()  # nor the wrong keys and passwords another test tried (all from 127.0.0.1)


# What the demo business's loaders write: kept once per session in side tables (see demo_snapshot).
_SNAPSHOT_TABLES = [
    "intelligence_knowledgedocument",
    "intelligence_knowledgechunk",
    "intelligence_intentexample",
    "intelligence_modelcall",
]


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker):
    """The demo business's labelled examples and knowledge base, loaded once per session by the real loaders
    (embedded with the real model) and copied into side tables; then the loaded rows are removed again, so a test
    that does not ask for them starts empty."""
    from django.db import connection, transaction

    from intelligence.examples import intent_examples_add
    from intelligence.knowledge import knowledge_load_path
    from intelligence.seed_set import seed_examples

    with django_db_blocker.unblock(), transaction.atomic(), connection.cursor() as cursor:
        before = {}
        for table in _SNAPSHOT_TABLES:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608 (our own table names)
            before[table] = cursor.fetchone()[0]
        intent_examples_add(examples=seed_examples())
        knowledge_load_path(path=settings.BASE_DIR / "intelligence" / "data" / "demo_knowledge")
        for table in _SNAPSHOT_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS snapshot_{table}")
            cursor.execute(f"CREATE TABLE snapshot_{table} AS SELECT * FROM {table} WHERE id > %s", [before[table]])  # noqa: S608
        for table in reversed(_SNAPSHOT_TABLES):
            cursor.execute(f"DELETE FROM {table} WHERE id > %s", [before[table]])  # noqa: S608
    return _SNAPSHOT_TABLES


@pytest.fixture
def demo_knowledge(db, demo_snapshot):
    """The demo business's labelled intent examples and knowledge base, embedded with the real model: the rows the
    loaders wrote once this session, copied in by the database server (a third of the time of loading them)."""
    from django.db import connection

    from intelligence.examples import examples_changed

    with connection.cursor() as cursor:
        for table in demo_snapshot:
            cursor.execute(f"INSERT INTO {table} SELECT * FROM snapshot_{table}")  # noqa: S608
    examples_changed()


@pytest.fixture
def api_key(db) -> str:
    from leads.api_keys import api_key_create

    _, key = api_key_create(name="test-integration")
    return key


@pytest.fixture
def api(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key}")
    return client


@pytest.fixture
def anthropic_stub(settings, monkeypatch):
    """The LLM switched on and pointed (through the SDK's own ANTHROPIC_BASE_URL) at a local Messages API stub."""
    stub = AnthropicStub().start()
    monkeypatch.setenv("ANTHROPIC_BASE_URL", stub.base_url)
    settings.ANTHROPIC_API_KEY = "sk-ant-test-key"
    settings.LLM_MAX_RETRIES = 2
    settings.LLM_TIMEOUT_SECONDS = 2.0
    yield stub
    stub.stop()


@pytest.fixture
def ollama_stub(settings):
    """LLM_PROVIDER=ollama pointed at a local stub of Ollama's chat API (no Anthropic key: nothing goes there)."""
    from intelligence.llm import OllamaClient

    stub = AnthropicStub().start()
    settings.LLM_PROVIDER = "ollama"
    settings.OLLAMA_BASE_URL = stub.base_url
    settings.OLLAMA_MODEL = "llama3.1:8b"
    settings.ANTHROPIC_API_KEY = ""
    settings.LLM_MAX_RETRIES = 2
    settings.LLM_TIMEOUT_SECONDS = 2.0
    backoff, OllamaClient.backoff_seconds = OllamaClient.backoff_seconds, 0.01
    yield stub
    OllamaClient.backoff_seconds = backoff
    stub.stop()
