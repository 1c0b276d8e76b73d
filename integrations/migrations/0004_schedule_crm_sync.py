from django.db import migrations


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="sync_crm",
        defaults={"func": "integrations.tasks.sync_crm", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="sync_crm").delete()


class Migration(migrations.Migration):
    dependencies = [("integrations", "0003_crm")]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
