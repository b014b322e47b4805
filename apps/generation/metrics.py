"""The generation app's figures for the operators (/healthz/workers and /metrics): jobs by
state, and how long the jobs that succeeded lately took."""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from apps.generation.selectors import job_counts_by_state, job_durations_since


def prometheus_lines() -> list[str]:
    lines = [
        "# HELP headshots_jobs Generation jobs by state.",
        "# TYPE headshots_jobs gauge",
        *(
            f'headshots_jobs{{state="{state}"}} {n}'
            for state, n in sorted(job_counts_by_state().items())
        ),
    ]
    durations = sorted(job_durations_since(timezone.now() - timedelta(hours=24)))
    lines += [
        "# HELP headshots_job_duration_seconds Start to end of the jobs that succeeded in the last 24 h.",
        "# TYPE headshots_job_duration_seconds summary",
    ]
    if durations:
        for q in (0.5, 0.9, 0.99):  # nearest rank: defined for a single job too
            value = durations[max(0, math.ceil(q * len(durations)) - 1)]
            lines.append(f'headshots_job_duration_seconds{{quantile="{q}"}} {value:.3f}')
    lines += [
        f"headshots_job_duration_seconds_sum {sum(durations):.3f}",
        f"headshots_job_duration_seconds_count {len(durations)}",
    ]
    return lines
