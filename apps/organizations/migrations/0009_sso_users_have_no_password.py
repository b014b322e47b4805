"""People who joined through single sign-on or an invitation were created with an empty
password, which Django counts as usable: a password-reset mail could give them one.
Mark them as having none."""

from django.contrib.auth.hashers import make_password
from django.db import migrations


def unusable(apps, schema_editor):
    User = apps.get_model("auth", "User")
    for user in User.objects.filter(password=""):
        user.password = make_password(None)
        user.save(update_fields=["password"])


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0008_client_secret_sealed"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(unusable, migrations.RunPython.noop)]
