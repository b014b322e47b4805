"""The one-machine default on SQLite: several threads writing at once (the web server's
threads, the in-process worker) wait their turn; none gets "database is locked"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each thread reads, then writes, in one transaction, over and over: the pattern that fails
# at once on SQLite's default deferred transactions (the reader cannot take the write lock
# while another holds it, and waiting cannot help it).
RACE = """
import json, threading
import django
django.setup()
from django.db import connection, transaction
from apps.organizations.models import Organization

errors, done = [], [0]
def work(n):
    try:
        for i in range(25):
            with transaction.atomic():
                Organization.objects.count()
                Organization.objects.create(name=f"T{n}-{i}", slug=f"t{n}-{i}")
            done[0] += 1
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()
threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print(json.dumps({"errors": errors, "done": done[0]}))
"""


def test_concurrent_writers_wait_instead_of_failing(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "HEADSHOTS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "headshots_portal.settings.base",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [sys.executable, "-c", RACE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == [] and result["done"] == 8 * 25
