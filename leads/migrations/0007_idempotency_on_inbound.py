"""An Idempotency-Key becomes the API request's delivery id on its inbound message (deduplicated like every
provider's), so a keyed request writes one row less; the keys still within their 24 hours move over."""

from datetime import timedelta
import hashlib

from django.db import migrations, models


def move_keys(apps, schema_editor):
    IdempotencyKey = apps.get_model("leads", "IdempotencyKey")
    InboundMessage = apps.get_model("leads", "InboundMessage")
    for record in IdempotencyKey.objects.exclude(lead=None).order_by("created_at"):
        inbound = (
            InboundMessage.objects.filter(
                lead_id=record.lead_id,
                channel="api",
                provider_message_id="",
                received_at__gte=record.created_at - timedelta(seconds=5),
                received_at__lte=record.created_at + timedelta(seconds=5),
            )
            .order_by("received_at")
            .first()
        )
        if inbound is None:
            continue
        digest = hashlib.sha256(f"{record.owner}\n{record.key}".encode()).hexdigest()
        inbound.provider_message_id = f"idempotency:{digest}"
        inbound.request_fingerprint = record.request_fingerprint
        inbound.response_body = record.response_body
        inbound.save(update_fields=["provider_message_id", "request_fingerprint", "response_body"])


class Migration(migrations.Migration):
    dependencies = [("leads", "0006_lead_erased_at")]

    operations = [
        migrations.AddField(
            model_name="inboundmessage",
            name="request_fingerprint",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="inboundmessage",
            name="response_body",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(move_keys, migrations.RunPython.noop),
        migrations.DeleteModel(name="IdempotencyKey"),
    ]
