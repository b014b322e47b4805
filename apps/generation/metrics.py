"""The generation app's figures for the operators (/healthz/workers and /metrics): jobs by
state, and how long the jobs that succeeded lately took."""

from __future__ import annotations

import math
from datetime import timedelta

from django.utils import timezone

from apps.core.health import metric_totals
from apps.generation.selectors import job_counts_by_state, job_durations_since

# The running total of succeeded jobs' durations (apps.core.models.MetricTotal).
JOB_DURATION = "headshots_job_duration_seconds"


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
    count, total = metric_totals(JOB_DURATION)
    lines += [
        "# HELP headshots_job_duration_seconds Start to end of the jobs that succeeded: "
        "quantiles over the last 24 h, count and sum since the first.",
        "# TYPE headshots_job_duration_seconds summary",
    ]
    if durations:
        for q in (0.5, 0.9, 0.99):  # nearest rank: defined for a single job too
            value = durations[max(0, math.ceil(q * len(durations)) - 1)]
            lines.append(f'headshots_job_duration_seconds{{quantile="{q}"}} {value:.3f}')
    lines += [
        f"headshots_job_duration_seconds_sum {total:.3f}",
        f"headshots_job_duration_seconds_count {count}",
    ]
    return lines
