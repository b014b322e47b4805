"""Run the whole journey on one machine with the shipped defaults.

HR sets up a company with the shipped presets and invites an employee; the
employee consents and uploads real photos; the checks, the generation job and
the publications run in the in-process worker; the employee picks, HR approves.
Every step goes through the same services the portal uses. Running it again
reuses what exists and duplicates nothing.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.queue import wait_until_idle
from apps.core.storage import private_read
from apps.generation.models import GenerationJob, Headshot, HeadshotStatus, JobStatus, PrintState
from apps.generation.selectors import headshot_approved_latest, headshot_list_for_job
from apps.generation.services import generation_job_create, headshot_approve, headshot_pick
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Organization, Role
from apps.organizations.services import (
    invitation_accept,
    invitation_create,
    membership_grant,
    organization_create,
    user_get_or_create,
)
from apps.photos.models import Photo, PhotoStatus
from apps.photos.selectors import consent_text_current
from apps.photos.services import consent_give, photo_upload
from apps.presets.selectors import preset_get, preset_version_latest
from apps.presets.services import brand_presets_install_shipped
from apps.publishing.models import (
    DirectoryConnection,
    Publication,
    PublicationStatus,
    PublicationTarget,
)
from apps.publishing.services import REQUESTABLE_TARGETS, publication_request
from pipeline.tools import samples

COMPANY = "Demo Company"
DOMAIN = "demo.example"
HR_EMAIL = f"hr.admin@{DOMAIN}"
EMPLOYEE = {
    "email": f"avery.lindqvist@{DOMAIN}",
    "full_name": "Avery Lindqvist",
    "title": "Senior Flight Engineer",
    "department": "Operations",
    "phone": "+1 555 0100",
}
PRESET = "corporate-executive"


class Command(BaseCommand):
    help = "Run the headshot journey end to end on the shipped defaults and write demo-output/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=Path("demo-output"))
        parser.add_argument("--samples", type=Path, default=Path(settings.VAR_DIR) / "samples")
        parser.add_argument("--preset", default=PRESET)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.HEADSHOTS_QUEUE_MODE != "inprocess":
            raise CommandError(
                "The demo runs its own worker; unset REDIS_URL and RABBITMQ_URL to run it."
            )
        self.out: Path = options["out"]
        self.out.mkdir(parents=True, exist_ok=True)
        self.steps: list[dict[str, Any]] = []
        self.context: dict[str, Any] = {"samples": options["samples"], "preset": options["preset"]}
        try:
            samples.group_photo(options["samples"])
        except samples.SampleMissing as exc:
            raise CommandError(str(exc)) from exc
        for name, step in [
            ("company", self.step_company),
            ("presets", self.step_presets),
            ("invitation", self.step_invitation),
            ("consent", self.step_consent),
            ("upload", self.step_upload),
            ("checks", self.step_checks),
            ("generation", self.step_generation),
            ("pick", self.step_pick),
            ("approval", self.step_approval),
            ("print", self.step_print),
            ("publication", self.step_publication),
            ("outputs", self.step_outputs),
        ]:
            self.run_step(name, step)
        report = {
            "ok": all(s["status"] == "succeeded" for s in self.steps),
            "steps": self.steps,
            "counts": self.counts(),
        }
        (self.out / "report.json").write_text(json.dumps(report, indent=2, default=str))
        self.print_summary(report)
        if not report["ok"]:
            raise CommandError("The demo journey did not complete; see demo-output/report.json.")

    # -- harness -----------------------------------------------------------------------------------
    def run_step(self, name: str, step: Callable[[], dict[str, Any]]) -> None:
        if self.steps and self.steps[-1]["status"] != "succeeded":
            self.steps.append({"step": name, "status": "skipped", "seconds": 0.0, "detail": {}})
            return
        started = time.perf_counter()
        try:
            detail = step()
            status = "succeeded"
        except Exception as exc:  # noqa: BLE001 - every failure is reported in report.json
            detail = {"error": f"{type(exc).__name__}: {exc}"}
            status = "failed"
        seconds = round(time.perf_counter() - started, 3)
        self.steps.append({"step": name, "status": status, "seconds": seconds, "detail": detail})
        self.stdout.write(f"  {name:<12} {status:<10} {seconds:7.2f} s")

    def counts(self) -> dict[str, int]:
        org = self.context.get("org")
        if org is None:
            return {}
        return {
            "companies": Organization.objects.filter(slug=org.slug).count(),
            "employees": EmployeeProfile.objects.filter(organization=org).count(),
            "photos": Photo.objects.filter(organization=org).count(),
            "jobs": GenerationJob.objects.filter(organization=org).count(),
            "headshots": Headshot.objects.filter(organization=org).count(),
            "publications": Publication.objects.filter(organization=org).count(),
        }

    # -- steps -------------------------------------------------------------------------------------
    def step_company(self) -> dict[str, Any]:
        org = Organization.objects.filter(name=COMPANY).first()
        created = org is None
        if org is None:
            org = organization_create(name=COMPANY, email_domains=[DOMAIN], retention_days=30)
            org.brand = {"primary": "#1f2a44", "card_size": "us", "ai_mark": "AI-edited photo"}
            org.save()
            # The company's directory, as HR would describe it on its page. Its live sync
            # stays off (no server here); the LDIF export follows it.
            DirectoryConnection.objects.create(
                organization=org,
                enabled=False,
                uri="ldaps://directory.demo.example",
                bind_dn="cn=headshots,ou=services,dc=demo,dc=example",
                base_dn="ou=people,dc=demo,dc=example",
                match_attribute="mail",
                match_field="email",
                max_side=512,
            )
        hr = user_get_or_create(email=HR_EMAIL, full_name="Harper Reyes")
        membership_grant(organization=org, user=hr, role=Role.HR, granted_by=None)
        self.context.update(org=org, hr=hr)
        return {"company": org.slug, "created": created, "hr_admin": HR_EMAIL}

    def step_presets(self) -> dict[str, Any]:
        versions = brand_presets_install_shipped(
            organization=self.context["org"], actor=self.context["hr"]
        )
        return {"presets": {v.preset.slug: v.number for v in versions}}

    def step_invitation(self) -> dict[str, Any]:
        org, hr = self.context["org"], self.context["hr"]
        employee = EmployeeProfile.objects.filter(organization=org, email=EMPLOYEE["email"]).first()
        user = user_get_or_create(email=EMPLOYEE["email"], full_name=EMPLOYEE["full_name"])
        reused = employee is not None and employee.status == EmployeeStatus.ACTIVE
        if not reused:
            _, token = invitation_create(organization=org, invited_by=hr, **EMPLOYEE)
            employee = invitation_accept(token=token, user=user)
        self.context.update(employee=employee, user=user)
        return {"employee": EMPLOYEE["email"], "reused": reused}

    def step_consent(self) -> dict[str, Any]:
        record = consent_give(
            organization=self.context["org"],
            employee=self.context["employee"],
            actor=self.context["user"],
            text_version=consent_text_current(organization=self.context["org"]).version,
            ip_address="127.0.0.1",
            user_agent="manage.py demo",
        )
        return {"text_version": record.text_version, "given_at": record.given_at.isoformat()}

    def step_upload(self) -> dict[str, Any]:
        uploaded = []
        for name, data, expectation in samples.selfie_set(self.context["samples"]):
            photo, created = photo_upload(
                organization=self.context["org"],
                employee=self.context["employee"],
                actor=self.context["user"],
                data=data,
            )
            uploaded.append(
                {"file": name, "photo": photo.pk, "created": created, "expected": expectation}
            )
        self.context["uploads"] = uploaded
        return {"photos": uploaded}

    def step_checks(self) -> dict[str, Any]:
        wait_until_idle()
        verdicts = []
        for item in self.context["uploads"]:
            photo = Photo.objects.get(pk=item["photo"])
            checks = photo.report.get("checks", [])
            verdicts.append(
                {
                    "file": item["file"],
                    "expected": item["expected"],
                    "status": photo.status,
                    "problems": [
                        c["message"]
                        for c in checks
                        if c["status"] != "pass" and c["code"] != "resolution"
                    ],
                }
            )
            self.stdout.write(f"      {item['file']:<28} {photo.status:<9} {item['expected']}")
        return {
            "photos": verdicts,
            "usable": sum(1 for v in verdicts if v["status"] == PhotoStatus.USABLE),
        }

    def step_generation(self) -> dict[str, Any]:
        org, employee = self.context["org"], self.context["employee"]
        preset = preset_get(organization=org, slug=self.context["preset"])
        version = preset_version_latest(organization=org, preset=preset)
        job = (
            GenerationJob.objects.filter(
                organization=org,
                employee=employee,
                preset_version=version,
                status=JobStatus.SUCCEEDED,
            )
            .order_by("-finished_at")
            .first()
        )
        reused = job is not None
        if job is None:
            job = generation_job_create(
                organization=org, actor=self.context["user"], employee=employee, preset=preset
            )
            self.watch(job)
            job.refresh_from_db()
        if job.status != JobStatus.SUCCEEDED:
            raise RuntimeError(f"generation {job.status}: {job.error}")
        self.context["job"] = job
        identity = employee.identity
        return {
            "job": job.pk,
            "reused": reused,
            "backend": job.backend,
            "preset_version": version.number,
            "seeds": job.seeds,
            "candidates": job.headshots.count(),
            "accepted": job.headshots.filter(accepted=True).count(),
            "looks": sorted(
                {" / ".join(h.info.get("look", {}).values()) for h in job.headshots.all()}
            ),
            "timings": job.timings,
            "enrollment": {
                "photos": identity.photo_ids,
                "outliers": identity.outlier_photo_ids,
                "consistent": identity.consistent,
            },
        }

    def watch(self, job: GenerationJob) -> None:
        """Show the job's progress while the in-process worker runs it."""
        from apps.core.queue import inprocess_worker

        inprocess_worker()
        last = None
        while True:
            job.refresh_from_db()
            line = (job.progress, job.stage)
            if line != last:
                self.progress_line(job.progress, job.stage)
                last = line
            if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
                return
            time.sleep(0.2)

    def progress_line(self, percent: int, stage: str) -> None:
        bar = "#" * (percent // 5)
        self.stdout.write(f"      [{bar:<20}] {percent:3d}% {stage}")

    def step_pick(self) -> dict[str, Any]:
        org, job = self.context["org"], self.context["job"]
        gallery = list(headshot_list_for_job(organization=org, job=job))
        chosen = next(
            (h for h in gallery if h.status in (HeadshotStatus.PICKED, HeadshotStatus.APPROVED)),
            None,
        )
        if chosen is None:
            best = next(h for h in gallery if h.accepted)
            chosen = headshot_pick(organization=org, actor=self.context["user"], headshot=best)
        self.context["gallery"], self.context["chosen"] = gallery, chosen
        return {"headshot": chosen.pk, "key": chosen.key, "scores": chosen.scores}

    def step_approval(self) -> dict[str, Any]:
        headshot = headshot_approve(
            organization=self.context["org"],
            actor=self.context["hr"],
            headshot=self.context["chosen"],
        )
        return {"headshot": headshot.pk, "status": headshot.status, "approved_by": HR_EMAIL}

    def step_print(self) -> dict[str, Any]:
        """The picked headshot's print version, made by the worker (the card takes it)."""
        from apps.core.queue import inprocess_worker

        inprocess_worker()
        headshot = self.context["chosen"]
        last = None
        while True:  # its progress, as the pages show it
            headshot.refresh_from_db()
            line = (headshot.print_state, headshot.print_progress)
            if line != last and headshot.print_state == PrintState.MAKING:
                self.progress_line(headshot.print_progress, "print version")
            last = line
            if headshot.print_state not in (PrintState.QUEUED, PrintState.MAKING):
                break
            time.sleep(0.5)
        wait_until_idle()
        detail: dict[str, Any] = {
            "state": headshot.print_state,
            "upscaler": headshot.print_upscaler,
        }
        if headshot.print_state == PrintState.READY:
            detail.update(headshot.info.get("print", {}))
            self.stdout.write(
                f"      print version {detail['width']} x {detail['height']} px by "
                f"{headshot.print_upscaler} in {detail['seconds']} s"
            )
        elif headshot.print_error:
            detail["error"] = headshot.print_error  # said, never a crash: cards use the headshot
            self.stdout.write(f"      no print version: {headshot.print_error}")
        return detail

    def step_publication(self) -> dict[str, Any]:
        org = self.context["org"]
        approved = headshot_approved_latest(organization=org, employee=self.context["employee"])
        if approved is None:
            raise CommandError("The journey stopped before a headshot was approved.")
        for target in REQUESTABLE_TARGETS:
            publication_request(
                organization=org, actor=self.context["hr"], headshot=approved, target=target
            )
        wait_until_idle()
        publications = list(
            Publication.objects.filter(organization=org, employee=self.context["employee"])
        )
        failed = [p for p in publications if p.status != PublicationStatus.SUCCEEDED]
        if failed:
            raise RuntimeError("; ".join(f"{p.target}: {p.last_error}" for p in failed))
        self.context["publications"] = publications
        return {
            p.target: {"status": p.status, "external_id": p.external_id, "hash": p.content_hash}
            for p in publications
        }

    def step_outputs(self) -> dict[str, Any]:
        from apps.demo.contact_sheet import contact_sheet

        headshots_dir = self.out / "headshots"
        shutil.rmtree(headshots_dir, ignore_errors=True)
        headshots_dir.mkdir()
        tiles = []
        for headshot in self.context["gallery"]:
            headshot.refresh_from_db()
            data = private_read(headshot.image.name)
            (headshots_dir / f"{headshot.key}.jpg").write_bytes(data)
            tiles.append((data, headshot))
        best = next((h for h in self.context["gallery"] if h.accepted and h.rank == 1), None)
        before = None
        if best is not None and best.source_photo_id:
            selfie = Photo.objects.get(pk=best.source_photo_id)
            before = (private_read(selfie.normalised.name), private_read(best.image.name))
        contact_sheet(tiles, self.out / "contact-sheet.png", before=before)
        files = {"contact_sheet": "contact-sheet.png"}
        for publication in self.context["publications"]:
            suffix = ".pdf" if publication.target == PublicationTarget.BUSINESS_CARD else ".ldif"
            name = f"{publication.target.replace('_', '-')}{suffix}"
            (self.out / name).write_bytes(private_read(publication.artifact.name))
            files[publication.target] = name
        return {"files": files, "headshots": len(tiles)}

    def print_summary(self, report: dict[str, Any]) -> None:
        self.stdout.write("")
        self.stdout.write(f"{'step':<12} {'status':<10} {'seconds':>8}")
        for step in report["steps"]:
            self.stdout.write(f"{step['step']:<12} {step['status']:<10} {step['seconds']:8.2f}")
        self.stdout.write("")
        self.stdout.write("counts: " + ", ".join(f"{k} {v}" for k, v in report["counts"].items()))
        gallery = self.context.get("gallery", [])
        if gallery:
            self.stdout.write(
                f"{'candidate':<10} {'identity':>9} {'sharp':>6} {'expo':>6} {'framing':>8}  verdict"
            )
            for h in gallery:
                s = h.scores
                verdict = f"rank {h.rank}" if h.accepted else h.reason
                self.stdout.write(
                    f"{h.key:<10} {s.get('identity', 0):9.3f} {s.get('sharpness', 0):6.2f} "
                    f"{s.get('exposure', 0):6.2f} {s.get('framing', 0):8.2f}  {verdict} [{h.status}]"
                )
        self.stdout.write(
            f"\nwrote {self.out}/ (report.json, contact-sheet.png, headshots/, business card, LDIF)"
        )
