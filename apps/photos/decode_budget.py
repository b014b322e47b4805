"""How much memory the web process spends decoding uploads at once.

Every upload's decode cost is estimated from its header (``decode_memory_estimate``) and
reserved from the process's budget (``HEADSHOTS_UPLOAD_DECODE_MEMORY_MB``) before its
bytes are read from disk; uploads that do not fit wait their turn. One upload larger
than the whole budget still runs, alone.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class DecodeBudget:
    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.used = 0
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, cost: int) -> Iterator[None]:
        with self._changed:
            # alone when larger than the whole budget, else as soon as it fits
            self._changed.wait_for(lambda: self.used == 0 or self.used + cost <= self.limit)
            self.used += cost
        try:
            yield
        finally:
            with self._changed:
                self.used -= cost
                self._changed.notify_all()
