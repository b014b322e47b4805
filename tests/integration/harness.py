"""A whole deployment in subprocesses: its own PostgreSQL database, a real broker, and
`manage.py rundramatiq` workers that the tests start, kill and restart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")

PRELUDE = """
import json, os, sys
import django
django.setup()
"""


def postgres_available() -> bool:
    import psycopg

    try:
        psycopg.connect(ADMIN_URL, connect_timeout=2).close()
        return True
    except psycopg.Error:
        return False


CANDIDATES = 4  # candidates a job makes in the stack's workers


class Stack:
    def __init__(self, tmp: Path, broker_env: dict[str, str], **settings: str) -> None:
        import psycopg

        self.tmp = tmp
        self.database = f"headshots_it_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        base = ADMIN_URL.rsplit("/", 1)[0]
        self.database_url = f"{base}/{self.database}"
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HEADSHOTS_", "DJANGO_", "REDIS_", "RABBITMQ_", "DATABASE_"))
        }
        self.env = {
            **inherited,
            "DJANGO_SETTINGS_MODULE": "headshots_portal.settings.base",
            "DATABASE_URL": self.database_url,
            "HEADSHOTS_VAR_DIR": str(tmp / "var"),
            "HEADSHOTS_MODEL_DIR": str(ROOT / "var" / "models"),
            "HEADSHOTS_MIN_USABLE_PHOTOS": "3",
            "HEADSHOTS_STUDIO_CANDIDATES": str(CANDIDATES),
            "HEADSHOTS_JOB_LEASE_S": "3",
            "HEADSHOTS_REDIS_HEARTBEAT_TIMEOUT_MS": "3000",
            "HEADSHOTS_REDIS_MAINTENANCE_CHANCE": "1000000",  # on every command
            "PYTHONPATH": str(ROOT),
            **broker_env,
            **settings,
        }
        self.workers: list[subprocess.Popen[bytes]] = []
        self.manage("migrate", "--noinput", "-v0")

    # -- processes -----------------------------------------------------------------------------
    def _run(self, argv: list[str], what: str) -> str:
        result = subprocess.run(
            [sys.executable, *argv],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode:
            raise AssertionError(f"{what} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def manage(self, *args: str) -> str:
        return self._run(["manage.py", *args], f"manage.py {' '.join(args)}")

    def script(self, code: str) -> Any:
        """Run Python with Django set up in this deployment; the last stdout line is JSON."""
        output = self._run(["-c", PRELUDE + code], "script")
        lines = [line for line in output.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else None

    def start_worker(self, *queues: str, **env: str) -> subprocess.Popen[bytes]:
        """``env``: this worker's own settings (another host's local directory, say)."""
        log = (self.tmp / f"worker-{len(self.workers)}.log").open("wb")
        command = [sys.executable, "manage.py", "rundramatiq", "--processes", "1", "--threads", "2"]
        if queues:
            command += ["--queues", *queues]
        worker = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """The worker's whole process group (the dramatiq main process and its children)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, sig)
        worker.wait(timeout=60)

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-4000:] for p in sorted(self.tmp.glob("worker-*.log"))
        )

    # -- the database, read directly ---------------------------------------------------------------
    def sql(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return list(conn.execute(query, params).fetchall())

    def wait_for(self, what: str, predicate: Callable[[], Any], timeout_s: float = 120.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}\n--- worker logs ---\n{self.logs()}")

    def job(self, job_id: int) -> dict[str, Any]:
        (row,) = self.sql(
            "SELECT status, attempts, stage, error, worker FROM generation_generationjob WHERE id = %s",
            job_id,
        )
        return dict(zip(("status", "attempts", "stage", "error", "worker"), row, strict=True))

    def headshot_files(self, job_id: int) -> tuple[int, int]:
        """(candidate rows, image files in storage) of a job."""
        rows = self.sql("SELECT count(*) FROM generation_headshot WHERE job_id = %s", job_id)[0][0]
        files = list((self.tmp / "var" / "media").glob(f"org-*/employee-*/jobs/{job_id}/*.jpg"))
        return rows, len(files)

    # -- the journey ---------------------------------------------------------------------------------
    def enrolled_employee(self) -> dict[str, int]:
        """A company and an employee whose selfies were uploaded (checks queued on `cpu`)."""
        return self.script(
            f"""
from pathlib import Path
from pipeline.tools import samples
from tests.apps.factories import company, upload
from tests.apps.conftest import USABLE
photos = {{name: data for name, data, _ in samples.selfie_set(Path({str(ROOT / "var" / "samples")!r}))}}
c = company("Acme", "acme.example")
for name in USABLE:
    upload(c, photos[name])
print(json.dumps({{"org": c.org.pk, "employee": c.employee.pk}}))
"""
        )

    def photos_checked(self, employee: int) -> bool:
        rows = self.sql(
            "SELECT count(*) FROM photos_photo WHERE employee_id = %s AND status = 'usable'",
            employee,
        )
        return rows[0][0] >= 3

    def start_job(self) -> int:
        return self.script(
            """
from apps.generation.services import generation_job_create
from tests.apps.factories import Company
from apps.organizations.models import EmployeeProfile
employee = EmployeeProfile.objects.select_related("organization", "user").get()
from apps.presets.selectors import preset_get
job = generation_job_create(
    organization=employee.organization,
    actor=employee.user,
    employee=employee,
    preset=preset_get(organization=employee.organization, slug="corporate-executive"),
)
print(json.dumps(job.pk))
"""
        )

    def close(self) -> None:
        import psycopg

        for worker in self.workers:
            if worker.poll() is None:
                self.kill_worker(worker, signal.SIGTERM)
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
