from __future__ import annotations

import hashlib
import json
import re

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from bizpilot.actors import request_actor, request_user
from bizpilot.errors import ValidationFailed
from leads.csv_export import leads_csv_lines, leads_filtered
from leads.erasure import lead_export
from leads.ingest import LeadInput, lead_accepted_body, lead_ingest, lead_ingest_idempotent
from leads.serializers import LeadAcceptedOutput, LeadCreateInput, LeadCsvQuery

MAX_IDEMPOTENCY_KEY_LENGTH = 255
IDEMPOTENCY_KEY = re.compile(rf"[!-~]{{1,{MAX_IDEMPOTENCY_KEY_LENGTH}}}")  # bizpilot.openapi.IDEMPOTENCY_KEY


class LeadCreateApi(APIView):
    @extend_schema(
        operation_id="leads_create",
        summary="Submit a lead",
        description=(
            "Stores the lead and answers 202 at once; classification and drafting run in the background. "
            "Send an `Idempotency-Key` header to make retries safe: the same key and body within 24 hours return "
            "the first response and create nothing; the same key with another body is a 422."
        ),
        request=LeadCreateInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={
            202: LeadAcceptedOutput,
            400: OpenApiResponse(description="Invalid input; `error.fields` names each bad field"),
            401: OpenApiResponse(description="Missing or wrong API key"),
            422: OpenApiResponse(description="Idempotency-Key reused with a different body"),
        },
    )
    def post(self, request):
        serializer = LeadCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = LeadInput(**serializer.validated_data)
        actor = request_actor(request)
        raw = request.data if isinstance(request.data, dict) else {}
        key = request.headers.get("Idempotency-Key")
        if key is None:
            lead = lead_ingest(data=data, channel="api", actor=actor, raw_payload=raw)
            return Response(lead_accepted_body(lead), status=status.HTTP_202_ACCEPTED)

        if not IDEMPOTENCY_KEY.fullmatch(key):
            raise ValidationFailed(
                "Invalid Idempotency-Key header.",
                fields={
                    "Idempotency-Key": [
                        f"Must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters (no spaces), "
                        "as the schema says."
                    ]
                },
            )
        fingerprint = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
        result = lead_ingest_idempotent(
            data=data,
            channel="api",
            actor=actor,
            raw_payload=raw,
            idempotency_key=key,
            fingerprint=fingerprint,
        )
        response = Response(result.body, status=result.status)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class LeadExportApi(APIView):
    @extend_schema(
        operation_id="leads_export",
        summary="Everything held about a person (GDPR)",
        description="The person's leads (this one and every lead with the same email or phone), inbound messages "
        "with their raw payloads, replies with their delivery events, classifications, model calls (prompts and "
        "responses), sequences, suppressions, idempotency records and audit events, as JSON.",
        responses={200: dict, 404: OpenApiResponse(description="No such lead, or it was erased")},
    )
    def get(self, request, lead_id: int):
        export = lead_export(lead_id=lead_id, user=request_user(request))
        response = Response(export)
        response["Content-Disposition"] = f'attachment; filename="lead-{lead_id}-export.json"'
        return response


class LeadCsvExportApi(APIView):
    @extend_schema(
        operation_id="leads_export_csv",
        summary="Leads as CSV: intent, stage, source and outcome",
        description="Every lead (erased people left out), oldest first, streamed: id, created_at, source, channel, "
        "stage, intent, confidence, outcome (won, lost, unsubscribed or open), contacted_at, replied_at, "
        "meeting_booked_at, converted_at, name, email, phone, company. Filters as the admin list's: `state`, "
        "`intent`, `source`, `created_after` and `created_before` (dates, both included, in the business's time zone).",
        parameters=[LeadCsvQuery],
        responses={
            (200, "text/csv"): OpenApiResponse(response=OpenApiTypes.STR, description="The CSV"),
            400: OpenApiResponse(description="Invalid filter; `error.fields` names each bad parameter"),
        },
    )
    def get(self, request):
        query = LeadCsvQuery(data=request.query_params.dict())  # a plain dict: an empty value is an error, not "unset"
        query.is_valid(raise_exception=True)
        leads = leads_filtered(**query.validated_data)
        response = StreamingHttpResponse(leads_csv_lines(leads), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="leads.csv"'
        return response
