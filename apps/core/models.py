from __future__ import annotations

from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class TenantOwned(TimeStamped):
    """Every row that belongs to a company says so; selectors filter by it."""

    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """A live worker process, as it last reported itself (see apps.core.workers)."""

    name = models.CharField(max_length=120, unique=True)  # host:pid
    queues = models.JSONField(default=list)
    threads = models.PositiveSmallIntegerField(default=1)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()
    in_flight = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    loaded = models.JSONField(default=list, blank=True)  # the models warmed at boot

    def __str__(self) -> str:
        return self.name


class DeadLetter(models.Model):
    """A message that failed for good (retries exhausted, or a permanent error)."""

    message_id = models.CharField(max_length=64, unique=True)
    queue_name = models.CharField(max_length=60)
    actor_name = models.CharField(max_length=120)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    retries = models.PositiveSmallIntegerField(default=0)
    failed_at = models.DateTimeField()
    requeued_at = models.DateTimeField(null=True, blank=True)
    requeued_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.actor_name}{tuple(self.args)}"


class ScheduledRun(models.Model):
    """One run of a periodic task in one time slot. The unique pair is the lock: of two
    schedulers that reach the same slot, only the one whose row is created sends the task."""

    task = models.CharField(max_length=80)
    slot = models.DateTimeField()
    scheduler = models.CharField(max_length=120)
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "slot"], name="one_run_per_slot")]

    def __str__(self) -> str:
        return f"{self.task} at {self.slot:%Y-%m-%d %H:%M:%S}"


class MetricTotal(models.Model):
    """A running total for /metrics (a summary's _count and _sum): only ever added to, so
    it never goes down when the rows it was counted from are deleted."""

    name = models.CharField(max_length=120, unique=True)
    count = models.BigIntegerField(default=0)
    total = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"{self.name}: {self.count} ({self.total})"
