"""The business's own website form: a submission checked for spam, then stored as a lead like any other.

The checks, in order, each refusing with a clear answer and storing nothing:
- the page it came from is one of the business's sites (`Origin`, the CORS allow-list);
- the honeypot (a field people never see) is empty;
- the form was on screen at least `min_seconds` (a signed token the script was served with says when);
- the address has not sent more than `per_hour` in the last hour;
- with Turnstile or hCaptcha, the provider confirms the visitor's token (`siteverify`, on the server);
- the consent box was ticked, and the fields are valid (the API's own rules: an email or a phone, a real number).
A retried submission (the visitor's connection dropped after we stored it) carries the same id and adds nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
import structlog
from django.conf import settings
from django.core import signing
from django.utils import timezone

from bizpilot.counters import counter_increment
from bizpilot.security import throttle_count
from leads.ingest import LeadInput, lead_ingest
from leads.models import Lead, SiteForm
from leads.serializers import LeadCreateInput

log = structlog.get_logger(__name__)
FIELDS = ("name", "email", "phone", "company", "message")
HONEYPOT = "website_url"  # what a bot fills in: people never see it
TOKEN_SALT = "bizpilot.site-form"
TOKEN_MAX_AGE = 6 * 3600
VERIFY_URLS = {
    "turnstile": "https://challenges.cloudflare.com/turnstile/v0/siteverify",
    "hcaptcha": "https://api.hcaptcha.com/siteverify",
}


@dataclass
class Refused(Exception):
    """A submission refused: its HTTP status, a message for the visitor, and field errors."""

    status: int
    message: str
    fields: dict[str, list[str]] | None = None


def site_form() -> SiteForm | None:
    return SiteForm.objects.filter(is_active=True).order_by("pk").first()


def origin_allowed(form: SiteForm, origin: str) -> bool:
    return bool(origin) and origin.rstrip("/") in form.origins()


def form_token() -> str:
    """Signed when the script is served: says when the form appeared."""
    return signing.dumps({"t": time.time()}, salt=TOKEN_SALT)


def site_form_submit(*, form: SiteForm, payload: Any, origin: str, address: str) -> Lead:
    if not origin_allowed(form, origin):
        raise Refused(403, "This form cannot be sent from this site.")
    if not isinstance(payload, dict):
        raise Refused(400, "The form could not be read.")
    if str(payload.get(HONEYPOT) or "").strip():
        _spam("honeypot", address)
        raise Refused(400, "Your message could not be sent.")
    try:
        shown_at = float(signing.loads(str(payload.get("token", "")), salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Refused(400, "The form has expired: reload the page and send it again.") from exc
    if time.time() - shown_at < form.min_seconds:
        _spam("too_fast", address)
        raise Refused(400, "That was quicker than anyone types: please check your message and send it again.")
    if not _within_rate(form, address):
        _spam("rate", address)
        raise Refused(429, "Too many messages from your connection: please try again in an hour, or call us.")
    if form.captcha and not _captcha_ok(form, str(payload.get("captcha", "")), address):
        raise Refused(400, "Please complete the check that you are not a robot.", {"captcha": ["Not confirmed."]})
    if payload.get("consent") is not True:
        raise Refused(400, "Please tick the box to let us reply.", {"consent": ["Needed to reply to you."]})
    values = {name: payload.get(name, "") for name in FIELDS if name in form.fields}
    problems = {name: ["Please fill this in."] for name in form.required if not str(values.get(name, "")).strip()}
    data = LeadCreateInput(data={**{k: v for k, v in values.items() if isinstance(v, str)}, "source": form.source})
    if not data.is_valid():
        problems.update({name: [str(e) for e in errors] for name, errors in data.errors.items()})
    if problems:
        raise Refused(400, "Please check the highlighted fields.", problems)
    consent = {"text": form.consent_text, "at": timezone.now().isoformat(), "page": str(payload.get("page", ""))[:500]}
    submission = str(payload.get("submission", ""))[:100]
    lead = lead_ingest(
        data=LeadInput(
            **{k: v for k, v in data.validated_data.items() if k in FIELDS},
            source=form.source,
            metadata={"consent": consent, "website_form": True},
        ),
        channel="website",
        actor="website-form",
        raw_payload={k: v for k, v in payload.items() if k not in (HONEYPOT, "token", "captcha")},
        provider_message_id=f"site-form:{submission}" if submission else "",
    )
    log.info("site_form.received", lead_id=lead.pk)
    return lead


def _spam(reason: str, address: str) -> None:
    counter_increment("bizpilot_webhook_rejections", source=f"site_form_{reason}")
    log.warning("site_form.refused", reason=reason, client=address)


def _within_rate(form: SiteForm, address: str) -> bool:
    return throttle_count(f"site-form:{address}", 3600) <= form.per_hour


def _captcha_ok(form: SiteForm, token: str, address: str) -> bool:
    """The provider's own `siteverify`, from the server, with the form's secret."""
    if not token:
        return False
    url = getattr(settings, f"{form.captcha.upper()}_VERIFY_URL", "") or VERIFY_URLS[form.captcha]
    try:
        answer = requests.post(
            url,
            data={"secret": form.captcha_secret, "response": token, "remoteip": address},
            timeout=settings.SITE_FORM_CAPTCHA_TIMEOUT_SECONDS,
        ).json()
    except (requests.RequestException, ValueError):
        log.warning("site_form.captcha_unreachable", provider=form.captcha)
        return False
    return bool(answer.get("success"))


SITE_FORM_FIELDS = (
    "is_active",
    "allowed_origins",
    "fields",
    "required",
    "heading",
    "button_text",
    "thank_you",
    "consent_text",
    "privacy_url",
    "min_seconds",
    "per_hour",
    "captcha",
    "captcha_site_key",
    "captcha_secret",
    "source",
)


def site_form_validate(values: dict[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    origins = [line.strip() for line in str(values.get("allowed_origins") or "").splitlines() if line.strip()]
    if not origins:
        problems["allowed_origins"] = ["Name at least one site the form is on: https://example.com"]
    for origin in origins:
        if not origin.startswith(("https://", "http://")) or origin.rstrip("/").count("/") != 2:
            problems["allowed_origins"] = [f"{origin}: a site is its scheme and host only, e.g. https://example.com"]
    chosen = values.get("fields") or []
    if not isinstance(chosen, list) or not chosen or any(name not in FIELDS for name in chosen):
        problems["fields"] = [f"Choose from: {', '.join(FIELDS)}."]
    elif not {"email", "phone"} & set(chosen):
        problems["fields"] = ["Show an email or a phone field: BizPilot needs a way to reply."]
    if any(name not in (chosen or []) for name in values.get("required") or []):
        problems["required"] = ["Only fields the form shows can be required."]
    if values.get("captcha") and not (values.get("captcha_site_key") and values.get("captcha_secret")):
        problems["captcha_secret"] = ["A captcha needs its site key and its secret."]
    return problems


def site_form_save(*, values: dict[str, Any], actor: str, user: Any = None) -> SiteForm:
    from bizpilot.settings_rows import settings_row_save

    return settings_row_save(
        model=SiteForm,
        fields=SITE_FORM_FIELDS,
        values=values,
        actor=actor,
        user=user,
        permission=("leads.change_siteform", "change the website form"),
        validate=site_form_validate,
        invalid="The website form's settings are not valid.",
        action="site_form.change",
        default=lambda: SiteForm.objects.order_by("pk").first() or SiteForm(),
        secret={"captcha_secret"},
    )


def site_form_current() -> dict[str, Any]:
    row = SiteForm.objects.order_by("pk").first() or SiteForm(allowed_origins="")
    return {name: getattr(row, name) for name in SITE_FORM_FIELDS}
