"""The fairness report: photo-check pass rates and identity scores grouped by a measured
skin tone (the ITA band of the cheeks, never a demographic label), so a model that
serves some people worse shows up.

It covers the data the portal holds now: selfies go after the retention period, so the
photo part describes the recent past; headshot scores stay as long as the headshots do.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from apps.organizations.models import Organization
from pipeline.checks import ITA_BANDS

BANDS = [name for _, name in ITA_BANDS] + ["dark"]
NOT_MEASURED = "not measured"
MIN_GROUP = 10  # fewer than this: shown, never compared
GAP = 0.10  # a band this far (10 points) below the best one is flagged


@dataclass
class Group:
    band: str
    photos: int = 0
    usable: int = 0
    failed_checks: Counter[str] = field(default_factory=Counter)
    people: set[int] = field(default_factory=set)
    identity: list[float] = field(default_factory=list)
    candidates: int = 0
    accepted: int = 0
    flags: list[str] = field(default_factory=list)

    @property
    def pass_rate(self) -> float | None:
        return self.usable / self.photos if self.photos else None

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.candidates if self.candidates else None

    @property
    def identity_median(self) -> float | None:
        return statistics.median(self.identity) if self.identity else None

    @property
    def comparable(self) -> bool:
        return self.photos >= MIN_GROUP

    def top_failures(self) -> list[tuple[str, float]]:
        return [(code, n / self.photos) for code, n in self.failed_checks.most_common(3)]


def fairness_report(*, organization: Organization) -> dict[str, Any]:
    from apps.generation.models import Headshot
    from apps.photos.models import IdentityProfile, Photo, PhotoStatus

    groups = {band: Group(band) for band in [*BANDS, NOT_MEASURED]}
    person_band: dict[int, Counter[str]] = defaultdict(Counter)
    checked = Photo.objects.filter(organization=organization).exclude(status=PhotoStatus.PENDING)
    for employee_id, status, report in checked.values_list("employee_id", "status", "report"):
        attributes = (report or {}).get("attributes") or {}
        tone = attributes.get("skin_tone")
        band = str(tone) if tone in BANDS else NOT_MEASURED
        group = groups[band]
        group.photos += 1
        group.usable += status == PhotoStatus.USABLE
        for check in (report or {}).get("checks", []):
            if check.get("status") == "fail":
                group.failed_checks[check["code"]] += 1
        if band != NOT_MEASURED:
            person_band[employee_id][band] += 1
    for employee_id, attributes in IdentityProfile.objects.filter(
        organization=organization
    ).values_list("employee_id", "attributes"):
        if (attributes or {}).get("skin_tone") in BANDS:
            person_band[employee_id] = Counter(
                {attributes["skin_tone"]: 1_000}
            )  # enrolled: best measure
    for employee_id, accepted, scores in Headshot.objects.filter(
        organization=organization
    ).values_list("employee_id", "accepted", "scores"):
        bands = person_band.get(employee_id)
        group = groups[bands.most_common(1)[0][0] if bands else NOT_MEASURED]
        group.people.add(employee_id)
        group.candidates += 1
        group.accepted += bool(accepted)
        if isinstance((scores or {}).get("identity"), int | float):
            group.identity.append(float(scores["identity"]))
    for employee_id, bands in person_band.items():
        groups[bands.most_common(1)[0][0]].people.add(employee_id)
    _flag(groups)
    shown = [g for g in groups.values() if g.photos or g.candidates]
    return {
        "groups": shown,
        "min_group": MIN_GROUP,
        "gap": GAP,
        "flagged": [g.band for g in shown if g.flags],
    }


def _flag(groups: dict[str, Group]) -> None:
    """Compare each measured band, with enough photos, against the best such band."""
    comparable = [g for band, g in groups.items() if band != NOT_MEASURED and g.comparable]
    if len(comparable) < 2:
        return
    best_pass = max(g.pass_rate or 0.0 for g in comparable)
    for group in comparable:
        if (group.pass_rate or 0.0) < best_pass - GAP:
            group.flags.append(
                f"photo checks pass {group.pass_rate:.0%} of the time against {best_pass:.0%} "
                "for the best-served band"
            )
    with_scores = [g for g in comparable if len(g.identity) >= MIN_GROUP]
    if len(with_scores) >= 2:
        best_identity = max(g.identity_median or 0.0 for g in with_scores)
        for group in with_scores:
            if (group.identity_median or 0.0) < best_identity - GAP:
                group.flags.append(
                    f"median identity score {group.identity_median:.2f} against {best_identity:.2f}"
                )
