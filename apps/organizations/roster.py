"""HR's roster import: a CSV (UTF-8, any common separator) checked row by row, with a
verdict for every row before anything is created; then the new people are invited and
the known ones updated."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from apps.audit.services import audit_record
from apps.core.errors import ValidationFailed
from apps.organizations.invitations import invitation_invite
from apps.organizations.models import (
    MANAGER_ROLES,
    EmployeeProfile,
    EmployeeStatus,
    Organization,
)
from apps.organizations.provisioning import PersonData
from apps.organizations.selectors import require_role

ROSTER_MAX_ROWS = 5000
ROSTER_MAX_BYTES = 2_000_000
ROSTER_COLUMNS = ("name", "email", "title", "department", "phone", "manager")


@dataclass
class RosterRow:
    line: int
    data: PersonData | None
    action: str  # invite, update, skip, error
    problems: list[str] = field(default_factory=list)


@dataclass
class RosterReport:
    rows: list[RosterRow]
    problems: list[str]  # about the file as a whole

    @property
    def valid(self) -> list[RosterRow]:
        return [r for r in self.rows if r.action in {"invite", "update"}]

    @property
    def errors(self) -> list[RosterRow]:
        return [r for r in self.rows if r.action == "error"]


def roster_check(*, organization: Organization, content: bytes) -> RosterReport:
    """Read and check a roster CSV without creating anything: a verdict per row."""
    if len(content) > ROSTER_MAX_BYTES:
        return RosterReport([], [f"The file is over {ROSTER_MAX_BYTES // 1_000_000} MB; split it."])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return RosterReport([], ['Save the roster as CSV in UTF-8 (Excel: "CSV UTF-8").'])
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("name", "email") if c not in headers]
    if missing:
        return RosterReport(
            [],
            [
                f"The first line must name the columns; missing: {', '.join(missing)} (expected {', '.join(ROSTER_COLUMNS)})."
            ],
        )
    existing = {e.email: e for e in EmployeeProfile.objects.filter(organization=organization)}
    seen: dict[str, int] = {}
    rows: list[RosterRow] = []
    for index, raw in enumerate(reader, start=2):
        if len(rows) >= ROSTER_MAX_ROWS:
            return RosterReport(
                rows, [f"A roster has at most {ROSTER_MAX_ROWS} rows; split the file."]
            )
        values = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(values.values()):
            continue
        data = PersonData(
            email=values.get("email", "").lower(),
            full_name=values.get("name", ""),
            title=values.get("title", ""),
            department=values.get("department", ""),
            phone=values.get("phone", ""),
            manager_email=values.get("manager", "").lower(),
        )
        problems = data.problems(organization)
        if data.email in seen:
            problems.append(f"the same email as line {seen[data.email]}")
        seen.setdefault(data.email, index)
        if problems:
            rows.append(RosterRow(index, data, "error", problems))
            continue
        current = existing.get(data.email)
        if current is None:
            rows.append(RosterRow(index, data, "invite"))
        elif current.status == EmployeeStatus.LEFT:
            rows.append(
                RosterRow(
                    index, data, "error", ["this person has left; HR re-admits them one by one"]
                )
            )
        else:
            same = all(
                getattr(current, f) == getattr(data, f)
                for f in ("full_name", "title", "department", "phone", "manager_email")
            )
            rows.append(RosterRow(index, data, "skip" if same else "update"))
    return RosterReport(rows, [] if rows else ["The file has no rows under its header."])


def roster_import(*, organization: Organization, actor: User, content: bytes) -> dict[str, int]:
    """Invite the new people and update the known ones, from a roster checked again now;
    rows with problems are left out (the report said which)."""
    from apps.organizations.provisioning import employee_update

    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    report = roster_check(organization=organization, content=content)
    if report.problems:
        raise ValidationFailed(" ".join(report.problems))
    counts = {"invited": 0, "updated": 0, "skipped": 0, "errors": len(report.errors)}
    with transaction.atomic():
        for row in report.valid:
            assert row.data is not None
            if row.action == "invite":
                invitation_invite(organization=organization, actor=actor, data=row.data)
                counts["invited"] += 1
            else:
                employee = EmployeeProfile.objects.get(
                    organization=organization, email=row.data.email
                )
                employee_update(
                    organization=organization,
                    actor=actor,
                    employee=employee,
                    changes={
                        "full_name": row.data.full_name,
                        "title": row.data.title,
                        "department": row.data.department,
                        "phone": row.data.phone,
                        "manager_email": row.data.manager_email,
                    },
                    source="roster",
                )
                counts["updated"] += 1
        counts["skipped"] = sum(1 for r in report.rows if r.action == "skip")
        audit_record(
            organization=organization,
            actor=actor,
            action="roster.imported",
            target=organization,
            data=counts,
        )
    return counts
