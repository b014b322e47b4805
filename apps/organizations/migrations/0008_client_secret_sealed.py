"""The OpenID Connect client secret is no longer read from an environment variable named
in the provider's settings (any name could be given, the server's own secrets included):
it is typed once and stored encrypted, or set by the operator in the company's own
variable, HEADSHOTS_OIDC_SECRET__<COMPANY> (apps.organizations.tenant_secrets)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("organizations", "0007_saml_providers")]

    operations = [
        migrations.RemoveField(model_name="identityprovider", name="client_secret_env"),
        migrations.AddField(
            model_name="identityprovider",
            name="client_secret_sealed",
            field=models.TextField(blank=True, editable=False),
        ),
    ]
