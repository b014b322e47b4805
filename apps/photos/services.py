from __future__ import annotations

import logging
from typing import IO

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core import hooks
from apps.core.crypto import decrypt, encrypt
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from apps.core.queue import enqueue
from apps.core.ratelimit import rate_limit
from apps.core.storage import (
    private_delete,
    private_delete_all,
    private_read,
    private_save,
    sha256_hex,
)
from apps.organizations.models import EmployeeProfile, Organization
from apps.organizations.selectors import require_self
from apps.photos.decode_budget import DecodeBudget
from apps.photos.models import ConsentRecord, ConsentText, IdentityProfile, Photo, PhotoStatus
from apps.photos.selectors import consent_current, consent_text_current
from pipeline.errors import ImageRejected, PipelineError
from pipeline.imaging import NORMALISED_MAX_SIDE, decode_memory_estimate, normalise_upload

logger = logging.getLogger(__name__)


@transaction.atomic
def consent_give(
    *,
    organization: Organization,
    employee: EmployeeProfile,
    actor: User,
    text_version: str,
    ip_address: str | None = None,
    user_agent: str = "",
) -> ConsentRecord:
    require_self(organization=organization, employee=employee, actor=actor)
    current = consent_text_current(organization=organization)
    if text_version != current.version:
        raise ValidationFailed(
            f"The consent text has changed (you saw version {text_version}, the current one is "
            f"{current.version}). Read the current text and consent again."
        )
    existing = consent_current(organization=organization, employee=employee)
    if existing is not None:
        return existing
    record = ConsentRecord.objects.create(
        organization=organization,
        employee=employee,
        text_version=text_version,
        text_sha256=current.sha256,
        given_at=timezone.now(),
        ip_address=ip_address,
        user_agent=user_agent[:400],
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="consent.given",
        target=record,
        data={"text_version": text_version},
    )
    return record


def consent_withdraw(*, organization: Organization, employee: EmployeeProfile, actor: User) -> int:
    """The person withdraws consent: their queued or running generation stops, their
    selfies and face embeddings are deleted at once, and so are the headshots made from
    them (one still in the directory is removed from it by a sync sent now). Returns the
    selfie files deleted."""
    require_self(organization=organization, employee=employee, actor=actor)
    with transaction.atomic():
        withdrawn = ConsentRecord.objects.filter(
            organization=organization, employee=employee, withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now())
        if not withdrawn:
            raise StateConflict("There is no consent to withdraw.")
        audit_record(
            organization=organization, actor=actor, action="consent.withdrawn", target=employee
        )
        counts = hooks.fire(
            "face.withdrawn",
            organization=organization,
            employee=employee,
            actor=actor,
            reason="consent withdrawn",
        )
        return counts.get("selfies", 0)


# Uploads are decoded within one memory budget per web process: each holds its bytes and
# its decoded pixels while it is decoded, and the uploads that wait stay on disk (Django's
# temporary files), so the process's memory stays bounded however many people upload.
_DECODING = DecodeBudget(settings.HEADSHOTS["UPLOAD_DECODE_MEMORY_MB"] * 1024 * 1024)


def photo_upload(
    *,
    organization: Organization,
    employee: EmployeeProfile,
    actor: User,
    data: bytes | IO[bytes],
) -> tuple[Photo, bool]:
    """Store a selfie after validating it by content. Returns (photo, created).

    ``data`` is the file's bytes or an open file (an upload Django spooled to disk), read
    only once it is this upload's turn to be decoded. The same file uploaded twice is
    stored once. Decoding happens before the transaction opens: nothing is written for a
    refused file.
    """
    require_self(organization=organization, employee=employee, actor=actor)
    if consent_current(organization=organization, employee=employee) is None:
        raise StateConflict(
            "Give your consent to the processing of your photos before uploading selfies."
        )
    conf = settings.HEADSHOTS
    rate_limit(
        scope="upload",
        key=str(actor.pk),
        limit=conf["UPLOADS_PER_HOUR"],
        window_s=3600,
        message=f"You have uploaded {conf['UPLOADS_PER_HOUR']} photos in the last hour, the most we "
        "take; try again later.",
    )
    cost = decode_memory_estimate(
        data, max_pixels=conf["MAX_UPLOAD_PIXELS"], max_side=NORMALISED_MAX_SIDE
    )
    with _DECODING.reserve(cost + conf["MAX_UPLOAD_BYTES"]):
        raw = data if isinstance(data, bytes) else data.read(conf["MAX_UPLOAD_BYTES"] + 1)
        return _photo_store(organization=organization, employee=employee, data=raw)


