from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors import dashboard_metrics, model_performance
from bizpilot.serializers import StrictSerializer


class MetricsQuery(StrictSerializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650, default=30)


@staff_member_required
def analytics_index(request):
    query = MetricsQuery(data=request.GET.dict())
    days = query.validated_data["days"] if query.is_valid() else 30
    context = {
        "metrics": dashboard_metrics(days=days),
        "performance": model_performance(days=days),
        "title": "Analytics",
    }
    return render(request, "analytics/index.html", context)


class DashboardMetricsApi(APIView):
    @extend_schema(
        operation_id="dashboard_metrics",
        summary="Leads, replies and response times over the last N days",
        parameters=[OpenApiParameter("days", int, required=False)],
        responses={200: dict},
    )
    def get(self, request):
        query = MetricsQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return Response(dashboard_metrics(days=query.validated_data["days"]).as_dict())


class ModelPerformanceApi(APIView):
    @extend_schema(
        operation_id="model_performance",
        summary="How the classifier and the drafts did, judged by the operators' corrections and reviews",
        description="Agreement: the share of classified leads whose intent no operator corrected (overall and per "
        "confidence band: a calibration check). Drafts per generator: approved, rejected, edit rate and size. "
        "Auto-sends, and LLM calls, errors and latency.",
        parameters=[OpenApiParameter("days", int, required=False)],
        responses={200: dict},
    )
    def get(self, request):
        query = MetricsQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return Response(model_performance(days=query.validated_data["days"]).as_dict())
