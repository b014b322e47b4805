"""The job machinery through Redis, beside a bare Dramatiq actor in the same run.

python -m bench.jobs [--jobs 200] [--threads 4]

1. Throughput of the machinery alone: N generation jobs with the image work replaced by
   a pipeline that does nothing, from dispatch to "succeeded" (dispatch, the claim,
   the lease thread, the state changes, the audit rows), against N messages to an actor
   that does nothing: jobs per second of each, and our overhead as a ratio.
2. Time from upload to first candidate on the studio path: four selfies uploaded and
   checked by the worker, enrollment, generation and selection, until the first
   candidate is stored.

Needs Redis and PostgreSQL on loopback (TEST_REDIS_URL, TEST_DATABASE_ADMIN_URL); it
creates a database of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.run import RESULTS, save

ROOT = Path(__file__).resolve().parent.parent


class NoImageWork:
    """The pipeline's interface with nothing behind it: what remains is the machinery."""

    class analyzer:  # noqa: N801 - mirrors the attribute of the real pipeline
        name = "none"

    def build_identity(self, embeddings: dict[str, Any]) -> Any:
        import numpy as np

        from pipeline.identity import Enrollment

        return Enrollment(
            embedding=np.zeros(128), used=[], outliers=[], similarity=np.zeros((0, 0)), keys=[]
        )

    def generate(self, **kwargs: Any) -> Any:
        from pipeline.orchestrator import GenerationResult

        return GenerationResult(backend="none", candidates=[], timings={})

    def select(self, result: Any, **kwargs: Any) -> list[Any]:
        return []

    def person_model_key(self, enrollment: Any) -> str | None:
        return None

    def run(self, *, enrolled: Any = None, **kwargs: Any) -> Any:
        """The run order of the real pipeline, each step doing nothing."""
        from pipeline.orchestrator import RunResult

        enrollment = self.build_identity({})
        if enrolled is not None:
            enrolled(enrollment, {})
        return RunResult(enrollment=enrollment, attributes={}, result=self.generate(), ranking=[])

    def warm(self, *, generation: bool) -> list[str]:
        return []

    def release(self) -> None:
        pass


def setup(database: str, redis_url: str, var: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "headshots_portal.settings.base",
            "DATABASE_URL": database,
            "REDIS_URL": redis_url,
            "HEADSHOTS_VAR_DIR": str(var),
            "HEADSHOTS_MODEL_DIR": str(ROOT / "var" / "models"),
            "HEADSHOTS_MIN_USABLE_PHOTOS": "3",
            "HEADSHOTS_GPU_JOBS_PER_COMPANY": "100000",
        }
    )
    os.environ.pop("RABBITMQ_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)


@contextlib.contextmanager
def scratch_environment() -> Iterator[None]:
    """Django set up on a database of its own (made on the PostgreSQL server named by
    TEST_DATABASE_ADMIN_URL, dropped after) and an emptied Redis database."""
    import psycopg
    import redis

    admin = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    redis.Redis.from_url(redis_url).flushdb()
    name = f"headshots_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as var:
            setup(f"{admin.rsplit('/', 1)[0]}/{name}", redis_url, Path(var))
            yield
            from django.db import connections

            connections.close_all()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis.Redis.from_url(redis_url).flushdb()


def wait(predicate: Any, timeout_s: float = 300.0, poll_s: float = 0.05) -> None:
    """Poll ``predicate`` every ``poll_s``: often enough to time runs of several seconds
    to 1 %, seldom enough that the polling's queries do not compete with the workers."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark's work did not finish in time")
        time.sleep(poll_s)


def finished_or_raise(jobs: int) -> bool:
    from apps.generation.models import GenerationJob, JobStatus

    failed = GenerationJob.objects.filter(status=JobStatus.FAILED).values_list("error", flat=True)
    if failed:
        raise RuntimeError(f"a benchmark job failed: {failed[0]}")
    return GenerationJob.objects.filter(status=JobStatus.SUCCEEDED).count() == jobs


def machinery(jobs: int, threads: int) -> dict[str, float]:
    import dramatiq

    from apps.core import pipeline_access
    from apps.generation.models import GenerationJob
    from apps.generation.services import generation_jobs_dispatch
    from apps.organizations.models import EmployeeProfile
    from apps.presets.selectors import preset_version_latest
    from tests.apps.factories import company

    pipeline_access.release_pipeline()
    pipeline_access._pipeline = NoImageWork()  # type: ignore[assignment]
    try:
        acme = company("Bench", "bench.example")
        version = preset_version_latest(organization=acme.org, preset=acme.preset())
        people = EmployeeProfile.objects.bulk_create(
            EmployeeProfile(organization=acme.org, full_name=f"P{i}", email=f"p{i}@bench.example")
            for i in range(jobs)
        )
        GenerationJob.objects.bulk_create(
            GenerationJob(organization=acme.org, employee=p, preset_version=version, base_seed=1)
            for p in people
        )
        broker = dramatiq.get_broker()
        done = {"count": 0}
        lock = threading.Lock()

        @dramatiq.actor(queue_name="bench", actor_name="bench_noop", max_retries=0)
        def noop(index: int) -> None:
            with lock:
                done["count"] += 1

        worker = dramatiq.Worker(broker, worker_threads=threads)
        worker.start()
        try:
            started = time.perf_counter()
            generation_jobs_dispatch()
            wait(lambda: finished_or_raise(jobs))
            ours = time.perf_counter() - started
            started = time.perf_counter()
            for index in range(jobs):
                noop.send(index)
            wait(lambda: done["count"] == jobs)
            bare = time.perf_counter() - started
        finally:
            worker.stop()
    finally:
        pipeline_access._pipeline = None
    return {
        "jobs": jobs,
        "threads": threads,
        "jobs_per_s": round(jobs / ours, 1),
        "bare_actor_messages_per_s": round(jobs / bare, 1),
        "overhead_ratio": round(ours / bare, 2),
    }


def upload_to_first_candidate() -> dict[str, float]:
    import dramatiq

    from apps.core.pipeline_access import get_pipeline
    from apps.generation.models import Headshot
    from apps.generation.services import generation_job_create
    from apps.photos.models import Photo, PhotoStatus
    from pipeline.tools import samples
    from tests.apps.conftest import USABLE
    from tests.apps.factories import company, upload

    get_pipeline().warm(generation=True)  # as a worker does at boot
    photos = {name: data for name, data, _ in samples.selfie_set(ROOT / "var" / "samples")}
    person = company("Studio", "studio.example")
    worker = dramatiq.Worker(dramatiq.get_broker(), worker_threads=2)
    worker.start()
    try:
        started = time.perf_counter()
        for name in USABLE:
            upload(person, photos[name])
        wait(
            lambda: (
                Photo.objects.filter(employee=person.employee, status=PhotoStatus.USABLE).count()
                == len(USABLE)
            )
        )
        checked = time.perf_counter() - started
        generation_job_create(
            organization=person.org,
            actor=person.employee_user,
            employee=person.employee,
            preset=person.preset(),
        )
        wait(lambda: Headshot.objects.filter(employee=person.employee).exists())
        total = time.perf_counter() - started
    finally:
        worker.stop()
    return {
        "uploads": len(USABLE),
        "checked_s": round(checked, 2),
        "first_candidate_s": round(total, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with scratch_environment():
        record = {
            "machinery": machinery(args.jobs, args.threads),
            "upload_to_first_candidate": upload_to_first_candidate(),
        }
    print(json.dumps(record, indent=2))
    save("job_machinery", record, args.results)
    return record


if __name__ == "__main__":
    main()
