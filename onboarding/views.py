"""The admin's "Try it" page: paste a lead's message, see what BizPilot would do (onboarding.tryout)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse

from bizpilot.access import REVIEW
from bizpilot.actors import user_actor
from bizpilot.errors import ValidationFailed
from onboarding.tryout import lead_try


def try_view(request):
    if not request.user.has_perm(REVIEW):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Try it: what would BizPilot answer?"}
    if request.method == "POST":
        message, name = request.POST.get("message", ""), request.POST.get("name", "")
        context.update(message=message, name=name)
        try:
            context["result"] = lead_try(message=message, name=name, actor=user_actor(request.user))
        except ValidationFailed as exc:
            context["errors"] = [problem for problems in exc.fields.values() for problem in problems]
    return TemplateResponse(request, "admin/onboarding/try.html", context)


def settings_view(request):
    """Settings as one JSON file: download this install's, or upload another's (onboarding.settings_transfer)."""
    import json

    from django.http import HttpResponse

    from onboarding.settings_transfer import settings_export, settings_import

    if not request.user.has_perm("bizpilot.change_businessprofile"):
        raise PermissionDenied
    if request.GET.get("download"):
        response = HttpResponse(
            json.dumps(settings_export(), indent=1, ensure_ascii=False), content_type="application/json"
        )
        response["Content-Disposition"] = 'attachment; filename="bizpilot-settings.json"'
        return response
    context = {**admin.site.each_context(request), "title": "Settings: export and import"}
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            data = json.loads(upload.read()) if upload else None
        except ValueError:
            data = None
        try:
            context["imported"] = settings_import(data=data, actor=user_actor(request.user), user=request.user)
        except ValidationFailed as exc:
            context["errors"] = [f"{field}: {' '.join(problems)}" for field, problems in exc.fields.items()]
            context["error_message"] = exc.message
    return TemplateResponse(request, "admin/onboarding/settings.html", context)


def setup_view(request):
    """The setup, step by step: the business, its knowledge, its trade's starter pack, its channels, and a try. Each
    step shows its status from the checklist; it stays reachable once everything is done."""
    from django.http import HttpResponse

    from onboarding.channel_checks import signed_checks, test_email_send, test_sms_send, webhook_addresses
    from onboarding.checklist import setup_checklist
    from onboarding.pack_data import PACKS, PACKS_BY_KEY
    from onboarding.packs import starter_pack_apply, starter_pack_faq_csv

    if not request.user.has_perm("bizpilot.change_businessprofile"):
        raise PermissionDenied
    if request.GET.get("faq") in PACKS_BY_KEY:
        response = HttpResponse(starter_pack_faq_csv(request.GET["faq"]), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="faq-{request.GET["faq"]}.csv"'
        return response
    context = {**admin.site.each_context(request), "title": "Set up BizPilot for your business", "packs": PACKS}
    action = request.POST.get("action", "") if request.method == "POST" else ""
    try:
        if action == "pack":
            changed = starter_pack_apply(
                key=request.POST.get("pack", ""), actor=user_actor(request.user), user=request.user
            )
            context["done"] = (
                f"Starter pack applied: {changed['prompt_templates']} template(s), {changed['sequences']} "
                f"sequence(s), {changed['examples']} example(s) added."
            )
            context["chosen_pack"] = PACKS_BY_KEY[request.POST["pack"]]
        elif action == "test_email":
            context["done"] = test_email_send(to=request.POST.get("to", "").strip())
        elif action == "test_sms":
            context["done"] = test_sms_send(to=request.POST.get("to", ""))
        elif action == "check":
            context["checks"] = signed_checks()
    except ValidationFailed as exc:
        context["errors"] = [problem for problems in exc.fields.values() for problem in problems] or [exc.message]
    items = {item.key: item for item in setup_checklist()}
    context["steps"] = [
        ("1. Your business", [items["business"]], reverse("admin:bizpilot_businessprofile_changelist")),
        (
            "2. What you sell, your prices and FAQ",
            [items["knowledge"]],
            reverse("admin:intelligence_knowledgeimport_add"),
        ),
        ("4. Channels", [items[k] for k in ("email", "email_in", "texts", "site_form", "public_url")], ""),
        ("5. Who is told, and when to meet", [items["alerts"], items["meetings"]], ""),
    ]
    context["addresses"] = webhook_addresses()
    return TemplateResponse(request, "admin/onboarding/setup.html", context)
