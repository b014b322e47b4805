"""Support tooling, the pipeline without the portal.

`headshots check PHOTO [PHOTO ...] [--json]` prints, for each file, whether it is
usable and why not; with two or more photos, whether they show one person. A bad
file gives an error object, never a traceback; the exit status is non-zero only
when no file was usable.

`headshots render --preset NAME --photos DIR --out DIR [--json]` runs checks,
enrollment, generation with the configured backend and selection, writes the
candidates (every output size of the preset) and `candidates.json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.photos.cli import check_file, load_pipeline


class Command(BaseCommand):
    help = "Check selfies the way the portal does: `headshots check PHOTO [PHOTO ...] [--json]`."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser(
            "check", help="Run the photo checks and, for several photos, enrollment."
        )
        check.add_argument("photos", nargs="+", type=Path)
        check.add_argument("--json", action="store_true", help="print one JSON document")
        render = sub.add_parser("render", help="Render headshots from a folder of selfies.")
        render.add_argument(
            "--preset", required=True, help="a shipped preset's slug or a preset YAML file"
        )
        render.add_argument("--photos", required=True, type=Path, help="a folder of selfies")
        render.add_argument("--out", required=True, type=Path)
        render.add_argument("--seed", type=int, default=1)
        render.add_argument("--json", action="store_true", help="print the candidates as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "render":
            from apps.photos.render import render_folder

            render_folder(self, options)
            return
        from pipeline.errors import NotEnoughPhotos

        pipeline = load_pipeline()
        results: list[dict[str, Any]] = []
        embeddings = {}
        for path in options["photos"]:
            entry: dict[str, Any] = {"file": str(path)}
            analysis, error = check_file(pipeline, path)
            if analysis is None:
                entry.update(usable=False, error=error)
            else:
                entry.update(analysis.report.as_dict())
                if analysis.embedding is not None:
                    embeddings[str(path)] = analysis.embedding
            results.append(entry)
        document: dict[str, Any] = {"face_backend": pipeline.analyzer.name, "photos": results}
        if len(options["photos"]) >= 2:
            enrollment: dict[str, Any] = {
                "usable_count": len(embeddings),
                "outliers": [],
                "consistent": True,
            }
            try:
                built = pipeline.build_identity(embeddings)
                enrollment.update(outliers=built.outliers, consistent=built.consistent)
            except NotEnoughPhotos as exc:
                enrollment.update(consistent=False, message=exc.message)
                if len(embeddings) >= 2:
                    # Still say which photos disagree, so support staff can tell the person.
                    enrollment["outliers"] = pipeline.identity_outliers(embeddings)
            document["enrollment"] = enrollment
        if options["json"]:
            self.stdout.write(json.dumps(document, indent=2, default=str))
        else:
            self._print_table(document)
        if not embeddings:
            raise CommandError("No photo was usable.")

    def _print_table(self, document: dict[str, Any]) -> None:
        for entry in document["photos"]:
            if "error" in entry:
                self.stdout.write(f"{entry['file']}: refused: {entry['error']['message']}")
                continue
            verdict = "usable" if entry["usable"] else "not usable"
            self.stdout.write(f"{entry['file']}: {verdict} ({entry['faces']} face(s))")
            for check in entry["checks"]:
                if check["status"] != "pass":
                    self.stdout.write(f"  {check['status']:<4} {check['code']}: {check['message']}")
        enrollment = document.get("enrollment")
        if enrollment:
            self.stdout.write(
                f"enrollment: {enrollment['usable_count']} usable, consistent: {enrollment['consistent']}, "
                f"may be someone else: {', '.join(enrollment['outliers']) or 'none'}"
            )
