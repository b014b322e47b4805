from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.journey import JourneyQuerySet
from apps.core.models import TenantOwned


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


JOB_TRANSITIONS: dict[str, frozenset[str]] = {
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED, JobStatus.FAILED}),
    # RUNNING -> QUEUED: a transient error puts the job back for a retry.
    JobStatus.RUNNING: frozenset(
        {JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}
    ),
    JobStatus.SUCCEEDED: frozenset(),
    # FAILED -> QUEUED: an administrator's requeue (generation_job_requeue).
    JobStatus.FAILED: frozenset({JobStatus.QUEUED}),
    JobStatus.CANCELLED: frozenset(),
}
ACTIVE_JOB_STATES = (JobStatus.QUEUED, JobStatus.RUNNING)
MAX_JOB_ATTEMPTS = 3


class GenerationJob(TenantOwned):
    employee = models.ForeignKey(
        "organizations.EmployeeProfile", on_delete=models.CASCADE, related_name="jobs"
    )
    preset_version = models.ForeignKey(
        "presets.BrandPresetVersion", on_delete=models.PROTECT, related_name="jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=40, default="queued")
    backend = models.CharField(max_length=60, blank=True)
    base_seed = models.BigIntegerField()
    # what the person asked of this round (pipeline.presets.ROUND_CHANGES), and the
    # selfies to use only if nothing else is left: {"changes": [...], "avoid_photos": [...]}
    adjustments = models.JSONField(default=dict, blank=True)
    seeds = models.JSONField(default=list, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Sent to the GPU queue (at most a few per company at a time: see generation_jobs_dispatch).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # The run's lease: the worker that holds it renews heartbeat_at while it works; a run
    # whose heartbeat is older than the lease was abandoned (worker killed) and is taken over.
    worker = models.CharField(max_length=120, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # a change to these moves the person along the journey (apps.core.journey)
    JOURNEY_FIELDS = frozenset({"status", "finished_at"})
    JOURNEY_PERSON = "employee_id"
    objects = JourneyQuerySet.as_manager()

    @staticmethod
    def journey_moved_by(fields: dict[str, object]) -> bool:
        """A job moves its person when it ends, or starts again after it ended (both write
        ``finished_at``), or is cancelled; not when a worker claims it or puts it back in
        the queue to retry (the person is generating throughout)."""
        return "finished_at" in fields or fields.get("status") not in ACTIVE_JOB_STATES

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="progress_at_most_100"
            ),
            # At most one queued or running job per person.
            models.UniqueConstraint(
                fields=["employee"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_job",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "dispatched_at"], name="job_dispatch_idx"),
            # the company's jobs newest first (the API's list), a person's rounds
            models.Index(fields=["organization", "-created_at"], name="job_company_newest_idx"),
            models.Index(fields=["employee", "-created_at"], name="job_person_newest_idx"),
        ]


class HeadshotStatus(models.TextChoices):
    CANDIDATE = "candidate"
    PICKED = "picked"
    APPROVED = "approved"
    REJECTED = "rejected"
    # The person withdrew consent or left while it was in the directory: its image is
    # deleted and it waits for the directory sync to remove the photo there.
    WITHDRAWN = "withdrawn"


class PrintState(models.TextChoices):
    """The print version of a headshot (twice its size, for cards and print), made by a
    worker once the person picks it."""

    NONE = "", "not asked for"
    QUEUED = "queued", "waiting for a worker"
    MAKING = "making", "being made"
    READY = "ready", "ready"
    FAILED = "failed", "could not be made"


class Headshot(TenantOwned):
    job = models.ForeignKey(GenerationJob, on_delete=models.CASCADE, related_name="headshots")
    employee = models.ForeignKey(
        "organizations.EmployeeProfile", on_delete=models.CASCADE, related_name="headshots"
    )
    key = models.CharField(max_length=20)
    image = models.FileField(max_length=300)
    seed = models.BigIntegerField()
    source_photo = models.ForeignKey(
        "photos.Photo", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    backend = models.CharField(max_length=60)
    scores = models.JSONField(default=dict)
    total_score = models.FloatField(default=0.0)
    accepted = models.BooleanField(default=False)
    reason = models.CharField(max_length=300, blank=True)
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    info = models.JSONField(default=dict, blank=True)
    prompt = models.TextField(blank=True)
    negative_prompt = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=HeadshotStatus.choices, default=HeadshotStatus.CANDIDATE
    )
    rejection_reason = models.CharField(max_length=500, blank=True)
    picked_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    print_image = models.FileField(max_length=300, blank=True)
    print_state = models.CharField(
        max_length=8, choices=PrintState.choices, blank=True, default=PrintState.NONE
    )
    print_progress = models.PositiveSmallIntegerField(default=0)
    print_upscaler = models.CharField(max_length=60, blank=True)  # what enlarged it
    print_error = models.CharField(max_length=500, blank=True)

    # a change to these moves the person along the journey (apps.core.journey)
    JOURNEY_FIELDS = frozenset({"status", "picked_at", "decided_at"})
    JOURNEY_PERSON = "employee_id"
    objects = JourneyQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "key"], name="candidate_key_per_job")]
        ordering = ["job", "rank"]
        indexes = [
            # the approval queue (picked, oldest first) and the lists by state, newest first
            models.Index(fields=["organization", "status", "picked_at"], name="headshot_queue_idx"),
            models.Index(
                fields=["organization", "status", "-created_at"], name="headshot_state_newest_idx"
            ),
        ]

    def stored_files(self) -> list[str]:
        """Every file this headshot keeps (deleted with it)."""
        return [f.name for f in (self.image, self.print_image) if f and f.name]

    def print_source(self) -> str:
        """The file cards and print read: the print version when it is ready."""
        if self.print_state == PrintState.READY and self.print_image:
            return str(self.print_image.name)
        return str(self.image.name)
