"""The availability's own time zone becomes the business profile's: one clock for the whole business."""

from django.conf import settings
from django.db import migrations


def profile_of(apps):
    BusinessProfile = apps.get_model("bizpilot", "BusinessProfile")
    return BusinessProfile.objects.order_by("pk").first() or BusinessProfile(
        name=settings.BUSINESS_NAME,
        sender_name=settings.BUSINESS_SENDER_NAME,
        from_email=settings.DEFAULT_FROM_EMAIL,
        time_zone=settings.BUSINESS_TIME_ZONE,
    )


def to_profile(apps, schema_editor):
    row = apps.get_model("meetings", "Availability").objects.order_by("pk").first()
    if row is None or not row.time_zone:
        return
    profile = profile_of(apps)
    if profile.time_zone != row.time_zone:
        profile.time_zone = row.time_zone
        profile.updated_by = "migration: the availability's time zone"
        profile.save()


def from_profile(apps, schema_editor):
    profile = apps.get_model("bizpilot", "BusinessProfile").objects.order_by("pk").first()
    zone = profile.time_zone if profile else settings.BUSINESS_TIME_ZONE
    apps.get_model("meetings", "Availability").objects.update(time_zone=zone)


class Migration(migrations.Migration):
    dependencies = [
        ("bizpilot", "0005_business_time_zone"),
        ("meetings", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_profile, from_profile),
        migrations.RemoveField(model_name="availability", name="time_zone"),
    ]
