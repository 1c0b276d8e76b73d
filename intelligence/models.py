from __future__ import annotations

import hashlib

from django.db import models
from pgvector.django import HnswIndex, VectorField

from leads.models import Intent, Lead

# Every encoder's vectors are stored this wide (a narrower model's padded with zeros: embeddings.STORED_DIMENSIONS).
EMBEDDING_DIMENSIONS = 512


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class SenderKind(models.TextChoices):
    """Who wrote: a prospect, or one of the kinds of sender that are not (their leads are cold and never auto-sent;
    phishing gets no draft at all)."""

    PROSPECT = "prospect", "Prospect"
    VENDOR = "vendor", "Vendor or sales pitch"
    JOB_SEEKER = "job_seeker", "Job seeker"
    SPAM = "spam", "Spam"
    PHISHING = "phishing", "Phishing or payment scam"
    SUPPORT = "support", "Existing customer's support request"
    AUTOMATED = "automated", "Automated message"
    OTHER = "other", "Not a lead (other)"


class DecidedBy(models.TextChoices):
    """Which decided a lead's intent."""

    CLASSIFIER = "classifier", "Local classifier"
    LLM = "llm", "LLM (arbitration)"
    RULE = "rule", "Scam rule"


class IntentExample(models.Model):
    """A labelled example lead message; the classifier votes with the nearest ones."""

    class Origin(models.TextChoices):
        SEED = "seed", "Seed"
        OPERATOR = "operator", "Operator"
        PACK = "pack", "Starter pack for a trade"

    text = models.TextField()
    text_hash = models.CharField(max_length=64)
    intent = models.CharField(max_length=10, choices=Intent.choices)
    kind = models.CharField(
        max_length=12, choices=SenderKind.choices, blank=True, help_text="Who wrote it; blank when not labelled"
    )
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.SEED)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    embedding_model = models.CharField(max_length=200)
    # While the knowledge is re-embedded for a new model, its vector waits here; queries keep using `embedding`.
    next_embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    next_model = models.CharField(max_length=200, blank=True, default="")
    source_lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The corrected lead"
    )
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["text_hash", "embedding_model"], name="intent_example_unique_text")
        ]
        indexes = [
            HnswIndex(
                name="intent_example_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            )
        ]

    def __str__(self) -> str:
        return f"[{self.intent}] {self.text[:60]}"


class KnowledgeDocument(models.Model):
    """A source of facts about the business (services, prices, FAQs); split into chunks for retrieval."""

    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=50, default="doc", db_index=True, help_text="e.g. doc, faq, pricing, policy")
    source_path = models.CharField(max_length=500, unique=True, help_text="The file it was loaded from, or admin:…")
    content = models.TextField()
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class KnowledgeChunk(models.Model):
    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE, related_name="chunks")
    kind = models.CharField(max_length=50, default="doc", db_index=True, help_text="The document's kind, for filters")
    ordinal = models.PositiveIntegerField()
    heading = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    text_hash = models.CharField(max_length=64)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    embedding_model = models.CharField(max_length=200)
    # While the knowledge is re-embedded for a new model, its vector waits here; queries keep using `embedding`.
    next_embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    next_model = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["document", "ordinal"]
        indexes = [
            HnswIndex(
                name="knowledge_chunk_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            )
        ]

    def __str__(self) -> str:
        return f"{self.document.title} #{self.ordinal}"


class Classification(models.Model):
    """One classification of a lead's message; the lead holds the one in effect, these rows keep the history."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="classifications")
    intent = models.CharField(max_length=10, choices=Intent.choices)
    confidence = models.FloatField()
    scores = models.JSONField(default=dict)
    method = models.CharField(max_length=50)
    explanation = models.JSONField(default=dict, help_text="Neighbours with labels and similarities, vote margin")
    snippets = models.JSONField(default=list, help_text="The knowledge chunks retrieved as context")
    embedding_model = models.CharField(max_length=200)
    latency_ms = models.FloatField(default=0)
    kind = models.CharField(
        max_length=12, choices=SenderKind.choices, default=SenderKind.PROSPECT, help_text="Who wrote, as read"
    )
    language = models.CharField(max_length=8, default="en", help_text="ISO 639-1 code of the lead's language")
    decided_by = models.CharField(
        max_length=12,
        choices=DecidedBy.choices,
        default=DecidedBy.CLASSIFIER,
        help_text="classifier, llm (arbitrated) or rule (a scam)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.intent} {self.confidence:.0%} (lead #{self.lead_id})"


class ModelCall(models.Model):
    """Every call to a model (embedding or LLM): what was asked, what came back, tokens, cost and latency."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        ERROR = "error", "Error"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    operation = models.CharField(max_length=50)
    provider = models.CharField(max_length=50)
    model = models.CharField(max_length=200)
    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="model_calls")
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cache_creation_tokens = models.PositiveIntegerField(default=0)
    cache_read_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    latency_ms = models.FloatField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices)
    error = models.TextField(blank=True)
    request = models.JSONField(default=dict, blank=True)
    response = models.JSONField(default=dict, blank=True)
    voice_examples = models.JSONField(default=list, blank=True, help_text="VoiceExample ids put into the prompt")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.operation} {self.provider}/{self.model} {self.status}"


