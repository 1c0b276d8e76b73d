"""The website form's two addresses: `/forms/site.js` (the script a business puts on its pages: the form, with its
settings and a fresh signed token) and `/forms/site/` (where it posts, cross-origin from the business's own sites
only: CORS answers name just the requesting origin, when it is on the list)."""

from __future__ import annotations

import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from bizpilot.api_errors import error_body
from bizpilot.security import body_limited, client_address
from leads.models import SiteForm
from leads.site_form import Refused, form_token, origin_allowed, site_form, site_form_submit


@cache
def _script_source() -> str:
    path = finders.find("bizpilot/site-form.js")
    with open(str(path), encoding="utf-8") as source:
        return source.read()


def site_form_script(request):
    form = site_form()
    if form is None:
        body = 'console.warn("BizPilot: the website form is not set up (admin: Leads → Website contact form).");'
    else:
        config = {
            "endpoint": request.build_absolute_uri(reverse("site-form-submit")),
            "token": form_token(),
            "fields": [name for name in form.fields],
            "required": list(form.required),
            "heading": form.heading,
            "button_text": form.button_text,
            "thank_you": form.thank_you,
            "consent_text": form.consent_text,
            "privacy_url": form.privacy_url,
            "captcha": form.captcha,
            "captcha_site_key": form.captcha_site_key,
        }
        literal = json.dumps(config).replace("<", "\\u003c")
        body = f"{_script_source()}\nbizpilotForm({literal}, document.currentScript);\n"
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-store"  # each page view gets its own token
    response["Cross-Origin-Resource-Policy"] = "cross-origin"  # loaded by the business's own pages
    return response


def _cors(response: HttpResponse, form: SiteForm | None, origin: str) -> HttpResponse:
    if form is not None and origin_allowed(form, origin):
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    response["Vary"] = "Origin"
    return response


@csrf_exempt
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def site_form_submit_view(request):
    form, origin = site_form(), request.headers.get("Origin", "")
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204 if form and origin_allowed(form, origin) else 403), form, origin)
    if request.method != "POST":
        return _cors(JsonResponse(error_body("method_not_allowed", "POST the form."), status=405), form, origin)
    if form is None:
        return _cors(JsonResponse(error_body("not_found", "The website form is not set up."), status=404), form, origin)
    try:
        payload = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        payload = None
    try:
        site_form_submit(form=form, payload=payload, origin=origin, address=client_address(request))
    except Refused as exc:
        body = error_body("invalid" if exc.status == 400 else "refused", exc.message, exc.fields or {})
        return _cors(JsonResponse(body, status=exc.status), form, origin)
    return _cors(JsonResponse({"ok": True, "message": form.thank_you}), form, origin)
