"""Microsoft Graph photo sync of N people against the Graph contract server with its
throttling on, beside a naive loop in the same run.

python -m bench.cloud_sync [--people 1000] [--latency-ms 30] [--rate 100]

The server (tests/cloud_servers.py) answers each request after ``latency`` (the round
trip to Microsoft) and allows ``rate`` requests a second after a burst of as many,
answering 429 with Retry-After beyond that, as Graph does. Measured:

- the sync's first publication of N photos (requests in flight together, a shared pause
  and halved concurrency on 429);
- the naive loop: one request at a time, each 429 waited out and sent again;
- an unchanged re-run of the sync, and the number of requests it made (0: the hash of what
  was sent is kept per person).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.ldap_sync import photos
from bench.run import RESULTS, save


def naive(server, people: list[tuple[str, bytes]], token: str) -> int:  # type: ignore[no-untyped-def]
    import requests

    session = requests.Session()
    sent = 0
    for upn, photo in people:
        while True:
            answer = session.put(
                f"{server.url}/v1.0/users/{upn}/photo/$value",
                data=photo,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"},
                verify=str(server.ca_bundle),
                timeout=30,
            )
            if answer.status_code != 429:
                answer.raise_for_status()
                sent += 1
                break
            time.sleep(float(answer.headers.get("Retry-After", "1")))
    return sent


def main(argv: list[str] | None = None) -> dict[str, object]:
    from apps.publishing.cloud_clients import Endpoints, GraphClient, GraphSettings, photo_digest
    from apps.publishing.photo_push import Gate, Push, push_photos
    from tests.cloud_servers import MicrosoftServer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    jpegs = photos(args.people)
    with tempfile.TemporaryDirectory() as folder:
        server = MicrosoftServer(Path(folder), latency_s=args.latency_ms / 1000)
        with server:
            mine = [server.add_user(f"sync{i}@acme.example") for i in range(args.people)]
            theirs = [server.add_user(f"naive{i}@acme.example") for i in range(args.people)]
            client = GraphClient(
                GraphSettings(server.tenant, server.client_id, server.client_secret),
                Endpoints(
                    microsoft_login=server.url, graph=server.url, verify=str(server.ca_bundle)
                ),
            )
            token = client._token()
            server.throttle(rate=args.rate, burst=int(args.rate))
            pushes = [
                Push(str(i), user.upn, jpeg, photo_digest(jpeg))
                for i, (user, jpeg) in enumerate(zip(mine, jpegs, strict=True))
            ]
            gate = Gate(args.concurrency)
            started = time.perf_counter()
            outcomes = push_photos(
                client, pushes, dry_run=False, concurrency=args.concurrency, gate=gate
            )
            sync_s = time.perf_counter() - started
            assert all(o.action == "write" and o.done for o in outcomes)
            sync_429 = server.calls("PUT", "sync") - args.people

            server.throttle(rate=args.rate, burst=int(args.rate))
            before = server.calls("PUT", "naive")
            started = time.perf_counter()
            naive(server, [(u.upn, j) for u, j in zip(theirs, jpegs, strict=True)], token)
            naive_s = time.perf_counter() - started
            naive_429 = server.calls("PUT", "naive") - before - args.people

            sent = [
                Push(o.key, o.match_value, jpegs[int(o.key)], o.photo_sha256, o.photo_sha256, o.ref)
                for o in outcomes
            ]
            requests_before = len(server.requests)
            started = time.perf_counter()
            again = push_photos(client, sent, dry_run=False, concurrency=args.concurrency)
            unchanged_s = time.perf_counter() - started
            unchanged_requests = len(server.requests) - requests_before
            assert all(o.action == "unchanged" for o in again)
    record = {
        "people": args.people,
        "latency_ms": args.latency_ms,
        "rate_per_s": args.rate,
        "concurrency": args.concurrency,
        "sync_s": round(sync_s, 2),
        "sync_throttled_answers": sync_429,
        "naive_s": round(naive_s, 2),
        "naive_throttled_answers": naive_429,
        "speedup": round(naive_s / sync_s, 2),
        "unchanged_rerun_s": round(unchanged_s, 4),
        "unchanged_rerun_requests": unchanged_requests,
    }
    print(record)
    save("cloud_sync", record, args.results)
    return record


if __name__ == "__main__":
    main()
