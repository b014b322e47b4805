"""Worker health, dead letters and the watchdog, on the stub broker."""

from __future__ import annotations

from datetime import UTC, timedelta

import dramatiq
import pytest
from django.utils import timezone

from apps.core.errors import StateConflict
from apps.core.models import DeadLetter, WorkerHeartbeat
from apps.core.services import dead_letter_requeue
from apps.core.workers import Watchdog, WorkerHealth, process_name
from apps.generation.models import GenerationJob, JobStatus
from tests.conftest import release_on_commit_hooks

TOKEN = "monitoring-token-123"


@pytest.fixture
def operator_token(settings):
    settings.HEADSHOTS_METRICS_TOKEN = TOKEN
    return {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def test_the_watchdog_reports_work_that_overran_its_time_limit():
    now = [100.0]
    overruns: list[str] = []
    watchdog = Watchdog(grace_s=2.0, clock=lambda: now[0], on_overrun=overruns.append)
    broker = dramatiq.get_broker()
    message = dramatiq.Message(
        queue_name="gpu",
        actor_name="generation_job_run",
        args=(1,),
        kwargs={},
        options={"time_limit": 1000},
    )
    watchdog.before_process_message(broker, message)
    now[0] = 102.5
    assert watchdog.check() == []
    now[0] = 103.5
    assert len(watchdog.check()) == 1 and "generation_job_run" in overruns[0]
    watchdog.after_process_message(broker, message)
    assert watchdog.check() == []


@pytest.mark.django_db(transaction=True)  # the worker's threads write on their own connections
def test_a_message_that_fails_for_good_becomes_a_dead_letter_and_can_be_requeued(stub_broker):
    calls = []

    @dramatiq.actor(
        broker=stub_broker, queue_name="cpu", max_retries=1, min_backoff=10, max_backoff=20
    )
    def always_fails(value: int) -> None:
        calls.append(value)
        raise RuntimeError(f"broken {value}")

    worker = dramatiq.Worker(stub_broker, worker_timeout=50, worker_threads=1)
    worker.start()
    try:
        always_fails.send(7)
        stub_broker.join("cpu", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    letter = DeadLetter.objects.get()
    assert calls == [7, 7]  # the first try and one retry
    assert letter.actor_name == "always_fails" and letter.args == [7] and letter.retries == 2
    assert "RuntimeError: broken 7" in letter.error
    dead_letter_requeue(dead_letter=letter, by="ops@example")
    release_on_commit_hooks()
    assert [dramatiq.Message.decode(m).args for m in stub_broker.queues["cpu"].queue] == [(7,)]
    with pytest.raises(StateConflict, match="already requeued"):
        dead_letter_requeue(dead_letter=letter, by="ops@example")


def test_requeueing_a_dead_generation_message_resets_its_failed_job(acme, stub_broker):
    from tests.apps.test_job_machinery import queued_job, sent

    job = queued_job(acme, acme.employee)
    GenerationJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error="boom", attempts=3
    )
    letter = DeadLetter.objects.create(
        message_id="m-1",
        queue_name="gpu",
        actor_name="generation_job_run",
        args=[job.pk],
        failed_at=timezone.now(),
    )
    dead_letter_requeue(dead_letter=letter, by="ops@example")
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.attempts == 0
    assert sent(stub_broker) == [job.pk]


class FakeWorker:
    consumer_whitelist = {"cpu", "gpu"}
    worker_threads = 2


@pytest.mark.django_db(transaction=True)
def test_a_worker_reports_itself_while_it_runs_and_leaves_when_it_stops(stub_broker):
    health = WorkerHealth(interval_s=60)
    health.after_worker_boot(stub_broker, FakeWorker())
    beat = WorkerHeartbeat.objects.get(name=process_name())
    assert beat.queues == ["cpu", "gpu"] and beat.threads == 2
    assert beat.loaded == []  # the in-process worker loads models lazily, never at boot
    health.before_worker_shutdown(stub_broker, FakeWorker())
    assert not WorkerHeartbeat.objects.exists()


def test_a_real_gpu_worker_warms_its_models_at_boot(settings, db):
    settings.HEADSHOTS_QUEUE_MODE = "redis"
    loaded = WorkerHealth()._warm(["gpu"])
    assert loaded == [
        "dlib-resnet-v1",
        "mediapipe-selfie-segmentation",
        "mediapipe-face-landmark-468",
    ]
    assert WorkerHealth()._warm(["cpu"]) == ["dlib-resnet-v1"]


def test_worker_health_is_for_operators_only(client, db, operator_token):
    assert client.get("/healthz/workers").status_code == 403
    assert client.get("/metrics").status_code == 403
    assert client.get("/healthz/workers", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/healthz/workers", **operator_token).status_code == 200


def test_waiting_work_without_a_live_worker_is_degraded(acme, stub_broker, client, operator_token):
    from apps.generation.services import generation_jobs_dispatch
    from tests.apps.test_job_machinery import queued_job, sent

    queued_job(acme, acme.employee)
    generation_jobs_dispatch()
    sent(stub_broker)  # releases the on-commit send
    response = client.get("/healthz/workers", **operator_token)
    body = response.json()
    assert response.status_code == 503 and body["unserved_queues"] == ["gpu"]
    assert body["queues"]["gpu"] == 1 and body["jobs"]["queued"] == 1
    now = timezone.now()
    WorkerHeartbeat.objects.create(name="gpu-1:99", queues=["gpu"], started_at=now, seen_at=now)
    WorkerHeartbeat.objects.create(
        name="gone:1", queues=["cpu"], started_at=now, seen_at=now - timedelta(minutes=5)
    )
    body = client.get("/healthz/workers", **operator_token).json()
    assert body["status"] == "ok"
    assert {w["name"]: w["alive"] for w in body["workers"]} == {"gone:1": False, "gpu-1:99": True}


def test_prometheus_metrics(finished, client, operator_token):
    _, job = finished
    text = client.get("/metrics", **operator_token).content.decode()
    assert 'headshots_jobs{state="succeeded"} 1' in text
    assert 'headshots_queue_depth{queue="gpu"} 0' in text
    assert "headshots_job_duration_seconds_count 1" in text
    assert f"headshots_job_duration_seconds_sum {job.timings['total_s']:.3f}" in text
    assert "headshots_dead_letters 0" in text


def test_two_schedulers_in_the_same_slot_send_each_task_once(db, stub_broker):
    from datetime import datetime

    from apps.core import scheduler
    from apps.core.models import ScheduledRun

    at = datetime(2026, 11, 22, 10, 0, 12, tzinfo=UTC)
    assert set(scheduler.tick(scheduler="a:1", now=at)) == {
        "generation_jobs_sweep",
        "directory_sync",
        "retention_purge",
        "invitation_reminders",
        "approval_mails",
        "people_restand",
    }
    assert scheduler.tick(scheduler="b:2", now=at + timedelta(seconds=30)) == []
    # a minute later the sweep is due again; the hourly sync and the daily purge are not
    assert scheduler.tick(scheduler="b:2", now=at + timedelta(seconds=60)) == [
        "generation_jobs_sweep"
    ]
    release_on_commit_hooks()
    sent = [dramatiq.Message.decode(m).actor_name for m in stub_broker.queues["cpu"].queue]
    # no directory is configured, so the hourly sync sends nothing
    assert sorted(sent) == [
        "approval_mails",
        "generation_jobs_sweep",
        "generation_jobs_sweep",
        "invitation_reminders",
        "people_restand",
        "retention_purge",
    ]
    runs = ScheduledRun.objects.filter(task="generation_jobs_sweep").order_by("slot")
    assert list(runs.values_list("scheduler", flat=True)) == ["a:1", "b:2"]


def test_the_scheduler_command_runs_one_tick(db, stub_broker):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("runscheduler", "--once", stdout=out)
    assert "generation_jobs_sweep" in out.getvalue()


def test_the_admin_worker_page_shows_queue_depths_and_dead_letters(admin_client, acme, stub_broker):
    from apps.generation.services import generation_jobs_dispatch
    from tests.apps.test_job_machinery import queued_job, sent

    queued_job(acme, acme.employee)
    generation_jobs_dispatch()
    sent(stub_broker)
    page = admin_client.get("/admin/core/workerheartbeat/").content.decode()
    assert "<td>gpu</td><td>1</td><td>0</td>" in page
    assert "no live worker consumes it" in page
    DeadLetter.objects.create(
        message_id="m-9",
        queue_name="cpu",
        actor_name="photo_check",
        args=[5],
        failed_at=timezone.now(),
    )
    listing = admin_client.get("/admin/core/deadletter/").content.decode()
    assert "photo_check" in listing and "Requeue the selected messages" in listing


def test_metrics_parse_with_the_client_library_and_their_totals_never_go_down(
    finished, client, operator_token
):
    """/metrics read by prometheus_client's own parser; a summary's count and sum keep
    counting when the jobs they came from are deleted (a person's data purged)."""
    parser = pytest.importorskip(
        "prometheus_client.parser", reason="prometheus-client is not installed (make install)"
    )
    from apps.generation.models import GenerationJob

    def samples() -> dict[str, float]:
        text = client.get("/metrics", **operator_token).content.decode()
        found = {}
        for family in parser.text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
        return found

    before = samples()
    assert before["headshots_job_duration_seconds_count"] == 1
    _, job = finished
    GenerationJob.objects.filter(pk=job.pk).delete()
    after = samples()
    assert after["headshots_job_duration_seconds_count"] == 1
    assert (
        after["headshots_job_duration_seconds_sum"] == before["headshots_job_duration_seconds_sum"]
    )
