from __future__ import annotations

import functools

import anymail.urls
from anymail.exceptions import AnymailWebhookValidationFailure
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from alerts.views import hot_count_view, twilio_alert_status
from analytics.views import (
    DashboardMetricsApi,
    ModelPerformanceApi,
    SpeedToLeadApi,
    analytics_experiments,
    analytics_index,
    analytics_messaging,
    analytics_model,
    analytics_speed,
)
from bizpilot.api_errors import error_response, webhook_forbidden
from bizpilot.health import healthz
from bizpilot.security import body_limited
from integrations.api import WebhookSubscriptionDetailApi, WebhookSubscriptionListApi
from integrations.views import hubspot_webhook, pipedrive_webhook
from intelligence.api import LeadIntentCorrectionApi
from leads.api import LeadCreateApi, LeadCsvExportApi, LeadExportApi
from leads.site_form_views import site_form_script, site_form_submit_view
from leads.views import forms_webhook, typeform_webhook
from meetings.views import calcom_webhook, calendly_webhook
from messaging.api import (
    LeadConversationApi,
    LeadDetailApi,
    LeadMessageComposeApi,
    LeadSequenceStopApi,
    MessageDetailApi,
    MessageListApi,
    MessageReviewApi,
)
from messaging.views import twilio_messages, twilio_status, unsubscribe
from onboarding.views import settings_view, setup_view, try_view

api = [
    path("leads/", LeadCreateApi.as_view(), name="lead-create"),
    path("leads/export.csv", LeadCsvExportApi.as_view(), name="leads-export-csv"),
    path("leads/<int:lead_id>/", LeadDetailApi.as_view(), name="lead-detail"),
    path("leads/<int:lead_id>/intent/", LeadIntentCorrectionApi.as_view(), name="lead-intent"),
    path("leads/<int:lead_id>/export/", LeadExportApi.as_view(), name="lead-export"),
    path("leads/<int:lead_id>/sequence/stop/", LeadSequenceStopApi.as_view(), name="lead-sequence-stop"),
    path("leads/<int:lead_id>/conversation/", LeadConversationApi.as_view(), name="lead-conversation"),
    path("leads/<int:lead_id>/messages/", LeadMessageComposeApi.as_view(), name="lead-messages"),
    path("messages/", MessageListApi.as_view(), name="message-list"),
    path("messages/<int:message_id>/", MessageDetailApi.as_view(), name="message-detail"),
    path("messages/<int:message_id>/review/", MessageReviewApi.as_view(), name="message-review"),
    path("dashboard/metrics/", DashboardMetricsApi.as_view(), name="dashboard-metrics"),
    path("analytics/model-performance/", ModelPerformanceApi.as_view(), name="model-performance"),
    path("analytics/speed-to-lead/", SpeedToLeadApi.as_view(), name="speed-to-lead"),
    path("webhooks/subscriptions/", WebhookSubscriptionListApi.as_view(), name="webhook-subscriptions"),
    path(
        "webhooks/subscriptions/<int:subscription_id>/",
        WebhookSubscriptionDetailApi.as_view(),
        name="webhook-subscription",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the Content-Security-Policy allows no inline one.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Anything else under /api/ (`/api/leads/null/`, a typo) is the API's JSON 404, with DEBUG on or off: Django's
    # debug 404 page would otherwise answer in HTML.
    re_path(r"^", csrf_exempt(lambda request, *args, **kwargs: _not_found(request))),
]


def _forgeries_forbidden(view):
    """anymail rejects a webhook it cannot authenticate with a SuspiciousOperation (a 400); BizPilot answers every
    forged webhook the same way, with a 403 and nothing stored."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure as exc:
            return webhook_forbidden("anymail", str(exc))

    return wrapped


def _anymail_limit(name: str | None) -> int:
    return settings.INBOUND_EMAIL_MAX_BYTES if "inbound" in (name or "") else settings.WEBHOOK_MAX_BYTES


anymail_webhooks = [
    URLPattern(
        p.pattern,
        body_limited(functools.partial(_anymail_limit, p.name))(_forgeries_forbidden(p.callback)),
        p.default_args,
        p.name,
    )
    for p in anymail.urls.urlpatterns
]

urlpatterns = [
    path("admin/try/", admin.site.admin_view(try_view), name="admin-try"),
    path("admin/settings/", admin.site.admin_view(settings_view), name="admin-settings"),
    path("admin/setup/", admin.site.admin_view(setup_view), name="admin-setup"),
    path("admin/", admin.site.urls),
    path("api/", include(api)),
    path("analytics/", analytics_index, name="analytics"),
    path("analytics/messaging/", analytics_messaging, name="analytics-messaging"),
    path("analytics/model/", analytics_model, name="analytics-model"),
    path("analytics/experiments/", analytics_experiments, name="analytics-experiments"),
    path("analytics/speed/", analytics_speed, name="analytics-speed"),
    path("forms/site.js", site_form_script, name="site-form-script"),
    path("forms/site/", site_form_submit_view, name="site-form-submit"),
    path("webhooks/typeform/<slug:slug>/", typeform_webhook, name="webhook-typeform"),
    path("webhooks/forms/<slug:slug>/", forms_webhook, name="webhook-forms"),
    path("webhooks/twilio/messages/", twilio_messages, name="webhook-twilio-messages"),
    path("webhooks/twilio/status/", twilio_status, name="webhook-twilio-status"),
    path("webhooks/twilio/alert-status/", twilio_alert_status, name="webhook-twilio-alert-status"),
    path("alerts/hot-count/", hot_count_view, name="alerts-hot-count"),
    path("webhooks/calcom/", calcom_webhook, name="webhook-calcom"),
    path("webhooks/calendly/", calendly_webhook, name="webhook-calendly"),
    path("webhooks/hubspot/", hubspot_webhook, name="webhook-hubspot"),
    path("webhooks/pipedrive/", pipedrive_webhook, name="webhook-pipedrive"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("anymail/", include((anymail_webhooks, "anymail"))),
    path("healthz", healthz, name="healthz"),
    path("", include("django_prometheus.urls")),
]


def _not_found(request, exception=None):
    """Under /api/ an unknown path is the API's JSON error, like every other answer there; elsewhere the page."""
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", f"No API endpoint at {request.path}.")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def _server_error(request):
    if request.path.startswith("/api/"):
        return error_response(500, "server_error", "Something went wrong on our side; it was logged.")
    from django.views.defaults import server_error

    return server_error(request)


handler404 = _not_found
handler500 = _server_error
