"""Signed webhooks to a receiver on loopback: signature, retries, delivery log."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from apps.core.errors import PermissionDenied, ValidationFailed
from apps.webhooks.models import DeliveryStatus, WebhookDelivery
from apps.webhooks.services import (
    DeliveryFailed,
    verify,
    webhook_deliver,
    webhook_emit,
    webhook_endpoint_create,
)


@pytest.fixture
def receiver(settings):
    settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = True
    received: list[dict] = []
    answers: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server interface
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": body})
            self.send_response(answers.pop(0) if answers else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hooks", received, answers
    server.shutdown()


def test_an_event_arrives_signed_and_is_logged(acme, receiver, run_jobs):
    url, received, _ = receiver
    endpoint, secret = webhook_endpoint_create(
        organization=acme.org, actor=acme.hr, url=url, events=["headshot.published"]
    )
    assert (
        webhook_emit(organization=acme.org, event="headshot.published", data={"headshot": 7}) == 1
    )
    run_jobs()
    (request,) = received
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-headshots-event"] == "headshot.published"
    assert verify(secret, headers["x-headshots-signature"], request["body"])
    assert not verify("another-secret", headers["x-headshots-signature"], request["body"])
    assert not verify(secret, headers["x-headshots-signature"], request["body"] + b" ")
    payload = json.loads(request["body"])
    assert payload["data"] == {"headshot": 7} and payload["id"] == headers["x-headshots-delivery"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.last_status_code == 204
    assert delivery.endpoint == endpoint


def test_a_refused_delivery_is_retried_then_succeeds(acme, receiver):
    url, received, answers = receiver
    webhook_endpoint_create(
        organization=acme.org, actor=acme.hr, url=url, events=["headshot.published"]
    )
    webhook_emit(organization=acme.org, event="headshot.published", data={})
    delivery = WebhookDelivery.objects.get()
    answers.append(503)
    with pytest.raises(DeliveryFailed, match="503"):
        webhook_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    webhook_deliver(delivery_id=delivery.pk)  # the retry
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    first, second = received
    assert first["headers"]["X-Headshots-Delivery"] == second["headers"]["X-Headshots-Delivery"]


def test_a_signature_too_old_is_refused_by_the_receiver():
    from apps.webhooks.services import sign

    header = sign("s3cret", b"{}", 1_000_000)
    assert verify("s3cret", header, b"{}", now=1_000_100)
    assert not verify("s3cret", header, b"{}", now=1_000_000 + 3600)


def test_endpoints_are_for_hr_and_never_point_inside_the_network(acme, settings):
    with pytest.raises(PermissionDenied):
        webhook_endpoint_create(
            organization=acme.org,
            actor=acme.employee_user,
            url="https://example.com/h",
            events=["headshot.published"],
        )
    settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = False
    for url in ("http://127.0.0.1:8000/admin", "https://10.0.0.5/x", "file:///etc/passwd"):
        with pytest.raises(ValidationFailed):
            webhook_endpoint_create(
                organization=acme.org, actor=acme.hr, url=url, events=["headshot.published"]
            )
    with pytest.raises(ValidationFailed, match="Choose events"):
        webhook_endpoint_create(
            organization=acme.org, actor=acme.hr, url="https://example.com", events=["x"]
        )


def test_publishing_a_card_emits_headshot_published(approved, receiver, run_jobs):
    from apps.publishing.models import PublicationTarget
    from apps.publishing.services import publication_request

    url, received, _ = receiver
    c, headshot = approved
    webhook_endpoint_create(organization=c.org, actor=c.hr, url=url, events=["headshot.published"])
    publication_request(
        organization=c.org, actor=c.hr, headshot=headshot, target=PublicationTarget.BUSINESS_CARD
    )
    run_jobs()
    (request,) = received
    payload = json.loads(request["body"])
    assert payload["event"] == "headshot.published" and payload["data"]["headshot"] == headshot.pk
    assert payload["data"]["target"] == "business_card"


def test_a_finished_job_and_an_approval_emit_their_events(ready, receiver, run_jobs):
    from apps.generation.services import headshot_approve, headshot_pick
    from tests.apps.factories import start_job

    c = ready
    url, received, _ = receiver
    _, secret = webhook_endpoint_create(
        organization=c.org, actor=c.hr, url=url, events=["job.finished", "headshot.approved"]
    )
    job = start_job(c)
    run_jobs()
    finished = [json.loads(r["body"]) for r in received]
    assert [e["event"] for e in finished] == ["job.finished"]
    assert finished[0]["data"]["job"] == job.pk and finished[0]["data"]["status"] == "succeeded"
    assert finished[0]["data"]["accepted_candidates"] >= 1
    best = headshot_pick(
        organization=c.org, actor=c.employee_user, headshot=job.headshots.get(rank=1)
    )
    headshot_approve(organization=c.org, actor=c.hr, headshot=best)
    run_jobs()
    approved = json.loads(received[-1]["body"])
    assert approved["event"] == "headshot.approved" and approved["data"]["headshot"] == best.pk
    assert verify(secret, received[-1]["headers"]["X-Headshots-Signature"], received[-1]["body"])
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2
