"""Answers that fit who wrote. The classifier reads who a message is from (a prospect, or a vendor, a job seeker, an
existing customer with a support request, spam, an automated message...); for each kind that is not a prospect the
business chooses what happens (Messaging -> Answers per kind of sender): a short "no, thank you" to a vendor's pitch,
the careers answer to a job seeker, the support route (the message forwarded to the support address, and the lead
told so), no reply at all, or a draft as for a prospect. Until a route is saved, the defaults below apply."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template import Context, Template

from bizpilot import jobs
from bizpilot.access import require_permission
from bizpilot.actors import PIPELINE
from bizpilot.audit import audit_record
from bizpilot.business import business
from bizpilot.errors import ValidationFailed
from bizpilot.models import AuditEvent
from intelligence.drafting import ReplyDraft
from intelligence.prompts import first_name
from leads.models import InboundMessage, Lead
from messaging.models import SenderRoute
from messaging.route_defaults import ROUTE_DEFAULTS

Action = SenderRoute.Action
ROUTE_FIELDS = ["action", "subject", "body", "forward_to", "auto_send"]


def sender_route(kind: str) -> SenderRoute:
    """The business's route for a kind of sender: the saved one, else the default (not saved)."""
    route = SenderRoute.objects.filter(kind=kind).first()
    if route is not None:
        if route.action == Action.FORWARD and not route.forward_to:
            route.forward_to = settings.SUPPORT_EMAIL  # the installation's support address, until one is saved
        return route
    action, subject, body = ROUTE_DEFAULTS.get(kind, (Action.ANSWER, "", ""))
    forward_to = settings.SUPPORT_EMAIL if action == Action.FORWARD else ""
    return SenderRoute(kind=kind, action=action, subject=subject, body=body, forward_to=forward_to)


def sender_route_validate(values: dict[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    action = values.get("action")
    if action in (Action.TEMPLATE, Action.FORWARD) and not (values.get("body") or "").strip():
        errors["body"] = ["A reply needs its text."]
    if action == Action.FORWARD and not (values.get("forward_to") or settings.SUPPORT_EMAIL):
        errors["forward_to"] = ["Forwarding needs the address to forward to (or SUPPORT_EMAIL set)."]
    for field in ("subject", "body"):
        try:
            Template(values.get(field) or "")
        except Exception as exc:  # a template syntax error, named for the field
            errors[field] = [f"Not a valid template: {exc}"]
    return errors


def sender_route_save(*, kind: str, values: dict[str, Any], actor: str, user: Any = None) -> SenderRoute:
    """Save the business's answer for a kind of sender (admins only), audited with before and after."""
    require_permission(user, "messaging.change_senderroute", "change the answers per kind of sender")
    errors = sender_route_validate(values)
    if errors:
        raise ValidationFailed("The answer for this kind of sender is not valid.", fields=errors)
    with transaction.atomic():
        route = SenderRoute.objects.select_for_update().filter(kind=kind).first() or sender_route(kind)
        before = {f: getattr(route, f) for f in ROUTE_FIELDS} if route.pk else {}
        for field in ROUTE_FIELDS:
            if field in values:
                setattr(route, field, values[field])
        route.updated_by = actor
        route.save()
        audit_record(
            actor=actor,
            action="sender_route.change",
            obj=route,
            before=before,
            after={f: getattr(route, f) for f in ROUTE_FIELDS},
        )
    return route


def routed_draft(
    *,
    route: SenderRoute,
    lead_id: int,
    inbound_id: int,
    classification_id: int | None,
    intent: str,
    channel: str,
    confidence: float,
) -> ReplyDraft:
    """The route's own reply to a sender that is not a prospect: its text, filled in; it waits for review unless
    the route may auto-send."""
    lead = Lead.objects.get(pk=lead_id)
    context = Context(
        {
            "first_name": first_name(lead.name),
            "company": lead.company,
            "business_name": business().name,
            "sender_name": business().sender_name,
            "signature": business().sign_off,
            "forward_to": route.forward_to,
        },
        autoescape=False,
    )
    subject = " ".join(Template(route.subject).render(context).split()) if channel == "email" else ""
    body = Template(route.body).render(context).strip()
    kind = route.get_kind_display().lower()
    held = [] if route.auto_send else [f"not a prospect: {kind}; the business's answer for this sender, for review"]
    return ReplyDraft(
        inbound_id=inbound_id,
        classification_id=classification_id,
        intent=intent,
        subject=subject,
        body=body,
        generated_by="fallback",
        reason=f"the business's answer for this kind of sender: {route.get_action_display().lower()}",
        template_name=f"route:{route.kind}",
        prompt_template_id=None,
        model_call_id=None,
        confidence=confidence,
        checks_failed=held,
    )


def enqueue_forward(*, route: SenderRoute, inbound_id: int) -> None:
    if route.action == Action.FORWARD and route.forward_to:
        jobs.enqueue_on_commit(
            "messaging.tasks.forward_inbound", inbound_id, route.forward_to, task_name=f"forward-{inbound_id}"
        )


def inbound_forward(*, inbound_id: int, to: str) -> bool:
    """Send a lead's message on to the support route (once: the audit log remembers it). Reply-To is the lead, so
    the support team answers them directly."""
    inbound = InboundMessage.objects.select_related("lead").filter(pk=inbound_id).first()
    if inbound is None or inbound.lead.erased_at is not None:
        return False
    if AuditEvent.objects.filter(action="inbound.forwarded", object_id=str(inbound_id)).exists():
        return False
    lead = inbound.lead
    email = EmailMessage(
        subject=f"Fwd: {inbound.subject or 'message from ' + (lead.name or lead.email or lead.phone)}",
        body=f"{lead.name or 'A customer'} ({lead.email or lead.phone}) wrote via {inbound.channel} on "
        f"{inbound.received_at:%Y-%m-%d %H:%M}:\n\n{inbound.body}",
        from_email=business().from_email,
        to=[to],
        reply_to=[lead.email] if lead.email else None,
    )
    email.send(fail_silently=False)
    audit_record(actor=PIPELINE, action="inbound.forwarded", obj=inbound, after={"to": to})
    return True
