"""One person, one lead: identities are compared case-insensitively (email) or in E.164 (phone), locked while a
delivery decides whether the person is new, and two leads of one person can be merged."""

from __future__ import annotations

from django.db import connection, transaction
from django.forms.models import model_to_dict

from bizpilot.audit import audit_record
from bizpilot.errors import NotFound, ValidationFailed
from bizpilot.relations import references_left, references_move
from leads.models import Lead
from leads.signals import lead_merging

# Single deliveries share this lock (they only exclude each other per identity); a CSV batch takes it alone.
INGEST_LOCK = "leads:ingest"


def lock_identities(email: str, phone: str) -> None:
    keys = sorted(k for k in (f"email:{email.lower()}" if email else "", f"phone:{phone}" if phone else "") if k)
    # One statement: the shared lock first (a merge or an import takes it exclusively), then each identity's, in
    # sorted order so two deliveries naming the same two identities cannot deadlock.
    locks = ", ".join(
        ["pg_advisory_xact_lock_shared(hashtextextended(%s, 0))"]
        + ["pg_advisory_xact_lock(hashtextextended(%s, 0))"] * len(keys)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {locks}", [INGEST_LOCK, *keys])


def known_lead(email: str, phone: str) -> Lead | None:
    """The person's most recent lead: by email first, then by phone."""
    for lookup in ({"email__iexact": email} if email else None, {"phone": phone} if phone else None):
        if lookup:
            lead = Lead.objects.select_for_update().filter(**lookup).order_by("-created_at", "-id").first()
            if lead is not None:
                return lead
    return None


def fill_blanks(lead: Lead, **values: str) -> None:
    """What a known person tells us now fills what we did not know; it never overwrites what we had."""
    changed = [field for field, value in values.items() if value and not getattr(lead, field)]
    for field in changed:
        setattr(lead, field, values[field])
    if changed:
        lead.save(update_fields=[*changed, "updated_at"])


def leads_merge(*, keep_id: int, merge_id: int, actor: str) -> Lead:
    """Merge a duplicate lead into another: every row pointing at it (inbound messages here; replies,
    classifications, model calls and the like through `lead_merging`, each app moving its own) moves to the kept
    lead, blank contact details are filled from it, and it is deleted. The audit log keeps a copy of the merged
    lead."""
    if keep_id == merge_id:
        raise ValidationFailed("Choose two different leads to merge.", fields={"merge_id": ["Same lead as keep_id."]})
    with transaction.atomic():
        leads = {lead.pk: lead for lead in Lead.objects.select_for_update().filter(pk__in=[keep_id, merge_id])}
        if len(leads) != 2:
            raise NotFound("One of the leads to merge does not exist.")
        keep, merged = leads[keep_id], leads[merge_id]
        snapshot = model_to_dict(merged)
        # Each app moves its own rows (leads here, the others through the signal), then nothing may point at the
        # merged lead any more: deleting it would otherwise cascade to rows an app forgot to move.
        moved = references_move(model=Lead, source_id=merge_id, target_id=keep_id, app_label=Lead._meta.app_label)
        for _, moved_by_app in lead_merging.send(sender=Lead, keep_id=keep_id, merge_id=merge_id):
            if isinstance(moved_by_app, dict):
                moved.update(moved_by_app)
        left = references_left(model=Lead, source_id=merge_id)
        if left:
            raise RuntimeError(f"lead {merge_id} is still referenced after the merge: {left}")
        fill_blanks(keep, name=merged.name, email=merged.email, phone=merged.phone, company=merged.company)
        if merged.metadata:
            keep.metadata = {**merged.metadata, **keep.metadata}
            keep.save(update_fields=["metadata", "updated_at"])
        merged.delete()
        audit_record(
            actor=actor,
            action="lead.merge",
            obj=keep,
            before={"merged_lead": {k: str(v) for k, v in snapshot.items()}},
            after={"moved": moved, "merged_id": merge_id},
        )
    return keep
