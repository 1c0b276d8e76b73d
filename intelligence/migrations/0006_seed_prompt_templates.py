from django.db import migrations


def seed(apps, schema_editor):
    from intelligence.prompt_defaults import seed_prompt_templates

    seed_prompt_templates(apps.get_model("intelligence", "PromptTemplate"))


class Migration(migrations.Migration):
    dependencies = [
        ("intelligence", "0005_prompt_templates"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
