from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "apps.generation"
    label = "generation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core import scheduler
        from apps.core.queue import register_requeue

        def requeue(job_id: int) -> None:
            from apps.generation.services import generation_job_requeue_dead_letter

            generation_job_requeue_dead_letter(job_id)

        register_requeue("generation_job_run", requeue)

        def sweep() -> None:
            from apps.core.queue import enqueue
            from apps.generation.tasks import generation_jobs_sweep_task

            enqueue(generation_jobs_sweep_task)

        scheduler.register("generation_jobs_sweep", timedelta(minutes=1), sweep)

        from apps.core.media import register_media
        from apps.generation.media import headshot_media

        register_media("headshot", headshot_media)
