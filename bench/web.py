"""The web process under load, through gunicorn on loopback (needs PostgreSQL and Redis
there, like bench.jobs; it makes and drops a database of its own).

python -m bench.web [--clients 50] [--seconds 10] [--uploaders 20] [--photos 10]

1. Latency: ``clients`` concurrent clients, each signed in as a different person, poll
   their job's status (GET /api/v1/.../jobs/<id>/) and gallery (.../jobs/<id>/headshots/)
   as fast as they can, beside the same load on /healthz (a database ping through the
   same stack: the baseline). p50 and p99 of each, and the ratio to the baseline.
2. Upload memory: ``uploaders`` people each upload ``photos`` JPEGs of about 8 MB at
   once; the resident memory of all gunicorn processes is sampled every 50 ms. Reported:
   idle, peak, peak minus idle, and the bytes uploaded.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.jobs import scratch_environment
from bench.run import RESULTS, save

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 3
THREADS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(people: int) -> tuple[Any, list[dict[str, Any]]]:
    """A company whose people each have a finished job with four candidates."""
    import numpy as np
    from django.utils import timezone

    from apps.core.storage import private_save
    from apps.generation.models import GenerationJob, Headshot, JobStatus
    from apps.organizations.models import EmployeeProfile, EmployeeStatus, Membership, Role
    from apps.photos.selectors import consent_text_current
    from apps.photos.services import consent_give
    from apps.presets.selectors import preset_version_latest
    from pipeline.imaging import encode
    from tests.apps.factories import company, user

    c = company("Bench", "bench.example")
    version = preset_version_latest(organization=c.org, preset=c.preset())
    image = encode(np.full((1280, 1024, 3), 128, dtype=np.uint8))
    stored = private_save(f"org-{c.org.pk}/bench", image, suffix=".jpg")
    clients = []
    for index in range(people):
        person = user(f"person{index}@bench.example")
        Membership.objects.create(organization=c.org, user=person, role=Role.EMPLOYEE)
        employee = EmployeeProfile.objects.create(
            organization=c.org,
            user=person,
            full_name=f"Person {index}",
            email=f"person{index}@bench.example",
            status=EmployeeStatus.ACTIVE,
        )
        consent_give(
            organization=c.org,
            employee=employee,
            actor=person,
            text_version=consent_text_current(organization=c.org).version,
        )
        job = GenerationJob.objects.create(
            organization=c.org,
            employee=employee,
            preset_version=version,
            base_seed=index,
            status=JobStatus.SUCCEEDED,
            progress=100,
            stage="done",
            finished_at=timezone.now(),
        )
        for rank in range(1, 5):
            Headshot.objects.create(
                organization=c.org,
                job=job,
                employee=employee,
                key=f"c{rank}",
                image=stored,
                seed=rank,
                backend="bench",
                scores={"identity": 0.9},
                total_score=0.9,
                accepted=True,
                rank=rank,
            )
        clients.append({"session": signed_in(person), "job": job.pk, "employee": employee})
    return c, clients


def signed_in(person: Any) -> str:
    """A session key signing ``person`` in, as the sign-in page would make it."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session["_auth_user_id"] = str(person.pk)
    session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
    session["_auth_user_hash"] = person.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def serve(
    port: int, env: dict[str, str], workers: int = WORKERS, threads: int = THREADS
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(  # noqa: S603 - our own server
        [
            sys.executable,
            "-m",
            "gunicorn",
            "headshots_portal.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def load(port: int, paths: list[tuple[str, str]], seconds: float) -> dict[str, list[float]]:
    """Each (path, session) is one client on its own keep-alive connection."""
    latencies: dict[str, list[float]] = {}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    failures: list[BaseException] = []

    def client(path: str, session: str, label: str) -> None:
        try:
            measure(path, session, label)
        except BaseException as error:  # a thread's error would otherwise pass unseen
            failures.append(error)

    def measure(path: str, session: str, label: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        headers = {"Cookie": f"sessionid={session}", "Host": "localhost"}
        while time.monotonic() < stop:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.setdefault(label, []).extend(mine)

    threads = [
        threading.Thread(target=client, args=(p, s, label))
        for (p, s), label in zip(paths, [label_of(p) for p, _ in paths], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return latencies


WRK_SCRIPT = """
local pairs = {%s}
local i = 0
request = function()
  i = i %% #pairs + 1
  return wrk.format("GET", pairs[i][1], {["Cookie"] = "sessionid=" .. pairs[i][2], ["Host"] = "localhost"})
end
done = function(summary, latency, requests)
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%d\\n", summary.requests, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, socket))
end
"""


def load_wrk(port: int, paths: list[tuple[str, str]], seconds: float) -> dict[str, float]:
    """The same load from wrk (C, two threads, one connection per client): the client costs
    far less CPU than the server, so the figures are the server's on this machine."""
    pairs = ", ".join(f'{{"{path}", "{session}"}}' for path, session in paths)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % pairs)
    try:
        out = subprocess.run(  # noqa: S603 - a fixed program
            [
                shutil.which("wrk") or "wrk",
                "-t",
                str(min(2, len(paths))),
                "-c",
                str(len(paths)),
                "-d",
                f"{round(seconds)}s",
                "--timeout",
                "30s",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, bad_status, p50, p99, socket_errors = line.split()[1:]
    if int(bad_status) or int(socket_errors):
        raise RuntimeError(f"wrk saw {bad_status} bad answers and {socket_errors} socket errors")
    return {
        "requests": int(requests),
        "per_second": round(int(requests) / seconds),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
    }


def label_of(path: str) -> str:
    if path.startswith("/healthz"):
        return "healthz"
    return "gallery" if path.endswith("/headshots/") else "job_status"


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "requests": len(ordered),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2),
    }


def rss_of_tree(pid: int) -> int:
    """Resident bytes of a process and its children (gunicorn's master and workers)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def big_jpeg(seed: int) -> bytes:
    """A real 12-megapixel photo of about 8 MB: the sample portrait enlarged, with grain."""
    import numpy as np
    from PIL import Image

    from pipeline.tools import samples

    base = Image.open(samples.astronaut()).convert("RGB").resize((4000, 3000))
    pixels = np.asarray(base).astype(np.int16)
    rng = np.random.default_rng(seed)
    pixels = np.clip(pixels + rng.integers(-40, 41, pixels.shape), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=95)
    return out.getvalue()


def small_jpeg() -> bytes:
    from PIL import Image

    from pipeline.tools import samples

    out = io.BytesIO()
    Image.open(samples.astronaut()).convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def uploads(
    port: int, org: str, people: list[dict[str, Any]], photos: int, pid: int
) -> dict[str, Any]:

    files = [big_jpeg(i) for i in range(photos)]
    # every worker imports its image libraries on its first upload: warm them all with a
    # small photo each before "idle" is read, so the peak counts only what uploads hold
    _send_all(port, org, people[: WORKERS * 4], [small_jpeg()])
    idle = rss_of_tree(pid)
    peak = [idle]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_of_tree(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    _send_all(port, org, people, files)
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    uploaded = sum(len(f) for f in files) * len(people)
    return {
        "uploaders": len(people),
        "photos_each": photos,
        "photo_mb": round(len(files[0]) / 1e6, 1),
        "uploaded_mb": round(uploaded / 1e6),
        "seconds": round(elapsed, 1),
        "idle_rss_mb": round(idle / 1e6),
        "peak_rss_mb": round(peak[0] / 1e6),
        "peak_over_idle_mb": round((peak[0] - idle) / 1e6),
    }


def _send_all(port: int, org: str, people: list[dict[str, Any]], files: list[bytes]) -> None:
    """Each person uploads the files on a connection of their own, all at once."""
    failures: list[BaseException] = []

    def send(client: dict[str, Any]) -> None:
        try:
            _send(port, org, client, files)
        except BaseException as error:  # a thread's error would otherwise pass unseen
            failures.append(error)

    threads = [threading.Thread(target=send, args=(c,)) for c in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def _send(port: int, org: str, client: dict[str, Any], files: list[bytes]) -> None:
    import base64

    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret  # noqa: PLC2701

    secret = _get_new_csrf_string()
    token = _mask_cipher_secret(secret)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    for index, data in enumerate(files):
        # each upload differs from every other one (a comment segment with a random tag)
        tag = base64.b16encode(uuid.uuid4().bytes[:6])
        data = data[:2] + b"\xff\xfe\x00\x0e" + tag + data[2:]
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; '
                f'filename="p{index}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        conn.request(
            "POST",
            f"/o/{org}/me/photos/upload/",
            body=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Cookie": f"sessionid={client['session']}; csrftoken={secret}",
                "X-CSRFToken": token,
                "Host": "localhost",
                "Referer": "http://localhost/",
            },
        )
        response = conn.getresponse()
        answer = response.read()
        if response.status not in (200, 201):
            raise RuntimeError(f"upload answered {response.status}: {answer[:200]!r}")
    conn.close()


def measure_latency(
    port: int, org: str, people: list[dict[str, Any]], seconds: float
) -> tuple[str, dict[str, dict[str, float]]]:
    """(the load client used, p50/p99 of job status, gallery and the /healthz baseline)."""
    base = f"/api/v1/organizations/{org}/jobs"
    status = [(f"{base}/{p['job']}/", p["session"]) for p in people]
    gallery = [(f"{base}/{p['job']}/headshots/", p["session"]) for p in people]
    healthz = [("/healthz", p["session"]) for p in people]
    load(port, status[:2] + gallery[:2], 1.0)  # warm every worker
    if shutil.which("wrk"):
        client = "wrk"
        latency = {
            "job_status": load_wrk(port, status, seconds),
            "gallery": load_wrk(port, gallery, seconds),
            "healthz": load_wrk(port, healthz, seconds),
        }
    else:  # the Python client: its own CPU use weighs on the figures
        client = "python-threads"
        mixed = [status[i] if i % 2 == 0 else gallery[i] for i in range(len(people))]
        measured = {**load(port, mixed, seconds), **load(port, healthz, seconds)}
        latency = {k: percentiles(v) for k, v in measured.items()}
    for label in ("job_status", "gallery"):
        latency[label]["p50_vs_healthz"] = round(
            latency[label]["p50_ms"] / latency["healthz"]["p50_ms"], 2
        )
    return client, latency


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--uploaders", type=int, default=20)
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn's processes")
    parser.add_argument("--threads", type=int, default=THREADS, help="threads per process")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with scratch_environment():
        os.environ["HEADSHOTS_UPLOADS_PER_HOUR"] = "100000"
        c, people = seed(max(args.clients, args.uploaders))
        from django.db import connections

        connections.close_all()
        port = free_port()
        env = {**os.environ, "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1", "PYTHONPATH": str(ROOT)}
        server = serve(port, env, args.workers, args.threads)
        try:
            load_client, latency = measure_latency(
                port, c.org.slug, people[: args.clients], args.seconds
            )
            memory = uploads(port, c.org.slug, people[: args.uploaders], args.photos, server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    record = {
        "clients": args.clients,
        "load_client": load_client,
        "workers": args.workers,
        "threads": args.threads,
        "latency": latency,
        "uploads": memory,
    }
    import json

    print(json.dumps(record, indent=2))
    save("web", record, args.results)
    return record


if __name__ == "__main__":
    main()
