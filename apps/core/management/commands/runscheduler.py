from __future__ import annotations

import signal
from typing import Any

from django.core.management.base import BaseCommand

from apps.core import scheduler
from apps.core.workers import process_name


class Command(BaseCommand):
    help = (
        "Send periodic work (the job sweep, and what other apps register) to the workers. "
        "Run one or more beside the workers: a per-slot lock in the database makes exactly "
        "one scheduler send each run."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="one tick, then exit (cron, tests)")
        parser.add_argument("--poll", type=float, default=5.0, help="seconds between ticks")

    def handle(self, *args: Any, **options: Any) -> None:
        name = process_name()
        if options["once"]:
            sent = scheduler.tick(scheduler=name)
            self.stdout.write(f"sent: {', '.join(sent) or 'nothing due'}")
            return
        stopping = {"now": False}

        def stop(*_: Any) -> None:
            stopping["now"] = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"scheduler {name}: {', '.join(f'{t.name} every {t.every}' for t in scheduler.SCHEDULE.values())}"
        )
        scheduler.run_forever(scheduler=name, poll_s=options["poll"], stop=lambda: stopping["now"])
