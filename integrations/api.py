"""Webhook subscriptions through the API: list, create (the answer holds the secret, once), read, change, remove."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bizpilot.actors import request_actor, request_user
from bizpilot.errors import ValidationFailed
from bizpilot.pagination import PageQuery
from integrations.serializers import SubscriptionCreatedOutput, SubscriptionInput, SubscriptionOutput
from integrations.subscriptions import (
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_get,
    webhook_subscription_list,
    webhook_subscription_update,
)

TAG = ["webhooks"]


class WebhookSubscriptionListApi(GenericAPIView):
    serializer_class = SubscriptionOutput

    @extend_schema(
        operation_id="webhook_subscriptions_list",
        tags=TAG,
        summary="Webhook subscriptions",
        responses={200: SubscriptionOutput(many=True)},
    )
    def get(self, request):
        PageQuery(data=request.query_params.dict()).is_valid(raise_exception=True)
        page = self.paginate_queryset(webhook_subscription_list(user=request_user(request)))
        return self.get_paginated_response(SubscriptionOutput(page, many=True).data)

    @extend_schema(
        operation_id="webhook_subscriptions_create",
        tags=TAG,
        summary="Subscribe a URL to events",
        description="The events are signed as Standard Webhooks says; the answer holds the `whsec_` secret to verify "
        "them with (shown once here; the admin shows it too). The payloads are in this schema's `webhooks` section.",
        request=SubscriptionInput,
        responses={201: SubscriptionCreatedOutput, 400: OpenApiResponse(description="Invalid input")},
    )
    def post(self, request):
        data = SubscriptionInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = webhook_subscription_create(
            values=data.validated_data, actor=request_actor(request), user=request_user(request)
        )
        return Response(SubscriptionCreatedOutput(subscription).data, status=201)


class WebhookSubscriptionDetailApi(APIView):
    @extend_schema(operation_id="webhook_subscriptions_retrieve", tags=TAG, responses={200: SubscriptionOutput})
    def get(self, request, subscription_id: int):
        subscription = webhook_subscription_get(subscription_id=subscription_id, user=request_user(request))
        return Response(SubscriptionOutput(subscription).data)

    @extend_schema(
        operation_id="webhook_subscriptions_update",
        tags=TAG,
        summary="Change a subscription",
        description="Only the fields given change. `is_active: true` on a subscription BizPilot turned off sends "
        "what it missed, in order.",
        request=SubscriptionInput(partial=True),
        responses={
            200: SubscriptionOutput,
            400: OpenApiResponse(description="Invalid input"),
            404: OpenApiResponse(description="No such subscription"),
        },
    )
    def patch(self, request, subscription_id: int):
        if not request.body:
            raise ValidationFailed("A JSON object with the fields to change is needed.", fields={})
        data = SubscriptionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {field: data.validated_data[field] for field in request.data if field in data.validated_data}
        subscription = webhook_subscription_update(
            subscription_id=subscription_id, values=values, actor=request_actor(request), user=request_user(request)
        )
        return Response(SubscriptionOutput(subscription).data)

    @extend_schema(
        operation_id="webhook_subscriptions_destroy",
        tags=TAG,
        summary="Remove a subscription (its delivery log goes with it)",
        responses={
            204: OpenApiResponse(description="Removed"),
            404: OpenApiResponse(description="No such subscription"),
        },
    )
    def delete(self, request, subscription_id: int):
        webhook_subscription_delete(
            subscription_id=subscription_id, actor=request_actor(request), user=request_user(request)
        )
        return Response(status=204)
