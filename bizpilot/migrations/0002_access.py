from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("bizpilot", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="Access",
            fields=[],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [("review", "Can review drafts: approve, edit, reject, regenerate, correct intent")],
            },
        ),
    ]
