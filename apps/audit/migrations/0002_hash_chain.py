from django.db import migrations, models


def chain_existing_events(apps, schema_editor):
    """Give the events written before the chain existed their links, in the order they
    were written, company by company."""
    from apps.audit.services import GENESIS, event_hash

    AuditEvent = apps.get_model("audit", "AuditEvent")
    organizations = AuditEvent.objects.values_list("organization_id", flat=True).distinct()
    for organization_id in list(organizations):
        previous = GENESIS
        events = AuditEvent.objects.filter(organization_id=organization_id).order_by("created_at", "id")
        for sequence, event in enumerate(events, start=1):
            digest = event_hash(
                organization_id=organization_id,
                sequence=sequence,
                previous_hash=previous,
                created_at=event.created_at,
                actor_label=event.actor_label,
                action=event.action,
                target_type=event.target_type,
                target_id=event.target_id,
                data=event.data,
            )
            AuditEvent.objects.filter(pk=event.pk).update(
                sequence=sequence, previous_hash=previous, hash=digest
            )
            previous = digest


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.AlterField(
            model_name="auditevent", name="created_at", field=models.DateTimeField(db_index=True)
        ),
        migrations.AddField(
            model_name="auditevent", name="sequence", field=models.PositiveBigIntegerField(null=True)
        ),
        migrations.AddField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(max_length=64, default=""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(max_length=64, default=""),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditevent", name="sequence", field=models.PositiveBigIntegerField()
        ),
        migrations.AddConstraint(
            model_name="auditevent",
            constraint=models.UniqueConstraint(
                fields=("organization", "sequence"), name="one_event_per_link"
            ),
        ),
    ]
