from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "apps.generation"
    label = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core import scheduler
        from apps.core.queue import register_requeue

        # Declare this app's actors in every process: services enqueue them by name.
        from apps.generation import tasks  # noqa: F401

        def requeue(job_id: int) -> None:
            from apps.generation.services import generation_job_requeue_dead_letter

            generation_job_requeue_dead_letter(job_id)

        register_requeue("generation_job_run", requeue)

        def sweep() -> None:
            from apps.core.queue import enqueue

            enqueue("generation_jobs_sweep")

        scheduler.register("generation_jobs_sweep", timedelta(minutes=1), sweep)

        def approval_mails() -> None:
            from apps.core.queue import enqueue

            enqueue("approval_mails")

        scheduler.register("approval_mails", timedelta(minutes=15), approval_mails)

        from apps.core import hooks
        from apps.generation import personal_data

        hooks.register("person.left", "generation", personal_data.person_left)
        hooks.register("face.withdrawn", "generation", personal_data.face_withdrawn)
        hooks.register("person.exported", "generation", personal_data.exported)

        from apps.core.crypto import register_rotation

        register_rotation("generation", personal_data.rotate_encryption)

        from apps.core.health import register_figures
        from apps.generation.metrics import prometheus_lines
        from apps.generation.selectors import job_counts_by_state

        register_figures("jobs", status=job_counts_by_state, prometheus=prometheus_lines)

        from apps.core.media import register_media
        from apps.generation.media import headshot_media

        register_media("headshot", headshot_media)
