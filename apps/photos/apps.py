from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "apps.photos"
    label = "photos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core import scheduler

        def purge() -> None:
            from apps.core.queue import enqueue
            from apps.photos.tasks import retention_purge_task

            enqueue(retention_purge_task)

        scheduler.register("retention_purge", timedelta(days=1), purge)

        from apps.core.media import register_media
        from apps.photos.media import photo_marked_media, photo_media

        register_media("photo", photo_media)
        register_media("photo_marked", photo_marked_media)
