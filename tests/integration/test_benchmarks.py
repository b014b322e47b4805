"""The service benchmarks run, briefly, so that they keep measuring the portal as it is
(two of them had been measuring refusals and a failed job). Each runs as `make bench`
runs it: a process of its own against PostgreSQL and Redis on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.harness import ADMIN_URL, postgres_available
from tests.integration.test_brokers import redis_up

ROOT = Path(__file__).resolve().parents[2]
BENCH_REDIS = "redis://127.0.0.1:6379/14"  # the benchmarks' own database, emptied by them

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not postgres_available(),
        reason="the integration tests need PostgreSQL on loopback (TEST_DATABASE_ADMIN_URL)",
    ),
]


def bench(name: str, results: Path, *args: str) -> dict:
    if not redis_up(BENCH_REDIS):
        pytest.skip(f"no Redis at {BENCH_REDIS}")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "RABBITMQ_", "DJANGO_SETTINGS"))
    }
    env.update(TEST_DATABASE_ADMIN_URL=ADMIN_URL, TEST_REDIS_URL=BENCH_REDIS, PYTHONPATH=str(ROOT))
    done = subprocess.run(  # noqa: S603 - our own benchmark
        [sys.executable, "-m", f"bench.{name}", "--results", str(results), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(results.read_text())


def test_the_job_machinery_benchmark_completes_its_jobs(tmp_path):
    record = bench("jobs", tmp_path / "r.json", "--jobs", "5", "--threads", "2")["job_machinery"]
    assert record["machinery"]["jobs"] == 5 and record["machinery"]["jobs_per_s"] > 0
    assert record["upload_to_first_candidate"]["first_candidate_s"] > 0


def test_the_web_benchmark_is_answered_by_signed_in_people(tmp_path):
    record = bench(
        "web",
        tmp_path / "r.json",
        *("--clients", "4", "--seconds", "1", "--uploaders", "2", "--photos", "1"),
    )["web"]
    for name in ("job_status", "gallery", "healthz"):
        assert record["latency"][name]["requests"] > 0  # every answer a 200, or it fails
    assert record["uploads"]["uploaded_mb"] > 0


def test_the_large_company_benchmark_loads_every_page_and_syncs_nothing(tmp_path):
    record = bench("people", tmp_path / "r.json", "--people", "45", "--seconds", "1")["people"]
    assert {"dashboard", "approvals", "audit", "api_employees"} <= set(record["latency"])
    rerun = record["directory_unchanged_rerun"]
    assert rerun["people"] == 45 and rerun["person_record_writes"] == 0
