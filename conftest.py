"""Shared fixtures. Tests run on the real embedded PostgreSQL with pgvector and the real embedding model."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from intelligence.tests.anthropic_stub import AnthropicStub


@pytest.fixture(autouse=True)
def fresh_intent_models():
    """Each test has its own database state: no process-level model trained in another test may answer."""
    from intelligence.classifier import invalidate_intent_models

    invalidate_intent_models()


@pytest.fixture
def demo_knowledge(db):
    """The demo business's labelled intent examples and knowledge base, embedded with the real model."""
    from intelligence.examples import intent_examples_add, seed_examples
    from intelligence.knowledge import knowledge_load_path

    intent_examples_add(examples=seed_examples())
    knowledge_load_path(path=settings.BASE_DIR / "intelligence" / "data" / "demo_knowledge")


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
