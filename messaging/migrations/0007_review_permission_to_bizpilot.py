"""The review permission moves from messaging.review_message to bizpilot.review (leads and intelligence enforce it
too, and may not name a higher app's permission). Every user and group that held the old one holds the new one."""

from django.db import migrations

NAME = "Can review drafts: approve, edit, reject, regenerate, correct intent"


def move(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    old = Permission.objects.filter(content_type__app_label="messaging", codename="review_message").first()
    content_type, _ = ContentType.objects.get_or_create(app_label="bizpilot", model="access")
    new, _ = Permission.objects.get_or_create(content_type=content_type, codename="review", defaults={"name": NAME})
    if old is None:
        return
    for group in Group.objects.filter(permissions=old):
        group.permissions.add(new)
    for user in User.objects.filter(user_permissions=old):
        user.user_permissions.add(new)
    old.delete()


def move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    new = Permission.objects.filter(content_type__app_label="bizpilot", codename="review").first()
    content_type, _ = ContentType.objects.get_or_create(app_label="messaging", model="message")
    old, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="review_message", defaults={"name": NAME}
    )
    if new is not None:
        for group in new.group_set.all():
            group.permissions.add(old)
        for user in new.user_set.all():
            user.user_permissions.add(old)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0006_review_console"),
        ("bizpilot", "0002_access"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.AlterModelOptions(name="message", options={"ordering": ["-created_at", "-id"]}),
        migrations.RunPython(move, move_back),
    ]
