"""Directory sync of N employees against a local slapd, beside a naive baseline in the
same run (one search and one modify per person, every photo written every time).

python -m bench.ldap_sync [--people 1000]

Each side works on its own N fresh entries, so both pay the same for a first photo
(slapd's first write to an entry costs more than a replacement). Measured: the first
publication (every photo new), a re-sync where 5% of the photos changed, a re-sync where
none changed (with the number of writes), and the directory's write floor: the same
number of first writes sent pipelined to a third set of fresh entries with no search at
all, which no client can beat.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench.run import RESULTS, save


def photos(count: int) -> list[bytes]:
    """Distinct real JPEGs of about 20 KB (the portrait with a per-person mark)."""
    from PIL import Image

    from pipeline.imaging import encode
    from pipeline.tools import samples

    base = np.asarray(Image.open(samples.astronaut()).convert("RGB").resize((240, 240)))
    result = []
    for index in range(count):
        marked = base.copy()
        marked[index % 240, (index // 240) % 240] = (255, 0, 0)
        result.append(encode(marked, quality=85))
    return result


def naive(server, people: list[tuple[str, bytes]]) -> int:  # type: ignore[no-untyped-def]
    import ldap

    conn = server.connect()
    for mail, photo in people:
        ((dn, _),) = conn.search_s(
            f"ou=people,{server.suffix}", ldap.SCOPE_SUBTREE, f"(mail={mail})", ["1.1"]
        )
        conn.modify_s(dn, [(ldap.MOD_REPLACE, "jpegPhoto", [photo])])
    conn.unbind_s()
    return len(people)


def write_floor(server, people: list[tuple[str, bytes]], window: int = 32) -> None:  # type: ignore[no-untyped-def]
    """Only the writes, DNs known in advance, ``window`` in flight: the server's own cost."""
    import ldap

    conn = server.connect()
    pending = 0
    for index, (_, photo) in enumerate(people):
        conn.modify(_dn(server, index, "floor"), [(ldap.MOD_REPLACE, "jpegPhoto", [photo])])
        pending += 1
        if pending >= window:
            conn.result3(ldap.RES_ANY, all=1)
            pending -= 1
    while pending:
        conn.result3(ldap.RES_ANY, all=1)
        pending -= 1
    conn.unbind_s()


def _dn(server, index: int, side: str) -> str:  # type: ignore[no-untyped-def]
    return f"uid={side}{index},ou=people,{server.suffix}"


def populate(server, n: int, side: str) -> list[str]:  # type: ignore[no-untyped-def]
    conn = server.connect()
    mails = []
    for i in range(n):
        mail = f"{side}{i}@acme.example"
        conn.add_s(
            _dn(server, i, side),
            [
                ("objectClass", [b"inetOrgPerson"]),
                ("uid", [f"{side}{i}".encode()]),
                ("cn", [f"Person {i}".encode()]),
                ("sn", [b"Person"]),
                ("mail", [mail.encode()]),
            ],
        )
        mails.append(mail)
    conn.unbind_s()
    return mails


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import ldap

    from apps.publishing.ldap_sync import DirectoryClient, DirectorySettings, Wanted, sync
    from tests.ldap.server import running_directory

    n = args.people
    images = photos(2 * n)
    with running_directory() as server:
        mails = populate(server, n, "ours")
        naive_mails = populate(server, n, "naive")
        floor_mails = populate(server, n, "floor")
        client = DirectoryClient(
            DirectorySettings(
                uri=server.ldap_uri,
                start_tls=False,
                bind_dn=server.root_dn,
                bind_password=server.root_pw,
                base_dn=f"ou=people,{server.suffix}",
            )
        )

        def ours(batch: list[bytes]) -> tuple[float, int]:
            wanted = [
                Wanted(key=m, match_value=m, photo=p) for m, p in zip(mails, batch, strict=True)
            ]
            started = time.perf_counter()
            outcomes = sync(client, wanted, dry_run=False)
            return time.perf_counter() - started, sum(o.done for o in outcomes)

        first = images[:n]
        five_percent = list(first)
        for i in range(0, n, 20):
            five_percent[i] = images[n + i]
        ours_first, writes_first = ours(first)
        ours_five, writes_five = ours(five_percent)
        ours_none, writes_none = ours(five_percent)
        started = time.perf_counter()
        naive(server, list(zip(naive_mails, first, strict=True)))
        naive_s = time.perf_counter() - started
        started = time.perf_counter()
        naive(server, list(zip(naive_mails, five_percent, strict=True)))
        naive_again_s = time.perf_counter() - started
        started = time.perf_counter()
        write_floor(server, list(zip(floor_mails, first, strict=True)))
        floor_s = time.perf_counter() - started
        _ = ldap  # the client library is the same for both sides
    record = {
        "people": n,
        "baseline_s": round(naive_s, 3),
        "baseline_resync_s": round(naive_again_s, 3),
        "write_floor_s": round(floor_s, 3),
        "first_publication_s": round(ours_first, 3),
        "first_publication_writes": writes_first,
        "resync_5pct_s": round(ours_five, 3),
        "resync_5pct_writes": writes_five,
        "resync_unchanged_s": round(ours_none, 3),
        "resync_unchanged_writes": writes_none,
        "speedup_first": round(naive_s / ours_first, 2),
        "speedup_first_bound": round(
            naive_s / floor_s, 2
        ),  # what a client without overhead would get
        "speedup_resync_5pct": round(naive_again_s / ours_five, 2),
    }
    for key, value in record.items():
        print(f"{key:<26} {value}")
    save("ldap_sync", record, args.results)
    return record


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "headshots_portal.settings.base")
    django.setup()
    main()
