from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from apps.core.errors import ApplicationError
from apps.core.models import DeadLetter, WorkerHeartbeat
from apps.core.services import dead_letter_requeue


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "queues", "threads", "seen_at", "in_flight", "processed", "failed")
    readonly_fields = [f.name for f in WorkerHeartbeat._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The worker list, under a table of queue depths and live workers per queue."""
        from apps.core.health import worker_status

        status = worker_status()
        rows = [
            {
                "name": queue,
                "depth": depth,
                "workers": sum(1 for w in status["workers"] if w["alive"] and queue in w["queues"]),
            }
            for queue, depth in sorted(status["queues"].items())
        ]
        context = {**(extra_context or {}), "worker_status": status, "queue_rows": rows}
        return super().changelist_view(request, extra_context=context)


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("failed_at", "actor_name", "args", "queue_name", "error", "requeued_at")
    list_filter = ("actor_name", "queue_name", ("requeued_at", admin.EmptyFieldListFilter))
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
    actions = ["requeue"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Requeue the selected messages")
    def requeue(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        done = 0
        for letter in queryset:
            try:
                dead_letter_requeue(dead_letter=letter, by=request.user.get_username())
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{letter}: {exc}", messages.WARNING)
        self.message_user(request, f"{done} message(s) requeued.", messages.SUCCESS)
