"""The job machinery against real brokers on loopback, with real worker processes:
a job runs end to end, survives its worker being killed with SIGKILL, gives one set of
results when its message arrives twice, and is not lost when the broker restarts."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from tests.integration.harness import CANDIDATES, Stack, postgres_available

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not postgres_available(),
        reason="the integration tests need PostgreSQL on loopback (TEST_DATABASE_ADMIN_URL)",
    ),
]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")


def redis_up(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def rabbitmq_up(url: str) -> bool:
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


@pytest.fixture(params=["redis", "rabbitmq"])
def stack(request, tmp_path):
    if request.param == "redis":
        if not redis_up(REDIS_URL):
            pytest.skip(f"no Redis at {REDIS_URL}")
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env = {"REDIS_URL": REDIS_URL}
    else:
        if not rabbitmq_up(RABBITMQ_URL):
            pytest.skip(f"no RabbitMQ at {RABBITMQ_URL}")
        env = {"RABBITMQ_URL": RABBITMQ_URL}
    deployment = Stack(tmp_path, env)
    deployment.script("import dramatiq; dramatiq.get_broker().flush_all(); print('null')")
    yield deployment
    deployment.script("import dramatiq; dramatiq.get_broker().flush_all(); print('null')")
    deployment.close()


def finished(stack: Stack, job: int) -> bool:
    return stack.job(job)["status"] in {"succeeded", "failed"}


def test_a_job_survives_its_worker_killed_mid_run(stack):
    person = stack.enrolled_employee()
    worker = stack.start_worker()
    stack.wait_for("the photo checks", lambda: stack.photos_checked(person["employee"]))
    job = stack.start_job()
    stack.wait_for("the job to start", lambda: stack.job(job)["status"] == "running")
    stack.kill_worker(worker)  # SIGKILL: no cleanup, the message is never acknowledged
    assert stack.job(job)["status"] == "running"
    stack.start_worker()
    stack.wait_for("the job to finish", lambda: finished(stack, job), timeout_s=180)
    state = stack.job(job)
    assert state["status"] == "succeeded", state["error"]
    assert state["attempts"] == 2  # the killed run and the one that took over
    # one set of candidates, no leftovers
    assert stack.headshot_files(job) == (CANDIDATES, CANDIDATES)


def test_the_same_message_delivered_twice_gives_one_set_of_results(stack):
    person = stack.enrolled_employee()
    stack.start_worker()
    stack.wait_for("the photo checks", lambda: stack.photos_checked(person["employee"]))
    job = stack.start_job()
    stack.script(
        f"from apps.generation.tasks import generation_job_run_task as t; t.send({job}); print('null')"
    )
    stack.wait_for("the job to finish", lambda: finished(stack, job), timeout_s=180)
    time.sleep(3)  # the second delivery is processed too
    state = stack.job(job)
    assert state["status"] == "succeeded" and state["attempts"] == 1
    assert stack.headshot_files(job) == (CANDIDATES, CANDIDATES)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of our own (append-only persistence), so the test may restart it."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    data = tmp_path / "redis-data"
    data.mkdir()
    command = [
        server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
        "--appendonly", "yes", "--appendfsync", "always", "--save", "",
    ]  # fmt: skip

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not redis_up(f"redis://127.0.0.1:{port}/0"):
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        return process

    state = {"process": start()}

    def restart() -> None:
        state["process"].send_signal(signal.SIGTERM)
        state["process"].wait(timeout=20)
        state["process"] = start()

    yield f"redis://127.0.0.1:{port}/0", restart
    state["process"].send_signal(signal.SIGTERM)
    state["process"].wait(timeout=20)


def test_no_job_is_lost_when_the_broker_restarts(own_redis, tmp_path):
    url, restart = own_redis
    stack = Stack(tmp_path, {"REDIS_URL": url})
    try:
        person = stack.enrolled_employee()  # photo checks wait in the broker: no worker yet
        restart()
        worker = stack.start_worker()
        stack.wait_for("the photo checks", lambda: stack.photos_checked(person["employee"]))
        stack.kill_worker(worker, signal.SIGTERM)
        job = stack.start_job()  # waits in the broker
        restart()
        restart()
        stack.start_worker()
        stack.wait_for("the job to finish", lambda: finished(stack, job), timeout_s=180)
        assert stack.job(job)["status"] == "succeeded"
        assert stack.headshot_files(job) == (CANDIDATES, CANDIDATES)
    finally:
        stack.close()
