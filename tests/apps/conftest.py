from __future__ import annotations

import pytest

from apps.photos.models import PhotoStatus
from tests.apps.factories import company, start_job, upload
from tests.redis_server import REDIS, RedisServer

USABLE = ["selfie-01.png", "selfie-02-mirror.jpg", "selfie-04-warm.jpg", "selfie-05-closer.jpg"]


@pytest.fixture
def acme(db):
    return company("Acme", "acme.example")


@pytest.fixture
def globex(db):
    return company("Globex", "globex.example")


@pytest.fixture
def ready(acme, selfies, run_jobs):
    """Acme's employee with usable, checked selfies: ready to generate."""
    for name in USABLE:
        upload(acme, selfies[name])
    run_jobs()
    assert acme.employee.photos.filter(status=PhotoStatus.USABLE).count() == len(USABLE)
    return acme


@pytest.fixture
def finished(ready, run_jobs):
    """A generation job that ran to the end: (company, job)."""
    from apps.generation.models import JobStatus

    job = start_job(ready)
    run_jobs()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    return ready, job


@pytest.fixture
def approved(finished):
    """The best candidate, picked by the person and approved by HR: (company, headshot)."""
    from apps.generation.services import headshot_approve, headshot_pick

    c, job = finished
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    return c, headshot_approve(organization=c.org, actor=c.hr, headshot=best)


@pytest.fixture
def directory(approved):
    """A real slapd with Pat's entry, configured as Acme's directory: (company, headshot, server)."""
    from apps.organizations.tenant_secrets import seal
    from apps.publishing.models import DirectoryConnection
    from tests.ldap.server import Directory, running_directory

    if Directory.SCHEMADIR is None:
        pytest.skip("OpenLDAP's slapd is not installed (make test installs it)")
    c, headshot = approved
    with running_directory() as server:
        server.pat = server.add_person("Pat O'Brien", c.employee.email)
        DirectoryConnection.objects.create(
            organization=c.org,
            uri=server.ldap_uri,
            start_tls=False,
            bind_dn=server.root_dn,
            bind_password_sealed=seal(server.root_pw),
            base_dn=f"ou=people,{server.suffix}",
            photo_attribute="thumbnailPhoto",
        )
        yield c, headshot, server


# Microsoft's and Google's directory services, on loopback (tests/cloud_servers.py)
@pytest.fixture
def microsoft(tmp_path, settings):
    from tests.cloud_servers import MicrosoftServer

    with MicrosoftServer(tmp_path / "ms") as server:
        settings.HEADSHOTS_MICROSOFT_LOGIN_URL = server.url
        settings.HEADSHOTS_GRAPH_URL = server.url
        settings.HEADSHOTS_DIRECTORY_CA_BUNDLE = str(server.ca_bundle)
        yield server


@pytest.fixture
def google(tmp_path, settings):
    from tests.cloud_servers import GoogleServer

    with GoogleServer(tmp_path / "google") as server:
        settings.HEADSHOTS_GOOGLE_TOKEN_URL = server.token_url
        settings.HEADSHOTS_GOOGLE_DIRECTORY_URL = server.url
        settings.HEADSHOTS_DIRECTORY_CA_BUNDLE = str(server.ca_bundle)
        yield server


_MADE: dict = {}


@pytest.fixture
def ready_headshot(request, acme):
    """Pat with an approved headshot: made by the pipeline once per session, then stored
    anew for each test from its file and its measured scores (the sync reads no more)."""
    from django.utils import timezone

    from apps.core.storage import private_read, private_save
    from apps.generation.models import GenerationJob, Headshot, HeadshotStatus
    from apps.organizations.models import EmployeeProfile, EmployeeStatus
    from apps.presets.models import BrandPresetVersion

    if not _MADE:
        c, headshot = request.getfixturevalue("approved")
        _MADE.update(image=private_read(headshot.image.name), scores=headshot.scores)
        return c, headshot
    c = acme
    EmployeeProfile.objects.filter(pk=c.employee.pk).update(status=EmployeeStatus.ACTIVE)
    job = GenerationJob.objects.create(
        organization=c.org,
        employee=c.employee,
        preset_version=BrandPresetVersion.objects.filter(organization=c.org).first(),
        base_seed=1,
        status="succeeded",
    )
    headshot = Headshot.objects.create(
        organization=c.org,
        job=job,
        employee=c.employee,
        key="a",
        image=private_save("headshots", _MADE["image"], suffix=".jpg", encrypted=True),
        seed=1,
        backend="studio",
        scores=_MADE["scores"],
        status=HeadshotStatus.APPROVED,
        decided_at=timezone.now(),
    )
    return c, headshot


@pytest.fixture
def redis_cache(settings):
    """The shared cache on a redis-server of the test's own (skipped without one)."""
    if REDIS is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{server.port}/0",
        }
    }
    yield server
    server.stop()
