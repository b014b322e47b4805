"""Hosts that share no disk: the web side and a GPU-queue worker with its own empty local
directory, PostgreSQL, Redis, and an S3-compatible bucket (moto on loopback). The worker
completes a job through the bucket alone, and a purge leaves nothing in it."""

from __future__ import annotations

import os

import pytest

from tests.integration.harness import CANDIDATES, Stack, postgres_available
from tests.integration.test_brokers import REDIS_URL, finished, redis_up
from tests.storage.s3 import running_bucket

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not postgres_available(),
        reason="the integration tests need PostgreSQL on loopback (TEST_DATABASE_ADMIN_URL)",
    ),
]


def test_a_worker_on_another_host_completes_a_job_through_the_bucket(tmp_path):
    if not redis_up(REDIS_URL):
        pytest.skip(f"no Redis at {REDIS_URL}")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with running_bucket() as bucket:
        stack = Stack(tmp_path / "web", {"REDIS_URL": REDIS_URL}, **bucket.settings)
        try:
            person = stack.enrolled_employee()  # the web host: selfies into the bucket
            elsewhere = tmp_path / "gpu-host"
            os.makedirs(elsewhere)
            stack.start_worker(HEADSHOTS_VAR_DIR=str(elsewhere))
            stack.wait_for("the photo checks", lambda: stack.photos_checked(person["employee"]))
            job = stack.start_job()
            stack.wait_for("the job", lambda: finished(stack, job), timeout_s=240)
            state = stack.job(job)
            assert state["status"] == "succeeded", state["error"] + stack.logs()
            prefix = f"org-{person['org']}/employee-{person['employee']}/"
            assert len(bucket.keys(f"{prefix}jobs/{job}/")) == CANDIDATES
            # neither host kept a file of its own: everything is in the bucket
            for host in (tmp_path / "web" / "var", elsewhere):
                assert not list(host.rglob("*.jpg*")), host
            stack.script(
                f"""
from django.db import transaction
from apps.organizations.models import EmployeeProfile
from apps.organizations.personal_data import personal_data_delete
employee = EmployeeProfile.objects.select_related("organization", "user").get(pk={person["employee"]})
personal_data_delete(organization=employee.organization, employee=employee, actor=employee.user)
print("null")
"""
            )
            assert bucket.versions(prefix) == []
        finally:
            stack.close()