def _photo_store(
    *, organization: Organization, employee: EmployeeProfile, data: bytes
) -> tuple[Photo, bool]:
    conf = settings.HEADSHOTS
    digest = sha256_hex(data)
    existing = Photo.objects.filter(
        organization=organization, employee=employee, sha256=digest
    ).first()
    if existing is not None:
        return existing, False
    if (
        Photo.objects.filter(organization=organization, employee=employee).count()
        >= conf["MAX_PHOTOS_PER_EMPLOYEE"]
    ):
        raise StateConflict(
            f"You have uploaded {conf['MAX_PHOTOS_PER_EMPLOYEE']} photos, the most we keep. Delete some first."
        )
    try:
        normalised, decoded = normalise_upload(
            data, max_bytes=conf["MAX_UPLOAD_BYTES"], max_pixels=conf["MAX_UPLOAD_PIXELS"]
        )
    except ImageRejected as exc:
        raise ValidationFailed(exc.message, extra={"code": exc.code}) from exc
    folder = f"org-{organization.pk}/employee-{employee.pk}/photos"
    normalised_name = private_save(folder, normalised, suffix=".jpg.enc", encrypted=True)
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                organization=organization,
                employee=employee,
                normalised=normalised_name,
                sha256=digest,
                source_format=decoded.source_format,
                width=decoded.source_size[0],
                height=decoded.source_size[1],
            )
            enqueue("photo_check", photo.pk)
    except Exception:
        private_delete(normalised_name)
        raise
    return photo, True


def photo_check_run(*, photo_id: int) -> Photo | None:
    """Run the checks on a stored selfie (worker side). Idempotent."""
    from apps.core.pipeline_access import get_pipeline

    photo = Photo.objects.select_related("employee").filter(pk=photo_id).first()
    if photo is None:
        logger.info("photo %s vanished before its check; skipping", photo_id)
        return None
    if photo.status != PhotoStatus.PENDING:
        return photo
    if consent_current(organization=photo.organization, employee=photo.employee) is None:
        logger.info("photo %s: consent withdrawn; not processed", photo_id)
        return photo
    try:
        pipeline = get_pipeline()
        analysis = pipeline.check_photo(private_read(photo.normalised.name))
    except PipelineError as exc:
        Photo.objects.filter(pk=photo.pk, status=PhotoStatus.PENDING).update(
            status=PhotoStatus.ERROR,
            report={"usable": False, "error": exc.message, "code": exc.code},
            checked_at=timezone.now(),
        )
        raise
    status = PhotoStatus.USABLE if analysis.report.usable else PhotoStatus.UNUSABLE
    embedding = (
        encrypt(analysis.embedding.astype(np.float32).tobytes())
        if analysis.embedding is not None
        else None
    )
    Photo.objects.filter(pk=photo.pk, status=PhotoStatus.PENDING).update(
        status=status,
        report=analysis.report.as_dict(),
        embedding=embedding,
        face_backend=pipeline.analyzer.name,
        checked_at=timezone.now(),
    )
    photo.refresh_from_db()
    return photo


def embedding_from_bytes(data: bytes) -> np.ndarray:
    """An embedding as stored (encrypted at rest) back to a vector."""
    return np.frombuffer(decrypt(bytes(data)), dtype=np.float32).astype(np.float64)


def identity_profile_save(
    *,
    employee: EmployeeProfile,
    embedding: np.ndarray,
    face_backend: str,
    used: list[int],
    outliers: list[int],
    attributes: dict[str, object],
) -> None:
    """Store the person's face template from this round's enrollment: one UPDATE when
    they have one already (every round after the first), an INSERT the first time. A
    person has one job running at a time, so two rounds never write it at once."""
    fields = {
        "organization_id": employee.organization_id,
        "embedding": encrypt(embedding.astype(np.float32).tobytes()),
        "face_backend": face_backend,
        "photo_ids": used,
        "outlier_photo_ids": outliers,
        "consistent": not outliers,
        "attributes": attributes,
    }
    if not IdentityProfile.objects.filter(employee=employee).update(
        **fields, updated_at=timezone.now()
    ):
        IdentityProfile.objects.create(employee=employee, **fields)


def person_model_load(*, employee: EmployeeProfile, key: str) -> bytes | None:
    """The person's stored model when it was made from what ``key`` describes."""
    profile = IdentityProfile.objects.filter(
        organization_id=employee.organization_id, employee=employee, person_model_key=key
    ).first()
    if profile is None or not profile.person_model_file:
        return None
    try:
        return private_read(profile.person_model_file)
    except FileNotFoundError:
        logger.warning("the person model of employee %s is gone: training again", employee.pk)
        return None


