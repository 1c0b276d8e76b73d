"""The admin's "Try it" page: paste a lead's message, see what BizPilot would do (onboarding.tryout)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

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
