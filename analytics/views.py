from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.selectors import dashboard_metrics
from leads.serializers import StrictSerializer


class MetricsQuery(StrictSerializer):
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650, default=30)


@staff_member_required
def analytics_index(request):
    query = MetricsQuery(data=request.GET.dict())
    days = query.validated_data["days"] if query.is_valid() else 30
    return render(request, "analytics/index.html", {"metrics": dashboard_metrics(days=days), "title": "Analytics"})


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
