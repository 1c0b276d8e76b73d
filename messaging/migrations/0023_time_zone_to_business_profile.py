"""The auto-send policy's own time zone becomes the business profile's: one clock for the whole business. The
availability's, moved before it, wins when both were set."""

from django.conf import settings
from django.db import migrations, models


def to_profile(apps, schema_editor):
    policy = apps.get_model("messaging", "AutoSendPolicy").objects.order_by("pk").first()
    if policy is None or not policy.time_zone or apps.get_model("meetings", "Availability").objects.exists():
        return
    BusinessProfile = apps.get_model("bizpilot", "BusinessProfile")
    profile = BusinessProfile.objects.order_by("pk").first() or BusinessProfile(
        name=settings.BUSINESS_NAME,
        sender_name=settings.BUSINESS_SENDER_NAME,
        from_email=settings.DEFAULT_FROM_EMAIL,
        time_zone=settings.BUSINESS_TIME_ZONE,
    )
    if profile.time_zone != policy.time_zone:
        profile.time_zone = policy.time_zone
        profile.updated_by = "migration: the auto-send policy's time zone"
        profile.save()


def from_profile(apps, schema_editor):
    profile = apps.get_model("bizpilot", "BusinessProfile").objects.order_by("pk").first()
    zone = profile.time_zone if profile else settings.BUSINESS_TIME_ZONE
    apps.get_model("messaging", "AutoSendPolicy").objects.update(time_zone=zone)


class Migration(migrations.Migration):
    dependencies = [
        ("bizpilot", "0005_business_time_zone"),
        ("meetings", "0002_time_zone_to_business_profile"),
        ("messaging", "0022_alter_senderroute_body"),
    ]

    operations = [
        migrations.RunPython(to_profile, from_profile),
        migrations.RemoveField(model_name="autosendpolicy", name="time_zone"),
        migrations.AlterField(
            model_name="autosendpolicy",
            name="quiet_hours_start",
            field=models.TimeField(
                blank=True,
                help_text="No automatic SMS/WhatsApp from this time (the business profile's time zone)…",
                null=True,
            ),
        ),
    ]
