from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.timezone import now

from bizpilot.access import REVIEW
from bizpilot.actors import user_actor
from bizpilot.admin import CachedValuesFilter, SettingsRowAdmin, admin_each, business_clock_note
from bizpilot.errors import ServiceError, ValidationFailed
from intelligence.corrections import lead_correct_intent
from intelligence.replies import ReplyKind
from leads.lifecycle import lead_mark_outcome
from leads.models import Intent
from messaging.autosend import (
    ANSWERABLE_REPLY_KINDS,
    AUTO_SEND_POLICY_FIELDS,
    auto_send_policy_save,
    auto_send_policy_validate,
)
from messaging.models import AutoSendPolicy, DeliveryEvent, Message, ReviewQueueItem, SenderRoute, Suppression
from messaging.reconcile import message_mark_sent, message_send_again
from messaging.review import message_approve, message_regenerate, message_reject, message_update_draft
from messaging.routes import ROUTE_FIELDS, sender_route_save, sender_route_validate
from messaging.selectors import REVIEW_ORDER, message_review, review_queue, review_queue_counts
from messaging.sequences import sequence_stop
from messaging.signals import lead_opened
from messaging.suppression import suppression_add


class MessageReviewForm(forms.ModelForm):
    reject_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why the draft is rejected (optional)."
    )
    regenerate_note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional note to the model, e.g. 'mention the spring offer' or 'shorter'.",
    )
    correct_intent = forms.ChoiceField(choices=[("", "—"), *Intent.choices], required=False)

    class Meta:
        model = Message
        fields = ["subject", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 16, "cols": 80})}


EVENT_FIELDS = ("occurred_at", "event_type", "provider", "is_machine", "machine_reason", "provider_event_id")


class DeliveryEventInline(admin.TabularInline):
    model = DeliveryEvent
    extra = 0
    can_delete = False
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS

    def has_add_permission(self, request, obj=None):
        return False


class ConfidenceBandFilter(admin.SimpleListFilter):
    title = "confidence"
    parameter_name = "confidence"
    BANDS = {"high": (0.85, 1.01), "medium": (0.5, 0.85), "low": (0.0, 0.5)}

    def lookups(self, request, model_admin):
        return [("high", "High (≥ 0.85)"), ("medium", "Medium (0.5 to 0.85)"), ("low", "Low (< 0.5)")]

    def queryset(self, request, queryset):
        band = self.BANDS.get(self.value() or "")
        if band is not None:
            low, high = band
            return queryset.filter(draft_confidence__gte=low, draft_confidence__lt=high)
        return queryset


REVIEW_BUTTONS = ["approve", "reject", "regenerate", "intent", "converted", "lost", "stop_sequence"]


