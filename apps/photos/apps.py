from django.apps import AppConfig


class PhotosConfig(AppConfig):
    name = "apps.photos"
    label = "photos"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from datetime import timedelta

        from apps.core import scheduler

        # Declare this app's actors in every process: services enqueue them by name.
        from apps.photos import tasks  # noqa: F401

        def purge() -> None:
            from apps.core.queue import enqueue

            enqueue("retention_purge")

        scheduler.register("retention_purge", timedelta(days=1), purge)

        from apps.core import hooks
        from apps.photos import personal_data

        hooks.register("biometrics.erase", "photos", personal_data.biometrics_erase)
        hooks.register("face.withdrawn", "photos", personal_data.face_withdrawn)
        hooks.register("person.exported", "photos", personal_data.exported)

        from apps.core.crypto import register_rotation

        register_rotation("photos", personal_data.rotate_encryption)

        from apps.core.media import register_media
        from apps.photos.media import photo_marked_media, photo_media

        register_media("photo", photo_media)
        register_media("photo_marked", photo_marked_media)
