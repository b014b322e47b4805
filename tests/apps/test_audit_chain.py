"""The audit log is a hash chain: any change, removal or insertion is found."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit.models import AuditEvent
from apps.audit.services import GENESIS, audit_chain_verify, audit_record


@pytest.fixture
def chained(acme, globex):
    for index in range(5):
        audit_record(
            organization=acme.org,
            actor=acme.hr,
            action="test.event",
            target=acme.org,
            data={"n": index, "name": "Zoë"},
        )
    audit_record(organization=globex.org, actor=None, action="test.event", target=globex.org)
    return acme


def test_each_company_has_an_intact_chain(chained, globex):
    events = list(AuditEvent.objects.filter(organization=chained.org).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[0].previous_hash == GENESIS
    assert all(b.previous_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert audit_chain_verify(organization=chained.org).ok
    assert audit_chain_verify(organization=globex.org).ok  # chains are per company


def test_a_changed_event_is_found(chained):
    target = AuditEvent.objects.filter(organization=chained.org, action="test.event").order_by(
        "sequence"
    )[2]
    AuditEvent.objects.filter(pk=target.pk).update(data={"n": 99, "name": "Zoë"})
    report = audit_chain_verify(organization=chained.org)
    assert not report.ok and report.broken_at == target.sequence and "changed" in report.reason


def test_a_removed_event_is_found(chained):
    target = AuditEvent.objects.filter(organization=chained.org).order_by("sequence")[1]
    AuditEvent.objects.filter(pk=target.pk).delete()
    report = audit_chain_verify(organization=chained.org)
    assert not report.ok and report.broken_at == target.sequence and "missing" in report.reason


def test_events_cannot_be_changed_or_deleted_through_the_model(chained):
    event = AuditEvent.objects.filter(organization=chained.org).first()
    event.action = "something.else"
    with pytest.raises(ValueError, match="never changed"):
        event.save()
    with pytest.raises(ValueError, match="never deleted"):
        event.delete()


def test_the_command_verifies_and_exports(chained):
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "chain intact" in out.getvalue()
    export = io.StringIO()
    call_command("audit", "export", "--company", chained.org.slug, stdout=export)
    lines = [json.loads(line) for line in export.getvalue().splitlines()]
    assert [line["sequence"] for line in lines] == list(range(1, len(lines) + 1))
    assert lines[-1]["data"] == {"n": 4, "name": "Zoë"}
    AuditEvent.objects.filter(organization=chained.org, sequence=2).update(actor_label="someone")
    with pytest.raises(CommandError, match=chained.org.slug):
        call_command("audit", "verify", stdout=io.StringIO())


def test_the_page_checks_new_events_on_each_view_and_the_whole_chain_each_hour(
    chained, monkeypatch
):
    from django.core.cache import cache

    from apps.audit import services

    cache.clear()
    first = services.audit_chain_checked(organization=chained.org)
    assert first.ok and first.events == AuditEvent.objects.filter(organization=chained.org).count()
    audit_record(organization=chained.org, actor=None, action="test.later", target=chained.org)
    later = services.audit_chain_checked(organization=chained.org)
    assert later.ok and later.events == first.events + 1
    # an event after the last link found good is checked on the next view
    audit_record(organization=chained.org, actor=None, action="test.last", target=chained.org)
    AuditEvent.objects.filter(organization=chained.org, action="test.last").update(data={"x": 1})
    broken = services.audit_chain_checked(organization=chained.org)
    assert not broken.ok and "changed" in broken.reason
    AuditEvent.objects.filter(organization=chained.org, action="test.last").update(data={})
    assert services.audit_chain_checked(organization=chained.org).ok
    # an old event changed in the database: found at the latest when the hour is over
    oldest = AuditEvent.objects.filter(organization=chained.org).order_by("sequence").first()
    AuditEvent.objects.filter(pk=oldest.pk).update(actor_label="somebody else")
    assert services.audit_chain_checked(organization=chained.org).ok  # within the hour
    now = services.time.time()
    monkeypatch.setattr(services.time, "time", lambda: now + services.FULL_CHECK_EVERY_S + 1)
    late = services.audit_chain_checked(organization=chained.org)
    assert not late.ok and late.broken_at == oldest.sequence
