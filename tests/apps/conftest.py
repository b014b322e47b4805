from __future__ import annotations

import pytest

from apps.photos.models import PhotoStatus
from tests.apps.factories import company, start_job, upload

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
