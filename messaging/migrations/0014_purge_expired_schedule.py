from django.db import migrations


def create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="purge_expired",
        defaults={"func": "messaging.tasks.purge_expired", "schedule_type": "D", "repeats": -1},
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="purge_expired").delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0013_message_outcomes"), ("django_q", "0018_task_success_index")]

    operations = [migrations.RunPython(create, remove)]
