"""Settings as one JSON file: exported from one install and imported into another (a second site, a test copy).

What travels: the business profile, the feature flags, the auto-send policy, the meeting availability and days off,
the prompt templates in effect, the sender routes, the follow-up sequences, the website form, the starter pack's
intent examples, and the knowledge base's documents (their text: vectors are made again by the install that imports
them). What does not: secrets (the CalDAV password, the captcha secret, CRM tokens, webhook secrets, API keys),
people (alert recipients, users), leads and what was learnt from them (operators' corrections).

An import goes through each setting's own service (its validation, its audit row) in one transaction: a file with
any problem changes nothing, and its report names each problem by section and field (`auto_send.threshold`). The
same file imported twice changes nothing the second time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from bizpilot.audit import audit_record
from bizpilot.business import PROFILE_FIELDS, business, business_save
from bizpilot.errors import ServiceError, ValidationFailed
from bizpilot.flags import FLAG_FIELDS, flags, flags_save
from intelligence.examples import intent_examples_add
from intelligence.knowledge import knowledge_document_store
from intelligence.models import IntentExample, KnowledgeDocument, PromptTemplate
from intelligence.prompt_templates import prompt_template_live, prompt_template_save
from leads.models import SiteForm
from leads.site_form import SITE_FORM_FIELDS, site_form_save
from meetings.availability import AVAILABILITY_FIELDS, availability_save
from meetings.models import Availability, DayOff
from messaging.autosend import AUTO_SEND_POLICY_FIELDS, auto_send_policy_save
from messaging.models import AutoSendPolicy, Sequence, SequenceStep
from messaging.route_models import SenderRoute
from messaging.routes import ROUTE_FIELDS, sender_route_save

FORMAT, VERSION = "bizpilot-settings", 1
SECRET_FIELDS = {"caldav_password", "captcha_secret"}
INTENTS, CHANNEL_KINDS = ("hot", "warm", "cold"), ("email", "text")
STEP_FIELDS = (
    "position",
    "channel",
    "instructions",
    "fallback_subject",
    "fallback_body",
    "whatsapp_content_sid",
    "whatsapp_content_variables",
)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return value


def settings_export() -> dict[str, Any]:
    row = Availability.objects.order_by("pk").first()
    policy = AutoSendPolicy.current()
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": timezone.now().isoformat(),
        "business": {name: getattr(business(), name) for name in PROFILE_FIELDS},
        "feature_flags": {name: getattr(flags(), name) for name in FLAG_FIELDS},
        "auto_send": {name: _plain(getattr(policy, name)) for name in AUTO_SEND_POLICY_FIELDS},
        "availability": (
            {name: _plain(getattr(row, name)) for name in AVAILABILITY_FIELDS if name not in SECRET_FIELDS}
            if row
            else None
        ),
        "days_off": [{"date": d.date.isoformat(), "note": d.note} for d in DayOff.objects.order_by("date")],
        "prompt_templates": [
            {
                "intent": intent,
                "channel_kind": kind,
                **{
                    name: getattr(
                        prompt_template_live(intent=intent, channel="email" if kind == "email" else "sms"), name
                    )
                    for name in ("instructions", "max_chars", "fallback_subject", "fallback_body")
                },
            }
            for intent in INTENTS
            for kind in CHANNEL_KINDS
        ],
        "sender_routes": [
            {"kind": route.kind, **{name: getattr(route, name) for name in ROUTE_FIELDS}}
            for route in SenderRoute.objects.order_by("kind")
        ],
        "sequences": [
            {
                "name": sequence.name,
                "intent": sequence.intent,
                "active": sequence.active,
                "steps": [
                    {**{name: getattr(step, name) for name in STEP_FIELDS}, "delay_seconds": _plain(step.delay)}
                    for step in sequence.steps.order_by("position")
                ],
            }
            for sequence in Sequence.objects.order_by("name").prefetch_related("steps")
        ],
        "site_form": (
            {name: getattr(site, name) for name in SITE_FORM_FIELDS if name not in SECRET_FIELDS}
            if (site := SiteForm.objects.order_by("pk").first())
            else None
        ),
        "intent_examples": [
            {"text": e.text, "intent": e.intent, "kind": e.kind}
            for e in IntentExample.objects.filter(origin=IntentExample.Origin.PACK).order_by("id")
        ],
        "knowledge": [
            {"source_path": d.source_path, "title": d.title, "kind": d.kind, "content": d.content}
            for d in KnowledgeDocument.objects.order_by("source_path")
        ],
    }


def settings_import(*, data: Any, actor: str, user: Any = None) -> dict[str, int]:
    """Apply an exported file, all or nothing. Returns how many of each section it set."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValidationFailed("Not a BizPilot settings file.", fields={"format": [f"Expected {FORMAT!r}."]})
    if data.get("version") != VERSION:
        raise ValidationFailed("Unknown settings file version.", fields={"version": [f"This install reads {VERSION}."]})
    counts: dict[str, int] = {}
    with transaction.atomic():
        profile = _section("business", lambda: business_save(values=_business(data), actor=actor, user=user))
        _section(
            "feature_flags",
            lambda: flags_save(values=_only(data, "feature_flags", FLAG_FIELDS), actor=actor, user=user),
        )
        _section("auto_send", lambda: auto_send_policy_save(values=_auto_send(data), actor=actor, user=user))
        if data.get("availability"):
            fields = [f for f in AVAILABILITY_FIELDS if f not in SECRET_FIELDS]
            _section(
                "availability",
                lambda: availability_save(values=_only(data, "availability", fields), actor=actor, user=user),
            )
        counts["days_off"] = _days_off(data.get("days_off") or [])
        counts["prompt_templates"] = _templates(data.get("prompt_templates") or [], actor)
        counts["sender_routes"] = 0
        for n, route in enumerate(data.get("sender_routes") or []):
            values = {name: route.get(name) for name in ROUTE_FIELDS if name in route}
            current = SenderRoute.objects.filter(kind=route.get("kind", "")).first()
            if current is not None and all(getattr(current, name) == value for name, value in values.items()):
                continue  # as it is here already
            _section(
                f"sender_routes.{n}",
                lambda r=route, v=values: sender_route_save(kind=r.get("kind", ""), values=v, actor=actor, user=user),
            )
            counts["sender_routes"] += 1
        counts["sequences"] = _sequences(data.get("sequences") or [], actor)
        if data.get("site_form"):
            values = _only(data, "site_form", [f for f in SITE_FORM_FIELDS if f not in SECRET_FIELDS])
            here = SiteForm.objects.order_by("pk").first()
            if values.get("captcha") and not (here and here.captcha_secret):
                values["captcha"] = ""  # its secret stays behind: the captcha is off until it is set here
                counts["site_form_captcha_needs_its_secret"] = 1
            _section("site_form", lambda: site_form_save(values=values, actor=actor, user=user))
        counts["intent_examples"] = _examples(data.get("intent_examples") or [])
        counts["knowledge"] = _knowledge(data.get("knowledge") or [])
        audit_record(actor=actor, action="settings.imported", obj=profile, after=counts)
    return counts


