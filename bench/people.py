"""A company of 10,000 people: HR's pages and the API's lists under load, through gunicorn
(PostgreSQL and Redis on loopback, like bench.web; a database of its own, dropped after).

python -m bench.people [--people 10000] [--clients 2] [--seconds 5]

The company's people are spread over every state of the journey (tests/apps/crowd.py:
consent, photos, jobs, four candidates each, picks, approvals, publications, three audit
events each). ``clients`` HR staff load each page or list as fast as they can (wrk, one
connection each; two by default, an HR team at work); /healthz under the same load is the
baseline. p50 and p99 of each.
"""

from __future__ import annotations

import argparse
import os
import signal
import time
from pathlib import Path
from typing import Any

from bench.jobs import scratch_environment
from bench.run import RESULTS, save
from bench.web import ROOT, free_port, load_wrk, serve, signed_in

PAGES = {
    "dashboard": "/o/{org}/hr/",
    "dashboard_state": "/o/{org}/hr/?state=awaiting_pick&page=3",
    "approvals": "/o/{org}/approvals/",
    "audit": "/o/{org}/hr/audit/",
    "audit_filtered": "/o/{org}/hr/audit/?action=consent.given&page=20",
    "api_employees": "/api/v1/organizations/{org}/employees/",
    "api_employees_state": "/api/v1/organizations/{org}/employees/?state=approved&offset=500",
    "api_jobs": "/api/v1/organizations/{org}/jobs/?offset=5000",
    "api_approval_queue": "/api/v1/organizations/{org}/headshots/?status=picked",
    "api_publications": "/api/v1/organizations/{org}/publications/",
    "api_audit": "/api/v1/organizations/{org}/audit-events/?offset=20000",
}


def directory_rerun(people: int) -> dict[str, Any]:
    """A company of ``people`` with approved headshots, all already in Microsoft 365: the
    hourly sync's unchanged re-run, through the portal's own code (its reads of people,
    headshots and publications; the photos compared by what was sent). Its time, requests
    (none: the client is never asked) and writes to the person records."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.organizations.tenant_secrets import seal
    from apps.publishing.cloud_sync import PHOTO_SPECS, cloud_sync
    from apps.publishing.models import (
        CloudDirectory,
        CloudKind,
        Publication,
        PublicationStatus,
        PublicationTarget,
    )
    from tests.apps.crowd import crowd
    from tests.apps.factories import company

    c = company("Directory", "directory.example")
    crowd(c, people, prefix="sync", states=("approved",))
    directory = CloudDirectory.objects.create(
        organization=c.org,
        kind="graph",
        tenant_id="tenant",
        client_id="client",
        credential_sealed=seal("never used: nothing to send"),
    )
    version = PHOTO_SPECS[CloudKind.GRAPH].version
    from apps.generation.selectors import headshots_approved_latest

    Publication.objects.bulk_create(
        [
            Publication(
                organization=c.org,
                employee=h.employee,
                headshot=h,
                target=PublicationTarget.DIRECTORY_GRAPH,
                status=PublicationStatus.SUCCEEDED,
                external_id=f"user-{h.employee_id}",
                content_hash=f"{h.pk:064x}",
                source=f"{h.pk}:{version}",
                published_at=h.decided_at,
            )
            for h in headshots_approved_latest(organization=c.org)
        ],
        batch_size=2000,
    )
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        report = cloud_sync(organization=c.org, kind="graph", dry_run=False)
        seconds = time.perf_counter() - started
    directory.refresh_from_db()
    writes = [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    person_writes = [w for w in writes if "publishing_publication" in w.split(" WHERE ")[0]]
    assert report["counts"] == {"unchanged": people}, report["counts"]
    return {
        "people": people,
        "seconds": round(seconds, 2),
        "queries": len(queries),
        "person_record_writes": len(person_writes),
        "other_writes": len(writes) - len(person_writes),  # the run's report and audit event
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with scratch_environment():
        from django.urls import reverse

        from tests.apps.crowd import crowd
        from tests.apps.factories import company

        started = time.perf_counter()
        c = company("Bench", "bench.example")
        crowd(c, args.people)
        seeded_s = time.perf_counter() - started
        # people added in bulk are worked out once (the first page would otherwise do it),
        # then the hourly check of the whole company, with nothing to change
        from apps.people.standing import people_restand

        started = time.perf_counter()
        worked_out = people_restand(organization=c.org)
        first_restand_s = time.perf_counter() - started
        started = time.perf_counter()
        rechanged = people_restand(organization=c.org)
        hourly_restand_s = time.perf_counter() - started
        assert worked_out >= args.people and rechanged == 0, (worked_out, rechanged)
        session = signed_in(c.hr)
        paths = {name: path.format(org=c.org.slug) for name, path in PAGES.items()}
        assert reverse("hr-dashboard", args=[c.org.slug]) == paths["dashboard"].split("?")[0]
        from django.db import connection, connections

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        connections.close_all()
        port = free_port()
        env = {
            **os.environ,
            "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
            "PYTHONPATH": str(ROOT),
            "HEADSHOTS_API_RATE": "1000000/min",  # one HR person makes every request here
        }
        server = serve(port, env)
        try:
            load_wrk(port, [("/healthz", session)] * args.clients, 1.0)  # start every worker
            latency = {
                "healthz": load_wrk(port, [("/healthz", session)] * args.clients, args.seconds)
            }
            for name, path in paths.items():
                load_wrk(port, [(path, session)], 1.0)  # warm every worker's caches
                latency[name] = load_wrk(port, [(path, session)] * args.clients, args.seconds)
                print(name, latency[name], flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        unchanged = directory_rerun(args.people)
    record = {
        "directory_unchanged_rerun": unchanged,
        "people": args.people,
        "clients": args.clients,
        "seeded_s": round(seeded_s, 1),
        "standing_first_s": round(first_restand_s, 2),
        "standing_hourly_check_s": round(hourly_restand_s, 2),
        "latency": latency,
        "worst_p99_ms": max(v["p99_ms"] for k, v in latency.items() if k != "healthz"),
    }
    import json

    print(json.dumps(record, indent=2))
    save("people", record, args.results)
    return record


if __name__ == "__main__":
    main()
