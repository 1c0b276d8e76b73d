"""BizPilot settings: everything comes from the environment (see .env.example for every variable and its default)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from bizpilot.envfile import load_env_file

BASE_DIR = Path(__file__).resolve().parent.parent


if os.environ.get("BIZPILOT_ENV") != "test":  # tests never read a developer's .env
    load_env_file(BASE_DIR / ".env")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


BIZPILOT_ENV = env_str("BIZPILOT_ENV", "development")
if BIZPILOT_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured("BIZPILOT_ENV must be development, test or production")
PRODUCTION = BIZPILOT_ENV == "production"
TESTING = BIZPILOT_ENV == "test"

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when BIZPILOT_ENV=production")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

DEBUG = env_bool("DEBUG", not PRODUCTION and not TESTING)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "anymail",
    "django_prometheus",
    "bizpilot",
    "leads",
    "intelligence",
    "meetings",
    "messaging",
    "alerts",
    "analytics",
    "integrations",
    "onboarding",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "bizpilot.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "bizpilot.security.SecurityHeadersMiddleware",
    "bizpilot.security.LoginThrottleMiddleware",
    "bizpilot.health.DatabaseUnavailableMiddleware",
    "bizpilot.business.BusinessTimeZoneMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "bizpilot.urls"
WSGI_APPLICATION = "bizpilot.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL, or the embedded PostgreSQL (pgserver, with pgvector) under .data/.
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    from bizpilot import embedded_db

    DATABASE_URL = embedded_db.ensure_running()
    os.environ["DATABASE_URL"] = DATABASE_URL  # child processes (worker, tests' qcluster) share the same server
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# The test database's name (two test runs on one server at once need two names).
if env_str("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME")}
# HNSW search breadth: 100 keeps recall@10 at or above 0.95 on embedding-like data up to 1M vectors (pgvector's own
# default, 40, drops to ~0.9 on less clustered data; see docs/intent-evaluation.md).
HNSW_EF_SEARCH = env_int("HNSW_EF_SEARCH", 100)
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c hnsw.ef_search={HNSW_EF_SEARCH}".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The database cache lets the web process see the worker's heartbeat (django-q cluster stats) in /healthz.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "bizpilot_cache",
    },
    # Request throttles (API rate per key, failed logins and API keys per address): in this process's memory, so
    # counting costs no query. Each web process counts on its own; point THROTTLE_CACHE_URL at Redis
    # (redis://host:6379/1) to share one count between processes and machines.
    "throttle": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env_str("THROTTLE_CACHE_URL")}
        if env_str("THROTTLE_CACHE_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bizpilot-throttle"}
    ),
}
# --- Security ---
# API requests per key (DRF rate syntax: N/second, N/minute, N/hour); over it, 429 with Retry-After.
API_RATE_LIMIT = env_str("API_RATE_LIMIT", "600/minute")
# Wrong API keys, and wrong admin passwords, per client address per minute before it is refused (429).
AUTH_FAILURES_PER_MINUTE = env_int("AUTH_FAILURES_PER_MINUTE", 10)
LOGIN_PATH = "/admin/login/"
# Behind a proxy that sets X-Forwarded-For (compose's, a load balancer), the client is its first hop.
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)
# Webhook bodies larger than this are refused with 413 (inbound email, with attachments, has its own limit).
WEBHOOK_MAX_BYTES = env_int("WEBHOOK_MAX_BYTES", 1024 * 1024)
INBOUND_EMAIL_MAX_BYTES = env_int("INBOUND_EMAIL_MAX_BYTES", 25 * 1024 * 1024)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")  # the server's clock (logs, the API); the business's is its profile's
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (CSV imports). Keep it on a persistent volume in production.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / ".data" / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Outside production WhiteNoise serves straight from the app and project static folders (no collectstatic).
WHITENOISE_AUTOREFRESH = not PRODUCTION
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "leads.auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "bizpilot.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "bizpilot.api_errors.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["leads.auth.ApiKeyRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "BizPilot API",
    "DESCRIPTION": "Ingest leads, read their classification and drafted replies, review drafts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API description is public (it holds no data); Swagger UI's assets are served locally, not from a CDN.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # OpenAPI 3.1 has a `webhooks` section: the signed events BizPilot sends (integrations.openapi).
    "OAS_VERSION": "3.1.0",
    "WEBHOOKS": "integrations.openapi.WEBHOOKS",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "bizpilot.openapi.postprocess",
        "integrations.openapi.postprocess",
    ],
}
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)
# A web process remembers an API key it verified for this long (no query per request); a revoked key stops working
# at once in the process that revoked it and within this time in the others. 0: check every request.
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 30)

# --- Background jobs (django-q2: the ORM broker in the same database, or Redis with Q_BROKER_URL) ---
JOB_QUEUE: str = "bizpilot"  # the default queue (and the cluster's name; see LLM_QUEUE below)
Q_CLUSTER: dict[str, Any] = {
    "name": JOB_QUEUE,
    "orm": "default",
    "workers": env_int("WORKER_PROCESSES", 2),
    "timeout": env_int("JOB_TIMEOUT_SECONDS", 300),
    "retry": env_int("JOB_TIMEOUT_SECONDS", 300) + 60,
    "max_attempts": env_int("JOB_MAX_ATTEMPTS", 3),
    "ack_failures": False,
    "catch_up": False,
    "poll": 0.5,
    "save_limit": 1000,
    "cache": "default",
    "sync": env_bool("JOBS_SYNC", TESTING),
    "label": "Background jobs",
    # A worker restarts gracefully (between tasks) once its peak memory passes this, or after this many tasks.
    "max_rss": env_int("WORKER_MAX_RSS_MB", 1000) * 1024,
    "recycle": env_int("WORKER_RECYCLE_TASKS", 500),
}
# Redis as the broker (redis://host:6379/0): many worker machines take jobs from one list per queue at once, without
# polling the database. A task is handed out once (no retry), so a worker killed mid-task loses its job; the sweeps
# pick its lead or reply up (requeue_stalled_leads, reconcile_sending). Results and schedules stay in PostgreSQL.
Q_BROKER_URL = env_str("Q_BROKER_URL")
if Q_BROKER_URL:
    if not Q_BROKER_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured("Q_BROKER_URL must be a Redis URL (redis://, rediss:// or unix://)")
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = Q_BROKER_URL
# Two queues, each served by its own cluster (django-q2's ALT_CLUSTERS; `run_worker` supervises both): LLM work
# (classifying and drafting a lead, drafting a follow-up) waits on a remote model for seconds, so it must not hold up
# sends, imports and sweeps, nor they it. The LLM cluster's timeout covers the client's own retries of a slow model.
LLM_QUEUE: str = f"{JOB_QUEUE}-llm"
JOB_QUEUES: tuple[str, ...] = (JOB_QUEUE, LLM_QUEUE)
_LLM_JOB_TIMEOUT = env_int("LLM_JOB_TIMEOUT_SECONDS", 300)
Q_CLUSTER["ALT_CLUSTERS"] = {
    LLM_QUEUE: {
        "workers": env_int("LLM_WORKER_PROCESSES", 2),
        "timeout": _LLM_JOB_TIMEOUT,
        "retry": _LLM_JOB_TIMEOUT + 60,
    }
}
# The watchdog of `manage.py run_worker` (bizpilot/worker.py): a task waiting longer than WORKER_STALL_SECONDS while
# none finished in as long and no worker is busy means the cluster froze; it is restarted. /healthz says `stalled`.
WORKER_STALL_SECONDS = env_int("WORKER_STALL_SECONDS", 60)
# Each worker process loads the embedding and intent models before its first job (no slow first lead after a start).
WORKER_PRELOAD = env_bool("WORKER_PRELOAD", True)
WORKER_WATCHDOG_SECONDS = env_float("WORKER_WATCHDOG_SECONDS", 5.0)
WORKER_STOP_SECONDS = env_float("WORKER_STOP_SECONDS", 8.0)

# --- Intelligence ---
# The sentence encoder of every stored vector (intelligence/encoders.py): universal-sentence-encoder-multilingual-3
# (the default; pure numpy, 16 languages), all-MiniLM-L6-v2 (English only) or multilingual-e5-small-q4 (needs AVX2
# and the `e5` extra). Compared by bench/encoder_selection.py (docs/intent-evaluation.md). Changing it re-embeds what
# is stored while the old vectors stay in use (`manage.py reembed`).
EMBEDDING_MODEL = env_str("EMBEDDING_MODEL", "universal-sentence-encoder-multilingual-3")
# The encoder that re-reads an English lead's candidate knowledge to choose the fact that answers
# (intelligence/facts.py): English-only all-MiniLM-L6-v2 reads English finer. Empty: the stored vectors' encoder.
ENGLISH_READER = env_str("ENGLISH_READER", "all-MiniLM-L6-v2")
# How all-MiniLM-L6-v2 runs, without torch: ONNX Runtime (a graph written from its weights) or numpy (4x slower, no
# compiled runtime); `torch` (PyTorch itself) needs the optional torch extra. All give PyTorch's vectors.
EMBEDDING_BACKEND = env_str("EMBEDDING_BACKEND", "onnx")
if EMBEDDING_BACKEND not in {"numpy", "onnx", "torch"}:
    raise ImproperlyConfigured("EMBEDDING_BACKEND must be numpy, onnx or torch")
CLASSIFIER_K = env_int("CLASSIFIER_K", 7)
CLASSIFIER_METHOD = env_str("CLASSIFIER_METHOD", "ensemble")
if CLASSIFIER_METHOD not in {"ensemble", "svm", "logreg", "knn"}:
    raise ImproperlyConfigured("CLASSIFIER_METHOD must be ensemble, svm, logreg or knn")
# A lead less similar than this to every labelled example is unfamiliar (confidence pulled toward uniform, so a person
# or the LLM judges it). Unset: the encoder's own threshold, chosen by cross-validation for its similarity scale
# (intelligence/encoders.py, bench/encoder_selection.py).
CLASSIFIER_MIN_SIMILARITY: float | None = (
    env_float("CLASSIFIER_MIN_SIMILARITY", 0.0) if env_str("CLASSIFIER_MIN_SIMILARITY") else None
)
# A lead whose words are at least this share new to the model (two words or more) counts as unfamiliar.
CLASSIFIER_NOVEL_SHARE = env_float("CLASSIFIER_NOVEL_SHARE", 0.5)
# Below this confidence, or when the lead is unfamiliar (another language, new words, the ensemble's members
# disagree), and with an LLM configured, the LLM arbitrates the intent (both opinions are kept).
CLASSIFIER_ARBITRATION_THRESHOLD = env_float("CLASSIFIER_ARBITRATION_THRESHOLD", 0.6)
# Trained intent models are kept here, keyed by what they learned from and the code that trained them, so a new
# process (a restarted worker) loads one instead of training it again. Only BizPilot may write to it.
MODEL_CACHE_DIR = BASE_DIR / (env_str("MODEL_CACHE_DIR") or ".data/models")  # a relative path is under BASE_DIR
KNOWLEDGE_TOP_K = env_int("KNOWLEDGE_TOP_K", 3)
# How many nearest chunks are re-ranked by how well they answer the lead (intelligence/facts.py) before the best
# KNOWLEDGE_TOP_K are kept.
KNOWLEDGE_CANDIDATES = env_int("KNOWLEDGE_CANDIDATES", 8)

# anthropic (Claude; on when ANTHROPIC_API_KEY is set) or ollama (a local model server; nothing leaves the machine).
LLM_PROVIDER = env_str("LLM_PROVIDER", "anthropic")
if LLM_PROVIDER not in {"anthropic", "ollama"}:
    raise ImproperlyConfigured("LLM_PROVIDER must be anthropic or ollama")
OLLAMA_BASE_URL = env_str("OLLAMA_BASE_URL", "http://localhost:11434")
OLLAMA_MODEL = env_str("OLLAMA_MODEL", "llama3.1:8b")
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY")
# ANTHROPIC_BASE_URL is read by the anthropic SDK itself; it is listed here so settings show what is in effect.
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL")
LLM_MODEL = env_str("LLM_MODEL", "claude-sonnet-5-5")
LLM_TIMEOUT_SECONDS = env_float("LLM_TIMEOUT_SECONDS", 30.0)
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 2)
LLM_MAX_OUTPUT_TOKENS = env_int("LLM_MAX_OUTPUT_TOKENS", 800)
# A draft's prompt (system, tool schema and user part, estimated) is kept under this many input tokens: voice
# examples, then lower-ranked knowledge snippets, then the end of a very long lead message are cut to fit.
LLM_PROMPT_TOKEN_BUDGET = env_int("LLM_PROMPT_TOKEN_BUDGET", 1500)
# Claude's prompt caching: the system prompt and the business knowledge (up to this many tokens, every chunk in
# document order) are one cached prefix, read at a tenth of the input price by every draft within five minutes.
LLM_PROMPT_CACHING = env_bool("LLM_PROMPT_CACHING", True)
LLM_CACHED_KNOWLEDGE_TOKENS = env_int("LLM_CACHED_KNOWLEDGE_TOKENS", 3000)
# The model's minimum cacheable prefix (Anthropic: 1,024 tokens for Sonnet 4.5, 2,048 for Sonnet 4.6, 4,096 for Haiku
# 4.5 and Opus 4.5+). A shorter prefix is not cached, so the knowledge then stays out of the system prompt.
LLM_CACHE_MIN_TOKENS = env_int("LLM_CACHE_MIN_TOKENS", 2048)
# Approved replies to the most similar past leads (same intent and channel) put into each prompt as examples.
VOICE_EXAMPLES_IN_PROMPT = env_int("VOICE_EXAMPLES_IN_PROMPT", 2)
# Replies to our emails come back to reply+<signed lead id>@INBOUND_EMAIL_DOMAIN (the ESP's inbound route for that
# domain posts them to /anymail/<esp>/inbound/), so an answer from a colleague's address lands in the lead's thread.
# Empty: no Reply-To is set, and answers are matched by their In-Reply-To/References and the sender's address.
INBOUND_EMAIL_DOMAIN = env_str("INBOUND_EMAIL_DOMAIN", "")
# The labelled replies the reply-kind model learns from (intelligence/replies.py).
REPLY_EXAMPLES_PATH = env_str("REPLY_EXAMPLES_PATH", str(BASE_DIR / "intelligence" / "data" / "reply_examples.csv"))
# Replace emails, phone numbers, addresses, card numbers and the lead's name with placeholders in every LLM prompt.
PII_REDACTION = env_bool("PII_REDACTION", True)
# How long a process keeps the feature flags it read from the database (Admin -> Feature flags).
FLAGS_CACHE_SECONDS = env_float("FLAGS_CACHE_SECONDS", 5.0)
# How long a call to Twilio may take; past it the outcome is unknown and the message is looked up later.
TWILIO_TIMEOUT_SECONDS = env_float("TWILIO_TIMEOUT_SECONDS", 30.0)
# A message `sending` this long with no answer from the provider is looked up there (messaging.reconcile).
SENDING_TIMEOUT_MINUTES = env_int("SENDING_TIMEOUT_MINUTES", 10)
# Retention: inbound raw payloads and model-call prompts/responses older than this are dropped daily.
RETENTION_DAYS = env_int("RETENTION_DAYS", 180)
# USD per million tokens: input, output, cache write, cache read.
LLM_PRICES_PER_MTOK = {
    "claude-haiku-5-5": (1.0, 5.0, 1.25, 0.10),
    "claude-sonnet-5-5": (3.0, 15.0, 3.75, 0.30),
    "claude-opus-5-5": (15.0, 75.0, 18.75, 1.50),
    "claude-sonnet-4-6": (3.0, 15.0, 3.75, 0.30),
    "claude-haiku-4-5": (1.0, 5.0, 1.25, 0.10),
}

# Auto-send: off unless switched on; then only drafts at or above the threshold whose checks all pass, for leads
# whose text raised no prompt-injection signal. Everything else waits for review.
AUTO_SEND_ENABLED = env_bool("AUTO_SEND_ENABLED", False)
AUTO_SEND_THRESHOLD = env_float("AUTO_SEND_THRESHOLD", 0.85)

# The address the world reaches this server at (webhook URLs shown in the admin, unsubscribe links in emails, and
# the URL Twilio signs, which behind a proxy differs from what Django sees).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://localhost:8000")

# --- The business BizPilot answers for ---
# Phone numbers written without a country code are read as this country's (ISO 3166 code) and stored in E.164.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "GB")
# The business's time zone until its profile is saved in the admin (the profile's own then counts everywhere).
BUSINESS_TIME_ZONE = env_str("BUSINESS_TIME_ZONE", "Europe/London")
BUSINESS_NAME = env_str("BUSINESS_NAME", "Northwind Web Studio")
# Where an existing customer's support request is forwarded (the default support route; editable in the admin).
SUPPORT_EMAIL = env_str("SUPPORT_EMAIL", "")
# A kind of sender's own answer (Answers per kind of sender) is used only when the reading of who wrote is at least
# this sure; below it the lead gets a draft as for a prospect, flagged "not a prospect" for the reviewer.
SENDER_ROUTE_MIN_PROBABILITY = env_float("SENDER_ROUTE_MIN_PROBABILITY", 0.8)
BUSINESS_SENDER_NAME = env_str("BUSINESS_SENDER_NAME", "Maya from Northwind")

# --- Email: django-anymail (SendGrid) when SENDGRID_API_KEY is set, else Django's console backend ---
SENDGRID_API_KEY = env_str("SENDGRID_API_KEY")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "anymail.backends.sendgrid.EmailBackend" if SENDGRID_API_KEY else "django.core.mail.backends.console.EmailBackend",
)
ANYMAIL = {
    "SENDGRID_API_KEY": SENDGRID_API_KEY,
    "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET"),
}
if env_str("SENDGRID_API_URL"):
    ANYMAIL["SENDGRID_API_URL"] = env_str("SENDGRID_API_URL")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Northwind Web Studio <hello@northwind.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- SMS and WhatsApp: Twilio when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set, else a development channel ---
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
# Also verifies X-Twilio-Signature on /webhooks/twilio/*; without it those webhooks answer 403.
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
TWILIO_WHATSAPP_FROM = env_str("TWILIO_WHATSAPP_FROM")
# Another base URL for Twilio's REST API (a regional edge, a proxy, or a local stub in tests).
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL")

# --- Alerts: a person hears about hot leads and replies at once (alerts/; people and team chats in the admin) ---
# A hot item nobody opened this many minutes after its alert tells the next person, then the admins.
ALERT_ESCALATION_MINUTES = env_float("ALERT_ESCALATION_MINUTES", 5.0)
# A channel that fails for now (unreachable, rate limited) is tried this many times, waiting this long and then
# twice as long each time, before the alert is shown as failed.
ALERT_MAX_ATTEMPTS = env_int("ALERT_MAX_ATTEMPTS", 4)
ALERT_RETRY_SECONDS = env_int("ALERT_RETRY_SECONDS", 30)
ALERT_WEBHOOK_TIMEOUT_SECONDS = env_float("ALERT_WEBHOOK_TIMEOUT_SECONDS", 10.0)

# --- Meetings: availability in the admin (meetings/); hot drafts offer free times, the lead's answer books one ---
# The business's CalDAV calendar (set in the admin) is read at most this often, and given this long to answer.
CALDAV_CACHE_SECONDS = env_int("CALDAV_CACHE_SECONDS", 60)
CALDAV_TIMEOUT_SECONDS = env_float("CALDAV_TIMEOUT_SECONDS", 10.0)
# Meetings booked through a Cal.com or Calendly page come in by their webhooks, verified with these secrets:
# POST /webhooks/calcom/ (the webhook's secret) and POST /webhooks/calendly/ (the subscription's signing key).
CALCOM_WEBHOOK_SECRET = env_str("CALCOM_WEBHOOK_SECRET")
CALENDLY_WEBHOOK_SIGNING_KEY = env_str("CALENDLY_WEBHOOK_SIGNING_KEY")

# --- Integrations out: signed outbound webhooks (integrations/; subscriptions in the admin) ---
# How long a receiver may take to answer one delivery before it counts as a failed attempt (retried with backoff).
WEBHOOK_DELIVERY_TIMEOUT_SECONDS = env_float("WEBHOOK_DELIVERY_TIMEOUT_SECONDS", 10.0)
# Knowledge import (Intelligence → Knowledge imports): the largest upload, the most pages read from a website's
# sitemap, how long and how much one page fetch may take, and how long one job runs before it queues the rest.
KNOWLEDGE_UPLOAD_MAX_BYTES = env_int("KNOWLEDGE_UPLOAD_MAX_BYTES", 25_000_000)
KNOWLEDGE_SITE_MAX_PAGES = env_int("KNOWLEDGE_SITE_MAX_PAGES", 500)
KNOWLEDGE_FETCH_TIMEOUT_SECONDS = env_float("KNOWLEDGE_FETCH_TIMEOUT_SECONDS", 15.0)
KNOWLEDGE_FETCH_MAX_BYTES = env_int("KNOWLEDGE_FETCH_MAX_BYTES", 5_000_000)
KNOWLEDGE_IMPORT_RUN_SECONDS = env_float("KNOWLEDGE_IMPORT_RUN_SECONDS", 240.0)
# The website contact form (Leads → Website contact form): how long the captcha provider may take to confirm a
# visitor, and other siteverify addresses (a proxy, or a local stub in tests).
SITE_FORM_CAPTCHA_TIMEOUT_SECONDS = env_float("SITE_FORM_CAPTCHA_TIMEOUT_SECONDS", 5.0)
TURNSTILE_VERIFY_URL = env_str("TURNSTILE_VERIFY_URL")
HCAPTCHA_VERIFY_URL = env_str("HCAPTCHA_VERIFY_URL")
# HubSpot and Pipedrive (Integrations → CRM connections): how long one call may take.
CRM_TIMEOUT_SECONDS = env_float("CRM_TIMEOUT_SECONDS", 15.0)

# --- Logging: structlog JSON lines with a request id ---
LOG_LEVEL = env_str("LOG_LEVEL", "WARNING" if TESTING else "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "json")
from bizpilot.logging import build_logging_config  # noqa: E402

LOGGING = build_logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)
LOGGING_CONFIG = "bizpilot.logging.configure"

# --- Production hardening (manage.py check --deploy passes with BIZPILOT_ENV=production) ---
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