def _only(data: dict[str, Any], section: str, fields: Any) -> dict[str, Any]:
    values = data.get(section)
    if not isinstance(values, dict):
        raise ValidationFailed("A section is missing.", fields={section: ["Expected an object."]})
    return {name: values[name] for name in fields if name in values}


def _business(data: dict[str, Any]) -> dict[str, Any]:
    values = _only(data, "business", PROFILE_FIELDS)
    if "time_zone" not in values:  # a file from before the profile held the business's one time zone
        zones = [(data.get(s) or {}).get("time_zone") for s in ("availability", "auto_send")]
        values["time_zone"] = next((zone for zone in zones if zone), business().time_zone)
    return values


def _auto_send(data: dict[str, Any]) -> dict[str, Any]:
    values = _only(data, "auto_send", AUTO_SEND_POLICY_FIELDS)
    for name in ("quiet_hours_start", "quiet_hours_end"):
        if isinstance(values.get(name), str) and values[name]:
            values[name] = time.fromisoformat(values[name])
    return values


def _section(prefix: str, apply: Any) -> Any:
    """Run one section's service; its field errors come back named `prefix.field`."""
    try:
        return apply()
    except ValidationFailed as exc:
        raise ValidationFailed(
            f"{prefix}: {exc.message}",
            fields={f"{prefix}.{name}": problems for name, problems in exc.fields.items()} or {prefix: [exc.message]},
        ) from exc
    except ServiceError as exc:
        raise ValidationFailed(f"{prefix}: {exc.message}", fields={prefix: [exc.message]}) from exc


