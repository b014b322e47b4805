from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "apps.people"
    label = "people"

    def ready(self) -> None:
        from datetime import timedelta

        from django.db.models.signals import post_delete, post_save

        from apps.core import hooks, scheduler
        from apps.generation.models import GenerationJob, Headshot
        from apps.organizations.models import EmployeeProfile
        from apps.people import standing
        from apps.photos.models import ConsentRecord, ConsentText, Photo
        from apps.publishing.models import Publication

        # Where each person stands is kept on their row: every change that moves a
        # person works them out again (apps.people.standing).
        for model in (ConsentRecord, Photo, GenerationJob, Headshot, Publication, EmployeeProfile):
            post_save.connect(standing.row_saved, sender=model, dispatch_uid=f"standing-{model}")
            post_delete.connect(
                standing.row_deleted, sender=model, dispatch_uid=f"standing-del-{model}"
            )
        post_save.connect(
            standing.consent_text_published, sender=ConsentText, dispatch_uid="standing-consent"
        )
        hooks.register("person.moved", "people", standing.person_moved)

        # And the whole of each company is checked every hour (what no row change says).
        from apps.people import tasks  # noqa: F401

        def restand() -> None:
            from apps.core.queue import enqueue

            enqueue("people_restand")

        scheduler.register("people_restand", timedelta(hours=1), restand)