class VoiceExample(models.Model):
    """An approved reply (above all an operator-edited one) kept as an example of the business's voice: the most
    similar ones (same intent and channel, by the lead's message) go into the next drafts' prompts."""

    message_id = models.BigIntegerField(unique=True, help_text="The messaging.Message it was approved as")
    intent = models.CharField(max_length=10, choices=Intent.choices)
    channel = models.CharField(max_length=20)
    lead_text = models.TextField(help_text="What the lead wrote (redacted before it is ever sent anywhere)")
    reply_text = models.TextField()
    edited = models.BooleanField(default=False, help_text="An operator changed the draft before approving it")
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    embedding_model = models.CharField(max_length=200)
    # While the knowledge is re-embedded for a new model, its vector waits here; queries keep using `embedding`.
    next_embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    next_model = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            HnswIndex(
                name="voice_example_hnsw",
                fields=["embedding"],
                m=16,
                ef_construction=64,
                opclasses=["vector_cosine_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.intent}/{self.channel}] {self.reply_text[:60]}"


class PromptTemplate(models.Model):
    """How BizPilot writes to one intent on one kind of channel: the LLM instructions, the length limit and the
    fallback text used without an LLM. Versioned: an edit creates a new version, old versions are never changed, and
    each message records the version it was drafted from. The highest version of an (intent, channel kind) is live."""

    class ChannelKind(models.TextChoices):
        EMAIL = "email", "Email"
        TEXT = "text", "SMS and WhatsApp"

    intent = models.CharField(max_length=10, choices=Intent.choices)
    channel_kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    version = models.PositiveIntegerField()
    instructions = models.TextField(help_text="What the model is told to write for this intent and channel")
    max_chars = models.PositiveIntegerField(help_text="The reply's length limit in characters (a draft check)")
    fallback_subject = models.CharField(
        max_length=300, blank=True, help_text="Email subject without an LLM (Django template syntax)"
    )
    fallback_body = models.TextField(
        help_text="Reply without an LLM. Variables: first_name, company, fact, business_name, sender_name, signature"
    )
    change_note = models.CharField(max_length=300, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["intent", "channel_kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["intent", "channel_kind", "version"], name="prompt_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.intent} / {self.get_channel_kind_display()} v{self.version}"

    @staticmethod
    def kind_for_channel(channel: str) -> str:
        return PromptTemplate.ChannelKind.EMAIL if channel == "email" else PromptTemplate.ChannelKind.TEXT


class ReplyClassification(models.Model):
    """How a lead's answer was read (its kind, confidence and reasons) and what it changed: the lead's intent and
    stage, with the reason. One row per turn; several messages written in a row are read together."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="reply_classifications")
    inbound = models.ForeignKey("leads.InboundMessage", on_delete=models.CASCADE, related_name="reply_classifications")
    inbound_ids = models.JSONField(default=list, help_text="Every message read together in this turn")
    kind = models.CharField(max_length=24, db_index=True)
    confidence = models.FloatField()
    scores = models.JSONField(default=dict, blank=True)
    also = models.JSONField(default=list, blank=True, help_text="Other kinds the reply also reads as")
    reasons = models.JSONField(default=list, blank=True)
    intent_before = models.CharField(max_length=10, blank=True)
    intent_after = models.CharField(max_length=10, blank=True)
    change = models.TextField(blank=True, help_text="What the reply changed (intent, stage), and why")
    outcome = models.TextField(blank=True, help_text="Drafted (the message), or why no answer was drafted")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.confidence:.0%} (lead #{self.lead_id})"


class EmbeddingState(models.Model):
    """Which embedding model made the vectors queries use (`active_model`), and the switch to another in progress
    (`target_model`, with its progress). One row."""

    active_model = models.CharField(max_length=200)
    target_model = models.CharField(max_length=200, blank=True)
    done = models.PositiveIntegerField(default=0, help_text="Texts re-embedded for the target model")
    total = models.PositiveIntegerField(default=0, help_text="Texts to re-embed for the target model")
    started_at = models.DateTimeField(null=True, blank=True)
    switched_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        if self.target_model and self.target_model != self.active_model:
            return f"{self.active_model} -> {self.target_model} ({self.done}/{self.total})"
        return self.active_model


class KnowledgeImport(models.Model):
    """One import into the knowledge base: an uploaded file (PDF, Word, HTML, Markdown, text, FAQ CSV) or a website
    read from its sitemap. Its pages are read, then stored one by one (intelligence.knowledge_import): a worker
    killed halfway leaves the stored pages stored, and the import resumes where it stopped."""

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded file"
        SITE = "site", "Website"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=10, choices=Source.choices)
    name = models.CharField(max_length=500, help_text="The file's name, or the website's address")
    kind = models.CharField(max_length=50, default="doc", help_text="The documents' kind (faq for a CSV)")
    upload = models.BinaryField(null=True, blank=True, help_text="The file, kept until its import is done")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    total = models.PositiveIntegerField(default=0, help_text="Pages found")
    done = models.PositiveIntegerField(default=0, help_text="Pages read and stored (or skipped)")
    error = models.TextField(blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the job running it")
    created_by = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def source_prefix(self) -> str:
        """What the documents it makes are stored under: the same for every import of this file or site, so a new
        import replaces what changed and keeps the rest."""
        return f"import:{self.source}:{self.name}#"


class KnowledgeImportPage(models.Model):
    """One page of an import (a PDF page, a question of an FAQ, a web page, a Word document's section): what was read,
    and the knowledge document it became. Removing it takes it out of the knowledge base (and out of later imports
    while it reads the same)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        STORED = "stored", "In the knowledge base"
        UNCHANGED = "unchanged", "Unchanged since the last import"
        EMPTY = "empty", "No text found"
        FAILED = "failed", "Could not be read"
        REMOVED = "removed", "Removed by a person"

    knowledge_import = models.ForeignKey(KnowledgeImport, on_delete=models.CASCADE, related_name="pages")
    ordinal = models.PositiveIntegerField()
    ref = models.CharField(max_length=1000, help_text="Page number, question or web address")
    title = models.CharField(max_length=300, blank=True)
    content = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    document = models.ForeignKey(
        KnowledgeDocument, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_pages"
    )

    class Meta:
        ordering = ["knowledge_import", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["knowledge_import", "ordinal"], name="import_page_once"),
        ]

    def __str__(self) -> str:
        return self.title or self.ref
