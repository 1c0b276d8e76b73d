from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bizpilot.actors import request_actor, request_user
from bizpilot.serializers import StrictSerializer
from intelligence.classifier import INTENTS
from intelligence.corrections import lead_correct_intent


class IntentCorrectionInput(StrictSerializer):
    intent = serializers.ChoiceField(choices=INTENTS)


class IntentCorrectionOutput(serializers.Serializer):
    lead = serializers.IntegerField()
    intent = serializers.CharField()
    classification = serializers.IntegerField()
    learned_example = serializers.IntegerField(allow_null=True)


class LeadIntentCorrectionApi(APIView):
    @extend_schema(
        operation_id="leads_correct_intent",
        summary="Correct a lead's intent",
        description="Sets the lead's intent and teaches the classifier: the lead's text becomes a labelled example "
        "that the next similar lead is classified with.",
        request=IntentCorrectionInput,
        responses={
            200: IntentCorrectionOutput,
            400: OpenApiResponse(description="Unknown intent"),
            404: OpenApiResponse(description="No such lead"),
        },
    )
    def post(self, request, lead_id: int):
        data = IntentCorrectionInput(data=request.data)
        data.is_valid(raise_exception=True)
        classification = lead_correct_intent(
            lead_id=lead_id,
            intent=data.validated_data["intent"],
            actor=request_actor(request),
            user=request_user(request),
        )
        return Response(
            {
                "lead": lead_id,
                "intent": classification.intent,
                "classification": classification.pk,
                "learned_example": classification.explanation.get("learned_example_id"),
            }
        )
