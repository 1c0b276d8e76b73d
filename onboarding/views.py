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
