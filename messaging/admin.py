from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from bizpilot.audit import actor_for_user
from bizpilot.errors import ServiceError
from intelligence.services import lead_correct_intent
from messaging.models import DeliveryEvent, Message, Suppression
from messaging.services import message_approve, message_reject, message_update_draft, suppression_add


class MessageReviewForm(forms.ModelForm):
    reject_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the draft is rejected (optional).",
    )

    class Meta:
        model = Message
        fields = ["subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14, "cols": 90})}


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = ["occurred_at", "event_type", "provider", "provider_event_id"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    form = MessageReviewForm
    list_display = [
        "id",
        "lead",
        "intent",
        "channel",
        "to_address",
        "subject",
        "status",
        "generated_by",
        "created_at",
    ]
    list_filter = ["status", "channel", "generated_by", "lead__intent"]
    list_select_related = ["lead"]
    search_fields = ["to_address", "subject", "body", "lead__name", "lead__company"]
    actions = ["approve_selected", "reject_selected", "intent_hot", "intent_warm", "intent_cold"]
    inlines = [DeliveryEventInline]
    fieldsets = [
        ("Lead", {"fields": ["lead", "lead_message", "classification_explanation"]}),
        ("Reply", {"fields": ["status", "channel", "to_address", "subject", "body", "reject_reason"]}),
        ("Origin and safety", {"fields": ["generated_by", "generation_reason", "prompt_template", "draft_confidence",
                                          "checks_failed",
                                          "injection_signals", "auto_send_decision", "original_subject",
                                          "original_body"]}),
        ("Review and delivery", {"fields": ["approved_by", "approved_at", "rejected_reason", "sent_at",
                                            "provider_message_id", "last_error"]}),
    ]  # fmt: skip
    # Everything shown is read-only except the draft's text (and the rejection reason), which the form edits.
    readonly_fields = [f for _, opts in fieldsets for f in opts["fields"] if f not in MessageReviewForm.declared_fields
                       and f not in MessageReviewForm.Meta.fields]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None or obj.status != Message.Status.PENDING_REVIEW:
            fields += ["subject", "body"]
        return fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or obj.status != Message.Status.PENDING_REVIEW:
            fieldsets = [
                (name, {**opts, "fields": [f for f in opts["fields"] if f != "reject_reason"]})
                for name, opts in fieldsets
            ]
        return fieldsets

    @admin.display(description="Intent", ordering="lead__intent")
    def intent(self, obj: Message) -> str:
        return obj.lead.intent

    @admin.display(description="What the lead wrote")
    def lead_message(self, obj: Message):
        """Every message from the lead, oldest first: the one this draft answers, and any that came after it
        (a reply or a follow-up the draft does not know about) flagged."""
        inbound = list(obj.lead.inbound_messages.order_by("received_at", "id"))
        if not inbound:
            return "-"

        def label(message) -> str:
            if obj.in_reply_to_id == message.pk:
                return "this draft answers it"
            if obj.in_reply_to and message.received_at > obj.in_reply_to.received_at:
                return "NEW since this draft"
            return ""

        return format_html_join(
            "",
            "<div style='margin-bottom:1em'><small>{} via {} <strong>{}</strong></small><br><strong>{}</strong>"
            "<div style='white-space:pre-wrap'>{}</div></div>",
            ((m.received_at.strftime("%Y-%m-%d %H:%M"), m.channel, label(m), m.subject, m.body) for m in inbound),
        )

    @admin.display(description="Why this intent")
    def classification_explanation(self, obj: Message):
        classification = obj.classification
        if classification is None:
            return "-"
        explanation = classification.explanation or {}
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((n["intent"], f"{n['similarity']:.2f}", n["text"]) for n in explanation.get("neighbours", [])),
        )
        snippets = format_html_join(
            "", "<li><em>{}</em>: {}</li>", ((s["heading"], s["text"][:300]) for s in classification.snippets)
        )
        return format_html(
            "<p><strong>{}</strong> with confidence {}. {}</p>"
            "<table><tr><th>Intent</th><th>Similarity</th><th>Labelled example</th></tr>{}</table>"
            "<p>Knowledge used:</p><ul>{}</ul>",
            classification.intent,
            f"{classification.confidence:.0%}",
            explanation.get("summary", ""),
            rows,
            snippets,
        )

    def save_model(self, request, obj, form, change):
        actor = actor_for_user(request.user)
        subject, body = form.cleaned_data.get("subject"), form.cleaned_data.get("body")
        try:
            if "_approve" in request.POST:
                message_approve(message_id=obj.pk, actor=actor, subject=subject, body=body)
                self.message_user(request, "Approved: the reply will be sent by the worker.", messages.SUCCESS)
            elif "_reject" in request.POST:
                message_reject(message_id=obj.pk, actor=actor, reason=form.cleaned_data.get("reject_reason", ""))
                self.message_user(request, "Rejected: the draft will not be sent.", messages.SUCCESS)
            elif obj.status == Message.Status.PENDING_REVIEW:
                message_update_draft(message_id=obj.pk, actor=actor, subject=subject, body=body)
        except ServiceError as exc:
            self.message_user(request, f"{exc.message} {exc.fields or ''}".strip(), messages.ERROR)

    def log_change(self, request, obj, message):
        pass  # the services write the audit log

    @admin.action(description="Approve and send selected drafts")
    def approve_selected(self, request, queryset):
        self._bulk(request, queryset, lambda pk, actor: message_approve(message_id=pk, actor=actor), "Approved")

    @admin.action(description="Reject selected drafts")
    def reject_selected(self, request, queryset):
        self._bulk(request, queryset, lambda pk, actor: message_reject(message_id=pk, actor=actor), "Rejected")

    @admin.action(description="Correct the lead's intent to hot (teaches the classifier)")
    def intent_hot(self, request, queryset):
        self._correct_intent(request, queryset, "hot")

    @admin.action(description="Correct the lead's intent to warm (teaches the classifier)")
    def intent_warm(self, request, queryset):
        self._correct_intent(request, queryset, "warm")

    @admin.action(description="Correct the lead's intent to cold (teaches the classifier)")
    def intent_cold(self, request, queryset):
        self._correct_intent(request, queryset, "cold")

    def _correct_intent(self, request, queryset, intent: str) -> None:
        lead_ids = set(queryset.values_list("lead_id", flat=True))
        actor = actor_for_user(request.user)
        for lead_id in lead_ids:
            lead_correct_intent(lead_id=lead_id, intent=intent, actor=actor)
        self.message_user(request, f"Set {len(lead_ids)} lead(s) to {intent}; the classifier learned from them.")

    def _bulk(self, request, queryset, action, verb: str) -> None:
        actor = actor_for_user(request.user)
        done, failed = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                action(pk, actor)
                done += 1
            except ServiceError as exc:
                failed.append(f"#{pk}: {exc.message}")
        self.message_user(request, f"{verb} {done} message(s).", messages.SUCCESS if done else messages.WARNING)
        if failed:
            self.message_user(request, "Skipped " + "; ".join(failed), messages.WARNING)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses never written to. Bounces, complaints, unsubscribes and STOP add themselves; operators may add one."""

    list_display = ["address", "reason", "source", "created_at"]
    list_filter = ["reason"]
    search_fields = ["address"]
    fields = ["address", "reason", "source", "payload", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["address", "reason", "source", "payload", "created_at"] if obj else ["source", "payload", "created_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            saved = suppression_add(address=obj.address, reason=obj.reason or Suppression.Reason.MANUAL,
                                    source="admin", actor=actor_for_user(request.user))  # fmt: skip
            obj.pk = saved.pk
