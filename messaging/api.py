from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from bizpilot.actors import request_actor, request_user
from bizpilot.errors import NotFound
from leads.erasure import lead_erase
from messaging.compose import message_compose
from messaging.models import Message
from messaging.review import message_approve, message_reject
from messaging.selectors import conversation, lead_detail, lead_sequence, message_list
from messaging.sequences import sequence_stop
from messaging.serializers import (
    ConversationItemOutput,
    ConversationQuery,
    LeadOutput,
    MessageComposeInput,
    MessageListQuery,
    MessageOutput,
    MessageReviewInput,
    ReviewApproveInput,
    ReviewEditInput,
    ReviewRejectInput,
    SequenceOutput,
    SequenceStopInput,
)


class LeadDetailApi(APIView):
    @extend_schema(
        operation_id="leads_retrieve",
        summary="A lead with its intent, explanation and snippets",
        responses={200: LeadOutput},
    )
    def get(self, request, lead_id: int):
        return Response(LeadOutput(lead_detail(lead_id=lead_id)).data)

    @extend_schema(
        operation_id="leads_erase",
        summary="Erase a person everywhere (GDPR)",
        description="Removes or anonymises the person (this lead and every lead with the same email or phone) in "
        "every table: leads, inbound messages and raw payloads, replies, delivery events, classifications, model "
        "calls, labelled and voice examples, idempotency records, audit values, stored jobs, CSV files and error "
        "reports. Counts survive as anonymous rows; the address stays suppressed as a hash only. Then GET is 404.",
        responses={
            204: OpenApiResponse(description="Erased"),
            403: OpenApiResponse(description="Not allowed to erase"),
            404: OpenApiResponse(description="No such lead, or it was erased already"),
        },
    )
    def delete(self, request, lead_id: int):
        lead_erase(lead_id=lead_id, actor=request_actor(request), user=request_user(request))
        return Response(status=204)


class LeadSequenceStopApi(APIView):
    @extend_schema(
        operation_id="leads_sequence_stop",
        summary="Stop a lead's follow-up sequence",
        description="Stops the lead's sequence now: steps not yet sent (drafts waiting for review included) are "
        "cancelled with the reason. Stopping a sequence that has already ended changes nothing.",
        request=SequenceStopInput,
        responses={
            200: SequenceOutput,
            400: OpenApiResponse(description="Invalid input"),
            404: OpenApiResponse(description="No such lead, or the lead has no sequence"),
        },
    )
    def post(self, request, lead_id: int):
        data = SequenceStopInput(data=request.data)
        data.is_valid(raise_exception=True)
        reason = data.validated_data["reason"].strip() or "stopped by an operator"
        sequence_stop(lead_id=lead_id, reason=reason, actor=request_actor(request), user=request_user(request))
        return Response(SequenceOutput(lead_sequence(lead_id=lead_id)).data)


class MessageListApi(GenericAPIView):
    serializer_class = MessageOutput

    @extend_schema(
        operation_id="messages_list",
        summary="Replies, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=[c[0] for c in Message.Status.choices], required=False),
        ],
        responses={200: MessageOutput(many=True)},
    )
    def get(self, request):
        query = MessageListQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(message_list(status=query.validated_data.get("status")))
        return self.get_paginated_response(MessageOutput(page, many=True).data)


class MessageDetailApi(APIView):
    @extend_schema(operation_id="messages_retrieve", responses={200: MessageOutput})
    def get(self, request, message_id: int):
        message = message_list().filter(pk=message_id).first()
        if message is None:
            raise NotFound(f"Message {message_id} does not exist.")
        return Response(MessageOutput(message).data)


class MessageReviewApi(APIView):
    @extend_schema(
        operation_id="messages_review",
        summary="Approve, edit (and approve) or reject a draft",
        description=(
            "`approve` sends the draft as it is; `edit` replaces the subject and/or body and approves the new text; "
            "`reject` discards the draft (give a `reason`). Approved messages are sent by the worker."
        ),
        request=PolymorphicProxySerializer(
            component_name="MessageReview",
            serializers={"approve": ReviewApproveInput, "edit": ReviewEditInput, "reject": ReviewRejectInput},
            resource_type_field_name="action",
        ),
        responses={
            200: MessageOutput,
            400: OpenApiResponse(description="Invalid input"),
            404: OpenApiResponse(description="No such message"),
            409: OpenApiResponse(
                description="The message is no longer pending review, or the draft as stored cannot be sent (edit it)"
            ),
        },
    )
    def post(self, request, message_id: int):
        data = MessageReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        action = data.validated_data["action"]
        actor, user = request_actor(request), request_user(request)
        if action == "reject":
            message_reject(message_id=message_id, actor=actor, reason=data.validated_data["reason"], user=user)
        else:
            message_approve(
                message_id=message_id,
                actor=actor,
                user=user,
                subject=data.validated_data.get("subject"),
                body=data.validated_data.get("body"),
            )
        return Response(MessageOutput(message_list().get(pk=message_id)).data)


class LeadConversationApi(GenericAPIView):
    serializer_class = ConversationItemOutput

    @extend_schema(
        operation_id="leads_conversation",
        summary="A lead's conversation: every message in and out, and the notes, in time order",
        description="Inbound messages carry how they were read (`reply_kind`, `reading`) or why they were taken for "
        "an auto-reply; outbound messages their status, who approved them, what they answer, and their delivery "
        "events (machine opens and scanner clicks marked `machine`). Paginated with `limit` and `offset`.",
        responses={
            200: ConversationItemOutput(many=True),
            400: OpenApiResponse(description="Invalid limit or offset"),
            404: OpenApiResponse(description="No such lead, or it was erased"),
        },
    )
    def get(self, request, lead_id: int):
        query = ConversationQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        page = self.paginate_queryset(conversation(lead_id=lead_id))
        return self.get_paginated_response(ConversationItemOutput(page, many=True).data)


class LeadMessageComposeApi(APIView):
    @extend_schema(
        operation_id="leads_messages_create",
        summary="Send a message written by a person",
        description="Sent as written, through the same checks as an approved draft: the lead must be reachable on "
        "the channel (an email address; a phone number and consent to text), the address must not be suppressed, "
        "WhatsApp outside the 24-hour window needs an approved template, texts wait for the end of the quiet "
        "hours, and emails carry the unsubscribe footer and thread under the conversation.",
        request=MessageComposeInput,
        responses={
            201: MessageOutput,
            400: OpenApiResponse(description="Invalid input"),
            403: OpenApiResponse(description="Not allowed to write to leads"),
            404: OpenApiResponse(description="No such lead, or it was erased"),
            409: OpenApiResponse(
                description="The lead cannot be reached on that channel (no address, no consent to text, the "
                "address suppressed, or WhatsApp outside the 24-hour window without a template)"
            ),
        },
    )
    def post(self, request, lead_id: int):
        data = MessageComposeInput(data=request.data)
        data.is_valid(raise_exception=True)
        message = message_compose(
            lead_id=lead_id,
            channel=data.validated_data["channel"],
            subject=data.validated_data["subject"],
            body=data.validated_data["body"],
            whatsapp_content_sid=data.validated_data["whatsapp_content_sid"],
            actor=request_actor(request),
            user=request_user(request),
        )
        return Response(MessageOutput(message_list().get(pk=message.pk)).data, status=201)
