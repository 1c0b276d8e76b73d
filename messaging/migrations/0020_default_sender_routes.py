from django.conf import settings
from django.db import migrations


def seed(apps, schema_editor):
    from messaging.route_defaults import ROUTE_DEFAULTS

    route = apps.get_model("messaging", "SenderRoute")
    for kind, (action, subject, body) in ROUTE_DEFAULTS.items():
        forward_to = settings.SUPPORT_EMAIL if action == "forward" else ""
        route.objects.get_or_create(
            kind=kind, defaults={"action": action, "subject": subject, "body": body, "forward_to": forward_to}
        )


class Migration(migrations.Migration):
    dependencies = [("messaging", "0019_sender_routes")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
