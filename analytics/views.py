from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import pages
from analytics.periods import PRESETS, Period, PeriodQuery, period_from
from analytics.selectors import dashboard_metrics, model_performance
from analytics.speed import speed_to_lead

PAGES = [
    ("analytics", "Overview"),
    ("analytics-messaging", "Messaging"),
    ("analytics-model", "Model"),
    ("analytics-experiments", "Experiments"),
    ("analytics-speed", "Speed to lead"),
]


def _page(request, template: str, title: str, build: Callable[[Period], dict[str, Any]]):
    period, problems = period_from(request.GET, strict=False)
    context = {
        **admin.site.each_context(request),  # the admin's header, navigation and user links
        **build(period),
        "title": title,
        "period": period,
        "previous": period.previous(),
        "problems": problems,
        "presets": PRESETS,
        "pages": PAGES,
        "page": request.resolver_match.url_name,
        "query": request.GET.urlencode(),
    }
    return render(request, template, context, status=400 if problems else 200)


@staff_member_required
def analytics_index(request):
    return _page(request, "analytics/overview.html", "Analytics: overview", pages.overview_context)


@staff_member_required
def analytics_messaging(request):
    return _page(request, "analytics/messaging.html", "Analytics: messaging", pages.messaging_context)


@staff_member_required
def analytics_model(request):
    return _page(request, "analytics/model.html", "Analytics: model performance", pages.model_context)


@staff_member_required
def analytics_experiments(request):
    return _page(request, "analytics/experiments.html", "Analytics: experiments", pages.experiments_context)


@staff_member_required
def analytics_speed(request):
    return _page(request, "analytics/speed.html", "Analytics: speed to lead", pages.speed_context)


class SpeedToLeadApi(APIView):
    @extend_schema(
        operation_id="speed_to_lead",
        summary="How fast leads are seen and answered, and how the alerts did",
        description="About the leads received in the range: minutes from arrival to the first time a person opened "
        "the lead (its conversation or draft) and to the first message sent, p50 and p95, overall, `by_intent` and "
        "`by_hour` of arrival (the business's time zone); the share answered within 5 minutes, and "
        "`hot_answered_within_5_minutes`; and `alerts` (sent, acknowledged, failed, escalations, minutes to "
        "acknowledge). `days` or `start` and `end` as for the dashboard metrics. /analytics/speed/ shows the same.",
        parameters=[PeriodQuery],
        responses={200: dict, 400: OpenApiResponse(description="Invalid date range")},
    )
    def get(self, request):
        period, _ = period_from(request.query_params, strict=True)
        return Response(speed_to_lead(period).as_dict())


class DashboardMetricsApi(APIView):
    @extend_schema(
        operation_id="dashboard_metrics",
        summary="The business in numbers over a date range, with the period before it for comparison",
        description="`days` (the last N days, default 30) or `start` and `end` (dates, both included). The overview "
        "(leads per day by source and intent, coverage, response times, funnel), messaging (review outcomes, "
        "auto-send share, per-channel rates, reply and conversion by step, and `conversations`: the reply rate, the "
        "reply kinds with the objections broken out, auto-replies, and the time from a lead's reply to our answer's "
        "draft and to its sending, p50 and p95), the holdout's lift and the "
        "experiments, with `comparison` against the previous period of the same length. /analytics/ shows the same.",
        parameters=[PeriodQuery],
        responses={200: dict, 400: OpenApiResponse(description="Invalid date range")},
    )
    def get(self, request):
        period, _ = period_from(request.query_params, strict=True)
        return Response(dashboard_metrics(period=period).as_dict())


class ModelPerformanceApi(APIView):
    @extend_schema(
        operation_id="model_performance",
        summary="How the classifier and the drafts did, judged by the operators' corrections and reviews",
        description="Agreement: the share of classified leads whose intent no operator corrected (null until an "
        "operator has reviewed an intent), overall and per confidence band (a calibration check); the "
        "confidence histogram; override rates; drafts per generator (approved, rejected, edit rate and size); "
        "latency per operation; LLM tokens and cost per draft and per day; auto-sends; with `comparison` against "
        "the previous period. `days` or `start` and `end` as for the dashboard metrics.",
        parameters=[PeriodQuery],
        responses={200: dict, 400: OpenApiResponse(description="Invalid date range")},
    )
    def get(self, request):
        period, _ = period_from(request.query_params, strict=True)
        return Response(model_performance(period=period).as_dict())
