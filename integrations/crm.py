"""Keeping the business's CRM up to date: each classified lead is a contact (HubSpot) or person (Pipedrive), a deal
in the stage its intent maps to, and a note holding the conversation.

- **What is sent is the lead as it is now**, not a list of events: a change (classified again, a reply, a message
  sent, a meeting, converted or lost) marks the lead's link to each CRM as having changes, and a sync sends the
  lead's current state. Many changes in a row cost one sync; a sync run twice changes nothing. The link counts the
  changes, so one recorded while a sync runs is sent by the next one, never lost.
- **Ids are kept as they are made** (contact, then deal, then note), so a failure halfway never makes a second
  contact or deal when it is tried again. An existing contact with the same email (or phone) is updated, not copied.
- **Stages follow the intent only when it changes**: a deal someone moved in the CRM is not moved back by a reply.
- **Failures** (integrations.crm_clients): 429 waits for Retry-After (the whole connection waits); no answer or a
  5xx tries again with backoff; an expired token is renewed with the refresh token and the call made again, else the
  connection pauses, the admins are told, and everything waiting goes out once a new token is saved; another 4xx is
  kept on the link for a person ("Sync again" in the admin).
- **Won and lost come back** through the CRM's webhooks (integrations.crm_webhooks): the deal's lead is marked
  converted or lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone

from alerts.content import item_url
from bizpilot import jobs
from bizpilot.audit import audit_record
from bizpilot.business import business_zone
from bizpilot.errors import InvalidTransition
from bizpilot.process_cache import ProcessCached
from integrations.crm_clients import (
    CrmClient,
    CrmError,
    Gone,
    Person,
    RateLimited,
    Refused,
    Unauthorized,
    Unavailable,
    crm_client,
)
from integrations.models import CrmConnection, CrmLink
from leads.lifecycle import lead_mark_outcome
from leads.models import Lead
from messaging.selectors import conversation

log = structlog.get_logger(__name__)
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY_GAP = timedelta(hours=1)
NOTE_LIMIT = 60_000  # HubSpot keeps at most 65,536 characters in a note


# --- marking leads to sync ------------------------------------------------------------------------------------------

_connected = ProcessCached(lambda: list(CrmConnection.objects.filter(is_active=True).values_list("pk", flat=True)))


def connected() -> list[int]:
    """The active CRM connections' ids, as this process read them within FLAGS_CACHE_SECONDS (a lead change costs no
    query when no CRM is connected)."""
    return _connected.get()


def connections_changed() -> None:
    _connected.forget()


def crm_lead_changed(*, lead_id: int, classified: bool = False) -> int:
    """Something about the lead changed: every connected CRM has it to sync. Before the lead is first classified
    nothing is sent (`classified`: it was just now). Returns how many links were marked."""
    connections = connected()
    if not connections:
        return 0
    if not classified and not Lead.objects.filter(pk=lead_id, erased_at__isnull=True).exclude(intent="").exists():
        return 0
    now = timezone.now()
    for connection_id in connections:
        try:
            with transaction.atomic():
                created = CrmLink.objects.get_or_create(connection_id=connection_id, lead_id=lead_id)[1]
        except IntegrityError:  # the connection was just deleted
            continue
        if not created:
            CrmLink.objects.filter(connection_id=connection_id, lead_id=lead_id).update(
                changes=F("changes") + 1, pending=True, next_attempt_at=Greatest(F("next_attempt_at"), now)
            )
    jobs.enqueue_once_on_commit("integrations.tasks.sync_crm", task_name="sync_crm", group="crm")
    return len(connections)


# --- syncing --------------------------------------------------------------------------------------------------------


def due_links(now: datetime):
    return CrmLink.objects.filter(
        pending=True,
        next_attempt_at__lte=now,
        connection__is_active=True,
        connection__status=CrmConnection.Status.OK,
    ).filter(Q(connection__rate_limited_until__isnull=True) | Q(connection__rate_limited_until__lte=now))


def crm_sync_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Sync every lead that has changes and may go now (the minutely sweep and the job after each change). Stops
    early when a CRM asks to wait. Returns how many syncs were attempted."""
    now = now or timezone.now()
    made = 0
    while made < limit:
        batch = list(due_links(now).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:50])
        if not batch:
            break
        for link_id in batch:
            if crm_link_sync(link_id=link_id, now=now) is not None:
                made += 1
    return made


