"""The conversation screen: one per lead, the operator's place to work. The whole thread in and out across email,
SMS and WhatsApp in time order (delivery, opens and clicks, machine events marked, who approved what), the drafts
waiting for review inline (edit, approve, regenerate, reject), a composer on any channel the lead can be reached
on, internal notes, and the lead's facts, stage, intent history and sequence on the side. Every button is one
service call; the services check the permission and write the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.timezone import now

from bizpilot.access import REVIEW
from bizpilot.actors import user_actor
from bizpilot.errors import ServiceError
from messaging.compose import conversation_note_add, message_compose
from messaging.models import Conversation, Message
from messaging.review import message_approve, message_regenerate, message_reject, message_update_draft
from messaging.selectors import conversation_screen
from messaging.signals import lead_opened

ACTIONS = ["approve", "save", "regenerate", "reject", "compose", "note"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "company", "state", "intent", "updated_at"]
    list_filter = ["state", "intent"]
    search_fields = ["name", "email", "phone", "company"]
    list_select_related = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(erased_at__isnull=True)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the screen's forms post to services, which check REVIEW themselves

    def change_view(self, request, object_id, form_url="", extra_context=None):
        lead = self.get_object(request, object_id)
        if lead is None or not self.has_view_permission(request, lead):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if request.method == "POST":
            self._act(request, lead.pk)
            return HttpResponseRedirect(request.path)
        lead_opened.send(sender=Message, lead_id=lead.pk, actor=user_actor(request.user), at=now())
        context = {
            **self.admin_site.each_context(request),
            **conversation_screen(lead_id=lead.pk),
            "opts": self.opts,
            "title": f"Conversation with {lead}",
            "can_review": request.user.has_perm(REVIEW),
            "record_url": reverse("admin:leads_lead_change", args=[lead.pk]) + "?record=1",
        }
        return TemplateResponse(request, "admin/messaging/conversation/conversation.html", context)

    def _act(self, request, lead_id: int) -> None:
        action = next((a for a in ACTIONS if f"_{a}" in request.POST), "")
        post = request.POST
        actor, user = user_actor(request.user), request.user
        try:
            if action == "compose":
                message = message_compose(
                    lead_id=lead_id,
                    channel=post.get("channel", ""),
                    subject=post.get("subject", ""),
                    body=post.get("body", ""),
                    whatsapp_content_sid=post.get("whatsapp_content_sid", "").strip(),
                    actor=actor,
                    user=user,
                )
                self.message_user(request, f"Sending your {message.get_channel_display()} message.", messages.SUCCESS)
            elif action == "note":
                conversation_note_add(lead_id=lead_id, body=post.get("note", ""), actor=actor, user=user)
                self.message_user(request, "Note added (never sent).", messages.SUCCESS)
            elif action:
                self._draft_action(action, _draft_id(post, lead_id), post, actor, user)
                self.message_user(request, DONE[action], messages.SUCCESS)
        except ServiceError as exc:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
            self.message_user(request, f"{exc.message} {fields}".strip(), messages.ERROR)

    @staticmethod
    def _draft_action(action: str, message_id: int, post: Any, actor: str, user: Any) -> None:
        subject = post.get("subject") if "subject" in post else None
        if action == "approve":
            message_approve(message_id=message_id, actor=actor, subject=subject, body=post.get("body"), user=user)
        elif action == "save":
            message_update_draft(message_id=message_id, actor=actor, subject=subject, body=post.get("body"), user=user)
        elif action == "regenerate":
            message_regenerate(message_id=message_id, actor=actor, note=post.get("regenerate_note", ""), user=user)
        elif action == "reject":
            message_reject(message_id=message_id, actor=actor, reason=post.get("reject_reason", ""), user=user)


DONE = {
    "approve": "Approved: the reply is being sent.",
    "save": "Draft saved (not approved).",
    "regenerate": "Drafted again; review the new text.",
    "reject": "Rejected: the draft will not be sent.",
}


def _draft_id(post: Any, lead_id: int) -> int:
    """The draft a button acts on, which must be one of this lead's."""
    from bizpilot.errors import NotFound

    raw = post.get("message_id", "")
    if not raw.isdigit() or not Message.objects.filter(pk=int(raw), lead_id=lead_id).exists():
        raise NotFound("No such draft in this conversation.")
    return int(raw)
