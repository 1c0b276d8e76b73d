from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One human or automatic action on an object, written in the same transaction as the change itself."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=200, help_text="user:<name>, api_key:<name> or system:<component>")
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.actor} {self.action} {self.object_type}#{self.object_id}"


class Access(models.Model):
    """No table: the home of permissions that every app enforces, so no app names another app's permission.

    `bizpilot.review`: review the replies to leads (approve, edit, reject, regenerate), correct a lead's intent and
    mark how a lead ended. Operators hold it (bizpilot.access)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("review", "Can review drafts: approve, edit, reject, regenerate, correct intent")]

    def __str__(self) -> str:
        return "access"


class FeatureFlags(models.Model):
    """Switches an admin flips at run time, one row (bizpilot.flags reads it). Until it exists, the environment's
    settings are the defaults. The LLM and auto-send switches only ever turn a feature off, never on where it is not
    configured: the LLM still needs a provider, auto-send still needs the auto-send policy."""

    llm = models.BooleanField(
        "LLM",
        default=True,
        help_text="Use the configured LLM to classify unsure leads and write drafts (off: fallback)",
    )
    auto_send = models.BooleanField(
        default=True, help_text="Master switch: off, nothing is sent without a person, whatever the auto-send policy"
    )
    pii_redaction = models.BooleanField(
        "PII redaction", default=True, help_text="Replace names, emails and phone numbers before a prompt leaves"
    )
    holdout_share = models.FloatField(
        default=0.0,
        help_text="Share of new leads (0 to 1) that get the business's manual baseline: queued for a person with no "
        "draft and no follow-ups, to measure the lift AI replies bring",
    )
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "feature flags"
        verbose_name_plural = "feature flags"

    def __str__(self) -> str:
        return "Feature flags"


def env_time_zone() -> str:
    """The time zone of a business whose profile is not saved yet (BUSINESS_TIME_ZONE)."""
    return settings.BUSINESS_TIME_ZONE


class BusinessProfile(models.Model):
    """Who the business is, one row (bizpilot.business reads it): its name, the sender and address replies come
    from, what it sells, where and when (its time zone is the one every clock in BizPilot reads: opening hours,
    quiet hours, daily caps, the analytics' days), the signature and the tone of its replies. Until it exists the
    environment's BUSINESS_NAME, BUSINESS_SENDER_NAME, DEFAULT_FROM_EMAIL and BUSINESS_TIME_ZONE are the defaults."""

    class Tone(models.TextChoices):
        WARM = "warm", "Warm (friendly, plain)"
        FORMAL = "formal", "Formal"
        CASUAL = "casual", "Casual"

    class English(models.TextChoices):
        AS_WRITTEN = "", "The lead's own (any language)"
        BRITISH = "british", "British English"
        AMERICAN = "american", "American English"
        AUSTRALIAN = "australian", "Australian English"
        CANADIAN = "canadian", "Canadian English"
        IRISH = "irish", "Irish English"
        NEW_ZEALAND = "new_zealand", "New Zealand English"
        SOUTH_AFRICAN = "south_african", "South African English"
        INDIAN = "indian", "Indian English"

    name = models.CharField(max_length=200, help_text="As leads know it: Flow Right Plumbing")
    sender_name = models.CharField(max_length=200, help_text="Who replies: Dan, or Dan from Flow Right")
    from_email = models.CharField(
        max_length=300, help_text="The address replies come from: Flow Right Plumbing <hello@flowright.example>"
    )
    offering = models.TextField(blank=True, help_text="What you sell, in a sentence: plumbing repairs and boilers")
    area = models.CharField(max_length=300, blank=True, help_text="Where: Leeds and 20 miles around")
    opening_hours = models.CharField(max_length=300, blank=True, help_text="Mon-Fri 8:00-18:00, Sat 9:00-13:00")
    time_zone = models.CharField(
        max_length=64,
        default=env_time_zone,
        help_text="Where your clock is: opening and meeting hours, quiet hours, daily caps and the analytics' days",
    )
    signature = models.TextField(blank=True, help_text="How replies end; empty: the sender's name and the business")
    tone = models.CharField(max_length=10, choices=Tone.choices, default=Tone.WARM)
    english = models.CharField(
        max_length=20,
        choices=English.choices,
        blank=True,
        default=English.AS_WRITTEN,
        help_text="The spelling and words of replies in English (a lead who writes another language is answered in it)",
    )
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "business profile"

    def __str__(self) -> str:
        return self.name


class MetricCounter(models.Model):
    """A Prometheus counter shared by every process (web and workers): a row per name and label set, incremented
    in the database, read by /metrics at scrape time."""

    name = models.CharField(max_length=100)
    labels = models.CharField(max_length=300, blank=True, help_text="k=v pairs joined by commas, sorted")
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "labels"], name="metric_counter_unique")]

    def __str__(self) -> str:
        return f"{self.name}{{{self.labels}}} {self.value}"