def crm_link_sync(*, link_id: int, now: datetime | None = None) -> CrmLink | None:
    """Send one lead's current state to one CRM, if it is due (None: another worker has it, or it is not due)."""
    now = now or timezone.now()
    with transaction.atomic():
        link = (
            due_links(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("connection", "lead")
            .filter(pk=link_id)
            .first()
        )
        if link is None:
            return None
        claimed = link.changes
        link.next_attempt_at = now + LEASE
        link.save(update_fields=["next_attempt_at"])
    connection, lead = link.connection, link.lead
    if lead.erased_at is not None:
        return _finish(link, claimed, now, error="")
    try:
        _push_renewing(connection, link, lead)
    except RateLimited as exc:
        wait_until = now + timedelta(seconds=exc.retry_after)
        CrmConnection.objects.filter(pk=connection.pk).update(rate_limited_until=wait_until)
        return _again(link, at=wait_until, error=str(exc), count=False)
    except Unavailable as exc:
        return _again(link, at=now + min(FIRST_RETRY * 2**link.attempts, MAX_RETRY_GAP), error=str(exc), count=True)
    except Unauthorized as exc:
        _pause(connection, CrmConnection.Status.TOKEN_EXPIRED, str(exc))
        return _again(link, at=now, error=str(exc), count=False)
    except Refused as exc:
        log.warning("crm.refused", link_id=link.pk, crm=connection.kind, error=str(exc)[:200])
        return _finish(link, claimed, now, error=f"{connection.get_kind_display()} refused it: {exc}")
    return _finish(link, claimed, now, error="")


def _push_renewing(connection: CrmConnection, link: CrmLink, lead: Lead) -> None:
    """Push, renewing an expired OAuth token once and trying again."""
    try:
        _push(crm_client(connection), connection, link, lead)
    except Unauthorized:
        if not (connection.refresh_token and connection.client_id and connection.client_secret):
            raise
        try:
            tokens = crm_client(connection).tokens_refresh()
        except CrmError as exc:
            raise Unauthorized(f"the token expired and could not be renewed ({exc})") from exc
        CrmConnection.objects.filter(pk=connection.pk).update(
            access_token=tokens.access_token, refresh_token=tokens.refresh_token, token_expires_at=tokens.expires_at
        )
        connection.access_token, connection.refresh_token = tokens.access_token, tokens.refresh_token
        log.info("crm.token_renewed", crm=connection.kind)
        _push(crm_client(connection), connection, link, lead)


def _push(client: CrmClient, connection: CrmConnection, link: CrmLink, lead: Lead) -> None:
    person = Person(name=lead.name, email=lead.email, phone=lead.phone, company=lead.company)
    intent_changed = link.synced_intent != lead.intent
    stages = connection.contact_stages if connection.kind == CrmConnection.Kind.HUBSPOT else {}
    contact_stage = str((stages or {}).get(lead.intent) or "")
    if link.contact_id:
        try:
            client.contact_update(link.contact_id, person, contact_stage if intent_changed else "")
        except Gone:
            _keep(link, contact_id="")
    if not link.contact_id:
        found = client.contact_find(person)
        if found:
            client.contact_update(found, person, contact_stage)
        _keep(link, contact_id=found or client.contact_create(person, contact_stage))
    deal_stage = str((connection.deal_stages or {}).get(lead.intent) or "")
    if deal_stage and link.deal_id and intent_changed:
        try:
            client.deal_move(link.deal_id, deal_stage)
        except Gone:
            _keep(link, deal_id="")
    if deal_stage and not link.deal_id:
        _keep(link, deal_id=client.deal_create(link.contact_id, deal_title(lead), deal_stage))
    if connection.add_note:
        text = conversation_note(lead)
        try:
            _keep(link, note_id=client.note_write(link.note_id, link.contact_id, link.deal_id, text))
        except Gone:
            _keep(link, note_id=client.note_write("", link.contact_id, link.deal_id, text))
    _keep(link, synced_intent=lead.intent)


def _keep(link: CrmLink, **ids: str) -> None:
    """Store an id the moment the CRM gives it, so a later failure does not make the record twice."""
    for field, value in ids.items():
        setattr(link, field, value)
    CrmLink.objects.filter(pk=link.pk).update(**ids)


def _finish(link: CrmLink, claimed: int, now: datetime, *, error: str) -> CrmLink:
    """The changes up to `claimed` are sent (or refused): the link stays pending only for changes made since."""
    CrmLink.objects.filter(pk=link.pk).update(
        synced_changes=claimed,
        pending=Case(When(changes__gt=claimed, then=Value(True)), default=Value(False)),
        attempts=0,
        next_attempt_at=now,
        last_synced_at=now if not error else F("last_synced_at"),
        last_error=error,
    )
    link.refresh_from_db()
    if link.pending:
        jobs.enqueue("integrations.tasks.sync_crm", task_name="sync_crm", group="crm")
    return link


def _again(link: CrmLink, *, at: datetime, error: str, count: bool) -> CrmLink:
    CrmLink.objects.filter(pk=link.pk).update(
        next_attempt_at=at, last_error=error, attempts=F("attempts") + (1 if count else 0)
    )
    link.refresh_from_db()
    return link


def _pause(connection: CrmConnection, status: str, detail: str) -> None:
    with transaction.atomic():
        paused = CrmConnection.objects.filter(pk=connection.pk, status=CrmConnection.Status.OK).update(
            status=status, status_detail=detail
        )
        if paused:
            audit_record(actor="system:crm", action="crm.paused", obj=connection, after={"reason": detail})
            jobs.enqueue_on_commit(
                "integrations.tasks.tell_admins_crm_paused", connection.pk, task_name=f"crm_paused-{connection.pk}"
            )
    log.warning("crm.paused", crm=connection.kind, reason=detail[:200])


def crm_connection_resume(*, connection_id: int, actor: str) -> CrmConnection:
    """A person saved a new token (or asked to resume): the connection works again and what waited goes out."""
    with transaction.atomic():
        connection = CrmConnection.objects.select_for_update().get(pk=connection_id)
        connection.status, connection.status_detail, connection.rate_limited_until = CrmConnection.Status.OK, "", None
        connection.save(update_fields=["status", "status_detail", "rate_limited_until", "updated_at"])
        audit_record(actor=actor, action="crm.resumed", obj=connection)
        jobs.enqueue_on_commit("integrations.tasks.sync_crm", task_name="sync_crm", group="crm")
    return connection


def crm_link_sync_again(*, link_id: int, actor: str) -> CrmLink:
    """A person asks for a lead to be sent again (after a refusal, or after fixing it in the CRM)."""
    with transaction.atomic():
        CrmLink.objects.filter(pk=link_id).update(
            changes=F("changes") + 1, pending=True, next_attempt_at=timezone.now(), attempts=0
        )
        link = CrmLink.objects.get(pk=link_id)
        audit_record(actor=actor, action="crm.sync_again", obj=link)
        jobs.enqueue_on_commit("integrations.tasks.sync_crm", task_name="sync_crm", group="crm")
    return link


# --- what is written ------------------------------------------------------------------------------------------------


def deal_title(lead: Lead) -> str:
    who = lead.name or lead.email or lead.phone or f"Lead {lead.pk}"
    return f"{who} ({lead.company})" if lead.company else who


def conversation_note(lead: Lead) -> str:
    """The lead's intent and the conversation so far (what they wrote and what was sent; no unsent drafts), its
    times on the business's clock."""
    lines = [
        f"BizPilot lead {lead.pk}: {lead.intent or 'not classified'}"
        + (f" ({lead.intent_confidence:.0%} sure)" if lead.intent_confidence is not None else ""),
        f"Source: {lead.source}. Stage: {lead.state}.",
        f"Conversation: {item_url(lead.pk)}",
        "",
    ]
    zone = business_zone()
    for item in conversation(lead_id=lead.pk):
        if item["type"] == "meeting":
            lines += [item["body"], ""]
            continue
        if item["type"] == "inbound":
            who = "Lead"
        elif item["type"] == "outbound" and item["status"] in ("sent", "delivered"):
            who = "Us"
        else:
            continue
        at = item["at"].astimezone(zone).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{at} {who} ({item['channel']}): {item['subject'] + ' - ' if item['subject'] else ''}")
        lines.append(item["body"].strip())
        lines.append("")
    text = "\n".join(lines).strip()
    return text if len(text) <= NOTE_LIMIT else text[: NOTE_LIMIT - 40] + "\n… (the rest is in BizPilot)"


# --- won and lost, from the CRM -------------------------------------------------------------------------------------


def crm_deal_closed(*, connection: CrmConnection, deal_id: str, won: bool) -> dict[str, Any]:
    """The CRM says a deal was won (or lost): its lead is marked converted (or lost). Idempotent; a deal we did not
    make, or a lead that cannot take that outcome now, is answered and changes nothing."""
    link = CrmLink.objects.filter(connection=connection, deal_id=str(deal_id)).first()
    if link is None:
        return {"deal": str(deal_id), "lead": None, "result": "not a BizPilot deal"}
    outcome = Lead.State.CONVERTED if won else Lead.State.LOST
    try:
        lead = lead_mark_outcome(lead_id=link.lead_id, outcome=outcome, actor=f"crm:{connection.kind}")
    except InvalidTransition as exc:
        return {"deal": str(deal_id), "lead": link.lead_id, "result": f"unchanged: {exc}"}
    return {"deal": str(deal_id), "lead": lead.pk, "result": lead.state}
