"""A/B experiments on how replies are written or sent (messaging.experiments runs them)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from intelligence.models import PromptTemplate


class Experiment(models.Model):
    """An A/B test of how replies are written or sent: each new lead is assigned to one variant by a hash of its id
    (the same lead, the same variant, on every machine), while the experiment runs. One runs at a time."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        STOPPED = "stopped", "Stopped"

    class Kind(models.TextChoices):
        PROMPT_TEMPLATE = "prompt_template", "Prompt template"
        AUTO_SEND_THRESHOLD = "auto_send_threshold", "Auto-send threshold"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    description = models.TextField(blank=True, help_text="What is tested, and what would make a variant the winner")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    winner = models.ForeignKey("ExperimentVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="running"), name="experiment_one_running")
        ]

    def __str__(self) -> str:
        return self.name


class ExperimentVariant(models.Model):
    """One arm of an experiment: the prompt template its drafts are written from, or the auto-send threshold its
    drafts are judged by. `weight` sets its share of the leads."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=100)
    weight = models.PositiveIntegerField(default=1, help_text="Share of leads, relative to the other variants")
    prompt_template = models.ForeignKey(
        PromptTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Prompt-template experiments: the template version this variant drafts with (empty: the live one)",
    )
    auto_send_threshold = models.FloatField(
        null=True,
        blank=True,
        help_text="Auto-send-threshold experiments: the draft confidence this variant needs (empty: the policy's)",
    )

    class Meta:
        ordering = ["experiment", "id"]
        constraints = [models.UniqueConstraint(fields=["experiment", "name"], name="variant_unique_name")]

    def __str__(self) -> str:
        return f"{self.experiment.name}: {self.name}"
