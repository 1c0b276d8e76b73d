"""Limit/offset pagination whose schema states the bounds the API enforces (limit 1 to 500, offset from 0)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

from bizpilot.serializers import StrictSerializer

MAX_LIMIT = 500


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: {"minimum": 1, "maximum": MAX_LIMIT}, self.offset_query_param: {"minimum": 0}}
        for parameter in parameters:
            parameter["schema"] = {**parameter.get("schema", {}), **bounds.get(parameter["name"], {})}
        return parameters


class PageQuery(StrictSerializer):
    """A list's query string: the page's bounds, checked (a wrong limit is a field error, not silently ignored).
    Lists with filters add theirs."""

    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT)
    offset = serializers.IntegerField(required=False, min_value=0)