def pressed_button(request) -> str:
    """Which button of the review screen was pressed (its name is `_<button>`); plain Save is `save`."""
    return next((button for button in REVIEW_BUTTONS if f"_{button}" in request.POST), "save")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Every reply, and the review screen: the lead, why the intent, and the editable draft side by side."""

    form = MessageReviewForm
    list_display = ["id", "lead", "intent", "channel", "to_address", "subject", "status", "generated_by", "created_at"]
    list_filter = ["status", "channel", "generated_by", "lead__intent", ConfidenceBandFilter, "lead__source"]
    list_select_related = ["lead"]
    search_fields = ["to_address", "subject", "body", "lead__name", "lead__company", "lead__email"]
    actions = [
        "approve_selected",
        "reject_selected",
        "intent_hot",
        "intent_warm",
        "intent_cold",
        "mark_sent",
        "send_again",
    ]
    inlines = [DeliveryEventInline]
    fields = ["subject", "body"]
    readonly_fields = ["status", "channel", "to_address"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_review_permission(self, request):
        return request.user.has_perm(REVIEW)

    def get_readonly_fields(self, request, obj=None):
        if obj is None or obj.status != Message.Status.PENDING_REVIEW or not self.has_review_permission(request):
            return ["subject", "body"]
        return []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and obj.channel != "email":
            form.base_fields.pop("subject", None)  # texts have no subject
        return form

    def change_view(self, request, object_id, form_url="", extra_context=None):
        message = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if message is not None:
            context["review"] = message_review(message)
            context["can_review"] = self.has_review_permission(request)
            context["pending"] = message.status == Message.Status.PENDING_REVIEW
            context["intents"] = Intent.choices
            context["title"] = "Review draft" if context["pending"] else f"Reply ({message.get_status_display()})"
            if request.method == "GET":
                lead_opened.send(sender=Message, lead_id=message.lead_id, actor=user_actor(request.user), at=now())
        return super().change_view(request, object_id, form_url, extra_context=context)

    @admin.display(description="Intent", ordering="lead__intent")
    def intent(self, obj: Message) -> str:
        return obj.lead.intent

    def save_model(self, request, obj, form, change):
        """Every button on the review screen is one service call; the services check the reviewer's permission."""
        action = getattr(self, f"_review_{pressed_button(request)}")
        try:
            note, level = action(request, obj, form.cleaned_data)
        except ServiceError as exc:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            self.message_user(request, f"{exc.message} {fields}".strip(), messages.ERROR)
            return
        if note:
            self.message_user(request, note, level)

    def _review_approve(self, request, obj, data):
        message_approve(
            message_id=obj.pk,
            actor=user_actor(request.user),
            subject=data.get("subject"),
            body=data.get("body"),
            user=request.user,
        )
        return "Approved: the reply is being sent.", messages.SUCCESS

    def _review_reject(self, request, obj, data):
        message_reject(
            message_id=obj.pk, actor=user_actor(request.user), reason=data.get("reject_reason", ""), user=request.user
        )
        return "Rejected: the draft will not be sent.", messages.SUCCESS

    def _review_regenerate(self, request, obj, data):
        message_regenerate(
            message_id=obj.pk, actor=user_actor(request.user), note=data.get("regenerate_note", ""), user=request.user
        )
        return "Drafted again; review the new text.", messages.SUCCESS

    def _review_intent(self, request, obj, data):
        if not data.get("correct_intent"):
            raise ValidationFailed("Choose the intent.", fields={"correct_intent": ["Choose one."]})
        lead_correct_intent(
            lead_id=obj.lead_id, intent=data["correct_intent"], actor=user_actor(request.user), user=request.user
        )
        return f"Intent set to {data['correct_intent']}; the classifier learned it.", messages.INFO

    def _review_converted(self, request, obj, data):
        lead_mark_outcome(lead_id=obj.lead_id, outcome="converted", actor=user_actor(request.user), user=request.user)
        return "Marked the lead converted.", messages.SUCCESS

    def _review_lost(self, request, obj, data):
        lead_mark_outcome(lead_id=obj.lead_id, outcome="lost", actor=user_actor(request.user), user=request.user)
        return "Marked the lead lost.", messages.SUCCESS

    def _review_stop_sequence(self, request, obj, data):
        sequence_stop(
            lead_id=obj.lead_id, reason="stopped by an operator", actor=user_actor(request.user), user=request.user
        )
        return "Stopped the lead's follow-up sequence; its unsent steps are cancelled.", messages.SUCCESS

    def _review_save(self, request, obj, data):
        subject, body = data.get("subject"), data.get("body")
        if obj.status != Message.Status.PENDING_REVIEW or (subject is None and body is None):
            return "", messages.INFO
        message_update_draft(
            message_id=obj.pk, actor=user_actor(request.user), subject=subject, body=body, user=request.user
        )
        return "Draft saved (not approved).", messages.INFO

    def log_change(self, request, obj, message):
        pass  # the services write the audit log

    def response_change(self, request, obj):
        # A draft decided by this request (approved or rejected: its status changed) sends the operator back to the
        # queue; anything else, or a refused decision, stays on the review screen. `obj.status` is as loaded.
        decided = Message.objects.filter(pk=obj.pk).exclude(status=obj.status).exists()
        if pressed_button(request) in ("approve", "reject") and decided:
            return HttpResponseRedirect(reverse("admin:messaging_reviewqueueitem_changelist"))
        return HttpResponseRedirect(request.path)

    @admin.action(description="Approve and send selected drafts", permissions=["review"])
    def approve_selected(self, request, queryset):
        """Shows exactly what will be sent, and sends only after the confirmation."""
        drafts = list(queryset.filter(status=Message.Status.PENDING_REVIEW).select_related("lead"))
        if not request.POST.get("confirm"):
            context = {
                **self.admin_site.each_context(request),
                "drafts": drafts,
                "title": "Send these replies?",
                "skipped": queryset.count() - len(drafts),
                "action": "approve_selected",
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/messaging/message/approve_confirmation.html", context)
        self._bulk(
            request,
            queryset,
            "Approved",
            lambda pk, actor: message_approve(message_id=pk, actor=actor, user=request.user),
        )
        return None

    @admin.action(description="Outcome unknown: mark sent (the provider shows it went out)", permissions=["review"])
    def mark_sent(self, request, queryset):
        self._bulk(
            request,
            queryset,
            "Marked sent",
            lambda pk, actor: message_mark_sent(message_id=pk, actor=actor, user=request.user),
        )

    @admin.action(description="Outcome unknown: send again (the provider has no record of it)", permissions=["review"])
    def send_again(self, request, queryset):
        self._bulk(
            request,
            queryset,
            "Sending again",
            lambda pk, actor: message_send_again(message_id=pk, actor=actor, user=request.user),
        )

    @admin.action(description="Reject selected drafts", permissions=["review"])
    def reject_selected(self, request, queryset):
        self._bulk(
            request,
            queryset,
            "Rejected",
            lambda pk, actor: message_reject(message_id=pk, actor=actor, user=request.user),
        )

    @admin.action(description="Correct the lead's intent to hot (teaches the classifier)", permissions=["review"])
    def intent_hot(self, request, queryset):
        self._correct_intent(request, queryset, "hot")

    @admin.action(description="Correct the lead's intent to warm (teaches the classifier)", permissions=["review"])
    def intent_warm(self, request, queryset):
        self._correct_intent(request, queryset, "warm")

    @admin.action(description="Correct the lead's intent to cold (teaches the classifier)", permissions=["review"])
    def intent_cold(self, request, queryset):
        self._correct_intent(request, queryset, "cold")

    def _correct_intent(self, request, queryset, intent: str) -> None:
        lead_ids = set(queryset.values_list("lead_id", flat=True))
        actor = user_actor(request.user)
        for lead_id in lead_ids:
            lead_correct_intent(lead_id=lead_id, intent=intent, actor=actor, user=request.user)
        self.message_user(request, f"Set {len(lead_ids)} lead(s) to {intent}; the classifier learned from them.")

    def _bulk(self, request, queryset, verb: str, action) -> None:
        actor = user_actor(request.user)
        ids = queryset.values_list("pk", flat=True)
        admin_each(self, request, ids, lambda pk: action(pk, actor), done=verb + " {} message(s).")


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(MessageAdmin):
    """The operator's daily list: drafts waiting for review, hot first, then oldest first, with counts per intent."""

    list_display = [
        "review_link",
        "conversation_link",
        "lead_name",
        "intent",
        "confidence",
        "sender",
        "language",
        "decided_by",
        "channel",
        "source",
        "generated_by",
        "waiting",
    ]
    list_display_links = None
    list_filter = [
        "lead__intent",
        "channel",
        ConfidenceBandFilter,
        "classification__kind",
        ("classification__language", CachedValuesFilter),
        "classification__decided_by",
        ("lead__source", CachedValuesFilter),
        "generated_by",
    ]
    search_fields = ["subject", "body", "lead__name", "lead__company", "lead__email", "lead__phone"]
    change_list_template = "admin/messaging/reviewqueueitem/change_list.html"

    def get_queryset(self, request):
        return review_queue()

    show_full_result_count = False  # the paginator's count is enough; a second COUNT of the queue is not

    def get_ordering(self, request):
        return REVIEW_ORDER

    def changelist_view(self, request, extra_context=None):
        context = {**(extra_context or {}), "intent_counts": review_queue_counts()}
        return super().changelist_view(request, extra_context=context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:messaging_message_change", args=[object_id]))

    @admin.display(description="Draft")
    def review_link(self, obj: Message):
        url = reverse("admin:messaging_message_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.subject or obj.body[:60] or f"#{obj.pk}")

    @admin.display(description="Conversation")
    def conversation_link(self, obj: Message):
        url = reverse("admin:messaging_conversation_change", args=[obj.lead_id])
        return format_html('<a href="{}">open the conversation</a>', url)

    @admin.display(description="Lead", ordering="lead__name")
    def lead_name(self, obj: Message) -> str:
        return obj.lead.name or obj.lead.email or obj.lead.phone

    @admin.display(description="Confidence", ordering="draft_confidence")
    def confidence(self, obj: Message) -> str:
        return "" if obj.draft_confidence is None else f"{obj.draft_confidence:.2f}"

    @admin.display(description="Sender", ordering="classification__kind")
    def sender(self, obj: Message) -> str:
        if obj.classification is None:
            return ""
        return "prospect" if obj.classification.kind == "prospect" else obj.classification.get_kind_display()

    @admin.display(description="Language", ordering="classification__language")
    def language(self, obj: Message) -> str:
        return obj.classification.language if obj.classification else ""

    @admin.display(description="Decided by", ordering="classification__decided_by")
    def decided_by(self, obj: Message) -> str:
        return obj.classification.decided_by if obj.classification else ""

    @admin.display(description="Source", ordering="lead__source")
    def source(self, obj: Message) -> str:
        return obj.lead.source

    @admin.display(description="Waiting", ordering="created_at")
    def waiting(self, obj: Message) -> str:
        return timesince(obj.created_at)


class AutoSendPolicyForm(forms.ModelForm):
    reply_kinds = forms.MultipleChoiceField(
        choices=[(k, ReplyKind(k).label) for k in ANSWERABLE_REPLY_KINDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Answers to these kinds of reply may go out on their own; every other answer waits for a person.",
    )

    class Meta:
        model = AutoSendPolicy
        fields = [*AUTO_SEND_POLICY_FIELDS]


@admin.register(AutoSendPolicy)
class AutoSendPolicyAdmin(SettingsRowAdmin):
    """One policy; admins change it, operators may look. Every change is audited."""

    form = AutoSendPolicyForm
    setting_fields = AUTO_SEND_POLICY_FIELDS
    fieldsets = [
        (None, {"fields": ["enabled", "threshold"]}),
        ("Channels", {"fields": ["email", "sms", "whatsapp"]}),
        ("Intents", {"fields": ["hot", "warm", "cold"]}),
        ("Limits", {"fields": ["quiet_hours_start", "quiet_hours_end", "daily_cap"]}),
        ("Answers to replies", {"fields": ["reply_kinds"]}),
        ("Changed", {"fields": ["updated_by", "updated_at"]}),
    ]

    validate = staticmethod(auto_send_policy_validate)

    def get_fieldsets(self, request, obj=None):
        return [
            (title, {**options, "description": business_clock_note()} if title == "Limits" else options)
            for title, options in super().get_fieldsets(request, obj)
        ]

    current_values = staticmethod(lambda: {f: getattr(AutoSendPolicy.current(), f) for f in AUTO_SEND_POLICY_FIELDS})
    save_values = staticmethod(auto_send_policy_save)


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
            saved = suppression_add(
                address=obj.address,
                reason=obj.reason or Suppression.Reason.MANUAL,
                source="admin",
                actor=user_actor(request.user),
            )
            obj.pk = saved.pk


@admin.register(SenderRoute)
class SenderRouteAdmin(admin.ModelAdmin):
    """What each kind of sender that is not a prospect gets; admins change it, operators may look. Audited."""

    list_display = ["kind", "action", "forward_to", "auto_send", "updated_by", "updated_at"]
    fields = ["kind", "action", "subject", "body", "forward_to", "auto_send", "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "kind"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class Validated(form):  # type: ignore[misc, valid-type]
            def clean(self):
                data = super().clean() or {}
                for field, problems in sender_route_validate(data).items():
                    for problem in problems:
                        self.add_error(field if field in self.fields else None, problem)
                return data

        return Validated

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in ROUTE_FIELDS if f in form.cleaned_data}
        saved = sender_route_save(kind=obj.kind, values=values, actor=user_actor(request.user), user=request.user)
        obj.pk = saved.pk

    def log_change(self, request, obj, message):
        pass  # the service wrote the audit row

    def log_addition(self, request, obj, message):
        pass


from messaging import admin_conversation, admin_experiments, admin_sequences  # noqa: E402, F401  (own modules)
