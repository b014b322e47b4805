"""Webhook signing secrets encrypted at rest, like every other secret of a company."""

from django.db import migrations, models


def seal_existing(apps, schema_editor):
    from apps.core.crypto import encrypt

    Endpoint = apps.get_model("webhooks", "WebhookEndpoint")
    for endpoint in Endpoint.objects.all():
        endpoint.secret_sealed = encrypt(endpoint.secret.encode()).decode("ascii")
        endpoint.save(update_fields=["secret_sealed"])


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="webhookendpoint",
            name="secret_sealed",
            field=models.TextField(default=""),
            preserve_default=False,
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.RemoveField(model_name="webhookendpoint", name="secret"),
    ]
