from __future__ import annotations

from django.contrib.auth.models import User

from apps.core.media import MediaFile, sniffed_type
from apps.core.storage import private_read
from apps.generation.models import Headshot
from apps.organizations.access import may_view_person_media


def headshot_media(user: User, pk: int) -> MediaFile | None:
    headshot = Headshot.objects.select_related("employee").filter(pk=pk).first()
    if (
        headshot is None
        or not headshot.image  # withdrawn: the image is gone
        or not may_view_person_media(user=user, employee=headshot.employee)
    ):
        return None
    data = private_read(headshot.image.name)
    return MediaFile(data, sniffed_type(data))
