"""The print version of a picked headshot: twice its size, made once by a worker (Real-ESRGAN
where configured), for business cards and the print export. Its progress is kept on the
headshot; a failure is recorded in plain words and cards use the headshot as it is."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from apps.core.queue import enqueue
from apps.core.storage import private_delete, private_read, private_save
from apps.generation.models import Headshot, HeadshotStatus, PrintState
from pipeline.errors import PipelineError

logger = logging.getLogger(__name__)
IN_USE = (HeadshotStatus.PICKED, HeadshotStatus.APPROVED)
PROGRESS_STEP = 5  # percent between two progress writes


def headshot_print_request(headshot: Headshot) -> bool:
    """Ask a worker for the print version (after a pick, or an approval when an earlier
    try failed); nothing when one is ready or on its way. True when one was asked for."""
    asked = (
        Headshot.objects.filter(pk=headshot.pk, status__in=IN_USE)
        .exclude(image="")
        .exclude(print_state__in=[PrintState.QUEUED, PrintState.MAKING, PrintState.READY])
        .update(
            print_state=PrintState.QUEUED,
            print_progress=0,
            print_error="",
            updated_at=timezone.now(),
        )
    )
    if asked:
        enqueue("headshot_print_make", headshot.pk)
    return bool(asked)


def headshot_print_make(*, headshot_id: int) -> PrintState | None:
    """The worker's side: make and store the print version. A message delivered twice, or
    after its headshot was withdrawn or deleted, stores nothing."""
    from apps.core.pipeline_access import get_pipeline

    claimed = Headshot.objects.filter(
        pk=headshot_id,
        status__in=IN_USE,
        print_state__in=[PrintState.QUEUED, PrintState.MAKING],  # MAKING: a worker died
    ).update(print_state=PrintState.MAKING, print_progress=0, updated_at=timezone.now())
    headshot = Headshot.objects.filter(pk=headshot_id).first()
    if not claimed or headshot is None or not headshot.image:
        return None
    written = [0]

    def progress(share: float) -> None:
        percent = min(99, int(share * 100))
        if percent >= written[0] + PROGRESS_STEP:
            written[0] = percent
            Headshot.objects.filter(pk=headshot_id).update(print_progress=percent)

    try:
        made = get_pipeline().print_version(private_read(headshot.image.name), progress)
    except PipelineError as exc:
        logger.warning("print version of headshot %s failed: %s", headshot_id, exc)
        Headshot.objects.filter(pk=headshot_id).update(
            print_state=PrintState.FAILED,
            print_error=str(exc)[:500],
            updated_at=timezone.now(),
        )
        return PrintState.FAILED
    folder = (
        f"org-{headshot.organization_id}/employee-{headshot.employee_id}/jobs/{headshot.job_id}"
    )
    # made from a face: encrypted at rest like the headshot itself
    name = private_save(folder, made.encoded, suffix="-print.jpg", encrypted=True)
    with transaction.atomic():
        locked = Headshot.objects.select_for_update().filter(pk=headshot_id).first()
        if locked is None or not locked.image or locked.status not in IN_USE:
            # withdrawn, deleted or rejected while it was being made
            transaction.on_commit(lambda: private_delete(name))
            if locked is not None:
                locked.print_state = PrintState.NONE
                locked.save(update_fields=["print_state", "updated_at"])
            return None
        old = locked.print_image.name if locked.print_image else ""
        locked.print_image = name
        locked.print_state = PrintState.READY
        locked.print_progress = 100
        locked.print_upscaler = made.upscaler
        locked.print_error = ""
        locked.info = {
            **locked.info,
            "print": {"width": made.width, "height": made.height, "seconds": made.seconds},
        }
        locked.save()
        if old and old != name:
            transaction.on_commit(lambda: private_delete(old))
    logger.info(
        "print version of headshot %s: %s x %s by %s in %.1f s",
        headshot_id,
        made.width,
        made.height,
        made.upscaler,
        made.seconds,
    )
    return PrintState.READY
