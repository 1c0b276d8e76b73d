from django.db import migrations

from messaging.sequence_defaults import seed_default_sequences


def create(apps, schema_editor):
    seed_default_sequences(apps.get_model("messaging", "Sequence"), apps.get_model("messaging", "SequenceStep"))
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name="run_due_sequence_steps",
        defaults={"func": "messaging.tasks.run_due_sequence_steps", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="run_due_sequence_steps").delete()


class Migration(migrations.Migration):
    dependencies = [("messaging", "0008_follow_up_sequences")]

    operations = [migrations.RunPython(create, remove)]
