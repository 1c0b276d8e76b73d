"""What is set up and what is missing, for the checklist on the admin home: each item says what it costs while it
is missing ("no LLM key: replies use templates") and where to fix it. Reads settings and counts rows; writes
nothing (a handful of queries, held by a test)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from alerts.models import AlertRecipient, TeamWebhook
from bizpilot.business import business
from intelligence.llm import llm_configured
from intelligence.models import KnowledgeDocument
from leads.models import Lead, SiteForm
from meetings.availability import availability
from messaging.models import AutoSendPolicy

DEMO_NAME = "Northwind Web Studio"


@dataclass(frozen=True)
class Item:
    key: str
    title: str
    done: bool
    status: str  # what is there (or what it costs while it is not)
    fix: str  # where to set it up
    link: str = ""


def setup_checklist() -> list[Item]:
    profile = business()
    knowledge = KnowledgeDocument.objects.count()
    site_form = SiteForm.objects.filter(is_active=True).first()
    recent = Lead.objects.filter(created_at__gte=timezone.now() - timedelta(days=30), erased_at__isnull=True)
    leads = recent.count()
    email_backend = settings.EMAIL_BACKEND.rsplit(".", 2)[-2] if "." in settings.EMAIL_BACKEND else ""
    texts = bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN)
    people = AlertRecipient.objects.filter(is_active=True).count() + TeamWebhook.objects.filter(is_active=True).count()
    hours = availability()
    policy = AutoSendPolicy.current()
    public = settings.PUBLIC_BASE_URL
    local = any(host in public for host in ("localhost", "127.0.0.1", "0.0.0.0"))  # noqa: S104 (compared, not bound)
    return [
        Item(
            "business",
            "Your business",
            profile.name != DEMO_NAME,
            f"Replies are signed {profile.sender_name}, {profile.name}; your clock is {profile.time_zone}"
            if profile.name != DEMO_NAME
            else "Replies are signed as the demo business, Northwind Web Studio",
            "Fill in your business profile",
            reverse("admin:bizpilot_businessprofile_changelist"),
        ),
        Item(
            "knowledge",
            "What you sell, your prices and hours",
            knowledge > 0,
            f"{knowledge} document{'s' if knowledge != 1 else ''} in the knowledge base"
            if knowledge
            else "Replies cannot quote your prices, hours or services",
            "Import a price list, an FAQ or your website",
            reverse("admin:intelligence_knowledgeimport_add"),
        ),
        Item(
            "llm",
            "Replies written in your voice",
            llm_configured(),
            f"{'Claude' if settings.LLM_PROVIDER == 'anthropic' else 'A local model (Ollama)'} writes the drafts"
            if llm_configured()
            else "No LLM key: replies use the fallback templates",
            "Set ANTHROPIC_API_KEY (or LLM_PROVIDER=ollama), and the LLM feature flag",
        ),
        Item(
            "email",
            "Email replies sent",
            email_backend not in ("console", "locmem", "dummy", ""),
            f"Sent through {email_backend}"
            if email_backend not in ("console", "locmem", "dummy", "")
            else "Email replies are printed to the server's console, not sent",
            "Set SENDGRID_API_KEY (or another anymail EMAIL_BACKEND)",
        ),
        Item(
            "email_in",
            "Email replies and delivery events coming back",
            bool(settings.ANYMAIL.get("WEBHOOK_SECRET")),
            "SendGrid's webhooks are accepted"
            if settings.ANYMAIL.get("WEBHOOK_SECRET")
            else "Replies by email and opens, clicks and bounces cannot come in",
            "Set ANYMAIL_WEBHOOK_SECRET and point SendGrid's Inbound Parse and Event Webhook here",
        ),
        Item(
            "texts",
            "SMS and WhatsApp",
            texts,
            "Twilio sends and receives texts" if texts else "Texts are not sent, and Twilio's webhooks answer 403",
            "Set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER",
        ),
        Item(
            "leads",
            "Leads arriving",
            leads > 0,
            f"{leads} lead{'s' if leads != 1 else ''} in the last 30 days"
            if leads
            else "No lead has arrived yet: connect your website form, email or CSV",
            "Connect a lead source (docs/integrations.md)",
        ),
        Item(
            "site_form",
            "A contact form on your website",
            site_form is not None,
            f"On {', '.join(site_form.origins())}" if site_form else "Visitors to your site cannot write to you here",
            "Set up the website form and paste its script tag on your site",
            reverse("admin:leads_siteform_changelist"),
        ),
        Item(
            "alerts",
            "Someone told about hot leads",
            people > 0,
            f"{people} {'person or channel' if people == 1 else 'people or channels'} alerted"
            if people
            else "Nobody is alerted: hot leads wait until someone looks",
            "Add yourself under Alerts",
            reverse("admin:alerts_alertrecipient_add"),
        ),
        Item(
            "meetings",
            "Meeting times offered",
            hours is not None,
            "Hot leads are offered free times" if hours else "Hot leads are asked for times instead of offered them",
            "Set your weekly hours under Meetings",
            reverse("admin:meetings_availability_changelist"),
        ),
        Item(
            "public_url",
            "Reachable from the internet",
            not local,
            f"Links and webhook addresses use {public}"
            if not local
            else "Links in emails and the webhook addresses point at this machine only",
            "Set PUBLIC_BASE_URL to the address the world reaches BizPilot at",
        ),
        Item(
            "auto_send",
            "Confident replies sent at once",
            policy.enabled,
            f"Drafts at {policy.threshold:.0%} confidence or more go out without review"
            if policy.enabled
            else "Every draft waits for a person (auto-send is off)",
            "Turn auto-send on when you trust the drafts",
            reverse("admin:messaging_autosendpolicy_changelist"),
        ),
    ]