@transaction.atomic
def person_model_save(
    *, employee: EmployeeProfile, key: str, weights: bytes, info: dict[str, object]
) -> None:
    """Keep the person's newly trained model (encrypted), replacing an older one. Kept only
    while the identity profile it belongs to exists: a person who withdrew meanwhile
    leaves nothing behind."""
    profile = (
        IdentityProfile.objects.select_for_update()
        .filter(organization_id=employee.organization_id, employee=employee)
        .first()
    )
    if profile is None:
        return
    folder = f"org-{employee.organization_id}/employee-{employee.pk}/person-model"
    name = private_save(folder, weights, suffix=".safetensors.enc", encrypted=True)
    old = profile.person_model_file
    profile.person_model_file, profile.person_model_key = name, key
    profile.person_model_info = info
    profile.save(update_fields=["person_model_file", "person_model_key", "person_model_info"])
    transaction.on_commit(lambda: private_delete(old))


@transaction.atomic
def photo_delete(
    *, organization: Organization, employee: EmployeeProfile, actor: User, photo: Photo
) -> None:
    """The person deletes one selfie. The face template and the person's model made with
    it go too (the next round enrolls the person again from what is left); not while a
    round is being made from the photos."""
    require_self(organization=organization, employee=employee, actor=actor)
    locked = Photo.objects.select_for_update().filter(pk=photo.pk, employee=employee).first()
    if locked is None:
        raise NotFound("Not found.")
    if employee.jobs.filter(status__in=["queued", "running"]).exists():  # type: ignore[attr-defined]
        raise StateConflict(
            "Your headshots are being made from these photos: delete it once they are ready."
        )
    names = [locked.normalised.name]
    profile = IdentityProfile.objects.filter(organization=organization, employee=employee).first()
    if profile is not None and locked.pk in [*profile.photo_ids, *profile.outlier_photo_ids]:
        if profile.person_model_file:
            names.append(profile.person_model_file)
        profile.delete()
    locked.delete()
    transaction.on_commit(lambda: private_delete_all(names))
    audit_record(organization=organization, actor=actor, action="photo.deleted", target=employee)


@transaction.atomic
def employee_biometrics_delete(
    *,
    organization: Organization,
    employee: EmployeeProfile,
    actor: User | None,
    reason: str,
) -> int:
    """Delete every selfie file, photo row, identity embedding and person model of a person.
    Returns the selfie files deleted."""
    if employee.organization_id != organization.pk:
        raise PermissionDenied("This person belongs to another company.")
    names = []
    for photo in Photo.objects.select_for_update().filter(
        organization=organization, employee=employee
    ):
        names.append(photo.normalised.name)
    count = Photo.objects.filter(organization=organization, employee=employee).count()
    selfies = len(names)
    # the person's own model, trained from these photos, goes with them
    names += [
        name
        for name in IdentityProfile.objects.filter(
            organization=organization, employee=employee
        ).values_list("person_model_file", flat=True)
        if name
    ]
    Photo.objects.filter(organization=organization, employee=employee).delete()
    IdentityProfile.objects.filter(organization=organization, employee=employee).delete()
    # Files go only once the rows are gone for good.
    transaction.on_commit(lambda: private_delete_all(names))
    audit_record(
        organization=organization,
        actor=actor,
        action="biometrics.deleted",
        target=employee,
        data={"photos": count, "reason": reason},
    )
    return selfies


@transaction.atomic
def consent_text_publish(*, organization: Organization, actor: User, body: str) -> ConsentText:
    """Publish the company's own consent text as a new version. Everyone's earlier consent
    stops counting: each person consents to the new text before their photos are
    processed any further."""
    import hashlib

    from apps.organizations.models import MANAGER_ROLES
    from apps.organizations.selectors import require_role

    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    body = body.replace("\r\n", "\n").strip()
    if len(body) < 200:
        raise ValidationFailed(
            "A consent text must say what is collected, why, how long it is kept and who sees "
            "it; this one is too short (200 characters at least)."
        )
    if len(body) > 20_000:
        raise ValidationFailed("The consent text is too long (20,000 characters at most).")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    latest = (
        ConsentText.objects.filter(organization=organization).order_by("-created_at", "-pk").first()
    )
    if latest is not None and latest.sha256 == digest:
        return latest
    number = ConsentText.objects.filter(organization=organization).count() + 1
    text = ConsentText.objects.create(
        organization=organization,
        version=f"{organization.slug[:24]}-v{number}",
        body=body,
        sha256=digest,
        published_by=actor,
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="consent_text.published",
        target=text,
        data={"version": text.version, "sha256": digest},
    )
    return text
