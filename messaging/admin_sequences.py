"""The admin of follow-up sequences: sequences with their steps (admins define them), every lead's run with its
steps (operators see them and can stop them), and a stop action on the leads list."""

from __future__ import annotations

from django.contrib import admin

from bizpilot.access import REVIEW
from bizpilot.actors import user_actor
from bizpilot.admin import admin_each
from leads.models import Lead
from messaging.models import LeadSequence, LeadSequenceStep, Sequence, SequenceStep
from messaging.sequences import sequence_stop

STEP_FIELDS = ("position", "due_at", "channel", "status", "reason", "message")
RUN_FIELDS = ("lead", "sequence", "status", "stop_reason", "started_at", "stopped_at")


class SequenceStepInline(admin.StackedInline):
    model = SequenceStep
    extra = 0
    fields = [
        ("position", "delay", "channel"),
        "instructions",
        "fallback_subject",
        "fallback_body",
        ("whatsapp_content_sid", "whatsapp_content_variables"),
    ]


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    """Follow-ups per intent: each step's delay (after the first reply was sent), channel and how it is written.
    At most one sequence per intent is active; a lead keeps the sequence it started with."""

    list_display = ["name", "intent", "active", "steps", "runs_active", "updated_at"]
    list_filter = ["intent", "active"]
    inlines = [SequenceStepInline]

    @admin.display(description="Steps")
    def steps(self, obj: Sequence) -> int:
        return obj.steps.count()

    @admin.display(description="Leads in it now")
    def runs_active(self, obj: Sequence) -> int:
        return obj.runs.filter(status=LeadSequence.Status.ACTIVE).count()


class LeadSequenceStepInline(admin.TabularInline):
    model = LeadSequenceStep
    extra = 0
    can_delete = False
    fields = STEP_FIELDS
    readonly_fields = STEP_FIELDS

    def has_add_permission(self, request, obj=None):
        return False


def _stop_sequences(modeladmin: admin.ModelAdmin, request, lead_ids: list[int]) -> None:
    actor = user_actor(request.user)

    def stop(lead_id: int) -> object:
        return sequence_stop(lead_id=lead_id, reason="stopped by an operator", actor=actor, user=request.user)

    admin_each(modeladmin, request, lead_ids, stop, done="Stopped {} sequence(s).")


@admin.register(LeadSequence)
class LeadSequenceAdmin(admin.ModelAdmin):
    """Every lead's run through a sequence, with each step's due time, channel, status and message."""

    list_display = ["lead", "sequence", "status", "stop_reason", "started_at", "stopped_at"]
    list_filter = ["status", "sequence"]
    search_fields = ["lead__name", "lead__email", "lead__phone"]
    list_select_related = ["lead", "sequence"]
    readonly_fields = RUN_FIELDS
    fields = RUN_FIELDS
    inlines = [LeadSequenceStepInline]
    actions = ["stop_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_review_permission(self, request):
        return request.user.has_perm(REVIEW)

    @admin.action(description="Stop the selected sequences", permissions=["review"])
    def stop_selected(self, request, queryset):
        _stop_sequences(self, request, list(queryset.values_list("lead_id", flat=True)))


@admin.action(description="Stop the follow-up sequence of the selected leads")
def stop_lead_sequences(modeladmin: admin.ModelAdmin, request, queryset) -> None:
    _stop_sequences(modeladmin, request, list(queryset.values_list("pk", flat=True)))


# The leads list (the leads app's admin) gets the action; leads itself knows nothing of sequences.
_lead_admin = admin.site._registry.get(Lead)
if _lead_admin is not None and stop_lead_sequences not in (_lead_admin.actions or []):
    _lead_admin.actions = [*(_lead_admin.actions or []), stop_lead_sequences]
