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


# -- server-side request forgery: what a hostile company could point its webhook at -------------
def _server(status: int, headers: dict[str, str] | None = None):
    """A receiver on loopback answering every request with ``status``; returns (url, hits)."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            hits.append(self.command)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_HEAD = _answer  # noqa: N815 - the http.server interface

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/", hits


def test_a_redirect_is_never_followed(acme, settings):
    settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = True  # the receiver itself is on loopback
    inside, inside_url, inside_hits = _server(200)
    outside, outside_url, outside_hits = _server(302, {"Location": inside_url + "admin"})
    try:
        webhook_endpoint_create(
            organization=acme.org, actor=acme.hr, url=outside_url, events=["job.finished"]
        )
        webhook_emit(organization=acme.org, event="job.finished", data={})
        with pytest.raises(DeliveryFailed):
            webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)
    finally:
        inside.shutdown()
        outside.shutdown()
    assert outside_hits and not inside_hits
    delivery = WebhookDelivery.objects.get()
    assert delivery.status != DeliveryStatus.SUCCEEDED
    assert delivery.last_error == "the receiver answered 302; redirects are not followed"


def test_a_dns_answer_that_changes_after_the_check_is_not_followed(acme, settings, monkeypatch):
    """DNS rebinding: the name resolves to a public address when checked and to loopback
    when called. The call goes to the address that was checked."""
    import socket

    inside, inside_url, inside_hits = _server(200)
    port = inside.server_port
    answers = iter(["93.184.216.34"] + ["127.0.0.1"] * 10)
    connected_to: list[tuple] = []

    def rebinding(host, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    def refuse(address, *args, **kwargs):  # the test machine has no way out: note and fail
        connected_to.append(address)
        raise ConnectionRefusedError("no route")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", refuse)
    from apps.webhooks import transport

    try:
        code, error = transport.post(
            f"https://hooks.example:{port}/x", b"{}", {}, allow_private=False
        )
    finally:
        inside.shutdown()
    assert connected_to == [("93.184.216.34", port)] and not inside_hits
    assert code is None and error == "no answer from the receiver"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space
        "0.0.0.0",  # noqa: S104 - refused as a target, nothing binds to it
        "::1",
        "fd12::1",
        "fe80::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
    ],
)
def test_private_addresses_are_refused_in_every_form(acme, settings, address):
    settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = False
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(ValidationFailed, match="public address"):
        webhook_endpoint_create(
            organization=acme.org,
            actor=acme.hr,
            url=f"https://{host}/hook",
            events=["job.finished"],
        )


def test_public_addresses_stay_allowed():
    import ipaddress

    from apps.webhooks.transport import is_public

    for address in (
        "93.184.216.34",
        "2606:2800:220:1::",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",
    ):
        assert is_public(ipaddress.ip_address(address)), address


def test_the_delivery_log_cannot_tell_a_closed_port_from_an_open_one(acme, settings):
    """Errors in the log are coarse: the log is no port scanner."""
    import socket

    settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = True
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    talker = socket.socket()  # accepts, says something that is not HTTP, hangs up
    talker.bind(("127.0.0.1", 0))
    talker.listen(4)

    def babble():
        for _ in range(4):
            try:
                conn, _ = talker.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
            conn.close()

    threading.Thread(target=babble, daemon=True).start()
    errors = []
    for port in (closed_port, talker.getsockname()[1]):
        WebhookDelivery.objects.all().delete()
        from apps.webhooks.models import WebhookEndpoint

        WebhookEndpoint.objects.all().delete()
        webhook_endpoint_create(
            organization=acme.org,
            actor=acme.hr,
            url=f"http://127.0.0.1:{port}/",
            events=["job.finished"],
        )
        webhook_emit(organization=acme.org, event="job.finished", data={})
        with pytest.raises(DeliveryFailed):
            webhook_deliver(delivery_id=WebhookDelivery.objects.get().pk)
        errors.append(WebhookDelivery.objects.get().last_error)
    talker.close()
    assert errors[0] == errors[1] == "no answer from the receiver"
