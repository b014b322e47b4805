from django.db import migrations


def delete_raw_uploads(apps, schema_editor):
    """Uploads were kept as sent (with their metadata); only the re-encoded copy stays."""
    from django.core.files.storage import default_storage

    Photo = apps.get_model("photos", "Photo")
    for name in Photo.objects.exclude(original="").values_list("original", flat=True).iterator():
        if name and default_storage.exists(name):
            default_storage.delete(name)


class Migration(migrations.Migration):
    dependencies = [("photos", "0002_identity_attributes")]

    operations = [
        migrations.RunPython(delete_raw_uploads, migrations.RunPython.noop),
        migrations.RemoveField(model_name="photo", name="original"),
    ]
