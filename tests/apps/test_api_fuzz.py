"""Schemathesis generates requests from the OpenAPI schema, valid and invalid, for every
operation, sent with HR's company token and as a signed-in employee: none may answer
with a server error."""

from __future__ import annotations

import contextlib

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from apps.organizations.tokens import SCOPES, api_token_create
from tests.apps.factories import company

EXAMPLES = 25


@contextlib.contextmanager
def connection_kept():
    """The app is called through its real WSGI handler, which closes the database
    connection around each request; inside the test's transaction the connection must
    stay (Django's own test client does the same, and reconnects the closing when its
    own request ends, so this wraps only the fuzzing)."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_operation_answers_with_a_server_error(db):
    from django.conf import settings as django_settings
    from django.core.wsgi import get_wsgi_application
    from django.test import Client

    c = company("Fuzz", "fuzz.example")
    _, token = api_token_create(organization=c.org, actor=c.hr, name="fuzz", scopes=sorted(SCOPES))
    browser = Client()
    browser.force_login(c.employee_user)  # the person's own operations (selfies, pick)
    browser.get(f"/o/{c.org.slug}/me/consent/")  # a page with a form sets the CSRF cookie
    session = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    csrf = browser.cookies[django_settings.CSRF_COOKIE_NAME].value
    # (headers, cookies) of each caller
    callers = [
        ({"Authorization": f"Bearer {token}"}, {}),
        (
            {"X-CSRFToken": csrf},
            {django_settings.SESSION_COOKIE_NAME: session, django_settings.CSRF_COOKIE_NAME: csrf},
        ),
    ]
    with connection_kept():
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    calls: dict[str, int] = {}
    seen: set[tuple[int, str, int]] = set()
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:  # type: ignore[no-untyped-def]
                if "org" in (case.path_parameters or {}):
                    case.path_parameters["org"] = c.org.slug  # past the company's 404
                for index, (headers, cookies) in enumerate(callers):
                    case.cookies = cookies
                    response = case.call(headers=headers)
                    calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
                    seen.add((index, case.operation.label, response.status_code))
                    case.validate_response(response, checks=[not_a_server_error])

            with connection_kept():
                run()
    assert len(calls) == len(operations)
    # both callers got past authentication: HR's token listed people, the person's
    # session reached the upload (an answer about the file, not about who they are)
    assert (0, "GET /api/v1/organizations/{org}/employees/", 200) in seen
    uploads = {
        code
        for who, label, code in seen
        if who == 1 and label.startswith("POST") and "me/photos" in label
    }
    assert uploads & {200, 201, 400, 409}, uploads


def test_every_list_and_detail_answer_matches_the_schema(approved, run_jobs):
    """What a client generated from the schema expects is what comes back: each list
    operation's page (count, next, previous, results), each detail's object, checked by
    schemathesis against the response schemas (status codes, content types, bodies)."""
    from django.core.wsgi import get_wsgi_application
    from schemathesis.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    c, headshot = approved
    run_jobs()
    _, token = api_token_create(organization=c.org, actor=c.hr, name="conf", scopes=sorted(SCOPES))
    with connection_kept():
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    known = {
        "/jobs/{id}/": headshot.job_id,
        "/jobs/{id}/headshots/": headshot.job_id,
        "/headshots/{id}/": headshot.pk,
        "/employees/{id}/": c.employee.pk,
    }
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or operation.path.endswith("/image/"):
            continue
        suffix = operation.path.split("{org}", 1)[-1]
        params = {"org": c.org.slug}
        if "{id}" in suffix:
            if suffix not in known:
                continue
            params["id"] = known[suffix]
        case = operation.Case(
            path_parameters=params, query={"limit": 2} if "{id}" not in suffix else {}
        )
        with connection_kept():
            response = case.call(
                headers={"Authorization": f"Bearer {token}"}, app=get_wsgi_application()
            )
        if response.status_code == 403:  # an operation for signed-in people only
            continue
        assert response.status_code == 200, (operation.label, response.status_code)
        case.validate_response(
            response,
            checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
        )
        body = response.json()
        if "{id}" not in suffix:
            assert set(body) == {"count", "next", "previous", "results"}, operation.label
        checked.append(operation.label)
    assert len(checked) >= 10, checked
