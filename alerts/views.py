"""The admin's count of hot items (polled by static/bizpilot/alerts.js on every admin page) and Twilio's delivery
reports on alert texts."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from alerts.delivery import alert_delivery_event
from alerts.selectors import hot_count
from bizpilot.security import body_limited
from messaging.views import twilio_signature_ok

TWILIO_EVENTS = {"delivered": "delivered", "read": "delivered", "failed": "failed", "undelivered": "undelivered"}


@require_GET
def hot_count_view(request):
    if not (request.user.is_authenticated and request.user.is_active and request.user.is_staff):
        return JsonResponse({"error": {"code": "not_authenticated", "message": "Log in to the admin."}}, status=403)
    count = hot_count(user=request.user)
    return JsonResponse(
        {
            **asdict(count),
            "queue_url": reverse("admin:messaging_reviewqueueitem_changelist") + "?lead__intent__exact=hot",
            "alerts_url": reverse("admin:alerts_alert_changelist") + "?status__exact=failed",
        },
        headers={"Cache-Control": "no-store"},
    )


@csrf_exempt
@require_POST
@body_limited(lambda: settings.WEBHOOK_MAX_BYTES)
def twilio_alert_status(request):
    if not twilio_signature_ok(request):
        return HttpResponse(status=403)
    status = request.POST.get("MessageStatus", "")
    if status in TWILIO_EVENTS:
        alert_delivery_event(
            alert_id=request.GET.get("alert", ""),
            event_type=TWILIO_EVENTS[status],
            at=timezone.now(),
            detail=request.POST.get("ErrorCode", ""),
        )
    return HttpResponse(status=204)