def _days_off(days: list[Any]) -> int:
    for n, day in enumerate(days):
        try:
            DayOff.objects.update_or_create(
                date=date.fromisoformat(day["date"]), defaults={"note": day.get("note", "")}
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed("A day off is wrong.", fields={f"days_off.{n}": ["Expected {date, note}."]}) from exc
    return len(days)


def _templates(templates: list[Any], actor: str) -> int:
    changed = 0
    for n, item in enumerate(templates):
        intent, kind = item.get("intent"), item.get("channel_kind")
        if intent not in INTENTS or kind not in CHANNEL_KINDS:
            raise ValidationFailed(
                "A prompt template is wrong.", fields={f"prompt_templates.{n}": ["Unknown intent or channel."]}
            )
        live = PromptTemplate.objects.filter(intent=intent, channel_kind=kind).order_by("-version").first()
        values = {name: item.get(name) for name in ("instructions", "max_chars", "fallback_subject", "fallback_body")}
        if live is not None and all(getattr(live, name) == value for name, value in values.items()):
            continue  # the same text: no new version
        _section(
            f"prompt_templates.{n}",
            lambda i=intent, k=kind, v=values: prompt_template_save(
                intent=i, channel_kind=k, change_note="imported", actor=actor, **v
            ),
        )
        changed += 1
    return changed


def _sequences(sequences: list[Any], actor: str) -> int:
    for n, item in enumerate(sequences):
        try:
            active = bool(item.get("active", True))
            if active:  # one active sequence per intent: the imported one takes over
                Sequence.objects.filter(intent=item["intent"], active=True).exclude(name=item["name"]).update(
                    active=False
                )
            sequence, _ = Sequence.objects.update_or_create(
                name=item["name"], defaults={"intent": item["intent"], "active": active}
            )
            sequence.steps.all().delete()
            SequenceStep.objects.bulk_create(
                SequenceStep(
                    sequence=sequence,
                    delay=timedelta(seconds=int(step["delay_seconds"])),
                    **{name: step[name] for name in STEP_FIELDS if name in step},
                )
                for step in item.get("steps", [])
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationFailed(
                "A sequence is wrong.", fields={f"sequences.{n}": [f"Missing or wrong: {exc}"]}
            ) from exc
        audit_record(actor=actor, action="sequence.imported", obj=sequence, after={"steps": len(item.get("steps", []))})
    return len(sequences)


def _examples(examples: list[Any]) -> int:
    try:
        rows = [(str(e["text"]), str(e["intent"]), str(e.get("kind", ""))) for e in examples]
        return intent_examples_add(examples=rows, origin=IntentExample.Origin.PACK)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed("An intent example is wrong.", fields={"intent_examples": [str(exc)]}) from exc


def _knowledge(documents: list[Any]) -> int:
    for n, document in enumerate(documents):
        try:
            knowledge_document_store(
                source_path=str(document["source_path"])[:500],
                title=str(document["title"]),
                kind=str(document.get("kind", "doc")),
                content=str(document["content"]),
            )
        except (KeyError, TypeError) as exc:
            raise ValidationFailed("A document is wrong.", fields={f"knowledge.{n}": [f"Missing: {exc}"]}) from exc
    return len(documents)
