"""The directory's bind password is no longer read from an environment variable named by
HR (any name could be given, the server's own secrets included): HR types it once and it
is stored encrypted, or the operator sets the company's own variable,
HEADSHOTS_LDAP_SECRET__<COMPANY> (apps.organizations.tenant_secrets). A connection whose
variable was not the company's own needs its password typed again."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("publishing", "0002_directory_connection")]

    operations = [
        migrations.RemoveField(model_name="directoryconnection", name="bind_secret_env"),
        migrations.AddField(
            model_name="directoryconnection",
            name="bind_password_sealed",
            field=models.TextField(blank=True, editable=False),
        ),
    ]
